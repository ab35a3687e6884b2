#define _GNU_SOURCE
#include "merge.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/socket.h>

#include "highfd.h"
#include "listener_timeo.h"
#include "merge_epoll.h"
#include "real.h"
#include "reservation.h"
#include "timewait.h"

_Atomic int merge_live;
/* bound_seen: a socket that could listen was bound (merge_note_bound);
 * bound_copies: merge_copied recorded a copy of one, made before listen. */
static _Atomic bool bound_seen, bound_copies;

void merge_note_bound(void)
{
	if (!atomic_load_explicit(&bound_seen, memory_order_relaxed))
		atomic_store(&bound_seen, true);
}

bool merge_bound_seen(void)
{
	return atomic_load_explicit(&bound_seen, memory_order_relaxed);
}

/* merge_live never goes below 0: a release the count never saw (a stale
 * record) must not hide a live one. */
static void uncount(void)
{
	int v = atomic_load_explicit(&merge_live, memory_order_relaxed);

	while (v > 0 && !atomic_compare_exchange_weak(&merge_live, &v, v - 1))
		;
}

int merge_side_listen(int cfd, int backlog)
{
	int fl;

	if (real_listen(cfd, backlog) < 0)
		return -1;
	fl = fcntl(cfd, F_GETFL);
	if (fl >= 0 && !(fl & O_NONBLOCK))
		(void)fcntl(cfd, F_SETFL, fl | O_NONBLOCK);
	return 0;
}

void merge_attach(int fd, struct fd_state *st, bool follow)
{
	struct slim_resv c = st->u.listener.resv;
	int saved = errno;

	if (c.ino)
		st->u.listener.rcvtimeo_ms = listener_timeo_read(fd);
	fdtable_set(fd, st);
	if (c.ino) {
		struct fd_state cs = {.kind = FD_CSIDE, .ino = fd_inode(c.fd)};

		cs.u.cside.listener = fd;
		fdtable_set(c.fd, &cs);
		atomic_fetch_add(&merge_live, 1);
		if (follow)
			merge_epoll_follow(st->ino, c.fd);
	}
	errno = saved;
}

bool merge_side(int fd, struct slim_resv *c)
{
	struct fd_state st;

	if (!merge_any() || fdtable_kind(fd) != FD_LISTENER)
		return false;
	fdtable_get(fd, &st);
	if (st.kind != FD_LISTENER || !st.u.listener.resv.ino)
		return false;
	*c = st.u.listener.resv;
	return true;
}

void merge_release(struct slim_resv c)
{
	if (!c.ino)
		return;
	if (fdtable_kind(c.fd) == FD_CSIDE)
		fdtable_clear(c.fd);
	slim_resv_close(c);
	uncount();
}

/* The app closes a container side of ours itself (a close-everything
 * loop, dup2 over it): its listener no longer has one. */
static void side_closing(int cfd)
{
	struct fd_state cs, l;
	struct slim_resv c;

	fdtable_get(cfd, &cs);
	if (cs.kind != FD_CSIDE || fdtable_kind(cs.u.cside.listener) != FD_LISTENER)
		return;
	fdtable_get(cs.u.cside.listener, &l);
	if (l.kind != FD_LISTENER || l.u.listener.resv.fd != cfd)
		return;
	c = fdtable_take_resv(cs.u.cside.listener);
	if (c.ino && c.fd == cfd)
		uncount();
}

void merge_closing(int fd)
{
	int saved = errno;
	struct slim_resv c;
	struct fd_state st;

	switch (fdtable_kind(fd)) {
	case FD_LISTENER:
		/* Taken first, so that exactly one close releases it. */
		c = fdtable_take_resv(fd);
		fdtable_get(fd, &st);
		if (st.kind == FD_LISTENER && fd_inode(fd) == st.ino)
			slim_tw_closing(fd, &st, c);
		else
			merge_release(c);
		break;
	case FD_CSIDE:
		side_closing(fd);
		break;
	default:
		break;
	}
	errno = saved;
}

/* A copy of HOST_BOUND fd at fd2: the same socket, the same bound
 * address, no reservation of its own. */
static void bound_copied(int fd, int fd2)
{
	struct fd_state st;

	fdtable_get(fd, &st);
	if (st.kind != FD_HOST_BOUND)
		return;
	st.u.host_bound.resv = (struct slim_resv){.fd = -1, .ino = 0};
	fdtable_set(fd2, &st);
	atomic_store(&bound_copies, true);
}

void merge_copied(int fd, int fd2)
{
	struct slim_resv c;
	struct fd_state st;
	int saved = errno, base, c2;

	if (fd == fd2)
		return;
	if (!merge_side(fd, &c)) {
		if (merge_bound_seen() && fdtable_kind(fd) == FD_HOST_BOUND)
			bound_copied(fd, fd2);
		errno = saved;
		return;
	}
	fdtable_get(fd, &st);
	base = slim_high_base();
	c2 = fcntl(c.fd, F_DUPFD_CLOEXEC, base < 0 ? 0 : base);
	/* The same socket: the same inode. */
	st.u.listener.resv = c2 >= 0 ? (struct slim_resv){.fd = c2, .ino = c.ino}
				     : (struct slim_resv){.fd = -1, .ino = 0};
	st.ino = fd_inode(fd2);
	merge_attach(fd2, &st, false); /* the original's side is in those sets */
	errno = saved;
}

struct siblings {
	int self;
	uint64_t ino;
	int fds[16];
	int n;
};

static void find_sibling(int fd, const struct fd_state *st, void *arg)
{
	struct siblings *s = arg;

	if (fd != s->self && st->kind == FD_HOST_BOUND && st->ino == s->ino &&
	    s->n < (int)(sizeof(s->fds) / sizeof(s->fds[0])))
		s->fds[s->n++] = fd;
}

/* The other HOST_BOUND fds of socket ino, if copies were ever made. */
static void siblings_of(int fd, uint64_t ino, struct siblings *s)
{
	s->self = fd;
	s->ino = ino;
	s->n = 0;
	if (atomic_load_explicit(&bound_copies, memory_order_relaxed))
		fdtable_each(0, INT_MAX, find_sibling, s);
}

bool merge_registered(int fd, uint64_t ino)
{
	struct siblings s;

	if (fdtable_marked(fd, FDT_MARK_EPOLL))
		return true;
	siblings_of(fd, ino, &s);
	for (int i = 0; i < s.n; i++)
		if (fdtable_marked(s.fds[i], FDT_MARK_EPOLL))
			return true;
	return false;
}

struct slim_resv merge_sibling_resv(int fd, uint64_t ino)
{
	struct slim_resv none = {.fd = -1, .ino = 0}, r;
	struct siblings s;

	siblings_of(fd, ino, &s);
	for (int i = 0; i < s.n; i++) {
		r = fdtable_take_resv(s.fds[i]);
		if (slim_resv_ours(r))
			return r;
	}
	return none;
}

void merge_bound_listening(int fd, uint64_t ino)
{
	struct siblings s;
	int saved = errno;

	siblings_of(fd, ino, &s);
	for (int i = 0; i < s.n; i++) {
		/* Only the fd that listened had a reservation to take. */
		slim_resv_close(fdtable_take_resv(s.fds[i]));
		merge_copied(fd, s.fds[i]);
	}
	errno = saved;
}
