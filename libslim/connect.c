/* connect(): an overlay destination gets a host socket from the router,
 * swapped in place of the app's fd, then connected to the owning host. */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "common.h"
#include "fdtable.h"
#include "real.h"
#include "router.h"
#include "swap.h"
#include "uaddr.h"

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

/* The candidate path: overlay if dst is in a route, else plain. */
static int candidate_connect(int fd, const struct fd_state *cand, struct slim_ep dst,
			     const struct sockaddr *addr, socklen_t len)
{
	struct fd_state st = {.kind = FD_CLIENT};
	struct slim_ep underlay;
	struct sockaddr_in sin;
	int hostfd, r;

	if (!slim_active() || is_loopback(dst.ip) || !slim_route_for(dst.ip))
		return plain_connect(fd, addr, len);
	/* Bound to some other local address (say 127.0.0.1): the app wants
	 * the container's own stack. */
	if (cand->bound && cand->aux.ip != INADDR_ANY && cand->aux.ip != slim_vip())
		return plain_connect(fd, addr, len);
	r = slim_router_connect(dst, &underlay, &hostfd);
	if (r == SLIM_FALLBACK)
		return plain_connect(fd, addr, len);
	if (r > 0) {
		/* The router's answer (EHOSTUNREACH, ECONNREFUSED...): no
		 * silent detour through the container network. */
		errno = r;
		return -1;
	}
	if (slim_swap(fd, hostfd, cand->opts_set) < 0)
		return -1;
	st.ino = fd_inode(fd);
	st.local.ip = slim_vip();
	st.peer = dst;
	st.aux = underlay;
	fdtable_set(fd, &st);
	sin = slim_sin(underlay);
	return real_connect(fd, (struct sockaddr *)&sin, sizeof(sin));
}

/* connect() again on a swapped socket: the same destination is the usual
 * non-blocking poll (answered by the host socket: EALREADY, EISCONN, 0);
 * another one is refused like Linux does, unless the earlier attempt failed
 * and the socket is closed, when the app may start over. */
static int client_connect(int fd, const struct fd_state *cl, struct slim_ep dst,
			  const struct sockaddr *addr, socklen_t len)
{
	struct tcp_info ti;
	socklen_t tl = sizeof(ti);
	struct sockaddr_in sin;
	struct fd_state cand = {.kind = FD_CANDIDATE};
	int fresh;

	if (dst.ip == cl->peer.ip && dst.port == cl->peer.port) {
		sin = slim_sin(cl->aux);
		return real_connect(fd, (struct sockaddr *)&sin, sizeof(sin));
	}
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &tl) == 0 && ti.tcpi_state != TCP_CLOSE) {
		errno = ti.tcpi_state == TCP_SYN_SENT ? EALREADY : EISCONN;
		return -1;
	}
	/* Start over on a new container socket, as if the app had a fresh one. */
	fresh = real_socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fresh < 0)
		return -1;
	if (slim_swap(fd, fresh, true) < 0)
		return -1;
	cand.ino = fd_inode(fd);
	cand.opts_set = true; /* the options now sit on the fresh socket */
	fdtable_set(fd, &cand);
	return candidate_connect(fd, &cand, dst, addr, len);
}

SLIM_EXPORT int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	struct fd_state st;
	struct slim_ep dst;

	fdtable_lookup(fd, &st);
	if (st.kind != FD_CANDIDATE && st.kind != FD_CLIENT)
		return real_connect(fd, addr, len);
	/* NULL, short, unreadable, not AF_INET: the kernel says what is wrong. */
	if (slim_read_sin(addr, len, &dst) < 0)
		return real_connect(fd, addr, len);
	if (st.kind == FD_CLIENT)
		return client_connect(fd, &st, dst, addr, len);
	return candidate_connect(fd, &st, dst, addr, len);
}
