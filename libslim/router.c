/* The router connection: opened lazily on first need, hello'ed, and
 * re-opened once transparently if it breaks (router restart, the app closed
 * our fd, fork). One mutex serialises request/reply on it; it is the only
 * lock in libslim and is never taken by the fd table. Giving up (socket
 * unset, unreachable, refused, lost) prints one line and disables slim for
 * the rest of the process: every socket then stays plain. */
#define _GNU_SOURCE
#include "router.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "fdtable.h"
#include "highfd.h"
#include "pool.h"
#include "real.h"
#include "slim_maps.h"
#include "view.h"
#include "wire.h"

/* ST_AWAY: the router could not be reached (not started yet, restarting,
 * crashed). Sockets use the container network meanwhile, and the next need
 * after AWAY_RETRY_NS tries again, so a router restart costs a process its
 * overlay only for that gap. ST_DISABLED is for good: no SLIM_SOCKET, this
 * process is not in a registered container, or the router spoke nonsense. */
enum { ST_UNKNOWN, ST_ACTIVE, ST_AWAY, ST_DISABLED };
#define AWAY_RETRY_NS 1000000000LL

/* roundtrip() results besides 0 */
#define RT_TRANSPORT (-1) /* the connection failed: errno set, retry elsewhere */
#define RT_PROTOCOL (-2)  /* the router answered nonsense: reason in why */
/* ensure_conn() result when it has already disabled slim */
#define EC_GAVE_UP (-2)

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static char sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
static char path_shown[256]; /* for messages, possibly truncated */
static bool path_set, path_too_long;

static pthread_mutex_t ipc_lock = PTHREAD_MUTEX_INITIALIZER;
/* Set while this thread holds ipc_lock: a hook re-entered from a signal
 * handler must not wait for it. */
static __thread bool in_ipc __attribute__((tls_model("initial-exec")));
static _Atomic int state = ST_UNKNOWN;
static _Atomic int conn_fd = -1;
static uint64_t conn_ino; /* under ipc_lock */
static _Atomic uint32_t own_vip;
/* SLIM_FASTPATH=0: every connect asks the router (the foundation's path;
 * for comparison and as an escape hatch). */
static bool fastpath = true;
/* A pool request is on its way: its reply comes before any other reply on
 * the connection, so whoever uses the connection next collects it first.
 * Under ipc_lock. */
static bool pool_pending;
/* The socket for the next router connection, made while the process
 * starts (spare_make): connecting it later needs no fd number, so a
 * process whose fd table has filled up can still reach the router. -1:
 * none. Under ipc_lock (the fork child handler resets it). */
static _Atomic int spare_fd = -1;
static uint64_t spare_ino;

/* pool_pending for lock-free readers (a hint: decisions are re-taken under
 * ipc_lock). */
static _Atomic bool pending_hint;

static void set_pending(bool p)
{
	pool_pending = p;
	atomic_store_explicit(&pending_hint, p, memory_order_relaxed);
}
/* The next pool request's size: it starts small, so a process that makes
 * one connection costs the router two sockets, not a full batch, and
 * doubles with each reply up to POOL_BATCH. Under ipc_lock. */
#define POOL_FIRST 2
static uint32_t next_batch = POOL_FIRST;
static atomic_flag warned = ATOMIC_FLAG_INIT;
static _Atomic long long retry_at; /* ST_AWAY: CLOCK_MONOTONIC ns of the next try */
/* Message buffers for the one request/reply in flight, under ipc_lock: app
 * threads may have small stacks (PTHREAD_STACK_MIN is 16 KiB). */
static uint8_t msg_buf[SLIM_WIRE_MAX];
static char why_buf[200];

/* Set in the thread that took ipc_lock in atfork_prepare. A thread that
 * already holds it (fork from a signal handler that interrupted a round
 * trip) must not take it again: that would deadlock on itself. */
static __thread bool fork_locked __attribute__((tls_model("initial-exec")));

static void atfork_prepare(void)
{
	if (in_ipc)
		return;
	pthread_mutex_lock(&ipc_lock);
	fork_locked = true;
}

static void atfork_parent(void)
{
	if (fork_locked) {
		fork_locked = false;
		pthread_mutex_unlock(&ipc_lock);
	}
}

static void fd_spare_drop_in_child(void)
{
	int s = atomic_exchange(&spare_fd, -1);

	if (s >= 0 && fd_inode(s) == spare_ino)
		real_close(s);
}

/* The child must not share the parent's connection: replies would go to
 * whichever process reads first. Drop it; the next need reconnects. (If the
 * fork interrupted this thread's own round trip, the connection is in use
 * by that frame: forget it without closing.) */
static void atfork_child(void)
{
	int fd = atomic_exchange(&conn_fd, -1);

	set_pending(false);
	next_batch = POOL_FIRST;
	pool_forget_in_child();
	/* The spare is one socket shared with the parent: the child makes its
	 * own when it needs one. */
	fd_spare_drop_in_child();

	if (fork_locked) {
		if (fd >= 0 && fd_inode(fd) == conn_ino)
			real_close(fd);
		fork_locked = false;
		pthread_mutex_unlock(&ipc_lock);
	}
}

/* SLIM_SOCKET is read once: the app may clear its environment later. */
static void init(void)
{
	const char *p = getenv("SLIM_SOCKET"), *fp = getenv("SLIM_FASTPATH");

	if (fp && strcmp(fp, "0") == 0)
		fastpath = false;

	if (p && *p) {
		snprintf(path_shown, sizeof(path_shown), "%s", p);
		if (strlen(p) < sizeof(sock_path)) {
			memcpy(sock_path, p, strlen(p) + 1);
			path_set = true;
		} else {
			path_too_long = true;
		}
	}
	pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

static void spare_make(void);
static void lock_ipc(int *cancel_state);
static void unlock_ipc(int cancel_state);

/* Makes the router connection's socket while the process starts, when
 * its fd table still has room: an app that later fills every fd up to its
 * limit (and then creates a socket on the last one) can still connect it
 * to the router on first need. Only a socket: the router hears of the
 * process when it first needs it (a process that makes no socket costs the
 * router nothing, and its start a socket() call). */
static void warm_up(void)
{
	int cs, saved = errno;

	if (!path_set || !fastpath)
		return;
	lock_ipc(&cs);
	if (atomic_load(&state) == ST_UNKNOWN)
		spare_make();
	unlock_ipc(cs);
	errno = saved;
}

__attribute__((constructor)) static void router_ctor(void)
{
	pthread_once(&init_once, init);
	warm_up();
}

/* Gives up on slim for this process and prints msg (one line) the first
 * time. Preserves errno. The line buffer is static (small stacks): only the
 * one caller that wins the warned flag ever writes it. */
static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Moves to state st (ST_AWAY or ST_DISABLED) and prints the process's one
 * warning line, if it has not been printed yet. */
static void fall_back(int st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fall_back(int st, const char *fmt, ...)
{
	static char line[512];
	int saved = errno, n;
	va_list ap;

	if (st == ST_AWAY)
		atomic_store(&retry_at, now_ns() + AWAY_RETRY_NS);
	atomic_store(&state, st);
	if (atomic_flag_test_and_set(&warned))
		return;
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, (size_t)n) < 0) {
		/* nowhere else to report it */
	}
	errno = saved;
}

static void close_fds(const int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		real_close(fds[i]);
}

/* True if a successful reply's fd is what that reply hands out: a TCP/IPv4
 * socket for connect and listen (it is dup3'ed over the app's socket), the
 * view file for hello. */
static bool reply_fd_fits(int fd, Slim__Request__BodyCase expected)
{
	int v, saved = errno;
	socklen_t len = sizeof(v);
	bool ok;

	if (expected == SLIM__REQUEST__BODY_HELLO) {
		ok = slim_view_fd_ok(fd);
	} else {
		ok = getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &v, &len) == 0 && v == AF_INET;
		len = sizeof(v);
		ok = ok && getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &len) == 0 && v == SOCK_STREAM;
	}
	errno = saved;
	return ok;
}

/* Reads one reply to a request of kind `expected` from fd (flags: 0, or
 * MSG_DONTWAIT). Returns 0 with *out (caller frees with
 * slim__reply__free_unpacked) and, for a successful reply, its fds in fds
 * and *nfds (caller owns: exactly one of the right kind, or for a pool
 * reply exactly `count`; none for an error reply); RT_TRANSPORT with errno
 * (EAGAIN: nothing there yet); or RT_PROTOCOL with a reason in why. Received
 * fds are never leaked, whatever the reply. Under ipc_lock (uses msg_buf). */
static int receive(int fd, Slim__Request__BodyCase expected, int flags, Slim__Reply **out, int *fds,
		   size_t *nfds, char *why, size_t whylen)
{
	ssize_t n;
	Slim__Reply *rep;
	size_t want;

	why[0] = 0;
	*nfds = 0;
	if (expected == SLIM__REQUEST__BODY_POOL)
		flags |= SLIM_WIRE_SHORT_FDS_OK;
	n = slim_wire_recv_flags(fd, msg_buf, sizeof(msg_buf), fds, nfds, SLIM_WIRE_MAX_FDS, flags);
	if (n < 0 && errno == EMSGSIZE) {
		snprintf(why, whylen, "oversized reply");
		return RT_PROTOCOL;
	}
	if (n < 0)
		return RT_TRANSPORT;
	if (n == 0) {
		close_fds(fds, *nfds);
		errno = ECONNRESET;
		return RT_TRANSPORT;
	}
	rep = slim__reply__unpack(NULL, (size_t)n, msg_buf);
	if (!rep) {
		close_fds(fds, *nfds);
		snprintf(why, whylen, "undecodable reply");
		return RT_PROTOCOL;
	}
	if (slim_validate_reply(rep, expected, why, whylen) != 0)
		goto bad;
	if (rep->error) {
		close_fds(fds, *nfds);
		*nfds = 0;
		*out = rep;
		return 0;
	}
	/* Pool sockets are checked one by one as they enter the pool; fewer
	 * than promised arrive when this process is out of fd numbers (the
	 * kernel drops the rest), and those that did are still good. */
	want = expected == SLIM__REQUEST__BODY_POOL ? rep->pool->count : 1;
	if (expected == SLIM__REQUEST__BODY_POOL
		? *nfds > want
		: (*nfds != want || !reply_fd_fits(fds[0], expected)))
		goto bad;
	*out = rep;
	return 0;
bad:
	if (!why[0])
		snprintf(why, whylen, "reply with %zu fds, or of the wrong kind", *nfds);
	close_fds(fds, *nfds);
	*nfds = 0;
	slim__reply__free_unpacked(rep, NULL);
	return RT_PROTOCOL;
}

/* Sends req on fd (no reply may be pending) and reads the reply, which has
 * one fd if it is a success (*rfd; -1 for an error reply). Otherwise as
 * receive(). Under ipc_lock. */
static int roundtrip(int fd, const Slim__Request *req, Slim__Request__BodyCase expected,
		     Slim__Reply **out, int *rfd, char *why, size_t whylen)
{
	int fds[SLIM_WIRE_MAX_FDS];
	size_t nfds, len = slim__request__get_packed_size(req);
	int r;

	why[0] = 0;
	if (len > sizeof(msg_buf)) {
		errno = EMSGSIZE;
		return RT_TRANSPORT;
	}
	slim__request__pack(req, msg_buf);
	if (slim_wire_send(fd, msg_buf, len, NULL, 0) < 0)
		return RT_TRANSPORT;
	r = receive(fd, expected, 0, out, fds, &nfds, why, whylen);
	if (r == 0)
		*rfd = nfds ? fds[0] : -1;
	return r;
}

/* Hello on fd. Returns 0 (slim active), RT_TRANSPORT (errno), or EC_GAVE_UP
 * (refused or nonsense: slim disabled). Under ipc_lock. */
static int hello(int fd)
{
	Slim__Request req = SLIM__REQUEST__INIT;
	Slim__HelloRequest h = SLIM__HELLO_REQUEST__INIT;
	Slim__Reply *rep;
	int mapfd, r;

	h.version = SLIM_PROTO_VERSION;
	req.body_case = SLIM__REQUEST__BODY_HELLO;
	req.hello = &h;
	r = roundtrip(fd, &req, SLIM__REQUEST__BODY_HELLO, &rep, &mapfd, why_buf, sizeof(why_buf));
	if (r == RT_TRANSPORT)
		return r;
	if (r == RT_PROTOCOL) {
		fall_back(
		    ST_DISABLED,
		    "libslim: router at %s sent a bad reply: %s (using the container network)",
		    path_shown, why_buf);
		return EC_GAVE_UP;
	}
	if (rep->error) {
		fall_back(ST_DISABLED,
			  "libslim: router at %s refused this process: %s (using the container "
			  "network)",
			  path_shown, rep->message ? rep->message : strerror(rep->error));
		slim__reply__free_unpacked(rep, NULL);
		return EC_GAVE_UP;
	}
	atomic_store(&own_vip, rep->hello->vip);
	slim__reply__free_unpacked(rep, NULL);
	if (slim_view_attach(mapfd) != 0) {
		fall_back(ST_DISABLED,
			  "libslim: cannot map the router's view: %s (using the container network)",
			  strerror(errno));
		return EC_GAVE_UP;
	}
	atomic_store(&state, ST_ACTIVE);
	return 0;
}

/* Forgets the connection fd; closes it only if it is still ours. */
static void drop_conn(int fd)
{
	set_pending(false);
	if (atomic_compare_exchange_strong(&conn_fd, &fd, -1) && fd_inode(fd) == conn_ino)
		real_close(fd);
}

/* True if the connection is open and still the socket we opened (the app
 * may have closed the number and reused it). Under ipc_lock. */
static bool conn_alive(void)
{
	int fd = atomic_load(&conn_fd);

	if (fd < 0)
		return false;
	if (fd_inode(fd) != conn_ino) {
		atomic_compare_exchange_strong(&conn_fd, &fd, -1); /* not ours: no close */
		set_pending(false);
		return false;
	}
	return true;
}

/* Makes the spare socket, if there is none (or ours was closed behind our
 * back), above the app's usual fd numbers. Under ipc_lock. */
static void spare_make(void)
{
	int fd, base, high;

	if (spare_fd >= 0 && fd_inode(spare_fd) == spare_ino)
		return;
	spare_fd = -1;
	/* Raw system calls: this runs in every process start, and the real
	 * libc functions behind our hooks are looked up (dlsym, some tens of
	 * microseconds) only when a hook first needs them. */
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

/* Opens the connection (on the spare socket if there is one) and says
 * hello. Returns 0, RT_TRANSPORT (errno; nothing left open but the spare)
 * or EC_GAVE_UP. Under ipc_lock. */
static int open_conn(void)
{
	struct sockaddr_un sun;
	int fd, r, saved;

	if (!path_set) {
		if (path_too_long)
			fall_back(ST_DISABLED,
				  "libslim: router socket path too long: %s (using the container "
				  "network)",
				  path_shown);
		else
			fall_back(ST_DISABLED,
				  "libslim: SLIM_SOCKET is not set (using the container network; "
				  "start the program with slim-run)");
		return EC_GAVE_UP;
	}
	spare_make();
	fd = spare_fd;
	if (fd < 0)
		return RT_TRANSPORT; /* errno from socket() */
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, sock_path, strlen(sock_path) + 1);
	/* A failed connect leaves the socket as it was: it stays the spare
	 * for the next try. */
	if (real_connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
		return RT_TRANSPORT;
	spare_fd = -1;
	conn_ino = spare_ino;
	atomic_store(&conn_fd, fd);
	r = hello(fd);
	if (r != 0) {
		saved = errno;
		drop_conn(fd);
		errno = saved;
	}
	return r;
}

/* Opens the connection and says hello, unless it is up. Returns 0,
 * RT_TRANSPORT (errno; nothing left open) or EC_GAVE_UP. Under ipc_lock. */
static int ensure_conn(void)
{
	return conn_alive() ? 0 : open_conn();
}

static void lock_ipc(int *cancel_state)
{
	/* recvmsg is a cancellation point: never leave the lock held. */
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, cancel_state);
	pthread_mutex_lock(&ipc_lock);
	in_ipc = true;
}

static void unlock_ipc(int cancel_state)
{
	in_ipc = false;
	pthread_mutex_unlock(&ipc_lock);
	pthread_setcancelstate(cancel_state, NULL);
}

bool slim_disabled(void)
{
	return atomic_load_explicit(&state, memory_order_relaxed) == ST_DISABLED;
}

/* True when the router should be (re)tried now: never asked yet, or away
 * and its retry time has come. */
static bool may_try(void)
{
	int st = atomic_load(&state);

	return st == ST_UNKNOWN || (st == ST_AWAY && now_ns() >= atomic_load(&retry_at));
}

bool slim_active(void)
{
	int cs, saved = errno;

	pthread_once(&init_once, init);
	if (!may_try())
		return atomic_load(&state) == ST_ACTIVE;
	if (in_ipc)
		return false;
	lock_ipc(&cs);
	if (may_try() && ensure_conn() == RT_TRANSPORT)
		fall_back(ST_AWAY,
			  "libslim: router at %s unreachable: %s (using the container network "
			  "until it is back)",
			  path_shown, strerror(errno));
	unlock_ipc(cs);
	errno = saved;
	return atomic_load(&state) == ST_ACTIVE;
}

uint32_t slim_vip(void)
{
	return atomic_load(&own_vip);
}

/* The router of our view retired (stopped for good, its programs gone):
 * forget the connection to it, so that the next slim_active() looks for a
 * new router at once. */
static void forget_retired_router(void)
{
	int cs;

	if (in_ipc)
		return;
	lock_ipc(&cs);
	if (conn_alive())
		drop_conn(atomic_load(&conn_fd));
	if (atomic_load(&state) == ST_ACTIVE) {
		atomic_store(&retry_at, 0);
		atomic_store(&state, ST_AWAY);
	}
	unlock_ipc(cs);
}

bool slim_overlay(uint32_t ip, uint32_t *epoch)
{
	struct view_snap vs;

	if (atomic_load(&state) != ST_ACTIVE)
		return false;
	slim_view_read(&ip, &vs);
	if (vs.state == SLIM_VIEW_RETIRED) {
		/* Stamped sockets are useless without the programs. A new
		 * router (new view) may already be there: ask at once. */
		pool_drop_all();
		forget_retired_router();
		if (!slim_active())
			return false;
		slim_view_read(&ip, &vs);
		if (vs.state == SLIM_VIEW_RETIRED) {
			fall_back(ST_AWAY,
				  "libslim: router at %s stopped (using the container network "
				  "until one is back)",
				  path_shown);
			return false;
		}
	}
	*epoch = vs.epoch;
	return vs.overlay && vs.state != SLIM_VIEW_EMPTY;
}

bool slim_epoch(uint32_t *epoch)
{
	struct view_snap vs;

	if (atomic_load(&state) != ST_ACTIVE)
		return false;
	slim_view_read(NULL, &vs); /* state and epoch only */
	*epoch = vs.epoch;
	return vs.state == SLIM_VIEW_RUNNING || vs.state == SLIM_VIEW_AWAY;
}

/* Reads the reply to the pool request in flight, if there is one, into the
 * pool (waiting for it if block). Returns 0 (collected, none pending, or
 * not there yet), RT_TRANSPORT (errno: the connection is unusable) or
 * RT_PROTOCOL (why_buf). A refusal leaves the pool as it is: the next
 * connect then takes the per-connect path, which reports it properly. Under
 * ipc_lock. */
static int collect_pool(int fd, bool block)
{
	int fds[SLIM_WIRE_MAX_FDS];
	size_t nfds;
	Slim__Reply *rep;
	int r;

	if (!pool_pending)
		return 0;
	r = receive(fd, SLIM__REQUEST__BODY_POOL, block ? 0 : MSG_DONTWAIT, &rep, fds, &nfds,
		    why_buf, sizeof(why_buf));
	if (r == RT_TRANSPORT && !block && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	if (r != 0)
		return r;
	set_pending(false);
	if (rep->error == 0) {
		pool_put(fds, nfds, rep->pool->epoch);
		if (next_batch < POOL_BATCH)
			next_batch *= 2;
	}
	slim__reply__free_unpacked(rep, NULL);
	return 0;
}

/* Sends a pool request for next_batch sockets (urgent: the caller will
 * wait for it). Returns 0 or RT_TRANSPORT (errno). Under ipc_lock, with no
 * reply pending. */
static int send_pool_request(int fd, bool urgent)
{
	Slim__Request req = SLIM__REQUEST__INIT;
	Slim__PoolRequest p = SLIM__POOL_REQUEST__INIT;
	size_t len;

	p.count = next_batch;
	p.has_urgent = urgent;
	p.urgent = urgent;
	req.body_case = SLIM__REQUEST__BODY_POOL;
	req.pool = &p;
	len = slim__request__get_packed_size(&req);
	slim__request__pack(&req, msg_buf);
	if (slim_wire_send(fd, msg_buf, len, NULL, 0) < 0)
		return RT_TRANSPORT;
	set_pending(true);
	return 0;
}

bool slim_fastpath(void)
{
	pthread_once(&init_once, init);
	return fastpath;
}

void slim_pool_service(bool block)
{
	int cs, fd, e, saved = errno;

	if (!fastpath || in_ipc || atomic_load(&state) != ST_ACTIVE)
		return;
	/* The common case: enough sockets, nothing on its way. */
	if (!block && !atomic_load_explicit(&pending_hint, memory_order_relaxed) &&
	    pool_count() >= POOL_LOW)
		return;
	if (block) {
		lock_ipc(&cs);
	} else {
		pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cs);
		if (pthread_mutex_trylock(&ipc_lock) != 0) {
			pthread_setcancelstate(cs, NULL);
			return; /* another thread is talking to the router */
		}
		in_ipc = true;
	}
	if (!conn_alive()) {
		/* Only a caller that is about to wait anyway reconnects. */
		if (!block)
			goto out;
		e = ensure_conn();
		if (e == RT_TRANSPORT)
			fall_back(ST_AWAY,
				  "libslim: router at %s unreachable: %s (using the container "
				  "network until it is back)",
				  path_shown, strerror(errno));
		if (e != 0)
			goto out;
	}
	fd = atomic_load(&conn_fd);
	e = collect_pool(fd, block);
	if (e == 0 && !pool_pending && pool_count() < POOL_LOW)
		e = send_pool_request(fd, block && pool_count() == 0);
	if (e == 0 && block)
		e = collect_pool(fd, true);
	if (e == RT_PROTOCOL) {
		fall_back(
		    ST_DISABLED,
		    "libslim: router at %s sent a bad reply: %s (using the container network)",
		    path_shown, why_buf);
		drop_conn(fd);
	} else if (e == RT_TRANSPORT) {
		/* The router went away (restart): the next request reconnects. */
		drop_conn(fd);
	}
out:
	unlock_ipc(cs);
	errno = saved;
}

/* One request with one transparent reconnect. Returns 0 with *rep (and *rfd
 * for a successful reply) or SLIM_FALLBACK (slim disabled). Preserves errno. */
static int request(const Slim__Request *req, Slim__Reply **rep, int *rfd)
{
	int cs, r = SLIM_FALLBACK, saved = errno, err = 0;

	pthread_once(&init_once, init);
	if (in_ipc || slim_disabled())
		return SLIM_FALLBACK;
	lock_ipc(&cs);
	for (int attempt = 0; attempt < 2 && !slim_disabled(); attempt++) {
		int fd, e = ensure_conn();

		if (e == EC_GAVE_UP)
			break;
		if (e == RT_TRANSPORT) {
			fall_back(ST_AWAY,
				  "libslim: router at %s unreachable: %s (using the container "
				  "network until it is back)",
				  path_shown, strerror(errno));
			break;
		}
		fd = atomic_load(&conn_fd);
		/* A pool reply still on its way comes first. */
		e = collect_pool(fd, true);
		if (e == 0)
			e = roundtrip(fd, req, req->body_case, rep, rfd, why_buf, sizeof(why_buf));
		if (e == 0) {
			r = 0;
			break;
		}
		if (e == RT_PROTOCOL) {
			fall_back(ST_DISABLED,
				  "libslim: router at %s sent a bad reply: %s (using the container "
				  "network)",
				  path_shown, why_buf);
			drop_conn(fd);
			break;
		}
		err = errno;
		drop_conn(fd);
	}
	if (r != 0 && !slim_disabled())
		fall_back(ST_AWAY,
			  "libslim: router at %s connection lost: %s (using the container network "
			  "until it is back)",
			  path_shown, strerror(err));
	unlock_ipc(cs);
	errno = saved;
	return r;
}

/* request() for connect and listen. Returns 0 with *rep (a successful
 * reply: caller frees) and *hostfd (caller owns); the positive errno the
 * router refused with (EACCES, not registered, disables slim and gives
 * SLIM_FALLBACK instead); or SLIM_FALLBACK. Preserves errno. */
static int ask(const Slim__Request *req, Slim__Reply **rep, int *hostfd)
{
	int e;

	if (request(req, rep, hostfd) != 0)
		return SLIM_FALLBACK;
	e = (*rep)->error;
	if (!e)
		return 0;
	if (e == EACCES) {
		fall_back(ST_DISABLED,
			  "libslim: router at %s refused this process: %s (using the container "
			  "network)",
			  path_shown, (*rep)->message ? (*rep)->message : strerror(e));
		e = SLIM_FALLBACK;
	}
	slim__reply__free_unpacked(*rep, NULL);
	return e;
}

int slim_router_connect(struct slim_ep dst, struct slim_ep *underlay, int *hostfd)
{
	Slim__Request req = SLIM__REQUEST__INIT;
	Slim__ConnectRequest c = SLIM__CONNECT_REQUEST__INIT;
	Slim__Reply *rep;
	int r;

	c.vip = dst.ip;
	c.port = dst.port;
	req.body_case = SLIM__REQUEST__BODY_CONNECT;
	req.connect = &c;
	r = ask(&req, &rep, hostfd);
	if (r != 0)
		return r;
	underlay->ip = rep->connect->underlay_ip;
	underlay->port = (uint16_t)rep->connect->port;
	slim__reply__free_unpacked(rep, NULL);
	return 0;
}

int slim_router_listen(uint32_t bound_ip, uint16_t port, int backlog, struct slim_ep *vaddr,
		       int *hostfd)
{
	Slim__Request req = SLIM__REQUEST__INIT;
	Slim__ListenRequest l = SLIM__LISTEN_REQUEST__INIT;
	Slim__Reply *rep;
	int r;

	l.port = port;
	l.backlog = backlog;
	l.has_bound_ip = true;
	l.bound_ip = bound_ip;
	req.body_case = SLIM__REQUEST__BODY_LISTEN;
	req.listen = &l;
	r = ask(&req, &rep, hostfd);
	if (r != 0)
		return r;
	vaddr->ip = rep->listen->vip;
	vaddr->port = (uint16_t)rep->listen->port;
	slim__reply__free_unpacked(rep, NULL);
	return 0;
}

static bool in_range(int fd, unsigned int first, unsigned int last)
{
	return fd >= 0 && (unsigned int)fd >= first && (unsigned int)fd <= last;
}

void slim_router_range_closed(unsigned int first, unsigned int last)
{
	int cs, fd = atomic_load(&conn_fd), saved = errno;

	if (in_ipc ||
	    (!in_range(fd, first, last) && !in_range(atomic_load(&spare_fd), first, last)))
		return;
	lock_ipc(&cs);
	/* The number may already be someone else's: drop_conn closes it
	 * only if it still is our socket (it is not: it was closed). */
	if (in_range(fd, first, last) && atomic_load(&conn_fd) == fd)
		drop_conn(fd);
	if (atomic_load(&state) == ST_ACTIVE)
		(void)ensure_conn();
	/* No connection (not needed yet, or the router is away): the spare,
	 * made again while the numbers just freed leave room for it. */
	if (atomic_load(&conn_fd) < 0)
		spare_make();
	unlock_ipc(cs);
	errno = saved;
}

void slim_router_fd_closed(int fd)
{
	int c = fd;

	if (fd < 0)
		return;
	atomic_compare_exchange_strong(&conn_fd, &c, -1);
	c = fd;
	atomic_compare_exchange_strong(&spare_fd, &c, -1);
}
