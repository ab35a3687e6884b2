/* close(), close_range(), closefrom(): forget what the app closes; keep
 * libslim's own router connection through the app's close-everything calls.
 * close() is async-signal-safe: atomic stores only, no lock, no
 * allocation. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/close_range.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common.h"
#include "fdtable.h"
#include "real.h"
#include "router.h"
#include "swap.h"

SLIM_EXPORT int close(int fd)
{
	slim_resv_release(fdtable_take_resv(fd));
	fdtable_clear(fd);
	slim_router_fd_closed(fd);
	return real_close(fd);
}

/* A daemon's close-everything call takes our router connection with it
 * (the fd table records go stale and are recognised by inode later). The
 * connection is made again right away: the numbers just freed leave room
 * for it, where a lazy reconnect could find the fd table full. */
SLIM_EXPORT int close_range(unsigned int first, unsigned int last, int flags)
{
	int r = (int)syscall(SYS_close_range, first, last, flags);

	if (r == 0 && !(flags & CLOSE_RANGE_CLOEXEC))
		slim_router_range_closed(first, last);
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
	slim_router_range_closed((unsigned int)lowfd, ~0U);
	errno = saved;
}
