/* The overlay route table: virtual subnet -> host underlay address and
 * reserved port. Shared by the router and its tests. */
#ifndef SLIM_ROUTES_H
#define SLIM_ROUTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* All addresses and ports in host byte order. */
struct slim_route {
	uint32_t subnet;    /* network address, already masked */
	uint8_t prefix_len; /* 0..32 */
	uint32_t underlay_ip;
	uint16_t port;
	bool gone; /* the host left: a connect to this subnet fails (EHOSTUNREACH) */
};

/* Mask for a prefix length 0..32 (host byte order). */
uint32_t slim_prefix_mask(unsigned prefix_len);

/* True when ip lies in the route's subnet. */
bool slim_route_contains(const struct slim_route *r, uint32_t ip);

/* Longest-prefix match of ip over n routes. Returns the route, or NULL when
 * ip is not an overlay address. */
const struct slim_route *slim_route_lookup(const struct slim_route *routes, size_t n, uint32_t ip);

/* Parses "A.B.C.D/N" into a masked subnet. Returns 0, or -1 if malformed or
 * host bits are set. */
int slim_parse_cidr(const char *s, uint32_t *subnet, uint8_t *prefix_len);

#endif
