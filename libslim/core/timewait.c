/* TIME_WAIT as the container would see it. A connection the container's
 * server closes first leaves a TIME_WAIT on the server's port for 60 s, and
 * until then a bind of that port without SO_REUSEADDR fails with
 * EADDRINUSE. Under slim the TIME_WAIT is the host socket's, on the
 * reserved port, so the container would see the port free at once. This
 * file keeps that rule: the BPF programs note a TIME_WAIT for a slim
 * listener's virtual address when a connection accepted for it sends its
 * FIN first (sockops, at the state change: no system call of ours on any
 * connection), and when the listener closes, the getsockopt program says
 * how much of the last one is left (SLIM_SOL/SLIM_TW_LEFT, bpf/lib/abi.h).
 * If some is, its container side (merge.h) gives way to a bound socket
 * that does not listen, kept until the TIME_WAIT ends, with SO_REUSEADDR
 * as the app's listener had it: a bound, closed socket refuses exactly the
 * binds a TIME_WAIT refuses (and a closed server refuses plain clients).
 * The connections accepted on the container side are the container's own:
 * their TIME_WAIT is the kernel's. What stays different: a listener that
 * is closed before its connections, and a process that exits (its
 * reservations go with it; the kernel's TIME_WAITs would not). */
#define _GNU_SOURCE
#include "timewait.h"

#include <errno.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <time.h>

#include "abi.h"
#include "merge.h"
#include "reservation.h"

#define TW_SLOTS 64

/* Kept reservations: fd, the low bits of its inode, until when (0: free). */
static struct {
	_Atomic int fd;
	_Atomic uint32_t ino;
	_Atomic uint64_t until;
} kept[TW_SLOTS];
static _Atomic uint64_t next_end; /* earliest kept until, 0: none */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Nanoseconds until the last TIME_WAIT on listener fd's virtual address
 * ends, as the getsockopt program answers it (0: none left). A failed
 * getsockopt, EOPNOTSUPP where no slim program runs (tests/libslim's fake
 * router has no BPF) or the socket is not a slim listener, means there is
 * no TIME_WAIT to keep.
 * Preserves errno. */
static uint64_t tw_left(int fd)
{
	uint64_t left = 0;
	socklen_t len = sizeof(left);
	int saved = errno;

	if (getsockopt(fd, SLIM_SOL, SLIM_TW_LEFT, &left, &len) != 0 || len != sizeof(left))
		left = 0;
	errno = saved;
	return left;
}

static void keep(int fd, uint32_t ino, uint64_t until)
{
	for (size_t i = 0; i < TW_SLOTS; i++) {
		uint64_t free_mark = 0;

		if (atomic_compare_exchange_strong(&kept[i].until, &free_mark, until)) {
			atomic_store(&kept[i].fd, fd);
			atomic_store(&kept[i].ino, ino);
			uint64_t e = atomic_load(&next_end);
			while ((e == 0 || until < e) &&
			       !atomic_compare_exchange_weak(&next_end, &e, until))
				;
			return;
		}
	}
	slim_resv_close((struct slim_resv){fd, ino}); /* no room: let it go */
}

void slim_tw_sweep(void)
{
	uint64_t e = atomic_load(&next_end), now, next = 0;

	if (e == 0 || (now = now_ns()) < e)
		return;
	for (size_t i = 0; i < TW_SLOTS; i++) {
		uint64_t u = atomic_load(&kept[i].until);

		if (u == 0)
			continue;
		if (u > now) {
			if (next == 0 || u < next)
				next = u;
			continue;
		}
		/* Whoever clears the slot closes the socket. */
		int fd = atomic_load(&kept[i].fd);
		uint32_t ino = atomic_load(&kept[i].ino);
		if (atomic_compare_exchange_strong(&kept[i].until, &u, 0))
			slim_resv_close((struct slim_resv){fd, ino});
	}
	atomic_store(&next_end, next);
}

void slim_tw_closing(int fd, const struct fd_state *st, struct slim_resv resv)
{
	int saved = errno;
	uint64_t left;

	if (st->kind != FD_LISTENER || !resv.ino) {
		slim_resv_close(resv);
		errno = saved;
		return;
	}
	/* Asked while fd still listens: the answer is the host socket's. */
	left = tw_left(fd);
	if (left && slim_resv_ours(resv)) {
		struct slim_resv kept = slim_resv_unlisten(resv, st->u.listener.reuse);

		if (kept.ino)
			keep(kept.fd, kept.ino, now_ns() + left);
	} else {
		merge_release(resv);
	}
	errno = saved;
}
