/* Epoll sets and merged listeners: a container side must be in every epoll
 * set its listener is in. A registration made after listen is mirrored by
 * the epoll_ctl hook; one made before (between bind and listen, or before
 * bind) is found at listen in the kernel's own list of the set's
 * registrations, /proc/self/fdinfo of each epoll fd of the process, with
 * its events and data exactly as the app gave them (a fired EPOLLONESHOT
 * included). libslim learns the process's epoll fds from epoll_create and
 * epoll_create1. */
#ifndef LIBSLIM_MERGE_EPOLL_H
#define LIBSLIM_MERGE_EPOLL_H

#include <stdbool.h>
#include <stdint.h>

/* Remembers epfd, a new epoll fd of the app's (up to 64 at a time; a slot
 * whose fd was closed is reused). Preserves errno. */
void merge_epoll_created(int epfd);

/* Adds cfd to every known epoll set that has a registration of the file
 * with inode ino (any fd number: dup copies too), with its events and
 * data. Preserves errno. Not async-signal-safe (stdio-free, but reads
 * /proc). */
void merge_epoll_follow(uint64_t ino, int cfd);

struct merge_ep_reg {
	uint32_t events;
	uint64_t data;
};

/* One line of an epoll fd's fdinfo ("tfd: FD events: HEX data: HEX pos:N
 * ino:HEX sdev:HEX"): true with *r when it registers the file with inode
 * ino. Pure. */
bool merge_epoll_parse(const char *line, uint64_t ino, struct merge_ep_reg *r);

#endif
