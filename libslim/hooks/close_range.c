/* close_range(), closefrom(): a daemon's close-everything call takes
 * libslim's own fds with it (the fd table's records go stale and are
 * recognised by inode later). The connection is made again right away:
 * the numbers just freed leave room for it, where a lazy reconnect could
 * find the fd table full. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <linux/close_range.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "channel.h"
#include "common.h"
#include "fdtable.h"
#include "merge.h"
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

static void release_one(int fd, const struct fd_state *st, void *arg)
{
	(void)arg;
	if (st->kind == FD_LISTENER || st->kind == FD_CSIDE) {
		merge_closing(fd);
		fdtable_clear(fd);
	}
}

/* Before first..last close: the merged listeners among them release their
 * container sides, and a container side among them is unlinked from its
 * listener (which loses it). */
static void range_closing(unsigned int first, unsigned int last)
{
	if (!merge_any() || first > INT_MAX)
		return;
	fdtable_each((int)first, last > INT_MAX ? INT_MAX : (int)last, release_one, NULL);
}

SLIM_EXPORT int close_range(unsigned int first, unsigned int last, int flags)
{
	int r;

	if (first <= last && !(flags & ~(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC)) &&
	    !(flags & CLOSE_RANGE_CLOEXEC))
		range_closing(first, last);
	r = (int)syscall(SYS_close_range, first, last, flags);

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
	range_closing((unsigned int)lowfd, ~0U);
	/* glibc's own closefrom falls back to walking /proc/self/fd when the
	 * kernel has no close_range. */
	if (syscall(SYS_close_range, (unsigned int)lowfd, ~0U, 0) != 0 && next)
		next(lowfd);
	range_closed((unsigned int)lowfd, ~0U);
	errno = saved;
}
