#define _GNU_SOURCE
#include "channel.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "fdtable.h"
#include "highfd.h"
#include "real.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
/* Set while this thread holds the lock. */
static __thread bool held __attribute__((tls_model("initial-exec")));
/* Set in the thread that took the lock in channel_fork_prepare. */
static __thread bool fork_locked __attribute__((tls_model("initial-exec")));

/* The connection and the spare: fds are atomic because close() (any
 * thread, a signal handler) forgets them without the lock; the inodes are
 * read and written under the lock. */
static _Atomic int conn_fd = -1;
static uint64_t conn_ino;
static _Atomic int spare_fd = -1;
static uint64_t spare_ino;
static bool pending;		  /* under the lock */
static _Atomic bool pending_hint; /* pending, for lock-free readers */

void channel_lock(int *cancel_state)
{
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, cancel_state);
	pthread_mutex_lock(&lock);
	held = true;
}

bool channel_trylock(int *cancel_state)
{
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, cancel_state);
	if (pthread_mutex_trylock(&lock) != 0) {
		pthread_setcancelstate(*cancel_state, NULL);
		return false;
	}
	held = true;
	return true;
}

void channel_unlock(int cancel_state)
{
	held = false;
	pthread_mutex_unlock(&lock);
	pthread_setcancelstate(cancel_state, NULL);
}

bool channel_held_here(void)
{
	return held;
}

void channel_set_pending(bool p)
{
	pending = p;
	atomic_store_explicit(&pending_hint, p, memory_order_relaxed);
}

bool channel_pending(void)
{
	return pending;
}

bool channel_pending_hint(void)
{
	return atomic_load_explicit(&pending_hint, memory_order_relaxed);
}

void channel_spare_make(void)
{
	int fd, base, high;

	if (spare_fd >= 0 && fd_inode(spare_fd) == spare_ino)
		return;
	spare_fd = -1;
	/* Raw system calls: the real libc functions behind libslim's hooks
	 * are looked up (dlsym, some tens of microseconds) only when a hook
	 * first needs them, and this runs in every process start. */
	fd = (int)syscall(SYS_socket, AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	base = slim_high_base();
	if (base >= 0 && fd < base && (high = fcntl(fd, F_DUPFD_CLOEXEC, base)) >= 0) {
		syscall(SYS_close, fd);
		fd = high;
	}
	spare_ino = fd_inode(fd);
	spare_fd = fd;
}

int channel_connect(const char *path)
{
	struct sockaddr_un sun;
	int fd;

	channel_spare_make();
	fd = spare_fd;
	if (fd < 0)
		return -1; /* errno from socket() */
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strnlen(path, sizeof(sun.sun_path) - 1));
	/* A failed connect leaves the socket as it was: it stays the spare. */
	if (real_connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
		return -1;
	spare_fd = -1;
	conn_ino = spare_ino;
	atomic_store(&conn_fd, fd);
	channel_set_pending(false);
	return fd;
}

int channel_fd(void)
{
	int fd = atomic_load(&conn_fd);

	if (fd < 0)
		return -1;
	if (fd_inode(fd) != conn_ino) {
		atomic_compare_exchange_strong(&conn_fd, &fd, -1); /* not ours: no close */
		channel_set_pending(false);
		return -1;
	}
	return fd;
}

void channel_drop(int fd)
{
	channel_set_pending(false);
	if (atomic_compare_exchange_strong(&conn_fd, &fd, -1) && fd_inode(fd) == conn_ino)
		real_close(fd);
}

void channel_fd_closed(int fd)
{
	int c = fd;

	if (fd < 0)
		return;
	atomic_compare_exchange_strong(&conn_fd, &c, -1);
	c = fd;
	atomic_compare_exchange_strong(&spare_fd, &c, -1);
}

static bool in_range(int fd, unsigned int first, unsigned int last)
{
	return fd >= 0 && (unsigned int)fd >= first && (unsigned int)fd <= last;
}

bool channel_range_closed(unsigned int first, unsigned int last)
{
	int cs, fd = atomic_load(&conn_fd), saved = errno;
	bool conn_hit = in_range(fd, first, last);

	if (held || (!conn_hit && !in_range(atomic_load(&spare_fd), first, last)))
		return false;
	channel_lock(&cs);
	/* The number may be someone else's by now: channel_drop closes it
	 * only if it is still our socket (it is not: it was closed). */
	if (conn_hit && atomic_load(&conn_fd) == fd)
		channel_drop(fd);
	if (in_range(atomic_load(&spare_fd), first, last))
		spare_fd = -1;
	channel_unlock(cs);
	errno = saved;
	return true;
}

void channel_fork_prepare(void)
{
	if (held)
		return;
	pthread_mutex_lock(&lock);
	fork_locked = true;
}

void channel_fork_parent(void)
{
	if (fork_locked) {
		fork_locked = false;
		pthread_mutex_unlock(&lock);
	}
}

void channel_fork_child(void)
{
	int fd = atomic_exchange(&conn_fd, -1), s = atomic_exchange(&spare_fd, -1);

	pending = false;
	atomic_store_explicit(&pending_hint, false, memory_order_relaxed);
	/* The spare is one socket shared with the parent: the child makes its
	 * own when it needs one. */
	if (s >= 0 && fd_inode(s) == spare_ino)
		real_close(s);
	/* If the fork interrupted this thread's own round trip, the
	 * connection is in use by that frame: forget it without closing. */
	if (fork_locked) {
		if (fd >= 0 && fd_inode(fd) == conn_ino)
			real_close(fd);
		fork_locked = false;
		pthread_mutex_unlock(&lock);
	}
}
