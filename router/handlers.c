/* Request handlers. The caller's identity comes from the connection
 * (SO_PEERCRED at accept); whether it is a registered container is looked up
 * again on every request, since a container can be deleted meanwhile. */
#define _GNU_SOURCE /* SCHED_IDLE */
#include "handlers.h"
#include "etcd_member.h"
#include "hostsock.h"
#include "stamp_arm.h"
#include "listeners.h"
#include "log.h"
#include "nat.h"
#include "live_map.h"
#include "revoke.h"
#include "slim_bpf.h"
#include "slim_maps.h"
#include "state.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

void reply_init(struct reply_ctx *rc)
{
	slim__reply__init(&rc->rep);
	rc->msg[0] = '\0';
	rc->nfds = 0;
}

void reply_error(struct reply_ctx *rc, int err, const char *fmt, ...)
{
	va_list ap;

	reply_done(rc);
	slim__reply__init(&rc->rep);
	va_start(ap, fmt);
	vsnprintf(rc->msg, sizeof(rc->msg), fmt, ap);
	va_end(ap);
	rc->rep.error = err;
	rc->rep.message = rc->msg;
}

static int cmp_fd(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/* A pool batch's fds come from socket() on the lowest free numbers, so
 * they are mostly one contiguous run: sorted, each run is closed with one
 * close_range() instead of a close() per fd. A run only ever spans fds
 * the reply holds. */
void reply_done(struct reply_ctx *rc)
{
	size_t i = 0;

	qsort(rc->fds, rc->nfds, sizeof(rc->fds[0]), cmp_fd);
	while (i < rc->nfds) {
		size_t j = i;

		while (j + 1 < rc->nfds && rc->fds[j + 1] - rc->fds[j] <= 1)
			j++;
		/* close() one by one where close_range is refused (a kernel
		 * before 5.9): never leak the batch. */
		if (j == i || close_range((unsigned)rc->fds[i], (unsigned)rc->fds[j], 0) != 0)
			for (size_t k = i; k <= j; k++)
				close(rc->fds[k]);
		i = j + 1;
	}
	rc->nfds = 0;
}

/* Adds fd to the reply (which then owns it). */
static void reply_fd(struct reply_ctx *rc, int fd)
{
	rc->fds[rc->nfds++] = fd;
}

static bool is_admin(const struct router *r, const struct peer_id *p)
{
	return p->uid == 0 && p->ns_ok && p->ns_dev == r->ns_dev && p->ns_ino == r->ns_ino;
}

/* The registered container the caller runs in, or NULL (error reply set). */
static const struct container *caller_container(struct router *r, const struct peer_id *p,
						struct reply_ctx *rc)
{
	const struct container *c = p->ns_ok ? reg_by_netns(&r->reg, p->ns_dev, p->ns_ino) : NULL;

	if (!c)
		reply_error(rc, EACCES, "not in a registered container");
	return c;
}

/* The status reply's routes: live hosts, then gone subnets, at most
 * STATUS_MAX_ROUTES (the reply must fit one packet). */
static void fill_routes(struct router *r, struct reply_ctx *rc, size_t *n, Slim__Route ***out)
{
	size_t k = 0;

	for (int gone = 0; gone < 2; gone++)
		for (size_t i = 0; i < r->ms.n && k < STATUS_MAX_ROUTES; i++) {
			const struct member *m = &r->ms.m[i];
			Slim__Route *x = &rc->routes[k];
			if (m->gone != (gone == 1))
				continue;
			slim__route__init(x);
			x->subnet = m->h.subnet;
			x->prefix_len = m->h.prefix_len;
			x->underlay_ip = m->h.underlay_ip;
			x->port = m->h.port;
			x->host = (char *)m->h.name;
			x->has_gone = m->gone;
			x->gone = m->gone;
			rc->route_ptrs[k++] = x;
		}
	*n = k;
	*out = rc->route_ptrs;
}

static void do_hello(struct router *r, const struct peer_id *p, struct reply_ctx *rc)
{
	const struct container *c = caller_container(r, p, rc);

	if (!c)
		return;
	int fd = view_reader_fd(r->view);
	if (fd < 0) {
		reply_error(rc, errno, "cannot open the view file %s: %s", r->view_path,
			    strerror(errno));
		return;
	}
	slim__hello_reply__init(&rc->hello);
	rc->hello.container = (char *)c->name;
	rc->hello.vip = c->vip;
	rc->rep.body_case = SLIM__REPLY__BODY_HELLO;
	rc->rep.hello = &rc->hello;
	reply_fd(rc, fd);
}

/* The do_* handlers below get requests that passed slim_validate_request
 * (ports 1..65535, names and paths well formed) and fill rc: a body, or an
 * error reply. */

static void do_connect(struct router *r, const struct peer_id *p, const Slim__ConnectRequest *q,
		       struct reply_ctx *rc)
{
	const struct container *c = caller_container(r, p, rc);
	const struct slim_route *rt;
	const char *what;
	int fd, e;

	if (!c)
		return;
	r->connect_requests++;
	rt = slim_route_lookup(r->routes, r->nroutes, q->vip);
	if (!rt) {
		reply_error(rc, EHOSTUNREACH, "%s is not an overlay address", ip_str(q->vip));
		return;
	}
	if (rt->gone) {
		reply_error(rc, EHOSTUNREACH, "the host of %s left the cluster", ip_str(q->vip));
		return;
	}
	e = hostsock_client(r->owner_fd, c->vip, c->id, &fd, &what);
	if (e) {
		r->socket_failures++;
		reply_error(rc, e, "connect: %s: %s", what, strerror(e));
		return;
	}
	slim__connect_reply__init(&rc->connect);
	rc->connect.underlay_ip = rt->underlay_ip;
	rc->connect.port = rt->port;
	rc->rep.body_case = SLIM__REPLY__BODY_CONNECT;
	rc->rep.connect = &rc->connect;
	reply_fd(rc, fd);
}

static void do_listen(struct router *r, const struct peer_id *p, const Slim__ListenRequest *q,
		      struct reply_ctx *rc)
{
	const struct container *c = caller_container(r, p, rc);
	const char *what;
	int fd, e, backlog = q->backlog;

	if (!c)
		return;
	if (q->has_bound_ip && q->bound_ip != 0 && q->bound_ip != c->vip) {
		reply_error(rc, EADDRNOTAVAIL, "listen: %s is not the container's address %s",
			    ip_str(q->bound_ip), ip_str(c->vip));
		return;
	}
	/* Like listen(2): a negative backlog means the most allowed
	 * (libslim sends SOMAXCONN for it), zero stays zero. */
	if (backlog < 0)
		backlog = SOMAXCONN;
	if (backlog > SOMAXCONN)
		backlog = SOMAXCONN;
	/* Its owner storage also holds what getsockname reports on it (the
	 * getsockname4 program): the address the app bound, the virtual port. */
	e = hostsock_listener(r->self.underlay_ip, r->self.port, backlog, r->owner_fd, c->vip,
			      c->id, q->has_bound_ip ? q->bound_ip : 0, (uint16_t)q->port, &fd,
			      &what);
	if (e) {
		r->socket_failures++;
		reply_error(rc, e, "listen: %s: %s", what, strerror(e));
		return;
	}
	e = lmap_insert(&r->listeners, c->vip, (uint16_t)q->port, fd);
	if (e) {
		close(fd);
		if (e == EADDRINUSE)
			reply_error(rc, e, "%s:%u already has a listener", ip_str(c->vip), q->port);
		else
			reply_error(rc, e, "listen: listeners map: %s", strerror(e));
		return;
	}
	slim__listen_reply__init(&rc->listen);
	rc->listen.vip = c->vip;
	rc->listen.port = q->port;
	rc->rep.body_case = SLIM__REPLY__BODY_LISTEN;
	rc->rep.listen = &rc->listen;
	reply_fd(rc, fd); /* our copy is closed after sending: the app owns the listener */
	rlog("container %s listens on %s:%u", c->name, ip_str(c->vip), q->port);
}

/* Moves the router's thread to SCHED_IDLE (on) or back to SCHED_OTHER.
 * Best effort: a refusal only costs the apps some latency. */
static void sched_idle(bool on)
{
	struct sched_param sp = {.sched_priority = 0};

	(void)sched_setscheduler(0, on ? SCHED_IDLE : SCHED_OTHER, &sp);
}

/* count fresh client sockets stamped for the caller, for its pool. A
 * partial batch is sent as it is (the pool takes what comes); none at all
 * is an error reply. */
static void do_pool(struct router *r, const struct peer_id *p, const Slim__PoolRequest *q,
		    struct reply_ctx *rc)
{
	const struct container *c = caller_container(r, p, rc);
	const char *what = "";
	int e;

	if (!c)
		return;
	r->pool_requests++;
	/* Ahead of need: build the batch at idle priority, so that creating
	 * a few dozen sockets never delays an app's wake-up on a busy CPU
	 * (it showed as a doubled p99 of connection setup). */
	if (!q->urgent)
		sched_idle(true);
	/* Stamped by the sock_create program as they are made (one arming
	 * for the batch, not one map update per socket). */
	e = hostsock_client_batch(&r->arm, c->vip, c->id, rc->fds, q->count, &rc->nfds, &what);
	if (!q->urgent)
		sched_idle(false);
	if (e || rc->nfds < q->count)
		r->socket_failures++;
	if (e) {
		reply_error(rc, e, "pool: %s: %s", what, strerror(e));
		return;
	}
	slim__pool_reply__init(&rc->pool);
	rc->pool.count = (uint32_t)rc->nfds;
	r->pool_sockets += rc->nfds;
	rc->pool.epoch = r->epoch;
	rc->rep.body_case = SLIM__REPLY__BODY_POOL;
	rc->rep.pool = &rc->pool;
}

int router_add_container(struct router *r, const char *name, uint32_t vip, const char *netns,
			 uint32_t id, char *why, size_t whylen)
{
	dev_t dev;
	ino_t ino;
	int e;

	/* The state file holds the path as one blank-separated field. */
	if (!state_netns_ok(netns))
		return slim_fail(EINVAL, why, whylen,
				 "netns path %s cannot be saved (blanks, '#' or more than %d "
				 "characters): use a path without them",
				 netns, REG_NETNS_MAX);
	e = netns_identify(netns, &dev, &ino, why, whylen);
	if (e)
		return e;
	if (dev == r->ns_dev && ino == r->ns_ino)
		return slim_fail(EINVAL, why, whylen, "%s is the router's own network namespace",
				 netns);
	e = reg_add(&r->reg, name, vip, netns, dev, ino, id, why, whylen);
	if (e)
		return e;
	/* Before bpf is loaded (the state file at start-up), the whole
	 * registry goes into the live map at once (live_map_sync). */
	if (r->live_fd >= 0 &&
	    live_map_add(r->live_fd, &r->reg.c[r->reg.n - 1], why, whylen) != 0) {
		e = errno ? errno : EIO;
		reg_del(&r->reg, name, NULL);
		return e;
	}
	nat_container_added(r, &r->reg.c[r->reg.n - 1]);
	return 0;
}

/* Rewrites the state file after a registry change. A failure is logged, not
 * returned: the change is in force, it only will not survive a restart. */
static void save_state(struct router *r)
{
	char err[512];

	if (state_save(r->state_path, &r->reg, err, sizeof(err)) != 0)
		rlog("%s (this change will not survive a router restart)", err);
}

static void do_container_add(struct router *r, const Slim__ContainerAddRequest *q,
			     struct reply_ctx *rc)
{
	char why[256];
	int e;

	e = router_add_container(r, q->name, q->vip, q->netns_path, 0, why, sizeof(why));
	if (e) {
		reply_error(rc, e, "%s", why);
		return;
	}
	rlog("container %s %s added (netns %s)", q->name, ip_str(q->vip), q->netns_path);
	save_state(r);
}

/* Revokes deleted container c: its vip leaves the live map (a socket its
 * processes still hold then connects and binds nowhere), then its host
 * sockets in the TCP tables are destroyed (bpf/revoke.h: connections
 * reset, listeners stop). Returns 0, or an errno with one line in why (the
 * deletion stands: the registry no longer has the container). */
static int revoke_sockets(struct router *r, const struct container *c, char *why, size_t whylen)
{
	long long n;

	if (live_map_del(r->live_fd, c->vip, why, whylen) != 0)
		return errno ? errno : EIO;
	n = slim_revoke_container(r->revoke, c->vip, why, whylen);
	if (n < 0)
		return errno ? errno : EIO;
	rlog("container %s %s: %lld socket%s destroyed", c->name, ip_str(c->vip), n,
	     n == 1 ? "" : "s");
	return 0;
}

/* Deletes registered container name (its vIP leaves the live map, its
 * listeners their map, its sockets are destroyed) and saves the state.
 * Returns 0; ENOENT if there is none; or another errno with one line in why
 * when the deletion stands but its sockets could not all be revoked. */
static int del_container(struct router *r, const char *name, const char *cause, char *why,
			 size_t whylen)
{
	struct container c;
	size_t gone;
	int e;

	if (reg_del(&r->reg, name, &c) != 0)
		return slim_fail(ENOENT, why, whylen, "no container named %s", name);
	nat_container_deleted(r, &c);
	gone = lmap_del_vip(&r->listeners, c.vip);
	e = revoke_sockets(r, &c, why, whylen);
	rlog("container %s %s deleted%s (%zu listener%s removed)", c.name, ip_str(c.vip), cause,
	     gone, gone == 1 ? "" : "s");
	save_state(r);
	if (e)
		rlog("container %s %s: %s", c.name, ip_str(c.vip), why);
	return e;
}

static void do_container_del(struct router *r, const Slim__ContainerDelRequest *q,
			     struct reply_ctx *rc)
{
	char why[256];
	int e = del_container(r, q->name, "", why, sizeof(why));

	if (e == ENOENT)
		reply_error(rc, e, "%s", why);
	else if (e)
		reply_error(rc, e, "container %s deleted, but %s", q->name, why);
}

void router_prune_gone(struct router *r)
{
	char why[256], cause[sizeof(((struct container *)0)->netns) + 64];
	char name[sizeof(((struct container *)0)->name)];
	dev_t dev;
	ino_t ino;

	for (size_t i = 0; i < r->reg.n;) {
		const struct container *c = &r->reg.c[i];

		if (netns_identify(c->netns, &dev, &ino, why, sizeof(why)) == 0 &&
		    dev == c->ns_dev && ino == c->ns_ino) {
			i++;
			continue;
		}
		/* The deletion moves the next entries down into slot i. */
		snprintf(name, sizeof(name), "%s", c->name);
		snprintf(cause, sizeof(cause), ": its network namespace %s is gone", c->netns);
		del_container(r, name, cause, why, sizeof(why));
	}
}

/* x describes c; its listeners are the keys (of the listeners map) under
 * c's vIP. x points into c. */
static void fill_container_status(Slim__ContainerStatus *x, const struct container *c,
				  const struct slim_vaddr *keys, size_t nkeys)
{
	slim__container_status__init(x);
	x->name = (char *)c->name;
	x->vip = c->vip;
	x->netns_path = (char *)c->netns;
	for (size_t k = 0; k < nkeys; k++)
		if (keys[k].ip == htonl(c->vip))
			x->listeners++;
}

static void do_container_get(struct router *r, const Slim__ContainerGetRequest *q,
			     struct reply_ctx *rc)
{
	const struct container *c = reg_by_name(&r->reg, q->name);
	struct slim_vaddr *keys;
	size_t nkeys;

	if (!c) {
		reply_error(rc, ENOENT, "no container named %s", q->name);
		return;
	}
	nkeys = lmap_snapshot(&r->listeners, &keys);
	fill_container_status(&rc->cs[0], c, keys, nkeys);
	free(keys);
	rc->rep.body_case = SLIM__REPLY__BODY_CONTAINER;
	rc->rep.container = &rc->cs[0];
}

void router_status(struct router *r, struct reply_ctx *rc)
{
	struct slim_vaddr *keys;
	size_t nkeys = lmap_snapshot(&r->listeners, &keys);
	Slim__StatusReply *s = &rc->status;
	unsigned long long paths[SLIM_PATH_COUNT], refused[SLIM_REFUSE_COUNT];

	slim__status_reply__init(s);
	s->host = (char *)r->self.name;
	s->underlay_ip = r->self.underlay_ip;
	s->subnet = r->self.subnet;
	s->prefix_len = r->self.prefix_len;
	s->port = r->self.port;
	s->cgroup = r->cg.dir;
	s->pin_dir = (char *)r->pin_dir;
	for (size_t i = 0; i < r->reg.n; i++) {
		fill_container_status(&rc->cs[i], &r->reg.c[i], keys, nkeys);
		rc->cs_ptrs[i] = &rc->cs[i];
	}
	free(keys);
	s->n_containers = r->reg.n;
	s->containers = rc->cs_ptrs;
	fill_routes(r, rc, &s->n_routes, &s->routes);
	s->membership = rc->membership;
	if (r->etcd)
		etcd_member_status(r->etcd, rc->membership, sizeof(rc->membership));
	else
		snprintf(rc->membership, sizeof(rc->membership), "file %s", r->cluster_path);
	s->has_n_hosts = s->has_n_gone = true;
	s->n_hosts = (uint32_t)membership_live(&r->ms);
	s->n_gone = (uint32_t)(r->ms.n - s->n_hosts);
	s->has_last_apply_us = true;
	s->last_apply_us = r->last_apply_us;
	s->has_connect_requests = s->has_pool_requests = s->has_pool_sockets = true;
	s->connect_requests = r->connect_requests;
	s->pool_requests = r->pool_requests;
	s->pool_sockets = r->pool_sockets;
	if (slim_bpf_path_counts(r->bpf, paths) == 0) {
		s->has_accelerated = s->has_slim_to_plain = s->has_plain_to_slim = true;
		s->accelerated = paths[SLIM_PATH_ACCELERATED];
		s->slim_to_plain = paths[SLIM_PATH_SLIM_TO_PLAIN];
		s->plain_to_slim = paths[SLIM_PATH_PLAIN_TO_SLIM];
	}
	if (slim_bpf_refused_counts(r->bpf, refused) == 0) {
		s->has_refused_not_a_host = s->has_refused_foreign_subnet = true;
		s->refused_not_a_host = refused[SLIM_REFUSE_NOT_A_HOST];
		s->refused_foreign_subnet = refused[SLIM_REFUSE_FOREIGN_SUBNET];
	}
	rc->rep.body_case = SLIM__REPLY__BODY_STATUS;
	rc->rep.status = s;
}

/* Answers a decoded, validated request into rc. */
static void dispatch(struct router *r, const struct peer_id *caller, const Slim__Request *req,
		     struct reply_ctx *rc)
{
	switch (req->body_case) {
	case SLIM__REQUEST__BODY_HELLO:
		do_hello(r, caller, rc);
		return;
	case SLIM__REQUEST__BODY_CONNECT:
		do_connect(r, caller, req->connect, rc);
		return;
	case SLIM__REQUEST__BODY_LISTEN:
		do_listen(r, caller, req->listen, rc);
		return;
	case SLIM__REQUEST__BODY_POOL:
		do_pool(r, caller, req->pool, rc);
		return;
	default:
		break;
	}
	if (!is_admin(r, caller)) {
		reply_error(rc, EPERM,
			    "admin requests need root in the router's network namespace");
		return;
	}
	switch (req->body_case) {
	case SLIM__REQUEST__BODY_CONTAINER_ADD:
		do_container_add(r, req->container_add, rc);
		break;
	case SLIM__REQUEST__BODY_CONTAINER_DEL:
		do_container_del(r, req->container_del, rc);
		break;
	case SLIM__REQUEST__BODY_CONTAINER_GET:
		do_container_get(r, req->container_get, rc);
		break;
	case SLIM__REQUEST__BODY_STATUS:
		router_status(r, rc);
		break;
	default: /* slim_validate_request refused every other body */
		reply_error(rc, EPROTO, "request has no known body");
		break;
	}
}

int handle_packet(struct router *r, const struct peer_id *caller, const uint8_t *buf, size_t len,
		  struct reply_ctx *rc, bool log_bad)
{
	Slim__Request *req;
	char why[256];
	int e;

	reply_init(rc);
	req = slim__request__unpack(NULL, len, buf);
	if (!req) {
		r->bad_requests++;
		reply_error(rc, EINVAL, "malformed request");
		if (log_bad)
			rlog("pid %d: malformed request (%zu bytes)", (int)caller->pid, len);
		return 1;
	}
	/* Decodable but with no body we know (only unknown fields): to us that
	 * is as malformed as garbage. */
	if (req->body_case == SLIM__REQUEST__BODY__NOT_SET) {
		e = EINVAL;
		snprintf(why, sizeof(why), "request has no known body");
	} else {
		e = slim_validate_request(req, why, sizeof(why));
	}
	if (e) {
		r->bad_requests++;
		reply_error(rc, e, "%s", why);
		if (log_bad)
			rlog("pid %d: invalid request: %s", (int)caller->pid, why);
	} else {
		dispatch(r, caller, req, rc);
		if (rc->rep.error)
			r->failed_requests++;
	}
	slim__request__free_unpacked(req, NULL);
	return e ? 1 : 0;
}
