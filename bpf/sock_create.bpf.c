/* cgroup sock_create program, attached to the router's cgroup: stamps a
 * pool batch's sockets as they are created, so the router makes no
 * bpf(2) call per socket.
 *
 * The kernel runs it in inet_create() for every socket a process of the
 * router's cgroup creates (never for kernel sockets, never for accepted
 * ones). It stamps only while the router armed it (stamp_arm, see struct
 * slim_stamp_arm) and only in the very thread that armed it: the router's
 * other threads (libcurl's resolver in etcd mode, say) and a second router
 * in the cgroup during a restart get their sockets untouched. Only AF_INET
 * TCP sockets: the router's unix and netlink sockets, and anything else,
 * pass as they are. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "slim_maps.h"
#include "storage.bpf.h"

/* A uapi macro, not in vmlinux.h (SOCK_STREAM and IPPROTO_TCP are
 * kernel enums: they are). */
#define AF_INET 2

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct slim_stamp_arm);
} stamp_arm SEC(".maps");

/* Stamps sk if the arming entry a says so, for a thread whose id (in the
 * entry's pid namespace) is tid. Returns 1 to let socket() go on; 0 makes
 * it fail with EPERM, which it does only for an armed thread whose owner
 * storage cannot be allocated: the router must never hand out an
 * unstamped socket for a stamped one (it reports the failed socket() as it
 * reported a failed stamp). */
static __always_inline int stamp(struct bpf_sock *sk, struct slim_stamp_arm *a, __u32 tid)
{
	struct slim_owner *o;

	if (tid != a->tid)
		return 1;
	o = bpf_sk_storage_get(&owner, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!o)
		return 0;
	o->vip = a->vip;
	o->container_id = a->container_id;
	o->dst_ip = 0;
	o->dst_port = 0;
	o->flags = 0;
	/* Only the armed thread gets here, and it is inside socket(): no one
	 * else writes the entry meanwhile (the router writes it from this
	 * very thread, between its socket() calls). */
	a->left--;
	return 1;
}

/* The arming entry if sk is an AF_INET TCP socket and the entry is armed
 * with sockets left, else NULL. */
static __always_inline struct slim_stamp_arm *armed_for(struct bpf_sock *sk)
{
	struct slim_stamp_arm *a;
	__u32 key = 0;

	if (sk->family != AF_INET || sk->type != SOCK_STREAM || sk->protocol != IPPROTO_TCP)
		return NULL;
	a = bpf_map_lookup_elem(&stamp_arm, &key);
	if (!a || a->tid == 0 || a->left == 0)
		return NULL;
	return a;
}

/* The thread is matched by its id in the router's pid namespace (the
 * entry's pidns_dev/pidns_ino), so it works wherever the router runs.
 * Needs bpf_get_ns_current_pid_tgid in cgroup programs (Linux 6.10). */
SEC("cgroup/sock_create")
int slim_sock_create(struct bpf_sock *sk)
{
	struct bpf_pidns_info ns;
	struct slim_stamp_arm *a = armed_for(sk);

	if (!a)
		return 1;
	if (bpf_get_ns_current_pid_tgid(a->pidns_dev, a->pidns_ino, &ns, sizeof(ns)) != 0)
		return 1;
	return stamp(sk, a, ns.pid);
}

/* The same for a kernel without that helper there: the thread id as the
 * initial pid namespace has it, which is the router's own (gettid) only
 * when it runs in that namespace; elsewhere nothing matches, and the
 * router's start-up check (stamp_arm_init) refuses to serve. The loader
 * loads one of the two (slim_bpf.c). */
SEC("cgroup/sock_create")
int slim_sock_create_initns(struct bpf_sock *sk)
{
	struct slim_stamp_arm *a = armed_for(sk);

	if (!a)
		return 1;
	return stamp(sk, a, (__u32)bpf_get_current_pid_tgid());
}

char LICENSE[] SEC("license") = "GPL";
