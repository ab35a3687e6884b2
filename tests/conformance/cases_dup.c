/* The dup family: every copy of a socket fd behaves as the original
 * (addresses, data, flags), whether made before or after connect/listen,
 * and the connection lives until the last copy is closed. */
#define _GNU_SOURCE
#include "conf.h"

#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int connect_far(int fd, int port)
{
	struct sockaddr_in sin = far_sin(port);

	return connect(fd, (struct sockaddr *)&sin, sizeof(sin));
}

static void say_type(const char *label, int fd)
{
	struct stat sb;

	if (fstat(fd, &sb) < 0)
		say("%s: -1 %s", label, ename(errno));
	else
		say("%s: %s", label, S_ISSOCK(sb.st_mode) ? "socket" : "not a socket");
}

static void dup_after_connect(void)
{
	int fd = dial("dial", conf.far, PORT_ECHO, 0), d;

	if (fd < 0)
		return;
	d = FD("dup", dup(fd));
	say_name("copy getsockname", d, false);
	say_name("copy getpeername", d, true);
	echo_check("echo via copy", d, "copy");
	RET("close original", close(fd));
	echo_check("echo via copy after closing the original", d, "copy-alone");
	say_name("copy getpeername", d, true);
	close(d);
}

static void dup_before_connect(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0), d;

	d = FD("dup before connect", dup(fd));
	RET("connect original", connect_far(fd, PORT_ECHO));
	say_name("copy getpeername", d, true);
	say_name("copy getsockname", d, false);
	echo_check("echo via copy", d, "early-copy");
	RET("close original", close(fd));
	echo_check("echo via copy after closing the original", d, "early-copy-alone");
	close(d);
}

static void dup_before_connect_copy_connects(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0), d;

	d = FD("dup before connect", dup(fd));
	RET("connect the copy", connect_far(d, PORT_ECHO));
	say_name("original getpeername", fd, true);
	echo_check("echo via original", fd, "orig");
	RET("close copy", close(d));
	echo_check("echo via original after closing the copy", fd, "orig-alone");
	close(fd);
}

static void dup2_cases(void)
{
	int fd = dial("dial", conf.far, PORT_ECHO, 0), target, cand;

	if (fd < 0)
		return;
	target = open("/dev/null", O_RDONLY);
	RET("dup2 over an open /dev/null fd", dup2(fd, target) == target ? 0 : -1);
	say_type("target", target);
	say_name("target getpeername", target, true);
	RET("dup2 onto itself", dup2(fd, fd) == fd ? 0 : -1);
	RET("close original", close(fd));
	echo_check("echo via target", target, "dup2");
	/* a connected socket copied over an unconnected candidate socket */
	cand = socket(AF_INET, SOCK_STREAM, 0);
	RET("dup2 connected over unconnected socket", dup2(target, cand) == cand ? 0 : -1);
	say_name("replaced getpeername", cand, true);
	echo_check("echo via replaced", cand, "over-candidate");
	close(cand);
	/* an unconnected socket copied over a connected one */
	cand = socket(AF_INET, SOCK_STREAM, 0);
	RET("dup2 unconnected over connected", dup2(cand, target) == target ? 0 : -1);
	say_name("target getpeername", target, true);
	RET("connect target to whoami", connect_far(target, PORT_WHOAMI));
	say_name("original (cand) getpeername", cand, true);
	whoami("whoami", cand);
	close(cand);
	close(target);
}

static void dup3_cloexec(void)
{
	int fd = dial("dial", conf.far, PORT_ECHO, 0), target, r;

	if (fd < 0)
		return;
	target = open("/dev/null", O_RDONLY);
	r = dup3(fd, target, O_CLOEXEC);
	RET("dup3 O_CLOEXEC", r == target ? 0 : r);
	say_flags("copy flags", target);
	say_flags("original flags", fd);
	say_name("copy getpeername", target, true);
	RET("dup3 onto itself", dup3(fd, fd, 0));
	RET("dup3 bad flags", dup3(fd, target, 0x1));
	RET("dup3 without flags", dup3(fd, target, 0) == target ? 0 : -1);
	say_flags("copy flags", target);
	RET("close original", close(fd));
	echo_check("echo via copy", target, "dup3");
	close(target);
}

static void fcntl_dupfd(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), a, b;

	RET("connect", connect_far(fd, PORT_ECHO));
	(void)wait_ready(fd, POLLOUT, CONF_WAIT_MS);
	a = FD("F_DUPFD 200", fcntl(fd, F_DUPFD, 200));
	say("F_DUPFD result >= 200: %s", a >= 200 ? "yes" : "no");
	b = FD("F_DUPFD_CLOEXEC 300", fcntl(fd, F_DUPFD_CLOEXEC, 300));
	say("F_DUPFD_CLOEXEC result >= 300: %s", b >= 300 ? "yes" : "no");
	say_flags("F_DUPFD copy", a);
	say_flags("F_DUPFD_CLOEXEC copy", b);
	say_name("F_DUPFD copy getpeername", a, true);
	say_name("F_DUPFD_CLOEXEC copy getsockname", b, false);
	RET("close original", close(fd));
	echo_check("echo via F_DUPFD copy", a, "dupfd");
	RET("close F_DUPFD copy", close(a));
	echo_check("echo via F_DUPFD_CLOEXEC copy", b, "dupfd-cloexec");
	close(b);
}

static void dup_listener(bool before_listen)
{
	int port = before_listen ? 8302 : 8301, one = 1, lfd, d, ctl, fd;
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};

	lfd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	RET("bind", bind(lfd, (struct sockaddr *)&sin, sizeof(sin)));
	d = before_listen ? FD("dup before listen", dup(lfd)) : -1;
	RET("listen", listen(lfd, 8));
	if (!before_listen)
		d = FD("dup after listen", dup(lfd));
	say_name("copy getsockname", d, false);
	ctl = cb_request(port, 2, "hold");
	if (ctl < 0)
		return;
	fd = accept_wait("accept via copy", d, 0, CONF_WAIT_MS);
	say_name("accepted getsockname", fd, false);
	close(fd);
	RET("close original", close(lfd));
	fd = accept_wait("accept via copy after closing the original", d, 0, CONF_WAIT_MS);
	close(fd);
	cb_results("connect-back", ctl, 2);
	close(d);
}

static void dup_listener_after(void)
{
	dup_listener(false);
}

static void dup_listener_before(void)
{
	dup_listener(true);
}

static void dup_accepted(void)
{
	int lfd = listen_on("listener", htonl(INADDR_ANY), 8303, 0), ctl, fd, d;

	if (lfd < 0)
		return;
	ctl = cb_request(8303, 1, "hold");
	if (ctl < 0)
		return;
	fd = accept_wait("accept", lfd, 0, CONF_WAIT_MS);
	d = FD("dup accepted", dup(fd));
	say_name("copy getpeername", d, true);
	say_name("copy getsockname", d, false);
	RET("close accepted", close(fd));
	say_name("copy getpeername after close", d, true);
	close(d);
	cb_results("connect-back", ctl, 1);
	close(lfd);
}

static void dup_close_semantics(void)
{
	int fd = dial("dial sink", conf.far, PORT_SINK, 0), d;
	char line[64];

	if (fd < 0)
		return;
	d = FD("dup", dup(fd));
	RET("write via original", write(fd, "abc", 3));
	RET("close original", close(fd));
	RET("write via copy", write(d, "de", 2));
	RET("shutdown WR via copy", shutdown(d, SHUT_WR));
	if (read_line(d, line, sizeof(line), CONF_WAIT_MS) > 0)
		say("sink says: %.*s", (int)strcspn(line, "\n"), line);
	else
		say("sink says nothing: %s", ename(errno));
	close(d);
}

static void dup_shutdown_shared(void)
{
	int fd = dial("dial", conf.far, PORT_ECHO, 0), d;
	char buf[8];

	if (fd < 0)
		return;
	d = dup(fd);
	RET("shutdown RD via copy", shutdown(d, SHUT_RD));
	RET("recv via original", recv(fd, buf, sizeof(buf), MSG_DONTWAIT));
	RET("shutdown WR via original", shutdown(fd, SHUT_WR));
	RET("send via copy", send(d, "x", 1, MSG_NOSIGNAL));
	close(fd);
	close(d);
}

const struct conf_case conf_cases_dup[] = {
    {"dup.after_connect",
     "dup of a connected socket: addresses, data, survives closing the original",
     dup_after_connect},
    {"dup.before_connect", "dup before connect: the copy is connected too", dup_before_connect},
    {"dup.before_connect_copy", "dup before connect, the copy connects: the original is connected",
     dup_before_connect_copy_connects},
    {"dup.dup2", "dup2 over /dev/null, onto itself, connected over unconnected and back",
     dup2_cases},
    {"dup.dup3_cloexec", "dup3 O_CLOEXEC only on the copy; EINVAL cases", dup3_cloexec},
    {"dup.fcntl_dupfd", "F_DUPFD / F_DUPFD_CLOEXEC copies: flags, addresses, data", fcntl_dupfd},
    {"dup.listener_after", "dup of a listener after listen: accept via the copy",
     dup_listener_after},
    {"dup.listener_before", "dup of a bound socket before listen: accept via the copy",
     dup_listener_before},
    {"dup.accepted", "dup of an accepted socket: the virtual peer on the copy", dup_accepted},
    {"dup.close_semantics", "data through both copies; the connection lives until the last close",
     dup_close_semantics},
    {"dup.shutdown_shared", "shutdown via one copy is seen through the other", dup_shutdown_shared},
    {0},
};
