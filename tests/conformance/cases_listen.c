/* Listeners and accept: accept4 flags, NULL and short address buffers,
 * specific and wildcard binds, backlog changes, SO_REUSEADDR and TIME_WAIT,
 * port conflicts. The far server connects back ("connect-back") to the
 * client's listeners. Every case uses its own port (82xx). */
#define _GNU_SOURCE
#include "conf.h"

#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Reads the "hi\n" a connect-back connection starts with. */
static void read_hi(const char *label, int fd)
{
	char line[32];
	ssize_t n = read_line(fd, line, sizeof(line), CONF_WAIT_MS);

	if (n <= 0)
		say("%s: %s", label, n == 0 ? "EOF" : ename(errno));
	else
		say("%s: %.*s", label, (int)strcspn(line, "\n"), line);
}

static void accept4_flags(void)
{
	int lfd = listen_on("listener", htonl(INADDR_ANY), 8201, 0), ctl, fd;
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	if (lfd < 0)
		return;
	RET("accept4 bad flags", accept4(lfd, (struct sockaddr *)&sin, &len, 0x1));
	ctl = cb_request(8201, 3, "hold");
	if (ctl < 0)
		return;
	fd = accept_wait("accept4 NONBLOCK|CLOEXEC", lfd, SOCK_NONBLOCK | SOCK_CLOEXEC,
			 CONF_WAIT_MS);
	say_flags("flags", fd);
	say_name("getsockname", fd, false);
	say_name("getpeername", fd, true);
	read_hi("data", fd);
	close(fd);
	fd = accept_wait("accept4 0", lfd, 0, CONF_WAIT_MS);
	say_flags("flags", fd);
	read_hi("data", fd);
	close(fd);
	fd = accept_wait("accept4 NONBLOCK", lfd, SOCK_NONBLOCK, CONF_WAIT_MS);
	say_flags("flags", fd);
	read_hi("data", fd);
	close(fd);
	cb_results("connect-back", ctl, 3);
	close(lfd);
}

static void accept_null(void)
{
	int lfd = listen_on("listener", htonl(INADDR_ANY), 8202, 0), ctl, fd;
	struct sockaddr_in sin;

	if (lfd < 0)
		return;
	ctl = cb_request(8202, 2, "hold");
	if (ctl < 0)
		return;
	(void)wait_ready(lfd, POLLIN, CONF_WAIT_MS);
	fd = FD("accept(fd, NULL, NULL)", accept(lfd, NULL, NULL));
	say_name("getpeername", fd, true);
	say_name("getsockname", fd, false);
	read_hi("data", fd);
	close(fd);
	(void)wait_ready(lfd, POLLIN, CONF_WAIT_MS);
	fd = FD("accept4(fd, NULL, NULL, CLOEXEC)", accept4(lfd, NULL, NULL, SOCK_CLOEXEC));
	say_name("getpeername", fd, true);
	say_flags("flags", fd);
	close(fd);
	fcntl(lfd, F_SETFL, O_NONBLOCK);
	RET("accept addr with NULL addrlen (nothing pending)",
	    accept(lfd, (struct sockaddr *)&sin, NULL));
	cb_results("connect-back", ctl, 2);
	close(lfd);
}

static void accept_short_addr(void)
{
	int lfd = listen_on("listener", htonl(INADDR_ANY), 8203, 0), ctl, fd;
	unsigned char buf[32];
	struct sockaddr_in full;
	socklen_t len, fl = sizeof(full);

	if (lfd < 0)
		return;
	ctl = cb_request(8203, 2, "hold");
	if (ctl < 0)
		return;
	(void)wait_ready(lfd, POLLIN, CONF_WAIT_MS);
	memset(buf, 0xAA, sizeof(buf));
	len = 4;
	fd = FD("accept addrlen 4", accept(lfd, (struct sockaddr *)buf, &len));
	say("addrlen reported: %u", (unsigned)len);
	getpeername(fd, (struct sockaddr *)&full, &fl);
	say("copied 4 bytes match getpeername: %s", memcmp(buf, &full, 4) == 0 ? "yes" : "no");
	say("byte 4 untouched: %s", buf[4] == 0xAA ? "yes" : "no");
	close(fd);
	(void)wait_ready(lfd, POLLIN, CONF_WAIT_MS);
	memset(buf, 0xAA, sizeof(buf));
	len = 0;
	fd = FD("accept addrlen 0", accept(lfd, (struct sockaddr *)buf, &len));
	say("addrlen reported: %u", (unsigned)len);
	say("buffer untouched: %s", buf[0] == 0xAA && buf[1] == 0xAA ? "yes" : "no");
	close(fd);
	cb_results("connect-back", ctl, 2);
	close(lfd);
}

static void listen_specific(bool vip)
{
	int port = vip ? 8204 : 8205, lfd, ctl, fd;
	in_addr_t ip = vip ? own_ip() : htonl(INADDR_ANY);

	lfd = listen_on("listener", ip, port, 0);
	if (lfd < 0)
		return;
	say_name("listener getsockname", lfd, false);
	say_name("listener getpeername", lfd, true);
	ctl = cb_request(port, 1, "hold");
	if (ctl < 0)
		return;
	fd = accept_wait("accept", lfd, 0, CONF_WAIT_MS);
	say_name("accepted getsockname", fd, false);
	say_name("accepted getpeername", fd, true);
	read_hi("data", fd);
	close(fd);
	cb_results("connect-back", ctl, 1);
	close(lfd);
}

static void listen_vip(void)
{
	listen_specific(true);
}

static void listen_any(void)
{
	listen_specific(false);
}

static void listen_backlog_change(void)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(8206)};
	int lfd = socket(AF_INET, SOCK_STREAM, 0), ctl, fd, v = -1, one = 1;
	socklen_t vl = sizeof(v);

	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	RET("bind", bind(lfd, (struct sockaddr *)&sin, sizeof(sin)));
	RET("listen 1", listen(lfd, 1));
	RET("listen 64", listen(lfd, 64));
	RET("listen -1", listen(lfd, -1));
	getsockopt(lfd, SOL_SOCKET, SO_ACCEPTCONN, &v, &vl);
	say("SO_ACCEPTCONN: %d", v);
	say_name("getsockname", lfd, false);
	ctl = cb_request(8206, 3, "hold");
	if (ctl < 0)
		return;
	for (int i = 0; i < 3; i++) {
		fd = accept_wait("accept", lfd, 0, CONF_WAIT_MS);
		read_hi("data", fd);
		close(fd);
	}
	cb_results("connect-back", ctl, 3);
	close(lfd);
}

static void listen_backlog_zero(void)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(8207)};
	int lfd = socket(AF_INET, SOCK_STREAM, 0), ctl, one = 1;

	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	RET("bind", bind(lfd, (struct sockaddr *)&sin, sizeof(sin)));
	RET("listen 0", listen(lfd, 0));
	/* one slot in the accept queue: the second connection cannot land
	 * while nobody accepts */
	ctl = cb_request(8207, 2, "close");
	if (ctl < 0)
		return;
	cb_results("connect-back", ctl, 2);
	close(lfd);
}

/* An accepted connection closed by us first (TIME_WAIT on our side), then
 * the listener closed and the port bound again, with or without
 * SO_REUSEADDR. */
static void listen_timewait(bool reuse)
{
	int port = reuse ? 8209 : 8208, lfd, ctl, fd, s, one = 1;
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	char buf[16];

	lfd = listen_on("listener", htonl(INADDR_ANY), port, 0);
	if (lfd < 0)
		return;
	ctl = cb_request(port, 1, "hold");
	if (ctl < 0)
		return;
	fd = accept_wait("accept", lfd, 0, CONF_WAIT_MS);
	cb_results("connect-back", ctl, 1);
	read_hi("data", fd);
	RET("shutdown WR (we close first)", shutdown(fd, SHUT_WR));
	(void)wait_ready(fd, POLLIN, CONF_WAIT_MS);
	RET("read EOF", read(fd, buf, sizeof(buf)));
	close(fd);
	RET("close listener", close(lfd));
	s = socket(AF_INET, SOCK_STREAM, 0);
	if (reuse)
		RET("SO_REUSEADDR", setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)));
	RET("bind same port with a TIME_WAIT connection on it",
	    bind(s, (struct sockaddr *)&sin, sizeof(sin)));
	RET("listen", listen(s, 4));
	close(s);
}

static void listen_timewait_reuse(void)
{
	listen_timewait(true);
}

static void listen_timewait_noreuse(void)
{
	listen_timewait(false);
}

/* The same over loopback, which stays on the container's own stack in both
 * modes: a restarted server must be able to listen with SO_REUSEADDR on a
 * port that still has TIME_WAIT connections in its network namespace. */
static void listen_timewait_local(void)
{
	struct sockaddr_in lo = {.sin_family = AF_INET, .sin_port = htons(8211)};
	struct sockaddr_in any = {.sin_family = AF_INET, .sin_port = htons(8211)};
	int lfd = socket(AF_INET, SOCK_STREAM, 0), c, a, s, one = 1;
	char buf[8];

	lo.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* loopback-bound: a plain listener in both modes */
	RET("bind 127.0.0.1:8211", bind(lfd, (struct sockaddr *)&lo, sizeof(lo)));
	RET("listen", listen(lfd, 4));
	c = socket(AF_INET, SOCK_STREAM, 0);
	RET("connect 127.0.0.1:8211", connect(c, (struct sockaddr *)&lo, sizeof(lo)));
	a = accept_wait("accept", lfd, 0, CONF_WAIT_MS);
	RET("shutdown accepted WR (the server closes first)", shutdown(a, SHUT_WR));
	(void)wait_ready(c, POLLIN, CONF_WAIT_MS);
	RET("client read EOF", read(c, buf, sizeof(buf)));
	RET("client close", close(c));
	(void)wait_ready(a, POLLIN, CONF_WAIT_MS);
	RET("server read EOF", read(a, buf, sizeof(buf)));
	close(a);
	RET("close listener", close(lfd));
	s = socket(AF_INET, SOCK_STREAM, 0);
	RET("SO_REUSEADDR", setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)));
	RET("bind 0.0.0.0:8211 again (TIME_WAIT on it)",
	    bind(s, (struct sockaddr *)&any, sizeof(any)));
	RET("listen", listen(s, 4));
	close(s);
}

static void listen_in_use(void)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(8210)};
	int lfd = listen_on("listener", htonl(INADDR_ANY), 8210, 0), s, one = 1;

	if (lfd < 0)
		return;
	s = socket(AF_INET, SOCK_STREAM, 0);
	RET("bind same port (no SO_REUSEADDR)", bind(s, (struct sockaddr *)&sin, sizeof(sin)));
	close(s);
	s = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	RET("bind same port (SO_REUSEADDR)", bind(s, (struct sockaddr *)&sin, sizeof(sin)));
	RET("listen", listen(s, 4));
	close(s);
	close(lfd);
	s = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	RET("bind after the first listener closed", bind(s, (struct sockaddr *)&sin, sizeof(sin)));
	RET("listen", listen(s, 4));
	close(s);
}

static void listen_unbound(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);

	say_name("getsockname before", s, false);
	RET("listen without bind", listen(s, 4));
	say_name("getsockname", s, false);
	close(s);
}

static void accept_errors(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0), p[2];
	int lfd = listen_on("listener", htonl(INADDR_ANY), 8212, SOCK_NONBLOCK), c;

	RET("accept on unbound socket", accept(s, NULL, NULL));
	RET("accept on nonblocking listener, nothing pending", accept(lfd, NULL, NULL));
	RET("accept bad fd", accept(-1, NULL, NULL));
	if (pipe(p) == 0) {
		RET("accept on a pipe", accept(p[0], NULL, NULL));
		close(p[0]);
		close(p[1]);
	}
	c = dial("dial", conf.far, PORT_ECHO, 0);
	if (c >= 0) {
		RET("accept on a connected socket", accept(c, NULL, NULL));
		RET("listen on a connected socket", listen(c, 4));
		echo_check("echo still works", c, "after-listen");
		close(c);
	}
	close(s);
	close(lfd);
}

static void listen_close_reopen(void)
{
	for (int round = 1; round <= 2; round++) {
		int lfd = listen_on("listener", htonl(INADDR_ANY), 8213, 0), ctl, fd;
		char label[32];

		if (lfd < 0)
			return;
		snprintf(label, sizeof(label), "round %d accept", round);
		ctl = cb_request(8213, 1, "hold");
		if (ctl < 0)
			return;
		fd = accept_wait(label, lfd, 0, CONF_WAIT_MS);
		read_hi("data", fd);
		close(fd);
		cb_results("connect-back", ctl, 1);
		RET("close listener", close(lfd));
	}
	{
		int ctl = cb_request(8213, 1, "hold");

		if (ctl >= 0)
			cb_results("connect-back after close", ctl, 1);
	}
}

static void accept_after_peer_close(void)
{
	int lfd = listen_on("listener", htonl(INADDR_ANY), 8214, 0), ctl, fd;
	char buf[64];
	int err;

	if (lfd < 0)
		return;
	ctl = cb_request(8214, 1, "close");
	if (ctl < 0)
		return;
	cb_results("connect-back", ctl, 1);
	(void)wait_ready(lfd, POLLIN, CONF_WAIT_MS);
	usleep(200000); /* the peer's data and FIN arrive before we accept */
	fd = FD("accept", accept(lfd, NULL, NULL));
	RET("read data and EOF", read_to_eof(fd, buf, sizeof(buf), CONF_WAIT_MS, &err));
	say("data: %.*s end: %s", (int)strcspn(buf, "\n"), buf, err ? ename(err) : "EOF");
	say_name("getpeername after peer close", fd, true);
	close(fd);
	close(lfd);
}

static void listen_two_ports(void)
{
	int a = listen_on("listener A", htonl(INADDR_ANY), 8215, 0);
	int b = listen_on("listener B", htonl(INADDR_ANY), 8216, 0), ca, cbk, fd;

	if (a < 0 || b < 0)
		return;
	ca = cb_request(8215, 1, "hold");
	cbk = cb_request(8216, 1, "hold");
	fd = accept_wait("accept B", b, 0, CONF_WAIT_MS);
	say_name("B accepted getsockname", fd, false);
	close(fd);
	fd = accept_wait("accept A", a, 0, CONF_WAIT_MS);
	say_name("A accepted getsockname", fd, false);
	close(fd);
	if (ca >= 0)
		cb_results("connect-back A", ca, 1);
	if (cbk >= 0)
		cb_results("connect-back B", cbk, 1);
	close(a);
	close(b);
}

/* Two listeners of one SO_REUSEPORT group (as envoy's or nginx's
 * "reuseport" workers have): both bind and listen, and connections are
 * spread over both. Only totals are printed (the spread itself depends on
 * the flow hashes). */
static void listen_reuseport_group(void)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(8217)};
	int l[2], got[2] = {0, 0}, one = 1, ctl, i, fd;

	for (i = 0; i < 2; i++) {
		l[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		RET("SO_REUSEPORT", setsockopt(l[i], SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)));
		RET("bind", bind(l[i], (struct sockaddr *)&sin, sizeof(sin)));
		RET("listen", listen(l[i], 64));
	}
	ctl = cb_request(8217, 32, "close");
	if (ctl >= 0)
		cb_summary("connect-back", ctl, 32);
	/* Every connection the server reported is complete: in a queue. */
	for (i = 0; i < 2; i++)
		while ((fd = accept(l[i], NULL, NULL)) >= 0) {
			got[i]++;
			close(fd);
		}
	say("accepted in total: %d", got[0] + got[1]);
	say("both listeners accepted some: %s", got[0] && got[1] ? "yes" : "no");
	close(l[0]);
	close(l[1]);
}

const struct conf_case conf_cases_listen[] = {
    {"listen.accept4_flags",
     "accept4: invalid flags, NONBLOCK|CLOEXEC, 0, NONBLOCK; addresses of the accepted socket",
     accept4_flags},
    {"listen.accept_null", "accept(fd, NULL, NULL) and accept4 with NULL; addr with NULL addrlen",
     accept_null},
    {"listen.accept_short_addr", "accept with addrlen 4 (truncated copy, full length) and 0",
     accept_short_addr},
    {"listen.vip", "listener bound to the container's own IP", listen_vip},
    {"listen.any", "listener bound to 0.0.0.0: getsockname of listener and accepted socket",
     listen_any},
    {"listen.backlog_change", "listen called again with other backlogs; SO_ACCEPTCONN",
     listen_backlog_change},
    {"listen.backlog_zero", "listen(0) with nobody accepting: the second connection cannot land",
     listen_backlog_zero},
    {"listen.timewait_reuse",
     "rebind with SO_REUSEADDR while our accepted connection is in TIME_WAIT",
     listen_timewait_reuse},
    {"listen.timewait_noreuse", "rebind without SO_REUSEADDR while in TIME_WAIT: EADDRINUSE",
     listen_timewait_noreuse},
    {"listen.timewait_local",
     "restart a listener with SO_REUSEADDR while a loopback connection on its port is in TIME_WAIT",
     listen_timewait_local},
    {"listen.in_use", "bind to a port another socket listens on, with and without SO_REUSEADDR",
     listen_in_use},
    {"listen.reuseport_group", "two SO_REUSEPORT listeners on one port share 32 connections",
     listen_reuseport_group},
    {"listen.unbound", "listen without bind autobinds an ephemeral port", listen_unbound},
    {"listen.accept_errors",
     "accept on unbound, empty nonblocking, bad fd, pipe, connected; listen on connected",
     accept_errors},
    {"listen.close_reopen", "listen, close, listen again on the same port; then nobody listens",
     listen_close_reopen},
    {"listen.accept_after_peer_close",
     "accept a connection whose peer already sent data and closed", accept_after_peer_close},
    {"listen.two_ports", "two listeners, connections accepted out of order", listen_two_ports},
    {0},
};
