/* One mutex guards the pool connection and its accounting. It is held
 * across a wait for the router only when the pool is empty (bounded by
 * POOL_WAIT_MS): other threads that want a socket then wait for the same
 * reply anyway. A signal handler that re-enters on the same thread does not
 * wait: it gets -1 and a container socket. */
#define _GNU_SOURCE
#include "pool.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>

#include "fdtable.h"
#include "real.h"
#include "router.h"
#include "wire.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static __thread bool in_pool __attribute__((tls_model("initial-exec")));
/* Under mu. */
static int pfd = -1;
static uint64_t pino;
static uint32_t asked, got; /* sockets requested and received on pfd */
static uint32_t next_batch = POOL_FIRST;
static uint8_t buf[256];

/* Forgets the connection, closing it only if the number still holds it
 * (the app may have closed it and reused the number). */
static void drop(void)
{
	if (pfd >= 0 && fd_inode(pfd) == pino)
		real_close(pfd);
	pfd = -1;
	asked = got = 0;
}

/* The connection, (re)opened if needed. Returns 0 or -1. */
static int conn(void)
{
	if (pfd >= 0 && fd_inode(pfd) == pino)
		return 0;
	drop();
	pfd = slim_router_dial();
	if (pfd < 0)
		return -1;
	pino = fd_inode(pfd);
	return 0;
}

/* Sends a pool request for next_batch sockets. Returns 0 or -1. */
static int ask(bool urgent)
{
	Slim__Request req = SLIM__REQUEST__INIT;
	Slim__PoolRequest p = SLIM__POOL_REQUEST__INIT;
	size_t len;

	p.count = next_batch;
	p.has_urgent = true;
	p.urgent = urgent;
	req.body_case = SLIM__REQUEST__BODY_POOL;
	req.pool = &p;
	len = slim__request__get_packed_size(&req);
	if (len > sizeof(buf))
		return -1;
	slim__request__pack(&req, buf);
	if (slim_wire_send(pfd, buf, len, NULL, 0) < 0)
		return -1;
	asked += next_batch;
	if (next_batch < POOL_BATCH)
		next_batch *= 2;
	return 0;
}

#define R_NONE (-1)    /* nothing queued (EAGAIN) */
#define R_DEAD (-2)    /* the connection broke or carried nonsense */
#define R_REFUSED (-3) /* an error reply: the batches asked for are over */

/* Receives one packet: returns its socket (>= 0, *epoch set) or R_*. */
static int recv_one(int flags, uint32_t *epoch)
{
	int fds[1];
	size_t nfds = 0;
	ssize_t n = slim_wire_recv_flags(pfd, buf, sizeof(buf), fds, &nfds, 1, flags);
	Slim__Reply *rep;
	char why[8];

	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return R_NONE;
	if (n <= 0) {
		for (size_t i = 0; i < nfds; i++)
			real_close(fds[i]);
		return R_DEAD;
	}
	rep = slim__reply__unpack(NULL, (size_t)n, buf);
	if (!rep || slim_validate_reply(rep, SLIM__REQUEST__BODY_POOL, why, sizeof(why)) != 0 ||
	    (rep->error == 0 && (nfds != 1 || rep->pool->count != 1))) {
		for (size_t i = 0; i < nfds; i++)
			real_close(fds[i]);
		if (rep)
			slim__reply__free_unpacked(rep, NULL);
		return R_DEAD;
	}
	if (rep->error) {
		slim__reply__free_unpacked(rep, NULL);
		asked = got; /* nothing more is coming */
		return R_REFUSED;
	}
	got++;
	*epoch = rep->pool->epoch;
	slim__reply__free_unpacked(rep, NULL);
	return fds[0];
}

/* Waits until the connection has a packet. Returns 0, or -1 on timeout. */
static int wait_readable(void)
{
	struct pollfd p = {.fd = pfd, .events = POLLIN};
	int r;

	do
		r = poll(&p, 1, POOL_WAIT_MS);
	while (r < 0 && errno == EINTR);
	return r > 0 ? 0 : -1;
}

/* The body of pool_take, under mu. */
static int take(uint32_t epoch, bool cloexec)
{
	int flags = MSG_DONTWAIT | (cloexec ? MSG_CMSG_CLOEXEC : 0);
	int reconnects = 0;

	for (int i = 0; i < 1000; i++) { /* bounds stale sockets and retries */
		uint32_t ep = 0;
		int fd;

		if (conn() < 0)
			return -1;
		fd = recv_one(flags, &ep);
		if (fd >= 0 && ep == epoch)
			return fd;
		if (fd >= 0) {
			real_close(fd); /* stamped for maps that are gone */
			continue;
		}
		if (fd == R_REFUSED)
			return -1;
		if (fd == R_DEAD) {
			drop();
			if (++reconnects > 1)
				return -1;
			continue;
		}
		/* Nothing queued: ask, unless a batch is on its way, and wait. */
		if (asked == got && ask(true) < 0) {
			drop();
			return -1;
		}
		if (wait_readable() < 0)
			return -1;
	}
	return -1;
}

int pool_take(uint32_t epoch, bool cloexec, uint64_t *ino)
{
	int saved = errno, fd;

	if (in_pool)
		return -1;
	pthread_mutex_lock(&mu);
	in_pool = true;
	fd = take(epoch, cloexec);
	/* Ahead of need, without waiting for the answer. */
	if (fd >= 0 && asked - got < POOL_LOW && ask(false) < 0)
		drop();
	in_pool = false;
	pthread_mutex_unlock(&mu);
	*ino = fd >= 0 ? fd_inode(fd) : 0;
	errno = saved;
	return fd;
}

void pool_drop_all(void)
{
	if (in_pool)
		return;
	pthread_mutex_lock(&mu);
	drop();
	next_batch = POOL_FIRST;
	pthread_mutex_unlock(&mu);
}

void pool_forget_in_child(void)
{
	pthread_mutex_init(&mu, NULL);
	in_pool = false;
	drop();
	next_batch = POOL_FIRST;
}
