/* setsockopt(): remembers that the app tuned a candidate socket, so the
 * swap knows whether the options are worth carrying to the host socket. */
#define _GNU_SOURCE
#include <sys/socket.h>

#include "common.h"
#include "fdtable.h"
#include "real.h"

SLIM_EXPORT int setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	int r = real_setsockopt(fd, level, name, val, len);
	struct fd_state st;

	if (r != 0)
		return r;
	fdtable_get(fd, &st);
	if (st.kind == FD_CANDIDATE && !st.opts_set) {
		st.opts_set = true;
		fdtable_set(fd, &st);
	}
	return r;
}
