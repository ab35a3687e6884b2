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

/* True if ip (host byte order) is an overlay address and slim is active;
 * then *epoch is the view's epoch, which pool sockets must match. Reads the
 * router's view: lock-free, no system call. A retired router puts the
 * process back to "router away" and drops the pool. */
bool slim_overlay(uint32_t ip, uint32_t *epoch);

/* True if slim is active and its router's stamps are in force (view
 * running, or away with the programs kept); then *epoch is the view's
 * epoch. Lock-free, no system call. */
bool slim_epoch(uint32_t *epoch);

/* False when SLIM_FASTPATH=0: every connect asks the router. */
bool slim_fastpath(void);

/* Keeps the pool filled: collects a pool reply that has arrived and asks
 * for more when the pool runs low. Without block it never waits (and does
 * nothing if another thread is talking to the router); with block it waits
 * for the reply (the pool is empty and a connect needs a socket), and
 * reconnects to the router if needed. Preserves errno. */
void slim_pool_service(bool block);

/* Asks for a host socket to reach dst (the per-connect path). Returns 0
 * with *underlay (where the kernel will send it) and *hostfd (owned by the
 * caller, O_CLOEXEC); a positive errno the router refused with; or
 * SLIM_FALLBACK. Blocks for one round trip; no lock other than the IPC one
 * is held. */
int slim_router_connect(struct slim_ep dst, struct slim_ep *underlay, int *hostfd);

/* Asks for a host listener for virtual port `port` of our vip, reporting
 * bound_ip (0 or our vip) as its address. Returns 0 with *vaddr (the virtual
 * ip:port) and *hostfd (caller owns), a positive errno (e.g. EADDRINUSE),
 * or SLIM_FALLBACK. */
int slim_router_listen(uint32_t bound_ip, uint16_t port, int backlog, struct slim_ep *vaddr,
		       int *hostfd);

/* Called after the app closed the fds first..last (close_range,
 * closefrom): if the router connection was among them, it is made again at
 * once (quietly: a failure is left to the next need). Not
 * async-signal-safe. */
void slim_router_range_closed(unsigned int first, unsigned int last);

/* Called by the close hook before the real close: if fd is one of ours (the
 * app closes it, e.g. in a close-all loop), forget it; it is re-opened on the
 * next need. Async-signal-safe. */
void slim_router_fd_closed(int fd);

#endif
