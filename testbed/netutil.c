/* Helpers shared by the example programs; see netutil.h. */
#include "netutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

const char *nu_prog = "slim-example";

int nu_parse_port(const char *s, int min)
{
	long v;
	char *end;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || end == s || v < min || v > 65535)
		return -1;
	return (int)v;
}

int nu_parse_long(const char *what, const char *s, long min, long max, long *out)
{
	long v;
	char *end;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || end == s || v < min || v > max) {
		fprintf(stderr, "%s: bad %s '%s' (want %ld..%ld)\n", nu_prog, what, s, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

int nu_parse_ipv4(const char *s, struct in_addr *out)
{
	return inet_pton(AF_INET, s, out) == 1 ? 0 : -1;
}

int nu_server_args(int argc, char **argv, const char *name, long min, long max, long *val,
		   int min_port, struct sockaddr_in *sin, void (*usage)(FILE *))
{
	const struct option opts[] = {
	    {"bind", required_argument, NULL, 'b'},
	    {name, required_argument, NULL, 'n'},
	    {NULL, 0, NULL, 0},
	};
	char what[64];
	int c, port;

	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_ANY);
	snprintf(what, sizeof(what), "--%s", name);
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			if (nu_parse_ipv4(optarg, &sin->sin_addr) < 0) {
				fprintf(stderr, "%s: bad --bind address '%s'\n", nu_prog, optarg);
				return -1;
			}
			break;
		case 'n':
			if (nu_parse_long(what, optarg, min, max, val) < 0)
				return -1;
			break;
		default:
			usage(stderr);
			return -1;
		}
	}
	if (argc - optind != 1 || (port = nu_parse_port(argv[optind], min_port)) < 0) {
		usage(stderr);
		return -1;
	}
	sin->sin_port = htons((unsigned short)port);
	return 0;
}

int nu_listen_tcp(const struct sockaddr_in *sin, int backlog)
{
	char ip[INET_ADDRSTRLEN];
	int fd, one = 1;

	inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip));
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, "%s: socket: %s\n", nu_prog, strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)sin, sizeof(*sin)) < 0) {
		fprintf(stderr, "%s: bind %s:%u: %s (is the port in use?)\n", nu_prog, ip,
			ntohs(sin->sin_port), strerror(errno));
		close(fd);
		return -1;
	}
	if (listen(fd, backlog) < 0) {
		fprintf(stderr, "%s: listen %s:%u: %s\n", nu_prog, ip, ntohs(sin->sin_port),
			strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* One loop for both directions: exactly one of wbuf, rbuf is set. */
static int io_all(int fd, const char *wbuf, char *rbuf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n =
		    wbuf ? write(fd, wbuf + done, len - done) : read(fd, rbuf + done, len - done);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				struct pollfd pfd = {.fd = fd, .events = wbuf ? POLLOUT : POLLIN};

				if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
					return -1;
				continue;
			}
			return -1;
		}
		if (n == 0) {
			errno = EPIPE;
			return -1;
		}
		done += (size_t)n;
	}
	return 0;
}

int nu_write_all(int fd, const void *buf, size_t len)
{
	return io_all(fd, buf, NULL, len);
}

int nu_read_all(int fd, void *buf, size_t len)
{
	return io_all(fd, NULL, buf, len);
}

uint64_t nu_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int nu_main(const char *prog, int argc, char **argv, void (*usage)(FILE *),
	    int (*server)(int, char **), int (*client)(int, char **))
{
	nu_prog = prog;
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	if (argc >= 2 && strcmp(argv[1], "server") == 0)
		return server(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "client") == 0)
		return client(argc - 1, argv + 1);
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		usage(stdout);
		return 0;
	}
	usage(stderr);
	return 1;
}

int nu_parse_seconds(const char *prog, const char *s, double *out)
{
	char *end;
	double v = strtod(s, &end);

	if (*end || end == s || !(v > 0 && v <= 3600)) {
		fprintf(stderr, "%s: bad --seconds '%s' (want 0..3600)\n", prog, s);
		return -1;
	}
	*out = v;
	return 0;
}
