/* Registry of the containers on this host: name, virtual IP, network
 * namespace (path and identity) and a numeric id stamped on their sockets.
 * Pure bookkeeping: the caller checks the netns path itself (peer.h). */
#ifndef SLIM_ROUTER_CONTAINERS_H
#define SLIM_ROUTER_CONTAINERS_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "wire.h" /* SLIM_CONTAINER_NAME_MAX */

#define REG_MAX 1024
#define REG_NETNS_MAX 255

struct container {
	char name[SLIM_CONTAINER_NAME_MAX + 1];
	uint32_t vip; /* host byte order */
	char netns[REG_NETNS_MAX + 1];
	dev_t ns_dev;
	ino_t ns_ino;
	/* Stamped on its host sockets (owner.container_id) and written as its
	 * live map value: drawn at random when it is first registered, kept
	 * in the state file across restarts, so a socket it leaves behind is
	 * never taken for a later container's that gets the same vIP. */
	uint32_t id;
	bool any_stamp; /* restored without an id: its live value accepts any stamp */
	int veth;	/* its host-side veth while the slim-to-plain translation serves it
			 * (router/nat.c), else 0 */
};

struct registry {
	struct container c[REG_MAX];
	size_t n;
	uint32_t subnet; /* this host's virtual subnet */
	uint8_t prefix_len;
};

void reg_init(struct registry *r, uint32_t subnet, uint8_t prefix_len);

/* Adds a container after checking the rules: name charset, vip inside the
 * subnet and not its network or broadcast address (for prefixes up to /30),
 * name, vip, netns and id each unique, room left. id 0 draws a new one
 * (random, non-zero, unique among the registered). Returns 0, or a positive
 * errno (EINVAL, EEXIST, ENOSPC, ENAMETOOLONG, or getrandom's) with one
 * line in why. */
int reg_add(struct registry *r, const char *name, uint32_t vip, const char *netns, dev_t ns_dev,
	    ino_t ns_ino, uint32_t id, char *why, size_t whylen);

/* Removes the container called name, copying it to *out if out is not NULL.
 * Returns 0 or ENOENT. */
int reg_del(struct registry *r, const char *name, struct container *out);

/* Lookups; the pointers are valid until the next reg_add/reg_del. */
const struct container *reg_by_name(const struct registry *r, const char *name);
const struct container *reg_by_vip(const struct registry *r, uint32_t vip);
const struct container *reg_by_netns(const struct registry *r, dev_t dev, ino_t ino);

#endif
