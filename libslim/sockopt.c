/* setsockopt(): remembers which options the app set on a candidate or
 * client socket, so that a swap carries exactly those to the socket that
 * replaces it. */
#define _GNU_SOURCE
#include <sys/socket.h>

#include "common.h"
#include "fdtable.h"
#include "real.h"
#include "swap.h"

SLIM_EXPORT int setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	int r = real_setsockopt(fd, level, name, val, len);
	struct fd_state st;
	uint32_t bit;

	if (r != 0)
		return r;
	fdtable_get(fd, &st);
	if (st.kind != FD_CANDIDATE && st.kind != FD_CLIENT)
		return r;
	bit = slim_opt_bit(level, name);
	if (bit && !(st.opts & bit)) {
		st.opts |= bit;
		fdtable_set(fd, &st);
	}
	return r;
}
