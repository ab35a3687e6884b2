/* The virtual peer of an accepted socket, as the sockops program stored it. */
#ifndef LIBSLIM_PEER_H
#define LIBSLIM_PEER_H

#include "common.h"

/* Looks up the peer sk_storage of the accepted socket fd. Returns 0 and
 * fills *peer_ip and *local (host byte order), or -1 if there is no entry or
 * no usable peer map. Preserves errno. Lock-free except when the map fd has
 * to be fetched again from the router. */
int slim_peer_lookup(int fd, uint32_t *peer_ip, struct slim_ep *local);

/* The kernel's id of the BPF map behind fd, or 0 if fd is no BPF object
 * (progs and links give their own ids, from other id spaces).
 * Preserves errno. Async-signal-safe (one bpf(2) call). */
uint32_t slim_bpf_map_id(int fd);

#endif
