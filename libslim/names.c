/* getsockname() and getpeername() on swapped sockets report the virtual
 * addresses. The real call runs first on the app's own buffers, so every
 * error (EBADF, ENOTCONN, EFAULT, EINVAL) and the reported length are
 * exactly Linux's; only the address bytes the kernel wrote are replaced. */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "common.h"
#include "fdtable.h"
#include "real.h"
#include "uaddr.h"

static bool swapped(enum fd_kind k)
{
	return k == FD_CLIENT || k == FD_LISTENER || k == FD_ACCEPTED;
}

SLIM_EXPORT int getsockname(int fd, struct sockaddr *addr, socklen_t *len)
{
	struct fd_state st;
	struct slim_ep ep;
	socklen_t orig;
	int r;

	fdtable_lookup(fd, &st);
	if (!swapped(st.kind) || slim_peek(&orig, len, sizeof(orig)) < 0)
		return real_getsockname(fd, addr, len);
	r = real_getsockname(fd, addr, len);
	if (r < 0)
		return r;
	ep = st.local;
	if (st.kind == FD_CLIENT) {
		/* own vip with the host socket's real port: from what the
		 * kernel just wrote if the buffer held it, else asked again */
		struct sockaddr_in sin;
		socklen_t sl = sizeof(sin);
		int saved = errno;

		if (orig >= sizeof(sin) && addr->sa_family == AF_INET)
			ep.port = ntohs(((const struct sockaddr_in *)addr)->sin_port);
		else if (real_getsockname(fd, (struct sockaddr *)&sin, &sl) == 0)
			ep.port = ntohs(sin.sin_port);
		errno = saved;
	}
	slim_rewrite_addr(addr, orig, ep);
	return r;
}

SLIM_EXPORT int getpeername(int fd, struct sockaddr *addr, socklen_t *len)
{
	struct fd_state st;
	socklen_t orig;
	int r;

	fdtable_lookup(fd, &st);
	if ((st.kind != FD_CLIENT && st.kind != FD_ACCEPTED) ||
	    slim_peek(&orig, len, sizeof(orig)) < 0)
		return real_getpeername(fd, addr, len);
	r = real_getpeername(fd, addr, len);
	if (r == 0)
		slim_rewrite_addr(addr, orig, st.peer);
	return r;
}
