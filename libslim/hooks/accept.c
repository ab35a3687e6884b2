/* accept(), accept4(): a connection accepted from a slim listener is
 * recorded (its listener's address, for the TIME_WAIT emulation of
 * timewait.h, and v6 for a listener carried for an AF_INET6 app socket,
 * whose peer address is then reported v4-mapped). Other listeners:
 * straight through. */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/socket.h>

#include "common.h"
#include "fdtable.h"
#include "real.h"
#include "timewait.h"
#include "uaddr.h"
#include "v4mapped.h"

/* accept4 on a listener carried for an AF_INET6 app socket: the peer's
 * name is handed over v4-mapped. */
static int accept_mapped(int fd, const struct fd_state *l, struct sockaddr *addr, socklen_t *len,
			 int flags)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss), ulen = 0;
	int nfd;

	if (addr && len && (slim_peek(&ulen, len, sizeof(ulen)) < 0 || (int)ulen < 0))
		return real_accept4(fd, addr, len, flags); /* the kernel reports it */
	nfd = real_accept4(fd, (struct sockaddr *)&ss, &sl, flags);
	if (nfd < 0)
		return -1;
	slim_note_accepted(nfd, l);
	if (addr && len) {
		int saved = errno;

		slim_put_name(&ss, sl, addr, len, ulen);
		errno = saved;
	}
	return nfd;
}

SLIM_EXPORT int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
	struct fd_state l;
	int nfd;

	fdtable_get(fd, &l);
	switch (l.kind) {
	case FD_LISTENER:
		if (l.v6)
			return accept_mapped(fd, &l, addr, len, flags);
		nfd = real_accept4(fd, addr, len, flags);
		if (nfd >= 0)
			slim_note_accepted(nfd, &l);
		return nfd;
	default:
		return real_accept4(fd, addr, len, flags);
	}
}

SLIM_EXPORT int accept(int fd, struct sockaddr *addr, socklen_t *len)
{
	return accept4(fd, addr, len, 0);
}
