/* Layout shared by redirect.bpf.c and its loader (redirect.c). Addresses and
 * ports in the key are in NETWORK byte order. */
#ifndef SLIM_REDIRECT_MAPS_H
#define SLIM_REDIRECT_MAPS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* The SOCKHASH key: one TCP socket's own 4-tuple as it sees it. The peer of
 * a same-host pair is found under the swapped tuple. */
struct slim_rd_key {
	__u32 local_ip;
	__u32 remote_ip;
	__u16 local_port;
	__u16 remote_port;
};

/* Per-socket decision (sk_storage, created when the socket enters the
 * SOCKHASH). A direction may go from REDIRECT to TCP but never back: the
 * receiver (tcp_bpf_recvmsg) drains redirected data before its TCP receive
 * queue, so only that order of the two paths keeps the byte stream in
 * order. */
enum slim_rd_mode {
	SLIM_RD_UNDECIDED = 0, /* nothing sent yet */
	SLIM_RD_REDIRECT = 1,  /* every byte so far went to the peer's ingress queue */
	SLIM_RD_TCP = 2,       /* through the TCP stack, for the rest of the connection */
};

struct slim_rd_state {
	__u32 mode; /* enum slim_rd_mode */
};

/* Counters (a per-CPU array of one entry; user space sums the CPUs). */
struct slim_rd_stats {
	__u64 inserted;		/* sockets put into the SOCKHASH */
	__u64 insert_failed;	/* bpf_sock_hash_update or storage refused */
	__u64 redirected_msgs;	/* sendmsg chunks delivered to the peer's ingress */
	__u64 redirected_bytes; /* their size */
	__u64 tcp_msgs;		/* chunks that went through TCP on a SOCKHASH socket */
	__u64 fallbacks;	/* directions switched (or decided) to TCP */
};

#define SLIM_RD_MAX_SOCKS 65536

#endif
