#define _GNU_SOURCE
#include "messages.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/socket.h>

#include "real.h"
#include "view_reader.h"
#include "wire.h"

/* The one request or reply in flight: under the channel lock. */
static uint8_t msg_buf[SLIM_WIRE_MAX];

static void close_fds(const int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		real_close(fds[i]);
}

/* True if a successful reply's fd is what that reply hands out: a TCP/IPv4
 * socket for connect and listen (it is dup3'ed over the app's socket), the
 * view file for hello. Preserves errno. */
static bool reply_fd_fits(int fd, Slim__Request__BodyCase expected)
{
	int v, saved = errno;
	socklen_t len = sizeof(v);
	bool ok;

	if (expected == SLIM__REQUEST__BODY_HELLO) {
		ok = slim_view_fd_ok(fd);
	} else {
		ok = getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &v, &len) == 0 && v == AF_INET;
		len = sizeof(v);
		ok = ok && getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &len) == 0 && v == SOCK_STREAM;
	}
	errno = saved;
	return ok;
}

enum msg_result msg_receive(int fd, Slim__Request__BodyCase expected, int flags, Slim__Reply **out,
			    int *fds, size_t *nfds, struct msg_why *why)
{
	ssize_t n;
	Slim__Reply *rep;
	size_t want;

	why->text[0] = 0;
	*nfds = 0;
	if (expected == SLIM__REQUEST__BODY_POOL)
		flags |= SLIM_WIRE_SHORT_FDS_OK;
	n = slim_wire_recv_flags(fd, msg_buf, sizeof(msg_buf), fds, nfds, SLIM_WIRE_MAX_FDS, flags);
	if (n < 0 && errno == EMSGSIZE) {
		snprintf(why->text, sizeof(why->text), "oversized reply");
		return MSG_PROTOCOL;
	}
	if (n < 0)
		return MSG_TRANSPORT;
	if (n == 0) {
		close_fds(fds, *nfds);
		errno = ECONNRESET;
		return MSG_TRANSPORT;
	}
	rep = slim__reply__unpack(NULL, (size_t)n, msg_buf);
	if (!rep) {
		close_fds(fds, *nfds);
		snprintf(why->text, sizeof(why->text), "undecodable reply");
		return MSG_PROTOCOL;
	}
	if (slim_validate_reply(rep, expected, why->text, sizeof(why->text)) != 0)
		goto bad;
	if (rep->error) {
		close_fds(fds, *nfds);
		*nfds = 0;
		*out = rep;
		return MSG_OK;
	}
	/* Pool sockets are checked one by one as they enter the pool; fewer
	 * than promised arrive when this process is out of fd numbers (the
	 * kernel drops the rest), and those that did are still good. */
	want = expected == SLIM__REQUEST__BODY_POOL ? rep->pool->count : 1;
	if (expected == SLIM__REQUEST__BODY_POOL
		? *nfds > want
		: (*nfds != want || !reply_fd_fits(fds[0], expected)))
		goto bad;
	*out = rep;
	return MSG_OK;
bad:
	if (!why->text[0])
		snprintf(why->text, sizeof(why->text), "reply with %zu fds, or of the wrong kind",
			 *nfds);
	close_fds(fds, *nfds);
	*nfds = 0;
	slim__reply__free_unpacked(rep, NULL);
	return MSG_PROTOCOL;
}

enum msg_result msg_roundtrip(int fd, const Slim__Request *req, Slim__Reply **out, int *rfd,
			      struct msg_why *why)
{
	int fds[SLIM_WIRE_MAX_FDS];
	size_t nfds, len = slim__request__get_packed_size(req);
	enum msg_result r;

	why->text[0] = 0;
	if (len > sizeof(msg_buf)) {
		errno = EMSGSIZE;
		return MSG_TRANSPORT;
	}
	slim__request__pack(req, msg_buf);
	if (slim_wire_send(fd, msg_buf, len, NULL, 0) < 0)
		return MSG_TRANSPORT;
	r = msg_receive(fd, req->body_case, 0, out, fds, &nfds, why);
	if (r == MSG_OK)
		*rfd = nfds ? fds[0] : -1;
	return r;
}

enum msg_result msg_send_pool(int fd, uint32_t count, bool urgent)
{
	Slim__Request req = SLIM__REQUEST__INIT;
	Slim__PoolRequest p = SLIM__POOL_REQUEST__INIT;

	p.count = count;
	p.has_urgent = urgent;
	p.urgent = urgent;
	req.body_case = SLIM__REQUEST__BODY_POOL;
	req.pool = &p;
	slim__request__pack(&req, msg_buf);
	if (slim_wire_send(fd, msg_buf, slim__request__get_packed_size(&req), NULL, 0) < 0)
		return MSG_TRANSPORT;
	return MSG_OK;
}
