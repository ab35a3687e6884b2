/* sockops program, attached to the router's cgroup.
 *
 * Active side: a host socket the router stamped (owner storage) and whose
 * destination the connect4 program recorded there
 * carries the overlay option (struct slim_tcp_opt) in its SYN.
 * Passive side: an accepted socket whose saved SYN carries a valid option
 * gets the virtual peer in its peer storage, and is watched until its first
 * state change after ESTABLISHED, which says whether it sends its FIN first
 * (a TIME_WAIT for its virtual address: lib/tw.bpf.h).
 * Every other socket is left alone. The program always returns 1. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "slim_maps.h"
#include "storage.bpf.h"
#include "nat.bpf.h"
#include "sockopt.bpf.h"
#include "tw.bpf.h"

/* Not in vmlinux.h (they are macros in the uapi headers). */
#define TCPHDR_SYN 0x02
#define TCPHDR_ACK 0x10
#define SO_BINDTODEVICE 25

/* Fills opt from the socket's owner storage. Returns 0, or -1 if the socket
 * is not a stamped overlay client with a destination. */
static __always_inline int client_opt(struct bpf_sock *sk, struct slim_tcp_opt *opt)
{
	struct slim_owner *o;

	if (!sk)
		return -1;
	o = bpf_sk_storage_get(&owner, sk, 0, 0);
	if (!o || !o->dst_ip || (o->flags & SLIM_OWNER_LISTENER))
		return -1;
	opt->kind = SLIM_OPT_KIND;
	opt->len = SLIM_OPT_LEN;
	opt->exid = bpf_htons(SLIM_OPT_EXID);
	opt->src_ip = o->vip;
	opt->dst_ip = o->dst_ip;
	opt->dst_port = o->dst_port;
	return 0;
}

/* True for the SYN of an active open (not a SYN-ACK). */
static __always_inline int is_syn(const struct bpf_sock_ops *skops)
{
	return (skops->skb_tcp_flags & (TCPHDR_SYN | TCPHDR_ACK)) == TCPHDR_SYN;
}

/* PASSIVE_ESTABLISHED can only read the option from a saved SYN (the
 * router also sets TCP_SAVE_SYN on the listeners it creates). A pool socket
 * the app bound (bind4 moved it to the reserved port) is filed under its
 * container's vip and the virtual port here, as its own listen() makes it
 * a listener: no swap, so epoll registrations and dups the app made before
 * listen() stay valid. More listeners for the same vip:port (an SO_REUSEPORT
 * group of the app) take the next free slots; past SLIM_LISTENER_SLOTS they
 * are not filed. */
/* A host socket an app made listen where slim did not put it: possible
 * only where the kernel loads no BPF LSM programs (guard.bpf.c refuses the
 * listen() elsewhere). It is bound to lo, so that nothing from the
 * underlay reaches it; the app cannot undo that (SO_BINDTODEVICE is not
 * on the allow-list of the setsockopt program). */
static __always_inline void confine(struct bpf_sock_ops *skops)
{
	char lo[] = "lo";

	bpf_setsockopt(skops, SOL_SOCKET, SO_BINDTODEVICE, lo, sizeof(lo));
}

static __always_inline void on_listen(struct bpf_sock_ops *skops)
{
	struct bpf_sock *sk = skops->sk;
	struct slim_route_key rk = {.prefixlen = 32};
	struct slim_vaddr key = {};
	struct slim_route_val *rv;
	struct slim_owner *o;
	int one = 1;

	bpf_setsockopt(skops, SOL_TCP, TCP_SAVE_SYN, &one, sizeof(one));
	if (!sk)
		return;
	o = bpf_sk_storage_get(&owner, sk, 0, 0);
	if (!o) {
		/* An accepted socket, disconnected, on the reserved port. */
		if (bpf_sk_storage_get(&peer, sk, 0, 0))
			confine(skops);
		return;
	}
	/* Slim's own listeners are bound to this host's reserved port. */
	rk.subnet = o->vip;
	rv = bpf_map_lookup_elem(&routes, &rk);
	if (!rv || skops->local_port != bpf_ntohs(rv->port)) {
		confine(skops);
		return;
	}
	if (!(o->flags & SLIM_OWNER_LISTENER))
		return;
	key.ip = o->vip;
	key.port = o->dst_port;
	for (__u16 i = 0; i < SLIM_LISTENER_SLOTS; i++) {
		key.slot = i;
		if (bpf_sock_hash_update(skops, &listeners, &key, BPF_NOEXIST) == 0)
			break;
	}
}

static __always_inline void on_connect(struct bpf_sock_ops *skops)
{
	struct slim_tcp_opt opt;

	if (client_opt(skops->sk, &opt))
		return;
	bpf_sock_ops_cb_flags_set(skops, skops->bpf_sock_ops_cb_flags |
					     BPF_SOCK_OPS_WRITE_HDR_OPT_CB_FLAG);
}

/* The option rides in the SYN and once more in the first segment after it
 * (normally the handshake's final ACK). That second copy costs 16 bytes once
 * per connection and is what keeps the overlay working under SYN cookies:
 * then the server keeps no SYN, and both the reuseport program and
 * PASSIVE_ESTABLISHED see only that ACK. */
static __always_inline void on_hdr_opt_len(struct bpf_sock_ops *skops)
{
	/* A failed reservation (no room) leaves the segment without the
	 * option: the remote reuseport program then drops the SYN and
	 * connect() fails rather than landing anywhere else. */
	bpf_reserve_hdr_opt(skops, SLIM_OPT_LEN, 0);
}

static __always_inline void on_write_hdr_opt(struct bpf_sock_ops *skops)
{
	struct slim_tcp_opt opt;

	if (client_opt(skops->sk, &opt) == 0)
		bpf_store_hdr_opt(skops, &opt, sizeof(opt), 0);
	if (!is_syn(skops))
		bpf_sock_ops_cb_flags_set(skops, skops->bpf_sock_ops_cb_flags &
						     ~BPF_SOCK_OPS_WRITE_HDR_OPT_CB_FLAG);
}

static __always_inline void on_passive_established(struct bpf_sock_ops *skops)
{
	struct bpf_sock *sk = skops->sk;
	struct slim_tcp_opt opt = {};
	struct slim_peer p = {};
	struct slim_peer *stored;
	long n;

	if (!sk)
		return;
	/* Search key for an RFC 6994 option: kind, 2 + ExID length, ExID. */
	opt.kind = SLIM_OPT_KIND;
	opt.len = 4;
	opt.exid = bpf_htons(SLIM_OPT_EXID);
	n = bpf_load_hdr_opt(skops, &opt, sizeof(opt), BPF_LOAD_HDR_OPT_TCP_SYN);
	if (n < 0) {
		/* No saved SYN (SYN cookies): the client repeated the option
		 * in the ACK that completed the handshake, which is skops->skb. */
		opt.kind = SLIM_OPT_KIND;
		opt.len = 4;
		opt.exid = bpf_htons(SLIM_OPT_EXID);
		n = bpf_load_hdr_opt(skops, &opt, sizeof(opt), 0);
	}
	if (n != SLIM_OPT_LEN || opt.kind != SLIM_OPT_KIND || opt.len != SLIM_OPT_LEN ||
	    opt.exid != bpf_htons(SLIM_OPT_EXID))
		return;
	p.peer_ip = opt.src_ip;
	p.local_ip = opt.dst_ip;
	p.local_port = opt.dst_port;
	stored = bpf_sk_storage_get(&peer, sk, &p, BPF_SK_STORAGE_GET_F_CREATE);
	if (stored)
		*stored = p; /* GET_F_CREATE does not overwrite an existing value */
	slim_count_path(SLIM_PATH_ACCELERATED);
	/* The TIME_WAIT emulation: on_state sees the socket's next state
	 * change. */
	bpf_sock_ops_cb_flags_set(skops, skops->bpf_sock_ops_cb_flags | BPF_SOCK_OPS_STATE_CB_FLAG);
}

/* A state change of an accepted overlay socket (STATE_CB, set at
 * PASSIVE_ESTABLISHED): args[0] the old state, args[1] the new one. The
 * kernel runs PASSIVE_ESTABLISHED just before the socket's own move from
 * SYN_RECV to ESTABLISHED, which comes here first and is let go (a
 * fast-open socket makes that move later, and may send its FIN before).
 * From ESTABLISHED or SYN_RECV into FIN_WAIT1, our FIN goes first: the
 * connection will end in a TIME_WAIT on our side, noted for its virtual
 * address. Into CLOSE_WAIT the peer's FIN came first (LAST_ACK follows: no
 * TIME_WAIT); into CLOSE it was reset. Whichever it was, the question is
 * settled and the callback is switched off: two runs per connection, not
 * one per state. */
static __always_inline void on_state(struct bpf_sock_ops *skops)
{
	__u32 from = skops->args[0], to = skops->args[1];
	struct bpf_sock *sk = skops->sk;
	struct slim_peer *p;

	if (to == BPF_TCP_ESTABLISHED)
		return; /* SYN_RECV -> ESTABLISHED: the handshake's end */
	if (sk && to == BPF_TCP_FIN_WAIT1 &&
	    (from == BPF_TCP_ESTABLISHED || from == BPF_TCP_SYN_RECV)) {
		p = bpf_sk_storage_get(&peer, sk, 0, 0);
		if (p)
			slim_tw_note(p->local_ip, p->local_port);
	}
	bpf_sock_ops_cb_flags_set(skops,
				  skops->bpf_sock_ops_cb_flags & ~BPF_SOCK_OPS_STATE_CB_FLAG);
}

SEC("sockops")
int slim_sockops(struct bpf_sock_ops *skops)
{
	switch (skops->op) {
	case BPF_SOCK_OPS_TCP_LISTEN_CB:
		on_listen(skops);
		break;
	case BPF_SOCK_OPS_TCP_CONNECT_CB:
		on_connect(skops);
		break;
	case BPF_SOCK_OPS_HDR_OPT_LEN_CB:
		on_hdr_opt_len(skops);
		break;
	case BPF_SOCK_OPS_WRITE_HDR_OPT_CB:
		on_write_hdr_opt(skops);
		break;
	case BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB:
		on_passive_established(skops);
		break;
	case BPF_SOCK_OPS_STATE_CB:
		on_state(skops);
		break;
	}
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
