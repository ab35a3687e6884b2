/* close(), close_range(), closefrom(): forget what the app closes; keep
 * libslim's own router connection through the app's close-everything calls.
 * close() is async-signal-safe: atomic stores only, no lock, no
 * allocation. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <linux/close_range.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common.h"
#include "fdtable.h"
#include "real.h"
#include "router.h"
#include "swap.h"
#include "timewait.h"

/* Set once libslim's constructors ran: the libraries it depends on (the
 * ASan runtime in a sanitizer build) are initialised by then. */
static _Atomic bool ready;

__attribute__((constructor)) static void close_ctor(void)
{
	atomic_store(&ready, true);
}

static int slim_close(int fd)
{
	uint64_t resv = fdtable_take_resv(fd);
	struct fd_state st;

	fdtable_get(fd, &st);
	if ((st.kind == FD_ACCEPTED || (st.kind == FD_LISTENER && resv)) && fd_inode(fd) == st.ino)
		slim_tw_closing(fd, &st, resv);
	else
		slim_resv_release(resv);
	fdtable_clear(fd);
	slim_router_fd_closed(fd);
	return real_close(fd);
}

/* Another library's constructor may close fds before ours ran (libcap-ng
 * does, under postgres): nothing of ours can be recorded yet, so that close
 * is the kernel's alone. */
SLIM_EXPORT SLIM_NO_ASAN int close(int fd)
{
	if (!atomic_load_explicit(&ready, memory_order_relaxed))
		return (int)syscall(SYS_close, fd);
	return slim_close(fd);
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
