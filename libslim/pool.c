/* The pool is a LIFO under one mutex that is held for a few loads and
 * stores only, never across a system call other than close of a stale
 * entry. */
#define _GNU_SOURCE
#include "pool.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "fdtable.h"
#include "real.h"

struct entry {
	int fd;
	uint32_t epoch;
	uint64_t ino;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct entry ents[POOL_CAP];
static _Atomic size_t count;

/* True if fd is a TCP socket (what pool replies must carry). Checked once
 * per batch, on its first socket: a router that sends the wrong thing
 * sends it for the whole batch. */
static bool is_tcp(int fd)
{
	int v;
	socklen_t len = sizeof(v);

	return getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &v, &len) == 0 && v == IPPROTO_TCP;
}

int pool_take(uint32_t epoch, uint64_t *ino)
{
	struct entry e;
	size_t n;

	for (;;) {
		pthread_mutex_lock(&mu);
		n = atomic_load_explicit(&count, memory_order_relaxed);
		if (n == 0) {
			pthread_mutex_unlock(&mu);
			return -1;
		}
		e = ents[--n];
		atomic_store_explicit(&count, n, memory_order_relaxed);
		pthread_mutex_unlock(&mu);
		/* The app may have closed the number behind our back
		 * (close_range, a close-all loop) and reused it. */
		if (fd_inode(e.fd) != e.ino)
			continue;
		if (e.epoch != epoch) {
			real_close(e.fd);
			continue;
		}
		*ino = e.ino;
		return e.fd;
	}
}

/* Where pool sockets live: SCM_RIGHTS puts them on the lowest free
 * numbers, which would push the app's own fds up by as many (wrk, for one,
 * sizes its event loop by its connection count and rejects the higher
 * numbers; select() users care too). So they move to the POOL_CAP numbers
 * just below libslim's router connection (see move_high in router.c):
 * 896..959 with the usual soft limit of 1024. Returns the lowest such
 * number, or -1 to leave them where they are (a small fd limit). */
static int pool_base(void)
{
	struct rlimit rl;
	long top;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY ||
	    rl.rlim_cur <= 256)
		return -1;
	top = (long)(rl.rlim_cur < 1024 ? rl.rlim_cur : 1024) - 64;
	return (int)(top - POOL_CAP);
}

/* fd moved to base or above (consumed), or fd itself if it cannot be. */
static int move_up(int fd, int base)
{
	int nfd;

	if (base < 0 || fd >= base)
		return fd;
	nfd = fcntl(fd, F_DUPFD_CLOEXEC, base);
	if (nfd < 0)
		return fd;
	real_close(fd);
	return nfd;
}

void pool_put(const int *fds, size_t n, uint32_t epoch)
{
	bool tcp = n > 0 && is_tcp(fds[0]);
	int base = n > 0 ? pool_base() : -1, saved = errno;

	for (size_t i = 0; i < n; i++) {
		int fd = tcp ? move_up(fds[i], base) : fds[i];
		struct entry e = {.fd = fd, .epoch = epoch, .ino = fd_inode(fd)};
		bool kept = false;

		if (e.ino && tcp) {
			pthread_mutex_lock(&mu);
			size_t c = atomic_load_explicit(&count, memory_order_relaxed);
			if (c < POOL_CAP) {
				ents[c] = e;
				atomic_store_explicit(&count, c + 1, memory_order_relaxed);
				kept = true;
			}
			pthread_mutex_unlock(&mu);
		}
		if (!kept)
			real_close(e.fd);
	}
	errno = saved;
}

size_t pool_count(void)
{
	return atomic_load_explicit(&count, memory_order_relaxed);
}

void pool_drop_all(void)
{
	uint64_t ino;
	int fd;

	/* Any epoch matches none: every entry is closed or forgotten. */
	while ((fd = pool_take(UINT32_MAX, &ino)) >= 0)
		real_close(fd);
}

void pool_forget_in_child(void)
{
	size_t n = atomic_load_explicit(&count, memory_order_relaxed);

	pthread_mutex_init(&mu, NULL);
	for (size_t i = 0; i < n && i < POOL_CAP; i++)
		if (fd_inode(ents[i].fd) == ents[i].ino)
			real_close(ents[i].fd);
	atomic_store_explicit(&count, 0, memory_order_relaxed);
}
