/* Which hosts the router routes to, whatever tells it (the cluster file or
 * etcd): the live hosts, and the subnets of hosts that left. A host that
 * leaves keeps a "gone" route, so a connect to its subnet fails at once
 * with EHOSTUNREACH instead of being tried elsewhere, until another host
 * takes an overlapping subnet or room is needed (the oldest go first).
 * Pure data: the router publishes what membership_routes returns. */
#ifndef SLIM_ROUTER_MEMBERSHIP_H
#define SLIM_ROUTER_MEMBERSHIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cluster.h"
#include "routes.h"

/* Routes published at most: live hosts and gone subnets together. Equals
 * the routes trie and the view (SLIM_MAX_ROUTES, SLIM_VIEW_MAX_ROUTES;
 * the router asserts it). */
#define MEMBERSHIP_MAX_ROUTES 8192

struct member {
	struct cluster_host h;
	bool gone;
	uint64_t since; /* when it left (membership_set calls), for eviction */
};

/* Zero-initialised is empty. */
struct membership {
	struct member *m;
	size_t n, cap;
	uint64_t clock; /* membership_set calls so far */
};

/* Makes live exactly the hosts of the live set (at most CLUSTER_MAX_HOSTS,
 * conflict-free as cluster_add makes them): hosts not in it any more
 * become gone, new ones join, a host whose record changed is updated (its
 * old subnet becomes gone if the subnet changed). Gone subnets that a live
 * host overlaps are dropped. Logs one line per change unless quiet.
 * Returns the number of changes, or -1 (ENOMEM; ms unchanged). */
int membership_set(struct membership *ms, const struct cluster *live, bool quiet);

/* The routes to publish, sorted by (subnet, prefix length): a new array
 * the caller frees (NULL when n is 0), n in *n. Returns 0 or -1 (ENOMEM). */
int membership_routes(const struct membership *ms, struct slim_route **out, size_t *n);

/* Live hosts. */
size_t membership_live(const struct membership *ms);

/* The member called name (live or gone), or NULL. */
const struct member *membership_find(const struct membership *ms, const char *name);

/* The member whose route is r (same subnet and prefix), or NULL. */
const struct member *membership_by_route(const struct membership *ms, const struct slim_route *r);

void membership_free(struct membership *ms);

/* Orders routes by (subnet, prefix_len): a total order for merging. */
int membership_route_cmp(const void *a, const void *b);

#endif
