/* The live map the connect4 and bind4 programs read: the vips of the
 * containers this router has. A stamped socket whose vip is not in it
 * connects and binds nowhere (bpf/lib/slim_maps.h), which is what makes a
 * deleted container's sockets useless to a process that kept them. */
#ifndef SLIM_ROUTER_LIVE_MAP_H
#define SLIM_ROUTER_LIVE_MAP_H

#include <stddef.h>
#include <stdint.h>

#include "containers.h"

/* Adds / removes vip (host byte order). Return 0, or -1 with one line in
 * err. Removing a vip that is not there is not an error. */
int live_map_add(int fd, uint32_t vip, char *err, size_t errlen);
int live_map_del(int fd, uint32_t vip, char *err, size_t errlen);

/* Makes the map behind fd hold exactly the vips of reg's containers (a
 * previous router's entries, when the maps are reused, go). Returns 0, or
 * -1 with one line in err. */
int live_map_sync(int fd, const struct registry *reg, char *err, size_t errlen);

#endif
