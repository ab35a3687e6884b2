/* Cluster membership through etcd: this router's host record under a lease
 * (kept alive), every other host's record loaded and watched, and the live
 * set handed to the router whenever it changes. While etcd cannot be
 * reached the router keeps the last live set (said once in the log and in
 * the status line) and resynchronises when etcd is back. All of it runs on
 * the router's libev loop through etcd_http: nothing here blocks, except
 * etcd_member_start and etcd_member_leave, which run the loop themselves
 * for a bounded time before the router serves / after it stopped. */
#ifndef SLIM_ROUTER_ETCD_MEMBER_H
#define SLIM_ROUTER_ETCD_MEMBER_H

#include <stddef.h>
#include <stdint.h>

#include "cluster.h"

struct ev_loop;
struct etcd_member;

#define ETCD_DEFAULT_PREFIX "/slim/"
#define ETCD_DEFAULT_TTL 5 /* seconds: a killed router's host leaves after this */

struct etcd_member_cfg {
	const char *urls; /* comma-separated http://ADDR:PORT endpoints */
	const char *prefix;
	struct cluster_host self;
	int64_t ttl;
	/* Called with the live set (self included) whenever it changes;
	 * returns 0, or -1 after logging (the set is then offered again at
	 * the next change). */
	int (*apply)(void *ctx, const struct cluster *live);
	void *ctx;
};

/* Checks the configuration (urls, prefix) without any I/O. Returns 0, or
 * -1 with one line in err. */
int etcd_member_check_cfg(const struct etcd_member_cfg *cfg, char *err, size_t errlen);

/* Joins: grants a lease, loads the host records, refuses a conflict (this
 * name alive with another record, an overlapping subnet, a used underlay
 * endpoint), publishes this host's record, hands the live set to apply,
 * and starts the watch and the keepalives. Runs loop for at most
 * timeout_s. Returns the member, or NULL with one line in err (etcd
 * unreachable at every endpoint, a conflict, apply failing). cfg's strings
 * must outlive the member. */
struct etcd_member *etcd_member_start(struct ev_loop *loop, const struct etcd_member_cfg *cfg,
				      double timeout_s, char *err, size_t errlen);

/* One line for status: "etcd URL: N hosts", with ", unreachable since
 * ...: serving the last known hosts" while it cannot be reached. */
void etcd_member_status(const struct etcd_member *m, char *buf, size_t len);

/* Leaves cleanly: revokes the lease (the record goes with it, and every
 * router drops this host at once), waiting on loop at most timeout_s.
 * Then frees. NULL is fine. */
void etcd_member_leave(struct etcd_member *m, double timeout_s);

/* Frees without telling etcd (the lease expires by itself). NULL is fine. */
void etcd_member_free(struct etcd_member *m);

#endif
