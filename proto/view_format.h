/* The view file: the router<->libslim contract read without a message,
 * as slim.proto is the one read through the socket.
 *
 * A small file (on tmpfs, beside the router's state file) that the router
 * maps read-write and every libslim maps read-only through an fd the router
 * opened O_RDONLY for it (the Hello reply carries it), so libslim resolves
 * virtual IPs and learns the router's state without a system call. (A BPF
 * array map would not do: the kernel refuses to mmap a map through a
 * read-only fd.) The file outlives router restarts like the pinned maps.
 *
 * The router writes it under a seqlock: seq is odd while a write is in
 * progress; a reader retries until it sees the same even seq before and
 * after its read. Host byte order (user space only). The layout is fixed:
 * a reader of one build and a writer of another must agree on it. */
#ifndef SLIM_VIEW_FORMAT_H
#define SLIM_VIEW_FORMAT_H

#include <linux/types.h>

/* Routes the view holds. The router keeps the routes trie and the view in
 * step, so this equals the trie's size (SLIM_MAX_ROUTES in slim_maps.h;
 * the router asserts it). */
#define SLIM_VIEW_MAX_ROUTES 128

enum slim_view_state {
	SLIM_VIEW_EMPTY = 0,   /* never written */
	SLIM_VIEW_RUNNING = 1, /* a router serves this host */
	SLIM_VIEW_AWAY = 2,    /* stopped, maps and programs kept for the next one */
	SLIM_VIEW_RETIRED = 3, /* stopped for good: sockets it stamped are useless */
};

struct slim_view_route {
	__u32 subnet;
	__u32 prefix_len;
	__u32 underlay_ip;
	__u32 port;
};

struct slim_view {
	__u32 seq;
	__u32 state; /* enum slim_view_state */
	/* Changes whenever the owner stamps of earlier sockets stop being
	 * valid (new maps): libslim drops its pool of pre-stamped sockets. */
	__u32 epoch;
	__u32 n_routes;
	struct slim_view_route routes[SLIM_VIEW_MAX_ROUTES];
};

#endif
