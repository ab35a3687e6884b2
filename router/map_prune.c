/* The stale-entry walk shared by the router's map writers. */
#include "map_prune.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <string.h>

int map_prune(int fd, size_t key_size, bool (*keep)(const void *key, const void *ctx),
	      const void *ctx)
{
	unsigned char k[MAP_PRUNE_KEY_MAX], next[MAP_PRUNE_KEY_MAX];
	void *prev = NULL;

	if (key_size > MAP_PRUNE_KEY_MAX) {
		errno = EINVAL;
		return -1;
	}
	while (bpf_map_get_next_key(fd, prev, next) == 0) {
		if (keep(next, ctx)) {
			memcpy(k, next, key_size);
			prev = k;
			continue;
		}
		if (bpf_map_delete_elem(fd, next) != 0)
			return -1;
		prev = NULL;
	}
	return 0;
}
