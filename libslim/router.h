/* The process's connection to slim-router, and what hello told us. */
#ifndef LIBSLIM_ROUTER_H
#define LIBSLIM_ROUTER_H

#include <stdbool.h>
#include <stdint.h>

#include "common.h"
#include "routes.h"

/* Returned by the request functions when slim is (now) disabled for the
 * process: the caller must do the plain, untouched call. */
#define SLIM_FALLBACK (-1)

/* True once slim has been given up for this process (router unreachable,
 * refused, lost). Cheap, lock-free, never blocks. */
bool slim_disabled(void);

/* Makes sure the router connection is up and hello answered, connecting on
 * first use (one blocking round trip). Returns true if slim is active, false
 * if it is disabled (the one warning line has been printed). */
bool slim_active(void);

/* Own virtual IP (host byte order); only meaningful after slim_active(). */
uint32_t slim_vip(void);

/* The route holding ip, or NULL if ip is no overlay address (or slim is not
 * active). Lock-free. */
const struct slim_route *slim_route_for(uint32_t ip);

/* Asks for a host socket to reach dst. Returns 0 with *underlay (where to
 * connect it) and *hostfd (owned by the caller, O_CLOEXEC); a positive errno
 * the router refused with; or SLIM_FALLBACK. Blocks for one round trip; no
 * lock other than the IPC one is held. */
int slim_router_connect(struct slim_ep dst, struct slim_ep *underlay, int *hostfd);

/* Asks for a host listener for virtual port `port` of our vip. Returns 0
 * with *vaddr (the virtual ip:port) and *hostfd (caller owns), a positive
 * errno (e.g. EADDRINUSE), or SLIM_FALLBACK. */
int slim_router_listen(uint16_t port, int backlog, struct slim_ep *vaddr, int *hostfd);

/* The read-only peer map fd (owned by libslim), or -1 if there is none or
 * the number no longer holds our map (the app closed or reused it; checked
 * by BPF map id). Lock-free, one system call. */
int slim_peer_map_fd(void);
/* Like slim_peer_map_fd, but if there is no valid map fd, says hello again
 * to get a new one (one round trip under the IPC lock). Returns the fd or
 * -1. Preserves errno. */
int slim_peer_map_refresh(void);

/* Called by the close hook before the real close: if fd is one of ours (the
 * app closes it, e.g. in a close-all loop), forget it; it is re-opened on the
 * next need. Async-signal-safe. */
void slim_router_fd_closed(int fd);

#endif
