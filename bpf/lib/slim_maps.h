/* Map layout and the overlay TCP option, shared by the BPF programs and the
 * router (and the BPF path test). Everything in maps and on the wire is in
 * NETWORK byte order. The view file the router publishes for libslim is
 * not a map: its format is proto/view_format.h. */
#ifndef SLIM_MAPS_H
#define SLIM_MAPS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#include "abi.h"

/* RFC 6994 experimental option: kind 253 + 2-byte ExID. */
#define SLIM_OPT_KIND 253
#define SLIM_OPT_EXID 0x534c /* "SL" */
#define SLIM_OPT_LEN 14	     /* kind, len, exid(2), src(4), dst(4), dport(2) */

/* The option as it appears in the SYN. */
struct slim_tcp_opt {
	__u8 kind;
	__u8 len;
	__u16 exid;
	__u32 src_ip;
	__u32 dst_ip;
	__u16 dst_port;
} __attribute__((packed));

#define SLIM_LISTENER_SLOTS 8

/* A virtual endpoint: the key of the listeners SOCKHASH. */
struct slim_vaddr {
	__u32 ip;
	__u16 port;
	/* 0 for a router listener and the first listener of a vip:port; the
	 * next sockets of an SO_REUSEPORT group the app listens on take the
	 * next free slots (SLIM_LISTENER_SLOTS), and the reuseport program
	 * spreads connections over them. */
	__u16 slot;
};

/* owner sk_storage, on every host socket the router hands out. vip and
 * container_id are written by the router only: the virtual source on the
 * wire comes from here. dst is a client's virtual destination, written by
 * the connect4 program from the app's own connect() (0 until then), or a
 * listener's virtual address as the app bound it (0.0.0.0 or its vip, and
 * the virtual port), written by the router (listen requests) or by the bind4
 * program (a pool socket the app binds). One storage per socket: one
 * allocation, one lookup per sockops callback.
 *
 * owner.flags: the app bound the socket to its vip or 0.0.0.0 (libslim
 * passes 255.255.255.255 for 0.0.0.0) and the bind4 program bound it to the
 * reserved port instead: dst is the address the app bound, and listen()
 * files the socket under the container's vip and that port (sockops). */
#define SLIM_OWNER_LISTENER 1 /* SLIM_BIND_ANY_MARK: abi.h */

struct slim_owner {
	__u32 vip;
	__u32 container_id;
	__u32 dst_ip;
	__u16 dst_port;
	__u16 flags; /* SLIM_OWNER_*: written by the bind4 program */
};

/* stamp_arm (one-entry array, key 0): arms the sock_create program
 * (bpf/sock_create.bpf.c) for one router thread. While tid is set and left
 * is not 0, every AF_INET TCP socket that thread creates gets its owner
 * storage at creation: {vip, container_id, dst 0:0, flags 0}, exactly what
 * the router's own stamp (hostsock_stamp_owner) writes, and left counts
 * down. The router arms it before a pool batch and disarms it after (tid
 * 0): two map updates per batch instead of one per socket. The thread is
 * named by its id in the pid namespace given by pidns_dev/pidns_ino (the
 * st_dev and st_ino of the router's /proc/self/ns/pid), so a router in a
 * pid namespace of its own matches too. Not pinned: each router has its
 * own, read only by its own program. */
struct slim_stamp_arm {
	__u64 pidns_dev;
	__u64 pidns_ino;
	__u32 tid;	    /* 0: disarmed */
	__u32 left;	    /* sockets still to stamp: a batch never stamps more */
	__u32 vip;	    /* network byte order, as owner.vip */
	__u32 container_id; /* network byte order, as owner.container_id */
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

/* app_opts sk_storage: the values the app itself gave the options slim
 * sets on its sockets for its own use (bind4: SO_REUSEADDR and SO_REUSEPORT
 * on a listener, SO_REUSEADDR on a client's chosen source port; sockops:
 * TCP_SAVE_SYN on every listener; the router: all three on the listeners
 * it makes). Written by the setsockopt program when the app sets one of
 * them on a stamped (owner) or accepted (peer) socket; reported by the
 * getsockopt program instead of the kernel's value. No record reads as
 * all zero, each option's default. A listener's record is copied to the
 * sockets it accepts (BPF_F_CLONE), as the kernel copies the options. */
struct slim_app_opts {
	__u8 reuseaddr; /* SO_REUSEADDR: 0 or 1 */
	__u8 reuseport; /* SO_REUSEPORT: 0 or 1 */
	__u8 save_syn;	/* TCP_SAVE_SYN: 0, 1 or 2 */
	__u8 pad;
};

#define SLIM_MAX_LISTENERS 65536

/* tw (LRU hash): a virtual address a slim listener serves -> when (the
 * kernel's monotonic clock, bpf_ktime_get_ns) one of the connections
 * accepted for it last sent our FIN first, from ESTABLISHED or SYN_RECV
 * into FIN_WAIT1 (sockops, at the state change): the start of a
 * TIME_WAIT the container would see on that port. The getsockopt program
 * answers SLIM_TW_LEFT from it (abi.h). An address whose connections all
 * closed long ago is the least recently used: a full map forgets it first,
 * and an entry older than SLIM_TW_LEN_NS means nothing anyway. */
struct slim_tw_key {
	__u32 ip;   /* the container's vip */
	__u16 port; /* the virtual port */
	__u16 pad;
};
#define SLIM_TW_ENTRIES 16384

/* live hash: the vip (network byte order) of each container this host's
 * router has now -> that container's id (network byte order, as
 * owner.container_id of its sockets), or 0 for a container whose id is
 * unknown (restored from a state line without one: any stamp passes).
 * Written by the router at container add and delete (and made to match its
 * registry at start-up); connect4 and bind4 refuse a stamped socket whose
 * vip is not in it or maps to another id, so a socket a deleted
 * container's process still holds reaches nothing, even after a new
 * container got the same vip. Sized SLIM_MAX_CONTAINERS (below). */

/* routes LPM trie: virtual subnet -> the host that owns it. Written by the
 * router, read by the connect4 program. An entry with underlay_ip 0 is the
 * subnet of a host that left the cluster: connect4 refuses a connect to it
 * with EHOSTUNREACH. Sized for thousands of hosts (the trie allocates per
 * entry, so room costs nothing until used); a pinned trie of another size
 * is replaced at start-up, not reused (the router rewrites it anyway). */
#define SLIM_MAX_ROUTES 8192
struct slim_route_key {
	__u32 prefixlen; /* LPM trie keys start with the prefix length */
	__u32 subnet;
};
struct slim_route_val {
	__u32 underlay_ip;
	__u16 port;
	__u16 pad;
};

/* The slim-to-plain translation ("Mixed peers" in docs/architecture.md):
 * a SYN to this host's reserved port whose virtual destination has no slim
 * listener is turned into a connection of the plain container network
 * (client vIP:port -> container vIP:vport) by the tc programs of
 * bpf/tc_nat.bpf.c, and so is every later packet of it, both ways.
 *
 * nat (LRU hash): the host connection as it arrives at the server host,
 * keyed by its client end (the server end is this host's reserved port,
 * kept in the value and checked), -> the container connection it stands
 * for and where to deliver it. Written by the tc program at every SYN that
 * carries the option (a SYN that goes to a slim listener deletes it), read
 * by both tc programs. */
struct slim_nat_key {
	__u32 client_ip;   /* the client host's underlay address */
	__u16 client_port; /* the client host socket's port (= the client vIP's port) */
	__u16 pad;
};
struct slim_nat_val {
	__u32 vsrc;	  /* client container's vIP */
	__u32 vdst;	  /* server container's vIP */
	__u32 host_ip;	  /* this host's underlay address the client connected to */
	__u32 ctr_if;	  /* the server container's host-side veth (ifindex) */
	__u32 client_if;  /* where the client's SYN came in (lo: the same host) */
	__u16 vport;	  /* the virtual port the client connected to */
	__u16 host_port;  /* the reserved port */
	__u8 host_mac[6]; /* ctr_if's MAC: the source of frames into the container */
	__u8 ctr_mac[6];  /* the container interface's MAC */
	/* Set once seen (each by one direction's program, so no two CPUs
	 * write the same byte): a connection with a FIN each way or a RST is
	 * over, and a router may stop for good without breaking it. */
	__u8 fin_client; /* a FIN from the client */
	__u8 fin_server; /* a FIN from the container */
	__u8 reset;	 /* a RST, either way */
	__u8 pad;
};
#define SLIM_NAT_ENTRIES 65536

/* nat_ports (array of 64-bit words): bit p set once a translated
 * connection had client port p. Segments whose client port (the source
 * port from the client, the destination port from the container) has no
 * bit are not translated, and the tc programs let them go without looking
 * anything else up: the usual slim and plain segment costs a bit test.
 * Bits are never cleared (a port once used costs a lookup more). */
#define SLIM_NAT_PORT_WORDS (65536 / 64)

/* ctr_ifs (hash): a registered container's vIP -> its host-side veth and
 * both MACs. Written by the router at `container add` (router/nat.c),
 * removed at `container del`; read by the tc program at each SYN. */
struct slim_ctr_if {
	__u32 ifindex;
	__u8 host_mac[6];
	__u8 ctr_mac[6];
};
#define SLIM_MAX_CONTAINERS 1024

/* path_stats (per-CPU array): connections by path, for `slimctl status`. */
enum slim_path {
	SLIM_PATH_ACCELERATED = 0,   /* a slim listener's accepted socket (sockops) */
	SLIM_PATH_SLIM_TO_PLAIN = 1, /* SYNs translated to a plain server (tc) */
	SLIM_PATH_PLAIN_TO_SLIM = 2, /* SYN-ACKs of a slim listener's container side (tc) */
	SLIM_PATH_COUNT
};

/* Who may speak for which virtual addresses at the reserved port: the
 * reuseport program takes an overlay option only from the underlay address
 * of the host that owns the option's source vIP (routes trie). A SYN that
 * fails is refused (SK_DROP: the kernel answers it with a RST, as a closed
 * port would) and counted in `refused` by reason.
 *
 * hosts (hash): the underlay address of every live cluster host -> 1.
 * Written by the router with the routes trie (router/hosts_map.c); read
 * only to tell the two reasons apart, never on an accepted SYN. */
#define SLIM_MAX_HOSTS SLIM_MAX_ROUTES

/* refused (per-CPU array): refused SYNs (and SYN-cookie ACKs) by reason. */
enum slim_refuse {
	/* The IP source is not a live cluster host's underlay address. */
	SLIM_REFUSE_NOT_A_HOST = 0,
	/* A cluster host, but the option's source vIP is not in its subnet. */
	SLIM_REFUSE_FOREIGN_SUBNET = 1,
	SLIM_REFUSE_COUNT
};

#endif
