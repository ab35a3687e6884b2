/* Writer of the hosts map. One writer (the router's thread); the reader is
 * the reuseport program, and only for a SYN it refuses anyway, so the
 * moment between a write and the deletes below decides nothing. */
#include "hosts_map.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "map_prune.h"
#include "slim_maps.h"

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

struct sorted_ips {
	const uint32_t *ip;
	size_t n;
};

/* map_prune's keep: the key is one of the addresses (struct sorted_ips). */
static bool is_kept_ip(const void *key, const void *ctx)
{
	const struct sorted_ips *s = ctx;

	return s->n && bsearch(key, s->ip, s->n, sizeof(*s->ip), cmp_u32) != NULL;
}

int hosts_map_sync(int fd, const struct slim_route *routes, size_t n, char *err, size_t errlen)
{
	uint32_t *ips, one = 1;
	size_t nips = 0;
	int rc = -1;

	ips = malloc((n ? n : 1) * sizeof(*ips));
	if (!ips) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (!routes[i].gone)
			ips[nips++] = htonl(routes[i].underlay_ip);
	qsort(ips, nips, sizeof(*ips), cmp_u32);
	for (size_t i = 0; i < nips; i++) {
		if (i && ips[i] == ips[i - 1])
			continue;
		if (bpf_map_update_elem(fd, &ips[i], &one, BPF_ANY) != 0) {
			snprintf(err, errlen, "cannot write host %s to the hosts map: %s",
				 inet_ntoa((struct in_addr){ips[i]}), strerror(errno));
			goto out;
		}
	}
	/* Hosts that left, or a previous router's entries (the maps are
	 * reused). */
	struct sorted_ips keep = {ips, nips};
	if (map_prune(fd, sizeof(uint32_t), is_kept_ip, &keep) != 0) {
		snprintf(err, errlen, "cannot clean the hosts map: %s", strerror(errno));
		goto out;
	}
	rc = 0;
out:
	free(ips);
	return rc;
}
