/* Non-blocking and blocking connect: EINPROGRESS, readiness, SO_ERROR,
 * EALREADY / EISCONN, reconnecting after a failure, same-host peers. */
#define _GNU_SOURCE
#include "conf.h"

#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* getsockopt(SO_ERROR) printed as "LABEL: 0 ENAME|0". */
static void say_so_error(const char *label, int fd)
{
	int err = 0, r;
	socklen_t len = sizeof(err);

	errno = 0;
	r = getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
	if (r < 0)
		say("%s: -1 %s", label, ename(errno));
	else
		say("%s: 0 %s", label, err ? ename(err) : "0");
}

static void say_wait(const char *label, int fd, short want, int ms)
{
	char buf[64];

	say("%s: %s", label, fmt_events((uint32_t)wait_ready(fd, want, ms), buf, sizeof(buf)));
}

static int connect_far(int fd, int port)
{
	struct sockaddr_in sin = far_sin(port);

	return connect(fd, (struct sockaddr *)&sin, sizeof(sin));
}

static void nb_connect_ok(void)
{
	int fd = FD("socket NONBLOCK|CLOEXEC",
		    socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));

	if (fd < 0)
		return;
	say_flags("flags before", fd);
	RET("connect", connect_far(fd, PORT_ECHO));
	say_flags("flags after connect", fd);
	say_wait("poll OUT", fd, POLLOUT, CONF_WAIT_MS);
	say_so_error("SO_ERROR", fd);
	RET("connect again", connect_far(fd, PORT_ECHO));
	RET("connect third", connect_far(fd, PORT_ECHO));
	say_name("getsockname", fd, false);
	say_name("getpeername", fd, true);
	echo_check("echo", fd, "nonblocking");
	close(fd);
}

static void nb_connect_refused(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	RET("connect closed port", connect_far(fd, PORT_CLOSED));
	say_wait("poll OUT", fd, POLLOUT, CONF_WAIT_MS);
	say_so_error("SO_ERROR", fd);
	say_so_error("SO_ERROR again", fd);
	RET("connect again", connect_far(fd, PORT_CLOSED));
	RET("connect third", connect_far(fd, PORT_CLOSED));
	say_wait("poll OUT", fd, POLLOUT, CONF_WAIT_MS);
	say_so_error("SO_ERROR", fd);
	say_name("getpeername", fd, true);
	close(fd);
}

static void nb_connect_refused_noread(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	RET("connect closed port", connect_far(fd, PORT_CLOSED));
	say_wait("poll OUT", fd, POLLOUT, CONF_WAIT_MS);
	RET("connect again (error not read)", connect_far(fd, PORT_CLOSED));
	say_so_error("SO_ERROR", fd);
	close(fd);
}

static void nb_connect_ealready(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	RET("connect full listener", connect_far(fd, PORT_FULL));
	RET("connect again", connect_far(fd, PORT_FULL));
	RET("connect elsewhere", connect_far(fd, PORT_ECHO));
	say_wait("poll OUT 300ms", fd, POLLOUT, 300);
	say_so_error("SO_ERROR", fd);
	say_name("getsockname", fd, false);
	say_name("getpeername", fd, true);
	RET("close", close(fd));
}

static void blocking_refused_then_ok(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	RET("connect closed port", connect_far(fd, PORT_CLOSED));
	say_so_error("SO_ERROR", fd);
	say_name("getpeername", fd, true);
	RET("connect echo on the same socket", connect_far(fd, PORT_ECHO));
	say_name("getpeername", fd, true);
	echo_check("echo", fd, "second-try");
	close(fd);
}

static void connect_other_dst(void)
{
	int fd = dial("dial", conf.far, PORT_ECHO, 0);

	if (fd < 0)
		return;
	RET("connect same dst again", connect_far(fd, PORT_ECHO));
	RET("connect other port", connect_far(fd, PORT_WHOAMI));
	say_name("getpeername", fd, true);
	echo_check("echo", fd, "still-first");
	close(fd);
}

static void connect_unspec(void)
{
	struct sockaddr sa = {.sa_family = AF_UNSPEC};
	int fd = dial("dial", conf.far, PORT_ECHO, 0);

	if (fd < 0)
		return;
	RET("connect AF_UNSPEC", connect(fd, &sa, sizeof(sa)));
	say_name("getpeername", fd, true);
	RET("connect whoami", connect_far(fd, PORT_WHOAMI));
	say_name("getpeername", fd, true);
	whoami("whoami", fd);
	close(fd);
}

static void connect_bad_args(void)
{
	struct sockaddr_in sin = far_sin(PORT_ECHO);
	struct sockaddr_in6 s6 = {.sin6_family = AF_INET6, .sin6_port = htons(PORT_ECHO)};
	int fd = socket(AF_INET, SOCK_STREAM, 0), p[2];

	RET("connect addrlen 4", connect(fd, (struct sockaddr *)&sin, 4));
	RET("connect NULL", connect(fd, NULL, sizeof(sin)));
	RET("connect AF_INET6 addr", connect(fd, (struct sockaddr *)&s6, sizeof(s6)));
	RET("connect bad fd", connect(-1, (struct sockaddr *)&sin, sizeof(sin)));
	if (pipe(p) == 0) {
		RET("connect pipe", connect(p[0], (struct sockaddr *)&sin, sizeof(sin)));
		close(p[0]);
		close(p[1]);
	}
	RET("connect still works", connect(fd, (struct sockaddr *)&sin, sizeof(sin)));
	echo_check("echo", fd, "after-bad-args");
	close(fd);
}

static void connect_bound_vip(void)
{
	struct sockaddr_in me = {.sin_family = AF_INET};
	struct sockaddr_in sin = far_sin(PORT_WHOAMI);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	socklen_t len = sizeof(me);

	/* my own address as the container sees it: from a throwaway connect */
	{
		int t = dial("probe", conf.far, PORT_ECHO, 0);

		if (t < 0)
			return;
		getsockname(t, (struct sockaddr *)&me, &len);
		close(t);
	}
	me.sin_port = 0;
	RET("bind own ip:0", bind(fd, (struct sockaddr *)&me, sizeof(me)));
	say_name("getsockname after bind", fd, false);
	RET("connect", connect(fd, (struct sockaddr *)&sin, sizeof(sin)));
	say_name("getsockname", fd, false);
	whoami("whoami", fd);
	close(fd);
}

static void connect_bound_port(void)
{
	struct sockaddr_in any = {.sin_family = AF_INET, .sin_port = htons(9011)};
	struct sockaddr_in sin = far_sin(PORT_WHOAMI);
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	RET("bind 0.0.0.0:9011", bind(fd, (struct sockaddr *)&any, sizeof(any)));
	RET("connect", connect(fd, (struct sockaddr *)&sin, sizeof(sin)));
	say_name("getsockname", fd, false);
	whoami("whoami", fd);
	close(fd);
}

static void connect_sndtimeo(void)
{
	struct timeval tv = {.tv_sec = 1};
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	long long t0;

	RET("SO_SNDTIMEO 1s", setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)));
	t0 = now_ms();
	RET("blocking connect to full listener", connect_far(fd, PORT_FULL));
	say("elapsed: %s", bucket(now_ms() - t0));
	RET("connect again", connect_far(fd, PORT_FULL));
	close(fd);
}

static void near_echo(void)
{
	int fd;

	if (!conf.near.s_addr) {
		say("no near server");
		return;
	}
	fd = dial("dial near", conf.near, PORT_ECHO, 0);
	if (fd < 0)
		return;
	say_name("getsockname", fd, false);
	say_name("getpeername", fd, true);
	echo_check("echo", fd, "same-host");
	close(fd);
	fd = dial("dial near whoami", conf.near, PORT_WHOAMI, 0);
	if (fd < 0)
		return;
	whoami("whoami", fd);
	close(fd);
}

static void near_nb_refused(void)
{
	struct sockaddr_in sin = conf_sin(conf.near, PORT_CLOSED);
	int fd;

	if (!conf.near.s_addr) {
		say("no near server");
		return;
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	RET("connect near closed port", connect(fd, (struct sockaddr *)&sin, sizeof(sin)));
	say_wait("poll OUT", fd, POLLOUT, CONF_WAIT_MS);
	say_so_error("SO_ERROR", fd);
	close(fd);
	sin = conf_sin(conf.near, PORT_ECHO);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	RET("connect near echo", connect(fd, (struct sockaddr *)&sin, sizeof(sin)));
	say_wait("poll OUT", fd, POLLOUT, CONF_WAIT_MS);
	say_so_error("SO_ERROR", fd);
	echo_check("echo", fd, "same-host-nb");
	close(fd);
}

static void whoami_basic(void)
{
	int fd = dial("dial", conf.far, PORT_WHOAMI, 0);

	if (fd < 0)
		return;
	say_name("getsockname", fd, false);
	say_name("getpeername", fd, true);
	whoami("whoami", fd);
	close(fd);
}

const struct conf_case conf_cases_connect[] = {
    {"connect.whoami", "blocking connect; both ends' view of the addresses", whoami_basic},
    {"connect.nb_ok",
     "SOCK_NONBLOCK|SOCK_CLOEXEC connect: EINPROGRESS, POLLOUT, SO_ERROR 0, 0 then EISCONN",
     nb_connect_ok},
    {"connect.nb_refused",
     "non-blocking connect to a closed port: SO_ERROR ECONNREFUSED, then ECONNABORTED, retry",
     nb_connect_refused},
    {"connect.nb_refused_noread",
     "second connect before SO_ERROR is read returns the pending error", nb_connect_refused_noread},
    {"connect.nb_ealready",
     "connect while the handshake is pending (SYN dropped by a full listener): EALREADY",
     nb_connect_ealready},
    {"connect.refused_then_ok", "blocking ECONNREFUSED, then the same socket connects elsewhere",
     blocking_refused_then_ok},
    {"connect.other_dst", "connect on a connected socket: same dst, then another: EISCONN",
     connect_other_dst},
    {"connect.unspec", "connect(AF_UNSPEC) disconnects; connect again to another port",
     connect_unspec},
    {"connect.bad_args", "short addrlen, NULL, wrong family, bad fd, pipe", connect_bad_args},
    {"connect.bound_vip", "bind(own ip:0) before connect: local address and what the server sees",
     connect_bound_vip},
    {"connect.bound_port", "bind(0.0.0.0:9011) before connect: the server sees port 9011",
     connect_bound_port},
    {"connect.sndtimeo",
     "blocking connect with SO_SNDTIMEO 1s to a full listener: EINPROGRESS after ~1s",
     connect_sndtimeo},
    {"connect.near_echo", "same-host peer (c3): addresses, echo, whoami", near_echo},
    {"connect.near_nb", "same-host non-blocking connect: refused and ok", near_nb_refused},
    {0},
};
