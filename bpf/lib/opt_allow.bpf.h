/* The socket options an app may set on a host socket slim handed it (the
 * guard of bpf/guard.bpf.c). A container socket's options act on that
 * socket alone; on a host socket some reach the host: its routing and
 * devices (SO_BINDTODEVICE, SO_MARK, IP_TRANSPARENT, IP_FREEBIND...), the
 * reserved port's reuseport group (SO_ATTACH_REUSEPORT_*BPF,
 * SO_INCOMING_CPU), the kernel's limits (SO_*BUFFORCE, SO_BUSY_POLL) or
 * the connection's identity (TCP_REPAIR, TCP_MD5SIG, TCP_ULP...). So an
 * option is allowed only if it is listed here: what apps set for their own
 * connections (docs/architecture.md, "Guards", has the table).
 *
 * Only the levels an AF_INET TCP socket implements are judged (SOL_SOCKET,
 * SOL_IP, SOL_TCP), and in each only the option numbers the kernel knows
 * (below the bound of each level): the kernel answers the others with
 * ENOPROTOOPT itself (no ULP can be installed: TCP_ULP is not listed), as
 * it would on a container socket. Numbers are the x86-64 uapi values. */
#ifndef SLIM_OPT_ALLOW_BPF_H
#define SLIM_OPT_ALLOW_BPF_H

#include "sockopt.bpf.h"

#define SOL_IP 0

/* SOL_SOCKET */
#define SO_SNDBUF 7
#define SO_RCVBUF 8
#define SO_KEEPALIVE 9
#define SO_OOBINLINE 10
#define SO_PRIORITY 12
#define SO_LINGER 13
#define SO_RCVLOWAT 18
#define SO_SNDLOWAT 19
#define SO_RCVTIMEO_OLD 20
#define SO_SNDTIMEO_OLD 21
#define SO_TIMESTAMP_OLD 29
#define SO_TIMESTAMPNS_OLD 35
#define SO_TIMESTAMPING_OLD 37
#define SO_RXQ_OVFL 40
#define SO_PEEK_OFF 42
#define SO_SELECT_ERR_QUEUE 45
#define SO_MAX_PACING_RATE 47
#define SO_ZEROCOPY 60
#define SO_TIMESTAMP_NEW 63
#define SO_TIMESTAMPNS_NEW 64
#define SO_TIMESTAMPING_NEW 65
#define SO_RCVTIMEO_NEW 66
#define SO_SNDTIMEO_NEW 67
#define SO_BUF_LOCK 72

/* SOL_TCP */
#define TCP_NODELAY 1
#define TCP_MAXSEG 2
#define TCP_CORK 3
#define TCP_KEEPIDLE 4
#define TCP_KEEPINTVL 5
#define TCP_KEEPCNT 6
#define TCP_SYNCNT 7
#define TCP_LINGER2 8
#define TCP_DEFER_ACCEPT 9
#define TCP_WINDOW_CLAMP 10
#define TCP_QUICKACK 12
#define TCP_CONGESTION 13
#define TCP_THIN_LINEAR_TIMEOUTS 16
#define TCP_THIN_DUPACK 17
#define TCP_USER_TIMEOUT 18
#define TCP_FASTOPEN 23
#define TCP_NOTSENT_LOWAT 25
#define TCP_FASTOPEN_CONNECT 30
#define TCP_INQ 36

/* SOL_IP */
#define IP_TOS 1
#define IP_TTL 2
#define IP_MTU_DISCOVER 10
#define IP_RECVERR 11
#define IP_RECVTOS 13
#define IP_MINTTL 21

#define BIT(n) (1ull << (n))

/* Options 0..63 and 64..127 of SOL_SOCKET. */
#define SLIM_SOL_SOCKET_LO                                                                         \
	(BIT(SO_REUSEADDR) | BIT(SO_SNDBUF) | BIT(SO_RCVBUF) | BIT(SO_KEEPALIVE) |                 \
	 BIT(SO_OOBINLINE) | BIT(SO_PRIORITY) | BIT(SO_LINGER) | BIT(SO_REUSEPORT) |               \
	 BIT(SO_RCVLOWAT) | BIT(SO_SNDLOWAT) | BIT(SO_RCVTIMEO_OLD) | BIT(SO_SNDTIMEO_OLD) |       \
	 BIT(SO_TIMESTAMP_OLD) | BIT(SO_TIMESTAMPNS_OLD) | BIT(SO_TIMESTAMPING_OLD) |              \
	 BIT(SO_RXQ_OVFL) | BIT(SO_PEEK_OFF) | BIT(SO_SELECT_ERR_QUEUE) |                          \
	 BIT(SO_MAX_PACING_RATE) | BIT(SO_ZEROCOPY) | BIT(SO_TIMESTAMP_NEW))
#define SLIM_SOL_SOCKET_HI                                                                         \
	(BIT(SO_TIMESTAMPNS_NEW - 64) | BIT(SO_TIMESTAMPING_NEW - 64) |                            \
	 BIT(SO_RCVTIMEO_NEW - 64) | BIT(SO_SNDTIMEO_NEW - 64) | BIT(SO_BUF_LOCK - 64))
#define SLIM_SOL_TCP                                                                               \
	(BIT(TCP_NODELAY) | BIT(TCP_MAXSEG) | BIT(TCP_CORK) | BIT(TCP_KEEPIDLE) |                  \
	 BIT(TCP_KEEPINTVL) | BIT(TCP_KEEPCNT) | BIT(TCP_SYNCNT) | BIT(TCP_LINGER2) |              \
	 BIT(TCP_DEFER_ACCEPT) | BIT(TCP_WINDOW_CLAMP) | BIT(TCP_QUICKACK) | BIT(TCP_CONGESTION) | \
	 BIT(TCP_THIN_LINEAR_TIMEOUTS) | BIT(TCP_THIN_DUPACK) | BIT(TCP_USER_TIMEOUT) |            \
	 BIT(TCP_FASTOPEN) | BIT(TCP_NOTSENT_LOWAT) | BIT(TCP_SAVE_SYN) |                          \
	 BIT(TCP_FASTOPEN_CONNECT) | BIT(TCP_INQ))
#define SLIM_SOL_IP                                                                                \
	(BIT(IP_TOS) | BIT(IP_TTL) | BIT(IP_MTU_DISCOVER) | BIT(IP_RECVERR) | BIT(IP_RECVTOS) |    \
	 BIT(IP_MINTTL))

/* 1 if an app may set (level, name) on a host socket, 0 if not. The bounds
 * are past the highest number each level implements in Linux 6.18
 * (SO_* 80, TCP_* 46, IP_* 51): beyond them the kernel itself refuses. */
static __always_inline int slim_opt_allowed(int level, int name)
{
	if (name < 0)
		return 1; /* the kernel: ENOPROTOOPT */
	if (level == SOL_SOCKET) {
		if (name < 64)
			return (SLIM_SOL_SOCKET_LO >> name) & 1;
		if (name < 128)
			return (SLIM_SOL_SOCKET_HI >> (name - 64)) & 1;
		return 1;
	}
	if (level == SOL_TCP)
		return name < 64 ? (SLIM_SOL_TCP >> name) & 1 : 1;
	if (level == SOL_IP)
		return name < 64 ? (SLIM_SOL_IP >> name) & 1 : 1;
	return 1;
}

#undef BIT

#endif
