/* accept(), accept4(): on a slim listener, a connection from its host
 * socket (recorded: a v6 listener's accepted sockets show v4-mapped
 * names, its peer name reported so here too) or, for a merged listener, from
 * its container side too (merge_accept.h). Other listeners: straight
 * through. */
#define _GNU_SOURCE
#include <sys/socket.h>

#include "common.h"
#include "fdtable.h"
#include "merge_accept.h"
#include "real.h"

SLIM_EXPORT int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
	struct fd_state l;
	int nfd;

	fdtable_get(fd, &l);
	switch (l.kind) {
	case FD_LISTENER:
		if (l.u.listener.resv.ino)
			return merge_accept(fd, &l, addr, len, flags);
		return slim_host_accept(fd, &l, addr, len, flags);
	default:
		nfd = real_accept4(fd, addr, len, flags);
		/* A record left on the number by a raw close is not this
		 * socket's. */
		if (nfd >= 0)
			fdtable_clear(nfd);
		return nfd;
	}
}

SLIM_EXPORT int accept(int fd, struct sockaddr *addr, socklen_t *len)
{
	return accept4(fd, addr, len, 0);
}
