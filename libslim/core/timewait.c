/* TIME_WAIT as the container would see it. A connection the container's
 * server closes first leaves a TIME_WAIT on the server's port for 60 s, and
 * until then a bind of that port without SO_REUSEADDR fails with
 * EADDRINUSE. Under slim the TIME_WAIT is the host socket's, on the
 * reserved port, so the container would see the port free at once. This
 * file keeps that rule: accepted sockets of slim listeners are recorded
 * (accept hook), a close or shutdown that sends our FIN first notes a
 * TIME_WAIT for the listener's address, and when the listener closes its
 * container side (merge.h) gives way to a bound socket that does not
 * listen, kept until the last TIME_WAIT ends, with SO_REUSEADDR as the
 * app's listener had it: a bound, closed socket refuses exactly the binds
 * a TIME_WAIT refuses (and a closed server refuses plain clients). The
 * connections accepted on the container side are the container's own:
 * their TIME_WAIT is the kernel's. What stays different: a
 * listener that is closed before its connections, and a process that exits
 * (its reservations go with it; the kernel's TIME_WAITs would not). */
#define _GNU_SOURCE
#include "timewait.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <time.h>

#include "real.h"
#include "merge.h"
#include "reservation.h"

#define TW_LEN_NS (60ULL * 1000000000ULL) /* TCP_TIMEWAIT_LEN */
#define TW_SLOTS 64

/* Noted TIME_WAITs: key (ip << 16 | port, bit 48: reuse, bit 63: in use),
 * and until when. A full table forgets the entry that ends first. */
static struct {
	_Atomic uint64_t key, until;
} tws[TW_SLOTS];

/* Kept reservations: fd, the low bits of its inode, until when (0: free). */
static struct {
	_Atomic int fd;
	_Atomic uint32_t ino;
	_Atomic uint64_t until;
} kept[TW_SLOTS];
static _Atomic uint64_t next_end; /* earliest kept until, 0: none */

#define KEY_USED (1ULL << 63)
#define KEY_REUSE (1ULL << 48)

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static uint64_t ep_key(struct slim_ep ep)
{
	return KEY_USED | (uint64_t)ep.ip << 16 | ep.port;
}

void slim_note_accepted(int nfd, const struct fd_state *l)
{
	int saved = errno;
	/* No inode: close trusts the record (fdtable_lookup), and the
	 * TIME_WAIT it may note needs a TCP socket's state anyway. */
	struct fd_state st = {.kind = FD_ACCEPTED, .v6 = l->v6, .ino = 0};

	st.u.accepted.local = l->u.listener.local;
	st.u.accepted.reuse = l->u.listener.reuse;

	fdtable_set(nfd, &st);
	errno = saved;
}

static void note_tw(struct slim_ep ep, bool reuse)
{
	uint64_t key = ep_key(ep) | (reuse ? KEY_REUSE : 0), until = now_ns() + TW_LEN_NS;
	size_t pick = 0;
	uint64_t first_end = UINT64_MAX;

	for (size_t i = 0; i < TW_SLOTS; i++) {
		uint64_t k = atomic_load(&tws[i].key), u = atomic_load(&tws[i].until);

		if (k == key) {
			pick = i;
			break;
		}
		if (u < first_end) {
			first_end = u;
			pick = i;
		}
	}
	atomic_store(&tws[pick].key, key);
	atomic_store(&tws[pick].until, until);
}

/* Until when the port of ep has a noted TIME_WAIT (0: none), and whether
 * the listener it came from had SO_REUSEADDR. */
static uint64_t tw_until(struct slim_ep ep, bool *reuse)
{
	uint64_t want = ep_key(ep), now = now_ns(), best = 0;

	for (size_t i = 0; i < TW_SLOTS; i++) {
		uint64_t k = atomic_load(&tws[i].key), u = atomic_load(&tws[i].until);

		if ((k & ~KEY_REUSE) == want && u > now && u > best) {
			best = u;
			*reuse = (k & KEY_REUSE) != 0;
		}
	}
	return best;
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
	int saved = errno, s;
	bool reuse = false;
	uint64_t until;

	switch (st->kind) {
	case FD_ACCEPTED:
		s = fd_tcp_state(fd);
		/* Our FIN goes (or went) first: ESTABLISHED closes now, the
		 * FIN_WAITs and CLOSING already sent it; CLOSE_WAIT and LAST_ACK
		 * answer the peer's. A socket that got through its TIME_WAIT
		 * transition already reads CLOSE: the shutdown hook saw it. */
		if (s == TCP_ESTABLISHED || s == TCP_SYN_RECV || s == TCP_FIN_WAIT1 ||
		    s == TCP_FIN_WAIT2 || s == TCP_CLOSING ||
		    (s == TCP_CLOSE && st->u.accepted.fin_first))
			note_tw(st->u.accepted.local, st->u.accepted.reuse);
		break;
	case FD_LISTENER:
		until = resv.ino ? tw_until(st->u.listener.local, &reuse) : 0;
		if (until && slim_resv_ours(resv)) {
			struct slim_resv kept = slim_resv_unlisten(resv, reuse);

			if (kept.ino)
				keep(kept.fd, kept.ino, until);
		} else {
			merge_release(resv);
		}
		resv.ino = 0;
		break;
	default:
		break;
	}
	slim_resv_close(resv);
	errno = saved;
}
