/* The listeners SOCKHASH (virtual ip:port -> listening host socket) as seen
 * from the router: insert on listen, count for status, purge on container
 * del. Entries also leave by themselves when the app closes its socket. */
#ifndef SLIM_ROUTER_LISTENERS_H
#define SLIM_ROUTER_LISTENERS_H

#include <stddef.h>
#include <stdint.h>

struct lmap {
	int fd;		     /* owned by the BPF object, not by lmap */
	unsigned value_size; /* 4 or 8: the map takes the socket fd as its value */
	unsigned max_entries;
};

/* Reads the map's layout. Returns 0, or -1 with a reason in err. */
int lmap_init(struct lmap *m, int map_fd, char *err, size_t errlen);

/* Files sock under vip:port (host byte order) unless the key is taken.
 * Returns 0, or a positive errno: EADDRINUSE when taken, else what the
 * kernel said. */
int lmap_insert(const struct lmap *m, uint32_t vip, uint16_t port, int sock);

struct slim_vaddr;

/* Copies every key, each once, into a new array *keys (caller frees, also
 * when 0 is returned): a hash map cannot be walked safely while deleting.
 * Returns the number of keys (0 also when out of memory). */
size_t lmap_snapshot(const struct lmap *m, struct slim_vaddr **keys);

/* Deletes every listener whose virtual ip is vip; returns how many. */
size_t lmap_del_vip(const struct lmap *m, uint32_t vip);

#endif
