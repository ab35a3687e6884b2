/* The plugin's requests to the local slim-router (through
 * tools/ctl_client.h), with the router's answers turned into CNI errors. */
#ifndef SLIM_CNI_ROUTER_H
#define SLIM_CNI_ROUTER_H

#include <stdint.h>

#include "cni_error.h"

/* Registers container id with vip (host byte order) and netns. Returns 0,
 * or -1 with *e set: CNI_ERR_TRY_LATER (no router, or a stuck one),
 * SLIM_CNI_ERR_DUPLICATE (id, address or netns taken), SLIM_CNI_ERR_REFUSED
 * (address outside the host's subnet, netns not a network namespace, ...),
 * SLIM_CNI_ERR_ROUTER (anything else). */
int cni_router_add(const char *sock, const char *id, uint32_t vip, const char *netns,
		   struct cni_error *e);

/* Unregisters container id (the router revokes its sockets). A container
 * the router does not know, or no router at all, is success: DEL is
 * idempotent. Returns 0, or -1 with *e set (CNI_ERR_TRY_LATER for a stuck
 * router, SLIM_CNI_ERR_ROUTER). */
int cni_router_del(const char *sock, const char *id, struct cni_error *e);

/* Succeeds if the router has container id with vip and the network
 * namespace netns (the same path, or one naming the same namespace).
 * Returns 0, or -1 with *e set: SLIM_CNI_ERR_NOT_REGISTERED,
 * SLIM_CNI_ERR_MISMATCH, CNI_ERR_TRY_LATER, SLIM_CNI_ERR_ROUTER. */
int cni_router_check(const char *sock, const char *id, uint32_t vip, const char *netns,
		     struct cni_error *e);

#endif
