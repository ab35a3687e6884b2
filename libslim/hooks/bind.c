/* bind(): a pool socket bound to 0.0.0.0 or the container's vip becomes
 * the listener-to-be itself, with no swap: a container socket (the
 * reservation) is bound as the app asked, so errors (EADDRINUSE, EACCES for
 * low ports...) are the container's own and port 0 gets a real port; then
 * the host socket is bound, and the bind4 program moves it to the reserved
 * port. Every epoll registration, dup or fork copy the app makes at any
 * point then refers to the listener. Any other bind is the container's:
 * a container socket takes the pool socket's place first. */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "abi.h"
#include "common.h"
#include "fdtable.h"
#include "merge.h"
#include "real.h"
#include "reservation.h"
#include "session.h"
#include "swap.h"
#include "timewait.h"
#include "uaddr.h"
#include "v4mapped.h"

/* The address that tells the bind4 program "a listener for ep": the vip,
 * or SLIM_BIND_ANY_MARK for 0.0.0.0. */
static struct sockaddr_in listener_addr(struct slim_ep ep)
{
	struct sockaddr_in sin = slim_sin(ep);

	sin.sin_addr.s_addr = htonl(ep.ip ? ep.ip : SLIM_BIND_ANY_MARK);
	return sin;
}

enum host_bind_verdict {
	HB_DONE,     /* bound: the result is the return value (0, or -1 with errno) */
	HB_NOT_HOST, /* the host socket cannot take the address: bind a container socket */
};

/* bind() of a pool socket to ep (0.0.0.0 or our vip). HB_DONE with *r: 0
 * (fd is HOST_BOUND, or a CONTAINER bound as the app asked) or -1 with
 * errno (the container's verdict on the address; the app's socket is left
 * as it was, unbound); or HB_NOT_HOST. */
static enum host_bind_verdict host_bind(int fd, struct fd_state *st, const struct sockaddr *addr,
					socklen_t len, struct slim_ep ep, int *r)
{
	struct fd_host_bound hb = {.opts = st->u.pooled.opts, .addr = ep};
	struct sockaddr_in sin;
	int resv;

	*r = 0;
	if (!slim_active() || (ep.ip != INADDR_ANY && ep.ip != slim_vip()))
		return HB_NOT_HOST;
	/* A listener-to-be is known by its inode (its copies, its epoll
	 * registrations: merge.h); a pool socket's record came without. */
	if (!st->ino)
		st->ino = fd_inode(fd);
	resv = slim_resv_bind(fd, addr, len, hb.opts, &hb.resv, &hb.addr.port);
	if (resv == RESV_UNAFFORDABLE) {
		/* No reservation: the host socket takes the port as it is
		 * (port 0 needs the container to pick one: a container
		 * socket then, and the router's listener at listen()). */
		hb.resv = (struct slim_resv){.fd = -1, .ino = 0};
		if (ep.port == 0)
			return HB_NOT_HOST;
		sin = listener_addr(ep);
		if (real_bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
			return HB_NOT_HOST;
	} else if (resv < 0) {
		*r = -1;
		return HB_DONE;
	} else {
		sin = listener_addr(hb.addr);
		if (real_bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
			/* No bind4 program (an older router) or no route for
			 * our own vip: the reservation, bound as the app
			 * asked, becomes the app's socket, and listen() asks
			 * the router. */
			st->kind = FD_HOST_BOUND;
			st->u.host_bound = hb;
			*r = slim_resv_swap_in(fd, st);
			return HB_DONE;
		}
		slim_resv_move_high(&hb.resv);
	}
	st->kind = FD_HOST_BOUND;
	st->u.host_bound = hb;
	fdtable_set(fd, st);
	merge_note_bound();
	return HB_DONE;
}

/* bind() of a container socket: the container binds it; the address is
 * remembered (a listen on it may reach the overlay, a connect from it
 * keeps its source port). */
static int container_bind(int fd, struct fd_state *st, const struct sockaddr *addr, socklen_t len)
{
	struct slim_ep ep;
	int r, saved;

	if (st->v6 ? !slim_v6_read(addr, len, &ep) : slim_read_sin(addr, len, &ep) < 0)
		return real_bind(fd, addr, len);
	r = real_bind(fd, addr, len);
	if (r == 0) {
		saved = errno;
		merge_note_bound(); /* it may listen: the dup and epoll hooks look */
		st->u.container.bound = true;
		st->u.container.addr = ep;
		fdtable_set(fd, st);
		errno = saved;
	}
	return r;
}

SLIM_EXPORT int bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	struct fd_state st;
	struct slim_ep ep;
	int r;

	slim_tw_sweep(); /* a kept reservation whose TIME_WAIT ended lets go first */
	fdtable_lookup(fd, &st);
	switch (st.kind) {
	case FD_POOLED:
		if (slim_read_sin(addr, len, &ep) == 0 &&
		    host_bind(fd, &st, addr, len, ep, &r) == HB_DONE)
			return r;
		/* Any other bind (say 127.0.0.1): the app binds in its
		 * container. */
		if (slim_unswap(fd, &st) < 0)
			return -1;
		return container_bind(fd, &st, addr, len);
	case FD_CONTAINER:
		return container_bind(fd, &st, addr, len);
	default:
		/* HOST_BOUND is bound already: the kernel says EINVAL. */
		return real_bind(fd, addr, len);
	}
}
