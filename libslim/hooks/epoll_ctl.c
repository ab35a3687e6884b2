/* epoll_ctl(), epoll_create(), epoll_create1(): the container side of a
 * merged listener follows every registration the app makes of the
 * listener, in the same set, with the app's own events and data (so the
 * app's epoll_wait reports the listener as ready, whichever queue has the
 * connection; EPOLLEXCLUSIVE and EPOLLONESHOT as given). A socket that may
 * still listen is marked when it is registered, and the epoll fds are
 * remembered, so that listen can add a container side to the sets its
 * socket was registered in before it listened (merge_epoll.h). A process
 * that never bound a listener pays two loads; one that did, one table
 * read. */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common.h"
#include "fdtable.h"
#include "init.h"
#include "merge.h"
#include "merge_epoll.h"
#include "real.h"

/* The same operation for the container side c. MOD of a side that is not
 * in the set (the listener was registered through a path libslim did not
 * see) adds it. */
static void follow(int ep, int op, struct slim_resv c, const struct epoll_event *ev)
{
	struct epoll_event copy = {0};
	int saved = errno;

	if (op != EPOLL_CTL_DEL)
		copy = *ev; /* the kernel read it already */
	if (real_epoll_ctl(ep, op, c.fd, &copy) < 0 && op == EPOLL_CTL_MOD && errno == ENOENT)
		(void)real_epoll_ctl(ep, EPOLL_CTL_ADD, c.fd, &copy);
	errno = saved;
}

SLIM_EXPORT SLIM_NO_ASAN int epoll_ctl(int ep, int op, int fd, struct epoll_event *ev)
{
	struct slim_resv c;
	int r;

	if (!slim_ready())
		return (int)syscall(SYS_epoll_ctl, ep, op, fd, ev);
	r = real_epoll_ctl(ep, op, fd, ev);
	if (r != 0 || (!merge_any() && !merge_bound_seen()))
		return r;
	switch (fdtable_kind(fd)) {
	case FD_LISTENER:
		if (merge_side(fd, &c))
			follow(ep, op, c, ev);
		break;
	case FD_POOLED:
	case FD_HOST_BOUND:
	case FD_CONTAINER:
		/* It may listen later: listen then looks for its epoll
		 * registrations (merge_epoll.h), only for a socket marked. */
		if (op != EPOLL_CTL_DEL)
			fdtable_mark(fd, FDT_MARK_EPOLL);
		break;
	default:
		break;
	}
	return r;
}

typedef int (*create1_fn)(int);
typedef int (*create_fn)(int);

/* Resolved once (a racing first call resolves it twice: harmless). */
static create1_fn create1_real;
static create_fn create_real;

SLIM_EXPORT int epoll_create1(int flags)
{
	create1_fn f = create1_real ? create1_real : (create1_real = real_sym("epoll_create1"));
	int ep = f ? f(flags) : (int)syscall(SYS_epoll_create1, flags);

	merge_epoll_created(ep);
	return ep;
}

SLIM_EXPORT int epoll_create(int size)
{
	create_fn f = create_real ? create_real : (create_real = real_sym("epoll_create"));
	int ep;

	if (!f && size <= 0) {
		errno = EINVAL;
		return -1;
	}
	ep = f ? f(size) : (int)syscall(SYS_epoll_create1, 0);

	merge_epoll_created(ep);
	return ep;
}
