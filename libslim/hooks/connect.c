/* connect(): an overlay destination is reached by a host socket stamped for
 * this container, connected to the virtual destination itself; the kernel
 * does the rest (connect4 records the destination and sends the SYN to the
 * owning host's reserved port, sockops puts the overlay option in it). A
 * pool socket needs nothing more; a container socket gets a host socket
 * swapped in under its fd first. Anything else stays on the container's
 * own network. */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>

#include "common.h"
#include "config.h"
#include "fdtable.h"
#include "pool.h"
#include "pool_refill.h"
#include "real.h"
#include "reservation.h"
#include "rpc.h"
#include "session.h"
#include "swap.h"
#include "uaddr.h"
#include "v4mapped.h"

/* An AF_INET6 socket with IPV6_V6ONLY set: no IPv4 peer, overlay or not. */
static bool v6only(int fd)
{
	int v = 0, saved = errno;
	socklen_t vl = sizeof(v);
	bool r = getsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v, &vl) == 0 && v;

	errno = saved;
	return r;
}

static bool is_loopback(uint32_t ip)
{
	return (ip >> 24) == 127;
}

/* An overlay destination: in a route of the view, and not loopback. */
static bool overlay_dst(uint32_t ip, uint32_t *epoch)
{
	return !is_loopback(ip) && slim_overlay(ip, epoch);
}

/* The destination in the app's address, for its socket's family: false
 * when it is NULL, short, unreadable, of another family, or (AF_INET6) not
 * an address the IPv4 overlay can carry. Then the kernel says what is
 * wrong, or the container network carries it. */
static bool read_dst(const struct fd_state *st, const struct sockaddr *addr, socklen_t len,
		     struct slim_ep *dst)
{
	return st->v6 ? slim_v6_read(addr, len, dst) : slim_read_sin(addr, len, dst) == 0;
}

/* Connects the container socket plainly and, once a plain connect is under
 * way or done, records fd as plain so that later calls skip the overlay
 * checks; a failed one leaves it as it was (Linux lets the app connect the
 * socket again). */
static int plain_connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	int r = real_connect(fd, addr, len), saved = errno;

	if (r == 0 || errno == EINPROGRESS || errno == EISCONN || errno == EALREADY)
		fdtable_clear(fd);
	errno = saved;
	return r;
}

/* A host socket for this process's container: from the pool (no router
 * round trip; a cold process waits once for its first, small pool reply),
 * else asked for with a connect request (the router could not fill the
 * pool, or SLIM_FASTPATH=0). RPC_OK with *hostfd and *ino (0 if unknown),
 * a positive errno the router refused with, or RPC_FALLBACK. */
static int host_socket(struct slim_ep dst, uint32_t epoch, int *hostfd, uint64_t *ino)
{
	struct slim_ep underlay;

	*ino = 0;
	if (slim_config()->fastpath) {
		*hostfd = pool_take(epoch, ino);
		if (*hostfd >= 0) {
			pool_refill(false); /* ahead of need */
			return RPC_OK;
		}
		pool_refill(true);
		*hostfd = pool_take(epoch, ino);
		if (*hostfd >= 0)
			return RPC_OK;
	}
	return rpc_connect(dst, &underlay, hostfd);
}

/* A container socket: to an overlay destination a host socket takes its
 * place and connects; anything else is the container's business. */
static int container_connect(int fd, const struct fd_state *st, const struct sockaddr *addr,
			     socklen_t len)
{
	const struct fd_container *c = &st->u.container;
	struct fd_state cl = {.kind = FD_CLIENT, .v6 = st->v6};
	struct sockaddr_in hs;
	struct slim_ep dst;
	uint32_t epoch = 0;
	uint64_t ino;
	int hostfd, r;

	if (!read_dst(st, addr, len, &dst))
		return real_connect(fd, addr, len);
	if (st->v6 && v6only(fd))
		return real_connect(fd, addr, len); /* v4-mapped is not for it: ENETUNREACH */
	if (!slim_active() || !overlay_dst(dst.ip, &epoch))
		return plain_connect(fd, addr, len);
	/* Bound to some other local address (say 127.0.0.1): the app wants
	 * the container's own stack. */
	if (c->bound && c->addr.ip != INADDR_ANY && c->addr.ip != slim_vip())
		return plain_connect(fd, addr, len);
	r = host_socket(dst, epoch, &hostfd, &ino);
	if (r == RPC_FALLBACK)
		return plain_connect(fd, addr, len);
	if (r > 0) {
		/* The router's answer (EHOSTUNREACH, ECONNREFUSED...): no
		 * silent detour through the container network. */
		errno = r;
		return -1;
	}
	slim_copy_reuse(fd, hostfd);
	if (slim_swap(fd, hostfd, c->opts) < 0)
		return -1;
	/* The app chose its source port: the host socket uses the same one
	 * (getsockname4 then shows vip:port, as the app expects; bind4 adds
	 * the SO_REUSEADDR a port shared by the whole host needs). */
	if (c->bound && c->addr.port) {
		struct sockaddr_in src = slim_sin((struct slim_ep){INADDR_ANY, c->addr.port});

		if (real_bind(fd, (struct sockaddr *)&src, sizeof(src)) < 0)
			return -1;
	}
	cl.ino = ino; /* 0 for a socket from the stash: fdtable_lookup */
	cl.u.client = (struct fd_client){.opts = c->opts, .peer = dst};
	fdtable_set(fd, &cl);
	if (!st->v6)
		return real_connect(fd, addr, len);
	hs = slim_sin(dst); /* an AF_INET6 app's address, for the host socket */
	return real_connect(fd, (struct sockaddr *)&hs, sizeof(hs));
}

/* connect() again on a host client. To an overlay address the host socket
 * answers itself (EALREADY, EISCONN, 0 for the usual non-blocking poll, or
 * a new attempt after a failed one: connect4 takes the new destination only
 * from a closed socket). Elsewhere: refused like Linux does while
 * connecting or connected; after a failure the app may start over, on a
 * container socket as if it had a fresh one. */
static int client_connect(int fd, struct fd_state *st, const struct sockaddr *addr, socklen_t len)
{
	struct slim_ep dst;
	struct sockaddr_in hs;
	uint32_t epoch;
	int s;

	if (!read_dst(st, addr, len, &dst))
		return real_connect(fd, addr, len);
	if (overlay_dst(dst.ip, &epoch)) {
		if (!st->v6)
			return real_connect(fd, addr, len);
		hs = slim_sin(dst);
		return real_connect(fd, (struct sockaddr *)&hs, sizeof(hs));
	}
	if ((s = fd_tcp_state(fd)) != TCP_CLOSE) {
		errno = s == TCP_SYN_SENT ? EALREADY : EISCONN;
		return -1;
	}
	if (slim_unswap(fd, st) < 0)
		return -1;
	return container_connect(fd, st, addr, len);
}

/* A pool socket: the kernel decides. The connect4 program takes an overlay
 * destination (the connect goes on, or fails as TCP fails) and refuses
 * anything else with EPERM; only then does the app's address need reading,
 * to tell a destination outside the overlay (a container socket takes over
 * and connects plainly) from an overlay one the host refused. The address
 * is read only after the kernel copied it without EFAULT, so no system
 * call is spent on reading it safely. */
static int pooled_connect(int fd, struct fd_state *st, const struct sockaddr *addr, socklen_t len)
{
	struct fd_state cl = {.kind = FD_CLIENT, .ino = st->ino};
	struct sockaddr_in sin;
	uint32_t epoch;
	int r, e;

	r = real_connect(fd, addr, len);
	e = errno;
	if ((r != 0 && (e == EFAULT || e == EINVAL)) || len < sizeof(sin) ||
	    addr->sa_family != AF_INET)
		return r; /* the kernel's verdict on the arguments, or not IPv4 */
	memcpy(&sin, addr, sizeof(sin));
	if (r == 0 || e != EPERM) {
		cl.u.client.opts = st->u.pooled.opts;
		cl.u.client.peer =
		    (struct slim_ep){ntohl(sin.sin_addr.s_addr), ntohs(sin.sin_port)};
		fdtable_set(fd, &cl);
		errno = e;
		return r;
	}
	if (overlay_dst(ntohl(sin.sin_addr.s_addr), &epoch)) {
		errno = e; /* an overlay destination the host refused */
		return r;
	}
	/* Only the connect4 program says EPERM here, and it runs for host
	 * sockets alone: fd is still ours, and may be swapped. */
	if (slim_unswap(fd, st) < 0)
		return -1;
	return plain_connect(fd, addr, len);
}

/* True if a pool socket's stamps are still in force (the router's epoch
 * has not changed since socket()). */
static bool pooled_current(const struct fd_state *st)
{
	uint32_t epoch;

	return slim_epoch(&epoch) && epoch == st->u.pooled.epoch;
}

SLIM_EXPORT int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	struct fd_state st;

	/* The fast path hands the call to the kernel: the record is trusted
	 * (fdtable_lookup); every other path may swap the file under fd and
	 * verifies it first. */
	fdtable_get(fd, &st);
	if (st.kind == FD_POOLED && pooled_current(&st))
		return pooled_connect(fd, &st, addr, len);
	fdtable_lookup(fd, &st);
	switch (st.kind) {
	case FD_POOLED:
		/* Stamped in an earlier epoch: start over as a container
		 * socket. */
		if (slim_unswap(fd, &st) < 0)
			return -1;
		return container_connect(fd, &st, addr, len);
	case FD_HOST_BOUND:
		/* A source address the app chose: not the listener-to-be. */
		if (slim_resv_swap_in(fd, &st) < 0)
			return -1;
		return container_connect(fd, &st, addr, len);
	case FD_CONTAINER:
		return container_connect(fd, &st, addr, len);
	case FD_CLIENT:
		return client_connect(fd, &st, addr, len);
	default:
		return real_connect(fd, addr, len);
	}
}
