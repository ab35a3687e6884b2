/* bind() and listen(): a candidate bound to 0.0.0.0 or its own vip becomes a
 * host listener for that virtual port when it listens. */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "common.h"
#include "fdtable.h"
#include "real.h"
#include "router.h"
#include "swap.h"
#include "uaddr.h"

/* The container socket is really bound, so errors (EADDRINUSE, EACCES for
 * low ports...) are the container's own and port 0 gets a real port. */
SLIM_EXPORT int bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	struct fd_state st;
	struct slim_ep ep;
	int r, saved;

	fdtable_lookup(fd, &st);
	if (st.kind != FD_CANDIDATE)
		return real_bind(fd, addr, len);
	/* A host socket from socket(): the app binds in its container. */
	if (st.host && slim_unswap(fd, &st) < 0)
		return -1;
	if (slim_read_sin(addr, len, &ep) < 0)
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
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	struct slim_ep vaddr;
	int hostfd, r;

	fdtable_lookup(fd, &st);
	if (st.kind != FD_CANDIDATE)
		return real_listen(fd, backlog);
	if (st.host && slim_unswap(fd, &st) < 0)
		return -1;
	if (!st.bound || !slim_active() || (st.aux.ip != INADDR_ANY && st.aux.ip != slim_vip()))
		return plain_listen(fd, backlog);
	if (real_getsockname(fd, (struct sockaddr *)&sin, &sl) < 0 || sin.sin_family != AF_INET)
		return plain_listen(fd, backlog);
	/* Linux reads a negative backlog as "as many as allowed". */
	r = slim_router_listen(st.aux.ip, ntohs(sin.sin_port), backlog < 0 ? SOMAXCONN : backlog,
			       &vaddr, &hostfd);
	if (r == SLIM_FALLBACK)
		return plain_listen(fd, backlog);
	if (r > 0) {
		errno = r; /* e.g. EADDRINUSE: another process has vip:port */
		return -1;
	}
	if (slim_swap(fd, hostfd, st.opts) < 0)
		return -1;
	/* getsockname shows the address the app bound to (0.0.0.0 stays
	 * 0.0.0.0) with the virtual port: the getsockname4 program. */
	vaddr.ip = st.aux.ip;
	st = (struct fd_state){.kind = FD_LISTENER, .ino = fd_inode(fd), .local = vaddr};
	fdtable_set(fd, &st);
	return 0;
}
