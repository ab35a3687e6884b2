/* A host's record in etcd: key PREFIX "hosts/" NAME, value a JSON object
 *   {"underlay":"192.168.77.1","subnet":"10.244.1.0/24","port":7771}
 * Records are written by other routers (or anyone with access to etcd), so
 * decoding checks everything cluster_host_ok checks. */
#ifndef SLIM_ROUTER_HOST_RECORD_H
#define SLIM_ROUTER_HOST_RECORD_H

#include <stddef.h>

#include "cluster.h"

/* The key of host name under prefix into out. Returns 0, or -1 if it does
 * not fit. */
int host_record_key(const char *prefix, const char *name, char *out, size_t outlen);

/* The value for h: a new string the caller frees, or NULL (ENOMEM). */
char *host_record_encode(const struct cluster_host *h);

/* Decodes the record at key (which must be prefix "hosts/" NAME) into h.
 * Returns 0, 1 when the key is not a host record (another key under the
 * prefix: ignored), or -1 with the reason in why. */
int host_record_decode(const char *prefix, const char *key, const char *value,
		       struct cluster_host *h, char *why, size_t whylen);

#endif
