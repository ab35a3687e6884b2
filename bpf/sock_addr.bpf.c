/* cgroup sock_addr programs, attached to the router's cgroup. A cgroup's
 * sock_addr programs run for the sockets its processes CREATED, wherever
 * those sockets are used later: so they run for every host socket the
 * router hands to a container, and for nothing else.
 *
 * connect4: the app connects its (swapped-in) host socket to the virtual
 *   destination itself; the kernel records that destination as the
 *   socket's destination (owner storage) and sends the SYN to the owning host's reserved port.
 *   No router round trip, and the app can only ever stamp its own socket
 *   (in its owner storage, whose identity part only the router writes).
 * getsockname4 / getpeername4: report the virtual addresses, for every
 *   copy of the fd (dup, fork, exec) and for accept()'s peer address,
 *   without libslim tracking the socket at all. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "slim_maps.h"
#include "storage.bpf.h"
#include "sockopt.bpf.h"

/* Not in vmlinux.h (uapi errno and address families). */
#define EINVAL 22
#define EAFNOSUPPORT 97
#define EISCONN 106
#define EHOSTUNREACH 113
#define AF_UNSPEC 0
#define AF_INET 2

/* connect() on a socket without an owner stamp: 1 (go on) for the router's
 * own sockets; a socket accepted on a slim listener (peer storage) never
 * connects again: one that was disconnected (connect with AF_UNSPEC) would
 * otherwise reach any host address from the reserved port. While it is
 * connected the kernel's own EISCONN, else EPERM. */
static __always_inline int accepted_connect(struct bpf_sock *sk)
{
	if (!bpf_sk_storage_get(&peer, sk, 0, 0))
		return 1;
	if (sk->state != BPF_TCP_CLOSE)
		bpf_set_retval(-EISCONN);
	return 0;
}

/* Whether o's container still exists: its vip is live under the id the
 * socket was stamped with (0 there: a container restored without an id,
 * whose stamps are unknown). */
static __always_inline bool owner_live(const struct slim_owner *o)
{
	__u32 *id = bpf_map_lookup_elem(&live, &o->vip);

	return id && (!*id || *id == o->container_id);
}

/* Runs before tcp_v4_connect. Returns 1 to let the connect go on (to the
 * rewritten address), 0 to refuse it with EPERM: a host socket the router
 * stamped for a container that still exists (live) may only reach overlay
 * destinations
 * (EHOSTUNREACH for the subnet of a host that left). An accepted socket
 * never connects (accepted_connect); the router's own sockets are left
 * alone. */
SEC("cgroup/connect4")
int slim_connect4(struct bpf_sock_addr *ctx)
{
	struct bpf_sock *sk = ctx->sk;
	struct slim_route_key key = {.prefixlen = 32};
	struct slim_route_val *rv;
	struct slim_owner *o;

	/* Not AF_INET (an AF_INET6 address on this socket): the kernel
	 * answers EAFNOSUPPORT as it would without us. */
	if (!sk || ctx->user_family != 2)
		return 1;
	o = bpf_sk_storage_get(&owner, sk, 0, 0);
	if (!o)
		return accepted_connect(sk);
	/* Its container was deleted: nothing at all. */
	if (!owner_live(o))
		return 0;
	/* Bound to the reserved port for listening: never a client. */
	if (o->flags & SLIM_OWNER_LISTENER)
		return 0;
	key.subnet = ctx->user_ip4;
	rv = bpf_map_lookup_elem(&routes, &key);
	if (!rv)
		return 0;
	if (!rv->underlay_ip) {
		/* The host of this subnet left the cluster: fail at once. */
		bpf_set_retval(-EHOSTUNREACH);
		return 0;
	}
	/* Only a socket that is not connecting or connected takes a new
	 * destination: a second connect() while in progress must leave the
	 * first one's (the kernel then answers EALREADY/EISCONN). */
	if (sk->state == BPF_TCP_CLOSE) {
		o->dst_ip = ctx->user_ip4;
		o->dst_port = (__u16)ctx->user_port;
	}
	ctx->user_ip4 = rv->underlay_ip;
	ctx->user_port = rv->port;
	return 1;
}

/* Runs inside inet_bind, with the socket locked, before the kernel looks
 * at the address. A stamped socket is bound only where slim puts it; any
 * other bind is refused with EPERM (the guard: a host socket handed to an
 * app is no door into the host), and nothing is recorded then:
 *
 * - to its container's vip, or to SLIM_BIND_ANY_MARK (how libslim says
 *   0.0.0.0): an overlay listener-to-be. It is bound to the reserved port
 *   of this host instead, with SO_REUSEPORT, which puts it in the reserved
 *   port's reuseport group when it listens; the address the app bound is
 *   recorded for getsockname and for sockops, which files the listener at
 *   listen().
 * - to 0.0.0.0 and a port other than the reserved one: a client's chosen
 *   source port (libslim binds it before the connect). It gets
 *   SO_REUSEADDR: host ports are shared by every container of the host,
 *   and a TIME_WAIT another connection left there must not block the
 *   bind. Such a socket can only connect (connect4), never listen (the
 *   socket_listen guard of guard.bpf.c).
 *
 * Refused: any other address (127.0.0.1, the host's own addresses), port 0
 * (an ephemeral port is the connect's to pick), the reserved port as a
 * source port, a family other than AF_INET (AF_UNSPEC would bind 0.0.0.0
 * unchecked; for the others the kernel's own EAFNOSUPPORT), and a socket
 * bound already (the kernel's own EINVAL, decided here under the socket
 * lock so that a socket unbound meanwhile lets nothing through). So is a
 * listener's bind while the container's own host has no route (the router
 * is being reconfigured), and any bind of a socket whose container was
 * deleted (not live: owner_live). The options set here read back as the app set them
 * (sockopt.bpf.c). Returns 1 (go on) or 0 (refused). */
SEC("cgroup/bind4")
int slim_bind4(struct bpf_sock_addr *ctx)
{
	struct bpf_sock *sk = ctx->sk;
	struct slim_route_key key = {.prefixlen = 32};
	struct slim_route_val *rv;
	struct slim_owner *o;
	__u32 ip = ctx->user_ip4;
	__u16 port;
	int one = 1;

	if (!sk)
		return 1;
	o = bpf_sk_storage_get(&owner, sk, 0, 0);
	if (!o) {
		/* An accepted socket keeps the port it inherited, even
		 * disconnected: the kernel's own EINVAL. */
		if (!bpf_sk_storage_get(&peer, sk, 0, 0))
			return 1;
		bpf_set_retval(-EINVAL);
		return 0;
	}
	if (!owner_live(o))
		return 0;
	if (ctx->user_family != AF_INET) {
		if (ctx->user_family != AF_UNSPEC)
			bpf_set_retval(-EAFNOSUPPORT);
		return 0;
	}
	if (sk->src_port) {
		bpf_set_retval(-EINVAL);
		return 0;
	}
	port = (__u16)ctx->user_port;
	key.subnet = o->vip;
	rv = bpf_map_lookup_elem(&routes, &key);
	if (ip == 0) {
		/* Without a route the reserved port is not known here: such
		 * a socket cannot listen anyway (socket_listen), nor bind
		 * next to the listeners of the reserved port. */
		if (!port || (rv && port == rv->port))
			return 0;
		bpf_setsockopt(ctx, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		return 1;
	}
	if (!rv || (ip != o->vip && ip != SLIM_BIND_ANY_MARK))
		return 0;
	if (bpf_setsockopt(ctx, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bpf_setsockopt(ctx, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)))
		return 0;
	o->dst_ip = ip == SLIM_BIND_ANY_MARK ? 0 : ip;
	o->dst_port = port;
	o->flags |= SLIM_OWNER_LISTENER;
	ctx->user_ip4 = rv->underlay_ip;
	ctx->user_port = rv->port;
	return 1;
}

/* Accepted socket: the virtual peer (the port is the real one, which the
 * client reports from its own getsockname). Client: its virtual
 * destination. Listeners and everything else: unchanged. */
SEC("cgroup/getpeername4")
int slim_getpeername4(struct bpf_sock_addr *ctx)
{
	struct bpf_sock *sk = ctx->sk;
	struct slim_owner *o;
	struct slim_peer *p;

	if (!sk)
		return 1;
	p = bpf_sk_storage_get(&peer, sk, 0, 0);
	if (p) {
		ctx->user_ip4 = p->peer_ip;
		return 1;
	}
	if (sk->state == BPF_TCP_LISTEN)
		return 1;
	o = bpf_sk_storage_get(&owner, sk, 0, 0);
	if (o && o->dst_ip && !(o->flags & SLIM_OWNER_LISTENER)) {
		ctx->user_ip4 = o->dst_ip;
		ctx->user_port = o->dst_port;
	}
	return 1;
}

/* Accepted socket: the virtual address the client connected to. Listener:
 * the address the app bound (0.0.0.0 or its vip) and the virtual port.
 * Client: its own vip with the real port, once it has a local address (an
 * unbound or failed one reports 0.0.0.0 as Linux does). */
SEC("cgroup/getsockname4")
int slim_getsockname4(struct bpf_sock_addr *ctx)
{
	struct bpf_sock *sk = ctx->sk;
	struct slim_owner *o;
	struct slim_peer *p;

	if (!sk)
		return 1;
	p = bpf_sk_storage_get(&peer, sk, 0, 0);
	if (p) {
		ctx->user_ip4 = p->local_ip;
		ctx->user_port = p->local_port;
		return 1;
	}
	o = bpf_sk_storage_get(&owner, sk, 0, 0);
	if (!o)
		return 1;
	/* A bound listener-to-be reports its bound address before listen()
	 * too, as it would in the container. */
	if (sk->state == BPF_TCP_LISTEN || (o->flags & SLIM_OWNER_LISTENER)) {
		ctx->user_ip4 = o->dst_ip;
		ctx->user_port = o->dst_port;
		return 1;
	}
	if (ctx->user_ip4)
		ctx->user_ip4 = o->vip;
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
