/* bind() and listen(): a candidate bound to 0.0.0.0 or its own vip becomes a
 * host listener for that virtual port when it listens.
 *
 * A pool socket (the usual case) becomes the listener itself, with no swap:
 * bind() binds a container socket as the app asked (the "reservation": the
 * container's own errors, EADDRINUSE, EACCES, port 0 picking a real port)
 * and then the host socket, which the bind4 program moves to the reserved
 * port; listen() is the app's own, and sockops files the listener. So every
 * epoll registration, dup or fork copy the app made at any point refers to
 * the listener. The reservation stays bound while the listener lives, so
 * the port is in use in the container as it would be. A container socket
 * (no pool: SLIM_FASTPATH=0, or the router refused) still gets a host
 * listener from the router, swapped in at listen(). */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "common.h"
#include "fdtable.h"
#include "highfd.h"
#include "inet6.h"
#include "real.h"
#include "router.h"
#include "slim_maps.h"
#include "swap.h"
#include "timewait.h"
#include "uaddr.h"

bool slim_resv_ours(int fd, uint32_t ino)
{
	return ino && (uint32_t)fd_inode(fd) == ino;
}

void slim_resv_close(int fd, uint32_t ino)
{
	if (slim_resv_ours(fd, ino))
		real_close(fd);
}

void slim_resv_release(uint64_t packed)
{
	slim_resv_close((int)(packed >> 32), (uint32_t)packed);
}

/* The address that tells the bind4 program "a listener for ep": the vip,
 * or SLIM_BIND_ANY_MARK for 0.0.0.0. */
static struct sockaddr_in listener_addr(struct slim_ep ep)
{
	struct sockaddr_in sin = slim_sin(ep);

	sin.sin_addr.s_addr = htonl(ep.ip ? ep.ip : SLIM_BIND_ANY_MARK);
	return sin;
}

/* A reservation costs the app a second fd per listener. It is made while
 * the listener's own fd is in the lower half of the fd limit: an app with
 * thousands of listeners must not run out of fds where the plain network
 * would not; past that point its listeners do not hold their container
 * port (the overlay itself is unaffected). */
static bool resv_affordable(int fd)
{
	struct rlimit rl;
	int saved = errno;
	bool ok = getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY ||
		  (rlim_t)fd < rl.rlim_cur / 2;

	errno = saved;
	return ok;
}

/* bind() of a pool socket to ep (0.0.0.0 or our vip). Returns 0, -1 with
 * errno (the container's verdict on the address: the app's socket is left
 * as it was, unbound), or -2 when the host socket cannot take the address
 * (then the caller binds a container socket the usual way). */
static int host_bind(int fd, struct fd_state *st, const struct sockaddr *addr, socklen_t len,
		     struct slim_ep ep)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	int resv, e;

	if (!slim_active() || (ep.ip != INADDR_ANY && ep.ip != slim_vip()))
		return -2;
	if (!resv_affordable(fd)) {
		/* No reservation: the host socket takes the port as it is
		 * (port 0 needs the container to pick one: a container
		 * socket then, and the router's listener at listen()). */
		if (ep.port == 0)
			return -2;
		sin = listener_addr(ep);
		if (real_bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
			return -2;
		st->bound = true;
		st->aux = ep;
		st->resv_ino = 0;
		fdtable_set(fd, st);
		return 0;
	}
	resv = real_socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (resv < 0)
		return -2;
	slim_copy_reuse(fd, resv);
	if (real_bind(resv, addr, len) < 0 ||
	    real_getsockname(resv, (struct sockaddr *)&sin, &sl) < 0) {
		e = errno;
		real_close(resv);
		errno = e;
		return -1;
	}
	ep.port = ntohs(sin.sin_port);
	sin = listener_addr(ep);
	if (real_bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		/* No bind4 program (an older router) or no route for our own
		 * vip: the reservation, bound as the app asked, becomes the
		 * app's socket, and listen() asks the router. */
		if (slim_swap(fd, resv, st->opts) < 0)
			return -1;
		st->host = false;
		st->ino = fd_inode(fd);
		st->bound = true;
		st->aux = ep;
		fdtable_set(fd, st);
		return 0;
	}
	resv = slim_move_fd(resv, slim_high_base());
	st->bound = true;
	st->aux = ep; /* replaces the epoch: a bound pool socket never connects as it is */
	st->resv = resv;
	st->resv_ino = (uint32_t)fd_inode(resv);
	fdtable_set(fd, st);
	return 0;
}

int slim_resv_swap_in(int fd, struct fd_state *st)
{
	int resv = st->resv;

	if (!slim_resv_ours(resv, st->resv_ino))
		return slim_unswap(fd, st);
	if (slim_swap(fd, resv, st->opts) < 0)
		return -1;
	st->host = false;
	st->ino = fd_inode(fd);
	st->resv_ino = 0;
	fdtable_set(fd, st);
	return 0;
}

/* Once the host socket listens, the reservation must refuse every other
 * bind of the port in the container, with SO_REUSEADDR or not, as a
 * listener does. A bound socket with SO_REUSEADDR would let another
 * SO_REUSEADDR socket share the port (and the kernel remembers the first
 * owner's SO_REUSEADDR in the port's bucket), so the reservation is bound
 * again without it. If that fails (a TIME_WAIT of the container's own on
 * the port), it is bound again with the app's flags. Returns the new
 * reservation fd, or -1 (the port is then not held: the listener works,
 * the container just does not see the port as taken). *app_reuse: whether
 * the app set SO_REUSEADDR (timewait.c). */
static int hold_port(const struct fd_state *st, bool *app_reuse)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	int old = st->resv, fd, one = 1, reuse = 0, reuseport = 0;
	socklen_t rl = sizeof(reuse);

	if (!slim_resv_ours(old, st->resv_ino) ||
	    real_getsockname(old, (struct sockaddr *)&sin, &sl) < 0)
		return -1;
	(void)getsockopt(old, SOL_SOCKET, SO_REUSEADDR, &reuse, &rl);
	*app_reuse = reuse != 0;
	fd = real_socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return old;
	/* SO_REUSEPORT stays: other sockets of the app's reuseport group may
	 * still bind the port, as they could with its listener there. */
	rl = sizeof(reuseport);
	if (getsockopt(old, SOL_SOCKET, SO_REUSEPORT, &reuseport, &rl) == 0 && reuseport)
		(void)real_setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	real_close(old);
	if (real_bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0)
		return slim_move_fd(fd, slim_high_base());
	if (reuse)
		(void)real_setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (real_bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0)
		return slim_move_fd(fd, slim_high_base());
	real_close(fd);
	return -1;
}

/* The container socket is really bound, so errors (EADDRINUSE, EACCES for
 * low ports...) are the container's own and port 0 gets a real port. */
SLIM_EXPORT int bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	struct fd_state st;
	struct slim_ep ep;
	int r, saved;

	slim_tw_sweep(); /* a kept reservation whose TIME_WAIT ended lets go first */
	fdtable_lookup(fd, &st);
	if (st.kind != FD_CANDIDATE)
		return real_bind(fd, addr, len);
	if (st.host && st.bound)
		return real_bind(fd, addr, len); /* bound already: the kernel says EINVAL */
	if (st.host && slim_read_sin(addr, len, &ep) == 0) {
		r = host_bind(fd, &st, addr, len, ep);
		if (r != -2)
			return r;
	}
	/* Any other bind (say 127.0.0.1): the app binds in its container. */
	if (st.host && slim_unswap(fd, &st) < 0)
		return -1;
	if (st.v6 ? !slim_v6_read(addr, len, &ep) : slim_read_sin(addr, len, &ep) < 0)
		return real_bind(fd, addr, len);
	r = real_bind(fd, addr, len);
	if (r == 0) {
		saved = errno;
		st.bound = true;
		st.aux = ep;
		fdtable_set(fd, &st);
		errno = saved;
	}
	return r;
}

/* Listens on the container socket and, on success, records fd as plain:
 * a listening socket is never swapped later (connect on it must keep
 * failing with EISCONN, as Linux says). */
static int plain_listen(int fd, int backlog)
{
	int r = real_listen(fd, backlog), saved = errno;
	struct fd_state st = {.kind = FD_PLAIN};

	if (r == 0)
		fdtable_set(fd, &st);
	errno = saved;
	return r;
}

/* An unbound candidate (Linux would autobind it to an ephemeral port) stays
 * plain: nobody could know its virtual port. */
SLIM_EXPORT int listen(int fd, int backlog)
{
	struct fd_state st;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct slim_ep vaddr;
	int hostfd, r, v6only = 0, app_reuse = 0;
	socklen_t ol = sizeof(v6only), rl = sizeof(app_reuse);
	bool reuse = false;
	uint16_t port;

	slim_tw_sweep();
	fdtable_lookup(fd, &st);
	if (st.kind != FD_CANDIDATE)
		return real_listen(fd, backlog);
	if (st.host && st.bound) {
		r = real_listen(fd, backlog);
		if (r < 0)
			return r;
		vaddr = st.aux;
		r = hold_port(&st, &reuse);
		st = (struct fd_state){.kind = FD_LISTENER,
				       .ino = st.ino,
				       .local = vaddr,
				       .aux = {.ip = reuse ? SLIM_TW_REUSE : 0}};
		if (r >= 0) {
			st.resv = r;
			st.resv_ino = (uint32_t)fd_inode(r);
		}
		fdtable_set(fd, &st);
		return 0;
	}
	if (st.host && slim_unswap(fd, &st) < 0)
		return -1;
	if (!st.bound || !slim_active() || (st.aux.ip != INADDR_ANY && st.aux.ip != slim_vip()))
		return plain_listen(fd, backlog);
	if (real_getsockname(fd, (struct sockaddr *)&ss, &sl) < 0)
		return plain_listen(fd, backlog);
	if (ss.ss_family == AF_INET) {
		port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	} else if (ss.ss_family == AF_INET6 && st.v6 &&
		   getsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, &ol) == 0 && !v6only) {
		/* A dual-stack listener: IPv4 peers reach it, so the overlay
		 * does too (an IPV6_V6ONLY one only hears IPv6: not ours). */
		port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	} else {
		return plain_listen(fd, backlog);
	}
	/* Linux reads a negative backlog as "as many as allowed". */
	r = slim_router_listen(st.aux.ip, port, backlog < 0 ? SOMAXCONN : backlog, &vaddr, &hostfd);
	if (r == SLIM_FALLBACK)
		return plain_listen(fd, backlog);
	if (r > 0) {
		errno = r; /* e.g. EADDRINUSE: another process has vip:port */
		return -1;
	}
	(void)getsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &app_reuse, &rl);
	if (slim_swap(fd, hostfd, st.opts) < 0)
		return -1;
	/* getsockname shows the address the app bound to (0.0.0.0 stays
	 * 0.0.0.0) with the virtual port: the getsockname4 program. */
	vaddr.ip = st.aux.ip;
	st = (struct fd_state){.kind = FD_LISTENER,
			       .ino = fd_inode(fd),
			       .local = vaddr,
			       .v6 = st.v6,
			       .aux = {.ip = app_reuse ? SLIM_TW_REUSE : 0}};
	fdtable_set(fd, &st);
	return 0;
}
