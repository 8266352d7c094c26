// SPDX-License-Identifier: GPL-2.0
/*
 * p2pgpu-rdma: run an unmodified RDMA program (perftest) on p2pgpu device
 * memory and report where its memory registration landed. Creates a
 * buffer object, publishes it, appends --mmap=<publish node>
 * --mmap-offset=<offset> to the command, runs it, and samples the object's
 * get_user_pages() pins while it runs: placement BAR (P2PDMA pages of the
 * window) or fallback (system pages, with the reason). With --odp in the
 * command (an On-Demand Paging MR, which pins nothing) the placement is
 * that of the pages the NIC faulted in. See --help.
 * Exit status: the command's, or 1 on error, 2 on usage, 3 when the
 * placement differs from --expect.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <infiniband/verbs.h>

#include <xf86drm.h>

#include "p2pgpu_drm.h"

#define EXIT_USAGE	2
#define EXIT_PLACEMENT	3

static const char help_text[] =
"NAME\n"
"    p2pgpu-rdma - run an RDMA program on p2pgpu device memory and report\n"
"    its placement\n"
"\n"
"SYNOPSIS\n"
"    p2pgpu-rdma [OPTIONS] -- COMMAND [ARGS...]\n"
"\n"
"DESCRIPTION\n"
"    Creates a buffer object on a p2pgpu device, publishes it\n"
"    (DRM_IOCTL_P2PGPU_BO_PUBLISH) and runs COMMAND with\n"
"    --mmap=/dev/p2pgpu/renderD<N> --mmap-offset=<offset> appended, the\n"
"    options perftest (ib_write_bw, ib_read_bw, ib_write_lat, ...) uses to\n"
"    take its buffer from an mmap()ed file; use it with -q 1 (perftest maps\n"
"    only the first buffer). While COMMAND runs, the object's pages pinned\n"
"    by get_user_pages() (the RDMA memory registration) are sampled with\n"
"    DRM_IOCTL_P2PGPU_BO_CPU_INFO, and at the end the placement is\n"
"    printed:\n"
"\n"
"    BAR        the MR pinned P2PDMA pages of the device's window: the\n"
"               NIC reads and writes device memory\n"
"    fallback   the MR pinned system pages standing in for device memory;\n"
"               the reason says why: no_kconfig (kernel without\n"
"               CONFIG_PCI_P2PDMA), register_failed (the BAR could not be\n"
"               registered), window_full (every window slot was pinned)\n"
"    mixed      some pages of each\n"
"    none       no page was seen pinned (COMMAND failed, or ran too short\n"
"               to be sampled)\n"
"\n"
"    If COMMAND has --odp (perftest's On-Demand Paging MR, the way RDMA\n"
"    reaches P2PDMA pages on kernels since 6.2, where get_user_pages()\n"
"    refuses to pin them), nothing is pinned: the NIC faults the pages of\n"
"    the mapping in with hmm_range_fault(). The placement line then says\n"
"    none; the pages resident in the window (BAR) and the CPU-mapped\n"
"    system pages are printed (below), with the device's window evictions\n"
"    and placements during the run: each eviction of a page under the MR\n"
"    is an invalidation the NIC saw.\n"
"\n"
"OPTIONS\n"
"    -r, --render N          use render node /dev/dri/renderD<N> (default:\n"
"                            the first p2pgpu device)\n"
"    -s, --size BYTES        object size (default 4194304; perftest needs\n"
"                            twice its message size)\n"
"    -f, --fill-window IBDEV before COMMAND, create an object as large as\n"
"                            the window and register it with IBDEV (e.g.\n"
"                            rxe0): its MR pins every window slot, so\n"
"                            COMMAND's registration falls back\n"
"    -E, --evict             while COMMAND runs, a child process cycles\n"
"                            the whole window with CPU faults on an object\n"
"                            as large as the window, so pages of COMMAND's\n"
"                            object are evicted under traffic (needs\n"
"                            p2pgpu min_residency_ms=0; meant for --odp:\n"
"                            the NIC sees each eviction as an invalidation\n"
"                            and faults the page back)\n"
"    -e, --expect WHAT       exit 3 unless the placement is WHAT (bar or\n"
"                            fallback)\n"
"    -n, --dry-run           print the command line and exit\n"
"    -h, --help              print this help and exit\n"
"    -V, --version           print the version and exit\n"
"\n"
"OUTPUT\n"
"    Lines starting with \"p2pgpu-rdma:\" on stderr: the command line, then\n"
"    \"placement <what> (reason <r>): <n> BAR pages, <m> system pages\n"
"    pinned\", then \"resident during the run: up to <w> pages in the\n"
"    window (P2PDMA), up to <s> pages CPU-mapped as system memory\": what\n"
"    a registration that pins nothing (an ODP MR, --odp) reached through\n"
"    the object's CPU mapping. With --odp a line \"odp: <e> window\n"
"    evictions, <p> placements on the device during the run\" follows.\n"
"\n"
"SIGNALS\n"
"    SIGTERM, SIGINT and SIGHUP are passed on to COMMAND.\n"
"\n"
"EXIT STATUS\n"
"    COMMAND's exit status (128+signal if killed), 1 on error, 2 on a\n"
"    usage error, 3 if the placement is not the one --expect asked for.\n"
"\n"
"EXAMPLE\n"
"    ib_write_bw server on device memory, client on host memory, over one\n"
"    Soft-RoCE device in loopback:\n"
"        p2pgpu-rdma --expect bar -- ib_write_bw -d rxe0 -x 1 -q 1 -F &\n"
"        ib_write_bw -d rxe0 -x 1 -q 1 -F 127.0.0.1\n"
"\n"
"SEE ALSO\n"
"    docs/rdma-guide.md, ib_write_bw(1)\n";

static const char *const fallback_names[] = {
	[P2PGPU_FALLBACK_NONE] = "none",
	[P2PGPU_FALLBACK_NO_KCONFIG] = "no_kconfig",
	[P2PGPU_FALLBACK_REGISTER_FAILED] = "register_failed",
	[P2PGPU_FALLBACK_WINDOW_FULL] = "window_full",
	[P2PGPU_FALLBACK_PINNED_DEVICE] = "pinned_device",
	[P2PGPU_FALLBACK_UNPORTED] = "p2pdma_unported",
};

static volatile pid_t child_pid;

/* SIGTERM/SIGINT/SIGHUP: pass it on to COMMAND, then report as usual. */
static void forward_signal(int sig)
{
	if (child_pid > 0)
		kill(child_pid, sig);
}

/* Is render node @minor driven by p2pgpu? */
static bool is_p2pgpu(int minor)
{
	char path[96], link[256];
	ssize_t l;

	snprintf(path, sizeof(path), "/sys/class/drm/renderD%d/device/driver",
		 minor);
	l = readlink(path, link, sizeof(link) - 1);
	if (l <= 0)
		return false;
	link[l] = 0;
	return !strcmp(strrchr(link, '/') ? strrchr(link, '/') + 1 : link,
		       "p2pgpu");
}

/* Open /dev/<dir>/<name>, creating it from @sysdev ("M:m") if missing. */
static int open_node(const char *dir, const char *name, const char *sysdev)
{
	char path[128];
	unsigned int ma, mi;
	FILE *f;
	int fd;

	snprintf(path, sizeof(path), "/dev/%s/%s", dir, name);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd >= 0 || errno != ENOENT)
		return fd;
	f = fopen(sysdev, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%u:%u", &ma, &mi) != 2) {
		fclose(f);
		errno = ENODEV;
		return -1;
	}
	fclose(f);
	snprintf(path, sizeof(path), "/dev/%s", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "/dev/%s/%s", dir, name);
	if (mknod(path, S_IFCHR | 0600, makedev(ma, mi)) && errno != EEXIST)
		return -1;
	return open(path, O_RDWR | O_CLOEXEC);
}

static int open_render(int minor)
{
	char name[32], sys[96];

	snprintf(name, sizeof(name), "renderD%d", minor);
	snprintf(sys, sizeof(sys), "/sys/class/drm/%s/dev", name);
	return open_node("dri", name, sys);
}

static int open_pub(int minor, char *path, size_t len)
{
	char name[32], sys[96];

	snprintf(name, sizeof(name), "renderD%d", minor);
	snprintf(sys, sizeof(sys), "/sys/class/misc/p2pgpu!%s/dev", name);
	snprintf(path, len, "/dev/p2pgpu/%s", name);
	return open_node("p2pgpu", name, sys);
}

static int bo_create(int fd, uint64_t size, uint32_t *handle)
{
	struct drm_p2pgpu_bo_create c = { .size = size };

	if (drmIoctl(fd, DRM_IOCTL_P2PGPU_BO_CREATE, &c))
		return -errno;
	*handle = c.handle;
	return 0;
}

static void *bo_map(int fd, uint32_t handle, uint64_t size)
{
	struct drm_p2pgpu_bo_mmap_offset m = { .handle = handle };
	void *p;

	if (drmIoctl(fd, DRM_IOCTL_P2PGPU_BO_MMAP_OFFSET, &m))
		return NULL;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, m.offset);
	return p == MAP_FAILED ? NULL : p;
}

/*
 * --evict: a child that touches every page of a window-sized object until
 * killed; each CPU fault takes a window slot and evicts the least recently
 * placed page, COMMAND's included. Returns the child's pid, or -errno.
 */
static pid_t start_evictor(int fd)
{
	struct drm_p2pgpu_device_info di;
	volatile uint8_t *p;
	uint32_t handle;
	uint64_t off;
	pid_t pid;

	memset(&di, 0, sizeof(di));
	if (drmIoctl(fd, DRM_IOCTL_P2PGPU_DEVICE_INFO, &di))
		return -errno;
	if (di.min_residency_ms)
		fprintf(stderr, "p2pgpu-rdma: --evict: min_residency_ms=%" PRIu64 ": pages younger than that stay\n",
			(uint64_t)di.min_residency_ms);
	if (bo_create(fd, di.window_total, &handle))
		return -errno;
	p = bo_map(fd, handle, di.window_total);
	if (!p)
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		/* never outlive p2pgpu-rdma, whatever way it exits */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() == 1)
			_exit(0);
		for (uint8_t pass = 0;; pass++)
			for (off = 0; off < di.window_total; off += 4096)
				p[off] = pass;
	}
	return pid;
}

/* The window pinned by an MR of IBDEV, held until exit. */
static int fill_window(int fd, const char *ibdev)
{
	struct drm_p2pgpu_device_info di;
	struct ibv_device **list;
	struct ibv_context *ctx = NULL;
	struct ibv_pd *pd;
	uint32_t handle;
	void *p;
	int i, n;

	memset(&di, 0, sizeof(di));
	if (drmIoctl(fd, DRM_IOCTL_P2PGPU_DEVICE_INFO, &di))
		return -errno;
	if (bo_create(fd, di.window_total, &handle))
		return -errno;
	p = bo_map(fd, handle, di.window_total);
	if (!p)
		return -errno;
	list = ibv_get_device_list(&n);
	for (i = 0; list && i < n; i++)
		if (!strcmp(ibv_get_device_name(list[i]), ibdev))
			ctx = ibv_open_device(list[i]);
	if (list)
		ibv_free_device_list(list);
	if (!ctx)
		return -ENODEV;
	pd = ibv_alloc_pd(ctx);
	if (!pd)
		return -errno;
	if (!ibv_reg_mr(pd, p, di.window_total, IBV_ACCESS_LOCAL_WRITE))
		return -errno;
	fprintf(stderr, "p2pgpu-rdma: window filled: %" PRIu64 " bytes registered with %s\n",
		(uint64_t)di.window_total, ibdev);
	return 0;
}

/*
 * Maxima over the run: pages pinned by get_user_pages() (a pinned MR) in
 * the window (bar) and in system memory (sys); and, for registrations that
 * pin nothing (ODP MRs fault pages in through the CPU mapping), pages
 * placed in the window (win) and pages the CPU mapping maps as system
 * memory (cpu_sys). odp: COMMAND has --odp.
 */
struct sample {
	bool odp;
	uint64_t bar, sys, win, cpu_sys;
	uint32_t fallback, cpu_map;
};

static int sample(int fd, uint32_t handle, struct sample *s)
{
	struct drm_p2pgpu_bo_cpu_info ci;
	struct drm_p2pgpu_bo_info bi;

	memset(&ci, 0, sizeof(ci));
	ci.handle = handle;
	if (drmIoctl(fd, DRM_IOCTL_P2PGPU_BO_CPU_INFO, &ci))
		return -errno;
	if (ci.pages_gup_window > s->bar)
		s->bar = ci.pages_gup_window;
	if (ci.pages_gup_system > s->sys)
		s->sys = ci.pages_gup_system;
	if (ci.pages_cpu_system > s->cpu_sys)
		s->cpu_sys = ci.pages_cpu_system;
	if (ci.fallback)
		s->fallback = ci.fallback;
	s->cpu_map = ci.cpu_map;
	memset(&bi, 0, sizeof(bi));
	bi.handle = handle;
	if (drmIoctl(fd, DRM_IOCTL_P2PGPU_BO_INFO, &bi))
		return -errno;
	if (bi.pages_window > s->win)
		s->win = bi.pages_window;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "render", required_argument, NULL, 'r' },
		{ "size", required_argument, NULL, 's' },
		{ "fill-window", required_argument, NULL, 'f' },
		{ "expect", required_argument, NULL, 'e' },
		{ "evict", no_argument, NULL, 'E' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct drm_p2pgpu_device_info d0, d1;
	const char *fill = NULL, *expect = NULL, *what;
	char pub[64], mmap_arg[96], off_arg[48];
	struct drm_p2pgpu_bo_publish pb;
	struct sample s = { 0 };
	uint64_t size = 4ULL << 20;
	int minor = -1, fd = -1, pfd, c, i, status, ret;
	bool dry = false, evict = false;
	pid_t evictor = 0;
	uint32_t handle;
	char **cmd;
	pid_t pid;

	while ((c = getopt_long(argc, argv, "+r:s:f:e:EnhV", opts, NULL)) != -1) {
		char *end;

		switch (c) {
		case 'r':
			minor = (int)strtol(optarg, &end, 0);
			if (*end || minor < 0) {
				fprintf(stderr, "p2pgpu-rdma: bad render node '%s'\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case 's':
			errno = 0;
			size = strtoull(optarg, &end, 0);
			if (errno || *end || !size) {
				fprintf(stderr, "p2pgpu-rdma: bad size '%s'\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'f':
			fill = optarg;
			break;
		case 'e':
			expect = optarg;
			if (strcmp(expect, "bar") && strcmp(expect, "fallback")) {
				fprintf(stderr, "p2pgpu-rdma: --expect bar or fallback\n");
				return EXIT_USAGE;
			}
			break;
		case 'n':
			dry = true;
			break;
		case 'E':
			evict = true;
			break;
		case 'V':
			printf("%s %s\n", "p2pgpu-rdma", P2PMAP_VERSION);
			return EXIT_SUCCESS;
		case 'h':
			fputs(help_text, stdout);
			return 0;
		default:
			fputs("Try 'p2pgpu-rdma --help'.\n", stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fputs("p2pgpu-rdma: no COMMAND (see --help)\n", stderr);
		return EXIT_USAGE;
	}

	for (i = minor < 0 ? 128 : minor; i < (minor < 0 ? 192 : minor + 1); i++) {
		if (!is_p2pgpu(i))
			continue;
		fd = open_render(i);
		if (fd >= 0) {
			minor = i;
			break;
		}
	}
	if (fd < 0) {
		fprintf(stderr, "p2pgpu-rdma: no p2pgpu render node (is p2pgpu.ko loaded?)\n");
		return 1;
	}
	pfd = open_pub(minor, pub, sizeof(pub));
	if (pfd < 0) {
		fprintf(stderr, "p2pgpu-rdma: cannot open the publish node %s: %s\n",
			pub, strerror(errno));
		return 1;
	}
	close(pfd);	/* only checked: COMMAND opens it itself */
	if (fill) {
		ret = fill_window(fd, fill);
		if (ret) {
			fprintf(stderr, "p2pgpu-rdma: --fill-window %s: %s\n",
				fill, strerror(-ret));
			return 1;
		}
	}
	ret = bo_create(fd, size, &handle);
	if (ret) {
		fprintf(stderr, "p2pgpu-rdma: BO_CREATE of %" PRIu64 " bytes: %s\n",
			size, strerror(-ret));
		return 1;
	}
	memset(&pb, 0, sizeof(pb));
	pb.handle = handle;
	if (drmIoctl(fd, DRM_IOCTL_P2PGPU_BO_PUBLISH, &pb)) {
		fprintf(stderr, "p2pgpu-rdma: BO_PUBLISH: %s\n", strerror(errno));
		return 1;
	}
	snprintf(mmap_arg, sizeof(mmap_arg), "--mmap=%s", pub);
	snprintf(off_arg, sizeof(off_arg), "--mmap-offset=%" PRIu64,
		 (uint64_t)pb.offset);
	cmd = calloc((size_t)(argc - optind) + 3, sizeof(*cmd));
	if (!cmd)
		return 1;
	for (i = optind; i < argc; i++) {
		cmd[i - optind] = argv[i];
		if (!strcmp(argv[i], "--odp"))
			s.odp = true;
	}
	cmd[argc - optind] = mmap_arg;
	cmd[argc - optind + 1] = off_arg;
	fprintf(stderr, "p2pgpu-rdma: object of %" PRIu64 " bytes on renderD%d, running:",
		size, minor);
	for (i = 0; cmd[i]; i++)
		fprintf(stderr, " %s", cmd[i]);
	fputc('\n', stderr);
	if (dry)
		return 0;

	if (evict) {
		evictor = start_evictor(fd);
		if (evictor < 0) {
			fprintf(stderr, "p2pgpu-rdma: --evict: %s\n", strerror(-evictor));
			return 1;
		}
	}
	memset(&d0, 0, sizeof(d0));
	if (drmIoctl(fd, DRM_IOCTL_P2PGPU_DEVICE_INFO, &d0))
		return 1;
	pid = fork();
	if (pid < 0)
		return 1;
	if (pid > 0) {
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = forward_signal;
		child_pid = pid;
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGHUP, &sa, NULL);
	}
	if (pid == 0) {
		execvp(cmd[0], cmd);
		fprintf(stderr, "p2pgpu-rdma: exec %s: %s\n", cmd[0], strerror(errno));
		_exit(127);
	}
	for (;;) {
		struct timespec ts = { 0, 20 * 1000 * 1000 };

		sample(fd, handle, &s);
		ret = waitpid(pid, &status, WNOHANG);
		if (ret == pid)
			break;
		if (ret < 0 && errno != EINTR)
			return 1;
		nanosleep(&ts, NULL);
	}
	if (evictor > 0) {
		kill(evictor, SIGKILL);
		waitpid(evictor, NULL, 0);
	}
	what = s.bar && s.sys ? "mixed" : s.bar ? "bar" : s.sys ? "fallback" : "none";
	fprintf(stderr, "p2pgpu-rdma: placement %s (reason %s): %" PRIu64 " BAR pages, %" PRIu64 " system pages pinned\n",
		what, s.fallback < sizeof(fallback_names) / sizeof(*fallback_names) ?
		fallback_names[s.fallback] : "?", s.bar, s.sys);
	fprintf(stderr, "p2pgpu-rdma: resident during the run: up to %" PRIu64 " pages in the window (P2PDMA), up to %" PRIu64 " pages CPU-mapped as system memory\n",
		s.win, s.cpu_sys);
	memset(&d1, 0, sizeof(d1));
	if (s.odp && !drmIoctl(fd, DRM_IOCTL_P2PGPU_DEVICE_INFO, &d1))
		fprintf(stderr, "p2pgpu-rdma: odp: %" PRIu64 " window evictions, %" PRIu64 " placements on the device during the run\n",
			(uint64_t)(d1.evictions - d0.evictions),
			(uint64_t)(d1.placements - d0.placements));
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	ret = WEXITSTATUS(status);
	if (!ret && expect && strcmp(expect, what)) {
		fprintf(stderr, "p2pgpu-rdma: expected placement %s\n", expect);
		return EXIT_PLACEMENT;
	}
	return ret;
}
