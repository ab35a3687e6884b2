/* See hosts_publish.h. */
#include "hosts_publish.h"
#include "daemon.h"
#include "hosts_map.h"
#include "log.h"
#include "routes_map.h"
#include "slim_bpf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int hosts_publish(struct router *r, const struct cluster *live, bool initial, char *err,
		  size_t errlen)
{
	struct membership next = r->ms;
	struct slim_route *routes;
	uint64_t t0 = now_us();
	size_t n;
	int rc;

	/* membership_set replaces its array only on success: keep a copy
	 * of the old one so a failure below can roll back. */
	next.m = malloc((r->ms.n ? r->ms.n : 1) * sizeof(*next.m));
	if (!next.m) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (r->ms.n)
		memcpy(next.m, r->ms.m, r->ms.n * sizeof(*next.m));
	if (membership_set(&next, live, initial) < 0 ||
	    membership_routes(&next, &routes, &n) != 0) {
		membership_free(&next);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (initial)
		rc = routes_map_sync(r->routes_fd, routes, n, err, errlen);
	else
		rc = routes_map_apply(r->routes_fd, r->routes, r->nroutes, routes, n, err, errlen);
	/* The hosts map names refusals only (trust.bpf.h): after the trie. */
	if (rc == 0)
		rc =
		    hosts_map_sync(slim_bpf_map_fd(r->bpf, SLIM_MAP_HOSTS), routes, n, err, errlen);
	if (rc == 0)
		rc = view_publish(r->view, routes, n, r->epoch, err, errlen);
	if (rc != 0) {
		free(routes);
		membership_free(&next);
		return -1;
	}
	membership_free(&r->ms);
	r->ms = next;
	free(r->routes);
	r->routes = routes;
	r->nroutes = n;
	r->last_apply_us = now_us() - t0;
	return 0;
}

int hosts_publish_cb(void *router, const struct cluster *live)
{
	struct router *r = router;
	char err[512];

	if (r->routes_fd < 0) {
		/* Joined etcd before the maps exist: main publishes it. */
		struct cluster copy = {0};
		for (size_t i = 0; i < live->n; i++)
			if (cluster_add(&copy, &live->hosts[i], err, sizeof(err)) != 0) {
				cluster_free(&copy);
				return -1;
			}
		cluster_free(&r->pending);
		r->pending = copy;
		return 0;
	}
	if (hosts_publish(router, live, false, err, sizeof(err)) == 0)
		return 0;
	rlog("cannot apply the new host list: %s (keeping the current routes)", err);
	return -1;
}
