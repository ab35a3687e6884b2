/* Applying a new live set of hosts to a running router: membership (who
 * joined, who left), then the routes trie and the view, in that order, so
 * libslim never sees a route the kernel does not have. Used by the cluster
 * file (start, SIGHUP) and by etcd alike. */
#ifndef SLIM_ROUTER_HOSTS_PUBLISH_H
#define SLIM_ROUTER_HOSTS_PUBLISH_H

#include <stdbool.h>
#include <stddef.h>

#include "cluster.h"

struct router;

/* Makes live (which includes this host) the router's hosts. initial: the
 * first set at start-up (the trie is synced as a whole, dropping whatever
 * a previous router left; no per-host log lines). Returns 0, or -1 with
 * one line in err (the router keeps serving its previous routes, though
 * the trie may be partly updated). */
int hosts_publish(struct router *r, const struct cluster *live, bool initial, char *err,
		  size_t errlen);

/* etcd_member_cfg.apply: hosts_publish, logging a failure. */
int hosts_publish_cb(void *router, const struct cluster *live);

#endif
