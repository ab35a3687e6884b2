/* slim-echo: a tiny TCP echo server and client that print the addresses the
 * socket API reports, so tests can check what libslim shows an application.
 *
 *   slim-echo server [--wait HOW] [--bind IP] [--count N] PORT
 *   slim-echo client [--nonblock] [--nodelay] [--hold MS] [--timeout S] IP PORT MESSAGE
 *
 * HOW the server waits for a connection: accept (a blocking accept, the
 * default), epoll (a non-blocking listener registered with epoll after
 * listen), epoll-before (registered between bind and listen), poll, select
 * (non-blocking listener; accepts until EAGAIN after each wake-up). Each
 * connection is then served to its end, one at a time.
 *
 * Output is line oriented (one fact per line, flushed) and stable: tests grep it.
 * Client exit codes: 0 ok, 2 ECONNREFUSED, 1 any other failure. */
#include "netutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PROG "slim-echo"

static void usage(FILE *f)
{
	fputs("usage: " PROG " server [--wait accept|epoll|epoll-before|poll|select] [--bind IP] "
	      "[--count N] PORT\n"
	      "       " PROG " client [--nonblock] [--nodelay] [--hold MS] [--timeout S] IP PORT "
	      "MESSAGE\n"
	      "TCP echo that prints the addresses the socket API reports, one fact a line.\n"
	      "server (serves one connection at a time, echoing until EOF):\n"
	      "  --wait HOW      how to wait for a connection (must come first): accept\n"
	      "                  (blocking, the default), epoll, epoll-before (registered\n"
	      "                  before listen), poll, select (non-blocking listener)\n"
	      "  --bind IP       listen on IP only (default 0.0.0.0)\n"
	      "  --count N       exit after N connections (default: never)\n"
	      "  prints: listen IP:PORT, then per connection accept, peer, local,\n"
	      "  got DATA..., closed bytes=N\n"
	      "client (sends MESSAGE, reads it back):\n"
	      "  --nonblock      connect a non-blocking socket and poll for completion\n"
	      "  --nodelay       set TCP_NODELAY before connecting, report it after\n"
	      "  --hold MS       keep the connection MS milliseconds after the echo\n"
	      "  --timeout S     give up after S seconds, 1..3600 (default 10)\n"
	      "  prints: local IP:PORT, peer IP:PORT, echo MESSAGE\n"
	      "Client exit: 0 ok, 2 ECONNREFUSED, 1 any other failure.\n",
	      f);
}

/* Formats an address as "IP:PORT" into buf; never fails (odd families are
 * printed as "family=N"). */
static const char *fmt_addr(const struct sockaddr_storage *ss, socklen_t len, char *buf, size_t cap)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
	char ip[INET_ADDRSTRLEN];

	if (len < sizeof(*sin) || ss->ss_family != AF_INET) {
		snprintf(buf, cap, "family=%d,len=%u", ss->ss_family, (unsigned)len);
		return buf;
	}
	inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip));
	snprintf(buf, cap, "%s:%u", ip, ntohs(sin->sin_port));
	return buf;
}

/* Prints "<tag> IP:PORT" for getsockname (local) or getpeername (peer).
 * Returns 0, or -1 after printing the error. */
static int print_name(int fd, const char *tag, int peer)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char buf[64];
	int rc;

	memset(&ss, 0, sizeof(ss));
	rc = peer ? getpeername(fd, (struct sockaddr *)&ss, &len)
		  : getsockname(fd, (struct sockaddr *)&ss, &len);
	if (rc < 0) {
		fprintf(stderr, PROG ": %s: %s\n", peer ? "getpeername" : "getsockname",
			strerror(errno));
		return -1;
	}
	printf("%s %s\n", tag, fmt_addr(&ss, len, buf, sizeof(buf)));
	return 0;
}

/* Serves one connection: echo until EOF. Prints what it received as "got ...". */
static void serve_one(int cfd)
{
	char buf[4096];
	size_t total = 0;

	for (;;) {
		ssize_t n = read(cfd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, PROG ": read: %s\n", strerror(errno));
			break;
		}
		if (n == 0)
			break;
		printf("got %.*s\n", (int)n, buf);
		total += (size_t)n;
		if (nu_write_all(cfd, buf, (size_t)n) < 0) {
			fprintf(stderr, PROG ": write: %s\n", strerror(errno));
			break;
		}
	}
	printf("closed bytes=%zu\n", total);
}

enum wait_how { W_ACCEPT, W_EPOLL, W_EPOLL_BEFORE, W_POLL, W_SELECT };

/* Takes "--wait HOW" out of argv (it must come first). Returns its value,
 * or -1 after printing why. */
static int wait_arg(int *argc, char **argv)
{
	static const char *const names[] = {"accept", "epoll", "epoll-before", "poll", "select"};

	if (*argc < 3 || strcmp(argv[1], "--wait") != 0)
		return W_ACCEPT;
	for (int i = 0; i < (int)(sizeof(names) / sizeof(names[0])); i++) {
		if (strcmp(argv[2], names[i]) == 0) {
			memmove(&argv[1], &argv[3], (size_t)(*argc - 3 + 1) * sizeof(argv[0]));
			*argc -= 2;
			return i;
		}
	}
	fprintf(stderr, PROG ": bad --wait '%s'\n", argv[2]);
	return -1;
}

/* The listener for how: blocking for accept, non-blocking otherwise; for
 * epoll-before, registered with *ep between bind and listen (*ep: the
 * epoll fd of the epoll modes, else -1). */
static int server_socket(const struct sockaddr_in *sin, enum wait_how how, int *ep)
{
	struct epoll_event ev = {.events = EPOLLIN};
	int fd, one = 1;

	*ep = -1;
	if (how == W_ACCEPT)
		return nu_listen_tcp(sin, 64);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)sin, sizeof(*sin)) < 0) {
		fprintf(stderr, PROG ": bind: %s\n", strerror(errno));
		close(fd);
		return -1;
	}
	if (how == W_EPOLL || how == W_EPOLL_BEFORE)
		*ep = epoll_create1(EPOLL_CLOEXEC);
	ev.data.fd = fd;
	if (how == W_EPOLL_BEFORE && epoll_ctl(*ep, EPOLL_CTL_ADD, fd, &ev) < 0)
		goto fail;
	if (listen(fd, 64) < 0)
		goto fail;
	if (how == W_EPOLL && epoll_ctl(*ep, EPOLL_CTL_ADD, fd, &ev) < 0)
		goto fail;
	return fd;
fail:
	fprintf(stderr, PROG ": listen/epoll: %s\n", strerror(errno));
	close(fd);
	if (*ep >= 0)
		close(*ep);
	return -1;
}

/* Waits until the non-blocking listener fd is readable. Returns 0, or -1
 * after printing why. */
static int wait_readable(int fd, enum wait_how how, int ep)
{
	struct epoll_event ev;
	struct pollfd p = {.fd = fd, .events = POLLIN};
	fd_set rs;
	int r;

	do {
		switch (how) {
		case W_EPOLL:
		case W_EPOLL_BEFORE:
			r = epoll_wait(ep, &ev, 1, -1);
			if (r == 1 && ev.data.fd != fd) {
				fprintf(stderr, PROG ": epoll_wait: data %d, not the listener\n",
					ev.data.fd);
				return -1;
			}
			break;
		case W_POLL:
			r = poll(&p, 1, -1);
			break;
		default:
			FD_ZERO(&rs);
			FD_SET(fd, &rs);
			r = select(fd + 1, &rs, NULL, NULL, NULL);
			if (r == 1 && !FD_ISSET(fd, &rs))
				r = -1;
			break;
		}
	} while (r < 0 && errno == EINTR);
	if (r < 1) {
		fprintf(stderr, PROG ": wait: %s\n", r < 0 ? strerror(errno) : "nothing");
		return -1;
	}
	return 0;
}

static void serve_accepted(int cfd, const struct sockaddr_storage *ss, socklen_t len)
{
	char buf[64];

	printf("accept %s\n", fmt_addr(ss, len, buf, sizeof(buf)));
	print_name(cfd, "peer", 1);
	print_name(cfd, "local", 0);
	fflush(stdout);
	serve_one(cfd);
	close(cfd);
	fflush(stdout);
}

static int run_server(int argc, char **argv)
{
	struct sockaddr_in sin;
	long count = -1, served = 0;
	int fd, ep, how = wait_arg(&argc, argv);

	if (how < 0 ||
	    nu_server_args(argc, argv, "count", 1, 1000000000L, &count, 0, &sin, usage) < 0)
		return 1;
	fd = server_socket(&sin, (enum wait_how)how, &ep);
	if (fd < 0)
		return 1;
	if (print_name(fd, "listen", 0) < 0) {
		close(fd);
		return 1;
	}
	fflush(stdout);

	while (count < 0 || served < count) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		int cfd;

		if (how != W_ACCEPT && wait_readable(fd, (enum wait_how)how, ep) < 0) {
			close(fd);
			return 1;
		}
		memset(&ss, 0, sizeof(ss));
		cfd = accept(fd, (struct sockaddr *)&ss, &len);
		if (cfd < 0) {
			if (errno == EINTR || errno == ECONNABORTED ||
			    (how != W_ACCEPT && errno == EAGAIN))
				continue;
			fprintf(stderr, PROG ": accept: %s\n", strerror(errno));
			close(fd);
			return 1;
		}
		/* The accepted socket is blocking (no SOCK_NONBLOCK). */
		serve_accepted(cfd, &ss, len);
		served++;
	}
	close(fd);
	if (ep >= 0)
		close(ep);
	return 0;
}

/* Connects fd to sin without blocking the caller in connect(): expects
 * EINPROGRESS, polls for completion, reads SO_ERROR. Returns 0 or -1 with
 * errno set to the connection's error. */
static int connect_nonblock(int fd, const struct sockaddr_in *sin, int timeout_ms)
{
	struct pollfd p = {.fd = fd, .events = POLLOUT};
	socklen_t len = sizeof(int);
	int err = 0, rc, flags;

	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
		return -1;
	if (connect(fd, (const struct sockaddr *)sin, sizeof(*sin)) == 0) {
		printf("connect immediate\n");
		return 0;
	}
	if (errno != EINPROGRESS)
		return -1;
	printf("connect EINPROGRESS\n");
	do
		rc = poll(&p, 1, timeout_ms);
	while (rc < 0 && errno == EINTR);
	if (rc < 0)
		return -1;
	if (rc == 0) {
		errno = ETIMEDOUT;
		return -1;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		return -1;
	if (err) {
		errno = err;
		return -1;
	}
	flags = fcntl(fd, F_GETFL);
	printf("flags %s\n", flags >= 0 && (flags & O_NONBLOCK) ? "O_NONBLOCK" : "blocking");
	return 0;
}

static int fail(const char *what, int err)
{
	fprintf(stderr, PROG ": %s: %s\n", what, strerror(err));
	return err == ECONNREFUSED ? 2 : 1;
}

static int run_client(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"nonblock", no_argument, NULL, 'n'},
	    {"nodelay", no_argument, NULL, 'd'},
	    {"hold", required_argument, NULL, 'h'},
	    {"timeout", required_argument, NULL, 't'},
	    {NULL, 0, NULL, 0},
	};
	struct sockaddr_in sin = {.sin_family = AF_INET};
	long hold_ms = 0, timeout_s = 10;
	int c, port, fd, nonblock = 0, nodelay = 0, rc;
	const char *msg;
	char *back;
	size_t len;

	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			nonblock = 1;
			break;
		case 'd':
			nodelay = 1;
			break;
		case 'h':
			if (nu_parse_long("--hold", optarg, 0, 3600000L, &hold_ms) < 0)
				return 1;
			break;
		case 't':
			if (nu_parse_long("--timeout", optarg, 1, 3600L, &timeout_s) < 0)
				return 1;
			break;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (argc - optind != 3 || nu_parse_ipv4(argv[optind], &sin.sin_addr) < 0 ||
	    (port = nu_parse_port(argv[optind + 1], 0)) < 0) {
		usage(stderr);
		return 1;
	}
	sin.sin_port = htons((unsigned short)port);
	msg = argv[optind + 2];
	len = strlen(msg);
	/* Bound the whole run: a hang is a test failure, not a stuck ctest. */
	alarm((unsigned)(timeout_s + (hold_ms + 999) / 1000));

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail("socket", errno);
	/* Set before connect: it must survive libslim's socket swap. */
	if (nodelay && setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &nodelay, sizeof(nodelay)) < 0) {
		rc = fail("setsockopt TCP_NODELAY", errno);
		close(fd);
		return rc;
	}
	if (nonblock)
		rc = connect_nonblock(fd, &sin, (int)timeout_s * 1000);
	else
		rc = connect(fd, (struct sockaddr *)&sin, sizeof(sin));
	if (rc < 0) {
		rc = fail("connect", errno);
		close(fd);
		return rc;
	}
	if (print_name(fd, "local", 0) < 0 || print_name(fd, "peer", 1) < 0) {
		close(fd);
		return 1;
	}
	if (nodelay) {
		int v = 0;
		socklen_t vl = sizeof(v);

		if (getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, &vl) < 0) {
			rc = fail("getsockopt TCP_NODELAY", errno);
			close(fd);
			return rc;
		}
		printf("nodelay %d\n", v);
	}
	fflush(stdout);
	back = calloc(1, len + 1);
	if (!back) {
		close(fd);
		return fail("calloc", ENOMEM);
	}
	if (nu_write_all(fd, msg, len) < 0) {
		rc = fail("write", errno);
	} else if (nu_read_all(fd, back, len) < 0) {
		rc = fail("read", errno);
	} else {
		printf("echo %s\n", back);
		fflush(stdout);
		if (hold_ms > 0) {
			struct timespec ts = {hold_ms / 1000, (hold_ms % 1000) * 1000000L};

			while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
				;
		}
		rc = strcmp(back, msg) == 0 ? 0 : 1;
		if (rc)
			fprintf(stderr, PROG ": echo differs from what was sent\n");
	}
	free(back);
	close(fd);
	return rc;
}

int main(int argc, char **argv)
{
	return nu_main(PROG, argc, argv, usage, run_server, run_client);
}
