#define _GNU_SOURCE
#include "rpc.h"

#include <errno.h>
#include <string.h>

#include "channel.h"
#include "messages.h"
#include "pool_refill.h"
#include "session.h"

/* One request with one transparent reconnect. Returns RPC_OK with *rep
 * (caller frees) and *rfd (for a successful reply), or RPC_FALLBACK (the
 * session is away or disabled now). Preserves errno. */
static int request(const Slim__Request *req, Slim__Reply **rep, int *rfd)
{
	int cs, r = RPC_FALLBACK, saved = errno, err = 0;
	struct msg_why why;

	if (channel_held_here() || slim_disabled())
		return RPC_FALLBACK;
	channel_lock(&cs);
	for (int attempt = 0; attempt < 2 && !slim_disabled(); attempt++) {
		enum session_conn c = session_connect();
		enum msg_result e;
		int fd;

		if (c == CONN_GAVE_UP)
			break;
		if (c == CONN_DOWN) {
			session_fail(FAULT_UNREACHABLE, strerror(errno));
			break;
		}
		fd = channel_fd();
		/* A pool reply still on its way comes first. */
		e = pool_refill_collect(fd, true, &why);
		if (e == MSG_OK)
			e = msg_roundtrip(fd, req, rep, rfd, &why);
		if (e == MSG_OK) {
			r = RPC_OK;
			break;
		}
		if (e == MSG_PROTOCOL) {
			session_fail(FAULT_BAD_REPLY, why.text);
			channel_drop(fd);
			break;
		}
		err = errno;
		channel_drop(fd);
	}
	if (r != RPC_OK && !slim_disabled())
		session_fail(FAULT_LOST, strerror(err));
	channel_unlock(cs);
	errno = saved;
	return r;
}

/* request() for connect and listen. RPC_OK with *rep (a successful reply:
 * caller frees) and *hostfd (caller owns); the positive errno the router
 * refused with (EACCES, not registered, disables slim and gives
 * RPC_FALLBACK instead); or RPC_FALLBACK. */
static int ask(const Slim__Request *req, Slim__Reply **rep, int *hostfd)
{
	int e;

	if (request(req, rep, hostfd) != RPC_OK)
		return RPC_FALLBACK;
	e = (*rep)->error;
	if (!e)
		return RPC_OK;
	if (e == EACCES) {
		session_fail(FAULT_REFUSED, (*rep)->message ? (*rep)->message : strerror(e));
		e = RPC_FALLBACK;
	}
	slim__reply__free_unpacked(*rep, NULL);
	return e;
}

int rpc_connect(struct slim_ep dst, struct slim_ep *underlay, int *hostfd)
{
	Slim__Request req = SLIM__REQUEST__INIT;
	Slim__ConnectRequest c = SLIM__CONNECT_REQUEST__INIT;
	Slim__Reply *rep;
	int r;

	c.vip = dst.ip;
	c.port = dst.port;
	req.body_case = SLIM__REQUEST__BODY_CONNECT;
	req.connect = &c;
	r = ask(&req, &rep, hostfd);
	if (r != RPC_OK)
		return r;
	underlay->ip = rep->connect->underlay_ip;
	underlay->port = (uint16_t)rep->connect->port;
	slim__reply__free_unpacked(rep, NULL);
	return RPC_OK;
}

int rpc_listen(uint32_t bound_ip, uint16_t port, int backlog, struct slim_ep *vaddr, int *hostfd)
{
	Slim__Request req = SLIM__REQUEST__INIT;
	Slim__ListenRequest l = SLIM__LISTEN_REQUEST__INIT;
	Slim__Reply *rep;
	int r;

	l.port = port;
	l.backlog = backlog;
	l.has_bound_ip = true;
	l.bound_ip = bound_ip;
	req.body_case = SLIM__REQUEST__BODY_LISTEN;
	req.listen = &l;
	r = ask(&req, &rep, hostfd);
	if (r != RPC_OK)
		return r;
	vaddr->ip = rep->listen->vip;
	vaddr->port = (uint16_t)rep->listen->port;
	slim__reply__free_unpacked(rep, NULL);
	return RPC_OK;
}
