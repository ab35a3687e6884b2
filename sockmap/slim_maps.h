/* Map layout and the overlay TCP option, shared by the BPF programs and user
 * space. Everything in maps and on the wire is in NETWORK byte order. */
#ifndef SLIM_MAPS_H
#define SLIM_MAPS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* RFC 6994 experimental option: kind 253 + 2-byte ExID. */
#define SLIM_OPT_KIND 253
#define SLIM_OPT_EXID 0x534c /* "SL" */
#define SLIM_OPT_LEN 14      /* kind, len, exid(2), src(4), dst(4), dport(2) */

/* The option as it appears in the SYN. */
struct slim_tcp_opt {
	__u8 kind;
	__u8 len;
	__u16 exid;
	__u32 src_ip;
	__u32 dst_ip;
	__u16 dst_port;
} __attribute__((packed));

/* A virtual endpoint: the key of the listeners SOCKHASH, the value of the
 * intent storage. */
struct slim_vaddr {
	__u32 ip;
	__u16 port;
	__u16 pad; /* always 0: part of the hash key */
};

/* owner sk_storage: written by the router only, on every host socket it
 * hands out. The virtual source on the wire comes from here. */
struct slim_owner {
	__u32 vip;
	__u32 container_id;
};

/* peer sk_storage: created by sockops at PASSIVE_ESTABLISHED on an accepted
 * socket from the overlay option of the saved SYN. The peer's port is the
 * host connection's own source port (the client reports the same one from
 * getsockname), so it is not stored here. */
struct slim_peer {
	__u32 peer_ip;
	__u32 local_ip;
	__u16 local_port;
	__u16 pad;
};

#define SLIM_MAX_LISTENERS 65536

#endif
