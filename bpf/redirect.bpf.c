/* Same-host sockmap redirect (slim-router --redirect).
 *
 * A second sockops program on the router's cgroup (its own link, next to
 * slim_sockops) puts both ends of a same-host slim connection into the
 * `socks` SOCKHASH; an sk_msg program attached to that map then hands what
 * one end sends straight to the other end's receive side
 * (bpf_msg_redirect_hash with BPF_F_INGRESS): no TCP segments, no loopback.
 *
 * Which sockets: the program only ever sees sockets the router created
 * (cgroup sockops) and accepted children of its listeners. Of those, a
 * same-host slim connection is exactly one whose two addresses are equal
 * (a connect to the host's own underlay address is routed through lo with
 * that address as source) and whose remote (client end) or local (accepted
 * end) port is the reserved port: only the reserved port's reuseport program
 * lets a connection in, and only with a valid overlay option. Cross-host
 * connections, listeners and everything else are never touched.
 *
 * Kernel behaviour this design leans on (net/ipv4/tcp_bpf.c, 6.x):
 *  - Redirected data waits in the peer's psock ingress queue, and
 *    tcp_bpf_recvmsg drains that queue before the TCP receive queue. So a
 *    direction may switch from redirect to TCP (new data queues behind) but
 *    never back; and a direction whose first bytes went through TCP (the
 *    peer was not in the map yet) stays on TCP. The decision is kept per
 *    socket in `rd_state`.
 *  - FIN/RST always travel through TCP; since a redirect completes inside
 *    the sender's sendmsg, anything redirected before shutdown/close is
 *    queued before the FIN is even built.
 *  - Ingress redirect is charged to the receiver but not bounded by its
 *    sk_rcvbuf: nothing pushes back on a writer whose reader stalls. We
 *    cannot look at the peer's receive memory from here (an sk_msg program
 *    may look a socket up in the SOCKHASH but not release it), so this is a
 *    known limit: see docs/benchmarks/redirect.md.
 *  - A socket that leaves the map while open (it reached TCP_CLOSE, e.g.
 *    TIME_WAIT after a half-close) loses its unread ingress queue. A sender
 *    whose peer has half-closed (we are in CLOSE_WAIT) therefore goes to TCP.
 *  - The receive side of splice() (tcp_splice_read) reads only the TCP
 *    receive queue, never the psock queue: see docs/benchmarks/redirect.md. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "redirect_maps.h"

#define AF_INET 2

/* Set by the loader before load. */
const volatile __u16 reserved_port = 7771; /* host byte order */

struct {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__uint(max_entries, SLIM_RD_MAX_SOCKS);
	__type(key, struct slim_rd_key);
	__type(value, __u64);
} socks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct slim_rd_state);
} rd_state SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct slim_rd_stats);
} rd_stats SEC(".maps");

static __always_inline struct slim_rd_stats *stats(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&rd_stats, &zero);
}

/* sock_ops and sk_msg both hand the remote port as the network-order 16 bits
 * shifted into the upper half on little-endian kernels (older ones: the
 * lower half). Either way this returns the port in network order. */
static __always_inline __u16 remote_port_be(__u32 raw)
{
	return raw > 0xffff ? (__u16)(raw >> 16) : (__u16)raw;
}

static __always_inline void on_established(struct bpf_sock_ops *skops, int passive)
{
	struct slim_rd_stats *s = stats();
	struct bpf_sock *sk = skops->sk;
	struct slim_rd_state *st;
	struct slim_rd_key key = {};
	__u16 port;

	if (skops->family != AF_INET || !sk)
		return;
	if (skops->local_ip4 != skops->remote_ip4)
		return; /* not a same-host pair */
	port = passive ? (__u16)skops->local_port : bpf_ntohs(remote_port_be(skops->remote_port));
	if (port != reserved_port)
		return;
	key.local_ip = skops->local_ip4;
	key.remote_ip = skops->remote_ip4;
	key.local_port = bpf_htons((__u16)skops->local_port);
	key.remote_port = remote_port_be(skops->remote_port);
	/* The decision slot first: a socket in the map without one would never
	 * be redirected from, which is safe, but would still pay for tcp_bpf. */
	st = bpf_sk_storage_get(&rd_state, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!st || bpf_sock_hash_update(skops, &socks, &key, BPF_ANY) != 0) {
		if (s)
			s->insert_failed++;
		return;
	}
	if (s)
		s->inserted++;
}

SEC("sockops")
int slim_redirect_sockops(struct bpf_sock_ops *skops)
{
	switch (skops->op) {
	case BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB:
		on_established(skops, 0);
		break;
	case BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB:
		on_established(skops, 1);
		break;
	}
	return 1;
}

static __always_inline int go_tcp(struct slim_rd_state *st, struct slim_rd_stats *s)
{
	if (st->mode != SLIM_RD_TCP && s)
		s->fallbacks++;
	st->mode = SLIM_RD_TCP;
	if (s)
		s->tcp_msgs++;
	return SK_PASS;
}

SEC("sk_msg")
int slim_redirect_msg(struct sk_msg_md *msg)
{
	struct slim_rd_stats *s = stats();
	struct bpf_sock *sk = msg->sk;
	struct slim_rd_state *st;
	struct slim_rd_key peer = {};
	__u32 size = msg->size;

	if (!sk)
		return SK_PASS;
	st = bpf_sk_storage_get(&rd_state, sk, 0, 0);
	if (!st) {
		/* Not one of ours (no slot was made at insertion). */
		if (s)
			s->tcp_msgs++;
		return SK_PASS;
	}
	if (st->mode == SLIM_RD_TCP)
		return go_tcp(st, s);
	/* CLOSE_WAIT: the peer has sent its FIN and may reach TCP_CLOSE (and
	 * leave the map, dropping its ingress queue) before reading. */
	if (sk->state != BPF_TCP_ESTABLISHED)
		return go_tcp(st, s);
	peer.local_ip = msg->remote_ip4;
	peer.remote_ip = msg->local_ip4;
	peer.local_port = remote_port_be(msg->remote_port);
	peer.remote_port = bpf_htons((__u16)msg->local_port);
	if (bpf_msg_redirect_hash(msg, &socks, &peer, BPF_F_INGRESS) != SK_PASS)
		return go_tcp(st, s);
	st->mode = SLIM_RD_REDIRECT;
	if (s) {
		s->redirected_msgs++;
		s->redirected_bytes += size;
	}
	return SK_PASS;
}

char LICENSE[] SEC("license") = "GPL";
