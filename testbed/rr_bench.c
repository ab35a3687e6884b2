/* slim-rr-bench: request/response latency and single-stream throughput on
 * one long-lived TCP connection (the counterpart of slim-setup-bench, which
 * measures new connections).
 *
 *   slim-rr-bench server [--bind IP] [--backlog N] PORT
 *   slim-rr-bench client IP PORT --mode rr|stream|hold [--seconds S] [--size B]
 *
 * The first byte a client sends picks what the server does with the
 * connection: 'r' echo every byte back (rr, hold), 's' swallow everything
 * until EOF, then answer with the byte count (8 bytes, big endian), so the
 * client knows the data really arrived before it stops its clock.
 *
 * Client modes and their machine-readable line:
 *   rr      1-byte ping-pong for S seconds (TCP_NODELAY on both ends):
 *           RESULT mode=rr count=N seconds=T p50_ns=X p99_ns=Y mean_ns=M
 *   stream  B-byte writes (default 131072) for S seconds:
 *           RESULT mode=stream bytes=N seconds=T mbit_s=R
 *   hold    one 1-byte round trip, then "held" on stdout and sleep until a
 *           signal: an idle process that made one connection (memory
 *           measurement).
 * The server serves each connection on a thread of its own.
 * Exit codes: 0 done; 1 usage, set-up or transfer error (one line on stderr
 * naming the step). */
#include "netutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define PROG "slim-rr-bench"
#define MAX_SIZE (4u << 20)
/* Upper bound of the rr samples kept (30 s at 3 us per round trip). */
#define MAX_SAMPLES (10u << 20)

static void usage(FILE *f)
{
	fputs("usage: " PROG " server [--bind IP] [--backlog N] PORT\n"
	      "       " PROG " client IP PORT --mode rr|stream|hold [--seconds S] [--size B]\n"
	      "One long-lived TCP connection: request/response latency or throughput.\n"
	      "server (a thread per connection):\n"
	      "  --bind IP       listen on IP only (default 0.0.0.0)\n"
	      "  --backlog N     listen backlog, 1..65535 (default 128)\n"
	      "client:\n"
	      "  --mode rr       1-byte ping-pong, TCP_NODELAY:\n"
	      "                  RESULT mode=rr count=N seconds=T p50_ns=X p99_ns=Y mean_ns=M\n"
	      "  --mode stream   B-byte writes, then the server's byte count:\n"
	      "                  RESULT mode=stream bytes=N seconds=T mbit_s=R\n"
	      "  --mode hold     one round trip, print \"held\", sleep until SIGTERM/SIGINT\n"
	      "  --seconds S     how long rr and stream run, 0..3600 (default 2)\n"
	      "  --size B        stream write size, 1..4194304 (default 131072)\n"
	      "Exit 0 done; 1 usage, set-up or transfer error (one line naming the step).\n",
	      f);
}

/* ---- server ---- */

/* Serves one connection until EOF (see the file comment); closes it. */
static void *conn_thread(void *arg)
{
	int fd = (int)(intptr_t)arg, one = 1;
	char kind, *buf = malloc(MAX_SIZE);
	uint64_t total = 0;
	ssize_t n;

	if (!buf || nu_read_all(fd, &kind, 1) < 0)
		goto out;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	for (;;) {
		n = read(fd, buf, MAX_SIZE);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		total += (uint64_t)n;
		if (kind == 'r' && nu_write_all(fd, buf, (size_t)n) < 0)
			break;
	}
	if (kind == 's' && n == 0) {
		unsigned char be[8];

		for (int i = 0; i < 8; i++)
			be[i] = (unsigned char)(total >> (56 - 8 * i));
		nu_write_all(fd, be, sizeof(be));
	}
out:
	free(buf);
	close(fd);
	return NULL;
}

static int run_server(int argc, char **argv)
{
	struct sockaddr_in sin;
	long backlog = 128;
	int lfd;

	if (nu_server_args(argc, argv, "backlog", 1, 65535, &backlog, 1, &sin, usage) < 0)
		return 1;
	lfd = nu_listen_tcp(&sin, (int)backlog);
	if (lfd < 0)
		return 1;
	printf("listening port %u\n", ntohs(sin.sin_port));
	for (;;) {
		pthread_t tid;
		int cfd = accept(lfd, NULL, NULL);

		if (cfd < 0) {
			if (errno == EINTR || errno == ECONNABORTED || errno == EMFILE ||
			    errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
				continue;
			fprintf(stderr, PROG ": accept: %s\n", strerror(errno));
			return 1;
		}
		if (pthread_create(&tid, NULL, conn_thread, (void *)(intptr_t)cfd) != 0) {
			close(cfd);
			continue;
		}
		pthread_detach(tid);
	}
}

/* ---- client ---- */

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Prints "PROG: STEP: strerror(errno)" and returns 1 (the exit code). */
static int fail(const char *step)
{
	fprintf(stderr, PROG ": %s: %s\n", step, strerror(errno));
	return 1;
}

/* 1-byte ping-pong until the deadline; prints the RESULT line. */
static int client_rr(int fd, double seconds)
{
	uint32_t *lat = malloc(MAX_SAMPLES * sizeof(*lat));
	uint64_t start = nu_now_ns(), deadline = start + (uint64_t)(seconds * 1e9), t0, t1;
	uint64_t sum = 0;
	size_t n = 0;
	char c = 'x';

	if (!lat)
		return fail("malloc");
	while (n < MAX_SAMPLES && (t0 = nu_now_ns()) < deadline) {
		if (nu_write_all(fd, &c, 1) < 0 || nu_read_all(fd, &c, 1) < 0) {
			free(lat);
			return fail("ping-pong");
		}
		t1 = nu_now_ns();
		lat[n++] = (uint32_t)(t1 - t0 > UINT32_MAX ? UINT32_MAX : t1 - t0);
		sum += t1 - t0;
	}
	if (n == 0) {
		free(lat);
		fprintf(stderr, PROG ": no round trip completed\n");
		return 1;
	}
	qsort(lat, n, sizeof(*lat), cmp_u32);
	printf("RESULT mode=rr count=%zu seconds=%.3f p50_ns=%u p99_ns=%u mean_ns=%llu\n", n,
	       (double)(nu_now_ns() - start) / 1e9, lat[n / 2], lat[(n * 99) / 100],
	       (unsigned long long)(sum / n));
	free(lat);
	return 0;
}

/* Writes size-byte chunks until the deadline, then half-closes and waits
 * for the server's byte count; prints the RESULT line. */
static int client_stream(int fd, double seconds, size_t size)
{
	char *buf = calloc(1, size);
	uint64_t start = nu_now_ns(), deadline = start + (uint64_t)(seconds * 1e9), sent = 0;
	uint64_t got = 0;
	unsigned char be[8];
	double secs;

	if (!buf)
		return fail("malloc");
	while (nu_now_ns() < deadline) {
		if (nu_write_all(fd, buf, size) < 0) {
			free(buf);
			return fail("write");
		}
		sent += size;
	}
	free(buf);
	if (shutdown(fd, SHUT_WR) < 0)
		return fail("shutdown");
	if (nu_read_all(fd, be, sizeof(be)) < 0)
		return fail("reading the server's byte count");
	secs = (double)(nu_now_ns() - start) / 1e9;
	for (int i = 0; i < 8; i++)
		got = got << 8 | be[i];
	if (got != sent) {
		fprintf(stderr, PROG ": the server counted %llu bytes, %llu were sent\n",
			(unsigned long long)got, (unsigned long long)sent);
		return 1;
	}
	printf("RESULT mode=stream bytes=%llu seconds=%.3f mbit_s=%.0f\n", (unsigned long long)sent,
	       secs, (double)sent * 8 / secs / 1e6);
	return 0;
}

static void on_signal(int sig)
{
	(void)sig;
	_exit(0);
}

static int run_client(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"mode", required_argument, NULL, 'm'},
	    {"seconds", required_argument, NULL, 's'},
	    {"size", required_argument, NULL, 'z'},
	    {NULL, 0, NULL, 0},
	};
	struct sockaddr_in dst = {.sin_family = AF_INET};
	const char *mode = NULL;
	double seconds = 2;
	long size = 131072;
	char kind, c = 'x';
	int ch, port, fd, one = 1;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'm':
			mode = optarg;
			break;
		case 's':
			if (nu_parse_seconds(PROG, optarg, &seconds) < 0)
				return 1;
			break;
		case 'z':
			if (nu_parse_long("--size", optarg, 1, MAX_SIZE, &size) < 0)
				return 1;
			break;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (!mode || (strcmp(mode, "rr") && strcmp(mode, "stream") && strcmp(mode, "hold")) ||
	    argc - optind != 2 || nu_parse_ipv4(argv[optind], &dst.sin_addr) < 0 ||
	    (port = nu_parse_port(argv[optind + 1], 1)) < 0) {
		usage(stderr);
		return 1;
	}
	dst.sin_port = htons((unsigned short)port);
	kind = mode[0] == 's' ? 's' : 'r';

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail("socket");
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&dst, sizeof(dst)) < 0)
		return fail("connect");
	if (nu_write_all(fd, &kind, 1) < 0)
		return fail("write");
	if (kind == 's')
		return client_stream(fd, seconds, (size_t)size);
	if (mode[0] == 'r')
		return client_rr(fd, seconds);
	/* hold */
	if (nu_write_all(fd, &c, 1) < 0 || nu_read_all(fd, &c, 1) < 0)
		return fail("round trip");
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	printf("held\n");
	for (;;)
		pause();
}

int main(int argc, char **argv)
{
	return nu_main(PROG, argc, argv, usage, run_server, run_client);
}
