/* The virtual peer of an accepted socket, as the sockops program stored it. */
#ifndef LIBSLIM_PEER_H
#define LIBSLIM_PEER_H

#include "common.h"

/* Looks up the peer sk_storage of the accepted socket fd. Returns 0 and
 * fills *peer_ip and *local (host byte order), or -1 if there is no entry or
 * no usable peer map. Preserves errno. Lock-free except when the map fd has
 * to be fetched again from the router. */
int slim_peer_lookup(int fd, uint32_t *peer_ip, struct slim_ep *local);

#endif
