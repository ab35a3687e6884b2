/* The pool is a LIFO under one mutex that is held for a few loads and
 * stores only, never across a system call other than close of a stale
 * entry. */
#define _GNU_SOURCE
#include "pool.h"

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/socket.h>

#include "fdtable.h"
#include "highfd.h"
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

void pool_put(const int *fds, size_t n, uint32_t epoch)
{
	bool tcp = n > 0 && is_tcp(fds[0]);
	/* SCM_RIGHTS put them on the lowest free numbers, which would push
	 * the app's own fds up by as many (wrk, for one, sizes its event loop
	 * by its connection count and rejects higher numbers; select() users
	 * care too): they move to the POOL_CAP numbers just below libslim's
	 * router connection (highfd.h), 896..959 with the usual limit. */
	int base = n > 0 ? slim_high_base() : -1, saved = errno;

	if (base >= 0)
		base -= POOL_CAP;

	for (size_t i = 0; i < n; i++) {
		int fd = tcp ? slim_move_fd(fds[i], base) : fds[i];
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
