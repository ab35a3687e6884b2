/* Revocation of a deleted container's host sockets: a TCP socket iterator
 * the router runs when a container is deleted (bpf/revoke.c), in its own
 * network namespace, where every host socket lives. Its target is written
 * into .bss by the router before each run; the router runs it for one
 * container at a time.
 *
 * Every socket stamped for the container (owner storage with its vip) and
 * every socket accepted for it (peer storage naming its vip) that the TCP
 * tables hold (listening, connecting, established, closing) is destroyed
 * with bpf_sock_destroy: the kernel's tcp_abort, as `ss -K` does, so a
 * connection's peer gets a reset, the process holding the socket gets
 * ECONNABORTED, a listener stops listening. A socket no table holds (a pool
 * socket never bound or connected) is left to connect4 and bind4, which
 * refuse it once the router has taken the vip out of the live map (which
 * it does before running this). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "slim_maps.h"
#include "storage.bpf.h"

extern int bpf_sock_destroy(struct sock_common *sk) __ksym;

/* The container to revoke: its vip, network byte order as both storages
 * hold it. */
__u32 revoke_vip;
/* Sockets the last run destroyed, for the router's log. */
__u64 revoke_destroyed;

SEC("iter/tcp")
int revoke_destroy(struct bpf_iter__tcp *ctx)
{
	struct sock_common *skc = ctx->sk_common;
	struct slim_owner *o;
	struct slim_peer *p;
	struct tcp_sock *tp;

	/* Request and TIME_WAIT sockets have no storage and no holder. (The
	 * state read also gives the object the whole struct sock_common, which
	 * the kernel's prototype of bpf_sock_destroy is checked against.) */
	if (!skc || skc->skc_state == BPF_TCP_TIME_WAIT || skc->skc_state == BPF_TCP_NEW_SYN_RECV)
		return 0;
	tp = bpf_skc_to_tcp_sock(skc);
	if (!tp)
		return 0;
	o = bpf_sk_storage_get(&owner, tp, 0, 0);
	if (!o || o->vip != revoke_vip) {
		p = bpf_sk_storage_get(&peer, tp, 0, 0);
		if (!p || p->local_ip != revoke_vip)
			return 0;
	}
	if (bpf_sock_destroy(skc) == 0)
		revoke_destroyed++;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
