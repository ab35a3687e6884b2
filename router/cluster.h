/* The set of hosts of a cluster, and the cluster file that can describe it:
 * one line per host,
 *   host NAME UNDERLAY_IP VIRTUAL_SUBNET [RESERVED_PORT]
 * with '#' comments and blank lines. The same rules (cluster_add) apply to
 * hosts read from the file and to host records read from etcd. Plain data,
 * so that it can be tested without a router. */
#ifndef SLIM_ROUTER_CLUSTER_H
#define SLIM_ROUTER_CLUSTER_H

#include <stddef.h>
#include <stdint.h>

#include "routes.h"
#include "wire.h" /* slim_name_ok: the rule for host names */

#define CLUSTER_NAME_MAX 63
#define CLUSTER_DEFAULT_PORT 7771
/* Live hosts a router serves. Bounded by the routes the kernel map and the
 * view hold, with room left for the subnets of hosts that left (they keep a
 * route that refuses connects): see membership.h. */
#define CLUSTER_MAX_HOSTS 4096

/* Addresses and ports in host byte order. */
struct cluster_host {
	char name[CLUSTER_NAME_MAX + 1];
	uint32_t underlay_ip;
	uint32_t subnet;
	uint8_t prefix_len;
	uint16_t port;
	unsigned line; /* where it was defined (file line), for messages */
};

/* A growable array; zero-initialised is an empty cluster. */
struct cluster {
	struct cluster_host *hosts;
	size_t n, cap;
};

/* Adds h after the checks every cluster obeys: a name not used yet, a
 * subnet that overlaps no other host's, an underlay ip:port not used yet,
 * and at most CLUSTER_MAX_HOSTS hosts. h must already be well formed
 * (cluster_host_ok). Returns 0, or -1 with one line in why naming the
 * host it conflicts with (c unchanged; ENOMEM: "out of memory"). */
int cluster_add(struct cluster *c, const struct cluster_host *h, char *why, size_t whylen);

/* Whether h is well formed on its own: a valid name, a usable underlay
 * address, a subnet with no host bits that is not 0.0.0.0/0, a port
 * 1..65535. Returns 0, or -1 with the reason in why. */
int cluster_host_ok(const struct cluster_host *h, char *why, size_t whylen);

/* Parses the file at path into c (which it initialises; free with
 * cluster_free even on failure). Returns 0, or -1 with one line in err:
 * "PATH:LINE: reason" for a bad line, "PATH: reason" for a whole-file
 * problem (unreadable, no hosts). */
int cluster_load(const char *path, struct cluster *c, char *err, size_t errlen);

/* Frees the hosts; c becomes empty. */
void cluster_free(struct cluster *c);

/* The host called name, or NULL. */
const struct cluster_host *cluster_find(const struct cluster *c, const char *name);

/* Parses a strict decimal port 1..65535. Returns 0 or -1. */
int cluster_parse_port(const char *s, uint16_t *port);

/* The route of one host. */
struct slim_route cluster_route(const struct cluster_host *h);

#endif
