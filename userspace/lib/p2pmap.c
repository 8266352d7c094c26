// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libp2pmap: see include/p2pmap.h for the interface and libp2pmap.3 for
 * the manual. Everything here reads files under the context's roots; no
 * global state, no ioctls.
 */
#include <ctype.h>
#include <dirent.h>
#include <stddef.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "p2pmap.h"

#define ROOT_MAX	(P2PMAP_PATH_MAX / 2)
#define FILE_MAX	(1 << 20)	/* largest file we read */
#define MAX_DEPTH	32		/* PCI hierarchy depth we handle */

struct p2pmap_ctx {
	char sysfs[ROOT_MAX];
	char debugfs[ROOT_MAX];
	char proc[ROOT_MAX];
	char err[1024];
};

/* Set the reason and return -errnum (errnum > 0). */
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static int fail(struct p2pmap_ctx *ctx, int errnum, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ctx->err, sizeof(ctx->err), fmt, ap);
	va_end(ap);
	return -errnum;
}

static void copy_str(char *dst, size_t size, const char *src)
{
	size_t len = strlen(src);

	if (len >= size)
		len = size - 1;
	memcpy(dst, src, len);
	dst[len] = '\0';
}

struct p2pmap_ctx *p2pmap_ctx_new(const char *sysfs_root,
				  const char *debugfs_root)
{
	struct p2pmap_ctx *ctx;
	const char *s = sysfs_root ? sysfs_root : "/sys";
	const char *d = debugfs_root ? debugfs_root : "/sys/kernel/debug";

	if (strlen(s) >= ROOT_MAX - 8 || strlen(d) >= ROOT_MAX || !*s || !*d) {
		errno = EINVAL;
		return NULL;
	}
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx) {
		errno = ENOMEM;
		return NULL;
	}
	copy_str(ctx->sysfs, sizeof(ctx->sysfs), s);
	copy_str(ctx->debugfs, sizeof(ctx->debugfs), d);
	if (!strcmp(s, "/sys")) {
		copy_str(ctx->proc, sizeof(ctx->proc), "/proc");
	} else {
		char *slash;

		copy_str(ctx->proc, sizeof(ctx->proc), s);
		/* strip trailing slashes, then the last component */
		while (strlen(ctx->proc) > 1 &&
		       ctx->proc[strlen(ctx->proc) - 1] == '/')
			ctx->proc[strlen(ctx->proc) - 1] = '\0';
		slash = strrchr(ctx->proc, '/');
		if (!slash)
			copy_str(ctx->proc, sizeof(ctx->proc), ".");
		else if (slash == ctx->proc)
			ctx->proc[1] = '\0';
		else
			*slash = '\0';
		if (strcmp(ctx->proc, "/"))
			strcat(ctx->proc, "/proc");
		else
			strcat(ctx->proc, "proc");
	}
	return ctx;
}

void p2pmap_ctx_free(struct p2pmap_ctx *ctx)
{
	free(ctx);
}

const char *p2pmap_ctx_error(const struct p2pmap_ctx *ctx)
{
	return ctx ? ctx->err : "no context";
}

const char *p2pmap_route_name(enum p2pmap_route route)
{
	switch (route) {
	case P2PMAP_ROUTE_BUS_ADDR: return "bus_addr";
	case P2PMAP_ROUTE_HOST_BRIDGE: return "host_bridge";
	case P2PMAP_ROUTE_NOT_SUPPORTED: return "not_supported";
	case P2PMAP_ROUTE_NO_KCONFIG: return "no_kconfig";
	case P2PMAP_ROUTE_UNKNOWN: break;
	}
	return "unknown";
}

/* ---- file helpers ------------------------------------------------------ */

#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static int mkpath(struct p2pmap_ctx *ctx, char *buf, size_t size,
		  const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= size)
		return fail(ctx, ENAMETOOLONG, "path too long: %.200s...", buf);
	return 0;
}

/* Read a whole file into a malloc()ed, NUL-terminated buffer. */
static int read_file(struct p2pmap_ctx *ctx, const char *path, char **out)
{
	size_t cap = 4096, len = 0;
	char *buf;
	FILE *f;

	*out = NULL;
	f = fopen(path, "re");
	if (!f) {
		int e = errno;

		return fail(ctx, e, "cannot open %s: %s", path, strerror(e));
	}
	buf = malloc(cap);
	if (!buf) {
		fclose(f);
		return fail(ctx, ENOMEM, "out of memory reading %s", path);
	}
	for (;;) {
		size_t got = fread(buf + len, 1, cap - len - 1, f);

		len += got;
		if (got == 0)
			break;
		if (len + 1 == cap) {
			char *nb;

			if (cap >= FILE_MAX) {
				free(buf);
				fclose(f);
				return fail(ctx, EFBIG, "%s: larger than %d bytes",
					    path, FILE_MAX);
			}
			nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				fclose(f);
				return fail(ctx, ENOMEM, "out of memory reading %s", path);
			}
			buf = nb;
			cap *= 2;
		}
	}
	if (ferror(f)) {
		int e = errno ? errno : EIO;

		free(buf);
		fclose(f);
		return fail(ctx, e, "cannot read %s: %s", path, strerror(e));
	}
	fclose(f);
	buf[len] = '\0';
	if (strlen(buf) != len) {
		free(buf);
		return fail(ctx, EINVAL, "%s: malformed content (NUL byte)", path);
	}
	*out = buf;
	return 0;
}

/* Strict unsigned decimal: digits only, no sign, no overflow. */
static int parse_u64(const char *s, uint64_t *val)
{
	uint64_t v = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*val = v;
	return 0;
}

/* A sysfs value file: one unsigned decimal number and a newline. */
static int read_u64(struct p2pmap_ctx *ctx, const char *path, uint64_t *val)
{
	char *buf, *nl;
	int ret = read_file(ctx, path, &buf);

	if (ret)
		return ret;
	nl = strchr(buf, '\n');
	if (!nl || nl[1] != '\0')
		ret = 1;
	else
		*nl = '\0';
	if (ret || parse_u64(buf, val))
		ret = fail(ctx, EINVAL,
			   "%s: malformed content \"%.40s\" (expected one unsigned decimal number and a newline)",
			   path, buf);
	free(buf);
	return ret;
}

static int is_dir(const char *path)
{
	struct stat st;

	return !stat(path, &st) && S_ISDIR(st.st_mode);
}

static int is_bdf(const char *s)
{
	static const char pat[] = "xxxx:xx:xx.x";
	size_t i;

	if (strlen(s) != sizeof(pat) - 1)
		return 0;
	for (i = 0; i < sizeof(pat) - 1; i++) {
		if (pat[i] == 'x' ? !isxdigit((unsigned char)s[i]) : s[i] != pat[i])
			return 0;
	}
	return s[11] >= '0' && s[11] <= '7';
}

static int module_loaded(struct p2pmap_ctx *ctx)
{
	char path[P2PMAP_PATH_MAX];
	int ret = mkpath(ctx, path, sizeof(path), "%s/module/p2pmap", ctx->sysfs);

	if (ret)
		return ret;
	if (!is_dir(path))
		return fail(ctx, ENODEV, "p2pmap.ko is not loaded (no %s)", path);
	return 0;
}

/* ---- providers --------------------------------------------------------- */

struct prov_vec {
	struct p2pmap_provider *v;
	size_t n, cap;
};

static int prov_add(struct p2pmap_ctx *ctx, struct prov_vec *pv,
		    const char *device, const char *dir, int is_pci)
{
	struct p2pmap_provider *p;

	if (pv->n == pv->cap) {
		size_t cap = pv->cap ? pv->cap * 2 : 8;
		struct p2pmap_provider *nv = realloc(pv->v, cap * sizeof(*nv));

		if (!nv)
			return fail(ctx, ENOMEM, "out of memory listing providers");
		pv->v = nv;
		pv->cap = cap;
	}
	p = &pv->v[pv->n++];
	memset(p, 0, sizeof(*p));
	copy_str(p->device, sizeof(p->device), device);
	copy_str(p->name, sizeof(p->name), device);
	copy_str(p->sysfs_dir, sizeof(p->sysfs_dir), dir);
	p->id = -1;
	p->dead = -1;
	p->mappings = -1;
	p->is_pci = is_pci;
	return 0;
}

static int has_group(const char *devdir)
{
	char path[P2PMAP_PATH_MAX];
	int n = snprintf(path, sizeof(path), "%s/p2pmap", devdir);

	return n > 0 && (size_t)n < sizeof(path) && is_dir(path);
}

/* Depth-limited search of <sysfs>/devices for a directory @name with a
 * p2pmap group. Symlinks are not followed. */
static int find_devdir(const char *dir, const char *name, int depth,
		       char *out, size_t size)
{
	struct dirent *de;
	DIR *d;
	int found = 0;

	if (depth > MAX_DEPTH)
		return 0;
	d = opendir(dir);
	if (!d)
		return 0;
	while (!found && (de = readdir(d))) {
		char sub[P2PMAP_PATH_MAX];
		struct stat st;
		int n;

		if (de->d_name[0] == '.')
			continue;
		n = snprintf(sub, sizeof(sub), "%s/%s", dir, de->d_name);
		if (n < 0 || (size_t)n >= sizeof(sub))
			continue;
		if (lstat(sub, &st) || !S_ISDIR(st.st_mode))
			continue;
		if (!strcmp(de->d_name, name) && has_group(sub)) {
			copy_str(out, size, sub);
			found = 1;
		} else if (strcmp(de->d_name, "p2pmap") &&
			   strcmp(de->d_name, "power")) {
			found = find_devdir(sub, name, depth + 1, out, size);
		}
	}
	closedir(d);
	return found;
}

static int cmp_prov(const void *a, const void *b)
{
	return strcmp(((const struct p2pmap_provider *)a)->device,
		      ((const struct p2pmap_provider *)b)->device);
}

/* Split @s at tabs into at most @max fields; returns the count. */
static size_t split(char *s, const char *seps, char **f, size_t max)
{
	size_t n = 0;
	char *save = NULL, *tok;

	for (tok = strtok_r(s, seps, &save); tok; tok = strtok_r(NULL, seps, &save)) {
		if (n == max)
			return max + 1;
		f[n++] = tok;
	}
	return n;
}

/* Merge <debugfs>/p2pmap/providers into @pv. Absent debugfs is not an error. */
static int merge_debugfs(struct p2pmap_ctx *ctx, struct prov_vec *pv)
{
	char path[P2PMAP_PATH_MAX], *buf, *line, *save = NULL;
	int ret, lineno = 0;

	ret = mkpath(ctx, path, sizeof(path), "%s/p2pmap/providers", ctx->debugfs);
	if (ret)
		return ret;
	ret = read_file(ctx, path, &buf);
	if (ret == -ENOENT || ret == -EACCES || ret == -EPERM) {
		ctx->err[0] = '\0';
		return 0;
	}
	if (ret)
		return ret;
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *f[6], copy[512];
		uint64_t id, dead, nmap;
		size_t i, nf;

		lineno++;
		if (line[0] == '#')
			continue;
		copy_str(copy, sizeof(copy), line);
		nf = split(line, "\t", f, 5);
		if (nf != 5 || parse_u64(f[0], &id) || id > INT_MAX ||
		    parse_u64(f[3], &dead) || dead > 1 ||
		    parse_u64(f[4], &nmap) || nmap > INT_MAX) {
			free(buf);
			return fail(ctx, EINVAL,
				    "%s line %d: malformed \"%.80s\" (expected id, name, device, dead, mappings separated by tabs)",
				    path, lineno, copy);
		}
		for (i = 0; i < pv->n; i++)
			if (!strcmp(pv->v[i].device, f[2]))
				break;
		if (i == pv->n) {
			char devroot[P2PMAP_PATH_MAX], dir[P2PMAP_PATH_MAX];

			ret = mkpath(ctx, devroot, sizeof(devroot), "%s/devices",
				     ctx->sysfs);
			if (!ret && find_devdir(devroot, f[2], 0, dir, sizeof(dir)))
				ret = prov_add(ctx, pv, f[2], dir, is_bdf(f[2]));
			else if (!ret)	/* being unregistered: group gone */
				ret = prov_add(ctx, pv, f[2], "", is_bdf(f[2]));
			if (ret) {
				free(buf);
				return ret;
			}
		}
		copy_str(pv->v[i].name, sizeof(pv->v[i].name), f[1]);
		pv->v[i].id = (int)id;
		pv->v[i].dead = (int)dead;
		pv->v[i].mappings = (int)nmap;
	}
	free(buf);
	return 0;
}

int p2pmap_providers(struct p2pmap_ctx *ctx, struct p2pmap_provider **out,
		     size_t *n)
{
	struct prov_vec pv = { 0 };
	char path[P2PMAP_PATH_MAX];
	struct dirent *de;
	DIR *d;
	int ret;

	*out = NULL;
	*n = 0;
	ret = module_loaded(ctx);
	if (ret)
		return ret;
	ret = mkpath(ctx, path, sizeof(path), "%s/bus/pci/devices", ctx->sysfs);
	if (ret)
		return ret;
	d = opendir(path);
	if (d) {	/* no PCI bus is not an error: non-PCI providers exist */
		while ((de = readdir(d))) {
			char dev[P2PMAP_PATH_MAX], real[PATH_MAX];

			if (!is_bdf(de->d_name))
				continue;
			if (snprintf(dev, sizeof(dev), "%s/%s", path, de->d_name) >=
			    (int)sizeof(dev) || !has_group(dev))
				continue;
			ret = prov_add(ctx, &pv, de->d_name,
				       realpath(dev, real) ? real : dev, 1);
			if (ret) {
				closedir(d);
				free(pv.v);
				return ret;
			}
		}
		closedir(d);
	}
	ret = merge_debugfs(ctx, &pv);
	if (ret) {
		free(pv.v);
		return ret;
	}
	if (pv.n)
		qsort(pv.v, pv.n, sizeof(*pv.v), cmp_prov);
	*out = pv.v;
	*n = pv.n;
	return 0;
}

static int group_u64(struct p2pmap_ctx *ctx, const struct p2pmap_provider *prov,
		     const char *file, uint64_t *val)
{
	char path[P2PMAP_PATH_MAX];
	int ret;

	if (!prov->sysfs_dir[0])
		return fail(ctx, ENOENT,
			    "provider %s has no sysfs p2pmap group (being unregistered?)",
			    prov->device);
	ret = mkpath(ctx, path, sizeof(path), "%s/p2pmap/%s", prov->sysfs_dir, file);
	return ret ? ret : read_u64(ctx, path, val);
}

/*
 * Caller-allocated structs carry the caller's sizeof() in their first
 * member (docs/abi.md). The sizes of libp2pmap 0.1 are the floor: a caller
 * built against 0.1 gets the 0.1 fields, a caller built against a later
 * header also gets the fields appended since. These constants are frozen.
 */
#define APERTURE_SIZE_0_1	(sizeof(size_t) + 5 * sizeof(uint64_t))
#define TOPOLOGY_SIZE_0_1	sizeof(struct p2pmap_topology)
#define COUNTERS_FIXED_0_1	offsetof(struct p2pmap_counters, fallback)

static int check_size(struct p2pmap_ctx *ctx, const char *what, size_t size,
		      size_t min)
{
	if (size < min)
		return fail(ctx, EINVAL,
			    "struct %s: size %zu is smaller than %zu (set .size = sizeof() of the struct)",
			    what, size, min);
	return 0;
}

/* Copy a filled struct @full to @out, at most @out_size bytes, keeping size. */
static void copy_out(void *out, size_t out_size, const void *full,
		     size_t full_size)
{
	memcpy((char *)out + sizeof(size_t), (const char *)full + sizeof(size_t),
	       (out_size < full_size ? out_size : full_size) - sizeof(size_t));
}

int p2pmap_read_aperture(struct p2pmap_ctx *ctx,
			 const struct p2pmap_provider *prov,
			 struct p2pmap_aperture *ap)
{
	struct p2pmap_aperture a;
	int ret;

	ret = check_size(ctx, "p2pmap_aperture", ap->size, APERTURE_SIZE_0_1);
	if (ret)
		return ret;
	if ((ret = group_u64(ctx, prov, "aperture_total", &a.total)) ||
	    (ret = group_u64(ctx, prov, "aperture_used", &a.used)) ||
	    (ret = group_u64(ctx, prov, "aperture_pinned", &a.pinned)) ||
	    (ret = group_u64(ctx, prov, "aperture_free", &a.free)) ||
	    (ret = group_u64(ctx, prov, "device_total", &a.device_total)))
		return ret;
	copy_out(ap, ap->size, &a, sizeof(a));
	return 0;
}

static int cmp_reason(const void *a, const void *b)
{
	return strcmp(((const struct p2pmap_reason_count *)a)->reason,
		      ((const struct p2pmap_reason_count *)b)->reason);
}

int p2pmap_read_counters(struct p2pmap_ctx *ctx,
			 const struct p2pmap_provider *prov,
			 struct p2pmap_counters *out)
{
	struct p2pmap_reason_count *r = NULL;
	struct p2pmap_counters c;
	char path[P2PMAP_PATH_MAX];
	size_t n = 0, cap = 0, room;
	struct dirent *de;
	DIR *d;
	int ret;

	ret = check_size(ctx, "p2pmap_counters", out->size,
			 COUNTERS_FIXED_0_1 + sizeof(out->fallback[0]));
	if (ret)
		return ret;
	room = (out->size - COUNTERS_FIXED_0_1) / sizeof(out->fallback[0]);
	memset(&c, 0, sizeof(c));
	if ((ret = group_u64(ctx, prov, "maps", &c.maps)) ||
	    (ret = group_u64(ctx, prov, "unmaps", &c.unmaps)) ||
	    (ret = group_u64(ctx, prov, "p2p_pages", &c.p2p_pages)) ||
	    (ret = group_u64(ctx, prov, "sysmem_pages", &c.sysmem_pages)) ||
	    (ret = group_u64(ctx, prov, "invalidations", &c.invalidations)) ||
	    (ret = group_u64(ctx, prov, "evictions", &c.evictions)) ||
	    (ret = group_u64(ctx, prov, "migrated_pages", &c.migrated_pages)))
		return ret;
	ret = mkpath(ctx, path, sizeof(path), "%s/p2pmap", prov->sysfs_dir);
	if (ret)
		return ret;
	d = opendir(path);
	if (!d) {
		int e = errno;

		return fail(ctx, e, "cannot open %s: %s", path, strerror(e));
	}
	/* all of them, sorted, so that a short array keeps the first by name */
	while ((de = readdir(d))) {
		const char *reason;
		char file[P2PMAP_NAME_MAX + 16];

		if (strncmp(de->d_name, "fallback_", 9) || !de->d_name[9])
			continue;
		reason = de->d_name + 9;
		if (strlen(de->d_name) >= sizeof(file))
			continue;
		if (n == cap) {
			void *nr = realloc(r, (cap ? 2 * cap : 16) * sizeof(*r));

			if (!nr) {
				closedir(d);
				free(r);
				return fail(ctx, ENOMEM, "out of memory");
			}
			r = nr;
			cap = cap ? 2 * cap : 16;
		}
		copy_str(file, sizeof(file), de->d_name);
		copy_str(r[n].reason, P2PMAP_NAME_MAX, reason);
		ret = group_u64(ctx, prov, file, &r[n].pages);
		if (ret) {
			closedir(d);
			free(r);
			return ret;
		}
		n++;
	}
	closedir(d);
	if (n)
		qsort(r, n, sizeof(*r), cmp_reason);
	c.fallback_total = n;
	c.nr_fallback = n < room ? n : room;
	copy_out(out, COUNTERS_FIXED_0_1, &c, COUNTERS_FIXED_0_1);
	if (c.nr_fallback)
		memcpy(out->fallback, r, c.nr_fallback * sizeof(*r));
	free(r);
	return 0;
}

/* ---- imports ------------------------------------------------------------ */

static int parse_import(char *line, struct p2pmap_import *imp)
{
	char *f[10 + P2PMAP_MAX_REASONS + 1];
	uint64_t pid;
	size_t nf, i;
	char *end;

	memset(imp, 0, sizeof(*imp));
	nf = split(line, " \t", f, sizeof(f) / sizeof(f[0]) - 1);
	if (nf < 10 || nf > 10 + P2PMAP_MAX_REASONS)
		return -1;
	if (strlen(f[0]) >= P2PMAP_NAME_MAX || strlen(f[4]) >= P2PMAP_NAME_MAX)
		return -1;
	copy_str(imp->importer, sizeof(imp->importer), f[0]);
	if (parse_u64(f[1], &pid) || pid > INT_MAX)
		return -1;
	imp->pid = (int)pid;
	if (strncmp(f[2], "0x", 2) || !isxdigit((unsigned char)f[2][2]))
		return -1;
	errno = 0;
	imp->start = strtoull(f[2] + 2, &end, 16);
	if (errno || *end)
		return -1;
	copy_str(imp->policy, sizeof(imp->policy), f[4]);
	if (parse_u64(f[3], &imp->pages) || parse_u64(f[5], &imp->gen) ||
	    parse_u64(f[6], &imp->extents) || parse_u64(f[7], &imp->p2p_pages) ||
	    parse_u64(f[8], &imp->sysmem_pages) ||
	    parse_u64(f[9], &imp->error_pages))
		return -1;
	for (i = 10; i < nf; i++) {
		struct p2pmap_reason_count *r = &imp->reasons[imp->nr_reasons++];
		char *eq = strchr(f[i], '=');

		if (!eq || eq == f[i] || (size_t)(eq - f[i]) >= P2PMAP_NAME_MAX)
			return -1;
		*eq = '\0';
		copy_str(r->reason, sizeof(r->reason), f[i]);
		if (parse_u64(eq + 1, &r->pages))
			return -1;
	}
	return 0;
}

int p2pmap_imports(struct p2pmap_ctx *ctx, struct p2pmap_import **out,
		   size_t *n)
{
	char path[P2PMAP_PATH_MAX], *buf, *line, *save = NULL;
	struct p2pmap_import *v = NULL;
	size_t cnt = 0, cap = 0;
	int ret, lineno = 0;

	*out = NULL;
	*n = 0;
	ret = mkpath(ctx, path, sizeof(path), "%s/p2pmap/imports", ctx->debugfs);
	if (ret)
		return ret;
	ret = read_file(ctx, path, &buf);
	if (ret == -ENOENT)
		return fail(ctx, ENOENT,
			    "cannot open %s: No such file or directory (is debugfs mounted at %s and p2pmap.ko loaded?)",
			    path, ctx->debugfs);
	if (ret == -EACCES || ret == -EPERM)
		return fail(ctx, -ret, "cannot open %s: %s (debugfs is readable by root only)",
			    path, strerror(-ret));
	if (ret)
		return ret;
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char copy[512];

		lineno++;
		if (lineno == 1) {
			if (strncmp(line, "importer ", 9)) {
				ret = fail(ctx, EINVAL,
					   "%s line 1: malformed header \"%.80s\" (expected \"importer pid start ...\")",
					   path, line);
				goto out;
			}
			continue;
		}
		if (cnt == cap) {
			size_t nc = cap ? cap * 2 : 16;
			struct p2pmap_import *nv = realloc(v, nc * sizeof(*nv));

			if (!nv) {
				ret = fail(ctx, ENOMEM, "out of memory listing imports");
				goto out;
			}
			v = nv;
			cap = nc;
		}
		copy_str(copy, sizeof(copy), line);
		if (parse_import(line, &v[cnt])) {
			ret = fail(ctx, EINVAL,
				   "%s line %d: malformed import \"%.120s\"",
				   path, lineno, copy);
			goto out;
		}
		cnt++;
	}
	if (lineno == 0) {
		ret = fail(ctx, EINVAL, "%s: empty (expected a header line)", path);
		goto out;
	}
out:
	free(buf);
	if (ret) {
		free(v);
		return ret;
	}
	*out = v;
	*n = cnt;
	return 0;
}

/* ---- features ----------------------------------------------------------- */

int p2pmap_features(struct p2pmap_ctx *ctx, struct p2pmap_feature **out,
		    size_t *n)
{
	char path[P2PMAP_PATH_MAX], *buf, *line, *save = NULL;
	struct p2pmap_feature *v = NULL;
	size_t cnt = 0, cap = 0;
	int ret, lineno = 0;

	*out = NULL;
	*n = 0;
	ret = module_loaded(ctx);
	if (ret)
		return ret;
	ret = mkpath(ctx, path, sizeof(path), "%s/module/p2pmap/features",
		     ctx->sysfs);
	if (ret)
		return ret;
	ret = read_file(ctx, path, &buf);
	if (ret)
		return ret;
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		struct p2pmap_feature *f;
		char *sp, *rest;

		lineno++;
		if (cnt == cap) {
			size_t nc = cap ? cap * 2 : 8;
			struct p2pmap_feature *nv = realloc(v, nc * sizeof(*nv));

			if (!nv) {
				ret = fail(ctx, ENOMEM, "out of memory reading features");
				break;
			}
			v = nv;
			cap = nc;
		}
		f = &v[cnt];
		memset(f, 0, sizeof(*f));
		sp = strchr(line, ' ');
		if (!sp || sp == line || (size_t)(sp - line) >= P2PMAP_NAME_MAX) {
			ret = fail(ctx, EINVAL,
				   "%s line %d: malformed \"%.80s\" (expected \"<name> yes\" or \"<name> no <detail>\")",
				   path, lineno, line);
			break;
		}
		*sp = '\0';
		rest = sp + 1;
		copy_str(f->name, sizeof(f->name), line);
		if (!strcmp(rest, "yes")) {
			f->present = 1;
		} else if (!strncmp(rest, "no ", 3) && rest[3]) {
			copy_str(f->detail, sizeof(f->detail), rest + 3);
		} else {
			ret = fail(ctx, EINVAL,
				   "%s line %d: malformed \"%.40s %.60s\" (expected \"<name> yes\" or \"<name> no <detail>\")",
				   path, lineno, line, rest);
			break;
		}
		cnt++;
	}
	free(buf);
	if (!ret && !cnt)
		ret = fail(ctx, EINVAL, "%s: empty", path);
	if (ret) {
		free(v);
		return ret;
	}
	*out = v;
	*n = cnt;
	return 0;
}

/* ---- PCI topology -------------------------------------------------------- */

/*
 * The chain of a PCI device: its BDF, then its upstream bridges nearest
 * first (what pci_upstream_bridge() walks), and its host bridge directory
 * name ("pci0000:00").
 */
struct pci_chain {
	char bdf[MAX_DEPTH][16];
	int len;
	char host[64];
};

static int pci_chain(struct p2pmap_ctx *ctx, const char *bdf,
		     struct pci_chain *ch)
{
	char path[P2PMAP_PATH_MAX], real[PATH_MAX], *comp, *save = NULL;
	char tmp[MAX_DEPTH][16];
	int n = 0, i, ret;

	memset(ch, 0, sizeof(*ch));
	if (!is_bdf(bdf))
		return fail(ctx, EINVAL,
			    "\"%.40s\" is not a PCI address (expected dddd:bb:dd.f)", bdf);
	ret = mkpath(ctx, path, sizeof(path), "%s/bus/pci/devices/%s",
		     ctx->sysfs, bdf);
	if (ret)
		return ret;
	if (!realpath(path, real)) {
		int e = errno;

		return fail(ctx, e, "no PCI device %s (%s: %s)", bdf, path,
			    strerror(e));
	}
	for (comp = strtok_r(real, "/", &save); comp;
	     comp = strtok_r(NULL, "/", &save)) {
		if (!strncmp(comp, "pci", 3) && strchr(comp, ':') && !is_bdf(comp)) {
			copy_str(ch->host, sizeof(ch->host), comp);
			n = 0;	/* a host bridge starts a new hierarchy */
		} else if (is_bdf(comp)) {
			if (n == MAX_DEPTH)
				return fail(ctx, ELOOP, "%s: PCI hierarchy deeper than %d",
					    bdf, MAX_DEPTH);
			copy_str(tmp[n++], sizeof(tmp[0]), comp);
		}
	}
	if (!n || strcmp(tmp[n - 1], bdf))
		return fail(ctx, EINVAL, "%s: sysfs path %s does not end in the device",
			    bdf, path);
	for (i = 0; i < n; i++)
		copy_str(ch->bdf[i], sizeof(ch->bdf[i]), tmp[n - 1 - i]);
	ch->len = n;
	return 0;
}

/* Hex id file ("0x8086\n"); -1 if unreadable or malformed. */
static long read_hex(const char *path)
{
	char buf[32], *end;
	long v;
	FILE *f = fopen(path, "re");

	if (!f)
		return -1;
	if (!fgets(buf, sizeof(buf), f)) {
		fclose(f);
		return -1;
	}
	fclose(f);
	errno = 0;
	v = strtol(buf, &end, 16);
	if (errno || end == buf || (*end && *end != '\n') || v < 0)
		return -1;
	return v;
}

/*
 * 6.1's pci_p2pdma_whitelist: Intel host bridges (the device at devfn 0 of
 * the root bus) that route P2P; @same: entry requires both devices under
 * the same host bridge.
 */
static const struct { unsigned int dev; int same; } whitelist[] = {
	{ 0x3c00, 1 }, { 0x3c01, 1 },	/* Xeon E5 / Core i7 */
	{ 0x2f00, 1 }, { 0x2f01, 1 },	/* Xeon E5 v3 */
	{ 0x2030, 0 }, { 0x2031, 0 }, { 0x2032, 0 }, { 0x2033, 0 },
	{ 0x2020, 0 },			/* SkyLake-E */
	{ 0x09a2, 0 },			/* Ice Lake-SP */
};

/* 1 whitelisted, 0 not, -1 cannot tell; @desc describes the root device */
static int host_whitelisted(struct p2pmap_ctx *ctx, const char *host,
			    int same, char *desc, size_t size)
{
	char path[P2PMAP_PATH_MAX];
	long ven, dev;
	size_t i;

	/* "pciDDDD:BB" -> "DDDD:BB:00.0" */
	snprintf(desc, size, "%s:00.0", host + 3);
	if (mkpath(ctx, path, sizeof(path), "%s/bus/pci/devices/%s/vendor",
		   ctx->sysfs, desc))
		return -1;
	ven = read_hex(path);
	snprintf(path + strlen(path) - 6, 8, "device");
	dev = read_hex(path);
	if (ven < 0 || dev < 0) {
		snprintf(desc + strlen(desc), size - strlen(desc), " (unreadable)");
		return -1;
	}
	snprintf(desc + strlen(desc), size - strlen(desc), " (%04lx:%04lx)", ven, dev);
	if (ven != 0x8086)
		return 0;
	for (i = 0; i < sizeof(whitelist) / sizeof(whitelist[0]); i++)
		if (whitelist[i].dev == (unsigned long)dev)
			return whitelist[i].same ? same : 1;
	return 0;
}

/* 1 AMD Zen or newer, 0 not, -1 cannot tell (cpuinfo unreadable) */
static int cpu_is_zen(struct p2pmap_ctx *ctx)
{
	char path[P2PMAP_PATH_MAX], line[256];
	int amd = -1, family = -1;
	FILE *f;

	if (mkpath(ctx, path, sizeof(path), "%s/cpuinfo", ctx->proc))
		return -1;
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f) && (amd < 0 || family < 0)) {
		char *colon = strchr(line, ':');

		if (!colon)
			continue;
		if (!strncmp(line, "vendor_id", 9))
			amd = strstr(colon, "AuthenticAMD") != NULL;
		else if (!strncmp(line, "cpu family", 10))
			family = atoi(colon + 1);
	}
	fclose(f);
	if (amd < 0)
		return -1;
	return amd && family >= 0x17;
}

/*
 * 1 if p2pmap.ko says the kernel has no CONFIG_PCI_P2PDMA ("pci_p2pdma no"
 * in its features file), 0 otherwise (present, or p2pmap.ko not loaded:
 * not checked). The context's error is left as it was.
 */
static int p2pdma_compiled_out(struct p2pmap_ctx *ctx, char *detail,
			       size_t len)
{
	char err[sizeof(ctx->err)];
	struct p2pmap_feature *f;
	size_t n, i;
	int out = 0;

	memcpy(err, ctx->err, sizeof(err));
	if (!p2pmap_features(ctx, &f, &n)) {
		for (i = 0; i < n; i++)
			if (!strcmp(f[i].name, "pci_p2pdma") && !f[i].present) {
				copy_str(detail, len, f[i].detail);
				out = 1;
			}
		free(f);
	}
	memcpy(ctx->err, err, sizeof(err));
	return out;
}

/* The pair's PCI path, as the kernel would see it with CONFIG_PCI_P2PDMA. */
static int pci_path(struct p2pmap_ctx *ctx, const char *provider,
		    const char *client, struct p2pmap_topology *t);

int p2pmap_pci_distance(struct p2pmap_ctx *ctx, const char *provider,
			const char *client, struct p2pmap_topology *t)
{
	char detail[256], path[sizeof(t->reason)];
	struct p2pmap_topology r;
	int ret;

	ret = check_size(ctx, "p2pmap_topology", t->size, TOPOLOGY_SIZE_0_1);
	if (ret)
		return ret;
	ret = pci_path(ctx, provider, client, &r);
	if (ret)
		return ret;
	if (p2pdma_compiled_out(ctx, detail, sizeof(detail))) {
		copy_str(path, sizeof(path), r.reason);
		r.route = P2PMAP_ROUTE_NO_KCONFIG;
		r.distance = -1;
		snprintf(r.reason, sizeof(r.reason),
			 "kernel without peer-to-peer DMA (%.120s); the PCI path would be: %.300s",
			 detail, path);
	}
	copy_out(t, t->size, &r, sizeof(r));
	return 0;
}

static int pci_path(struct p2pmap_ctx *ctx, const char *provider,
		    const char *client, struct p2pmap_topology *t)
{
	struct pci_chain a, b;
	char da[128], db[128];
	int i, j, ret, wa, wb, zen;

	memset(t, 0, sizeof(*t));
	ret = pci_chain(ctx, provider, &a);
	if (ret)
		return ret;
	ret = pci_chain(ctx, client, &b);
	if (ret)
		return ret;
	/* calc_map_type_and_dist(): for each of a's chain, walk all of b's */
	for (i = 0; i < a.len; i++) {
		for (j = 0; j < b.len; j++) {
			if (!strcmp(a.bdf[i], b.bdf[j]) && !strcmp(a.host, b.host)) {
				t->route = P2PMAP_ROUTE_BUS_ADDR;
				t->hops_up = i;
				t->hops_down = j;
				t->distance = i + j;
				copy_str(t->common, sizeof(t->common), a.bdf[i]);
				snprintf(t->reason, sizeof(t->reason),
					 "common upstream bridge %s: %d up + %d down (ACS redirect not checked)",
					 a.bdf[i], i, j);
				return 0;
			}
		}
	}
	/* no common upstream bridge: the kernel's dist is both chain lengths */
	t->distance = a.len + b.len;
	zen = cpu_is_zen(ctx);
	wa = host_whitelisted(ctx, a.host, !strcmp(a.host, b.host), da, sizeof(da));
	wb = host_whitelisted(ctx, b.host, !strcmp(a.host, b.host), db, sizeof(db));
	if (zen == 1) {
		t->route = P2PMAP_ROUTE_HOST_BRIDGE;
		snprintf(t->reason, sizeof(t->reason),
			 "through the host bridge: no common upstream bridge, AMD Zen CPU");
	} else if (wa == 1 && wb == 1) {
		t->route = P2PMAP_ROUTE_HOST_BRIDGE;
		snprintf(t->reason, sizeof(t->reason),
			 "through the host bridge: no common upstream bridge, host bridge %s whitelisted",
			 da);
	} else if (zen == 0 && (wa == 0 || wb == 0)) {
		t->route = P2PMAP_ROUTE_NOT_SUPPORTED;
		t->distance = -1;
		snprintf(t->reason, sizeof(t->reason),
			 "not supported (host bridge not whitelisted): no common upstream bridge; host bridge %s%s%s is not whitelisted and the CPU is not AMD Zen",
			 wa == 0 ? da : db, strcmp(a.host, b.host) ? ", " : "",
			 strcmp(a.host, b.host) ? (wa == 0 ? db : da) : "");
	} else {
		t->route = P2PMAP_ROUTE_UNKNOWN;
		t->distance = -1;
		snprintf(t->reason, sizeof(t->reason),
			 "cannot tell: no common upstream bridge, and %s",
			 zen < 0 ? "the CPU vendor is unknown (cpuinfo unreadable)"
				 : "the host bridge identity is unreadable");
	}
	return 0;
}

static int cmp_pci(const void *a, const void *b)
{
	return strcmp(((const struct p2pmap_pci_dev *)a)->bdf,
		      ((const struct p2pmap_pci_dev *)b)->bdf);
}

int p2pmap_pci_devices(struct p2pmap_ctx *ctx, struct p2pmap_pci_dev **out,
		       size_t *n)
{
	char path[P2PMAP_PATH_MAX];
	struct p2pmap_pci_dev *v = NULL;
	size_t cnt = 0, cap = 0;
	struct dirent *de;
	DIR *d;
	int ret;

	*out = NULL;
	*n = 0;
	ret = mkpath(ctx, path, sizeof(path), "%s/bus/pci/devices", ctx->sysfs);
	if (ret)
		return ret;
	d = opendir(path);
	if (!d) {
		int e = errno;

		return fail(ctx, e, "cannot open %s: %s (no PCI bus?)", path,
			    strerror(e));
	}
	while ((de = readdir(d))) {
		char cpath[P2PMAP_PATH_MAX];
		long cls;

		if (!is_bdf(de->d_name))
			continue;
		if (cnt == cap) {
			size_t nc = cap ? cap * 2 : 16;
			struct p2pmap_pci_dev *nv = realloc(v, nc * sizeof(*nv));

			if (!nv) {
				ret = fail(ctx, ENOMEM, "out of memory listing PCI devices");
				break;
			}
			v = nv;
			cap = nc;
		}
		ret = mkpath(ctx, cpath, sizeof(cpath), "%s/%s/class", path, de->d_name);
		if (ret)
			break;
		cls = read_hex(cpath);
		if (cls < 0 || cls > 0xffffff) {
			ret = fail(ctx, EINVAL,
				   "%s: missing or malformed (expected a hex class code)", cpath);
			break;
		}
		copy_str(v[cnt].bdf, sizeof(v[cnt].bdf), de->d_name);
		v[cnt].class_code = (uint32_t)cls;
		v[cnt].is_bridge = (cls >> 16) == 0x06;
		cnt++;
	}
	closedir(d);
	if (ret) {
		free(v);
		return ret;
	}
	if (cnt)
		qsort(v, cnt, sizeof(*v), cmp_pci);
	*out = v;
	*n = cnt;
	return 0;
}
