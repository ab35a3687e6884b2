/* shutdown(): SHUT_WR or SHUT_RDWR of an accepted overlay connection while
 * it is established sends our FIN first, and the close that follows may
 * find the socket already past its TIME_WAIT transition (it then reads
 * CLOSE): noted for timewait.h. On a merged listener it reaches the
 * container side too (SHUT_RD stops both: accept then fails with EINVAL,
 * as on the plain network). */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "common.h"
#include "fdtable.h"
#include "merge.h"
#include "real.h"

SLIM_EXPORT int shutdown(int fd, int how)
{
	struct fd_state st;
	struct slim_resv c;
	int s = -1, r, saved;

	fdtable_get(fd, &st);
	switch (st.kind) {
	case FD_ACCEPTED:
		if (how != SHUT_RD && !st.u.accepted.fin_first)
			s = fd_tcp_state(fd);
		break;
	case FD_LISTENER:
		r = real_shutdown(fd, how);
		if (r == 0 && merge_side(fd, &c)) {
			saved = errno;
			(void)real_shutdown(c.fd, how);
			errno = saved;
		}
		return r;
	default:
		return real_shutdown(fd, how);
	}
	r = real_shutdown(fd, how);
	if (r != 0 || s != TCP_ESTABLISHED)
		return r;
	saved = errno;
	fdtable_lookup(fd, &st);
	if (st.kind == FD_ACCEPTED) {
		st.u.accepted.fin_first = true;
		fdtable_set(fd, &st);
	}
	errno = saved;
	return r;
}
