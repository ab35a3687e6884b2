/* The first step of serving a client: one packet off its socket, sorted
 * into what the server does next. Apart from the event loop so that the
 * fuzz harness (fuzz/fuzz_wire.c) can drive it over a socketpair. */
#ifndef SLIM_ROUTER_CLIENT_RECV_H
#define SLIM_ROUTER_CLIENT_RECV_H

#include <stddef.h>
#include <stdint.h>

enum client_packet {
	CLIENT_IDLE,	  /* nothing to read now (EAGAIN, EINTR): wait */
	CLIENT_GONE,	  /* closed, or the socket failed: drop the client */
	CLIENT_OVERSIZED, /* longer than cap or with too many fds: refuse */
	CLIENT_WITH_FDS,  /* carried descriptors (now closed): refuse */
	CLIENT_REQUEST,	  /* *len bytes in buf, no descriptors */
};

/* Reads one packet from client socket fd into buf (cap bytes). The router
 * takes no descriptors from anyone: those that came with the packet are
 * closed without blocking (slim_wire_drop_fd), never handed on. */
enum client_packet client_recv(int fd, uint8_t *buf, size_t cap, size_t *len);

#endif
