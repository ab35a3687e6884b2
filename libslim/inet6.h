/* AF_INET6 dual-stack app sockets carried by AF_INET host sockets. */
#ifndef LIBSLIM_INET6_H
#define LIBSLIM_INET6_H

#include <stdbool.h>
#include <sys/socket.h>

#include "common.h"

/* Reads the app's AF_INET6 address for connect/bind when it is one the
 * IPv4 overlay can carry: "::" (ep->ip 0) or a v4-mapped ::ffff:a.b.c.d.
 * Returns true and fills *ep (host byte order); false for anything else
 * (unreadable, short, another family, a real IPv6 address): then the call
 * is the app's container socket's business. errno preserved. */
bool slim_v6_read(const struct sockaddr *addr, socklen_t len, struct slim_ep *ep);

#endif
