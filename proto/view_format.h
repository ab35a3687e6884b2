/* The view file: the router<->libslim contract read without a message,
 * as slim.proto is the one read through the socket.
 *
 * A file (on tmpfs, beside the router's state file) that the router maps
 * read-write and every libslim maps read-only through an fd the router
 * opened O_RDONLY for it (the Hello reply carries it), so libslim resolves
 * virtual IPs and learns the router's state without a system call. (A BPF
 * array map would not do: the kernel refuses to mmap a map through a
 * read-only fd.) The file outlives router restarts like the pinned maps.
 *
 * Routes: an open-addressing hash table of subnets keyed by (subnet,
 * prefix length), plus the list of the prefix lengths in use, longest
 * first. A lookup probes one table slot per distinct prefix length (one in
 * a cluster whose hosts all have a /24), so it costs the same with 2 hosts
 * as with thousands. The table is at most half full (linear probing then
 * averages under 2.5 probes for a miss).
 *
 * Two tables: the router fills the one readers do not use, then flips
 * `active` under a seqlock (seq odd while the header changes; a reader
 * retries until it sees the same even seq before and after its read). A
 * reader that started before a flip sees seq changed and retries, so it
 * never reads a table being refilled, and the window in which readers
 * retry is a few stores long however many routes change. Host byte order
 * (user space only). The layout is fixed: a reader of one build and a
 * writer of another must agree on it (SLIM_VIEW_FORMAT). */
#ifndef SLIM_VIEW_FORMAT_H
#define SLIM_VIEW_FORMAT_H

#include <linux/types.h>

/* Increases with every layout change; a reader ignores a view of another
 * format (treats it as no view). */
#define SLIM_VIEW_FORMAT 0x534c5602u /* "SLV" 2 */

/* Routes the view holds: live hosts and the subnets of hosts that left.
 * The router keeps the routes trie and the view in step, so this equals the
 * trie's size (SLIM_MAX_ROUTES in slim_maps.h; the router asserts it). */
#define SLIM_VIEW_MAX_ROUTES 8192
/* Slots per table: a power of two, twice the routes. */
#define SLIM_VIEW_SLOTS (2 * SLIM_VIEW_MAX_ROUTES)

enum slim_view_state {
	SLIM_VIEW_EMPTY = 0,   /* never written */
	SLIM_VIEW_RUNNING = 1, /* a router serves this host */
	SLIM_VIEW_AWAY = 2,    /* stopped, maps and programs kept for the next one */
	SLIM_VIEW_RETIRED = 3, /* stopped for good: sockets it stamped are useless */
};

/* slim_view_route.flags */
#define SLIM_VIEW_USED 1 /* the slot holds a route (0: empty, ends a probe) */
#define SLIM_VIEW_GONE 2 /* the host left: connects fail (EHOSTUNREACH) */

struct slim_view_route {
	__u32 subnet;
	__u8 prefix_len;
	__u8 flags; /* SLIM_VIEW_* */
	__u16 port;
	__u32 underlay_ip;
};

struct slim_view_table {
	__u32 n_routes;
	__u32 n_plens;	/* entries of plens in use, 0..33 */
	__u8 plens[36]; /* distinct prefix lengths of the routes, longest first */
	struct slim_view_route slots[SLIM_VIEW_SLOTS];
};

struct slim_view {
	__u32 seq;
	__u32 state; /* enum slim_view_state */
	/* Changes whenever the owner stamps of earlier sockets stop being
	 * valid (new maps): libslim drops its pool of pre-stamped sockets. */
	__u32 epoch;
	__u32 format; /* SLIM_VIEW_FORMAT */
	__u32 active; /* the table readers use: 0 or 1 */
	__u32 pad;
	struct slim_view_table t[2];
};

/* The home slot of (subnet, prefix_len) in a table. Writer and reader must
 * use this very function. */
static inline __u32 slim_view_hash(__u32 subnet, __u32 prefix_len)
{
	__u32 h = (subnet ^ (prefix_len * 0x9e3779b9u)) * 0x85ebca6bu;

	h ^= h >> 15;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h & (SLIM_VIEW_SLOTS - 1);
}

#endif
