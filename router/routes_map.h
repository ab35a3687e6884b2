/* The routes LPM trie the connect4 and bind4 programs read: virtual subnet
 * -> the owning host's underlay address and reserved port, or, for the
 * subnet of a host that left, an entry with underlay 0 that makes connect4
 * refuse the connect with EHOSTUNREACH. */
#ifndef SLIM_ROUTER_ROUTES_MAP_H
#define SLIM_ROUTER_ROUTES_MAP_H

#include <stddef.h>

#include "routes.h"

/* Makes the trie behind fd hold exactly the n routes: writes them all and
 * deletes every other entry (a previous router's, when the maps are
 * reused). Returns 0, or -1 with one line in err (the trie may then be
 * partly updated). */
int routes_map_sync(int fd, const struct slim_route *routes, size_t n, char *err, size_t errlen);

/* Moves the trie from the old routes to the new ones (both sorted by
 * membership_route_cmp), touching only the entries that differ. New and
 * changed entries are written first, stale ones deleted last, so a subnet
 * that stays never lacks its entry. Returns 0, or -1 with one line in err. */
int routes_map_apply(int fd, const struct slim_route *old, size_t nold,
		     const struct slim_route *new_routes, size_t nnew, char *err, size_t errlen);

#endif
