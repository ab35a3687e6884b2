/* slim-echo: a tiny TCP echo server and client that print the addresses the
 * socket API reports, so tests can check what libslim shows an application.
 *
 *   slim-echo server [--bind IP] [--count N] PORT
 *   slim-echo client [--nonblock] [--nodelay] [--hold MS] [--timeout S] IP PORT MESSAGE
 *
 * Output is line oriented (one fact per line, flushed) and stable: tests grep it.
 * Client exit codes: 0 ok, 2 ECONNREFUSED, 1 any other failure. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PROG "slim-echo"

static void usage(void)
{
	fprintf(stderr,
		"usage: " PROG " server [--bind IP] [--count N] PORT\n"
		"       " PROG " client [--nonblock] [--nodelay] [--hold MS] [--timeout S] IP PORT "
		"MESSAGE\n");
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

static int parse_port(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || end == s || v < 0 || v > 65535)
		return -1;
	return (int)v;
}

static int parse_ipv4(const char *s, struct in_addr *out)
{
	return inet_pton(AF_INET, s, out) == 1 ? 0 : -1;
}

/* Writes all of buf, polling when the socket is non-blocking. Returns 0 or -1
 * with errno. */
static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				struct pollfd p = {.fd = fd, .events = POLLOUT};

				if (poll(&p, 1, -1) < 0 && errno != EINTR)
					return -1;
				continue;
			}
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
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
		if (write_all(cfd, buf, (size_t)n) < 0) {
			fprintf(stderr, PROG ": write: %s\n", strerror(errno));
			break;
		}
	}
	printf("closed bytes=%zu\n", total);
}

static int run_server(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"bind", required_argument, NULL, 'b'},
	    {"count", required_argument, NULL, 'c'},
	    {NULL, 0, NULL, 0},
	};
	struct sockaddr_in sin = {.sin_family = AF_INET};
	long count = -1, served = 0;
	int c, port, fd, one = 1;

	sin.sin_addr.s_addr = htonl(INADDR_ANY);
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			if (parse_ipv4(optarg, &sin.sin_addr) < 0) {
				fprintf(stderr, PROG ": bad --bind address '%s'\n", optarg);
				return 1;
			}
			break;
		case 'c':
			count = strtol(optarg, NULL, 10);
			if (count <= 0) {
				fprintf(stderr, PROG ": bad --count '%s'\n", optarg);
				return 1;
			}
			break;
		default:
			usage();
			return 1;
		}
	}
	if (argc - optind != 1 || (port = parse_port(argv[optind])) < 0) {
		usage();
		return 1;
	}
	sin.sin_port = htons((unsigned short)port);

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, PROG ": socket: %s\n", strerror(errno));
		return 1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		fprintf(stderr, PROG ": bind: %s (is the port in use?)\n", strerror(errno));
		close(fd);
		return 1;
	}
	if (listen(fd, 64) < 0) {
		fprintf(stderr, PROG ": listen: %s\n", strerror(errno));
		close(fd);
		return 1;
	}
	if (print_name(fd, "listen", 0) < 0) {
		close(fd);
		return 1;
	}
	fflush(stdout);

	while (count < 0 || served < count) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		char buf[64];
		int cfd;

		memset(&ss, 0, sizeof(ss));
		cfd = accept(fd, (struct sockaddr *)&ss, &len);
		if (cfd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			fprintf(stderr, PROG ": accept: %s\n", strerror(errno));
			close(fd);
			return 1;
		}
		printf("accept %s\n", fmt_addr(&ss, len, buf, sizeof(buf)));
		print_name(cfd, "peer", 1);
		print_name(cfd, "local", 0);
		fflush(stdout);
		serve_one(cfd);
		close(cfd);
		served++;
		fflush(stdout);
	}
	close(fd);
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

/* Reads exactly len bytes (polling if non-blocking). Returns 0, or -1 with
 * errno (ECONNRESET-like errors, or EPIPE on early EOF). */
static int read_exact(int fd, char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = read(fd, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				struct pollfd p = {.fd = fd, .events = POLLIN};

				if (poll(&p, 1, -1) < 0 && errno != EINTR)
					return -1;
				continue;
			}
			return -1;
		}
		if (n == 0) {
			errno = EPIPE;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
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
			hold_ms = strtol(optarg, NULL, 10);
			break;
		case 't':
			timeout_s = strtol(optarg, NULL, 10);
			break;
		default:
			usage();
			return 1;
		}
	}
	if (argc - optind != 3 || parse_ipv4(argv[optind], &sin.sin_addr) < 0 ||
	    (port = parse_port(argv[optind + 1])) < 0 || hold_ms < 0 || timeout_s <= 0) {
		usage();
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
	if (write_all(fd, msg, len) < 0) {
		rc = fail("write", errno);
	} else if (read_exact(fd, back, len) < 0) {
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
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	if (argc < 2) {
		usage();
		return 1;
	}
	if (strcmp(argv[1], "server") == 0)
		return run_server(argc - 1, argv + 1);
	if (strcmp(argv[1], "client") == 0)
		return run_client(argc - 1, argv + 1);
	usage();
	return 1;
}
