#define _GNU_SOURCE
#include "listener_timeo.h"

#include <errno.h>
#include <limits.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "fdtable.h"

/* The names of the option when the headers are older than the kernel's
 * 64-bit time variants. */
#ifndef SO_RCVTIMEO_OLD
#define SO_RCVTIMEO_OLD 20
#endif
#ifndef SO_RCVTIMEO_NEW
#define SO_RCVTIMEO_NEW 66
#endif

bool listener_timeo_option(int level, int name)
{
	return level == SOL_SOCKET &&
	       (name == SO_RCVTIMEO || name == SO_RCVTIMEO_OLD || name == SO_RCVTIMEO_NEW);
}

uint32_t listener_timeo_read(int fd)
{
	struct timeval tv = {0, 0};
	socklen_t tl = sizeof(tv);
	unsigned long long ms;
	int saved = errno;

	if (getsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, &tl) != 0 || tv.tv_sec < 0 ||
	    tv.tv_usec < 0) {
		errno = saved;
		return 0;
	}
	errno = saved;
	ms = (unsigned long long)tv.tv_sec * 1000ull +
	     ((unsigned long long)tv.tv_usec + 999ull) / 1000ull;
	return ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms;
}

struct follow {
	uint64_t ino;
	uint32_t ms;
};

/* One record of the walk: a listener of the socket gets the new value. It
 * records only the fd it is given (fdtable_each's rule). */
static void update(int fd, const struct fd_state *st, void *arg)
{
	const struct follow *f = arg;
	struct fd_state copy;

	if (st->kind != FD_LISTENER || st->ino != f->ino || st->u.listener.rcvtimeo_ms == f->ms)
		return;
	copy = *st;
	copy.u.listener.rcvtimeo_ms = f->ms;
	(void)fdtable_set(fd, &copy);
}

void listener_timeo_follow(int fd, uint64_t ino)
{
	struct follow f = {.ino = ino, .ms = listener_timeo_read(fd)};
	int saved = errno;

	fdtable_each(0, INT_MAX, update, &f);
	errno = saved;
}
