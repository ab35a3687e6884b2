/* listen(): a host-bound pool socket listens itself (the sockops program
 * files it as the container's listener for its virtual port), and so does
 * its reservation, as the listener's container side: slim clients reach
 * the one, every other client the other, and libslim merges the two
 * queues (merge.h). The container side listens first, so that its verdict
 * (EADDRINUSE: another socket listens on the port in the container) is the
 * app's. A container socket bound to 0.0.0.0 or the vip (no pool:
 * SLIM_FASTPATH=0, or the router could not give one; a dual-stack AF_INET6
 * socket) listens as it is, and gets a host listener from the router
 * swapped in under its fd: the app's own socket, kept by libslim, is the
 * container side. An unbound socket (Linux would autobind it to an
 * ephemeral port) stays plain: nobody could know its virtual port. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "common.h"
#include "fdtable.h"
#include "highfd.h"
#include "merge.h"
#include "merge_epoll.h"
#include "real.h"
#include "reservation.h"
#include "rpc.h"
#include "session.h"
#include "swap.h"
#include "timewait.h"

/* Listens on the container socket and, on success, records fd as plain:
 * a listening socket is never swapped later (connect on it must keep
 * failing with EISCONN, as Linux says). */
static int plain_listen(int fd, int backlog)
{
	int r = real_listen(fd, backlog), saved = errno;

	if (r == 0)
		fdtable_clear(fd);
	errno = saved;
	return r;
}

/* The app's SO_REUSEADDR, as its container side has it (timewait.c). */
static bool side_reuse(struct slim_resv c)
{
	int v = 0, saved = errno;
	socklen_t vl = sizeof(v);

	if (c.ino)
		(void)getsockopt(c.fd, SOL_SOCKET, SO_REUSEADDR, &v, &vl);
	errno = saved;
	return v != 0;
}

static int host_bound_listen(int fd, struct fd_state *st, int backlog)
{
	struct fd_host_bound hb = st->u.host_bound;
	struct slim_resv c = slim_resv_ours(hb.resv) ? hb.resv : (struct slim_resv){-1, 0};
	int saved;

	/* A copy made before listen (dup) listens: the reservation is the
	 * original's. */
	if (!c.ino)
		c = merge_sibling_resv(fd, st->ino);
	if (c.ino && merge_side_listen(c.fd, backlog) < 0)
		return -1; /* the container's verdict; still bound, not listening */
	if (real_listen(fd, backlog) < 0) {
		saved = errno;
		if (c.ino)
			(void)real_shutdown(c.fd, SHUT_RD); /* bound, no longer listening */
		errno = saved;
		return -1;
	}
	*st = (struct fd_state){.kind = FD_LISTENER, .v6 = st->v6, .ino = st->ino};
	st->u.listener.local = hb.addr;
	st->u.listener.reuse = side_reuse(c);
	st->u.listener.resv = c;
	merge_attach(fd, st, merge_registered(fd, st->ino));
	merge_bound_listening(fd, st->ino);
	return 0;
}

/* The virtual port a bound container socket listens on, if the overlay can
 * reach it: an AF_INET socket, or a dual-stack AF_INET6 one (an
 * IPV6_V6ONLY listener only hears IPv6: not ours). */
static bool overlay_port(int fd, const struct fd_state *st, uint16_t *port)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss), ol;
	int v6only = 0;

	if (real_getsockname(fd, (struct sockaddr *)&ss, &sl) < 0)
		return false;
	if (ss.ss_family == AF_INET) {
		*port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
		return true;
	}
	ol = sizeof(v6only);
	if (ss.ss_family == AF_INET6 && st->v6 &&
	    getsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, &ol) == 0 && !v6only) {
		*port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
		return true;
	}
	return false;
}

/* A copy of the app's listening container socket on a number of
 * libslim's, to keep as the container side once the host listener is
 * swapped in under fd (none past half the fd limit: reservation.h). */
static struct slim_resv keep_side(int fd)
{
	struct slim_resv none = {.fd = -1, .ino = 0};
	int c = fcntl(fd, F_DUPFD_CLOEXEC, 0), saved = errno;

	if (c >= 0 && !slim_resv_affordable(c)) {
		real_close(c);
		c = -1;
	}
	errno = saved;
	if (c < 0)
		return none;
	c = slim_move_fd(c, slim_high_base());
	return (struct slim_resv){.fd = c, .ino = (uint32_t)fd_inode(c)};
}

static int container_listen(int fd, struct fd_state *st, int backlog)
{
	const struct fd_container ct = st->u.container;
	struct fd_state l = {.kind = FD_LISTENER, .v6 = st->v6};
	socklen_t rl = sizeof(int);
	int hostfd, r, app_reuse = 0, saved;
	struct slim_resv c;
	struct slim_ep vaddr;
	uint16_t port;

	if (!ct.bound || !slim_active() || (ct.addr.ip != INADDR_ANY && ct.addr.ip != slim_vip()) ||
	    !overlay_port(fd, st, &port))
		return plain_listen(fd, backlog);
	/* The container's verdict first: the app's own socket listens. */
	if (real_listen(fd, backlog) < 0)
		return -1;
	/* Linux reads a negative backlog as "as many as allowed". */
	r = rpc_listen(ct.addr.ip, port, backlog < 0 ? SOMAXCONN : backlog, &vaddr, &hostfd);
	if (r == RPC_FALLBACK) {
		fdtable_clear(fd); /* a plain listener */
		return 0;
	}
	if (r > 0) {
		(void)real_shutdown(fd, SHUT_RD); /* bound, no longer listening */
		errno = r; /* e.g. EADDRINUSE: another process has vip:port */
		return -1;
	}
	(void)getsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &app_reuse, &rl);
	slim_copy_reuse(fd, hostfd);
	c = keep_side(fd);
	if (slim_swap(fd, hostfd, ct.opts) < 0) {
		/* The app's listening container socket is still under fd. */
		saved = errno;
		if (c.ino)
			real_close(c.fd);
		fdtable_clear(fd);
		errno = saved;
		return 0;
	}
	if (c.ino)
		(void)merge_side_listen(c.fd, backlog); /* O_NONBLOCK: ours alone now */
	/* An epoll registration of the app's socket made before listen stays
	 * on the container side (it is the same socket); the host listener
	 * now under fd joins those sets with the same events and data. */
	if (c.ino && fdtable_marked(fd, FDT_MARK_EPOLL))
		merge_epoll_follow(fd_inode(c.fd), fd);
	/* getsockname shows the address the app bound to (0.0.0.0 stays
	 * 0.0.0.0) with the virtual port: the getsockname4 program. */
	l.ino = fd_inode(fd);
	l.u.listener.local = (struct slim_ep){.ip = ct.addr.ip, .port = vaddr.port};
	l.u.listener.reuse = app_reuse != 0;
	l.u.listener.resv = c;
	merge_attach(fd, &l, false); /* the container side is the registered socket */
	return 0;
}

/* listen() again on a listener (another backlog, or after a shutdown that
 * stopped it): its container side follows. */
static int listener_listen(int fd, int backlog)
{
	struct slim_resv c;
	int r = real_listen(fd, backlog), saved = errno;

	if (r == 0 && merge_side(fd, &c))
		(void)real_listen(c.fd, backlog);
	errno = saved;
	return r;
}

SLIM_EXPORT int listen(int fd, int backlog)
{
	struct fd_state st;

	slim_tw_sweep();
	fdtable_lookup(fd, &st);
	switch (st.kind) {
	case FD_HOST_BOUND:
		return host_bound_listen(fd, &st, backlog);
	case FD_POOLED:
		/* Never bound: a container socket, which stays plain. */
		if (slim_unswap(fd, &st) < 0)
			return -1;
		return container_listen(fd, &st, backlog);
	case FD_CONTAINER:
		return container_listen(fd, &st, backlog);
	case FD_LISTENER:
		return listener_listen(fd, backlog);
	default:
		return real_listen(fd, backlog);
	}
}
