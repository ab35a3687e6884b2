#define _GNU_SOURCE
#include "merge_accept.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#include "merge_waitset.h"
#include "real.h"
#include "uaddr.h"
#include "v4mapped.h"

/* A thread that finds the host socket ready while another thread of the
 * process is in its accept yields this many times (that thread is about to
 * take the connection) before it goes in as well. */
#define GATE_SPINS 1000

/* Which queue a thread tries first when both have connections. */
static __thread unsigned turn __attribute__((tls_model("initial-exec")));

/* Records nfd, just accepted from the slim listener l: FD_ACCEPTED, so
 * that an AF_INET6 app's socket shows v4-mapped names (v4mapped.h), and a
 * record an earlier fd of that number left is replaced. No inode: finding
 * it would cost a system call per connection, and nothing the record
 * decides needs one (fdtable_lookup). No system call. Preserves errno. */
static void note_accepted(int nfd, const struct fd_state *l)
{
	int saved = errno;

	fdtable_set(nfd, &(struct fd_state){.kind = FD_ACCEPTED, .v6 = l->v6, .ino = 0});
	errno = saved;
}

/* accept4 on a listener carried for an AF_INET6 app socket: the peer's
 * name is handed over v4-mapped. */
static int accept_mapped(int fd, const struct fd_state *l, struct sockaddr *addr, socklen_t *len,
			 int flags)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss), ulen = 0;
	int nfd;

	if (addr && len && (slim_peek(&ulen, len, sizeof(ulen)) < 0 || (int)ulen < 0))
		return real_accept4(fd, addr, len, flags); /* the kernel reports it */
	nfd = real_accept4(fd, (struct sockaddr *)&ss, &sl, flags);
	if (nfd < 0)
		return -1;
	note_accepted(nfd, l);
	if (addr && len) {
		int saved = errno;

		slim_put_name(&ss, sl, addr, len, ulen);
		errno = saved;
	}
	return nfd;
}

int slim_host_accept(int fd, const struct fd_state *l, struct sockaddr *addr, socklen_t *len,
		     int flags)
{
	int nfd;

	if (l->v6)
		return accept_mapped(fd, l, addr, len, flags);
	nfd = real_accept4(fd, addr, len, flags);
	if (nfd >= 0)
		note_accepted(nfd, l);
	return nfd;
}

/* accept4 on the container side (non-blocking). Its sockets are the
 * container's own: a record an earlier fd of that number left is
 * forgotten. A container side that is no more (closed behind libslim's
 * back, or not listening) reads as empty: the host socket speaks for the
 * listener. */
static int side_accept(int cfd, struct sockaddr *addr, socklen_t *len, int flags)
{
	int nfd = real_accept4(cfd, addr, len, flags);

	if (nfd >= 0)
		fdtable_clear(nfd);
	else if (errno == EBADF || errno == ENOTSOCK || errno == EINVAL || errno == EOPNOTSUPP)
		errno = EAGAIN;
	return nfd;
}

/* A non-blocking listener: one look at both queues (an accept on an empty
 * queue costs the kernel a socket and a file it then frees, several times
 * a poll), then an accept from a ready one; both ready: the one tried
 * first alternates. A queue that shows anything at all (POLLHUP of a
 * listener that was shut down, POLLNVAL of a closed fd) is accepted from,
 * so that the kernel gives its own error. */
static int accept_now(int fd, const struct fd_state *l, int cfd, struct sockaddr *addr,
		      socklen_t *len, int flags)
{
	static const struct timespec zero = {0, 0};
	struct pollfd p[2] = {{.fd = fd, .events = POLLIN}, {.fd = cfd, .events = POLLIN}};
	bool host, side;
	int nfd;

	if (real_ppoll(p, 2, &zero, NULL) < 0)
		return slim_host_accept(fd, l, addr, len, flags);
	host = p[0].revents != 0;
	side = p[1].revents != 0;
	if (side && (!host || (turn++ & 1))) {
		nfd = side_accept(cfd, addr, len, flags);
		if (nfd >= 0 || errno != EAGAIN || !host)
			return nfd;
		return slim_host_accept(fd, l, addr, len, flags);
	}
	if (host) {
		nfd = slim_host_accept(fd, l, addr, len, flags);
		if (nfd >= 0 || errno != EAGAIN || !side)
			return nfd;
		return side_accept(cfd, addr, len, flags);
	}
	errno = EAGAIN;
	return -1;
}

/* The listener's SO_RCVTIMEO (kept in its record: listener_timeo.h) as a
 * CLOCK_MONOTONIC deadline: false if it has none. */
static bool rcv_deadline(const struct fd_state *l, struct timespec *deadline)
{
	uint32_t ms = l->u.listener.rcvtimeo_ms;

	if (!ms)
		return false;
	clock_gettime(CLOCK_MONOTONIC, deadline);
	deadline->tv_sec += (time_t)(ms / 1000u);
	deadline->tv_nsec += (long)(ms % 1000u) * 1000000L;
	if (deadline->tv_nsec >= 1000000000L) {
		deadline->tv_sec++;
		deadline->tv_nsec -= 1000000000L;
	}
	return true;
}

/* The time left until deadline in *left: false once it has passed. */
static bool time_left(const struct timespec *deadline, struct timespec *left)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	left->tv_sec = deadline->tv_sec - now.tv_sec;
	left->tv_nsec = deadline->tv_nsec - now.tv_nsec;
	if (left->tv_nsec < 0) {
		left->tv_sec--;
		left->tv_nsec += 1000000000L;
	}
	return left->tv_sec > 0 || (left->tv_sec == 0 && left->tv_nsec > 0);
}

/* Whether accept would have been restarted after the signal that just
 * interrupted the wait: which signal it was is unknown, so only when every
 * handler of the process has SA_RESTART. Runs only after an EINTR. */
static bool restartable(void)
{
	int saved = errno;
	bool ok = true;

	for (int sig = 1; sig < NSIG && ok; sig++) {
		struct sigaction sa;

		if (sigaction(sig, NULL, &sa) != 0)
			continue;
		if (!(sa.sa_flags & SA_SIGINFO) &&
		    (sa.sa_handler == SIG_DFL || sa.sa_handler == SIG_IGN))
			continue;
		ok = (sa.sa_flags & SA_RESTART) != 0;
	}
	errno = saved;
	return ok;
}

static void gate_leave(void *arg)
{
	_Atomic uint32_t *g = arg;
	uint32_t v;

	if (!g)
		return;
	v = atomic_load(g);
	while (v > 0 && !atomic_compare_exchange_weak(g, &v, v - 1))
		;
}

/* The blocking accept on the host socket, as one of the threads allowed
 * in (gate: fdtable_gate). */
static int host_accept_gated(int fd, const struct fd_state *l, _Atomic uint32_t *g,
			     struct sockaddr *addr, socklen_t *len, int flags)
{
	int nfd;

	if (g)
		atomic_fetch_add(g, 1);
	pthread_cleanup_push(gate_leave, g);
	nfd = slim_host_accept(fd, l, addr, len, flags);
	pthread_cleanup_pop(0);
	if (g) {
		int saved = errno;

		gate_leave(g);
		errno = saved;
	}
	return nfd;
}

/* The blocking accept: waits in the listener's wait set (wake-one:
 * merge_waitset.h) until a queue has a connection, then takes it. */
static int accept_wait(int fd, const struct fd_state *l, int cfd, struct sockaddr *addr,
		       socklen_t *len, int flags)
{
	_Atomic uint32_t *g = fdtable_gate(fd);
	int ep = merge_waitset(fd, cfd);
	struct timespec deadline, left;
	bool timed = rcv_deadline(l, &deadline);
	int spins = 0;

	for (;;) {
		bool host, side, dead, side_first;
		int n, nfd;

		if (timed && !time_left(&deadline, &left)) {
			errno = EAGAIN;
			return -1;
		}
		n = merge_waitset_wait(ep, fd, cfd, timed ? &left : NULL, &host, &side, &dead);
		if (n < 0) {
			if (errno == EINTR && !timed && restartable())
				continue;
			return -1;
		}
		if (n == 0)
			continue; /* the deadline, checked above */
		side_first = side && (!host || (turn++ & 1));
		if (side_first) {
			nfd = side_accept(cfd, addr, len, flags);
			if (nfd >= 0)
				merge_waitset_pass(ep, cfd, WAITSET_SIDE);
			if (nfd >= 0 || errno != EAGAIN)
				return nfd;
			/* A racing acceptor took it; or the container side no
			 * longer listens (it would report so at once, again and
			 * again): the host socket alone then. */
			if (dead) {
				merge_waitset_drop(ep, cfd);
				cfd = -1;
			}
			continue;
		}
		if (!host)
			continue;
		/* Another thread of ours is taking the host connection:
		 * wait on both again rather than block behind it. */
		if (g && atomic_load(g) > 0 && spins++ < GATE_SPINS) {
			sched_yield();
			continue;
		}
		nfd = host_accept_gated(fd, l, g, addr, len, flags);
		if (nfd >= 0)
			merge_waitset_pass(ep, fd, WAITSET_HOST);
		return nfd;
	}
}

int merge_accept(int fd, const struct fd_state *l, struct sockaddr *addr, socklen_t *len, int flags)
{
	int cfd = l->u.listener.resv.fd, fl;

	/* What the kernel refuses before it looks at any queue. */
	if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC))
		return slim_host_accept(fd, l, addr, len, flags);
	fl = fcntl(fd, F_GETFL);
	if (fl < 0)
		return slim_host_accept(fd, l, addr, len, flags);
	if (fl & O_NONBLOCK)
		return accept_now(fd, l, cfd, addr, len, flags);
	return accept_wait(fd, l, cfd, addr, len, flags);
}
