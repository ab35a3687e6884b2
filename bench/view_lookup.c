/* slim-view-bench: the cost of libslim's route lookup (slim_view_read on
 * an address) against a view of N hosts, written by the router's own view
 * writer and read through libslim's own reader.
 *
 *   slim-view-bench [--linear] N LOOKUPS
 *
 * Looks up LOOKUPS addresses, cycling over the N hosts' subnets (all /24)
 * and, every other lookup, an address outside the overlay (a miss). Prints
 * "N LOOKUPS NS_PER_LOOKUP". With --linear it scans the N routes as a plain
 * array instead (slim_route_lookup: what a linear reader costs), for
 * comparison. Count instructions with perf stat -e instructions:u over two
 * LOOKUPS values and take the difference: the fixed set-up cancels out. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "routes.h"
#include "view_format.h"
#include "view_reader.h"
#include "view_writer.h"

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
	char dir[] = "/tmp/slim-view-bench.XXXXXX", path[64], err[256];
	int linear = argc > 1 && strcmp(argv[1], "--linear") == 0;
	struct slim_route *routes;
	struct view w = {0};
	volatile unsigned hits = 0;
	long n, lookups;
	double t0, t1;
	int fd;

	if (argc != 3 + linear) {
		fprintf(stderr, "usage: slim-view-bench [--linear] N LOOKUPS\n");
		return 2;
	}
	n = atol(argv[1 + linear]);
	lookups = atol(argv[2 + linear]);
	if (n < 1 || n > SLIM_VIEW_MAX_ROUTES || lookups < 0) {
		fprintf(stderr, "slim-view-bench: N must be 1..%d, LOOKUPS >= 0\n",
			SLIM_VIEW_MAX_ROUTES);
		return 2;
	}
	routes = calloc((size_t)n, sizeof(*routes));
	if (!routes || !mkdtemp(dir))
		return 1;
	for (long i = 0; i < n; i++)
		routes[i] = (struct slim_route){.subnet = (10u << 24) | ((uint32_t)i << 8),
						.prefix_len = 24,
						.underlay_ip = 0xc0a80001u + (uint32_t)i,
						.port = 7771};
	snprintf(path, sizeof(path), "%s/bench.view", dir);
	if (view_open(&w, path, err, sizeof(err)) != 0 ||
	    view_publish(&w, routes, (size_t)n, 1, err, sizeof(err)) != 0) {
		fprintf(stderr, "slim-view-bench: %s\n", err);
		return 1;
	}
	fd = open(path, O_RDONLY);
	if (fd < 0 || slim_view_attach(fd) != 0) {
		perror("slim-view-bench: attach");
		return 1;
	}
	t0 = now_ns();
	for (long k = 0; k < lookups; k++) {
		/* hits cycle over the subnets; misses are 11.x.x.x */
		uint32_t ip = (k & 1) ? (11u << 24) | (uint32_t)k
				      : (10u << 24) | ((uint32_t)((k / 2) % n) << 8) | 7;
		if (linear) {
			hits += slim_route_lookup(routes, (size_t)n, ip) != NULL;
		} else {
			struct view_snap s;
			slim_view_read(&ip, &s);
			hits += s.overlay;
		}
	}
	t1 = now_ns();
	if (hits != (unsigned)((lookups + 1) / 2)) {
		fprintf(stderr, "slim-view-bench: %u hits, want %ld\n", hits, (lookups + 1) / 2);
		return 1;
	}
	printf("%ld %ld %.2f\n", n, lookups, lookups ? (t1 - t0) / (double)lookups : 0.0);
	view_close(&w, true);
	rmdir(dir);
	free(routes);
	return 0;
}
