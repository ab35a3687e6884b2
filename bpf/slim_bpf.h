/* User-space side of the BPF objects: load, attach to a cgroup, pin, and
 * hand out map fds. Owns the bpftool-generated skeleton. */
#ifndef SLIM_BPF_H
#define SLIM_BPF_H

#include <stdbool.h>
#include <stddef.h>

struct slim_bpf;

enum slim_map {
	SLIM_MAP_LISTENERS, /* SOCKHASH slim_vaddr -> listening socket */
	SLIM_MAP_OWNER,	    /* sk_storage slim_owner (identity + destination) */
	SLIM_MAP_PEER,	    /* sk_storage slim_peer */
	SLIM_MAP_ROUTES,    /* LPM trie slim_route_key -> slim_route_val */
	SLIM_MAP_APP_OPTS,  /* sk_storage slim_app_opts (optional in a reused pin set) */
	/* The slim-to-plain translation (tc_nat.bpf.c), optional in a reused
	 * pin set like app_opts: */
	SLIM_MAP_NAT,	     /* LRU hash slim_nat_key -> slim_nat_val */
	SLIM_MAP_CTR_IFS,    /* hash vIP -> slim_ctr_if */
	SLIM_MAP_PATH_STATS, /* per-CPU array of SLIM_PATH_COUNT counters */
	SLIM_MAP_NAT_PORTS,  /* array: bitmap of client ports that had a translation */
	SLIM_MAP_LIVE,	     /* hash vIP -> 1: the containers the router has (optional too) */
	/* The reserved port's sender check (trust.bpf.h), optional in a
	 * reused pin set too: */
	SLIM_MAP_HOSTS,	  /* hash: live hosts' underlay addresses */
	SLIM_MAP_REFUSED, /* per-CPU array of SLIM_REFUSE_COUNT counters */
	SLIM_MAP_TW,	  /* LRU hash slim_tw_key -> start of a TIME_WAIT (optional too) */
	SLIM_MAP_COUNT
};

/* Opens and loads the programs and maps. Returns NULL and writes a one-line
 * reason into err on failure. */
struct slim_bpf *slim_bpf_load(char *err, size_t errlen);

/* What slim_bpf_load_reusing found in the pin directory. */
enum slim_pins {
	SLIM_PINS_NONE,	   /* no pins: fresh maps */
	SLIM_PINS_REUSED,  /* every map pinned: their maps are used */
	SLIM_PINS_PARTIAL, /* some but not all: removed, fresh maps */
};

/* Like slim_bpf_load, but if dir already holds the pins of all the maps
 * (a previous router of this host left them because apps still listen),
 * the programs are loaded against those very maps (bpf_map__reuse_fd before
 * load), so existing listeners, owner, peer and app_opts storage stay
 * valid. app_opts alone may be missing (a fresh one is made). Each pinned
 * map must match this build's definition (type, key and value size, max
 * entries, flags), else it fails naming dir; except the routes trie, which
 * is then replaced (slim_bpf_routes_replaced). Some but not all of the
 * others: they are removed and fresh maps made. *pins says which case it was. Returns
 * NULL with one line in err on failure. */
struct slim_bpf *slim_bpf_load_reusing(const char *dir, enum slim_pins *pins, char *err,
				       size_t errlen);

/* Attaches the cgroup programs (sockops, connect4, bind4, getsockname4,
 * getpeername4, getsockopt, setsockopt, sock_create) to the cgroup, and the BPF LSM
 * guards (socket_listen, socket_setsockopt, file_ioctl: guard.bpf.c, which judge only
 * the sockets stamped in these maps), each by a bpf_link that goes away when the
 * process exits unless pinned (slim_bpf_keep_attached). Links a previous
 * router pinned in the reused pin dir are taken over in place, so the
 * cgroup is never without them. Returns 0, or -1 with a reason in err. */
int slim_bpf_attach_cgroup(struct slim_bpf *b, int cgroup_fd, char *err, size_t errlen);

/* Pins every map under dir (created if missing; stale pins of the same
 * names replaced). Returns 0, or -1 with a reason in err. */
int slim_bpf_pin(struct slim_bpf *b, const char *dir, char *err, size_t errlen);

/* Pins the cgroup links under the pin dir, so the programs stay attached
 * after this process exits (stopped or killed): host sockets that apps
 * still hold keep connecting and naming their virtual addresses while no
 * router runs. The next slim_bpf_load_reusing + slim_bpf_attach_cgroup of
 * that dir takes the links over; slim_bpf_unpin releases them. Call after
 * slim_bpf_attach_cgroup and slim_bpf_pin. Returns 0, or -1 with a reason
 * in err. */
int slim_bpf_keep_attached(struct slim_bpf *b, char *err, size_t errlen);

/* Removes the pins made by slim_bpf_pin and slim_bpf_keep_attached (the
 * programs then detach when this process closes its links) and the
 * directory if empty. */
void slim_bpf_unpin(struct slim_bpf *b);

/* Whether the BPF LSM guards (guard.bpf.c: listen, setsockopt from 32-bit
 * calls, socket ioctls) are loaded: false on a kernel that does not load
 * BPF LSM programs, where slim_bpf_attach_cgroup leaves them out and the
 * cgroup programs' guards (bind, connect, setsockopt) are all there is. */
bool slim_bpf_guards_lsm(const struct slim_bpf *b);

/* When slim_bpf_load_reusing found a pinned routes trie that does not match
 * this build (another size): its max_entries (it was replaced by a fresh
 * trie, since the router rewrites every route anyway); else 0. */
unsigned slim_bpf_routes_replaced(const struct slim_bpf *b);

/* The map's fd, owned by b. */
int slim_bpf_map_fd(const struct slim_bpf *b, enum slim_map m);

/* A new read-only fd for the map (caller closes), or -1 with errno. */
int slim_bpf_map_fd_rdonly(const struct slim_bpf *b, enum slim_map m);

/* Whether the sock_create program loaded is the fallback that matches the
 * armed thread by its id in the initial pid namespace (a kernel without
 * bpf_get_ns_current_pid_tgid for cgroup programs, before Linux 6.10, or
 * SLIM_STAMP_INITNS=1 in the environment): then it stamps only for a
 * router that runs in that namespace. */
bool slim_bpf_stamp_initns(const struct slim_bpf *b);

/* The sock_create program's arming map (struct slim_stamp_arm, one entry
 * at key 0), owned by b; -1 with errno if not loaded. It is not pinned:
 * only this b's program reads it. */
int slim_bpf_stamp_arm_fd(const struct slim_bpf *b);

/* The sk_reuseport program's fd, owned by b, for SO_ATTACH_REUSEPORT_EBPF. */
int slim_bpf_reuseport_prog_fd(const struct slim_bpf *b);

/* The tc programs of the slim-to-plain translation. */
enum slim_tc_prog {
	SLIM_TC_IN,  /* slim_nat_in: the underlay device and lo */
	SLIM_TC_OUT, /* slim_nat_out: a container's host-side veth */
};

/* Attaches program p to the tcx ingress of interface ifindex (of the
 * caller's network namespace) by a bpf_link pinned as "tcx-IFINDEX" in the
 * pin dir, so it stays attached while no router runs. A link pinned there
 * before (by a previous router) that is a tcx ingress link of that very
 * interface gets program p in place (BPF_LINK_UPDATE: never a moment
 * without it); any other pin of that name is replaced. Needs Linux 6.6
 * (tcx). Call after slim_bpf_pin. Returns 0, or -1 with a reason in err. */
int slim_bpf_tc_attach(struct slim_bpf *b, int ifindex, enum slim_tc_prog p, char *err,
		       size_t errlen);

/* Detaches what slim_bpf_tc_attach attached to ifindex (unpins its link).
 * Missing is fine. */
void slim_bpf_tc_detach(struct slim_bpf *b, int ifindex);

/* Removes every "tcx-*" pin of the pin dir whose interface is not one of
 * the n in keep (a previous router's links to interfaces that are gone or
 * no longer served). Needs to read the directory: call before the
 * sandbox. */
void slim_bpf_tc_prune(struct slim_bpf *b, const int *keep, size_t n);

/* Sums path_stats over the CPUs into out[SLIM_PATH_COUNT]. Returns 0, or -1
 * with errno. */
int slim_bpf_path_counts(const struct slim_bpf *b, unsigned long long *out);

/* Sums refused over the CPUs into out[SLIM_REFUSE_COUNT]. Returns 0, or -1
 * with errno. */
int slim_bpf_refused_counts(const struct slim_bpf *b, unsigned long long *out);

/* Detaches, unloads and frees. NULL is fine. */
void slim_bpf_destroy(struct slim_bpf *b);

#endif
