/* poll(), ppoll() and their fortified entry points: a merged listener in
 * the set is waited on with its container side (merge_wait.h). A process
 * without one pays one load; otherwise one table read per entry. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "init.h"
#include "merge.h"
#include "merge_wait.h"
#include "real.h"

SLIM_EXPORT SLIM_NO_ASAN int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *ts,
				   const sigset_t *mask)
{
	int r;

	/* Before libslim's constructor: the kernel's, uninstrumented
	 * (close.c says why). */
	if (!slim_ready()) {
		struct timespec copy;

		if (ts)
			copy = *ts;
		return (int)syscall(SYS_ppoll, fds, n, ts ? &copy : NULL, mask,
				    mask ? _NSIG / 8 : 0);
	}
	if (!merge_any() || (r = merge_ppoll(fds, n, ts, mask)) == MERGE_NONE)
		return real_ppoll(fds, n, ts, mask);
	return r;
}

SLIM_EXPORT SLIM_NO_ASAN int poll(struct pollfd *fds, nfds_t n, int timeout)
{
	struct timespec ts;
	int r;

	if (!slim_ready()) {
		ts.tv_sec = timeout / 1000;
		ts.tv_nsec = (long)(timeout % 1000) * 1000000L;
		return (int)syscall(SYS_ppoll, fds, n, timeout < 0 ? NULL : &ts, NULL, 0);
	}
	if (!merge_any())
		return real_poll(fds, n, timeout);
	ts.tv_sec = timeout / 1000;
	ts.tv_nsec = (long)(timeout % 1000) * 1000000L;
	r = merge_ppoll(fds, n, timeout < 0 ? NULL : &ts, NULL);
	if (r == MERGE_NONE)
		return real_poll(fds, n, timeout);
	return r;
}

typedef int (*poll_chk_fn)(struct pollfd *, nfds_t, int, size_t);
typedef int (*ppoll_chk_fn)(struct pollfd *, nfds_t, const struct timespec *, const sigset_t *,
			    size_t);

/* _FORTIFY_SOURCE's poll: glibc's checks the array's size, then calls its
 * own poll, not this one. A size that fails the check goes to glibc's,
 * which aborts as it would. */
SLIM_EXPORT int __poll_chk(struct pollfd *fds, nfds_t n, int timeout, size_t fdslen)
{
	if (fdslen / sizeof(*fds) < n) {
		poll_chk_fn f = (poll_chk_fn)real_sym("__poll_chk");

		if (f)
			return f(fds, n, timeout, fdslen);
		abort();
	}
	return poll(fds, n, timeout);
}

SLIM_EXPORT int __ppoll_chk(struct pollfd *fds, nfds_t n, const struct timespec *ts,
			    const sigset_t *mask, size_t fdslen)
{
	if (fdslen / sizeof(*fds) < n) {
		ppoll_chk_fn f = (ppoll_chk_fn)real_sym("__ppoll_chk");

		if (f)
			return f(fds, n, ts, mask, fdslen);
		abort();
	}
	return ppoll(fds, n, ts, mask);
}
