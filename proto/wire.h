/* Framing for the libslim <-> router protocol: one protobuf message per
 * SOCK_SEQPACKET packet, file descriptors beside it as SCM_RIGHTS. */
#ifndef SLIM_WIRE_H
#define SLIM_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "slim.pb-c.h"

/* 2: hello hands out the view file (was: the peer map); pool requests.
 * 3: the view's routes are a hash table (view_format.h, SLIM_VIEW_FORMAT);
 * hello carries no routes. */
#define SLIM_PROTO_VERSION 3
/* Largest request the router accepts, and largest reply libslim accepts
 * (hello, connect, listen). A bigger one is refused with EMSGSIZE. */
#define SLIM_WIRE_MAX 4096
/* Largest packet anyone sends: a status reply listing many containers. Only
 * slimctl receives packets this big. */
#define SLIM_WIRE_MAX_REPLY 65536
/* Most fds one packet may carry: a full pool reply. */
#define SLIM_POOL_MAX 64
#define SLIM_WIRE_MAX_FDS SLIM_POOL_MAX

/* Sends buf (len bytes) with nfds descriptors attached. Retries EINTR.
 * Returns 0, or -1 with errno set (EMSGSIZE if len > SLIM_WIRE_MAX_REPLY). The fds
 * stay owned by the caller. */
int slim_wire_send(int sock, const void *buf, size_t len, const int *fds, size_t nfds);

/* Receives one packet into buf (cap bytes) and up to maxfds descriptors into
 * fds (received with MSG_CMSG_CLOEXEC), setting *nfds. Retries EINTR.
 * Returns the packet length (0 means the peer closed; an empty packet reads
 * the same, and any fds sent with it are closed), or -1 with errno:
 * EMSGSIZE if the packet or its fds did not fit, EMFILE if only the fds were
 * cut short (no free fd numbers here, usually; any fds that did arrive are
 * closed with slim_wire_drop_fd and *nfds is 0). On success the caller owns
 * the fds. */
ssize_t slim_wire_recv(int sock, void *buf, size_t cap, int *fds, size_t *nfds, size_t maxfds);

/* For slim_wire_recv_flags: fds the kernel could not install because the
 * receiver ran out of fd numbers (MSG_CTRUNC alone) are not an error: the
 * ones that did arrive are returned. For pool replies, whose sockets are
 * each useful on their own. */
#define SLIM_WIRE_SHORT_FDS_OK 0x40000000

/* slim_wire_recv with extra recvmsg flags (MSG_DONTWAIT: -1 with EAGAIN
 * when no packet is waiting). */
ssize_t slim_wire_recv_flags(int sock, void *buf, size_t cap, int *fds, size_t *nfds, size_t maxfds,
			     int flags);

/* Closes a descriptor that an untrusted peer sent, without letting the
 * close block: a TCP socket with SO_LINGER set and unsent data would
 * otherwise hold close() for up to its linger time when ours is the last
 * reference. Keeps errno. */
void slim_wire_drop_fd(int fd);

/* Packs and sends a request/reply. Returns 0 or -1 with errno. */
int slim_wire_send_request(int sock, const Slim__Request *req, const int *fds, size_t nfds);
int slim_wire_send_reply(int sock, const Slim__Reply *rep, const int *fds, size_t nfds);

/* True when name is 1..63 characters of [A-Za-z0-9_.-]: the rule for host
 * names, which end up in log lines, paths, etcd keys and JSON. */
bool slim_name_ok(const char *name);

/* Longest container name: room for a container runtime's 64-hex-digit id
 * (the CNI plugin registers containers under CNI_CONTAINERID) with a prefix. */
#define SLIM_CONTAINER_NAME_MAX 127

/* True when name is 1..SLIM_CONTAINER_NAME_MAX characters of
 * [A-Za-z0-9_.-]: the rule for container names (log lines, the state file,
 * JSON). */
bool slim_container_name_ok(const char *name);

/* Writes the printf-style reason into why (if whylen > 0) and returns err,
 * so that a failed check reads as one line: return slim_fail(EINVAL, ...). */
int slim_fail(int err, char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Checks every field of a decoded request against the rules in slim.proto.
 * Returns 0 if valid, else a positive errno (EINVAL, EPROTO) and writes a
 * one-line reason into why. */
int slim_validate_request(const Slim__Request *req, char *why, size_t whylen);

/* Same for a reply, as the receiver of `expected` (the request's body case). */
int slim_validate_reply(const Slim__Reply *rep, Slim__Request__BodyCase expected, char *why,
			size_t whylen);

#endif
