/* One protobuf message per SOCK_SEQPACKET packet, fds as SCM_RIGHTS. */
#include "wire.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

int slim_wire_send(int sock, const void *buf, size_t len, const int *fds, size_t nfds)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * SLIM_WIRE_MAX_FDS)];
	} ctl;
	struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};

	if (len > SLIM_WIRE_MAX_REPLY || nfds > SLIM_WIRE_MAX_FDS) {
		errno = EMSGSIZE;
		return -1;
	}
	if (nfds > 0) {
		memset(&ctl, 0, sizeof(ctl));
		msg.msg_control = ctl.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	for (;;) {
		ssize_t n = sendmsg(sock, &msg, MSG_NOSIGNAL);
		if (n >= 0)
			return 0;
		if (errno != EINTR)
			return -1;
	}
}

void slim_wire_drop_fd(int fd)
{
	/* l_onoff 0: the close returns at once whatever the sender set. Not a
	 * socket (ENOTSOCK) or not one with lingering: nothing to disarm.
	 * Raw system calls: inside libslim, the libc names are libslim's own
	 * hooks, and this runs with the channel lock held. */
	static const struct linger off = {.l_onoff = 0, .l_linger = 0};
	int e = errno;

	(void)syscall(SYS_setsockopt, fd, SOL_SOCKET, SO_LINGER, &off, sizeof(off));
	(void)syscall(SYS_close, fd);
	errno = e;
}

/* Drops every fd carried by the control messages of msg. */
static void close_passed_fds(struct msghdr *msg)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			int fd;
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			slim_wire_drop_fd(fd);
		}
	}
}

ssize_t slim_wire_recv(int sock, void *buf, size_t cap, int *fds, size_t *nfds, size_t maxfds)
{
	return slim_wire_recv_flags(sock, buf, cap, fds, nfds, maxfds, 0);
}

ssize_t slim_wire_recv_flags(int sock, void *buf, size_t cap, int *fds, size_t *nfds, size_t maxfds,
			     int flags)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * SLIM_WIRE_MAX_FDS)];
	} ctl;
	struct iovec iov = {.iov_base = buf, .iov_len = cap};
	struct msghdr msg;
	ssize_t n;
	bool short_ok = (flags & SLIM_WIRE_SHORT_FDS_OK) != 0;

	flags &= ~SLIM_WIRE_SHORT_FDS_OK;
	*nfds = 0;
	if (maxfds > SLIM_WIRE_MAX_FDS)
		maxfds = SLIM_WIRE_MAX_FDS;
	for (;;) {
		memset(&msg, 0, sizeof(msg));
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_control = ctl.buf;
		msg.msg_controllen = sizeof(ctl.buf);
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | flags);
		if (n >= 0 || errno != EINTR)
			break;
	}
	if (n < 0)
		return -1;

	/* Too long, too many fds, or fds beside nothing: refuse the whole packet
	 * and close what arrived, so a hostile peer cannot make us leak. */
	size_t got = 0;
	bool bad =
	    (msg.msg_flags & MSG_TRUNC) != 0 || ((msg.msg_flags & MSG_CTRUNC) != 0 && !short_ok);
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c && !bad; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		got += (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
	}
	if (bad || got > maxfds) {
		close_passed_fds(&msg);
		/* Only the fds were cut short (the packet itself fit): the
		 * receiver had no free fd numbers for them (or the sender sent
		 * more than the control buffer holds). */
		errno =
		    (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) == MSG_CTRUNC ? EMFILE : EMSGSIZE;
		return -1;
	}
	/* An empty packet reads as the peer's close, and callers that see a
	 * close look at no fds: drop any that came with it here. */
	if (n == 0) {
		close_passed_fds(&msg);
		return 0;
	}
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		memcpy(fds + *nfds, CMSG_DATA(c), k * sizeof(int));
		*nfds += k;
	}
	return n;
}

/* Packs any message into one packet: requests and replies share this. */
static int send_message(int sock, const ProtobufCMessage *m, const int *fds, size_t nfds)
{
	uint8_t small[SLIM_WIRE_MAX], *buf = small;
	size_t len = protobuf_c_message_get_packed_size(m);
	int r, e;

	if (len > SLIM_WIRE_MAX_REPLY) {
		errno = EMSGSIZE;
		return -1;
	}
	/* Only status replies outgrow the stack buffer; libslim's requests,
	 * sent from app threads with possibly small stacks, never do. */
	if (len > sizeof(small) && !(buf = malloc(len)))
		return -1;
	protobuf_c_message_pack(m, buf);
	r = slim_wire_send(sock, buf, len, fds, nfds);
	e = errno;
	if (buf != small)
		free(buf);
	errno = e;
	return r;
}

int slim_wire_send_request(int sock, const Slim__Request *req, const int *fds, size_t nfds)
{
	return send_message(sock, &req->base, fds, nfds);
}

int slim_wire_send_reply(int sock, const Slim__Reply *rep, const int *fds, size_t nfds)
{
	return send_message(sock, &rep->base, fds, nfds);
}
