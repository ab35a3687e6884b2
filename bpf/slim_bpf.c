/* Loader for the BPF objects: wraps the bpftool skeleton (slim.skel.h). */
#include "slim_bpf.h"
#include "slim_bpf_priv.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/magic.h>

/* The kernel's ENOTSUPP (not in userspace errno.h): an LSM hook bpf is not
 * active for. */
#define ENOTSUPP_LSM 524

#include "slim.skel.h"
#include "slim_maps.h"

struct slim_bpf {
	struct slim_skel *skel;
	bool pinned;
	char pin_dir[PATH_MAX];
	char reuse_dir[PATH_MAX]; /* set when loaded against pinned maps */
	unsigned routes_replaced; /* size of a pinned routes trie not reused */
	bool guards_lsm;	  /* the kernel loads BPF LSM programs: the guards are on */
	/* sock_create matches the thread by its id in the initial pid
	 * namespace: the kernel has no bpf_get_ns_current_pid_tgid for
	 * cgroup programs (before Linux 6.10). */
	bool stamp_initns;
};

/* The programs attached to the router's cgroup, and the pin names of their
 * links (kept across router restarts). */
enum cg_prog {
	CG_SOCKOPS,
	CG_CONNECT4,
	CG_GETSOCKNAME4,
	CG_GETPEERNAME4,
	CG_BIND4,
	CG_GETSOCKOPT,
	CG_SETSOCKOPT,
	CG_SOCK_CREATE,
	CG_COUNT
};
/* Pin names this router never creates but may find in a pin dir a router of
 * another version left (a sockops link kept at a clean stop, an "intent"
 * map): removed wherever we clean up, so an upgrade does not leave that
 * program attached or the pin dir behind. */
static const char *const foreign_pins[] = {"sockops-link", "intent"};
static const char *const link_names[CG_COUNT] = {
    [CG_SOCKOPS] = "link-sockops",
    [CG_CONNECT4] = "link-connect4",
    [CG_GETSOCKNAME4] = "link-getsockname4",
    [CG_GETPEERNAME4] = "link-getpeername4",
    [CG_BIND4] = "link-bind4",
    [CG_GETSOCKOPT] = "link-getsockopt",
    [CG_SETSOCKOPT] = "link-setsockopt",
    [CG_SOCK_CREATE] = "link-sock-create",
};

/* The BPF LSM programs that guard the host sockets apps hold
 * (guard.bpf.c): attached with the cgroup programs, pinned with them (so
 * they guard while no router runs), and released with them. An LSM link
 * cannot take another program in place: a restarted router attaches its
 * own and its pin replaces the previous router's, whose program then
 * detaches (both judge alike meanwhile). */
enum guard_prog { GUARD_LISTEN, GUARD_SETSOCKOPT, GUARD_IOCTL, GUARD_IOCTL_COMPAT, GUARD_COUNT };
static const char *const guard_link_names[GUARD_COUNT] = {
    [GUARD_LISTEN] = "link-guard-listen",
    [GUARD_SETSOCKOPT] = "link-guard-setsockopt",
    [GUARD_IOCTL] = "link-guard-ioctl",
    [GUARD_IOCTL_COMPAT] = "link-guard-ioctl-compat",
};

static struct bpf_link **guard_link_of(const struct slim_bpf *b, enum guard_prog g)
{
	switch (g) {
	case GUARD_LISTEN:
		return &b->skel->links.slim_guard_listen;
	case GUARD_SETSOCKOPT:
		return &b->skel->links.slim_guard_setsockopt;
	case GUARD_IOCTL:
		return &b->skel->links.slim_guard_ioctl;
	default:
		return &b->skel->links.slim_guard_ioctl_compat;
	}
}

static struct bpf_program *guard_prog_of(const struct slim_bpf *b, enum guard_prog g)
{
	switch (g) {
	case GUARD_LISTEN:
		return b->skel->progs.slim_guard_listen;
	case GUARD_SETSOCKOPT:
		return b->skel->progs.slim_guard_setsockopt;
	case GUARD_IOCTL:
		return b->skel->progs.slim_guard_ioctl;
	default:
		return b->skel->progs.slim_guard_ioctl_compat;
	}
}

/* Pin file names under the pin directory, indexed by enum slim_map. */
static const char *const map_names[SLIM_MAP_COUNT] = {
    [SLIM_MAP_LISTENERS] = "listeners",
    [SLIM_MAP_OWNER] = "owner",
    [SLIM_MAP_PEER] = "peer",
    [SLIM_MAP_ROUTES] = "routes",
    /* optional in a reused pin set (map_optional) */
    [SLIM_MAP_APP_OPTS] = "app_opts",
    [SLIM_MAP_NAT] = "nat",
    [SLIM_MAP_CTR_IFS] = "ctr_ifs",
    [SLIM_MAP_PATH_STATS] = "path_stats",
    [SLIM_MAP_NAT_PORTS] = "nat_ports",
    [SLIM_MAP_LIVE] = "live",
    [SLIM_MAP_HOSTS] = "hosts",
    [SLIM_MAP_REFUSED] = "refused",
    [SLIM_MAP_TW] = "tw",
};

/* app_opts holds only what apps set (no record reads as the options'
 * defaults), so a pin set without it, left by a router that had no such
 * map, is still reused, with a fresh, empty app_opts: the listeners it
 * keeps alive survive the upgrade. The same goes for the translation's
 * maps (a router before it had none: no connection relies on them; the
 * router refills ctr_ifs at start). But nat and nat_ports go together: a
 * fresh nat_ports next to a reused nat would hide the reused connections
 * from the tc programs, so a nat without nat_ports is not reused either. live
 * is rewritten from the router's registry at every start, so a fresh one
 * is as good. hosts (the router refills it at start, and it only names the
 * reason of a refusal) and refused (counters) are optional too, and so is
 * tw: without it the TIME_WAITs noted before the restart are forgotten (a
 * listener closed in the next minute lets its port go at once), nothing
 * worse. Every other map is required. */
static bool map_optional(enum slim_map m)
{
	return m == SLIM_MAP_APP_OPTS || m == SLIM_MAP_NAT || m == SLIM_MAP_CTR_IFS ||
	       m == SLIM_MAP_PATH_STATS || m == SLIM_MAP_NAT_PORTS || m == SLIM_MAP_LIVE ||
	       m == SLIM_MAP_HOSTS || m == SLIM_MAP_REFUSED || m == SLIM_MAP_TW;
}

static struct bpf_program *prog_of(const struct slim_bpf *b, enum cg_prog p)
{
	switch (p) {
	case CG_SOCKOPS:
		return b->skel->progs.slim_sockops;
	case CG_CONNECT4:
		return b->skel->progs.slim_connect4;
	case CG_GETSOCKNAME4:
		return b->skel->progs.slim_getsockname4;
	case CG_BIND4:
		return b->skel->progs.slim_bind4;
	case CG_GETSOCKOPT:
		return b->skel->progs.slim_getsockopt;
	case CG_SETSOCKOPT:
		return b->skel->progs.slim_setsockopt;
	case CG_SOCK_CREATE:
		return b->stamp_initns ? b->skel->progs.slim_sock_create_initns
				       : b->skel->progs.slim_sock_create;
	default:
		return b->skel->progs.slim_getpeername4;
	}
}

static struct bpf_link **link_of(const struct slim_bpf *b, enum cg_prog p)
{
	switch (p) {
	case CG_SOCKOPS:
		return &b->skel->links.slim_sockops;
	case CG_CONNECT4:
		return &b->skel->links.slim_connect4;
	case CG_GETSOCKNAME4:
		return &b->skel->links.slim_getsockname4;
	case CG_BIND4:
		return &b->skel->links.slim_bind4;
	case CG_GETSOCKOPT:
		return &b->skel->links.slim_getsockopt;
	case CG_SETSOCKOPT:
		return &b->skel->links.slim_setsockopt;
	case CG_SOCK_CREATE:
		return b->stamp_initns ? &b->skel->links.slim_sock_create_initns
				       : &b->skel->links.slim_sock_create;
	default:
		return &b->skel->links.slim_getpeername4;
	}
}

/* dir/name into out. Returns 0, or -1 (ENAMETOOLONG). */
static int join_path(char *out, size_t outlen, const char *dir, const char *name)
{
	int n = snprintf(out, outlen, "%s/%s", dir, name);

	if (n < 0 || (size_t)n >= outlen) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* Removes the link pins under dir, ours and foreign_pins (ignoring
 * missing ones). */
static void unpin_links(const char *dir)
{
	char path[PATH_MAX];

	for (int p = 0; p < CG_COUNT; p++)
		if (join_path(path, sizeof(path), dir, link_names[p]) == 0)
			unlink(path);
	for (int g = 0; g < GUARD_COUNT; g++)
		if (join_path(path, sizeof(path), dir, guard_link_names[g]) == 0)
			unlink(path);
	for (size_t l = 0; l < sizeof(foreign_pins) / sizeof(foreign_pins[0]); l++)
		if (join_path(path, sizeof(path), dir, foreign_pins[l]) == 0)
			unlink(path);
}

/* libbpf prints debug and info chatter by default; keep warnings and errors
 * (they carry the verifier log when a program is rejected). */
static int print_cb(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level > LIBBPF_WARN)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static struct bpf_map *map_of(const struct slim_bpf *b, enum slim_map m)
{
	if (!b || !b->skel)
		return NULL;
	switch (m) {
	case SLIM_MAP_LISTENERS:
		return b->skel->maps.listeners;
	case SLIM_MAP_OWNER:
		return b->skel->maps.owner;
	case SLIM_MAP_PEER:
		return b->skel->maps.peer;
	case SLIM_MAP_ROUTES:
		return b->skel->maps.routes;
	case SLIM_MAP_APP_OPTS:
		return b->skel->maps.app_opts;
	case SLIM_MAP_NAT:
		return b->skel->maps.nat;
	case SLIM_MAP_CTR_IFS:
		return b->skel->maps.ctr_ifs;
	case SLIM_MAP_PATH_STATS:
		return b->skel->maps.path_stats;
	case SLIM_MAP_NAT_PORTS:
		return b->skel->maps.nat_ports;
	case SLIM_MAP_LIVE:
		return b->skel->maps.live;
	case SLIM_MAP_HOSTS:
		return b->skel->maps.hosts;
	case SLIM_MAP_REFUSED:
		return b->skel->maps.refused;
	case SLIM_MAP_TW:
		return b->skel->maps.tw;
	default:
		return NULL;
	}
}

static const char *load_hint(int e)
{
	if (e == EPERM)
		return geteuid() ? "run as root" : "needs CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON";
	return "see the libbpf messages above";
}

static int pin_path(char *out, size_t outlen, const char *dir, enum slim_map m);

/* Does the pinned map behind fd match map's definition in this build?
 * Returns 1, or 0 with the first difference in why. We compare ourselves
 * instead of relying on libbpf: bpf_map__reuse_fd takes any map fd, and a
 * mismatch would only surface as a verifier error or, worse, a program
 * reading a map of another layout. */
static int map_compatible(struct bpf_map *map, int fd, char *why, size_t whylen)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		snprintf(why, whylen, "cannot query it: %s", strerror(errno));
		return 0;
	}
	if (info.type != (__u32)bpf_map__type(map) || info.key_size != bpf_map__key_size(map) ||
	    info.value_size != bpf_map__value_size(map) ||
	    info.max_entries != bpf_map__max_entries(map) ||
	    info.map_flags != bpf_map__map_flags(map)) {
		snprintf(why, whylen,
			 "type %u key %u value %u entries %u flags %#x, this build wants %u %u %u "
			 "%u %#x",
			 info.type, info.key_size, info.value_size, info.max_entries,
			 info.map_flags, (unsigned)bpf_map__type(map), bpf_map__key_size(map),
			 bpf_map__value_size(map), bpf_map__max_entries(map),
			 bpf_map__map_flags(map));
		return 0;
	}
	return 1;
}

/* Opens, optionally points the maps at the pins under reuse_dir, loads:
 * with the BPF LSM guards if the kernel has BPF LSM programs, and if the
 * load itself then fails, once more without them (the router says so:
 * slim_bpf_guards_lsm), rather than no router at all. */
static struct slim_bpf *load_once(const char *reuse_dir, bool lsm, bool *at_load, char *err,
				  size_t errlen);

static struct slim_bpf *load(const char *reuse_dir, char *err, size_t errlen)
{
	bool lsm, at_load = false;
	struct slim_bpf *b;

	libbpf_set_print(print_cb);
	lsm = libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_LSM, NULL) == 1;
	b = load_once(reuse_dir, lsm, &at_load, err, errlen);
	if (!b && lsm && at_load) {
		fprintf(stderr, "slim-router: %s; loading without the BPF LSM guards\n", err);
		b = load_once(reuse_dir, false, &at_load, err, errlen);
	}
	return b;
}

static struct slim_bpf *load_once(const char *reuse_dir, bool lsm, bool *at_load, char *err,
				  size_t errlen)
{
	char path[PATH_MAX], why[256];
	struct slim_bpf *b;
	int ret;

	b = calloc(1, sizeof(*b));
	if (!b) {
		snprintf(err, errlen, "cannot load BPF programs: %s", strerror(errno));
		return NULL;
	}
	b->skel = slim_skel__open();
	if (!b->skel) {
		int e = errno;
		snprintf(err, errlen, "cannot open BPF objects: %s (%s)", strerror(e),
			 load_hint(e));
		free(b);
		return NULL;
	}
	/* A kernel without BPF LSM programs (not built in, bpf not in its
	 * lsm= list, or one that refuses trampoline programs) still runs
	 * everything else: the guards that need them are left out. */
	b->guards_lsm = lsm;
	for (int g = 0; !b->guards_lsm && g < GUARD_COUNT; g++)
		bpf_program__set_autoload(guard_prog_of(b, (enum guard_prog)g), false);
	/* One of the two sock_create programs (bpf/sock_create.bpf.c). */
	/* SLIM_STAMP_INITNS=1 takes the fallback on any kernel (tests). */
	b->stamp_initns =
	    libbpf_probe_bpf_helper(BPF_PROG_TYPE_CGROUP_SOCK, BPF_FUNC_get_ns_current_pid_tgid,
				    NULL) != 1 ||
	    (getenv("SLIM_STAMP_INITNS") && strcmp(getenv("SLIM_STAMP_INITNS"), "1") == 0);
	bpf_program__set_autoload(b->stamp_initns ? b->skel->progs.slim_sock_create
						  : b->skel->progs.slim_sock_create_initns,
				  false);
	for (int m = 0; reuse_dir && m < SLIM_MAP_COUNT; m++) {
		struct bpf_map *map = map_of(b, (enum slim_map)m);
		int fd = -1;

		if (map_optional((enum slim_map)m) &&
		    pin_path(path, sizeof(path), reuse_dir, (enum slim_map)m) == 0 &&
		    access(path, F_OK) != 0)
			continue; /* not pinned: a fresh one next to the reused maps */
		if (m == SLIM_MAP_NAT &&
		    (pin_path(path, sizeof(path), reuse_dir, SLIM_MAP_NAT_PORTS) ||
		     access(path, F_OK) != 0))
			continue; /* see map_optional */
		if (pin_path(path, sizeof(path), reuse_dir, (enum slim_map)m) ||
		    (fd = bpf_obj_get(path)) < 0) {
			snprintf(err, errlen, "cannot open pinned map %s: %s (%s)", path,
				 strerror(errno), load_hint(errno));
			goto fail;
		}
		if (m == SLIM_MAP_ROUTES && !map_compatible(map, fd, why, sizeof(why))) {
			/* The router rewrites every route at start: an old
			 * trie (another size, say) is simply not taken over.
			 * Our pin replaces it; the old programs keep theirs
			 * until the links are swapped to ours. */
			struct bpf_map_info info = {0};
			__u32 len = sizeof(info);
			b->routes_replaced =
			    bpf_obj_get_info_by_fd(fd, &info, &len) == 0 ? info.max_entries : 1;
			close(fd);
			continue;
		}
		if (!map_compatible(map, fd, why, sizeof(why))) {
			snprintf(err, errlen,
				 "maps pinned in %s do not match this slim-router (%s: %s); "
				 "remove %s if no slim app still listens on this host",
				 reuse_dir, map_names[m], why, reuse_dir);
			close(fd);
			goto fail;
		}
		/* reuse_fd dups fd: the map keeps its own copy. */
		ret = bpf_map__reuse_fd(map, fd);
		close(fd);
		if (ret) {
			snprintf(err, errlen, "cannot reuse pinned map %s: %s", path,
				 strerror(ret < 0 ? -ret : EINVAL));
			goto fail;
		}
	}
	if (reuse_dir)
		snprintf(b->reuse_dir, sizeof(b->reuse_dir), "%s", reuse_dir);
	ret = slim_skel__load(b->skel);
	if (ret) {
		*at_load = true;
		int e = ret < 0 ? -ret : EINVAL;
		if (reuse_dir)
			snprintf(err, errlen,
				 "cannot load BPF programs with the maps pinned in %s: %s; remove "
				 "%s if no slim app still listens on this host",
				 reuse_dir, strerror(e), reuse_dir);
		else
			snprintf(err, errlen, "cannot load BPF programs: %s (%s)", strerror(e),
				 load_hint(e));
		goto fail;
	}
	return b;
fail:
	slim_skel__destroy(b->skel);
	free(b);
	return NULL;
}

struct slim_bpf *slim_bpf_load(char *err, size_t errlen)
{
	return load(NULL, err, errlen);
}

struct slim_bpf *slim_bpf_load_reusing(const char *dir, enum slim_pins *pins, char *err,
				       size_t errlen)
{
	char path[PATH_MAX];
	int present = 0, required = 0;

	*pins = SLIM_PINS_NONE;
	for (int m = 0; m < SLIM_MAP_COUNT; m++) {
		bool here = pin_path(path, sizeof(path), dir, (enum slim_map)m) == 0 &&
			    access(path, F_OK) == 0;

		if (!map_optional((enum slim_map)m)) {
			required++;
			present += here;
		}
	}
	if (present == required) {
		*pins = SLIM_PINS_REUSED;
		return load(dir, err, errlen);
	}
	if (present > 0) {
		/* A half-made pin set cannot be what live listeners rely on
		 * (the listeners map alone is useless without owner/peer):
		 * start over. */
		*pins = SLIM_PINS_PARTIAL;
		for (int m = 0; m < SLIM_MAP_COUNT; m++)
			if (pin_path(path, sizeof(path), dir, (enum slim_map)m) == 0)
				unlink(path);
	}
	/* Kept links without their maps are of no use: unpinning them
	 * detaches their programs. */
	unpin_links(dir);
	return load(NULL, err, errlen);
}

/* The link of program p that a previous router pinned in the pin dir we
 * reuse (see slim_bpf_keep_attached), now running our program, or NULL.
 * Swapping the program inside the live link (BPF_LINK_UPDATE) leaves no
 * instant without it on the cgroup. The link stays pinned. A link we cannot
 * update is released (unpinned and closed, which detaches it). */
static struct bpf_link *adopt_kept_link(struct slim_bpf *b, int cgroup_fd, enum cg_prog p)
{
	struct bpf_link_info info;
	__u32 len = sizeof(info);
	char path[PATH_MAX];
	struct bpf_link *link;
	struct stat st;

	if (!b->reuse_dir[0] || join_path(path, sizeof(path), b->reuse_dir, link_names[p]))
		return NULL;
	link = bpf_link__open(path);
	if (!link)
		return NULL;
	/* Only a link on this very cgroup (a cgroup v2 id is its inode). */
	memset(&info, 0, sizeof(info));
	if (fstat(cgroup_fd, &st) != 0 ||
	    bpf_obj_get_info_by_fd(bpf_link__fd(link), &info, &len) != 0 ||
	    info.type != BPF_LINK_TYPE_CGROUP || info.cgroup.cgroup_id != (__u64)st.st_ino ||
	    bpf_link__update_program(link, prog_of(b, p)) != 0) {
		bpf_link__unpin(link);
		bpf_link__destroy(link);
		return NULL;
	}
	return link;
}

int slim_bpf_attach_cgroup(struct slim_bpf *b, int cgroup_fd, char *err, size_t errlen)
{
	if (!b || !b->skel) {
		snprintf(err, errlen, "cannot attach to the cgroup: %s (load first)",
			 strerror(EINVAL));
		return -1;
	}
	for (int p = 0; p < CG_COUNT; p++) {
		struct bpf_link **slot = link_of(b, (enum cg_prog)p), *link;
		const char *what = bpf_program__name(prog_of(b, (enum cg_prog)p));

		if (*slot) {
			snprintf(err, errlen, "cannot attach %s: %s (already attached)", what,
				 strerror(EBUSY));
			return -1;
		}
		link = adopt_kept_link(b, cgroup_fd, (enum cg_prog)p);
		if (!link)
			link = bpf_program__attach_cgroup(prog_of(b, (enum cg_prog)p), cgroup_fd);
		if (!link) {
			int e = errno;
			snprintf(err, errlen, "cannot attach %s to the cgroup: %s (%s)", what,
				 strerror(e),
				 e == EBADF || e == ENOTDIR ? "pass an fd of a cgroup v2 directory"
							    : load_hint(e));
			return -1;
		}
		*slot = link;
	}
	for (int g = 0; b->guards_lsm && g < GUARD_COUNT; g++) {
		struct bpf_link **slot = guard_link_of(b, (enum guard_prog)g);

		if (*slot)
			continue;
		*slot = bpf_program__attach_lsm(guard_prog_of(b, (enum guard_prog)g));
		if (!*slot) {
			int e = errno;
			snprintf(err, errlen, "cannot attach the BPF LSM guard %s: %s (%s)",
				 guard_link_names[g], strerror(e),
				 e == EOPNOTSUPP || e == EINVAL || e == ENOTSUPP_LSM
				     ? "the kernel must run with bpf in its LSM list, lsm=...,bpf"
				     : load_hint(e));
			return -1;
		}
	}
	return 0;
}

/* mkdir -p. Returns 0 or -1 with errno. */
static int mkdir_p(const char *dir)
{
	char path[PATH_MAX];
	size_t len = strlen(dir);
	char *p;

	if (len == 0 || len >= sizeof(path)) {
		errno = len ? ENAMETOOLONG : ENOENT;
		return -1;
	}
	memcpy(path, dir, len + 1);
	for (p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0700) && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(path, 0700) && errno != EEXIST)
		return -1;
	return 0;
}

static int pin_path(char *out, size_t outlen, const char *dir, enum slim_map m)
{
	return join_path(out, outlen, dir, map_names[m]);
}

/* Unlinks the pins under dir (ignoring missing ones) and the directory if it
 * is then empty. */
static void unpin_dir(const char *dir)
{
	char path[PATH_MAX];
	int m;

	for (m = 0; m < SLIM_MAP_COUNT; m++)
		if (pin_path(path, sizeof(path), dir, (enum slim_map)m) == 0)
			unlink(path);
	unpin_links(dir);
	rmdir(dir);
}

int slim_bpf_pin(struct slim_bpf *b, const char *dir, char *err, size_t errlen)
{
	char path[PATH_MAX];
	struct statfs st;
	int m;

	if (!b || !b->skel || !dir) {
		snprintf(err, errlen, "cannot pin BPF maps: %s", strerror(EINVAL));
		return -1;
	}
	if (strlen(dir) >= sizeof(b->pin_dir) - 16) {
		snprintf(err, errlen, "cannot pin BPF maps under %s: %s", dir,
			 strerror(ENAMETOOLONG));
		return -1;
	}
	if (b->pinned)
		slim_bpf_unpin(b);
	if (mkdir_p(dir)) {
		snprintf(err, errlen,
			 "cannot create pin directory %s: %s (is bpffs mounted? mount -t bpf bpf "
			 "/sys/fs/bpf)",
			 dir, strerror(errno));
		return -1;
	}
	if (statfs(dir, &st) || st.f_type != BPF_FS_MAGIC) {
		snprintf(err, errlen,
			 "cannot pin BPF maps under %s: not a bpf filesystem (mount -t bpf bpf "
			 "/sys/fs/bpf)",
			 dir);
		return -1;
	}
	for (m = 0; m < SLIM_MAP_COUNT; m++) {
		int fd = bpf_map__fd(map_of(b, (enum slim_map)m));

		if (pin_path(path, sizeof(path), dir, (enum slim_map)m) ||
		    (unlink(path) && errno != ENOENT) || bpf_obj_pin(fd, path)) {
			int e = errno;

			snprintf(err, errlen, "cannot pin BPF map %s under %s: %s (%s)",
				 map_names[m], dir, strerror(e),
				 e == EEXIST || e == EACCES || e == EPERM
				     ? "remove the stale pin"
				     : "check the pin directory");
			/* Undo only our own pins; a stale one we could not
			 * remove stays, as does the directory then. */
			while (--m >= 0)
				if (pin_path(path, sizeof(path), dir, (enum slim_map)m) == 0)
					unlink(path);
			rmdir(dir);
			return -1;
		}
	}
	snprintf(b->pin_dir, sizeof(b->pin_dir), "%s", dir);
	b->pinned = true;
	return 0;
}

/* bpf_obj_pin rather than bpf_link__pin: the latter mkdirs the parent,
 * which the router's seccomp filter would refuse (the dir exists). */
int slim_bpf_keep_attached(struct slim_bpf *b, char *err, size_t errlen)
{
	char path[PATH_MAX];

	if (!b || !b->skel || !b->pinned) {
		snprintf(err, errlen,
			 "cannot keep the programs attached: %s (attach and pin first)",
			 strerror(EINVAL));
		return -1;
	}
	for (int p = 0; p < CG_COUNT; p++) {
		struct bpf_link *link = *link_of(b, (enum cg_prog)p);

		if (!link || join_path(path, sizeof(path), b->pin_dir, link_names[p]) ||
		    (unlink(path) && errno != ENOENT) || bpf_obj_pin(bpf_link__fd(link), path)) {
			snprintf(err, errlen, "cannot pin the cgroup link at %s: %s", path,
				 link ? strerror(errno) : "not attached");
			return -1;
		}
	}
	for (int g = 0; b->guards_lsm && g < GUARD_COUNT; g++) {
		struct bpf_link *link = *guard_link_of(b, (enum guard_prog)g);

		if (!link || join_path(path, sizeof(path), b->pin_dir, guard_link_names[g]) ||
		    (unlink(path) && errno != ENOENT) || bpf_obj_pin(bpf_link__fd(link), path)) {
			snprintf(err, errlen, "cannot pin the LSM guard link at %s: %s", path,
				 link ? strerror(errno) : "not attached");
			return -1;
		}
	}
	return 0;
}

void slim_bpf_unpin(struct slim_bpf *b)
{
	if (!b || !b->pinned)
		return;
	unpin_dir(b->pin_dir);
	b->pinned = false;
}

bool slim_bpf_stamp_initns(const struct slim_bpf *b)
{
	return b && b->stamp_initns;
}

bool slim_bpf_guards_lsm(const struct slim_bpf *b)
{
	return b && b->guards_lsm;
}

unsigned slim_bpf_routes_replaced(const struct slim_bpf *b)
{
	return b->routes_replaced;
}

int slim_bpf_map_fd(const struct slim_bpf *b, enum slim_map m)
{
	struct bpf_map *map = map_of(b, m);

	if (!map) {
		errno = EINVAL;
		return -1;
	}
	return bpf_map__fd(map);
}

int slim_bpf_map_fd_rdonly(const struct slim_bpf *b, enum slim_map m)
{
	LIBBPF_OPTS(bpf_get_fd_by_id_opts, opts, .open_flags = BPF_F_RDONLY);
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	int fd = slim_bpf_map_fd(b, m);

	if (fd < 0)
		return -1;
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -1; /* libbpf 1.x sets errno */
	fd = bpf_map_get_fd_by_id_opts(info.id, &opts);
	return fd < 0 ? -1 : fd;
}

int slim_bpf_stamp_arm_fd(const struct slim_bpf *b)
{
	if (!b || !b->skel) {
		errno = EINVAL;
		return -1;
	}
	return bpf_map__fd(b->skel->maps.stamp_arm);
}

int slim_bpf_reuseport_prog_fd(const struct slim_bpf *b)
{
	if (!b || !b->skel) {
		errno = EINVAL;
		return -1;
	}
	return bpf_program__fd(b->skel->progs.slim_reuseport);
}

int slim_bpf__tc_prog_fd(const struct slim_bpf *b, enum slim_tc_prog p)
{
	if (!b || !b->skel) {
		errno = EINVAL;
		return -1;
	}
	return bpf_program__fd(p == SLIM_TC_IN ? b->skel->progs.slim_nat_in
					       : b->skel->progs.slim_nat_out);
}

const char *slim_bpf__pin_dir(const struct slim_bpf *b)
{
	return b && b->pinned ? b->pin_dir : "";
}

/* Sums the nkeys per-CPU counters of the per-CPU array m into out. Returns
 * 0, or -1 with errno. */
static int percpu_counts(const struct slim_bpf *b, enum slim_map m, __u32 nkeys,
			 unsigned long long *out)
{
	int ncpu = libbpf_num_possible_cpus(), fd = slim_bpf_map_fd(b, m);
	__u64 *per;

	if (fd < 0)
		return -1;
	if (ncpu <= 0) {
		errno = ncpu < 0 ? -ncpu : EINVAL;
		return -1;
	}
	per = calloc((size_t)ncpu, sizeof(*per));
	if (!per)
		return -1;
	for (__u32 k = 0; k < nkeys; k++) {
		out[k] = 0;
		if (bpf_map_lookup_elem(fd, &k, per) != 0) {
			int e = errno;
			free(per);
			errno = e;
			return -1;
		}
		for (int c = 0; c < ncpu; c++)
			out[k] += per[c];
	}
	free(per);
	return 0;
}

int slim_bpf_path_counts(const struct slim_bpf *b, unsigned long long *out)
{
	return percpu_counts(b, SLIM_MAP_PATH_STATS, SLIM_PATH_COUNT, out);
}

int slim_bpf_refused_counts(const struct slim_bpf *b, unsigned long long *out)
{
	return percpu_counts(b, SLIM_MAP_REFUSED, SLIM_REFUSE_COUNT, out);
}

void slim_bpf_destroy(struct slim_bpf *b)
{
	if (!b)
		return;
	slim_skel__destroy(b->skel);
	free(b);
}
