/* close_range(), closefrom(): a daemon's close-everything call takes
 * libslim's own fds with it (the fd table's records go stale and are
 * recognised by inode later). The connection is made again right away:
 * the numbers just freed leave room for it, where a lazy reconnect could
 * find the fd table full. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/close_range.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "channel.h"
#include "common.h"
#include "pool.h"
#include "real.h"
#include "session.h"

/* libslim's own fds among first..last (the channel's, the pool's ring)
 * are made again at once. */
static void range_closed(unsigned int first, unsigned int last)
{
	if (channel_range_closed(first, last))
		session_reopen();
	pool_range_closed(first, last);
}

SLIM_EXPORT int close_range(unsigned int first, unsigned int last, int flags)
{
	int r = (int)syscall(SYS_close_range, first, last, flags);

	if (r == 0 && !(flags & CLOSE_RANGE_CLOEXEC))
		range_closed(first, last);
	return r;
}

SLIM_EXPORT void closefrom(int lowfd)
{
	void (*next)(int) = (void (*)(int))real_sym("closefrom");
	int saved = errno;

	if (lowfd < 0)
		lowfd = 0;
	/* glibc's own closefrom falls back to walking /proc/self/fd when the
	 * kernel has no close_range. */
	if (syscall(SYS_close_range, (unsigned int)lowfd, ~0U, 0) != 0 && next)
		next(lowfd);
	range_closed((unsigned int)lowfd, ~0U);
	errno = saved;
}
