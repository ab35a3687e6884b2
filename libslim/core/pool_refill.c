#define _GNU_SOURCE
#include "pool_refill.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "channel.h"
#include "config.h"
#include "init.h"
#include "pool.h"
#include "session.h"
#include "wire.h"

#define POOL_FIRST 2
static uint32_t next_batch = POOL_FIRST; /* under the channel lock */

enum msg_result pool_refill_collect(int fd, bool block, struct msg_why *why)
{
	int fds[SLIM_WIRE_MAX_FDS];
	size_t nfds;
	Slim__Reply *rep;
	enum msg_result r;

	if (!channel_pending())
		return MSG_OK;
	r = msg_receive(fd, SLIM__REQUEST__BODY_POOL, block ? 0 : MSG_DONTWAIT, &rep, fds, &nfds,
			why);
	if (r == MSG_TRANSPORT && !block && (errno == EAGAIN || errno == EWOULDBLOCK))
		return MSG_OK;
	if (r != MSG_OK)
		return r;
	channel_set_pending(false);
	if (rep->error == 0) {
		pool_put(fds, nfds, rep->pool->epoch);
		if (next_batch < POOL_BATCH)
			next_batch *= 2;
	}
	slim__reply__free_unpacked(rep, NULL);
	return MSG_OK;
}

void pool_refill(bool block)
{
	struct msg_why why;
	enum msg_result e;
	int cs, fd, saved = errno;

	if (!slim_config()->fastpath || channel_held_here() || !session_is_active())
		return;
	/* The common case: enough sockets, nothing on its way; or a batch on
	 * its way and half the low mark still left. A look for the reply
	 * costs two system calls (the connection's inode check and a
	 * recvmsg), and the reply has long arrived by the time a busy
	 * process is down to POOL_LOW / 2: one look then collects it. */
	if (!block && pool_count() >= (channel_pending_hint() ? POOL_LOW / 2 : POOL_LOW))
		return;
	if (block)
		channel_lock(&cs);
	else if (!channel_trylock(&cs))
		return; /* another thread is talking to the router */
	fd = channel_fd();
	if (fd < 0) {
		/* Only a caller that is about to wait anyway reconnects. */
		enum session_conn c = block ? session_connect() : CONN_GAVE_UP;

		if (c == CONN_DOWN)
			session_fail(FAULT_UNREACHABLE, strerror(errno));
		if (c != CONN_UP)
			goto out;
		fd = channel_fd();
	}
	e = pool_refill_collect(fd, block, &why);
	if (e == MSG_OK && !channel_pending() && pool_count() < POOL_LOW) {
		e = msg_send_pool(fd, next_batch, block && pool_count() == 0);
		if (e == MSG_OK)
			channel_set_pending(true);
	}
	if (e == MSG_OK && block)
		e = pool_refill_collect(fd, true, &why);
	if (e == MSG_PROTOCOL) {
		session_fail(FAULT_BAD_REPLY, why.text);
		channel_drop(fd);
	} else if (e == MSG_TRANSPORT) {
		/* The router went away (restart): the next request reconnects. */
		channel_drop(fd);
	}
out:
	channel_unlock(cs);
	errno = saved;
}

void pool_refill_fork_child(void)
{
	next_batch = POOL_FIRST;
}
