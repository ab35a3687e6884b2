/* The cluster file: one line per host,
 *   host NAME UNDERLAY_IP VIRTUAL_SUBNET [RESERVED_PORT]
 * with '#' comments and blank lines. Parsed into a plain struct so that it can
 * be tested without a router. */
#ifndef SLIM_ROUTER_CLUSTER_H
#define SLIM_ROUTER_CLUSTER_H

#include <stddef.h>
#include <stdint.h>

#include "routes.h"
#include "wire.h" /* slim_name_ok: hosts and containers share the rule */

/* Every host becomes one Route in the hello reply, which must fit in one
 * SLIM_WIRE_MAX packet (about 17 bytes per route). */
#define CLUSTER_MAX_HOSTS 128
#define CLUSTER_NAME_MAX 63
#define CLUSTER_DEFAULT_PORT 7771

/* Addresses and ports in host byte order. */
struct cluster_host {
	char name[CLUSTER_NAME_MAX + 1];
	uint32_t underlay_ip;
	uint32_t subnet;
	uint8_t prefix_len;
	uint16_t port;
	unsigned line; /* where it was defined, for messages */
};

struct cluster {
	struct cluster_host hosts[CLUSTER_MAX_HOSTS];
	size_t n;
};

/* Parses the file at path into c. Returns 0, or -1 with one line in err:
 * "PATH:LINE: reason" for a bad line, "PATH: reason" for a whole-file
 * problem (unreadable, no hosts). */
int cluster_load(const char *path, struct cluster *c, char *err, size_t errlen);

/* The host called name, or NULL. */
const struct cluster_host *cluster_find(const struct cluster *c, const char *name);

/* Fills out[0..c->n) with one route per host; returns c->n. */
size_t cluster_routes(const struct cluster *c, struct slim_route *out);

#endif
