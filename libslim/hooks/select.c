/* select() and pselect(): a merged listener in the read set is waited on
 * with its container side. The sets are then waited on as a ppoll
 * (merge_wait.h): a container side may sit above FD_SETSIZE, and ppoll
 * has no such bound. Everything else is the app's own call. */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "init.h"
#include "merge.h"
#include "merge_wait.h"
#include "real.h"

/* The app's own call. Before libslim's constructor, the system call,
 * uninstrumented (close.c says why). */
static SLIM_NO_ASAN int plain_pselect(int nfds, fd_set *r, fd_set *w, fd_set *e,
				      const struct timespec *ts, const sigset_t *mask)
{
	struct {
		const sigset_t *ss;
		size_t len;
	} m = {mask, _NSIG / 8};
	struct timespec copy;

	if (slim_ready())
		return real_pselect(nfds, r, w, e, ts, mask);
	if (ts)
		copy = *ts;
	return (int)syscall(SYS_pselect6, nfds, r, w, e, ts ? &copy : NULL, mask ? &m : NULL);
}

static SLIM_NO_ASAN int plain_select(int nfds, fd_set *r, fd_set *w, fd_set *e, struct timeval *tv)
{
	if (slim_ready())
		return real_select(nfds, r, w, e, tv);
	return (int)syscall(SYS_select, nfds, r, w, e, tv);
}

SLIM_EXPORT SLIM_NO_ASAN int pselect(int nfds, fd_set *r, fd_set *w, fd_set *e,
				     const struct timespec *ts, const sigset_t *mask)
{
	int res;

	if (!slim_ready() || !merge_any() ||
	    (ts && (ts->tv_sec < 0 || ts->tv_nsec < 0 || ts->tv_nsec >= 1000000000L)) ||
	    (res = merge_pselect(nfds, r, w, e, ts, mask)) == MERGE_NONE)
		return plain_pselect(nfds, r, w, e, ts, mask);
	return res;
}

/* Linux's select writes the time left back into the app's timeval. */
SLIM_EXPORT SLIM_NO_ASAN int select(int nfds, fd_set *r, fd_set *w, fd_set *e, struct timeval *tv)
{
	struct timespec ts, start, now;
	int res, saved;
	long long left_us;

	if (!slim_ready() || !merge_any() || (tv && (tv->tv_sec < 0 || tv->tv_usec < 0)))
		return plain_select(nfds, r, w, e, tv);
	if (tv) {
		ts.tv_sec = tv->tv_sec + tv->tv_usec / 1000000;
		ts.tv_nsec = (tv->tv_usec % 1000000) * 1000L;
		clock_gettime(CLOCK_MONOTONIC, &start);
	}
	res = merge_pselect(nfds, r, w, e, tv ? &ts : NULL, NULL);
	if (res == MERGE_NONE)
		return plain_select(nfds, r, w, e, tv);
	if (tv) {
		saved = errno;
		clock_gettime(CLOCK_MONOTONIC, &now);
		left_us = ((long long)ts.tv_sec - (now.tv_sec - start.tv_sec)) * 1000000LL +
			  (ts.tv_nsec - (now.tv_nsec - start.tv_nsec)) / 1000;
		if (left_us < 0)
			left_us = 0;
		tv->tv_sec = (time_t)(left_us / 1000000);
		tv->tv_usec = (suseconds_t)(left_us % 1000000);
		errno = saved;
	}
	return res;
}
