/* Edge cases: half-close in both directions, peer resets and closes,
 * SO_ERROR, getpeername/getsockname errors and short buffers, data
 * transfer details (large writes, MSG_PEEK, recvfrom's address). */
#define _GNU_SOURCE
#include "conf.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

static void say_so_error(const char *label, int fd)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		say("%s: -1 %s", label, ename(errno));
	else
		say("%s: %s", label, err ? ename(err) : "0");
}

static void say_revents(const char *label, int fd, short want)
{
	char buf[64];

	say("%s: %s", label,
	    fmt_events((uint32_t)wait_ready(fd, want, CONF_WAIT_MS), buf, sizeof(buf)));
}

static void shutdown_wr(void)
{
	int fd = dial("dial sink", conf.far, PORT_SINK, 0);
	char buf[1000], line[64];

	if (fd < 0)
		return;
	memset(buf, 'x', sizeof(buf));
	RET("write 1000", write(fd, buf, sizeof(buf)));
	RET("shutdown SHUT_WR", shutdown(fd, SHUT_WR));
	RET("write after SHUT_WR", write(fd, "y", 1));
	if (read_line(fd, line, sizeof(line), CONF_WAIT_MS) > 0)
		say("sink says: %.*s", (int)strcspn(line, "\n"), line);
	else
		say("sink says nothing: %s", ename(errno));
	(void)wait_ready(fd, POLLIN, CONF_WAIT_MS);
	RET("read EOF", read(fd, line, sizeof(line)));
	say_name("getpeername after both FINs", fd, true);
	RET("shutdown SHUT_WR again", shutdown(fd, SHUT_WR));
	close(fd);
}

static void peer_halfclose(void)
{
	int fd = dial("dial greet", conf.far, PORT_GREET, 0);
	char buf[64];
	int err;
	ssize_t n;

	if (fd < 0)
		return;
	n = read_to_eof(fd, buf, sizeof(buf), CONF_WAIT_MS, &err);
	say("read until EOF: %zd %.*s end %s", n, (int)strcspn(buf, "\n"), buf,
	    err ? ename(err) : "EOF");
	RET("read again", read(fd, buf, sizeof(buf)));
	RET("write after the peer's FIN", write(fd, "still here", 10));
	say_name("getpeername", fd, true);
	RET("shutdown SHUT_RDWR", shutdown(fd, SHUT_RDWR));
	close(fd);
}

static void shutdown_rd(void)
{
	int fd = dial("dial", conf.far, PORT_ECHO, 0);
	char buf[16];

	if (fd < 0)
		return;
	RET("shutdown SHUT_RD", shutdown(fd, SHUT_RD));
	RET("recv after SHUT_RD", recv(fd, buf, sizeof(buf), MSG_DONTWAIT));
	RET("send after SHUT_RD", send(fd, "abc", 3, 0));
	say_revents("poll IN after SHUT_RD", fd, POLLIN);
	close(fd);
}

static void shutdown_errors(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0), p[2], c;

	RET("shutdown unconnected", shutdown(fd, SHUT_WR));
	RET("shutdown bad how", shutdown(fd, 7));
	RET("shutdown bad fd", shutdown(-1, SHUT_WR));
	if (pipe(p) == 0) {
		RET("shutdown pipe", shutdown(p[0], SHUT_RD));
		close(p[0]);
		close(p[1]);
	}
	c = dial("dial", conf.far, PORT_ECHO, 0);
	if (c >= 0) {
		RET("shutdown connected, bad how", shutdown(c, 7));
		echo_check("echo", c, "after-bad-shutdown");
		close(c);
	}
	close(fd);
}

static void reset_so_error(void)
{
	int fd = dial("dial reset", conf.far, PORT_RESET, 0);
	char buf[16];

	if (fd < 0)
		return;
	say_revents("poll IN", fd, POLLIN);
	say_so_error("SO_ERROR", fd);
	say_so_error("SO_ERROR again", fd);
	RET("recv", recv(fd, buf, sizeof(buf), 0));
	RET("send", send(fd, "x", 1, MSG_NOSIGNAL));
	say_name("getpeername", fd, true);
	say_name("getsockname", fd, false);
	close(fd);
}

static void reset_read_first(void)
{
	int fd = dial("dial reset", conf.far, PORT_RESET, 0);
	char buf[16];

	if (fd < 0)
		return;
	(void)wait_ready(fd, POLLIN, CONF_WAIT_MS);
	RET("recv", recv(fd, buf, sizeof(buf), 0));
	RET("recv again", recv(fd, buf, sizeof(buf), 0));
	say_so_error("SO_ERROR", fd);
	close(fd);
}

static void peer_close(void)
{
	int fd = dial("dial close", conf.far, PORT_CLOSE, 0);
	char buf[16];

	if (fd < 0)
		return;
	(void)wait_ready(fd, POLLIN, CONF_WAIT_MS);
	RET("read EOF", read(fd, buf, sizeof(buf)));
	RET("write to the closed peer", write(fd, "x", 1));
	say_revents("poll after the peer's RST", fd, POLLHUP);
	RET("write again", write(fd, "y", 1));
	say_so_error("SO_ERROR", fd);
	RET("read", read(fd, buf, sizeof(buf)));
	close(fd);
}

/* getpeername/getsockname with odd buffers: the kernel copies
 * min(len, real) bytes and reports the real length. */
static void name_edge(bool peer)
{
	int (*fn)(int, struct sockaddr *, socklen_t *) = peer ? getpeername : getsockname;
	const char *what = peer ? "getpeername" : "getsockname";
	int fd = dial("dial", conf.far, PORT_ECHO, 0), s = socket(AF_INET, SOCK_STREAM, 0), p[2];
	unsigned char buf[32];
	struct sockaddr_in full;
	socklen_t len, fl = sizeof(full);
	char label[80];

	if (fd < 0)
		return;
	fn(fd, (struct sockaddr *)&full, &fl);
	memset(buf, 0xAA, sizeof(buf));
	len = 4;
	snprintf(label, sizeof(label), "%s addrlen 4", what);
	RET(label, fn(fd, (struct sockaddr *)buf, &len));
	say("addrlen reported: %u; 4 bytes match: %s; byte 4 untouched: %s", (unsigned)len,
	    memcmp(buf, &full, 4) == 0 ? "yes" : "no", buf[4] == 0xAA ? "yes" : "no");
	memset(buf, 0xAA, sizeof(buf));
	len = 0;
	snprintf(label, sizeof(label), "%s addrlen 0", what);
	RET(label, fn(fd, (struct sockaddr *)buf, &len));
	say("addrlen reported: %u; untouched: %s", (unsigned)len, buf[0] == 0xAA ? "yes" : "no");
	memset(buf, 0xAA, sizeof(buf));
	len = sizeof(buf);
	snprintf(label, sizeof(label), "%s addrlen 32", what);
	RET(label, fn(fd, (struct sockaddr *)buf, &len));
	say("addrlen reported: %u; byte 16 untouched: %s", (unsigned)len,
	    buf[16] == 0xAA ? "yes" : "no");
	len = (socklen_t)-1;
	snprintf(label, sizeof(label), "%s addrlen -1", what);
	RET(label, fn(fd, (struct sockaddr *)buf, &len));
	snprintf(label, sizeof(label), "%s NULL addrlen", what);
	RET(label, fn(fd, (struct sockaddr *)buf, NULL));
	len = 16;
	snprintf(label, sizeof(label), "%s NULL addr", what);
	RET(label, fn(fd, NULL, &len));
	len = 16;
	snprintf(label, sizeof(label), "%s bad fd", what);
	RET(label, fn(-1, (struct sockaddr *)buf, &len));
	if (pipe(p) == 0) {
		len = 16;
		snprintf(label, sizeof(label), "%s on a pipe", what);
		RET(label, fn(p[0], (struct sockaddr *)buf, &len));
		close(p[0]);
		close(p[1]);
	}
	snprintf(label, sizeof(label), "%s unconnected", what);
	say_name(label, s, peer);
	close(s);
	close(fd);
}

static void getpeername_edge(void)
{
	name_edge(true);
}

static void getsockname_edge(void)
{
	struct sockaddr_in any = {.sin_family = AF_INET, .sin_port = htons(9101)};
	int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	name_edge(false);
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	RET("bind 0.0.0.0:9101", bind(s, (struct sockaddr *)&any, sizeof(any)));
	say_name("getsockname bound", s, false);
	say_name("getpeername bound", s, true);
	close(s);
}

/* A connection to ip:port over family: AF_INET, or AF_INET6 to the
 * v4-mapped address (the dual-stack client). Prints "LABEL connect: -1
 * ENAME" and returns -1 on failure. */
static int dial_family(const char *label, int family, struct in_addr ip, int port)
{
	struct sockaddr_in6 s6 = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port)};
	int fd, e;

	if (family == AF_INET)
		return dial(label, ip, port, 0);
	s6.sin6_addr.s6_addr[10] = 0xff;
	s6.sin6_addr.s6_addr[11] = 0xff;
	memcpy(&s6.sin6_addr.s6_addr[12], &ip, 4);
	fd = socket(AF_INET6, SOCK_STREAM, 0);
	if (connect(fd, (struct sockaddr *)&s6, sizeof(s6)) == 0)
		return fd;
	e = errno;
	say("%s connect: -1 %s", label, ename(e));
	close(fd);
	return -1;
}

/* "WHO: WHAT" into buf. */
static const char *lbl(char *buf, size_t cap, const char *who, const char *what)
{
	snprintf(buf, cap, "%s: %s", who, what);
	return buf;
}

/* Names of a client that wrote and then shut down its sending side.
 * While the peer is open, the connection lives on in FIN_WAIT1/FIN_WAIT2
 * and getpeername still reports the peer. Once the peer's FIN has come,
 * the socket itself is closed (TIME_WAIT carries on without it):
 * getpeername fails with ENOTCONN, getsockname still reports the address
 * and port it had. The hold server answers our EOF but never closes
 * first, so the first state lasts as long as the case needs it; the sink
 * closes at EOF, so reading its EOF is the second state. */
static void names_half_closed(const char *who, int family, struct in_addr ip)
{
	struct linger abort_close = {.l_onoff = 1, .l_linger = 0};
	char buf[1000], line[64], l[96];
	uint16_t port;
	bool same;
	int fd;

	memset(buf, 'x', sizeof(buf));
	fd = dial_family(lbl(l, sizeof(l), who, "dial hold"), family, ip, PORT_HOLD);
	if (fd >= 0) {
		RET(lbl(l, sizeof(l), who, "write 1000"), write(fd, buf, sizeof(buf)));
		RET(lbl(l, sizeof(l), who, "shutdown SHUT_WR"), shutdown(fd, SHUT_WR));
		say_name(lbl(l, sizeof(l), who, "getpeername after SHUT_WR"), fd, true);
		say_name(lbl(l, sizeof(l), who, "getsockname after SHUT_WR"), fd, false);
		if (read_line(fd, line, sizeof(line), CONF_WAIT_MS) > 0)
			say("%s: peer says: %.*s", who, (int)strcspn(line, "\n"), line);
		else
			say("%s: peer says nothing: %s", who, ename(errno));
		say_name(lbl(l, sizeof(l), who, "getpeername, peer still open"), fd, true);
		say_name(lbl(l, sizeof(l), who, "getsockname, peer still open"), fd, false);
		/* A reset ends the hold server's side at once. */
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort_close, sizeof(abort_close));
		close(fd);
	}
	fd = dial_family(lbl(l, sizeof(l), who, "dial sink"), family, ip, PORT_SINK);
	if (fd < 0)
		return;
	port = say_name(lbl(l, sizeof(l), who, "getsockname connected"), fd, false);
	RET(lbl(l, sizeof(l), who, "write 1000"), write(fd, buf, sizeof(buf)));
	RET(lbl(l, sizeof(l), who, "shutdown SHUT_WR"), shutdown(fd, SHUT_WR));
	if (read_line(fd, line, sizeof(line), CONF_WAIT_MS) > 0)
		say("%s: sink says: %.*s", who, (int)strcspn(line, "\n"), line);
	else
		say("%s: sink says nothing: %s", who, ename(errno));
	(void)wait_ready(fd, POLLIN, CONF_WAIT_MS);
	RET(lbl(l, sizeof(l), who, "read EOF"), read(fd, line, sizeof(line)));
	say_name(lbl(l, sizeof(l), who, "getpeername after the peer's FIN"), fd, true);
	same =
	    say_name(lbl(l, sizeof(l), who, "getsockname after the peer's FIN"), fd, false) == port;
	say("%s: same port after the peer's FIN: %s", who, same ? "yes" : "no");
	close(fd);
}

static void getpeername_after_shut_wr(void)
{
	names_half_closed("far", AF_INET, conf.far);
	if (conf.near.s_addr)
		names_half_closed("near", AF_INET, conf.near);
	else
		say("no near server");
	names_half_closed("far v6", AF_INET6, conf.far);
}

static void unconnected_io(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	char buf[8];

	RET("send unconnected", send(fd, "x", 1, MSG_NOSIGNAL));
	RET("recv unconnected", recv(fd, buf, sizeof(buf), MSG_DONTWAIT));
	RET("write unconnected", write(fd, "x", 1));
	RET("read unconnected", read(fd, buf, sizeof(buf)));
	close(fd);
}

static void large_transfer(void)
{
	int fd = dial("dial sink", conf.far, PORT_SINK, 0);
	size_t total = 4 << 20, sent = 0;
	char *buf = malloc(65536), line[64];

	if (fd < 0 || !buf) {
		free(buf);
		return;
	}
	memset(buf, 'z', 65536);
	while (sent < total) {
		ssize_t n = write(fd, buf, 65536);

		if (n <= 0)
			break;
		sent += (size_t)n;
	}
	say("wrote: %zu", sent);
	RET("shutdown SHUT_WR", shutdown(fd, SHUT_WR));
	if (read_line(fd, line, sizeof(line), CONF_WAIT_MS) > 0)
		say("sink says: %.*s", (int)strcspn(line, "\n"), line);
	else
		say("sink says nothing: %s", ename(errno));
	free(buf);
	close(fd);
}

static void bulk_echo(void)
{
	int fd = dial("dial", conf.far, PORT_ECHO, SOCK_NONBLOCK), bad = 0;
	size_t total = 1 << 20, sent = 0, got = 0;
	char *out = malloc(total), *in = malloc(total);
	long long end = now_ms() + 10000;

	if (fd < 0 || !out || !in) {
		free(out);
		free(in);
		return;
	}
	for (size_t i = 0; i < total; i++)
		out[i] = (char)(i * 7 + i / 251);
	while (got < total && now_ms() < end) {
		short ev = wait_ready(fd, (short)(POLLIN | (sent < total ? POLLOUT : 0)), 1000);
		ssize_t n;

		if ((ev & POLLOUT) && sent < total) {
			n = send(fd, out + sent, total - sent, MSG_NOSIGNAL);
			if (n > 0)
				sent += (size_t)n;
		}
		if (ev & POLLIN) {
			n = recv(fd, in + got, total - got, 0);
			if (n <= 0)
				break;
			got += (size_t)n;
		}
	}
	for (size_t i = 0; i < got; i++)
		bad += in[i] != out[i];
	say("sent %zu got %zu mismatched %d", sent, got, bad);
	free(out);
	free(in);
	close(fd);
}

static void peek_waitall_iov(void)
{
	int fd = dial("dial", conf.far, PORT_ECHO, 0);
	char buf[32] = "";
	struct iovec iov[2] = {{.iov_base = "hello ", .iov_len = 6},
			       {.iov_base = "world", .iov_len = 5}};
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct msghdr mh = {0};

	if (fd < 0)
		return;
	RET("writev 2 parts", writev(fd, iov, 2));
	(void)wait_ready(fd, POLLIN, CONF_WAIT_MS);
	RET("recv MSG_PEEK 5", recv(fd, buf, 5, MSG_PEEK));
	say("peeked: %.5s", buf);
	RET("recv MSG_WAITALL 11", recv(fd, buf, 11, MSG_WAITALL));
	say("got: %.11s", buf);
	RET("send", send(fd, "abc", 3, 0));
	(void)wait_ready(fd, POLLIN, CONF_WAIT_MS);
	usleep(50000);
	RET("recvfrom with address", recvfrom(fd, buf, 1, 0, (struct sockaddr *)&ss, &sl));
	say("recvfrom addrlen: %u", (unsigned)sl);
	iov[0] = (struct iovec){.iov_base = buf, .iov_len = 2};
	mh.msg_name = &ss;
	mh.msg_namelen = sizeof(ss);
	mh.msg_iov = iov;
	mh.msg_iovlen = 1;
	RET("recvmsg with name", recvmsg(fd, &mh, 0));
	say("recvmsg namelen: %u data: %.2s", (unsigned)mh.msg_namelen, buf);
	close(fd);
}

const struct conf_case conf_cases_errors[] = {
    {"errors.shutdown_wr",
     "shutdown(SHUT_WR) half-close: the peer sees EOF and answers; EPIPE; ENOTCONN", shutdown_wr},
    {"errors.peer_halfclose", "the peer half-closes: EOF, then we still write", peer_halfclose},
    {"errors.shutdown_rd", "shutdown(SHUT_RD): recv returns 0", shutdown_rd},
    {"errors.shutdown_errors", "shutdown on unconnected, bad how, bad fd, pipe", shutdown_errors},
    {"errors.reset_so_error", "peer reset: poll, SO_ERROR ECONNRESET once, then recv/send",
     reset_so_error},
    {"errors.reset_read_first", "peer reset: recv returns ECONNRESET first", reset_read_first},
    {"errors.peer_close", "peer closed at once: EOF, write, RST, EPIPE", peer_close},
    {"errors.getpeername_edge",
     "getpeername: short/zero/long addrlen, -1, NULLs, bad fd, pipe, unconnected",
     getpeername_edge},
    {"errors.getsockname_edge", "getsockname: the same, plus a bound unconnected socket",
     getsockname_edge},
    {"errors.getpeername_after_shut_wr",
     "names after our SHUT_WR with the peer open, then after its FIN (far, near, v4-mapped)",
     getpeername_after_shut_wr},
    {"errors.unconnected_io", "send/recv/read/write on an unconnected socket", unconnected_io},
    {"errors.large_transfer", "4 MiB written then half-close: the peer counts every byte",
     large_transfer},
    {"errors.bulk_echo", "1 MiB echoed through a non-blocking socket", bulk_echo},
    {"errors.peek_waitall_iov", "writev, MSG_PEEK, MSG_WAITALL, recvfrom/recvmsg address lengths",
     peek_waitall_iov},
    {0},
};
