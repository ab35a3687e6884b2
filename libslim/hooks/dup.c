/* dup(), dup2(), dup3(): a copy of a merged listener gets a container side
 * of its own, a copy of a socket bound for a listener is recorded as one
 * (merge_copied), and a listener or container side that dup2 or dup3
 * replaces is released as if the app had closed it (merge_closing). Any
 * other fd: straight through, after two loads when the process never bound
 * a listener (one table read when it did). Not fcntl's F_DUPFD (see
 * docs/architecture.md, "Known limits"). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common.h"
#include "fdtable.h"
#include "init.h"
#include "merge.h"
#include "real.h"

SLIM_EXPORT SLIM_NO_ASAN int dup(int fd)
{
	int r;

	if (!slim_ready())
		return (int)syscall(SYS_dup, fd);
	r = real_dup(fd);
	if (r >= 0 && (merge_any() || merge_bound_seen()))
		merge_copied(fd, r);
	return r;
}

/* Before fd2's socket is replaced: what it held is released, unless the
 * call is bound to fail (a bad fd) or is a no-op (fd == fd2). */
static void replacing(int fd, int fd2)
{
	enum fd_kind k;

	if (fd == fd2 || !merge_any())
		return;
	k = fdtable_kind(fd2);
	if ((k == FD_LISTENER || k == FD_CSIDE) && fcntl(fd, F_GETFD) >= 0) {
		merge_closing(fd2);
		fdtable_clear(fd2);
	}
}

SLIM_EXPORT SLIM_NO_ASAN int dup3(int fd, int fd2, int flags)
{
	int r;

	if (!slim_ready())
		return (int)syscall(SYS_dup3, fd, fd2, flags);
	replacing(fd, fd2);
	r = real_dup3(fd, fd2, flags);
	if (r >= 0 && (merge_any() || merge_bound_seen()))
		merge_copied(fd, r);
	return r;
}

SLIM_EXPORT SLIM_NO_ASAN int dup2(int fd, int fd2)
{
	int r;

	if (!slim_ready())
		return fd == fd2 ? (int)syscall(SYS_fcntl, fd, F_GETFD) < 0 ? -1 : fd
				 : (int)syscall(SYS_dup3, fd, fd2, 0);
	replacing(fd, fd2);
	r = real_dup2(fd, fd2);
	if (r >= 0 && (merge_any() || merge_bound_seen()))
		merge_copied(fd, r);
	return r;
}
