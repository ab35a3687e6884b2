#define _GNU_SOURCE
#include "netns_watch.h"

#include <errno.h>
#include <ev.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon.h"
#include "handlers.h"

#define CHECK_EVERY_S 1.0

struct netns_watch {
	int nl;
	struct ev_loop *loop;
	struct router *r;
	ev_io io;
	ev_timer timer;
};

struct netns_watch *netns_watch_open(char *why, size_t whylen)
{
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
	unsigned int group = RTNLGRP_NSID;
	struct netns_watch *w = calloc(1, sizeof(*w));

	if (!w) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	w->nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
	if (w->nl < 0 || bind(w->nl, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    setsockopt(w->nl, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)) != 0) {
		snprintf(why, whylen, "cannot watch network namespaces (rtnetlink): %s",
			 strerror(errno));
		if (w->nl >= 0)
			close(w->nl);
		free(w);
		return NULL;
	}
	return w;
}

/* Drains the socket; any RTM_DELNSID, or lost messages (ENOBUFS), make
 * the registry be checked now. */
static void on_readable(struct ev_loop *loop, ev_io *io, int revents)
{
	struct netns_watch *w = io->data;
	char buf[8192] __attribute__((aligned(NLMSG_ALIGNTO)));
	struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf)};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	bool check = false;
	ssize_t n;

	(void)loop;
	(void)revents;
	/* recvmsg: the sandbox allows it (recv is recvfrom, which it does not). */
	while ((n = recvmsg(w->nl, &mh, 0)) != 0) {
		if (n < 0) {
			if (errno == ENOBUFS)
				check = true;
			if (errno == EINTR || errno == ENOBUFS)
				continue;
			break;
		}
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n);
		     h = NLMSG_NEXT(h, n))
			if (h->nlmsg_type == RTM_DELNSID)
				check = true;
	}
	if (check)
		router_prune_gone(w->r);
}

static void on_timer(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct netns_watch *w = t->data;

	(void)loop;
	(void)revents;
	router_prune_gone(w->r);
}

void netns_watch_start(struct netns_watch *w, struct ev_loop *loop, struct router *r)
{
	w->loop = loop;
	w->r = r;
	ev_io_init(&w->io, on_readable, w->nl, EV_READ);
	w->io.data = w;
	ev_io_start(loop, &w->io);
	ev_timer_init(&w->timer, on_timer, CHECK_EVERY_S, CHECK_EVERY_S);
	w->timer.data = w;
	ev_timer_start(loop, &w->timer);
}

void netns_watch_close(struct netns_watch *w)
{
	if (!w)
		return;
	if (w->loop) {
		ev_io_stop(w->loop, &w->io);
		ev_timer_stop(w->loop, &w->timer);
	}
	close(w->nl);
	free(w);
}
