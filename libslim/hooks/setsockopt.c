/* setsockopt(): remembers which options the app set on a socket that may
 * still be swapped (CONTAINER, POOLED, HOST_BOUND, CLIENT), so that a swap
 * carries exactly those to the socket that takes the fd's place. */
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
	uint32_t bit, *opts;

	if (r != 0)
		return r;
	fdtable_get(fd, &st);
	opts = fd_state_opts(&st);
	if (!opts)
		return r;
	bit = slim_opt_bit(level, name);
	if (bit && !(*opts & bit)) {
		*opts |= bit;
		fdtable_set(fd, &st);
	}
	return r;
}
