/* The reservation: a container socket bound as the app asked, which keeps a
 * host listener's port taken in the container (EADDRINUSE, EACCES and port
 * 0 are the container's own answers). At listen it listens too, as the
 * listener's container side (merge.h): every later bind of the port is
 * then refused as a listener refuses it, and plain clients are served. It
 * lives in the fd table of the process, above the app's usual numbers
 * (highfd.h), and is closed with the listener (or gives way to a bound
 * socket while a TIME_WAIT would hold the port: timewait.h). */
#ifndef LIBSLIM_RESERVATION_H
#define LIBSLIM_RESERVATION_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "fdtable.h"

/* True if r.fd still is that reservation (r.ino 0: none). */
bool slim_resv_ours(struct slim_resv r);

/* Closes reservation r if its fd still is it. Async-signal-safe. */
void slim_resv_close(struct slim_resv r);

/* A reservation costs the app a second fd per listener. It is made while
 * the lowest free fd number (fd: a socket just made there) is in the lower
 * half of the fd limit: an app with thousands of listeners, which fill
 * its fd table from the bottom, must not run out of fds where the plain
 * network would not; past that point its listeners do not hold their
 * container port and have no container side (only slim clients reach
 * them). Preserves errno. */
bool slim_resv_affordable(int fd);

/* What slim_resv_bind returns when the reservation is not affordable. */
#define RESV_UNAFFORDABLE 1

/* Binds a new reservation to the app's address (addr, len), with
 * SO_REUSEADDR/SO_REUSEPORT as the app set them on app_fd, and the carried
 * options in opts (the ones the app set: swap.h). Returns 0 with *r and
 * the port it got in *port (the container's pick for port 0);
 * RESV_UNAFFORDABLE (nothing made); or -1 with errno: the container's
 * verdict on the address. */
int slim_resv_bind(int app_fd, const struct sockaddr *addr, socklen_t len, uint32_t opts,
		   struct slim_resv *r, uint16_t *port);

/* Moves r above the app's usual fd numbers (its number changes). */
void slim_resv_move_high(struct slim_resv *r);

/* The listener of container side c closes while a TIME_WAIT would still
 * hold its port: c is released (merge_release: it stops listening, its
 * pending connections are reset), and a fresh socket, bound to c's address
 * with SO_REUSEADDR as reuse says (and c's SO_REUSEPORT, IPV6_V6ONLY) but
 * not listening, takes the port over: it refuses exactly the binds a
 * TIME_WAIT refuses, and plain clients are refused as by a closed server.
 * Returns it (ino 0: the port could not be bound again, e.g. another
 * process still holds c, whose listening keeps the port taken anyway).
 * Async-signal-safe. */
struct slim_resv slim_resv_unlisten(struct slim_resv c, bool reuse);

/* A bound pool socket (HOST_BOUND) that the app uses for something else
 * than listening (a connect from a chosen source port): its reservation,
 * bound as the app asked, takes the fd's place (a fresh container socket
 * if the reservation is gone). *st becomes FD_CONTAINER, bound. Returns 0,
 * or -1 with errno. */
int slim_resv_swap_in(int fd, struct fd_state *st);

#endif
