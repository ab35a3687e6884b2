/* bench_merge PORT [CALLS]: what the merged-listener hooks cost per call
 * (docs/architecture.md, "Mixed peers"). Not a test: run it once without
 * preload and once under slim-run (with its host's router socket) in a
 * container of the testbed, and compare. It listens on 0.0.0.0:PORT
 * (under slim-run: a merged listener), and times, per call, the median of
 * 5 runs of CALLS (default 200,000) calls each of:
 *
 *   epoll_ctl MOD  a pipe's registration, then the listener's (under slim:
 *                  also its container side's)
 *   poll           a pipe (nothing ready), then the listener (nothing
 *                  pending), timeout 0
 *   select         the same with select
 *   accept4        on the non-blocking listener with nothing pending
 *                  (EAGAIN; under slim: both queues tried)
 *
 * and the first three again in a process that has no listener ("no
 * listener": before listen). One line per measurement: "NAME N ns user U
 * ns": the wall-clock time per call and the user-mode CPU time in it (the
 * hooks' own work: what the kernel does is system time). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RUNS 5

static long calls = 200000;

static long long now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

enum op { OP_EPOLL, OP_POLL, OP_SELECT, OP_ACCEPT };

static int ep;

/* One call of op on fd. */
static void call(enum op op, int fd)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
	struct pollfd p = {.fd = fd, .events = POLLIN};
	struct timeval tv = {0, 0};
	fd_set rs;

	switch (op) {
	case OP_EPOLL:
		if (epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev) < 0)
			abort();
		break;
	case OP_POLL:
		if (poll(&p, 1, 0) < 0)
			abort();
		break;
	case OP_SELECT:
		FD_ZERO(&rs);
		FD_SET(fd, &rs);
		if (select(fd + 1, &rs, NULL, NULL, &tv) < 0)
			abort();
		break;
	case OP_ACCEPT:
		if (accept4(fd, NULL, NULL, SOCK_NONBLOCK) >= 0 || errno != EAGAIN)
			abort();
		break;
	}
}

static long long user_ns(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (long long)ru.ru_utime.tv_sec * 1000000000LL + ru.ru_utime.tv_usec * 1000LL;
}

/* Median over RUNS of the ns per call: wall clock, and user-mode CPU time
 * (the hook's own work; the kernel's is system time). */
static void measure(const char *name, enum op op, int fd)
{
	double per[RUNS], user[RUNS];

	for (long i = 0; i < calls / 10; i++)
		call(op, fd);
	for (int r = 0; r < RUNS; r++) {
		long long t0 = now_ns(), u0 = user_ns();

		for (long i = 0; i < calls; i++)
			call(op, fd);
		per[r] = (double)(now_ns() - t0) / (double)calls;
		user[r] = (double)(user_ns() - u0) / (double)calls;
	}
	qsort(per, RUNS, sizeof(per[0]), cmp);
	qsort(user, RUNS, sizeof(user[0]), cmp);
	printf("%-28s %7.0f ns  user %5.0f ns\n", name, per[RUNS / 2], user[RUNS / 2]);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	struct epoll_event ev = {.events = EPOLLIN};
	int pfd[2], lfd, one = 1;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: bench_merge PORT [CALLS]\n");
		return 2;
	}
	sin.sin_port = htons((uint16_t)atoi(argv[1]));
	if (argc == 3)
		calls = atol(argv[2]);
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0 || pipe2(pfd, O_CLOEXEC) < 0)
		return 1;
	ev.data.fd = pfd[0];
	epoll_ctl(ep, EPOLL_CTL_ADD, pfd[0], &ev);
	measure("epoll_ctl pipe, no listener", OP_EPOLL, pfd[0]);
	measure("poll pipe, no listener", OP_POLL, pfd[0]);
	measure("select pipe, no listener", OP_SELECT, pfd[0]);

	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(lfd, 64) < 0) {
		perror("listener");
		return 1;
	}
	ev.data.fd = lfd;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) < 0)
		return 1;
	measure("epoll_ctl pipe", OP_EPOLL, pfd[0]);
	measure("epoll_ctl listener", OP_EPOLL, lfd);
	measure("poll pipe", OP_POLL, pfd[0]);
	measure("poll listener", OP_POLL, lfd);
	measure("select pipe", OP_SELECT, pfd[0]);
	measure("select listener", OP_SELECT, lfd);
	measure("accept4 listener (EAGAIN)", OP_ACCEPT, lfd);
	return 0;
}
