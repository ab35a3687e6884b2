/* shutdown(): on a merged listener it reaches the container side too
 * (SHUT_RD stops both: accept then fails with EINVAL, as on the plain
 * network). Every other socket's is the kernel's (an accepted overlay
 * connection's FIN sent first is noted by the BPF programs: timewait.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/socket.h>

#include "common.h"
#include "merge.h"
#include "real.h"

SLIM_EXPORT int shutdown(int fd, int how)
{
	struct slim_resv c;
	int r = real_shutdown(fd, how), saved;

	if (r == 0 && merge_side(fd, &c)) {
		saved = errno;
		(void)real_shutdown(c.fd, how);
		errno = saved;
	}
	return r;
}
