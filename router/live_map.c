/* Writer of the live map. One writer (the router's thread). */
#include "live_map.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "slim_maps.h"

_Static_assert(REG_MAX <= SLIM_MAX_CONTAINERS, "the live map holds every registered container");

int live_map_add(int fd, uint32_t vip, char *err, size_t errlen)
{
	uint32_t k = htonl(vip), one = 1;

	if (bpf_map_update_elem(fd, &k, &one, BPF_ANY) == 0)
		return 0;
	snprintf(err, errlen, "cannot add %s to the live map: %s", inet_ntoa((struct in_addr){k}),
		 strerror(errno));
	return -1;
}

int live_map_del(int fd, uint32_t vip, char *err, size_t errlen)
{
	uint32_t k = htonl(vip);

	if (bpf_map_delete_elem(fd, &k) == 0 || errno == ENOENT)
		return 0;
	snprintf(err, errlen, "cannot remove %s from the live map: %s",
		 inet_ntoa((struct in_addr){k}), strerror(errno));
	return -1;
}

int live_map_sync(int fd, const struct registry *reg, char *err, size_t errlen)
{
	uint32_t k, next, *prev = NULL;

	/* Stale entries first: deleting the key just read would restart the
	 * walk, so each is deleted once the next key is known. */
	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		if (prev && !reg_by_vip(reg, ntohl(*prev)) &&
		    live_map_del(fd, ntohl(*prev), err, errlen))
			return -1;
		k = next;
		prev = &k;
	}
	if (prev && !reg_by_vip(reg, ntohl(*prev)) && live_map_del(fd, ntohl(*prev), err, errlen))
		return -1;
	for (size_t i = 0; i < reg->n; i++)
		if (live_map_add(fd, reg->c[i].vip, err, errlen))
			return -1;
	return 0;
}
