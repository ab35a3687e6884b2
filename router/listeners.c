/* Keys are struct slim_vaddr in network byte order, as the sk_reuseport
 * program builds them from the SYN's option. */
#include "listeners.h"
#include "slim_maps.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int lmap_init(struct lmap *m, int map_fd, char *err, size_t errlen)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	m->fd = map_fd;
	if (bpf_obj_get_info_by_fd(map_fd, &info, &len) != 0) {
		snprintf(err, errlen, "cannot query the listeners map: %s", strerror(errno));
		return -1;
	}
	if (info.key_size != sizeof(struct slim_vaddr) ||
	    (info.value_size != 4 && info.value_size != 8)) {
		snprintf(err, errlen,
			 "listeners map has key size %u / value size %u, expected %zu / 4 or 8",
			 info.key_size, info.value_size, sizeof(struct slim_vaddr));
		return -1;
	}
	m->value_size = info.value_size;
	m->max_entries = info.max_entries;
	return 0;
}

int lmap_insert(const struct lmap *m, uint32_t vip, uint16_t port, int sock)
{
	struct slim_vaddr key = {.ip = htonl(vip), .port = htons(port), .slot = 0};
	__u64 v64 = (__u64)sock;
	__u32 v32 = (__u32)sock;
	const void *val = m->value_size == 8 ? (const void *)&v64 : (const void *)&v32;

	if (bpf_map_update_elem(m->fd, &key, val, BPF_NOEXIST) == 0)
		return 0;
	return errno == EEXIST ? EADDRINUSE : errno;
}

static int vaddr_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct slim_vaddr));
}

size_t lmap_snapshot(const struct lmap *m, struct slim_vaddr **keys)
{
	size_t cap = m->max_entries ? m->max_entries : SLIM_MAX_LISTENERS, n = 0;
	struct slim_vaddr *k = calloc(cap, sizeof(*k));
	struct slim_vaddr cur;
	const void *prev = NULL;

	*keys = k;
	if (!k)
		return 0;
	while (n < cap && bpf_map_get_next_key(m->fd, prev, &cur) == 0) {
		k[n] = cur;
		prev = &k[n];
		n++;
	}
	/* Listeners leave the map by themselves when their socket closes; if
	 * prev goes meanwhile, the kernel restarts the walk from the first key.
	 * Count each key once. */
	qsort(k, n, sizeof(*k), vaddr_cmp);
	size_t u = 0;
	for (size_t i = 0; i < n; i++)
		if (u == 0 || vaddr_cmp(&k[u - 1], &k[i]) != 0)
			k[u++] = k[i];
	return u;
}

size_t lmap_del_vip(const struct lmap *m, uint32_t vip)
{
	struct slim_vaddr *keys;
	size_t n = lmap_snapshot(m, &keys), gone = 0;

	for (size_t i = 0; i < n; i++)
		if (keys[i].ip == htonl(vip) && bpf_map_delete_elem(m->fd, &keys[i]) == 0)
			gone++;
	free(keys);
	return gone;
}
