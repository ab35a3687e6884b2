/* Readiness: epoll (registered before and after connect/listen, level and
 * edge triggered, one fd in two sets, MOD/DEL, one-shot), poll, select. */
#define _GNU_SOURCE
#include "conf.h"

#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <unistd.h>

static int connect_far(int fd, int port)
{
	struct sockaddr_in sin = far_sin(port);

	return connect(fd, (struct sockaddr *)&sin, sizeof(sin));
}

static int nb_socket(void)
{
	return socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
}

/* Sends msg and reads it back once IN was seen: the data checks of the
 * epoll cases, kept out of the readiness lines. */
static void read_back(const char *label, int fd, size_t len)
{
	char buf[256];
	ssize_t n = recv(fd, buf, len < sizeof(buf) ? len : sizeof(buf) - 1, MSG_DONTWAIT);

	if (n < 0) {
		say("%s: -1 %s", label, ename(errno));
		return;
	}
	buf[n] = 0;
	say("%s: %zd %.*s", label, n, (int)strcspn(buf, "\n"), buf);
}

static void epoll_before_connect(void)
{
	int ep = epoll_create1(EPOLL_CLOEXEC), fd = nb_socket();

	ep_ctl("EPOLL_CTL_ADD IN|OUT before connect", ep, EPOLL_CTL_ADD, fd, EPOLLIN | EPOLLOUT, 1);
	RET("connect", connect_far(fd, PORT_ECHO));
	ep_wait("epoll_wait OUT", ep, EPOLLOUT, CONF_WAIT_MS);
	RET("send", send(fd, "ping", 4, 0));
	ep_wait("epoll_wait IN", ep, EPOLLIN, CONF_WAIT_MS);
	read_back("recv", fd, 4);
	ep_ctl("EPOLL_CTL_DEL", ep, EPOLL_CTL_DEL, fd, 0, 0);
	close(fd);
	close(ep);
}

static void epoll_after_connect(void)
{
	int ep = epoll_create1(0), fd = nb_socket();

	RET("connect", connect_far(fd, PORT_ECHO));
	ep_ctl("EPOLL_CTL_ADD IN|OUT after connect", ep, EPOLL_CTL_ADD, fd, EPOLLIN | EPOLLOUT, 1);
	ep_wait("epoll_wait OUT", ep, EPOLLOUT, CONF_WAIT_MS);
	RET("send", send(fd, "pong", 4, 0));
	ep_wait("epoll_wait IN", ep, EPOLLIN, CONF_WAIT_MS);
	read_back("recv", fd, 4);
	close(fd);
	close(ep);
}

static void epoll_edge(void)
{
	int ep = epoll_create1(0), fd = dial("dial", conf.far, PORT_ECHO, SOCK_NONBLOCK);

	if (fd < 0)
		return;
	ep_ctl("EPOLL_CTL_ADD IN|ET", ep, EPOLL_CTL_ADD, fd, EPOLLIN | EPOLLET, 1);
	RET("send a", send(fd, "a", 1, 0));
	ep_wait("epoll_wait IN", ep, EPOLLIN, CONF_WAIT_MS);
	ep_wait("epoll_wait again (no new data: no edge)", ep, EPOLLIN, 300);
	RET("send b", send(fd, "b", 1, 0));
	ep_wait("epoll_wait IN after more data", ep, EPOLLIN, CONF_WAIT_MS);
	usleep(100000);
	read_back("recv", fd, 2);
	close(fd);
	close(ep);
}

static void epoll_edge_before_connect(void)
{
	int ep = epoll_create1(0), fd = nb_socket();

	ep_ctl("EPOLL_CTL_ADD IN|OUT|ET before connect", ep, EPOLL_CTL_ADD, fd,
	       EPOLLIN | EPOLLOUT | EPOLLET, 1);
	RET("connect", connect_far(fd, PORT_GREET));
	ep_wait("epoll_wait IN", ep, EPOLLIN, CONF_WAIT_MS);
	usleep(100000);
	read_back("recv", fd, 6);
	close(fd);
	close(ep);
}

static void epoll_two_sets(bool before)
{
	int a = epoll_create1(0), b = epoll_create1(0), fd = nb_socket();

	if (before) {
		ep_ctl("set A ADD IN", a, EPOLL_CTL_ADD, fd, EPOLLIN, 1);
		ep_ctl("set B ADD OUT", b, EPOLL_CTL_ADD, fd, EPOLLOUT, 2);
	}
	RET("connect", connect_far(fd, PORT_ECHO));
	if (!before) {
		(void)wait_ready(fd, POLLOUT, CONF_WAIT_MS);
		ep_ctl("set A ADD IN", a, EPOLL_CTL_ADD, fd, EPOLLIN, 1);
		ep_ctl("set B ADD OUT", b, EPOLL_CTL_ADD, fd, EPOLLOUT, 2);
	}
	ep_wait("set B wait OUT", b, EPOLLOUT, CONF_WAIT_MS);
	RET("send", send(fd, "two", 3, 0));
	ep_wait("set A wait IN", a, EPOLLIN, CONF_WAIT_MS);
	read_back("recv", fd, 3);
	ep_ctl("set A DEL", a, EPOLL_CTL_DEL, fd, 0, 0);
	ep_wait("set B still OUT", b, EPOLLOUT, CONF_WAIT_MS);
	close(fd);
	close(a);
	close(b);
}

static void epoll_two_sets_before(void)
{
	epoll_two_sets(true);
}

static void epoll_two_sets_after(void)
{
	epoll_two_sets(false);
}

static void epoll_mod_del(bool before)
{
	int ep = epoll_create1(0), fd = nb_socket();

	if (before)
		ep_ctl("ADD OUT before connect", ep, EPOLL_CTL_ADD, fd, EPOLLOUT, 1);
	RET("connect", connect_far(fd, PORT_ECHO));
	(void)wait_ready(fd, POLLOUT, CONF_WAIT_MS);
	if (!before)
		ep_ctl("ADD OUT after connect", ep, EPOLL_CTL_ADD, fd, EPOLLOUT, 1);
	ep_ctl("ADD again", ep, EPOLL_CTL_ADD, fd, EPOLLOUT, 1);
	ep_ctl("MOD to IN", ep, EPOLL_CTL_MOD, fd, EPOLLIN, 3);
	ep_wait("wait IN (none yet)", ep, EPOLLIN, 200);
	RET("send", send(fd, "mod", 3, 0));
	ep_wait("wait IN", ep, EPOLLIN, CONF_WAIT_MS);
	read_back("recv", fd, 3);
	ep_ctl("DEL", ep, EPOLL_CTL_DEL, fd, 0, 0);
	ep_ctl("DEL again", ep, EPOLL_CTL_DEL, fd, 0, 0);
	ep_ctl("MOD after DEL", ep, EPOLL_CTL_MOD, fd, EPOLLIN, 4);
	RET("send", send(fd, "gone", 4, 0));
	ep_wait("wait after DEL", ep, EPOLLIN, 300);
	close(fd);
	close(ep);
}

static void epoll_mod_del_before(void)
{
	epoll_mod_del(true);
}

static void epoll_mod_del_after(void)
{
	epoll_mod_del(false);
}

static void epoll_oneshot(void)
{
	int ep = epoll_create1(0), fd = dial("dial", conf.far, PORT_ECHO, SOCK_NONBLOCK);

	if (fd < 0)
		return;
	ep_ctl("ADD IN|ONESHOT", ep, EPOLL_CTL_ADD, fd, EPOLLIN | EPOLLONESHOT, 1);
	RET("send", send(fd, "one", 3, 0));
	ep_wait("wait IN", ep, EPOLLIN, CONF_WAIT_MS);
	ep_wait("wait again (disarmed)", ep, EPOLLIN, 300);
	ep_ctl("MOD rearm IN|ONESHOT", ep, EPOLL_CTL_MOD, fd, EPOLLIN | EPOLLONESHOT, 2);
	ep_wait("wait after rearm", ep, EPOLLIN, CONF_WAIT_MS);
	read_back("recv", fd, 3);
	close(fd);
	close(ep);
}

static void epoll_rdhup(void)
{
	int ep = epoll_create1(0), fd = nb_socket();
	char buf[64];

	RET("connect greet (peer half-closes)", connect_far(fd, PORT_GREET));
	(void)wait_ready(fd, POLLOUT, CONF_WAIT_MS);
	ep_ctl("ADD IN|RDHUP", ep, EPOLL_CTL_ADD, fd, EPOLLIN | EPOLLRDHUP, 1);
	ep_wait("wait RDHUP", ep, EPOLLRDHUP, CONF_WAIT_MS);
	read_back("recv", fd, 6);
	RET("recv EOF", recv(fd, buf, sizeof(buf), MSG_DONTWAIT));
	close(fd);
	close(ep);
}

static void epoll_reset(void)
{
	int ep = epoll_create1(0), fd = nb_socket(), err = 0;
	socklen_t el = sizeof(err);

	ep_ctl("ADD IN|OUT|RDHUP before connect", ep, EPOLL_CTL_ADD, fd,
	       EPOLLIN | EPOLLOUT | EPOLLRDHUP, 1);
	RET("connect reset port", connect_far(fd, PORT_RESET));
	ep_wait("wait HUP", ep, EPOLLHUP, CONF_WAIT_MS);
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el);
	say("SO_ERROR: %s", err ? ename(err) : "0");
	close(fd);
	close(ep);
}

static void epoll_reset_after(void)
{
	int ep = epoll_create1(0), fd = nb_socket(), err = 0;
	socklen_t el = sizeof(err);

	RET("connect reset port", connect_far(fd, PORT_RESET));
	ep_ctl("ADD IN|OUT|RDHUP after connect", ep, EPOLL_CTL_ADD, fd,
	       EPOLLIN | EPOLLOUT | EPOLLRDHUP, 1);
	ep_wait("wait HUP", ep, EPOLLHUP, CONF_WAIT_MS);
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el);
	say("SO_ERROR: %s", err ? ename(err) : "0");
	close(fd);
	close(ep);
}

static void epoll_listener(bool before_listen)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(8101 + before_listen)};
	int ep = epoll_create1(0), lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
	int ctl, fd;

	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	RET("bind", bind(lfd, (struct sockaddr *)&sin, sizeof(sin)));
	if (before_listen)
		ep_ctl("ADD IN before listen", ep, EPOLL_CTL_ADD, lfd, EPOLLIN, 1);
	RET("listen", listen(lfd, 8));
	if (!before_listen)
		ep_ctl("ADD IN after listen", ep, EPOLL_CTL_ADD, lfd, EPOLLIN, 1);
	ep_wait("wait (nothing yet)", ep, EPOLLIN, 200);
	ctl = cb_request(8101 + before_listen, 1, "hold");
	if (ctl < 0)
		return;
	ep_wait("wait IN on listener", ep, EPOLLIN, CONF_WAIT_MS);
	fd = accept_wait("accept4", lfd, SOCK_NONBLOCK, CONF_WAIT_MS);
	cb_results("connect-back", ctl, 1);
	if (fd >= 0) {
		ep_ctl("ADD accepted IN", ep, EPOLL_CTL_ADD, fd, EPOLLIN, 2);
		ep_wait("wait IN on accepted", ep, EPOLLIN, CONF_WAIT_MS);
		read_back("recv", fd, 3);
		close(fd);
	}
	close(lfd);
	close(ep);
}

static void epoll_listener_after(void)
{
	epoll_listener(false);
}

static void epoll_listener_before(void)
{
	epoll_listener(true);
}

static void poll_cases(void)
{
	char ev[64];
	int fd = nb_socket();
	struct pollfd p = {.fd = fd, .events = POLLIN | POLLOUT};

	RET("poll unconnected", poll(&p, 1, 0));
	say("revents: %s", fmt_events((uint32_t)p.revents, ev, sizeof(ev)));
	RET("connect", connect_far(fd, PORT_ECHO));
	say("POLLOUT: %s",
	    fmt_events((uint32_t)wait_ready(fd, POLLOUT, CONF_WAIT_MS), ev, sizeof(ev)));
	p.events = POLLIN;
	p.revents = 0;
	RET("poll IN (nothing yet)", poll(&p, 1, 100));
	RET("send", send(fd, "poll", 4, 0));
	say("POLLIN: %s",
	    fmt_events((uint32_t)wait_ready(fd, POLLIN, CONF_WAIT_MS), ev, sizeof(ev)));
	read_back("recv", fd, 4);
	RET("shutdown WR", shutdown(fd, SHUT_WR));
	say("POLLIN|POLLRDHUP after echo EOF: %s",
	    fmt_events((uint32_t)wait_ready(fd, POLLRDHUP, CONF_WAIT_MS), ev, sizeof(ev)));
	close(fd);
	fd = nb_socket();
	RET("connect closed port", connect_far(fd, PORT_CLOSED));
	say("poll refused: %s",
	    fmt_events((uint32_t)wait_ready(fd, POLLOUT | POLLIN, CONF_WAIT_MS), ev, sizeof(ev)));
	close(fd);
}

/* select on one fd: "r=R rd=0|1 wr=0|1 ex=0|1". Fortified builds check
 * FD_SET's range (__fdelt_chk). */
static void say_select(const char *label, int fd, bool rd, bool wr, int ms)
{
	fd_set r, w, x;
	struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
	int n;

	FD_ZERO(&r);
	FD_ZERO(&w);
	FD_ZERO(&x);
	if (rd)
		FD_SET(fd, &r);
	if (wr)
		FD_SET(fd, &w);
	FD_SET(fd, &x);
	n = select(fd + 1, &r, &w, &x, &tv);
	if (n < 0)
		say("%s: -1 %s", label, ename(errno));
	else
		say("%s: %d rd=%d wr=%d ex=%d", label, n, FD_ISSET(fd, &r) ? 1 : 0,
		    FD_ISSET(fd, &w) ? 1 : 0, FD_ISSET(fd, &x) ? 1 : 0);
}

static void select_cases(void)
{
	int fd = nb_socket();

	RET("connect", connect_far(fd, PORT_ECHO));
	say_select("select write", fd, false, true, CONF_WAIT_MS);
	say_select("select read (nothing yet)", fd, true, false, 100);
	RET("send", send(fd, "sel", 3, 0));
	(void)wait_ready(fd, POLLIN, CONF_WAIT_MS);
	say_select("select read", fd, true, false, CONF_WAIT_MS);
	read_back("recv", fd, 3);
	close(fd);
	fd = nb_socket();
	RET("connect closed port", connect_far(fd, PORT_CLOSED));
	(void)wait_ready(fd, POLLOUT, CONF_WAIT_MS);
	say_select("select refused", fd, true, true, CONF_WAIT_MS);
	close(fd);
}

const struct conf_case conf_cases_poll[] = {
    {"poll.epoll_before_connect", "epoll registration made before a non-blocking connect",
     epoll_before_connect},
    {"poll.epoll_after_connect", "epoll registration made after connect", epoll_after_connect},
    {"poll.epoll_edge", "EPOLLET: one event per arrival, none without new data", epoll_edge},
    {"poll.epoll_edge_before_connect", "EPOLLET registered before connect, data from the peer",
     epoll_edge_before_connect},
    {"poll.epoll_two_sets_before", "one fd in two epoll sets, both registered before connect",
     epoll_two_sets_before},
    {"poll.epoll_two_sets_after", "one fd in two epoll sets, registered after connect",
     epoll_two_sets_after},
    {"poll.epoll_mod_del_before", "EPOLL_CTL_ADD before connect, then ADD/MOD/DEL after it",
     epoll_mod_del_before},
    {"poll.epoll_mod_del_after", "EPOLL_CTL_ADD/MOD/DEL after connect", epoll_mod_del_after},
    {"poll.epoll_oneshot", "EPOLLONESHOT and re-arming with MOD", epoll_oneshot},
    {"poll.epoll_rdhup", "EPOLLRDHUP when the peer half-closes", epoll_rdhup},
    {"poll.epoll_reset_before", "registered before connect; the peer resets: HUP|ERR and SO_ERROR",
     epoll_reset},
    {"poll.epoll_reset_after", "registered after connect; the peer resets", epoll_reset_after},
    {"poll.epoll_listener_after", "listener registered after listen: IN on a connection",
     epoll_listener_after},
    {"poll.epoll_listener_before", "listener registered between bind and listen",
     epoll_listener_before},
    {"poll.poll", "poll: unconnected, POLLOUT on connect, POLLIN, RDHUP, refused", poll_cases},
    {"poll.select", "select: writable on connect, readable, refused", select_cases},
    {0},
};
