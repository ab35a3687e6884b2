/* listen(): a host-bound pool socket listens itself (the sockops program
 * files it as the container's listener for its virtual port), and its
 * reservation is bound again so that it refuses every other bind of the
 * port in the container. A container socket bound to 0.0.0.0 or the vip
 * (no pool: SLIM_FASTPATH=0, or the router could not give one) gets a host
 * listener from the router, swapped in under its fd. An unbound socket
 * (Linux would autobind it to an ephemeral port) stays plain: nobody could
 * know its virtual port. */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "common.h"
#include "fdtable.h"
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

static int host_bound_listen(int fd, struct fd_state *st, int backlog)
{
	struct fd_host_bound hb = st->u.host_bound;
	bool reuse = false;
	int r = real_listen(fd, backlog);

	if (r < 0)
		return r;
	*st = (struct fd_state){.kind = FD_LISTENER, .ino = st->ino};
	st->u.listener.local = hb.addr;
	st->u.listener.resv = slim_resv_hold(hb.resv, &reuse);
	st->u.listener.reuse = reuse;
	fdtable_set(fd, st);
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

static int container_listen(int fd, struct fd_state *st, int backlog)
{
	const struct fd_container c = st->u.container;
	struct fd_state l = {.kind = FD_LISTENER, .v6 = st->v6};
	socklen_t rl = sizeof(int);
	int hostfd, r, app_reuse = 0;
	struct slim_ep vaddr;
	uint16_t port;

	if (!c.bound || !slim_active() || (c.addr.ip != INADDR_ANY && c.addr.ip != slim_vip()) ||
	    !overlay_port(fd, st, &port))
		return plain_listen(fd, backlog);
	/* Linux reads a negative backlog as "as many as allowed". */
	r = rpc_listen(c.addr.ip, port, backlog < 0 ? SOMAXCONN : backlog, &vaddr, &hostfd);
	if (r == RPC_FALLBACK)
		return plain_listen(fd, backlog);
	if (r > 0) {
		errno = r; /* e.g. EADDRINUSE: another process has vip:port */
		return -1;
	}
	(void)getsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &app_reuse, &rl);
	slim_copy_reuse(fd, hostfd);
	if (slim_swap(fd, hostfd, c.opts) < 0)
		return -1;
	/* getsockname shows the address the app bound to (0.0.0.0 stays
	 * 0.0.0.0) with the virtual port: the getsockname4 program. */
	l.ino = fd_inode(fd);
	l.u.listener.local = (struct slim_ep){.ip = c.addr.ip, .port = vaddr.port};
	l.u.listener.reuse = app_reuse != 0;
	l.u.listener.resv = (struct slim_resv){.fd = -1, .ino = 0};
	fdtable_set(fd, &l);
	return 0;
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
	default:
		return real_listen(fd, backlog);
	}
}
