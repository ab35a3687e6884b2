/* The messages libslim exchanges with the router (proto/slim.proto) on the
 * channel's connection: encoding, one reply read and validated, and what
 * the reply's fds must be. Every function here is called under the channel
 * lock (they share one message buffer: app threads may have small stacks)
 * and never changes the session's state: the caller decides what a failure
 * means. */
#ifndef LIBSLIM_MESSAGES_H
#define LIBSLIM_MESSAGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slim.pb-c.h"

enum msg_result {
	MSG_OK = 0,
	MSG_TRANSPORT, /* the connection failed: errno set (EAGAIN: nothing there yet) */
	MSG_PROTOCOL,  /* the router answered nonsense: the reason is in why */
};

/* A reason for MSG_PROTOCOL, for the process's one warning line. */
struct msg_why {
	char text[200];
};

/* Reads one reply to a request of kind `expected` from fd (flags: 0, or
 * MSG_DONTWAIT). MSG_OK gives *out (caller frees with
 * slim__reply__free_unpacked) and, for a successful reply, its fds in fds
 * and *nfds (caller owns them: exactly one of the right kind, or for a pool
 * reply at most the promised count; none for an error reply). Received fds
 * are never leaked, whatever the reply. fds has room for
 * SLIM_WIRE_MAX_FDS. */
enum msg_result msg_receive(int fd, Slim__Request__BodyCase expected, int flags, Slim__Reply **out,
			    int *fds, size_t *nfds, struct msg_why *why);

/* Sends req on fd (no reply may be pending) and reads its reply, which
 * carries one fd when it is a success (*rfd; -1 for an error reply).
 * Otherwise as msg_receive. */
enum msg_result msg_roundtrip(int fd, const Slim__Request *req, Slim__Reply **out, int *rfd,
			      struct msg_why *why);

/* Sends a pool request for count sockets (urgent: a socket() is waiting
 * for it). MSG_OK or MSG_TRANSPORT. */
enum msg_result msg_send_pool(int fd, uint32_t count, bool urgent);

#endif
