/* One request in, one reply out. The handlers never fail as a whole: every
 * problem becomes an error reply. */
#ifndef SLIM_ROUTER_HANDLERS_H
#define SLIM_ROUTER_HANDLERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cluster.h"
#include "containers.h"
#include "peer.h"
#include "daemon.h"
#include "wire.h"

/* Routes a status reply lists (about 30 bytes each, with the host name):
 * the reply must fit SLIM_WIRE_MAX_REPLY beside the containers. */
#define STATUS_MAX_ROUTES 1024

/* Storage for one reply: the message and everything it points to. */
struct reply_ctx {
	Slim__Reply rep;
	Slim__HelloReply hello;
	Slim__ConnectReply connect;
	Slim__ListenReply listen;
	Slim__StatusReply status;
	Slim__PoolReply pool;
	Slim__Route routes[STATUS_MAX_ROUTES];
	Slim__Route *route_ptrs[STATUS_MAX_ROUTES];
	char membership[512];
	Slim__ContainerStatus cs[REG_MAX];
	Slim__ContainerStatus *cs_ptrs[REG_MAX];
	char msg[256];
	int fds[SLIM_POOL_MAX]; /* passed with the reply, then closed */
	size_t nfds;
};

/* Resets rc to an empty success reply with no fds. */
void reply_init(struct reply_ctx *rc);

/* Turns rc into an error reply (closes any fds already set). */
void reply_error(struct reply_ctx *rc, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Closes the fds the reply carried, if any. */
void reply_done(struct reply_ctx *rc);

/* Registers a container after every check of `container add`: the netns
 * path can be saved in the state file, exists and is a network namespace
 * other than the router's, then the registry rules (reg_add; id 0 draws a
 * new id). Used for
 * admin requests and for the state file at start-up. Returns 0, or a
 * positive errno with one line in why. Does not write the state file. */
int router_add_container(struct router *r, const char *name, uint32_t vip, const char *netns,
			 uint32_t id, char *why, size_t whylen);

/* Deletes, as `container del` does, every container whose registered
 * netns path no longer names the namespace it was registered with (gone,
 * or something else there). Logs each. */
void router_prune_gone(struct router *r);

/* Fills rc with the status reply of `slimctl status` (rc->status, and
 * rc->rep pointing at it); every pointer in it refers to r or to rc, so it
 * is valid until either changes. Also the source of --metrics. */
void router_status(struct router *r, struct reply_ctx *rc);

/* Decodes, validates and answers one packet from caller into rc. Returns 1
 * when the packet was malformed or invalid (logged only if log_bad, so a
 * hostile client cannot flood the log), else 0. Counts the outcome in r
 * (bad_requests, or failed_requests for a valid request answered with an
 * error). */
int handle_packet(struct router *r, const struct peer_id *caller, const uint8_t *buf, size_t len,
		  struct reply_ctx *rc, bool log_bad);

#endif
