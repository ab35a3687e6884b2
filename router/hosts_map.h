/* The hosts map the reuseport program reads to name the reason of a
 * refused SYN (bpf/lib/trust.bpf.h): the underlay address of every live
 * cluster host. */
#ifndef SLIM_ROUTER_HOSTS_MAP_H
#define SLIM_ROUTER_HOSTS_MAP_H

#include <stddef.h>

#include "routes.h"

/* Makes the map behind fd hold exactly the underlay addresses of the n
 * routes that are not gone: writes them all, then deletes every other
 * entry. Returns 0, or -1 with one line in err (the map may then be
 * partly updated). */
int hosts_map_sync(int fd, const struct slim_route *routes, size_t n, char *err, size_t errlen);

#endif
