// SPDX-License-Identifier: GPL-2.0
/*
 * p2pmapctl: show p2pmap providers, topology, aperture usage, live imports,
 * counters and kernel features. See p2pmapctl.8 (and --help).
 * Exit status: 0 success, 1 error, 2 usage.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>

#include "p2pmap.h"

#define EXIT_USAGE	2
#define MAX_IMPORTERS	32

static const char help_text[] =
"NAME\n"
"    p2pmapctl - inspect p2pmap peer-to-peer device memory\n"
"\n"
"SYNOPSIS\n"
"    p2pmapctl [OPTIONS] COMMAND\n"
"    p2pmapctl [OPTIONS] topology PROVIDER_BDF IMPORTER_BDF\n"
"\n"
"DESCRIPTION\n"
"    Reads what p2pmap.ko publishes in sysfs (stable ABI, see\n"
"    docs/ABI/testing/sysfs-p2pmap) and debugfs, and prints it as a table,\n"
"    or as JSON with --json. COMMAND is one of:\n"
"\n"
"    devices    registered providers (exporters): device, name, id,\n"
"               state, bound address spaces, sysfs directory\n"
"    topology   for every pair of PCI providers, and every provider with\n"
"               each --importer (or, with --all, every PCI device that is\n"
"               not a bridge): the common upstream bridge, the P2P distance\n"
"               as Linux 6.1 computes it, and whether the kernel would map\n"
"               the pair by bus address, through the host bridge, or not at\n"
"               all. ACS redirect is not checked (needs root-only config\n"
"               space), so a bus_addr verdict may in fact go through the\n"
"               host bridge. With two PCI addresses, that one pair only;\n"
"               this needs PCI sysfs only, not p2pmap.ko (which, when\n"
"               loaded, also tells whether the kernel has P2PDMA at all).\n"
"    aperture   each provider's peer-visible window: total, used, pinned,\n"
"               free, and total device memory\n"
"    imports    live imports (needs debugfs, i.e. root)\n"
"    counters   each provider's resolve, invalidation and fallback counters\n"
"    features   the optional kernel features p2pmap.ko can use\n"
"\n"
"OPTIONS\n"
"    -j, --json               print JSON instead of a table: one object,\n"
"                             {\"schema\": 1, \"<what>\": [...]}; a value\n"
"                             that is not known is null\n"
"    -b, --bytes              print sizes in bytes in tables\n"
"    -i, --importer BDF       (topology) also pair providers with this PCI\n"
"                             device; may be repeated\n"
"    -a, --all                (topology) pair providers with every PCI\n"
"                             device that is not a bridge\n"
"    -s, --sysfs-root DIR     read sysfs from DIR (default /sys)\n"
"    -d, --debugfs-root DIR   read debugfs from DIR (default /sys/kernel/debug)\n"
"    -h, --help               print this help and exit\n"
"    -V, --version            print the version and exit\n"
"\n"
"EXIT STATUS\n"
"    0  success\n"
"    1  error (p2pmap.ko not loaded, a file missing or malformed, ...);\n"
"       the reason is printed on standard error\n"
"    2  usage error\n"
"\n"
"SEE ALSO\n"
"    p2pmapctl(8), libp2pmap(3)\n";

struct opts {
	int json;
	int bytes;
	int all;
	const char *importers[MAX_IMPORTERS];
	int nr_importers;
	const char *pair[2];	/* topology PROVIDER IMPORTER */
};

/* ---- JSON output (json-c) -------------------------------------------- */

/*
 * Every --json document is one object: {"schema": JSON_SCHEMA, "<what>":
 * [...]}. The schema number is raised when a key is removed or changes
 * meaning (new keys do not raise it). A value that is not known (no
 * debugfs, a refused pair) is null, never a number such as -1.
 */
#define JSON_SCHEMA	1

static json_object *doc_new(const char *key, json_object **arr)
{
	json_object *root = json_object_new_object();

	*arr = json_object_new_array();
	json_object_object_add(root, "schema", json_object_new_int(JSON_SCHEMA));
	json_object_object_add(root, key, *arr);
	return root;
}

/* Print and free @root; json-c returns NULL only when out of memory. */
static int doc_print(json_object *root)
{
	const char *s = json_object_to_json_string_ext(root,
			JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE);
	int rc = EXIT_SUCCESS;

	if (s) {
		puts(s);
	} else {
		fputs("p2pmapctl: JSON output: out of memory\n", stderr);
		rc = EXIT_FAILURE;
	}
	json_object_put(root);
	return rc;
}

static void add_str(json_object *o, const char *key, const char *val)
{
	json_object_object_add(o, key, json_object_new_string(val));
}

static void add_u64(json_object *o, const char *key, uint64_t val)
{
	json_object_object_add(o, key, json_object_new_uint64(val));
}

/* a count or id the library reports as -1 when unknown: null then */
static void add_int_or_null(json_object *o, const char *key, long long val)
{
	json_object_object_add(o, key, val < 0 ? NULL : json_object_new_int64(val));
}

static void add_bool_or_null(json_object *o, const char *key, int val)
{
	json_object_object_add(o, key, val < 0 ? NULL : json_object_new_boolean(val));
}

static json_object *reasons_obj(const struct p2pmap_reason_count *r, size_t n)
{
	json_object *o = json_object_new_object();
	size_t i;

	for (i = 0; i < n; i++)
		add_u64(o, r[i].reason, r[i].pages);
	return o;
}

/* "64 MiB", "1.5 GiB", "4096 B" */
static const char *size_str(uint64_t v, int bytes, char *buf, size_t size)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	unsigned int u = 0;
	double d = (double)v;

	if (bytes || v < 1024) {
		snprintf(buf, size, "%" PRIu64 "%s", v, bytes ? "" : " B");
		return buf;
	}
	while (d >= 1024 && u < 5) {
		d /= 1024;
		u++;
	}
	if (v % ((uint64_t)1 << (10 * u)) == 0)
		snprintf(buf, size, "%.0f %s", d, unit[u]);
	else
		snprintf(buf, size, "%.1f %s", d, unit[u]);
	return buf;
}

static int error(struct p2pmap_ctx *ctx, const char *what)
{
	fprintf(stderr, "p2pmapctl: %s: %s\n", what, p2pmap_ctx_error(ctx));
	return EXIT_FAILURE;
}

static const char *tri(int v)
{
	return v < 0 ? "?" : v ? "yes" : "no";
}

/* ---- commands --------------------------------------------------------- */

static int cmd_devices(struct p2pmap_ctx *ctx, const struct opts *o)
{
	struct p2pmap_provider *p;
	size_t n, i;

	if (p2pmap_providers(ctx, &p, &n))
		return error(ctx, "devices");
	if (o->json) {
		json_object *arr, *root = doc_new("providers", &arr);

		for (i = 0; i < n; i++) {
			json_object *e = json_object_new_object();

			add_str(e, "device", p[i].device);
			add_str(e, "name", p[i].name);
			add_int_or_null(e, "id", p[i].id);
			json_object_object_add(e, "pci", json_object_new_boolean(p[i].is_pci));
			add_bool_or_null(e, "dead", p[i].dead);
			add_int_or_null(e, "mappings", p[i].mappings);
			add_str(e, "sysfs", p[i].sysfs_dir);
			json_object_array_add(arr, e);
		}
		free(p);
		return doc_print(root);
	} else {
		printf("%-14s %-16s %4s %-4s %-4s %8s  %s\n", "DEVICE", "NAME", "ID",
		       "PCI", "DEAD", "MAPPINGS", "SYSFS");
		for (i = 0; i < n; i++) {
			char id[16], maps[16];

			snprintf(id, sizeof(id), p[i].id < 0 ? "?" : "%d", p[i].id);
			snprintf(maps, sizeof(maps), p[i].mappings < 0 ? "?" : "%d",
				 p[i].mappings);
			printf("%-14s %-16s %4s %-4s %-4s %8s  %s\n", p[i].device,
			       p[i].name, id, tri(p[i].is_pci), tri(p[i].dead), maps,
			       p[i].sysfs_dir[0] ? p[i].sysfs_dir : "-");
		}
		if (!n)
			printf("(no providers registered)\n");
	}
	free(p);
	return EXIT_SUCCESS;
}

static int cmd_aperture(struct p2pmap_ctx *ctx, const struct opts *o)
{
	json_object *root = NULL, *arr = NULL;
	struct p2pmap_provider *p;
	size_t n, i;
	int rc = EXIT_SUCCESS;

	if (p2pmap_providers(ctx, &p, &n))
		return error(ctx, "aperture");
	if (o->json)
		root = doc_new("aperture", &arr);
	else
		printf("%-14s %12s %12s %12s %12s %14s\n", "DEVICE", "TOTAL", "USED",
		       "PINNED", "FREE", "DEVICE_TOTAL");
	for (i = 0; i < n; i++) {
		struct p2pmap_aperture ap = { .size = sizeof(ap) };
		char b[5][32];

		if (p2pmap_read_aperture(ctx, &p[i], &ap)) {
			rc = error(ctx, p[i].device);
			break;
		}
		if (o->json) {
			json_object *e = json_object_new_object();

			add_str(e, "device", p[i].device);
			add_u64(e, "aperture_total", ap.total);
			add_u64(e, "aperture_used", ap.used);
			add_u64(e, "aperture_pinned", ap.pinned);
			add_u64(e, "aperture_free", ap.free);
			add_u64(e, "device_total", ap.device_total);
			json_object_array_add(arr, e);
		} else {
			printf("%-14s %12s %12s %12s %12s %14s\n", p[i].device,
			       size_str(ap.total, o->bytes, b[0], sizeof(b[0])),
			       size_str(ap.used, o->bytes, b[1], sizeof(b[1])),
			       size_str(ap.pinned, o->bytes, b[2], sizeof(b[2])),
			       size_str(ap.free, o->bytes, b[3], sizeof(b[3])),
			       size_str(ap.device_total, o->bytes, b[4], sizeof(b[4])));
		}
	}
	free(p);
	/* no partial document after an error */
	if (root && rc == EXIT_SUCCESS)
		return doc_print(root);
	json_object_put(root);
	return rc;
}

static int cmd_counters(struct p2pmap_ctx *ctx, const struct opts *o)
{
	json_object *root = NULL, *arr = NULL;
	struct p2pmap_provider *p;
	size_t n, i, r;
	int rc = EXIT_SUCCESS;

	if (p2pmap_providers(ctx, &p, &n))
		return error(ctx, "counters");
	if (o->json)
		root = doc_new("counters", &arr);
	else
		printf("%-14s %8s %8s %10s %10s %8s %8s %8s  %s\n", "DEVICE", "MAPS",
		       "UNMAPS", "P2P_PAGES", "SYSMEM_PG", "INVAL", "EVICT", "MIGRATED",
		       "FALLBACK PAGES BY REASON");
	for (i = 0; i < n; i++) {
		struct p2pmap_counters c = { .size = sizeof(c) };

		if (p2pmap_read_counters(ctx, &p[i], &c)) {
			rc = error(ctx, p[i].device);
			break;
		}
		if (c.fallback_total > c.nr_fallback)
			fprintf(stderr, "p2pmapctl: %s: %zu fallback reasons, showing the first %zu\n",
				p[i].device, c.fallback_total, c.nr_fallback);
		if (o->json) {
			json_object *e = json_object_new_object();

			add_str(e, "device", p[i].device);
			add_u64(e, "maps", c.maps);
			add_u64(e, "unmaps", c.unmaps);
			add_u64(e, "p2p_pages", c.p2p_pages);
			add_u64(e, "sysmem_pages", c.sysmem_pages);
			add_u64(e, "invalidations", c.invalidations);
			add_u64(e, "evictions", c.evictions);
			add_u64(e, "migrated_pages", c.migrated_pages);
			json_object_object_add(e, "fallback",
					       reasons_obj(c.fallback, c.nr_fallback));
			json_object_array_add(arr, e);
		} else {
			printf("%-14s %8" PRIu64 " %8" PRIu64 " %10" PRIu64 " %10" PRIu64
			       " %8" PRIu64 " %8" PRIu64 " %8" PRIu64 " ", p[i].device,
			       c.maps, c.unmaps, c.p2p_pages, c.sysmem_pages,
			       c.invalidations, c.evictions, c.migrated_pages);
			for (r = 0; r < c.nr_fallback; r++)
				printf(" %s=%" PRIu64, c.fallback[r].reason,
				       c.fallback[r].pages);
			putchar('\n');
		}
	}
	free(p);
	if (root && rc == EXIT_SUCCESS)
		return doc_print(root);
	json_object_put(root);
	return rc;
}

static int cmd_imports(struct p2pmap_ctx *ctx, const struct opts *o)
{
	struct p2pmap_import *v;
	size_t n, i, r;

	if (p2pmap_imports(ctx, &v, &n))
		return error(ctx, "imports");
	if (o->json) {
		json_object *arr, *root = doc_new("imports", &arr);

		for (i = 0; i < n; i++) {
			json_object *e = json_object_new_object();
			char start[32];

			snprintf(start, sizeof(start), "0x%" PRIx64, v[i].start);
			add_str(e, "importer", v[i].importer);
			json_object_object_add(e, "pid", json_object_new_int(v[i].pid));
			add_str(e, "start", start);
			add_u64(e, "pages", v[i].pages);
			add_str(e, "policy", v[i].policy);
			add_u64(e, "gen", v[i].gen);
			add_u64(e, "extents", v[i].extents);
			add_u64(e, "p2p_pages", v[i].p2p_pages);
			add_u64(e, "sysmem_pages", v[i].sysmem_pages);
			add_u64(e, "error_pages", v[i].error_pages);
			json_object_object_add(e, "reasons",
					       reasons_obj(v[i].reasons, v[i].nr_reasons));
			json_object_array_add(arr, e);
		}
		free(v);
		return doc_print(root);
	} else {
		printf("%-14s %7s %-18s %8s %-12s %6s %7s %8s %8s %6s  %s\n",
		       "IMPORTER", "PID", "START", "PAGES", "POLICY", "GEN",
		       "EXTENTS", "P2P", "SYSMEM", "ERROR", "REASONS");
		for (i = 0; i < n; i++) {
			printf("%-14s %7d 0x%-16" PRIx64 " %8" PRIu64 " %-12s %6" PRIu64
			       " %7" PRIu64 " %8" PRIu64 " %8" PRIu64 " %6" PRIu64 " ",
			       v[i].importer, v[i].pid, v[i].start, v[i].pages,
			       v[i].policy, v[i].gen, v[i].extents, v[i].p2p_pages,
			       v[i].sysmem_pages, v[i].error_pages);
			for (r = 0; r < v[i].nr_reasons; r++)
				printf(" %s=%" PRIu64, v[i].reasons[r].reason,
				       v[i].reasons[r].pages);
			if (!v[i].nr_reasons)
				printf(" -");
			putchar('\n');
		}
		if (!n)
			printf("(no live imports)\n");
	}
	free(v);
	return EXIT_SUCCESS;
}

static int cmd_features(struct p2pmap_ctx *ctx, const struct opts *o)
{
	struct p2pmap_feature *f;
	size_t n, i;

	if (p2pmap_features(ctx, &f, &n))
		return error(ctx, "features");
	if (o->json) {
		json_object *arr, *root = doc_new("features", &arr);

		for (i = 0; i < n; i++) {
			json_object *e = json_object_new_object();

			add_str(e, "name", f[i].name);
			json_object_object_add(e, "available",
					       json_object_new_boolean(f[i].present));
			add_str(e, "detail", f[i].detail);
			json_object_array_add(arr, e);
		}
		free(f);
		return doc_print(root);
	} else {
		printf("%-20s %-9s %s\n", "FEATURE", "AVAILABLE", "DETAIL");
		for (i = 0; i < n; i++)
			printf("%-20s %-9s %s\n", f[i].name, f[i].present ? "yes" : "no",
			       f[i].present ? "-" : f[i].detail);
	}
	free(f);
	return EXIT_SUCCESS;
}

struct pair {
	const char *provider;
	const char *client;
};

static int topo_one(struct p2pmap_ctx *ctx, const struct opts *o,
		    json_object *arr, const char *prov, const char *client,
		    int *first)
{
	struct p2pmap_topology t = { .size = sizeof(t) };
	char dist[16];

	if (p2pmap_pci_distance(ctx, prov, client, &t))
		return error(ctx, "topology");
	if (o->json) {
		json_object *e = json_object_new_object();

		add_str(e, "provider", prov);
		add_str(e, "importer", client);
		/* -1 (refused or unknown route): no distance, null */
		add_int_or_null(e, "distance", t.distance);
		add_str(e, "route", p2pmap_route_name(t.route));
		json_object_object_add(e, "common_bridge", t.common[0] ?
				       json_object_new_string(t.common) : NULL);
		json_object_object_add(e, "hops_up", json_object_new_int(t.hops_up));
		json_object_object_add(e, "hops_down", json_object_new_int(t.hops_down));
		add_str(e, "reason", t.reason);
		json_object_array_add(arr, e);
	} else {
		if (*first)
			printf("%-14s %-14s %8s %-13s %-14s %s\n", "PROVIDER", "IMPORTER",
			       "DISTANCE", "ROUTE", "COMMON_BRIDGE", "REASON");
		snprintf(dist, sizeof(dist), "%d", t.distance);
		printf("%-14s %-14s %8s %-13s %-14s %s\n", prov, client, dist,
		       p2pmap_route_name(t.route), t.common[0] ? t.common : "-",
		       t.reason);
	}
	*first = 0;
	return EXIT_SUCCESS;
}

static int cmd_topology(struct p2pmap_ctx *ctx, const struct opts *o)
{
	json_object *root = NULL, *arr = NULL;
	struct p2pmap_provider *p = NULL;
	struct p2pmap_pci_dev *pci = NULL;
	size_t n = 0, npci = 0, i, j;
	int first = 1, rc = EXIT_SUCCESS, k;

	if (o->json)
		root = doc_new("pairs", &arr);
	/* one explicit pair: PCI sysfs only, p2pmap.ko need not be loaded */
	if (o->pair[0]) {
		rc = topo_one(ctx, o, arr, o->pair[0], o->pair[1], &first);
		goto out;
	}
	if (p2pmap_providers(ctx, &p, &n)) {
		json_object_put(root);
		return error(ctx, "topology");
	}
	if (o->all && p2pmap_pci_devices(ctx, &pci, &npci)) {
		free(p);
		json_object_put(root);
		return error(ctx, "topology");
	}
	for (i = 0; i < n && rc == EXIT_SUCCESS; i++) {
		if (!p[i].is_pci)
			continue;
		/* provider pairs */
		for (j = 0; j < n && rc == EXIT_SUCCESS; j++)
			if (j != i && p[j].is_pci)
				rc = topo_one(ctx, o, arr, p[i].device, p[j].device, &first);
		for (k = 0; k < o->nr_importers && rc == EXIT_SUCCESS; k++)
			rc = topo_one(ctx, o, arr, p[i].device, o->importers[k], &first);
		for (j = 0; j < npci && rc == EXIT_SUCCESS; j++) {
			size_t m;
			int seen = 0;

			if (pci[j].is_bridge || !strcmp(pci[j].bdf, p[i].device))
				continue;
			for (m = 0; m < n; m++)
				seen |= p[m].is_pci && !strcmp(p[m].device, pci[j].bdf);
			for (k = 0; k < o->nr_importers; k++)
				seen |= !strcmp(o->importers[k], pci[j].bdf);
			if (!seen)
				rc = topo_one(ctx, o, arr, p[i].device, pci[j].bdf, &first);
		}
	}
	if (!o->json && first && rc == EXIT_SUCCESS)
		printf("(no pairs: need two PCI providers, or --importer/--all)\n");
out:
	free(pci);
	free(p);
	if (root && rc == EXIT_SUCCESS)
		return doc_print(root);
	json_object_put(root);
	return rc;
}

static const struct {
	const char *name;
	int (*fn)(struct p2pmap_ctx *, const struct opts *);
} commands[] = {
	{ "devices", cmd_devices },
	{ "topology", cmd_topology },
	{ "aperture", cmd_aperture },
	{ "imports", cmd_imports },
	{ "counters", cmd_counters },
	{ "features", cmd_features },
};

static int usage(const char *msg)
{
	fprintf(stderr, "p2pmapctl: %s\n"
		"usage: p2pmapctl [--json] [--bytes] [--importer BDF]... [--all]\n"
		"                 [--sysfs-root DIR] [--debugfs-root DIR]\n"
		"                 devices|topology|aperture|imports|counters|features\n"
		"       p2pmapctl [--json] topology PROVIDER_BDF IMPORTER_BDF\n"
		"Try 'p2pmapctl --help'.\n", msg);
	return EXIT_USAGE;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "bytes", no_argument, NULL, 'b' },
		{ "importer", required_argument, NULL, 'i' },
		{ "all", no_argument, NULL, 'a' },
		{ "sysfs-root", required_argument, NULL, 's' },
		{ "debugfs-root", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *sysfs = NULL, *debugfs = NULL;
	struct opts o = { 0 };
	struct p2pmap_ctx *ctx;
	char msg[128];
	size_t i;
	int c, rc;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "jbi:as:d:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'j': o.json = 1; break;
		case 'b': o.bytes = 1; break;
		case 'a': o.all = 1; break;
		case 's': sysfs = optarg; break;
		case 'd': debugfs = optarg; break;
		case 'i':
			if (o.nr_importers == MAX_IMPORTERS)
				return usage("too many --importer options");
			o.importers[o.nr_importers++] = optarg;
			break;
		case 'V':
			printf("%s %s\n", "p2pmapctl", P2PMAP_VERSION);
			return EXIT_SUCCESS;
		case 'h':
			fputs(help_text, stdout);
			return EXIT_SUCCESS;
		default:
			if (optopt)
				snprintf(msg, sizeof(msg), "bad or incomplete option '-%c'", optopt);
			else
				snprintf(msg, sizeof(msg), "bad or incomplete option '%s'",
					 argv[optind - 1]);
			return usage(msg);
		}
	}
	if (optind >= argc)
		return usage("no command given");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[optind], commands[i].name))
			break;
	if (i == sizeof(commands) / sizeof(commands[0])) {
		snprintf(msg, sizeof(msg), "unknown command '%.60s'", argv[optind]);
		return usage(msg);
	}
	if (commands[i].fn == cmd_topology && argc - optind == 3) {
		if (o.nr_importers || o.all)
			return usage("topology PROVIDER IMPORTER takes no --importer or --all");
		o.pair[0] = argv[optind + 1];
		o.pair[1] = argv[optind + 2];
	} else if (optind + 1 < argc) {
		snprintf(msg, sizeof(msg), "unexpected argument '%.60s'", argv[optind + 1]);
		return usage(msg);
	}
	if ((o.nr_importers || o.all) && commands[i].fn != cmd_topology)
		return usage("--importer and --all apply to 'topology' only");
	ctx = p2pmap_ctx_new(sysfs, debugfs);
	if (!ctx) {
		fprintf(stderr, "p2pmapctl: %s\n", strerror(errno));
		return errno == EINVAL ? EXIT_USAGE : EXIT_FAILURE;
	}
	rc = commands[i].fn(ctx, &o);
	p2pmap_ctx_free(ctx);
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "p2pmapctl: writing output: %s\n", strerror(errno));
		rc = EXIT_FAILURE;
	}
	return rc;
}
