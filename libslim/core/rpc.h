/* The requests a hook makes of the router and waits for: a host socket for
 * one connect (when the pool cannot give one, or SLIM_FASTPATH=0) and a
 * host listener for a container socket. Each is one round trip on the
 * channel, with one transparent reconnect. */
#ifndef LIBSLIM_RPC_H
#define LIBSLIM_RPC_H

#include <stdint.h>

#include "common.h"

enum rpc_result {
	RPC_OK = 0,
	/* The process is not (or no longer) on the overlay: the caller does
	 * the plain, untouched call. A positive value instead is the errno
	 * the router refused the request with. */
	RPC_FALLBACK = -1,
};

/* A host socket to reach dst. RPC_OK with *underlay (where the kernel will
 * send it) and *hostfd (caller owns, O_CLOEXEC); a positive errno the
 * router refused with (EHOSTUNREACH, ECONNREFUSED...); or RPC_FALLBACK.
 * Preserves errno. */
int rpc_connect(struct slim_ep dst, struct slim_ep *underlay, int *hostfd);

/* A host listener for virtual port `port` of our vip, reporting bound_ip (0
 * or our vip) as its address. RPC_OK with *vaddr (the virtual ip:port) and
 * *hostfd (caller owns); a positive errno (EADDRINUSE: another process has
 * vip:port); or RPC_FALLBACK. Preserves errno. */
int rpc_listen(uint32_t bound_ip, uint16_t port, int backlog, struct slim_ep *vaddr, int *hostfd);

#endif
