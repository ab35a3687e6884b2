#define _GNU_SOURCE
#include "merge_waitset.h"

#include <errno.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fdtable.h"
#include "highfd.h"
#include "real.h"

/* Adds queue fd to set ep with data which. */
static int arm(int ep, int op, int fd, unsigned which)
{
	struct epoll_event ev = {.events = EPOLLIN | EPOLLET, .data.u32 = which};

	return real_epoll_ctl(ep, op, fd, &ev);
}

int merge_waitset(int fd, int cfd)
{
	int ep = fdtable_waitset(fd), saved;

	if (ep >= 0)
		return ep;
	saved = errno;
	/* The system call, not epoll_create1: the app's epoll sets are
	 * remembered there, and this one is libslim's own. */
	ep = (int)syscall(SYS_epoll_create1, EPOLL_CLOEXEC);
	if (ep >= 0)
		ep = slim_move_fd(ep, slim_high_base());
	if (ep >= 0 && (arm(ep, EPOLL_CTL_ADD, fd, WAITSET_HOST) != 0 ||
			arm(ep, EPOLL_CTL_ADD, cfd, WAITSET_SIDE) != 0)) {
		syscall(SYS_close, ep);
		ep = -1;
	}
	if (ep >= 0 && !fdtable_put_waitset(fd, ep)) {
		/* Another thread's came first. */
		syscall(SYS_close, ep);
		ep = fdtable_waitset(fd);
	}
	errno = saved;
	return ep;
}

/* A timeout in whole milliseconds, rounded up (epoll_wait's unit): -1
 * for none. */
static int millis(const struct timespec *left)
{
	long long ms;

	if (!left)
		return -1;
	ms = (long long)left->tv_sec * 1000 + (left->tv_nsec + 999999) / 1000000;
	return ms > 0x7fffffff ? 0x7fffffff : (int)ms;
}

static int wait_ppoll(int fd, int cfd, const struct timespec *left, bool *host, bool *side,
		      bool *side_dead)
{
	struct pollfd p[2] = {{.fd = fd, .events = POLLIN}, {.fd = cfd, .events = POLLIN}};
	int n = real_ppoll(p, 2, left, NULL);

	if (n <= 0)
		return n;
	*host = p[0].revents != 0;
	*side = p[1].revents != 0;
	*side_dead = *side && !(p[1].revents & POLLIN);
	return n;
}

int merge_waitset_wait(int ep, int fd, int cfd, const struct timespec *left, bool *host, bool *side,
		       bool *side_dead)
{
	struct epoll_event ev;
	int n;

	*host = *side = *side_dead = false;
	if (ep < 0)
		return wait_ppoll(fd, cfd, left, host, side, side_dead);
	n = epoll_wait(ep, &ev, 1, millis(left));
	if (n < 0 && (errno == EBADF || errno == EINVAL))
		/* The set was closed behind libslim's back (close_range over
		 * its numbers): the two queues, as they are. */
		return wait_ppoll(fd, cfd, left, host, side, side_dead);
	if (n <= 0)
		return n;
	if (ev.data.u32 == WAITSET_HOST) {
		*host = true;
	} else {
		*side = true;
		*side_dead = !(ev.events & EPOLLIN);
	}
	return n;
}

void merge_waitset_pass(int ep, int qfd, unsigned which)
{
	int saved = errno;

	if (ep >= 0)
		(void)arm(ep, EPOLL_CTL_MOD, qfd, which);
	errno = saved;
}

void merge_waitset_drop(int ep, int cfd)
{
	int saved = errno;

	if (ep >= 0)
		(void)real_epoll_ctl(ep, EPOLL_CTL_DEL, cfd, NULL);
	errno = saved;
}
