/* socket(): AF_INET TCP sockets become overlay candidates. When the pool
 * has one, the app gets a host socket stamped for its container right away
 * (under the lowest free fd number, as socket() promises): an overlay
 * connect then needs no swap at all, and the socket's creation cost was
 * paid ahead of time by the router. A socket used for anything else (bind,
 * a connect outside the overlay) gets a container socket swapped in first. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common.h"
#include "config.h"
#include "fdtable.h"
#include "pool.h"
#include "pool_refill.h"
#include "real.h"
#include "session.h"

/* A pool socket as the app asked for it (flags), on the lowest free fd.
 * Returns the fd and the epoch of its stamps, or -1 (errno kept) when the
 * pool has none or the fd cannot be placed: then the caller makes a
 * container socket. */
static int pooled_socket(int type, uint64_t *ino, uint32_t *epoch_out)
{
	int saved = errno, fd;
	uint32_t epoch;

	if (!slim_config()->fastpath || !slim_active() || !slim_epoch(&epoch))
		return -1;
	fd = pool_install(epoch, type, ino);
	if (fd >= 0) {
		pool_refill(false); /* ahead of need */
	} else if (pool_count() == 0) {
		/* A cold process (or a burst beyond the pool): wait once for
		 * the router's reply, as the connect would have anyway. */
		pool_refill(true);
		fd = pool_install(epoch, type, ino);
	}
	*epoch_out = epoch;
	errno = saved;
	return fd;
}

/* A TCP socket of a family the overlay can carry: AF_INET, or AF_INET6
 * (dual stack, through v4-mapped addresses). */
static bool overlay_family(int domain, int type, int protocol)
{
	return (domain == AF_INET || domain == AF_INET6) &&
	       (type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) == SOCK_STREAM &&
	       (protocol == 0 || protocol == IPPROTO_TCP);
}

SLIM_EXPORT int socket(int domain, int type, int protocol)
{
	struct fd_state st = {.kind = FD_PLAIN};
	uint64_t ino = 0;
	uint32_t epoch = 0;
	int fd;

	if (!overlay_family(domain, type, protocol) || slim_disabled()) {
		fd = real_socket(domain, type, protocol);
		/* A record a previous fd with this number left is forgotten. */
		fdtable_clear(fd);
		fdtable_unmark(fd, FDT_MARK_EPOLL);
		return fd;
	}
	/* Pool sockets are AF_INET, and the app must see its own family: a
	 * dual-stack socket is a container socket until it reaches the
	 * overlay. */
	if (domain == AF_INET) {
		fd = pooled_socket(type, &ino, &epoch);
		if (fd >= 0) {
			st = (struct fd_state){.kind = FD_POOLED, .ino = ino};
			st.u.pooled.epoch = epoch;
			fdtable_set(fd, &st);
			fdtable_unmark(fd, FDT_MARK_EPOLL);
			return fd;
		}
	}
	fd = real_socket(domain, type, protocol);
	if (fd < 0)
		return fd;
	st = (struct fd_state){.kind = FD_CONTAINER, .v6 = domain == AF_INET6, .ino = fd_inode(fd)};
	fdtable_set(fd, &st);
	fdtable_unmark(fd, FDT_MARK_EPOLL);
	return fd;
}
