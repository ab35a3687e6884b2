/* connect(): an overlay destination gets a host socket stamped for this
 * container (from the pool, or from the router), swapped in place of the
 * app's fd and connected to the virtual destination; the kernel does the
 * rest (connect4, sockops, sk_reuseport). */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>

#include "common.h"
#include "fdtable.h"
#include "inet6.h"
#include "real.h"
#include "pool.h"
#include "router.h"
#include "swap.h"
#include "uaddr.h"

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

/* Records fd as plain once a plain connect is under way or done, so later
 * calls skip the overlay checks; a failed one leaves it a candidate (Linux
 * lets the app connect the socket again). */
static int plain_connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	int r = real_connect(fd, addr, len), saved = errno;
	struct fd_state st = {.kind = FD_PLAIN};

	if (r == 0 || errno == EINPROGRESS || errno == EISCONN || errno == EALREADY)
		fdtable_set(fd, &st);
	errno = saved;
	return r;
}

/* A host socket for this process's container: from the pool (the fast
 * path: no router round trip; a cold process waits once for its first,
 * small pool reply), else asked for with a connect request (the router
 * could not fill the pool, or SLIM_FASTPATH=0). Returns 0 with *hostfd and
 * *ino (0 if unknown); a positive errno the router refused with; or
 * SLIM_FALLBACK. */
static int host_socket(struct slim_ep dst, uint32_t epoch, int *hostfd, uint64_t *ino)
{
	struct slim_ep underlay;

	*ino = 0;
	if (slim_fastpath()) {
		*hostfd = pool_take(epoch, ino);
		if (*hostfd >= 0) {
			slim_pool_service(false); /* refill ahead of need */
			return 0;
		}
		slim_pool_service(true);
		*hostfd = pool_take(epoch, ino);
		if (*hostfd >= 0)
			return 0;
	}
	return slim_router_connect(dst, &underlay, hostfd);
}

/* The candidate path: overlay if dst is in a route, else plain. The host
 * socket is connected to the virtual address itself: the connect4 program
 * records it as the socket's destination and sends the SYN to the owning host. */
static int candidate_connect(int fd, const struct fd_state *cand, struct slim_ep dst,
			     const struct sockaddr *addr, socklen_t len)
{
	struct fd_state st = {.kind = FD_CLIENT, .v6 = cand->v6};
	struct sockaddr_in hs = slim_sin(dst); /* an AF_INET6 app's address, for the host socket */
	uint32_t epoch = 0;
	uint64_t ino;
	int hostfd, r;

	if (is_loopback(dst.ip) || !slim_active() || !slim_overlay(dst.ip, &epoch))
		return plain_connect(fd, addr, len);
	/* Bound to some other local address (say 127.0.0.1): the app wants
	 * the container's own stack. */
	if (cand->bound && cand->aux.ip != INADDR_ANY && cand->aux.ip != slim_vip())
		return plain_connect(fd, addr, len);
	r = host_socket(dst, epoch, &hostfd, &ino);
	if (r == SLIM_FALLBACK)
		return plain_connect(fd, addr, len);
	if (r > 0) {
		/* The router's answer (EHOSTUNREACH, ECONNREFUSED...): no
		 * silent detour through the container network. */
		errno = r;
		return -1;
	}
	if (slim_swap(fd, hostfd, cand->opts) < 0)
		return -1;
	/* The app chose its source port: the host socket uses the same one
	 * (getsockname4 then shows vip:port, as the app expects). */
	if (cand->bound && cand->aux.port) {
		struct sockaddr_in src = slim_sin((struct slim_ep){INADDR_ANY, cand->aux.port});

		int one = 1;

		/* Host ports are shared by every container of the host: a
		 * TIME_WAIT left by another connection must not block it. */
		(void)real_setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (real_bind(fd, (struct sockaddr *)&src, sizeof(src)) < 0)
			return -1;
	}
	st.ino = ino ? ino : fd_inode(fd);
	st.opts = cand->opts;
	st.peer = dst;
	fdtable_set(fd, &st);
	return cand->v6 ? real_connect(fd, (struct sockaddr *)&hs, sizeof(hs))
			: real_connect(fd, addr, len);
}

/* connect() again on a swapped socket. To an overlay address the host
 * socket answers itself (EALREADY, EISCONN, 0 for the usual non-blocking
 * poll, or a new attempt after a failed one: connect4 takes the new
 * destination only from a closed socket). Elsewhere: refused like Linux
 * does while connecting or connected; after a failure the app may start
 * over, on a new container socket as if it had a fresh one. */
static int client_connect(int fd, const struct fd_state *cl, struct slim_ep dst,
			  const struct sockaddr *addr, socklen_t len)
{
	int s;
	/* the options the app set go over to the new socket with it */
	struct fd_state cand = {.kind = FD_CANDIDATE, .opts = cl->opts, .v6 = cl->v6};
	struct sockaddr_in hs = slim_sin(dst);
	uint32_t epoch;

	if (!is_loopback(dst.ip) && slim_overlay(dst.ip, &epoch))
		return cl->v6 ? real_connect(fd, (struct sockaddr *)&hs, sizeof(hs))
			      : real_connect(fd, addr, len);
	if ((s = fd_tcp_state(fd)) != TCP_CLOSE) {
		errno = s == TCP_SYN_SENT ? EALREADY : EISCONN;
		return -1;
	}
	if (slim_unswap(fd, &cand) < 0)
		return -1;
	return candidate_connect(fd, &cand, dst, addr, len);
}

/* A candidate that socket() made a host socket from the pool: the kernel
 * decides. The connect4 program takes an overlay destination (the connect
 * goes on, or fails as TCP fails) and refuses anything else with EPERM; only
 * then does the app's address need reading, to tell a destination outside
 * the overlay (a container socket takes over and connects plainly) from an
 * overlay one the host refused. The address is read only after the kernel
 * copied it without EFAULT, so no system call is spent on reading it
 * safely. If the router's stamps changed since socket() (another epoch),
 * the socket starts over as a container socket. */
static int eager_connect(int fd, struct fd_state *cand, const struct sockaddr *addr, socklen_t len)
{
	struct fd_state st = {.kind = FD_CLIENT};
	struct sockaddr_in sin;
	uint32_t epoch;
	int r, e;

	if (!slim_epoch(&epoch) || epoch != cand->aux.ip) {
		if (slim_unswap(fd, cand) < 0)
			return -1;
		return -2; /* the caller goes on with a container candidate */
	}
	r = real_connect(fd, addr, len);
	e = errno;
	if ((r != 0 && (e == EFAULT || e == EINVAL)) || len < sizeof(sin) ||
	    addr->sa_family != AF_INET)
		return r; /* the kernel's verdict on the arguments, or not IPv4 */
	memcpy(&sin, addr, sizeof(sin));
	if (r == 0 || e != EPERM) {
		st.ino = cand->ino;
		st.opts = cand->opts;
		st.peer = (struct slim_ep){ntohl(sin.sin_addr.s_addr), ntohs(sin.sin_port)};
		fdtable_set(fd, &st);
		errno = e;
		return r;
	}
	if (!is_loopback(ntohl(sin.sin_addr.s_addr)) &&
	    slim_overlay(ntohl(sin.sin_addr.s_addr), &epoch)) {
		errno = e; /* an overlay destination the host refused */
		return r;
	}
	if (slim_unswap(fd, cand) < 0)
		return -1;
	return plain_connect(fd, addr, len);
}

SLIM_EXPORT int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	struct fd_state st;
	struct slim_ep dst;

	fdtable_lookup(fd, &st);
	if (st.kind != FD_CANDIDATE && st.kind != FD_CLIENT)
		return real_connect(fd, addr, len);
	if (st.kind == FD_CANDIDATE && st.host && st.bound) {
		/* A source address the app chose: not the listener-to-be. */
		if (slim_resv_swap_in(fd, &st) < 0)
			return -1;
	} else if (st.kind == FD_CANDIDATE && st.host) {
		int r = eager_connect(fd, &st, addr, len);

		if (r != -2)
			return r;
	}
	/* NULL, short, unreadable, not AF_INET (or for an AF_INET6 socket,
	 * not an address the IPv4 overlay can carry): the kernel says what is
	 * wrong, or the container network carries it. */
	if (st.v6 ? !slim_v6_read(addr, len, &dst) : slim_read_sin(addr, len, &dst) < 0)
		return real_connect(fd, addr, len);
	if (st.kind == FD_CLIENT)
		return client_connect(fd, &st, dst, addr, len);
	if (st.v6 && v6only(fd))
		return real_connect(fd, addr, len); /* v4-mapped is not for it: ENETUNREACH */
	return candidate_connect(fd, &st, dst, addr, len);
}
