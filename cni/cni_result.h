/* The previous plugin's result (prevResult): where slim finds the
 * container's address, and what it hands back to the runtime. */
#ifndef SLIM_CNI_RESULT_H
#define SLIM_CNI_RESULT_H

#include <stdint.h>

#include <json-c/json.h>

#include "cni_error.h"

/* The container's IPv4 address in prev: the "ips" entry on the interface
 * named ifname that has a sandbox (the container side), else the only IPv4
 * entry. Returns 0 with *vip (host byte order), or -1 with *e set
 * (CNI_ERR_CONFIG: no IPv4 address, or several and none on ifname). */
int cni_result_ipv4(json_object *prev, const char *ifname, uint32_t *vip, struct cni_error *e);

/* A copy of prev in the result format of cniVersion version ("0.4.0" or
 * "1.0.0"): cniVersion set, each "ips" entry with a "version" for 0.4.0 and
 * without for 1.0.0. Returns the new object (the caller puts it), or NULL
 * with *e set: CNI_ERR_VERSION if prev is of a version that cannot be
 * converted, CNI_ERR_IO when out of memory. */
json_object *cni_result_convert(json_object *prev, const char *version, struct cni_error *e);

#endif
