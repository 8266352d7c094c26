// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libp2pmap-rdma: p2pmap_reg_mr() and friends (see p2pmap-rdma.h and
 * p2pmap_reg_mr(3)). This file owns the registration decision: find out
 * whether an address is p2pgpu device memory (/proc/self/maps, then the
 * DRM driver's name by DRM_IOCTL_VERSION before any p2pgpu ioctl), ask the
 * device and the kernel what they support (a dma-buf MR probe,
 * ibv_query_device_ex()'s odp_caps, /sys/module/p2pmap/features), and make
 * the first MR of dma-buf, ODP, VA that both support, reporting which and
 * why. No global state except the table of fallback mappings made by
 * p2pmap_reg_mr_fd(), under a mutex.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <xf86drm.h>

#include "p2pgpu_drm.h"
#include "p2pmap_rdma_int.h"

static struct ibv_mr *real_reg_dmabuf_mr(struct ibv_pd *pd, uint64_t offset,
					 size_t length, uint64_t iova, int fd,
					 int access)
{
	return ibv_reg_dmabuf_mr(pd, offset, length, iova, fd, access);
}

static struct ibv_mr *real_reg_mr(struct ibv_pd *pd, void *addr,
				  size_t length, int access)
{
	return ibv_reg_mr(pd, addr, length, access);
}

static int real_query_odp(struct ibv_pd *pd, uint64_t *general, uint32_t *rc)
{
	struct ibv_device_attr_ex ax;
	int err = EINVAL;

	if (pd && pd->context) {
		memset(&ax, 0, sizeof(ax));
		err = ibv_query_device_ex(pd->context, NULL, &ax);
	}
	if (err)
		return err;
	*general = ax.odp_caps.general_caps;
	*rc = ax.odp_caps.per_transport_caps.rc_odp_caps;
	return 0;
}

static int real_open_node(const char *path)
{
	return open(path, O_RDWR | O_CLOEXEC);
}

/* DRM_IOCTL_VERSION through libdrm: generic to every DRM driver. */
static int real_drm_name(int fd, char *name, size_t len)
{
	drmVersionPtr v;

	errno = 0;
	v = drmGetVersion(fd);
	if (!v)
		return errno ? errno : ENOTTY;
	snprintf(name, len, "%.*s", v->name_len, v->name ? v->name : "");
	drmFreeVersion(v);
	return 0;
}

/* p2pgpu's private ioctls: only ever called on a node named p2pgpu. */
static int real_export_bo(int dfd, void *addr, size_t length, int *fd,
			  uint64_t *off, char *why, size_t whylen)
{
	struct drm_p2pgpu_bo_from_va fv;
	int dmabuf, err = 0;

	memset(&fv, 0, sizeof(fv));
	fv.va = (uintptr_t)addr;
	if (drmIoctl(dfd, DRM_IOCTL_P2PGPU_BO_FROM_VA, &fv)) {
		err = errno;
		snprintf(why, whylen,
			 "BO_FROM_VA: %s (not an object of this device, or p2pgpu without dma-buf export; see dmesg)",
			 strerror(err));
		return err;
	}
	if (length > fv.mapped) {
		err = EINVAL;
		snprintf(why, whylen,
			 "the range runs %zu bytes past the mapping of the object",
			 length - (size_t)fv.mapped);
		goto close_handle;
	}
	if (drmPrimeHandleToFD(dfd, fv.handle, DRM_CLOEXEC | DRM_RDWR, &dmabuf)) {
		err = errno;
		snprintf(why, whylen, "PRIME export: %s", strerror(err));
		goto close_handle;
	}
	*fd = dmabuf;
	*off = fv.offset;
close_handle:
	drmCloseBufferHandle(dfd, fv.handle);
	return err;
}

struct p2pmap_rdma_ops p2pmap_rdma_ops = {
	.reg_dmabuf_mr = real_reg_dmabuf_mr,
	.reg_mr = real_reg_mr,
	.dereg_mr = ibv_dereg_mr,
	.query_odp = real_query_odp,
	.open_node = real_open_node,
	.drm_name = real_drm_name,
	.export_bo = real_export_bo,
	.maps_path = "/proc/self/maps",
	.features_path = "/sys/module/p2pmap/features",
};

/* Mappings of dma-bufs made for a VA fallback, unmapped at deregistration. */
struct fb_map {
	struct fb_map *next;
	struct ibv_mr *mr;
	void *addr;
	size_t len;
};

static pthread_mutex_t fb_lock = PTHREAD_MUTEX_INITIALIZER;
static struct fb_map *fb_maps;

const char *p2pmap_mr_kind_name(enum p2pmap_mr_kind kind)
{
	switch (kind) {
	case P2PMAP_MR_DMABUF:
		return "dmabuf";
	case P2PMAP_MR_VA:
		return "va";
	case P2PMAP_MR_ODP:
		return "odp";
	default:
		return "none";
	}
}

int p2pmap_rdma_parse_maps_line(const char *line, uintptr_t addr, char *path,
				size_t pathlen)
{
	unsigned long start, end, off, inode;
	unsigned int maj, min;
	char perms[8];
	int n = 0;
	const char *p;
	size_t len;

	if (sscanf(line, "%lx-%lx %7s %lx %x:%x %lu %n", &start, &end, perms,
		   &off, &maj, &min, &inode, &n) < 7 || start >= end)
		return -1;
	if (addr < start || addr >= end)
		return 0;
	if (path && pathlen) {
		p = n ? line + n : "";
		while (*p == ' ')
			p++;
		len = strcspn(p, "\n");
		if (len >= pathlen)
			len = pathlen - 1;
		memcpy(path, p, len);
		path[len] = 0;
	}
	return 1;
}

int p2pmap_rdma_is_drm_node(const char *path)
{
	return !strncmp(path, "/dev/dri/renderD", 16) ||
	       !strncmp(path, "/dev/dri/card", 13) ||
	       !strncmp(path, "/dev/p2pgpu/renderD", 19) ||
	       !strncmp(path, "/dmabuf:", 8);
}

int p2pmap_rdma_dmabuf_unsupported(int err)
{
	return err == EOPNOTSUPP || err == EPROTONOSUPPORT || err == ENOTSUP;
}

enum p2pmap_mem_kind p2pmap_find_mapping(const void *addr, char *path,
					 size_t pathlen)
{
	enum p2pmap_mem_kind kind = P2PMAP_MEM_HOST;
	char line[4352], p[4096];
	FILE *f;
	int r;

	if (path && pathlen)
		path[0] = 0;
	f = fopen(p2pmap_rdma_ops.maps_path, "re");
	if (!f)
		return P2PMAP_MEM_HOST;
	while (fgets(line, sizeof(line), f)) {
		r = p2pmap_rdma_parse_maps_line(line, (uintptr_t)addr, p,
						sizeof(p));
		if (r != 1)
			continue;
		if (path && pathlen)
			snprintf(path, pathlen, "%s", p);
		if (p2pmap_rdma_is_drm_node(p))
			kind = P2PMAP_MEM_P2PGPU;
		break;
	}
	fclose(f);
	return kind;
}

static void set_reason(struct p2pmap_mr_info *info, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void set_reason(struct p2pmap_mr_info *info, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(info->reason, sizeof(info->reason), fmt, ap);
	va_end(ap);
}

static const char *dev_name(struct ibv_pd *pd)
{
	const char *n = NULL;

	if (pd && pd->context && pd->context->device)
		n = ibv_get_device_name(pd->context->device);
	return n ? n : "?";
}

uint32_t p2pmap_rdma_odp_needed(int access)
{
	uint32_t need = IBV_ODP_SUPPORT_SEND | IBV_ODP_SUPPORT_RECV;

	if (access & IBV_ACCESS_REMOTE_WRITE)
		need |= IBV_ODP_SUPPORT_WRITE;
	if (access & IBV_ACCESS_REMOTE_READ)
		need |= IBV_ODP_SUPPORT_READ;
	if (access & IBV_ACCESS_REMOTE_ATOMIC)
		need |= IBV_ODP_SUPPORT_ATOMIC;
	return need;
}

unsigned int p2pmap_rdma_parse_features(const char *text)
{
	unsigned int caps = P2PMAP_RDMA_CAP_KERNEL_KNOWN;
	char name[64], val[8];
	const char *l;

	for (l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		if (sscanf(l, "%63s %7s", name, val) != 2 || strcmp(val, "yes"))
			continue;
		if (!strcmp(name, "odp_p2pdma"))
			caps |= P2PMAP_RDMA_CAP_KERNEL_ODP_P2P;
		else if (!strcmp(name, "gup_p2pdma_pin"))
			caps |= P2PMAP_RDMA_CAP_KERNEL_PIN_P2P;
	}
	return caps;
}

static void add_clause(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void add_clause(char *buf, size_t len, const char *fmt, ...)
{
	size_t n = strlen(buf);
	va_list ap;

	if (n + 3 >= len)
		return;
	if (n) {
		memcpy(buf + n, "; ", 3);
		n += 2;
	}
	va_start(ap, fmt);
	vsnprintf(buf + n, len - n, fmt, ap);
	va_end(ap);
}

void p2pmap_rdma_plan(unsigned int caps, unsigned int flags, int have_dmabuf,
		      const char *nodmabuf, int have_addr, const char *dev,
		      enum p2pmap_mr_kind order[4], char *why, size_t whylen)
{
	int n = 0;

	why[0] = 0;
	/* 1. dma-buf MR: where the device takes them */
	if (flags & P2PMAP_REG_NO_DMABUF)
		add_clause(why, whylen, "dma-buf MR not tried (P2PMAP_REG_NO_DMABUF)");
	else if (!(caps & P2PMAP_RDMA_CAP_DMABUF_MR))
		add_clause(why, whylen, "dma-buf MR: %s has none (probe refused)", dev);
	else if (!have_dmabuf)
		add_clause(why, whylen, "dma-buf MR: no dma-buf (%s)",
			   nodmabuf ? nodmabuf : "none given");
	else
		order[n++] = P2PMAP_MR_DMABUF;
	if (flags & P2PMAP_REG_REQUIRE_DMABUF) {
		add_clause(why, whylen, "ODP and VA MRs not allowed (P2PMAP_REG_REQUIRE_DMABUF)");
		goto out;
	}
	if (!have_addr) {
		add_clause(why, whylen, "ODP and VA MRs: no CPU mapping");
		goto out;
	}
	/* 2. ODP MR: device ODP, and the kernel maps P2PDMA pages under ODP */
	if (flags & P2PMAP_REG_NO_ODP)
		add_clause(why, whylen, "ODP MR not tried (P2PMAP_REG_NO_ODP)");
	else if (!(caps & P2PMAP_RDMA_CAP_ODP))
		add_clause(why, whylen, "ODP MR: %s has no RC ODP for this access", dev);
	else if (!(caps & P2PMAP_RDMA_CAP_KERNEL_KNOWN))
		add_clause(why, whylen, "ODP MR: p2pmap's features unreadable, so not known whether the kernel maps P2PDMA pages under ODP");
	else if (!(caps & P2PMAP_RDMA_CAP_KERNEL_ODP_P2P))
		add_clause(why, whylen, "ODP MR: the kernel maps no P2PDMA pages under ODP (odp_p2pdma no)");
	else
		order[n++] = P2PMAP_MR_ODP;
	/* 3. VA MR: only where the kernel still pins P2PDMA pages */
	if (!(caps & P2PMAP_RDMA_CAP_KERNEL_KNOWN)) {
		add_clause(why, whylen, "VA MR tried without knowing whether the kernel pins P2PDMA pages");
		order[n++] = P2PMAP_MR_VA;
	} else if (!(caps & P2PMAP_RDMA_CAP_KERNEL_PIN_P2P)) {
		add_clause(why, whylen, "VA MR: the kernel pins no P2PDMA pages (gup_p2pdma_pin no)");
	} else {
		order[n++] = P2PMAP_MR_VA;
	}
out:
	order[n] = P2PMAP_MR_NONE;
}

/* The answers for @pd's device and this kernel; see p2pmap_rdma_query(). */
static void query_caps(struct ibv_pd *pd, int access, struct p2pmap_rdma_caps *c)
{
	uint32_t need = p2pmap_rdma_odp_needed(access);
	char text[4096], kern[96];
	struct ibv_mr *mr;
	uint64_t general = 0;
	uint32_t rc = 0;
	ssize_t n;
	int fd, err;

	memset(c, 0, sizeof(*c));
	c->size = sizeof(*c);
	/* dma-buf MRs: an invalid fd gets as far as the device supports */
	errno = 0;
	mr = p2pmap_rdma_ops.reg_dmabuf_mr(pd, 0, 4096, 0, -1,
					   IBV_ACCESS_LOCAL_WRITE);
	if (mr) {
		p2pmap_rdma_ops.dereg_mr(mr);
		c->caps |= P2PMAP_RDMA_CAP_DMABUF_MR;
	} else {
		c->dmabuf_probe_errno = errno ? errno : EIO;
		if (!p2pmap_rdma_dmabuf_unsupported(c->dmabuf_probe_errno))
			c->caps |= P2PMAP_RDMA_CAP_DMABUF_MR;
	}
	err = p2pmap_rdma_ops.query_odp(pd, &general, &rc);
	if (!err) {
		c->odp_general_caps = general;
		c->odp_rc_caps = rc;
		if ((general & IBV_ODP_SUPPORT) && (rc & need) == need)
			c->caps |= P2PMAP_RDMA_CAP_ODP;
	}
	fd = open(p2pmap_rdma_ops.features_path, O_RDONLY | O_CLOEXEC);
	n = fd < 0 ? -1 : read(fd, text, sizeof(text) - 1);
	if (n >= 0) {
		text[n] = 0;
		c->caps |= p2pmap_rdma_parse_features(text);
		snprintf(kern, sizeof(kern), "odp_p2pdma %s, gup_p2pdma_pin %s",
			 c->caps & P2PMAP_RDMA_CAP_KERNEL_ODP_P2P ? "yes" : "no",
			 c->caps & P2PMAP_RDMA_CAP_KERNEL_PIN_P2P ? "yes" : "no");
	} else {
		snprintf(kern, sizeof(kern), "%s unreadable: %s",
			 p2pmap_rdma_ops.features_path, strerror(errno));
	}
	if (fd >= 0)
		close(fd);
	snprintf(c->reason, sizeof(c->reason),
		 "%s: dma-buf MR %s (probe: %s); RC ODP %s (%s general 0x%llx rc 0x%x, need 0x%x); kernel: %s",
		 dev_name(pd),
		 c->caps & P2PMAP_RDMA_CAP_DMABUF_MR ? "yes" : "no",
		 c->dmabuf_probe_errno ? strerror(c->dmabuf_probe_errno) : "accepted",
		 c->caps & P2PMAP_RDMA_CAP_ODP ? "yes" : "no",
		 err ? strerror(err) : "query_device_ex:",
		 (unsigned long long)general, rc, need, kern);
}

/* The kind as the reasons spell it. */
static const char *kind_label(enum p2pmap_mr_kind kind)
{
	switch (kind) {
	case P2PMAP_MR_DMABUF:
		return "dma-buf";
	case P2PMAP_MR_ODP:
		return "ODP";
	case P2PMAP_MR_VA:
		return "VA";
	default:
		return "no";
	}
}

static const char *chosen_because(enum p2pmap_mr_kind kind, unsigned int caps)
{
	switch (kind) {
	case P2PMAP_MR_DMABUF:
		return "the device takes dma-buf MRs";
	case P2PMAP_MR_ODP:
		return "RC ODP on the device, P2PDMA pages under ODP in the kernel";
	default:
		return caps & P2PMAP_RDMA_CAP_KERNEL_PIN_P2P ?
		       "the kernel pins P2PDMA pages" : "the last resort";
	}
}

/*
 * Device memory: make the first MR of the plan that the device accepts.
 * @pre: the capabilities if already queried (else NULL); @fd/@off: the
 * dma-buf (fd -1: none, @nodmabuf says why); @addr: the CPU mapping (iova
 * of every kind; NULL: none); @what: the memory, for the reason.
 */
static struct ibv_mr *reg_device(struct ibv_pd *pd,
				 const struct p2pmap_rdma_caps *pre, int fd,
				 uint64_t off, const char *nodmabuf,
				 size_t length, void *addr, int access,
				 unsigned int flags, struct p2pmap_mr_info *info,
				 const char *what)
{
	struct p2pmap_rdma_caps c;
	enum p2pmap_mr_kind order[4];
	char skipped[256], tried[200] = "";
	struct ibv_mr *mr = NULL;
	int i, err = 0, *slot;

	if (pre)
		c = *pre;
	else
		query_caps(pd, access, &c);
	info->caps = c.caps;
	info->offset = off;
	/* the probe was a dma-buf MR attempt: its refusal is the answer */
	if (!(c.caps & P2PMAP_RDMA_CAP_DMABUF_MR) &&
	    !(flags & P2PMAP_REG_NO_DMABUF))
		info->dmabuf_errno = c.dmabuf_probe_errno;
	p2pmap_rdma_plan(c.caps, flags, fd >= 0, nodmabuf, !!addr,
			 dev_name(pd), order, skipped, sizeof(skipped));
	for (i = 0; order[i] != P2PMAP_MR_NONE; i++) {
		errno = 0;
		switch (order[i]) {
		case P2PMAP_MR_DMABUF:
			mr = p2pmap_rdma_ops.reg_dmabuf_mr(pd, off, length,
							   (uintptr_t)addr, fd,
							   access);
			slot = &info->dmabuf_errno;
			break;
		case P2PMAP_MR_ODP:
			mr = p2pmap_rdma_ops.reg_mr(pd, addr, length,
						    access | IBV_ACCESS_ON_DEMAND);
			slot = &info->odp_errno;
			break;
		default:
			mr = p2pmap_rdma_ops.reg_mr(pd, addr, length, access);
			slot = &info->va_errno;
			break;
		}
		if (mr) {
			info->kind = order[i];
			set_reason(info, "%s MR on %s (%s): %s%s%s%s%s",
				   kind_label(order[i]), dev_name(pd),
				   what, chosen_because(order[i], c.caps),
				   tried[0] ? "; " : "", tried,
				   skipped[0] ? "; " : "", skipped);
			return mr;
		}
		err = errno ? errno : EIO;
		*slot = err;
		add_clause(tried, sizeof(tried), "%s MR refused: %s",
			   kind_label(order[i]), strerror(err));
	}
	if (!err) {
		/* nothing was tried: say why in the errno too */
		err = !(c.caps & P2PMAP_RDMA_CAP_DMABUF_MR) &&
		      p2pmap_rdma_dmabuf_unsupported(c.dmabuf_probe_errno) ?
		      c.dmabuf_probe_errno : EOPNOTSUPP;
		if (!addr && !(flags & P2PMAP_REG_REQUIRE_DMABUF) && fd < 0)
			err = EINVAL;
	}
	set_reason(info, "no MR on %s (%s): %s%s%s", dev_name(pd), what, tried,
		   tried[0] && skipped[0] ? "; " : "", skipped);
	errno = err;
	return NULL;
}

/*
 * Resolve the DRM node behind a mapping of @path and, if @want_dmabuf,
 * export the p2pgpu object mapped at @addr as a dma-buf. The driver's name
 * (DRM_IOCTL_VERSION, generic to every DRM driver) is checked before any
 * p2pgpu ioctl. Returns 0 with *@fd >= 0 (a dma-buf), or with *@fd = -1
 * and @why saying why there is none; *@foreign is set when the node
 * belongs to another driver (nothing private was sent to it).
 */
static int resolve_node(const char *node, void *addr, size_t length,
			int want_dmabuf, int *fd, uint64_t *off, int *foreign,
			char *why, size_t whylen)
{
	char name[32];
	int dfd, err;

	dfd = p2pmap_rdma_ops.open_node(node);
	if (dfd < 0) {
		err = errno ? errno : EIO;
		snprintf(why, whylen, "open %.64s: %s", node, strerror(err));
		return err;
	}
	err = p2pmap_rdma_ops.drm_name(dfd, name, sizeof(name));
	if (err) {
		snprintf(why, whylen, "%.64s: DRM_IOCTL_VERSION: %s", node,
			 strerror(err));
	} else if (strcmp(name, "p2pgpu")) {
		*foreign = 1;
		err = ENODEV;
		snprintf(why, whylen, "%.64s is driver '%.31s', not p2pgpu: no private ioctl sent",
			 node, name);
	} else if (want_dmabuf) {
		char e[160];

		err = p2pmap_rdma_ops.export_bo(dfd, addr, length, fd, off, e,
						sizeof(e));
		if (err)
			snprintf(why, whylen, "%.64s: %.120s", node, e);
	} else {
		snprintf(why, whylen, "not exported");
	}
	close(dfd);
	return err;
}

/*
 * The dma-buf of the p2pgpu object mapped from @path at @addr: a render
 * node is used as is, the publish node /dev/p2pgpu/renderD<N> through
 * /dev/dri/renderD<N>, and a dma-buf mmap ("/dmabuf:...") through the
 * render nodes in order, stopping at the first node of another driver (no
 * private ioctl ever goes to one; such a dma-buf is then registered
 * without a dma-buf MR, or pass its fd to p2pmap_reg_mr_fd()). Returns 1
 * if the node behind @path belongs to another driver; *@err is the errno
 * of the failed step when there is no dma-buf (0 if none was wanted).
 */
static int p2pgpu_resolve(const char *path, void *addr, size_t length,
			  int want_dmabuf, int *fd, uint64_t *off, int *err,
			  char *why, size_t whylen)
{
	char node[64], last[200] = "no render node";
	int minor, foreign = 0, e = ENXIO;

	*fd = -1;
	*err = 0;
	if (!strncmp(path, "/dev/p2pgpu/renderD", 19)) {
		snprintf(node, sizeof(node), "/dev/dri/%.32s", path + 12);
		*err = resolve_node(node, addr, length, want_dmabuf, fd, off,
				    &foreign, why, whylen);
		return foreign;
	}
	if (strncmp(path, "/dmabuf:", 8)) {
		*err = resolve_node(path, addr, length, want_dmabuf, fd, off,
				    &foreign, why, whylen);
		return foreign;
	}
	if (!want_dmabuf) {
		snprintf(why, whylen, "not exported");
		return 0;
	}
	for (minor = 128; minor < 192; minor++) {
		snprintf(node, sizeof(node), "/dev/dri/renderD%d", minor);
		e = resolve_node(node, addr, length, 1, fd, off, &foreign,
				 last, sizeof(last));
		if (e == ENOENT)
			continue;
		if (*fd >= 0)
			return 0;
		if (foreign)
			break;
	}
	*err = foreign || e == ENOENT ? ENXIO : e;
	if (foreign)
		snprintf(why, whylen, "render-node scan stopped: %.150s", last);
	else
		snprintf(why, whylen, "no p2pgpu render node exported it (%.120s)",
			 last);
	return 0;
}

static struct ibv_mr *reg_host(struct ibv_pd *pd, void *addr, size_t length,
			       int access, struct p2pmap_mr_info *info,
			       const char *what)
{
	struct ibv_mr *mr;

	errno = 0;
	mr = p2pmap_rdma_ops.reg_mr(pd, addr, length, access);
	if (mr) {
		info->kind = P2PMAP_MR_VA;
		set_reason(info, "VA MR on %s (%s)", dev_name(pd), what);
	} else {
		info->va_errno = errno ? errno : EIO;
		set_reason(info, "no MR on %s (%s): %s", dev_name(pd), what,
			   strerror(info->va_errno));
		errno = info->va_errno;
	}
	return mr;
}

static struct ibv_mr *reg_mr(struct ibv_pd *pd, void *addr, size_t length,
			     int access, unsigned int flags,
			     struct p2pmap_mr_info *info)
{
	char path[256], why[200] = "", what[300];
	struct p2pmap_rdma_caps c;
	struct ibv_mr *mr;
	uint64_t off = 0;
	int fd = -1, err, want;

	memset(info, 0, sizeof(*info));
	if ((flags & ~P2PMAP_REG_FLAGS) ||
	    (flags & (P2PMAP_REG_REQUIRE_DMABUF | P2PMAP_REG_NO_DMABUF)) ==
	    (P2PMAP_REG_REQUIRE_DMABUF | P2PMAP_REG_NO_DMABUF) || !length) {
		set_reason(info, "invalid arguments: flags %#x, length %zu",
			   flags, length);
		errno = EINVAL;
		return NULL;
	}
	info->mem = p2pmap_find_mapping(addr, path, sizeof(path));
	if (info->mem == P2PMAP_MEM_HOST) {
		if (flags & P2PMAP_REG_REQUIRE_DMABUF) {
			set_reason(info, "no MR: %p is not p2pmap device memory (%s), no dma-buf to register",
				   addr, path[0] ? path : "anonymous");
			errno = EINVAL;
			return NULL;
		}
		return reg_host(pd, addr, length, access, info, "host memory");
	}
	/* export only if a dma-buf MR can be made of it */
	query_caps(pd, access, &c);
	want = !(flags & P2PMAP_REG_NO_DMABUF) &&
	       (c.caps & P2PMAP_RDMA_CAP_DMABUF_MR);
	if (p2pgpu_resolve(path, addr, length, want, &fd, &off, &err, why,
			   sizeof(why))) {
		info->mem = P2PMAP_MEM_FOREIGN;
		if (flags & P2PMAP_REG_REQUIRE_DMABUF) {
			set_reason(info, "no MR: %s", why);
			errno = EINVAL;
			return NULL;
		}
		snprintf(what, sizeof(what), "not p2pmap memory: %s", why);
		return reg_host(pd, addr, length, access, info, what);
	}
	mr = reg_device(pd, &c, fd, off, fd < 0 ? why : NULL, length, addr,
			access, flags, info, path);
	if (fd < 0 && want && !info->dmabuf_errno)
		info->dmabuf_errno = err;	/* the export's refusal */
	if (fd >= 0) {
		/* A dma-buf MR holds its own reference on the dma-buf. */
		err = errno;
		close(fd);
		errno = err;
	}
	return mr;
}

static struct ibv_mr *reg_mr_fd(struct ibv_pd *pd, int dmabuf_fd,
				uint64_t offset, size_t length, void *addr,
				int access, unsigned int flags,
				struct p2pmap_mr_info *info)
{
	struct fb_map *fb = NULL;
	void *map = NULL;
	size_t maplen = 0;
	struct ibv_mr *mr;
	uint64_t pgoff;
	long pg;

	memset(info, 0, sizeof(*info));
	info->mem = P2PMAP_MEM_DMABUF;
	if (dmabuf_fd < 0 || !length || (flags & ~P2PMAP_REG_FLAGS) ||
	    (flags & (P2PMAP_REG_REQUIRE_DMABUF | P2PMAP_REG_NO_DMABUF)) ==
	    (P2PMAP_REG_REQUIRE_DMABUF | P2PMAP_REG_NO_DMABUF)) {
		set_reason(info, "invalid arguments: fd %d, flags %#x, length %zu",
			   dmabuf_fd, flags, length);
		errno = EINVAL;
		return NULL;
	}
	if (!addr && !(flags & P2PMAP_REG_REQUIRE_DMABUF)) {
		/*
		 * An ODP or VA MR needs a CPU mapping: map the dma-buf now
		 * (only used if no dma-buf MR is made; then it lives with the
		 * MR). The iova of a dma-buf MR is then the offset.
		 */
		pg = sysconf(_SC_PAGESIZE);
		pgoff = offset & ~((uint64_t)pg - 1);
		maplen = length + (size_t)(offset - pgoff);
		map = mmap(NULL, maplen, PROT_READ | PROT_WRITE, MAP_SHARED,
			   dmabuf_fd, (off_t)pgoff);
		if (map == MAP_FAILED) {
			map = NULL;
		} else {
			fb = calloc(1, sizeof(*fb));
			if (!fb) {
				munmap(map, maplen);
				map = NULL;
			}
		}
	}
	mr = reg_device(pd, NULL, dmabuf_fd, offset, NULL, length,
			addr ? addr :
			map ? (char *)map + (offset & (sysconf(_SC_PAGESIZE) - 1)) :
			NULL, access, flags, info, "dma-buf");
	if (map && (!mr || info->kind == P2PMAP_MR_DMABUF)) {
		int err = errno;

		munmap(map, maplen);
		free(fb);
		errno = err;
		return mr;
	}
	if (map) {
		fb->mr = mr;
		fb->addr = map;
		fb->len = maplen;
		pthread_mutex_lock(&fb_lock);
		fb->next = fb_maps;
		fb_maps = fb;
		pthread_mutex_unlock(&fb_lock);
	}
	return mr;
}

/*
 * struct p2pmap_mr_info is allocated by the caller, who sets .size to the
 * sizeof() it was compiled with (docs/abi.md). The size of 0.1 (everything
 * before the fields 0.2 appended) is the floor (frozen); the library fills
 * what the caller's struct has room for.
 */
#define MR_INFO_SIZE_0_1	offsetof(struct p2pmap_mr_info, caps)
#define RDMA_CAPS_SIZE_0_2	sizeof(struct p2pmap_rdma_caps)

static int info_size_ok(const struct p2pmap_mr_info *info)
{
	if (info && info->size < MR_INFO_SIZE_0_1) {
		errno = EINVAL;
		return 0;
	}
	return 1;
}

/* Copy @full into the caller's struct of @size bytes, keeping its size. */
static void copy_out(void *dst, const void *full, size_t fullsize)
{
	size_t n;

	if (!dst)
		return;
	n = *(const size_t *)dst;
	if (n > fullsize)
		n = fullsize;
	memcpy((char *)dst + sizeof(size_t), (const char *)full + sizeof(size_t),
	       n - sizeof(size_t));
}

static void info_copy_out(struct p2pmap_mr_info *info,
			  const struct p2pmap_mr_info *full)
{
	copy_out(info, full, sizeof(*full));
}

int p2pmap_rdma_query(struct ibv_pd *pd, int access,
		      struct p2pmap_rdma_caps *caps)
{
	struct p2pmap_rdma_caps full;

	if (!pd || !caps || caps->size < RDMA_CAPS_SIZE_0_2) {
		errno = EINVAL;
		return -1;
	}
	query_caps(pd, access, &full);
	copy_out(caps, &full, sizeof(full));
	return 0;
}

struct ibv_mr *p2pmap_reg_mr(struct ibv_pd *pd, void *addr, size_t length,
			     int access, unsigned int flags,
			     struct p2pmap_mr_info *info)
{
	struct p2pmap_mr_info full;
	struct ibv_mr *mr;
	int err;

	if (!info_size_ok(info))
		return NULL;
	mr = reg_mr(pd, addr, length, access, flags, &full);
	err = errno;
	info_copy_out(info, &full);
	errno = err;
	return mr;
}

struct ibv_mr *p2pmap_reg_mr_fd(struct ibv_pd *pd, int dmabuf_fd,
				uint64_t offset, size_t length, void *addr,
				int access, unsigned int flags,
				struct p2pmap_mr_info *info)
{
	struct p2pmap_mr_info full;
	struct ibv_mr *mr;
	int err;

	if (!info_size_ok(info))
		return NULL;
	mr = reg_mr_fd(pd, dmabuf_fd, offset, length, addr, access, flags,
		       &full);
	err = errno;
	info_copy_out(info, &full);
	errno = err;
	return mr;
}

int p2pmap_dereg_mr(struct ibv_mr *mr)
{
	struct fb_map **pp, *fb = NULL;
	int ret;

	ret = p2pmap_rdma_ops.dereg_mr(mr);
	if (ret)
		return ret;
	pthread_mutex_lock(&fb_lock);
	for (pp = &fb_maps; *pp; pp = &(*pp)->next) {
		if ((*pp)->mr == mr) {
			fb = *pp;
			*pp = fb->next;
			break;
		}
	}
	pthread_mutex_unlock(&fb_lock);
	if (fb) {
		munmap(fb->addr, fb->len);
		free(fb);
	}
	return 0;
}
