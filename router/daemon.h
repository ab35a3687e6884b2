/* The router's state, shared by the request handlers. One instance, owned
 * by main(); everything runs on one libev thread. */
#ifndef SLIM_ROUTER_DAEMON_H
#define SLIM_ROUTER_DAEMON_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cgroup.h"
#include "cluster.h"
#include "containers.h"
#include "listeners.h"
#include "membership.h"
#include "routes.h"
#include "stamp_arm.h"
#include "view_writer.h"

struct slim_bpf;
struct etcd_member;

struct router {
	struct cluster_host self;  /* this host */
	struct membership ms;	   /* live hosts and gone subnets (hosts_publish.h) */
	struct slim_route *routes; /* what the trie and the view hold, sorted */
	size_t nroutes;
	int routes_fd;		  /* the routes trie, owned by bpf; -1 before it is loaded */
	const char *cluster_path; /* file mode: the cluster file (reloaded on SIGHUP) */
	struct etcd_member *etcd; /* etcd mode */
	struct cluster pending;	  /* etcd's live set, until the trie and view exist */
	uint64_t last_apply_us;	  /* the last hosts_publish, for status */
	struct registry reg;
	struct cg cg;
	struct slim_bpf *bpf;
	struct slim_revoke *revoke; /* destroys a deleted container's sockets */
	int live_fd;		    /* the live map (live_map.h), owned by bpf; -1 before */
	struct lmap listeners;
	int owner_fd;	      /* owned by bpf */
	struct stamp_arm arm; /* pool batches: the sock_create program's arming */
	uint32_t epoch;	      /* the view's epoch: the owner map's id */
	struct view *view;
	uint64_t connect_requests, pool_requests, pool_sockets; /* for status */
	/* For --metrics (router/metrics.h): requests refused as malformed or
	 * invalid, valid requests answered with an error, host sockets that
	 * could not be made, clients turned away at the client cap or out of
	 * fds; and the clients connected now. */
	uint64_t bad_requests, failed_requests, socket_failures, clients_refused;
	uint64_t clients;
	const char *socket_path;
	const char *pin_dir;
	const char *state_path; /* the container registry on disk (state.h) */
	char view_path[4096];	/* the view file (view_writer.h), beside the state file */
	dev_t ns_dev;		/* the router's own network namespace */
	ino_t ns_ino;
	/* The slim-to-plain translation (router/nat.c): its rtnetlink socket
	 * (-1 while off) and the underlay interface it serves (0: none). */
	int nat_nl;
	int nat_underlay_if;
};

#endif
