/* Overlay route table: prefix matching over a small array. The table holds
 * one entry per host, so a linear longest-prefix scan is the honest choice;
 * the BPF side will carry an LPM trie when it needs one. */
#include "routes.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

uint32_t slim_prefix_mask(unsigned prefix_len)
{
	if (prefix_len == 0)
		return 0;
	if (prefix_len >= 32)
		return 0xffffffffu;
	return 0xffffffffu << (32 - prefix_len);
}

bool slim_route_contains(const struct slim_route *r, uint32_t ip)
{
	return (ip & slim_prefix_mask(r->prefix_len)) == r->subnet;
}

const struct slim_route *slim_route_lookup(const struct slim_route *routes, size_t n, uint32_t ip)
{
	const struct slim_route *best = NULL;

	for (size_t i = 0; i < n; i++) {
		if (!slim_route_contains(&routes[i], ip))
			continue;
		if (!best || routes[i].prefix_len > best->prefix_len)
			best = &routes[i];
	}
	return best;
}

int slim_parse_cidr(const char *s, uint32_t *subnet, uint8_t *prefix_len)
{
	char buf[32];
	const char *slash = strchr(s, '/');
	struct in_addr a;
	char *end;
	long n;

	if (!slash || (size_t)(slash - s) >= sizeof(buf) || slash == s)
		return -1;
	memcpy(buf, s, (size_t)(slash - s));
	buf[slash - s] = '\0';
	if (inet_pton(AF_INET, buf, &a) != 1)
		return -1;
	if (slash[1] < '0' || slash[1] > '9')
		return -1;
	errno = 0;
	n = strtol(slash + 1, &end, 10);
	if (errno || *end != '\0' || n < 0 || n > 32)
		return -1;
	uint32_t ip = ntohl(a.s_addr);
	if ((ip & slim_prefix_mask((unsigned)n)) != ip)
		return -1; /* host bits set: almost always a typo */
	*subnet = ip;
	*prefix_len = (uint8_t)n;
	return 0;
}
