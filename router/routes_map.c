/* Writer of the routes trie. One writer (the router's thread); readers are
 * the BPF programs, which see every single update atomically. */
#include "routes_map.h"
#include "map_prune.h"
#include "membership.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slim_maps.h"

_Static_assert(MEMBERSHIP_MAX_ROUTES == SLIM_MAX_ROUTES,
	       "membership publishes at most as many routes as the trie holds");

static struct slim_route_key key_of(const struct slim_route *r)
{
	return (struct slim_route_key){.prefixlen = r->prefix_len, .subnet = htonl(r->subnet)};
}

static struct slim_route_val val_of(const struct slim_route *r)
{
	if (r->gone)
		return (struct slim_route_val){0};
	return (struct slim_route_val){.underlay_ip = htonl(r->underlay_ip),
				       .port = htons(r->port)};
}

static int put(int fd, const struct slim_route *r, char *err, size_t errlen)
{
	struct slim_route_key k = key_of(r);
	struct slim_route_val v = val_of(r);

	if (bpf_map_update_elem(fd, &k, &v, BPF_ANY) == 0)
		return 0;
	snprintf(err, errlen, "cannot write route %s to the routes map: %s",
		 inet_ntoa((struct in_addr){htonl(r->subnet)}), strerror(errno));
	return -1;
}

static bool is_route(const struct slim_route_key *k, const struct slim_route *routes, size_t n)
{
	struct slim_route want = {.subnet = ntohl(k->subnet), .prefix_len = (uint8_t)k->prefixlen};

	return n && k->prefixlen <= 32 &&
	       bsearch(&want, routes, n, sizeof(*routes), membership_route_cmp) != NULL;
}

struct sorted_routes {
	const struct slim_route *r;
	size_t n;
};

/* map_prune's keep: the key is one of the routes (struct sorted_routes). */
static bool is_kept_route(const void *key, const void *ctx)
{
	const struct sorted_routes *s = ctx;

	return is_route(key, s->r, s->n);
}

int routes_map_sync(int fd, const struct slim_route *routes, size_t n, char *err, size_t errlen)
{
	struct slim_route *sorted = NULL;
	int rc = -1;

	if (n > SLIM_MAX_ROUTES) {
		snprintf(err, errlen, "%zu routes: at most %d fit the routes map", n,
			 SLIM_MAX_ROUTES);
		return -1;
	}
	if (n) {
		sorted = malloc(n * sizeof(*sorted));
		if (!sorted) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		memcpy(sorted, routes, n * sizeof(*sorted));
		qsort(sorted, n, sizeof(*sorted), membership_route_cmp);
	}
	for (size_t i = 0; i < n; i++)
		if (put(fd, &sorted[i], err, errlen) != 0)
			goto out;
	/* Entries a previous router of this host left (the maps are reused). */
	struct sorted_routes keep = {sorted, n};
	if (map_prune(fd, sizeof(struct slim_route_key), is_kept_route, &keep) != 0) {
		snprintf(err, errlen, "cannot clean the routes map: %s", strerror(errno));
		goto out;
	}
	rc = 0;
out:
	free(sorted);
	return rc;
}

static bool same(const struct slim_route *a, const struct slim_route *b)
{
	return a->underlay_ip == b->underlay_ip && a->port == b->port && a->gone == b->gone;
}

int routes_map_apply(int fd, const struct slim_route *old, size_t nold,
		     const struct slim_route *new_routes, size_t nnew, char *err, size_t errlen)
{
	size_t i = 0, j = 0;

	if (nnew > SLIM_MAX_ROUTES) {
		snprintf(err, errlen, "%zu routes: at most %d fit the routes map", nnew,
			 SLIM_MAX_ROUTES);
		return -1;
	}
	/* Writes: new routes and changed ones. */
	while (j < nnew) {
		int c = i < nold ? membership_route_cmp(&old[i], &new_routes[j]) : 1;

		if (c < 0) {
			i++;
		} else if (c == 0) {
			if (!same(&old[i], &new_routes[j]) &&
			    put(fd, &new_routes[j], err, errlen) != 0)
				return -1;
			i++;
			j++;
		} else {
			if (put(fd, &new_routes[j], err, errlen) != 0)
				return -1;
			j++;
		}
	}
	/* Deletes: old routes that are not routes any more. */
	for (i = 0, j = 0; i < nold; i++) {
		while (j < nnew && membership_route_cmp(&new_routes[j], &old[i]) < 0)
			j++;
		if (j < nnew && membership_route_cmp(&new_routes[j], &old[i]) == 0)
			continue;
		struct slim_route_key k = key_of(&old[i]);
		if (bpf_map_delete_elem(fd, &k) != 0 && errno != ENOENT) {
			snprintf(err, errlen, "cannot delete a route from the routes map: %s",
				 strerror(errno));
			return -1;
		}
	}
	return 0;
}
