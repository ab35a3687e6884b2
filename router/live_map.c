/* Writer of the live map. One writer (the router's thread). */
#include "live_map.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "map_prune.h"
#include "slim_maps.h"

_Static_assert(REG_MAX <= SLIM_MAX_CONTAINERS, "the live map holds every registered container");

int live_map_add(int fd, const struct container *c, char *err, size_t errlen)
{
	/* Both in network order, as the owner storage holds them. */
	uint32_t k = htonl(c->vip), id = c->any_stamp ? 0 : htonl(c->id);

	if (bpf_map_update_elem(fd, &k, &id, BPF_ANY) == 0)
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

/* map_prune's keep: the key (a vip, network order) is a container of the
 * registry ctx. */
static bool is_live(const void *key, const void *ctx)
{
	uint32_t vip;

	memcpy(&vip, key, sizeof(vip));
	return reg_by_vip(ctx, ntohl(vip)) != NULL;
}

int live_map_sync(int fd, const struct registry *reg, char *err, size_t errlen)
{
	/* Stale entries: a previous router's, when the maps are reused. */
	if (map_prune(fd, sizeof(uint32_t), is_live, reg) != 0) {
		snprintf(err, errlen, "cannot clean the live map: %s", strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < reg->n; i++)
		if (live_map_add(fd, &reg->c[i], err, errlen))
			return -1;
	return 0;
}
