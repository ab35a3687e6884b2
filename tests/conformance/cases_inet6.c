/* AF_INET6 dual stack, as nginx, curl and many runtimes use it: clients
 * connecting to v4-mapped virtual addresses, "::" listeners reached over
 * IPv4, IPV6_V6ONLY. The testbed has IPv6 disabled on its interfaces, so
 * only v4-mapped traffic exists; that is exactly the dual-stack path. */
#define _GNU_SOURCE
#include "conf.h"

#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* ::ffff:a.b.c.d */
static struct sockaddr_in6 mapped(struct in_addr ip, int port)
{
	struct sockaddr_in6 s6 = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port)};

	s6.sin6_addr.s6_addr[10] = 0xff;
	s6.sin6_addr.s6_addr[11] = 0xff;
	memcpy(&s6.sin6_addr.s6_addr[12], &ip, 4);
	return s6;
}

static void v6_client_mapped(void)
{
	struct sockaddr_in6 s6 = mapped(conf.far, PORT_ECHO);
	int fd = socket(AF_INET6, SOCK_STREAM, 0);

	say_name("getsockname unbound", fd, false);
	RET("connect [::ffff:far]:echo", connect(fd, (struct sockaddr *)&s6, sizeof(s6)));
	say_name("getsockname", fd, false);
	say_name("getpeername", fd, true);
	echo_check("echo", fd, "v6-mapped");
	close(fd);
	s6 = mapped(conf.far, PORT_WHOAMI);
	fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	RET("connect [::ffff:far]:whoami", connect(fd, (struct sockaddr *)&s6, sizeof(s6)));
	whoami("whoami", fd);
	close(fd);
}

static void v6_nb_connect(void)
{
	struct sockaddr_in6 s6 = mapped(conf.far, PORT_ECHO);
	int fd = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0), err = -1;
	socklen_t el = sizeof(err);
	char ev[64];

	RET("connect", connect(fd, (struct sockaddr *)&s6, sizeof(s6)));
	say("poll OUT: %s",
	    fmt_events((uint32_t)wait_ready(fd, POLLOUT, CONF_WAIT_MS), ev, sizeof(ev)));
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el);
	say("SO_ERROR: %s", err ? ename(err) : "0");
	say_flags("flags", fd);
	echo_check("echo", fd, "v6-nb");
	close(fd);
	s6 = mapped(conf.far, PORT_CLOSED);
	fd = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0);
	RET("connect closed port", connect(fd, (struct sockaddr *)&s6, sizeof(s6)));
	(void)wait_ready(fd, POLLOUT, CONF_WAIT_MS);
	el = sizeof(err);
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el);
	say("SO_ERROR: %s", err ? ename(err) : "0");
	close(fd);
}

static void v6_bad_args(void)
{
	struct sockaddr_in sin = far_sin(PORT_ECHO);
	struct sockaddr_in6 s6 = mapped(conf.far, PORT_ECHO);
	int fd = socket(AF_INET6, SOCK_STREAM, 0);

	RET("connect v6 socket with a sockaddr_in",
	    connect(fd, (struct sockaddr *)&sin, sizeof(sin)));
	RET("connect v6 socket addrlen 16", connect(fd, (struct sockaddr *)&s6, 16));
	RET("connect v6 socket ok", connect(fd, (struct sockaddr *)&s6, sizeof(s6)));
	close(fd);
}

/* A "::" (or v4-mapped own address) listener that the far server reaches
 * over IPv4. */
static void v6_listener(int port, bool v6only, bool mapped_own)
{
	struct sockaddr_in6 s6 = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port)};
	int lfd = socket(AF_INET6, SOCK_STREAM, 0), one = 1, v = -1, ctl, fd;
	socklen_t vl = sizeof(v);

	if (mapped_own) {
		struct sockaddr_in me;
		socklen_t ml = sizeof(me);
		int t = dial("probe", conf.far, PORT_ECHO, 0);

		if (t < 0)
			return;
		getsockname(t, (struct sockaddr *)&me, &ml);
		close(t);
		s6 = mapped(me.sin_addr, port);
	}
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	RET(v6only ? "IPV6_V6ONLY 1" : "IPV6_V6ONLY 0",
	    setsockopt(lfd, IPPROTO_IPV6, IPV6_V6ONLY, &(int){v6only}, sizeof(int)));
	getsockopt(lfd, IPPROTO_IPV6, IPV6_V6ONLY, &v, &vl);
	say("IPV6_V6ONLY: %d", v);
	RET("bind", bind(lfd, (struct sockaddr *)&s6, sizeof(s6)));
	RET("listen", listen(lfd, 8));
	say_name("listener getsockname", lfd, false);
	ctl = cb_request(port, 1, "hold");
	if (ctl < 0)
		return;
	if (v6only) {
		cb_results("connect-back over IPv4", ctl, 1);
		say("listener readable within 300ms: %s",
		    wait_ready(lfd, POLLIN, 300) ? "yes" : "no");
		close(lfd);
		return;
	}
	fd = accept_wait("accept", lfd, 0, CONF_WAIT_MS);
	say_name("accepted getsockname", fd, false);
	say_name("accepted getpeername", fd, true);
	if (fd >= 0) {
		char line[16];

		if (read_line(fd, line, sizeof(line), CONF_WAIT_MS) > 0)
			say("data: %.*s", (int)strcspn(line, "\n"), line);
		close(fd);
	}
	cb_results("connect-back over IPv4", ctl, 1);
	close(lfd);
}

static void v6_listener_any(void)
{
	v6_listener(8601, false, false);
}

static void v6_listener_v6only(void)
{
	v6_listener(8602, true, false);
}

static void v6_listener_mapped_own(void)
{
	v6_listener(8603, false, true);
}

const struct conf_case conf_cases_inet6[] = {
    {"inet6.client_mapped",
     "AF_INET6 client to [::ffff:far]: addresses, echo, what the server sees", v6_client_mapped},
    {"inet6.nb_connect", "AF_INET6 non-blocking connect: ok and refused", v6_nb_connect},
    {"inet6.bad_args", "AF_INET6 connect with a sockaddr_in, short addrlen", v6_bad_args},
    {"inet6.listener_any", "[::] listener (V6ONLY 0) reached over IPv4: v4-mapped peer",
     v6_listener_any},
    {"inet6.listener_v6only", "[::] listener with IPV6_V6ONLY 1: IPv4 connections refused",
     v6_listener_v6only},
    {"inet6.listener_mapped_own", "listener bound to [::ffff:own ip]", v6_listener_mapped_own},
    {0},
};
