/* The live map the connect4 and bind4 programs read: the vip of each
 * container this router has -> its id. A stamped socket whose vip is not in
 * it, or is there under another container's id, connects and binds nowhere
 * (bpf/lib/slim_maps.h): a deleted container's sockets stay useless to a
 * process that kept them, even once a later container has the same vip. */
#ifndef SLIM_ROUTER_LIVE_MAP_H
#define SLIM_ROUTER_LIVE_MAP_H

#include <stddef.h>
#include <stdint.h>

#include "containers.h"

/* Adds container c (its vip -> its id, or 0, which accepts any stamp, for
 * a container restored without an id) / removes vip (host byte order).
 * Return 0, or -1 with one line in err. Removing a vip that is not there
 * is not an error. */
int live_map_add(int fd, const struct container *c, char *err, size_t errlen);
int live_map_del(int fd, uint32_t vip, char *err, size_t errlen);

/* Makes the map behind fd hold exactly reg's containers (a
 * previous router's entries, when the maps are reused, go). Returns 0, or
 * -1 with one line in err. */
int live_map_sync(int fd, const struct registry *reg, char *err, size_t errlen);

#endif
