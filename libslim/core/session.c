#define _GNU_SOURCE
#include "session.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "channel.h"
#include "config.h"
#include "init.h"
#include "messages.h"
#include "pool.h"
#include "view_format.h"
#include "view_reader.h"
#include "wire.h"

enum session_state { ST_UNKNOWN, ST_ACTIVE, ST_AWAY, ST_DISABLED };
#define AWAY_RETRY_NS 1000000000LL

static _Atomic int state = ST_UNKNOWN;
static _Atomic uint32_t own_vip;
static _Atomic long long retry_at; /* ST_AWAY: CLOCK_MONOTONIC ns of the next try */
static atomic_flag warned = ATOMIC_FLAG_INIT;

/* Each fault's state and message. The message is a format given the
 * router's socket path first and the detail second (both strings); a
 * message without the detail ends before it (printf ignores arguments
 * left over), one without the path skips it with %.0s. */
static const struct {
	enum session_state state;
	const char *fmt;
} faults[] = {
    [FAULT_NO_SOCKET] =
	{ST_DISABLED,
	 "libslim: SLIM_SOCKET is not set and no router socket is at " SLIM_DEFAULT_SOCKET
	 "%.0s (using the container network; start "
	 "the program with slim-run)"},
    [FAULT_PATH_TOO_LONG] = {ST_DISABLED, "libslim: router socket path too long: %s (using "
					  "the container network)"},
    [FAULT_BAD_REPLY] =
	{ST_DISABLED, "libslim: router at %s sent a bad reply: %s (using the container network)"},
    [FAULT_REFUSED] = {ST_DISABLED, "libslim: router at %s refused this process: %s (using the "
				    "container network)"},
    [FAULT_VIEW] = {ST_DISABLED, "libslim: cannot map the view of the router at %s: %s (using "
				 "the container network)"},
    [FAULT_UNREACHABLE] = {ST_AWAY, "libslim: router at %s unreachable: %s (using the container "
				    "network until it is back)"},
    [FAULT_LOST] = {ST_AWAY, "libslim: router at %s connection lost: %s (using the container "
			     "network until it is back)"},
    [FAULT_STOPPED] = {ST_AWAY, "libslim: router at %s stopped (using the container network "
				"until one is back)"},
};

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void session_fail(enum session_fault f, const char *detail)
{
	/* Static (small app stacks): only the one caller that wins the
	 * warned flag ever writes it. */
	static char line[512];
	int saved = errno, n;

	if (faults[f].state == ST_AWAY)
		atomic_store(&retry_at, now_ns() + AWAY_RETRY_NS);
	atomic_store(&state, faults[f].state);
	if (atomic_flag_test_and_set(&warned))
		return;
	n = snprintf(line, sizeof(line) - 1, faults[f].fmt, slim_config()->path_shown,
		     detail ? detail : "");
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

bool slim_disabled(void)
{
	return atomic_load_explicit(&state, memory_order_relaxed) == ST_DISABLED;
}

/* Hello on fd. CONN_UP (active), CONN_DOWN (errno) or CONN_GAVE_UP
 * (refused or nonsense: disabled). Under the channel lock. */
static enum session_conn hello(int fd)
{
	Slim__Request req = SLIM__REQUEST__INIT;
	Slim__HelloRequest h = SLIM__HELLO_REQUEST__INIT;
	struct msg_why why;
	Slim__Reply *rep;
	enum msg_result r;
	int viewfd;

	h.version = SLIM_PROTO_VERSION;
	req.body_case = SLIM__REQUEST__BODY_HELLO;
	req.hello = &h;
	r = msg_roundtrip(fd, &req, &rep, &viewfd, &why);
	if (r == MSG_TRANSPORT)
		return CONN_DOWN;
	if (r == MSG_PROTOCOL) {
		session_fail(FAULT_BAD_REPLY, why.text);
		return CONN_GAVE_UP;
	}
	if (rep->error) {
		session_fail(FAULT_REFUSED, rep->message ? rep->message : strerror(rep->error));
		slim__reply__free_unpacked(rep, NULL);
		return CONN_GAVE_UP;
	}
	atomic_store(&own_vip, rep->hello->vip);
	slim__reply__free_unpacked(rep, NULL);
	if (slim_view_attach(viewfd) != 0) {
		session_fail(FAULT_VIEW, strerror(errno));
		return CONN_GAVE_UP;
	}
	atomic_store(&state, ST_ACTIVE);
	return CONN_UP;
}

enum session_conn session_connect(void)
{
	const struct slim_config *cfg = slim_config();
	enum session_conn r;
	int fd, saved;

	if (channel_fd() >= 0)
		return CONN_UP;
	if (!cfg->path_set) {
		session_fail(cfg->path_too_long ? FAULT_PATH_TOO_LONG : FAULT_NO_SOCKET, NULL);
		return CONN_GAVE_UP;
	}
	fd = channel_connect(cfg->sock_path);
	if (fd < 0)
		return CONN_DOWN;
	r = hello(fd);
	if (r != CONN_UP) {
		saved = errno;
		channel_drop(fd);
		errno = saved;
	}
	return r;
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

	if (!may_try())
		return atomic_load(&state) == ST_ACTIVE;
	if (channel_held_here())
		return false;
	channel_lock(&cs);
	if (may_try() && session_connect() == CONN_DOWN)
		session_fail(FAULT_UNREACHABLE, strerror(errno));
	channel_unlock(cs);
	errno = saved;
	return atomic_load(&state) == ST_ACTIVE;
}

bool session_is_active(void)
{
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
	int cs, fd;

	if (channel_held_here())
		return;
	channel_lock(&cs);
	fd = channel_fd();
	if (fd >= 0)
		channel_drop(fd);
	if (atomic_load(&state) == ST_ACTIVE) {
		atomic_store(&retry_at, 0);
		atomic_store(&state, ST_AWAY);
	}
	channel_unlock(cs);
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
			session_fail(FAULT_STOPPED, NULL);
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

void session_reopen(void)
{
	int cs, saved = errno;

	if (channel_held_here())
		return;
	channel_lock(&cs);
	if (atomic_load(&state) == ST_ACTIVE)
		(void)session_connect();
	/* No connection (not needed yet, or the router is away): the spare. */
	if (channel_fd() < 0)
		channel_spare_make();
	channel_unlock(cs);
	errno = saved;
}

void session_warm_up(void)
{
	const struct slim_config *cfg = slim_config();
	int cs, saved = errno;

	if (!cfg->path_set || !cfg->fastpath)
		return;
	channel_lock(&cs);
	if (atomic_load(&state) == ST_UNKNOWN)
		channel_spare_make();
	channel_unlock(cs);
	errno = saved;
}
