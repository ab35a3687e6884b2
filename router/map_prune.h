/* Deleting the stale entries of a map the router keeps in step with its own
 * state (routes, hosts, live): the one walk they share. */
#ifndef SLIM_ROUTER_MAP_PRUNE_H
#define SLIM_ROUTER_MAP_PRUNE_H

#include <stdbool.h>
#include <stddef.h>

#define MAP_PRUNE_KEY_MAX 16

/* Deletes every entry of the map behind fd (keys of key_size bytes, at
 * most MAP_PRUNE_KEY_MAX) whose key keep(key, ctx) refuses. The walk
 * starts again from the first key after each delete (where the deleted
 * key's successor went is the kernel's business), so it suits maps of a
 * few thousand entries. Returns 0, or -1 with errno (from the delete). */
int map_prune(int fd, size_t key_size, bool (*keep)(const void *key, const void *ctx),
	      const void *ctx);

#endif
