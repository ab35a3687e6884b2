/* slim-setup-bench: connection-setup benchmark. Every transaction is a new
 * TCP connection carrying one byte each way, so the rate measures setup and
 * teardown, not bandwidth.
 *
 *   slim-setup-bench server [--bind IP] [--threads N] PORT
 *   slim-setup-bench client IP PORT --seconds S [--conns N] [--count T]
 *   slim-setup-bench client IP PORT --count T [--conns N]
 *
 * --count T stops after T transactions (with --seconds, at whichever comes
 * first), so that CPU counters read around a run divide by a known number.
 * The client prints human lines and one machine-readable line:
 *   RESULT transactions=T errors=E seconds=S rate=R p50_us=X p99_us=Y conns=N
 * (rate counts successful transactions only). Client exit codes: 0 every
 * transaction succeeded; 3 some failed (RESULT still printed, the first
 * failure on stderr: the rate is not comparable); 1 none succeeded, or a
 * usage or set-up error. */
#include "netutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PROG "slim-setup-bench"
#define MAX_THREADS 64

static void usage(FILE *f)
{
	fputs("usage: " PROG " server [--bind IP] [--threads N] PORT\n"
	      "       " PROG " client IP PORT --seconds S [--conns N] [--count T]\n"
	      "       " PROG " client IP PORT --count T [--conns N]\n"
	      "Connection-setup benchmark: each transaction is a new TCP connection\n"
	      "(connect, 1 byte each way, close).\n"
	      "server:\n"
	      "  --bind IP       listen on IP only (default 0.0.0.0)\n"
	      "  --threads N     accepting threads, 1..64 (default 4)\n"
	      "client:\n"
	      "  --seconds S     how long to run, 0..3600 (required)\n"
	      "  --conns N       parallel connections (threads), 1..64 (default 1)\n"
	      "  --count T       stop after T transactions, 1..1000000000 (without\n"
	      "                  --seconds: at most 3600 s)\n"
	      "The client prints the rate, latency percentiles and one line\n"
	      "  RESULT transactions=T errors=E seconds=S rate=R p50_us=X p99_us=Y conns=N\n"
	      "(rate: successful transactions per second). Exit 0: all succeeded;\n"
	      "3: some failed (the first failure on stderr); 1: none, or a usage error.\n",
	      f);
}

/* Reads or writes exactly one byte, retrying EINTR. Returns 1, 0 on EOF, or
 * -1 with errno. */
static int one_byte(int fd, int do_write)
{
	char c = 'x';
	ssize_t n;

	do
		n = do_write ? write(fd, &c, 1) : read(fd, &c, 1);
	while (n < 0 && errno == EINTR);
	return (int)n;
}

/* ---- server ---- */

static void *server_thread(void *arg)
{
	int lfd = *(int *)arg;
	struct timeval tv = {1, 0};

	for (;;) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		int cfd = accept(lfd, (struct sockaddr *)&ss, &len);

		if (cfd < 0) {
			if (errno == EINTR || errno == ECONNABORTED || errno == EMFILE ||
			    errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
				continue;
			fprintf(stderr, PROG ": accept: %s\n", strerror(errno));
			exit(1);
		}
		/* A silent client must not pin a worker forever. */
		setsockopt(cfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		if (one_byte(cfd, 0) == 1)
			one_byte(cfd, 1);
		close(cfd);
	}
	return NULL;
}

static int run_server(int argc, char **argv)
{
	struct sockaddr_in sin;
	pthread_t tids[MAX_THREADS];
	long nthreads = 4;
	static int lfd;

	if (nu_server_args(argc, argv, "threads", 1, MAX_THREADS, &nthreads, 1, &sin, usage) < 0)
		return 1;
	lfd = nu_listen_tcp(&sin, 4096);
	if (lfd < 0)
		return 1;
	printf("listening port %u threads %ld\n", ntohs(sin.sin_port), nthreads);
	fflush(stdout);
	for (long i = 0; i < nthreads; i++) {
		if (pthread_create(&tids[i], NULL, server_thread, &lfd) != 0) {
			fprintf(stderr, PROG ": pthread_create failed\n");
			return 1;
		}
	}
	pthread_join(tids[0], NULL);
	return 0;
}

/* ---- client ---- */

struct worker {
	pthread_t tid;
	struct sockaddr_in dst;
	uint64_t deadline;
	atomic_long *left; /* shared: transactions still to start (--count) */
	uint32_t *lat_us;  /* owned: one sample per transaction */
	size_t n, cap;
	unsigned long errors;
	int first_err;
	const char *first_what;
};

/* One transaction. Returns 0, or -1 with errno and *what naming the step. */
static int transaction(const struct sockaddr_in *dst, const char **what)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), rc = -1, r;

	*what = "socket";
	if (fd < 0)
		return -1;
	*what = "connect";
	if (connect(fd, (const struct sockaddr *)dst, sizeof(*dst)) < 0)
		goto out;
	*what = "write";
	if (one_byte(fd, 1) != 1)
		goto out;
	*what = "read";
	r = one_byte(fd, 0);
	if (r == 0)
		errno = ECONNRESET;
	if (r != 1)
		goto out;
	rc = 0;
out:
	if (rc < 0) {
		int e = errno;

		close(fd);
		errno = e;
	} else {
		close(fd);
	}
	return rc;
}

static void *client_thread(void *arg)
{
	struct worker *w = arg;
	uint64_t t0, t1;

	while ((t0 = nu_now_ns()) < w->deadline) {
		const char *what;

		if (atomic_fetch_sub(w->left, 1) <= 0)
			break;

		if (transaction(&w->dst, &what) < 0) {
			if (w->errors++ == 0) {
				w->first_err = errno;
				w->first_what = what;
			}
			/* Out of ports or refused: back off a little instead of spinning. */
			usleep(1000);
			continue;
		}
		t1 = nu_now_ns();
		if (w->n == w->cap) {
			size_t ncap = w->cap ? w->cap * 2 : 65536;
			uint32_t *p = realloc(w->lat_us, ncap * sizeof(*p));

			if (!p) {
				if (w->errors++ == 0) {
					w->first_err = ENOMEM;
					w->first_what = "realloc";
				}
				break;
			}
			w->lat_us = p;
			w->cap = ncap;
		}
		w->lat_us[w->n++] = (uint32_t)((t1 - t0) / 1000);
	}
	return NULL;
}

/* The per-mille-th value of the n sorted samples (n > 0). */
static uint32_t pct(const uint32_t *sorted, size_t n, size_t per_mille)
{
	size_t i = n * per_mille / 1000;

	return sorted[i < n ? i : n - 1];
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int run_client(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"seconds", required_argument, NULL, 's'},
	    {"conns", required_argument, NULL, 'c'},
	    {"count", required_argument, NULL, 'n'},
	    {NULL, 0, NULL, 0},
	};
	struct sockaddr_in dst = {.sin_family = AF_INET};
	struct worker *ws;
	double seconds = 0, rate;
	long conns = 1, count = 0;
	/* Without --count, more than any run can make. */
	atomic_long left = LONG_MAX;
	size_t total = 0, k = 0;
	unsigned long errors = 0;
	uint32_t *all;
	uint64_t start;
	int c, port, rc = 0;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (nu_parse_seconds(PROG, optarg, &seconds) < 0)
				return 1;
			break;
		case 'c':
			if (nu_parse_long("--conns", optarg, 1, MAX_THREADS, &conns) < 0)
				return 1;
			break;
		case 'n':
			if (nu_parse_long("--count", optarg, 1, 1000000000L, &count) < 0)
				return 1;
			break;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (count > 0) {
		atomic_store(&left, count);
		if (seconds <= 0)
			seconds = 3600;
	}
	if (argc - optind != 2 || nu_parse_ipv4(argv[optind], &dst.sin_addr) < 0 ||
	    (port = nu_parse_port(argv[optind + 1], 1)) < 0 || seconds <= 0) {
		usage(stderr);
		return 1;
	}
	dst.sin_port = htons((unsigned short)port);

	ws = calloc((size_t)conns, sizeof(*ws));
	if (!ws) {
		fprintf(stderr, PROG ": out of memory\n");
		return 1;
	}
	start = nu_now_ns();
	for (long i = 0; i < conns; i++) {
		ws[i].dst = dst;
		ws[i].left = &left;
		ws[i].deadline = start + (uint64_t)(seconds * 1e9);
		if (pthread_create(&ws[i].tid, NULL, client_thread, &ws[i]) != 0) {
			fprintf(stderr, PROG ": pthread_create failed\n");
			return 1;
		}
	}
	for (long i = 0; i < conns; i++) {
		pthread_join(ws[i].tid, NULL);
		total += ws[i].n;
		errors += ws[i].errors;
	}
	seconds = (double)(nu_now_ns() - start) / 1e9;
	all = malloc((total ? total : 1) * sizeof(*all));
	if (!all) {
		fprintf(stderr, PROG ": out of memory\n");
		return 1;
	}
	for (long i = 0; i < conns; i++) {
		if (ws[i].n)
			memcpy(all + k, ws[i].lat_us, ws[i].n * sizeof(*all));
		k += ws[i].n;
		free(ws[i].lat_us);
	}
	if (errors) {
		for (long i = 0; i < conns; i++)
			if (ws[i].errors) {
				fprintf(stderr, PROG ": %lu failed transactions, first: %s: %s\n",
					errors, ws[i].first_what, strerror(ws[i].first_err));
				break;
			}
	}
	qsort(all, total, sizeof(*all), cmp_u32);
	rate = total / seconds;
	{
		uint32_t p50 = total ? pct(all, total, 500) : 0;
		uint32_t p99 = total ? pct(all, total, 990) : 0;

		double sum = 0;

		for (size_t i = 0; i < total; i++)
			sum += all[i];
		printf("rate %.0f/s\n", rate);
		printf("latency p50 %u us p99 %u us\n", p50, p99);
		/* Where a lower rate comes from: every transaction a little
		 * slower, or a few much slower (the tail). */
		if (total)
			printf("latency mean %.1f us p75 %u p90 %u p95 %u p99.9 %u max %u\n",
			       sum / (double)total, pct(all, total, 750), pct(all, total, 900),
			       pct(all, total, 950), pct(all, total, 999), all[total - 1]);
		printf("RESULT transactions=%zu errors=%lu seconds=%.3f rate=%.0f p50_us=%u "
		       "p99_us=%u conns=%ld\n",
		       total, errors, seconds, rate, p50, p99, conns);
	}
	if (total == 0) {
		fprintf(stderr, PROG ": no transaction succeeded (is the server running?)\n");
		rc = 1;
	} else if (errors) {
		rc = 3;
	}
	free(all);
	free(ws);
	return rc;
}

int main(int argc, char **argv)
{
	return nu_main(PROG, argc, argv, usage, run_server, run_client);
}
