/* The pool is a LIFO of entries under one mutex that is held for a few
 * loads and stores only, never across a system call. An entry is a slot of
 * the stash (fdstash.h: outside the fd table) or, where there is no stash,
 * an fd of the app's table. */
#define _GNU_SOURCE
#include "pool.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/socket.h>

#include "fdstash.h"
#include "fdtable.h"
#include "highfd.h"
#include "real.h"

_Static_assert(POOL_CAP <= FDSTASH_SLOTS, "a pool reply must fit one stash put");

struct entry {
	int fd;	  /* in the fd table, or -1 */
	int slot; /* in the stash, or -1 */
	uint32_t epoch;
	uint32_t gen; /* the stash's generation of slot */
	uint64_t ino; /* fd entries: the inode that tells our socket from
		       * whatever the app put on the number; 0 in the stash */
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct entry ents[POOL_CAP];
static _Atomic size_t count;
/* Set while this thread is inside the pool: a hook re-entered from a
 * signal handler must not wait for a lock its own thread holds. */
static __thread bool in_pool __attribute__((tls_model("initial-exec")));

static bool pop(struct entry *e)
{
	bool got = false;
	size_t n;

	pthread_mutex_lock(&mu);
	n = atomic_load_explicit(&count, memory_order_relaxed);
	if (n > 0) {
		*e = ents[--n];
		atomic_store_explicit(&count, n, memory_order_relaxed);
		got = true;
	}
	pthread_mutex_unlock(&mu);
	return got;
}

/* Adds e; false if the pool is full. */
static bool push(const struct entry *e)
{
	bool ok = false;
	size_t n;

	pthread_mutex_lock(&mu);
	n = atomic_load_explicit(&count, memory_order_relaxed);
	if (n < POOL_CAP) {
		ents[n] = *e;
		atomic_store_explicit(&count, n + 1, memory_order_relaxed);
		ok = true;
	}
	pthread_mutex_unlock(&mu);
	return ok;
}

/* Releases the sockets of es[0..n): stash slots are emptied (one
 * submission per run of one generation), fds closed if they still hold our
 * socket (the app may have closed the number and reused it). */
static void release(const struct entry *es, size_t n)
{
	int slots[POOL_CAP];
	size_t ns = 0;
	uint32_t g = 0;

	for (size_t i = 0; i < n; i++) {
		if (es[i].slot >= 0) {
			if (ns > 0 && (es[i].gen != g || ns == POOL_CAP)) {
				fdstash_clear(slots, ns, g);
				ns = 0;
			}
			g = es[i].gen;
			slots[ns++] = es[i].slot;
		} else if (es[i].fd >= 0 && fd_inode(es[i].fd) == es[i].ino) {
			real_close(es[i].fd);
		}
	}
	if (ns > 0)
		fdstash_clear(slots, ns, g);
}

/* Takes every entry out of the pool whose epoch is not `keep` (all of
 * them for UINT32_MAX, which no router uses) and releases them. */
static void drop_other_epochs(uint32_t keep)
{
	struct entry out[POOL_CAP];
	size_t n, k = 0, no = 0;

	pthread_mutex_lock(&mu);
	n = atomic_load_explicit(&count, memory_order_relaxed);
	for (size_t i = 0; i < n; i++) {
		if (ents[i].epoch == keep && keep != UINT32_MAX)
			ents[k++] = ents[i];
		else
			out[no++] = ents[i];
	}
	atomic_store_explicit(&count, k, memory_order_relaxed);
	pthread_mutex_unlock(&mu);
	release(out, no);
}

/* Puts fd entry *e on the lowest free fd. Returns the fd, or -1 (errno).
 * No free number: the pool's fds sit on the last ones (they arrived when
 * the fd table was full); the lowest of them is where socket() would have
 * put a new one and becomes the app's (*e is then that entry), the others
 * give their numbers back to the app. */
static int fd_entry_place(struct entry *e, bool cloexec)
{
	struct entry others[POOL_CAP];
	size_t n, k = 0, no = 0;
	int fd = fcntl(e->fd, cloexec ? F_DUPFD_CLOEXEC : F_DUPFD, 0);

	if (fd >= 0 || errno != EMFILE) {
		real_close(e->fd);
		return fd;
	}
	pthread_mutex_lock(&mu);
	n = atomic_load_explicit(&count, memory_order_relaxed);
	for (size_t i = 0; i < n; i++) {
		if (ents[i].fd >= 0)
			others[no++] = ents[i];
		else
			ents[k++] = ents[i];
	}
	atomic_store_explicit(&count, k, memory_order_relaxed);
	pthread_mutex_unlock(&mu);
	for (size_t i = 0; i < no; i++) {
		if (fd_inode(others[i].fd) != others[i].ino)
			continue;
		if (others[i].epoch == e->epoch && others[i].fd < e->fd) {
			struct entry t = *e;

			*e = others[i];
			others[i] = t;
		}
		real_close(others[i].fd);
	}
	if (cloexec || fcntl(e->fd, F_SETFD, 0) == 0)
		return e->fd;
	real_close(e->fd);
	return -1;
}

/* The next usable entry of `epoch`, installed on an fd (the lowest free
 * one if lowest, else wherever it is) with FD_CLOEXEC if cloexec. Returns
 * the fd and the entry in *e, or -1. Under in_pool. */
static int next_socket(uint32_t epoch, bool cloexec, bool lowest, struct entry *e)
{
	int fd;

	for (;;) {
		if (!pop(e))
			return -1;
		if (e->epoch != epoch) {
			/* The router's maps changed: every older stamp is void. */
			release(e, 1);
			drop_other_epochs(epoch);
			continue;
		}
		if (e->slot >= 0) {
			fd = fdstash_install(e->slot, e->gen, cloexec);
			if (fd >= 0)
				return fd;
			if (errno == EMFILE || errno == ENFILE) {
				/* No number for it: it stays for later. */
				if (!push(e))
					release(e, 1);
				return -1;
			}
			continue; /* its ring is gone */
		}
		/* The app may have closed the number behind our back
		 * (close_range, a close-all loop) and reused it. */
		if (fd_inode(e->fd) != e->ino)
			continue;
		if (!lowest)
			return e->fd;
		fd = fd_entry_place(e, cloexec);
		if (fd >= 0)
			return fd;
	}
}

int pool_install(uint32_t epoch, int type_flags, uint64_t *ino)
{
	struct entry e;
	int fd, saved = errno;

	if (in_pool)
		return -1;
	in_pool = true;
	fd = next_socket(epoch, type_flags & SOCK_CLOEXEC, true, &e);
	if (fd >= 0 && (type_flags & SOCK_NONBLOCK) && fcntl(fd, F_SETFL, O_NONBLOCK) < 0) {
		real_close(fd);
		fd = -1;
	}
	if (fd >= 0)
		*ino = e.ino;
	in_pool = false;
	errno = saved;
	return fd;
}

int pool_take(uint32_t epoch, uint64_t *ino)
{
	struct entry e;
	int fd, saved = errno;

	if (in_pool)
		return -1;
	in_pool = true;
	fd = next_socket(epoch, true, false, &e);
	if (fd >= 0)
		*ino = e.ino;
	in_pool = false;
	errno = saved;
	return fd;
}

/* Stashes fds[0..n), all of epoch; closes them. Returns false if there is
 * no stash (the fds are untouched). A stashed socket needs no inode: the
 * app cannot reach the stash, so nothing can take its place there, and the
 * record socket() makes of it trusts it (fdtable_lookup). */
static bool put_stash(const int *fds, size_t n, uint32_t epoch)
{
	int slots[FDSTASH_SLOTS];
	uint32_t gen;
	int r = fdstash_put(fds, n, slots, &gen);

	if (r < 0)
		return false;
	for (int i = 0; i < r; i++) {
		struct entry e = {.fd = -1, .slot = slots[i], .epoch = epoch, .gen = gen, .ino = 0};

		if (!push(&e))
			release(&e, 1);
	}
	return true;
}

/* No stash: the fds stay in the table. SCM_RIGHTS put them on the lowest
 * free numbers, which would push the app's own fds up by as many (wrk,
 * for one, sizes its event loop by its connection count and rejects higher
 * numbers; select() users care too): they move to the POOL_CAP numbers
 * just below libslim's own (highfd.h), 896..959 with the usual limit. Each
 * keeps its inode: the app can close such a number behind our back. */
static void put_fds(const int *fds, size_t n, uint32_t epoch)
{
	int base = slim_high_base();

	if (base >= 0)
		base -= POOL_CAP;
	for (size_t i = 0; i < n; i++) {
		struct entry e = {.fd = slim_move_fd(fds[i], base), .slot = -1, .epoch = epoch};

		e.ino = fd_inode(e.fd);
		if (!e.ino || !push(&e))
			real_close(e.fd);
	}
}

void pool_put(const int *fds, size_t n, uint32_t epoch)
{
	int keep[FDSTASH_SLOTS];
	size_t k = 0, room;
	bool tcp;
	int saved = errno;

	if (in_pool) {
		/* A signal handler interrupted this thread inside the pool:
		 * the locks may be held below us. */
		for (size_t i = 0; i < n; i++)
			real_close(fds[i]);
		return;
	}
	in_pool = true;
	/* Checked once per batch, on its first socket: a router that sends
	 * the wrong thing sends it for the whole batch. */
	tcp = n > 0 && fd_is_tcp(fds[0]);
	room = POOL_CAP - atomic_load_explicit(&count, memory_order_relaxed);
	for (size_t i = 0; i < n; i++) {
		if (tcp && k < room)
			keep[k++] = fds[i];
		else
			real_close(fds[i]);
	}
	if (k > 0 && !put_stash(keep, k, epoch))
		put_fds(keep, k, epoch);
	in_pool = false;
	errno = saved;
}

size_t pool_count(void)
{
	return atomic_load_explicit(&count, memory_order_relaxed);
}

void pool_drop_all(void)
{
	if (in_pool)
		return;
	in_pool = true;
	drop_other_epochs(UINT32_MAX);
	in_pool = false;
}

void pool_forget_in_child(void)
{
	size_t n = atomic_load_explicit(&count, memory_order_relaxed);

	pthread_mutex_init(&mu, NULL);
	for (size_t i = 0; i < n && i < POOL_CAP; i++)
		if (ents[i].fd >= 0 && fd_inode(ents[i].fd) == ents[i].ino)
			real_close(ents[i].fd);
	atomic_store_explicit(&count, 0, memory_order_relaxed);
	in_pool = false;
	fdstash_forget_in_child();
}

void pool_range_closed(unsigned int first, unsigned int last)
{
	if (in_pool)
		return;
	in_pool = true;
	fdstash_range_closed(first, last);
	in_pool = false;
}
