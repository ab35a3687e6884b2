/* slim-router: one per host. Start-up is linear (parse -> membership ->
 * cgroup -> bpf -> anchor -> serve) with one cleanup path; SIGINT/SIGTERM
 * stop it cleanly: maps unpinned, sockets closed, cgroup left and removed
 * if ours; but while apps still hold listeners the maps and the cgroup are
 * kept, and the next router of this host reuses them (and the state file).
 * SIGHUP reloads the cluster file. */
#include "cgroup.h"
#include "cluster.h"
#include "containers.h"
#include "handlers.h"
#include "hostsock.h"
#include "listeners.h"
#include "live_map.h"
#include "log.h"
#include "metrics_http.h"
#include "netns_watch.h"
#include "nat.h"
#include "daemon.h"
#include "etcd_member.h"
#include "hosts_publish.h"
#include "sandbox.h"
#include "server.h"
#include "redirect.h"
#include "revoke.h"
#include "slim_bpf.h"
#include "slim_maps.h"
#include "stamp_arm.h"
#include "state.h"
#include "view_writer.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>

#include <errno.h>
#include <ev.h>
#include <libgen.h>
#include <getopt.h>
#include <signal.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PROG "slim-router"

struct opts {
	const char *cluster;
	const char *etcd;
	const char *etcd_prefix;
	const char *underlay;
	const char *subnet;
	const char *port;
	const char *etcd_ttl;
	const char *host;
	const char *socket;
	const char *cgroup;
	const char *pin_dir;
	const char *state;
	const char *metrics; /* --metrics ADDR:PORT, or NULL */
	int redirect;	     /* --redirect: same-host sockmap redirect */
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: " PROG " --cluster FILE --host NAME [options]\n"
		"       " PROG " --etcd URL[,URL...] --host NAME --underlay IP --subnet CIDR\n"
		"                   [--port N] [--etcd-prefix PREFIX] [--etcd-ttl SECONDS] "
		"[options]\n"
		"options: [--socket PATH] [--cgroup DIR] [--pin-dir DIR] [--state FILE] "
		"[--redirect]\n"
		"         [--metrics ADDR:PORT]\n"
		"  --cluster FILE  lines: host NAME UNDERLAY_IP VIRTUAL_SUBNET [RESERVED_PORT];\n"
		"                  SIGHUP reloads it (hosts join and leave live)\n"
		"  --etcd URLS     take the cluster from etcd (v3 JSON gateway, http://ADDR:PORT)\n"
		"  --underlay IP   with --etcd: this host's underlay address\n"
		"  --subnet CIDR   with --etcd: this host's virtual subnet\n"
		"  --port N        with --etcd: this host's reserved port (default 7771)\n"
		"  --etcd-prefix P with --etcd: where the records live (default /slim/)\n"
		"  --etcd-ttl S    with --etcd: lease of this host's record (default 5)\n"
		"  --host NAME     which host of the cluster this router serves\n"
		"  --socket PATH   unix socket to serve (default /run/slim/slim.sock)\n"
		"  --cgroup DIR    the router's cgroup v2 (default <cgroup2 mount>/slim-NAME)\n"
		"  --pin-dir DIR   where maps are pinned (default /sys/fs/bpf/slim-NAME)\n"
		"  --state FILE    the container registry, kept across restarts\n"
		"                  (default /run/slim/NAME.containers)\n"
		"  --redirect      same-host pairs: hand data from one end's send straight to\n"
		"                  the other end's receive queue (sockmap), skipping TCP/IP\n"
		"  --metrics ADDR:PORT  serve GET /metrics (Prometheus text format) on this\n"
		"                  IPv4 address, e.g. 127.0.0.1:9771 (default: off)\n");
}

/* Returns 0, or -1 after printing one line; *help set for --help. */
static int parse_args(int argc, char **argv, struct opts *o, int *help)
{
	static const struct option longopts[] = {
	    {"cluster", required_argument, NULL, 'c'},
	    {"etcd", required_argument, NULL, 'e'},
	    {"etcd-prefix", required_argument, NULL, 'P'},
	    {"etcd-ttl", required_argument, NULL, 'T'},
	    {"underlay", required_argument, NULL, 'u'},
	    {"subnet", required_argument, NULL, 'n'},
	    {"port", required_argument, NULL, 'o'},
	    {"host", required_argument, NULL, 'H'},
	    {"socket", required_argument, NULL, 's'},
	    {"cgroup", required_argument, NULL, 'g'},
	    {"pin-dir", required_argument, NULL, 'p'},
	    {"state", required_argument, NULL, 'S'},
	    {"redirect", no_argument, NULL, 'R'},
	    {"metrics", required_argument, NULL, 'M'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int ch;

	memset(o, 0, sizeof(*o));
	*help = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			o->cluster = optarg;
			break;
		case 'e':
			o->etcd = optarg;
			break;
		case 'P':
			o->etcd_prefix = optarg;
			break;
		case 'T':
			o->etcd_ttl = optarg;
			break;
		case 'u':
			o->underlay = optarg;
			break;
		case 'n':
			o->subnet = optarg;
			break;
		case 'o':
			o->port = optarg;
			break;
		case 'H':
			o->host = optarg;
			break;
		case 's':
			o->socket = optarg;
			break;
		case 'g':
			o->cgroup = optarg;
			break;
		case 'p':
			o->pin_dir = optarg;
			break;
		case 'S':
			o->state = optarg;
			break;
		case 'R':
			o->redirect = 1;
			break;
		case 'M':
			o->metrics = optarg;
			break;
		case 'h':
			*help = 1;
			return 0;
		case ':':
			fprintf(stderr, PROG ": option %s needs a value (see --help)\n",
				argv[optind - 1]);
			return -1;
		default:
			fprintf(stderr, PROG ": unknown option %s (see --help)\n",
				argv[optind - 1]);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, PROG ": unexpected argument '%s' (see --help)\n", argv[optind]);
		return -1;
	}
	if (!o->host || !o->cluster == !o->etcd) {
		fprintf(stderr, PROG ": --host NAME and one of --cluster FILE or --etcd URLS are "
				     "required (see --help)\n");
		return -1;
	}
	if (o->cluster && (o->underlay || o->subnet || o->port || o->etcd_prefix || o->etcd_ttl)) {
		fprintf(stderr, PROG ": --underlay, --subnet, --port, --etcd-prefix and --etcd-ttl "
				     "go with --etcd (the cluster file has the hosts)\n");
		return -1;
	}
	if (o->etcd && (!o->underlay || !o->subnet)) {
		fprintf(stderr,
			PROG ": --etcd needs --underlay IP and --subnet CIDR for this host\n");
		return -1;
	}
	return 0;
}

static const char *stop_signal;

static void on_signal(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)revents;
	stop_signal = strsignal(w->signum);
	ev_break(loop, EVBREAK_ALL);
}

/* SIGHUP: reload the cluster file, with the same rules as at start; this
 * host's own line must stay as it is (its subnet and port are in use).
 * A bad file changes nothing. */
static void on_hup(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct router *r = w->data;
	const struct cluster_host *me;
	struct cluster c;
	char err[512];

	(void)loop;
	(void)revents;
	if (!r->cluster_path) {
		rlog("SIGHUP: nothing to reload (the hosts come from etcd)");
		return;
	}
	if (cluster_load(r->cluster_path, &c, err, sizeof(err)) != 0) {
		rlog("SIGHUP: %s (fix the file; keeping the current %zu hosts)", err,
		     membership_live(&r->ms));
		cluster_free(&c);
		return;
	}
	me = cluster_find(&c, r->self.name);
	if (!me || me->underlay_ip != r->self.underlay_ip || me->subnet != r->self.subnet ||
	    me->prefix_len != r->self.prefix_len || me->port != r->self.port) {
		rlog("SIGHUP: %s: %s (this host's line cannot change while its router runs; "
		     "keeping the current %zu hosts)",
		     r->cluster_path, me ? "this host's line changed" : "this host is missing",
		     membership_live(&r->ms));
		cluster_free(&c);
		return;
	}
	if (hosts_publish(r, &c, false, err, sizeof(err)) != 0)
		rlog("SIGHUP: %s (keeping the current routes)", err);
	else
		rlog("reloaded %s: %zu hosts", r->cluster_path, c.n);
	cluster_free(&c);
}

/* This host from --underlay, --subnet, --port. Returns 0, or -1 after
 * printing one line. */
static int self_from_args(const struct opts *o, struct cluster_host *h)
{
	struct in_addr a;
	char why[128];

	memset(h, 0, sizeof(*h));
	snprintf(h->name, sizeof(h->name), "%s", o->host);
	h->port = CLUSTER_DEFAULT_PORT;
	if (inet_pton(AF_INET, o->underlay, &a) != 1) {
		fprintf(stderr, PROG ": bad --underlay '%s' (an IPv4 address)\n", o->underlay);
		return -1;
	}
	h->underlay_ip = ntohl(a.s_addr);
	if (slim_parse_cidr(o->subnet, &h->subnet, &h->prefix_len) != 0) {
		fprintf(stderr, PROG ": bad --subnet '%s' (A.B.C.D/N with no host bits set)\n",
			o->subnet);
		return -1;
	}
	if (o->port && cluster_parse_port(o->port, &h->port) != 0) {
		fprintf(stderr, PROG ": bad --port '%s' (1..65535)\n", o->port);
		return -1;
	}
	if (cluster_host_ok(h, why, sizeof(why)) != 0) {
		fprintf(stderr, PROG ": --underlay/--subnet/--port: %s\n", why);
		return -1;
	}
	return 0;
}

/* --etcd-ttl: 2..3600 seconds (keepalives go every third of it). */
static int parse_ttl(const char *s, int64_t *ttl)
{
	uint16_t v;

	if (!s) {
		*ttl = ETCD_DEFAULT_TTL;
		return 0;
	}
	if (cluster_parse_port(s, &v) != 0 || v < 2 || v > 3600) {
		fprintf(stderr, PROG ": bad --etcd-ttl '%s' (2..3600 seconds)\n", s);
		return -1;
	}
	*ttl = v;
	return 0;
}

/* What to suggest when a privileged step fails. */
static const char *root_hint(void)
{
	return geteuid() == 0 ? "" : " (run as root)";
}

/* Registers the containers of the state file with the same checks as
 * `container add`; an entry that fails them (e.g. its netns is gone) is
 * dropped with one log line. Then rewrites the file, which also proves it
 * writable before the sandbox is entered. Returns 0, or -1 after printing
 * one line (a malformed file: "FILE:LINE: reason"). */
static int load_state(struct router *r)
{
	static struct state_entry e[REG_MAX];
	char err[512], dir[4096];
	size_t n;

	if (state_load(r->state_path, e, REG_MAX, &n, err, sizeof(err)) != 0) {
		fprintf(stderr, PROG ": %s (fix or remove the line)\n", err);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		char why[256];
		if (router_add_container(r, e[i].name, e[i].vip, e[i].netns, e[i].id, why,
					 sizeof(why))) {
			rlog("dropping container %s %s from %s:%u: %s", e[i].name, ip_str(e[i].vip),
			     r->state_path, e[i].line, why);
			continue;
		}
		/* No id on its line: the id its sockets carry is unknown, so its
		 * live entry accepts any (until it is deleted and added again). */
		if (!e[i].id) {
			r->reg.c[r->reg.n - 1].any_stamp = true;
			rlog("container %s %s: no id in %s:%u; its sockets are accepted whatever "
			     "id they carry until it is added again",
			     e[i].name, ip_str(e[i].vip), r->state_path, e[i].line);
		}
	}
	if (n > 0)
		rlog("%zu container%s restored from %s", r->reg.n, r->reg.n == 1 ? "" : "s",
		     r->state_path);
	snprintf(dir, sizeof(dir), "%s", r->state_path);
	if (mkdir(dirname(dir), 0755) != 0 && errno != EEXIST) {
		fprintf(stderr, PROG ": cannot create the directory of %s: %s (fix --state)\n",
			r->state_path, strerror(errno));
		return -1;
	}
	if (state_save(r->state_path, &r->reg, err, sizeof(err)) != 0) {
		fprintf(stderr, PROG ": %s (fix --state)\n", err);
		return -1;
	}
	return 0;
}

/* How many listeners the listeners map holds (0 if it is not set up). */
static size_t listeners_open(struct router *r, bool lmap_ok)
{
	struct slim_vaddr *keys;
	size_t n;

	if (!lmap_ok)
		return 0;
	n = lmap_snapshot(&r->listeners, &keys);
	free(keys);
	return n;
}

/* The BPF id of a map (0 if it cannot be read). */
static uint32_t map_id(int fd)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	return bpf_obj_get_info_by_fd(fd, &info, &len) == 0 ? info.id : 0;
}

/* A process under slim-run connects to its router at its first need (its
 * first TCP socket, usually; libslim makes only the connection's socket at
 * process start) and keeps that connection until it exits, so the router
 * holds one fd per such process and needs more than the usual soft limit of
 * 1024: up to its MAX_CLIENTS clients, plus pool batches in flight. The
 * soft limit goes up to the hard one; failing that, the router works with
 * what it has and refuses clients beyond it (logged once per episode). */
static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int main(int argc, char **argv)
{
	static struct router r; /* large (registry); one per process */
	struct view view = {0};
	bool retire = false;
	char err[512], cg_default[4200], pin_default[256], state_default[256];
	struct server *srv = NULL;
	struct metrics_http *mh = NULL;
	struct netns_watch *nw = NULL;
	struct sockaddr_in metrics_addr;
	struct slim_redirect *redirect = NULL;
	struct ev_loop *loop = NULL;
	ev_signal sig_int, sig_term, sig_hup;
	struct cluster file_hosts = {0};
	struct etcd_member_cfg ecfg;
	int64_t ttl = 0;
	bool cg_entered = false, pinned = false, lmap_ok = false, joined = false;
	enum slim_pins pins = SLIM_PINS_NONE;
	int anchor = -1, rc = 1, help, mnt_from;
	struct opts o;
	struct stat st;

	if (parse_args(argc, argv, &o, &help) != 0)
		return 1;
	if (help) {
		usage(stdout);
		return 0;
	}
	if (!slim_name_ok(o.host)) {
		fprintf(stderr, PROG ": bad --host '%s' (1..63 characters of [A-Za-z0-9_.-])\n",
			o.host);
		return 1;
	}
	if (o.metrics && metrics_addr_parse(o.metrics, &metrics_addr, err, sizeof(err)) != 0) {
		fprintf(stderr, PROG ": %s\n", err);
		return 1;
	}
	rlog_set_host(o.host);
	signal(SIGPIPE, SIG_IGN);
	raise_nofile();

	/* parse */
	r.routes_fd = -1;
	r.live_fd = -1;
	r.nat_nl = -1;
	if (o.cluster) {
		const struct cluster_host *me;
		if (cluster_load(o.cluster, &file_hosts, err, sizeof(err)) != 0) {
			fprintf(stderr, PROG ": %s\n", err);
			cluster_free(&file_hosts);
			return 1;
		}
		me = cluster_find(&file_hosts, o.host);
		if (!me) {
			fprintf(stderr,
				PROG ": %s: no host named %s (add a host line or fix --host)\n",
				o.cluster, o.host);
			cluster_free(&file_hosts);
			return 1;
		}
		r.self = *me;
		r.cluster_path = o.cluster;
	} else {
		if (self_from_args(&o, &r.self) != 0 || parse_ttl(o.etcd_ttl, &ttl) != 0)
			return 1;
		ecfg = (struct etcd_member_cfg){.urls = o.etcd,
						.prefix = o.etcd_prefix ? o.etcd_prefix
									: ETCD_DEFAULT_PREFIX,
						.self = r.self,
						.ttl = ttl,
						.apply = hosts_publish_cb,
						.ctx = &r};
		if (etcd_member_check_cfg(&ecfg, err, sizeof(err)) != 0) {
			fprintf(stderr, PROG ": %s\n", err);
			return 1;
		}
	}
	reg_init(&r.reg, r.self.subnet, r.self.prefix_len);
	r.cg.fd = -1;
	if (stat("/proc/self/ns/net", &st) != 0) {
		fprintf(stderr, PROG ": cannot stat /proc/self/ns/net: %s (is /proc mounted?)\n",
			strerror(errno));
		return 1;
	}
	r.ns_dev = st.st_dev;
	r.ns_ino = st.st_ino;
	if (cg_find_host_mount(r.cg.mount, sizeof(r.cg.mount), &mnt_from, err, sizeof(err)) != 0) {
		fprintf(stderr, PROG ": %s\n", err);
		return 1;
	}
	if (mnt_from)
		rlog("started in a mount namespace without cgroup2 (ip netns exec?): joined the "
		     "mount namespace of pid %d, staying in this network namespace",
		     mnt_from);
	snprintf(cg_default, sizeof(cg_default), "%s/slim-%s", r.cg.mount, o.host);
	snprintf(pin_default, sizeof(pin_default), "/sys/fs/bpf/slim-%s", o.host);
	snprintf(state_default, sizeof(state_default), "/run/slim/%s.containers", o.host);
	/* The same default as slimctl and slim-run: one router per host. */
	r.socket_path = o.socket ? o.socket : "/run/slim/slim.sock";
	r.pin_dir = o.pin_dir ? o.pin_dir : pin_default;
	r.state_path = o.state ? o.state : state_default;
	if (view_path_for(r.state_path, r.view_path, sizeof(r.view_path)) != 0) {
		fprintf(stderr, PROG ": --state path too long\n");
		return 1;
	}
	if (snprintf(r.cg.dir, sizeof(r.cg.dir), "%s", o.cgroup ? o.cgroup : cg_default) >=
	    (int)sizeof(r.cg.dir)) {
		fprintf(stderr, PROG ": --cgroup path too long\n");
		return 1;
	}

	/* Claim the socket path first: a second router for the same host must
	 * stop before it touches the first one's cgroup, maps or port. */
	srv = server_open(r.socket_path, err, sizeof(err));
	if (!srv) {
		fprintf(stderr, PROG ": %s\n", err);
		goto out;
	}
	/* The metrics listener too: an address in use stops the router before
	 * it touches the cgroup, the maps or the reserved port. */
	if (o.metrics) {
		mh = metrics_http_open(&metrics_addr, err, sizeof(err));
		if (!mh) {
			fprintf(stderr, PROG ": %s\n", err);
			goto out;
		}
	}

	nw = netns_watch_open(err, sizeof(err));
	if (!nw) {
		fprintf(stderr, PROG ": %s\n", err);
		goto out;
	}

	/* The registry of the previous router, only now that the socket path
	 * is ours: a second router must not rewrite a live one's file. */
	if (load_state(&r) != 0)
		goto out;

	loop = ev_default_loop(EVFLAG_AUTO);
	if (!loop) {
		fprintf(stderr, PROG ": cannot start the event loop (libev)\n");
		goto out;
	}

	/* membership: in etcd mode this host joins (or is refused) before it
	 * touches the cgroup, the maps or the port. */
	if (o.etcd) {
		r.etcd = etcd_member_start(loop, &ecfg, 5.0, err, sizeof(err));
		if (!r.etcd) {
			fprintf(stderr, PROG ": %s\n", err);
			goto out;
		}
	}

	/* cgroup */
	cg_entered = true;
	if (cg_enter(&r.cg, err, sizeof(err)) != 0) {
		fprintf(stderr, PROG ": %s%s\n", err, root_hint());
		goto out;
	}

	/* bpf */
	r.bpf = slim_bpf_load_reusing(r.pin_dir, &pins, err, sizeof(err));
	if (!r.bpf) {
		fprintf(stderr, PROG ": %s\n", err);
		goto out;
	}
	if (pins == SLIM_PINS_PARTIAL)
		rlog("removed an incomplete set of pins in %s; starting with fresh maps",
		     r.pin_dir);
	/* A previous router of this host kept its cgroup for the listeners it
	 * left (their sockets belong to it, and sockops must keep running for
	 * their connections): it is ours to remove once they are gone. */
	if (pins == SLIM_PINS_REUSED)
		r.cg.created = true;
	if (slim_bpf_attach_cgroup(r.bpf, r.cg.fd, err, sizeof(err)) != 0) {
		fprintf(stderr, PROG ": %s: %s\n", r.cg.dir, err);
		goto out;
	}
	if (o.redirect) {
		redirect = slim_redirect_start(r.cg.fd, r.self.port, err, sizeof(err));
		if (!redirect) {
			fprintf(stderr, PROG ": %s: %s\n", r.cg.dir, err);
			goto out;
		}
		rlog("same-host sockmap redirect on (--redirect)");
	}
	if (slim_bpf_pin(r.bpf, r.pin_dir, err, sizeof(err)) != 0) {
		fprintf(stderr, PROG ": %s\n", err);
		goto out;
	}
	pinned = true;
	/* The programs stay attached whatever happens to this process: host
	 * sockets that apps hold keep working while no router runs. */
	if (slim_bpf_keep_attached(r.bpf, err, sizeof(err)) != 0) {
		fprintf(stderr, PROG ": %s\n", err);
		goto out;
	}
	if (lmap_init(&r.listeners, slim_bpf_map_fd(r.bpf, SLIM_MAP_LISTENERS), err, sizeof(err)) !=
	    0) {
		fprintf(stderr, PROG ": %s (rebuild slim-router and the BPF objects together)\n",
			err);
		goto out;
	}
	lmap_ok = true;
	if (pins == SLIM_PINS_REUSED)
		rlog("reusing maps pinned in %s (%zu listeners)", r.pin_dir,
		     listeners_open(&r, lmap_ok));
	if (slim_bpf_routes_replaced(r.bpf))
		rlog("the routes map pinned in %s had room for %u routes; replaced by one for %d",
		     r.pin_dir, slim_bpf_routes_replaced(r.bpf), SLIM_MAX_ROUTES);
	r.owner_fd = slim_bpf_map_fd(r.bpf, SLIM_MAP_OWNER);
	/* Pool batches are stamped by the sock_create program: proven to
	 * work here, or no router (it would hand out unstamped sockets). */
	if (stamp_arm_init(&r.arm, slim_bpf_stamp_arm_fd(r.bpf), r.owner_fd, err, sizeof(err)) !=
	    0) {
		fprintf(stderr, PROG ": %s%s\n", err,
			slim_bpf_stamp_initns(r.bpf)
			    ? "; this kernel matches threads only in the initial pid namespace "
			      "(Linux 6.10 does better): run the router in the host's pid namespace"
			    : "");
		goto out;
	}
	r.revoke =
	    slim_revoke_load(r.owner_fd, slim_bpf_map_fd(r.bpf, SLIM_MAP_PEER), err, sizeof(err));
	if (!r.revoke) {
		fprintf(stderr, PROG ": %s\n", err);
		goto out;
	}
	/* The containers restored from the state file are the live ones. */
	r.live_fd = slim_bpf_map_fd(r.bpf, SLIM_MAP_LIVE);
	if (live_map_sync(r.live_fd, &r.reg, err, sizeof(err)) != 0) {
		fprintf(stderr, PROG ": %s\n", err);
		goto out;
	}
	r.epoch = map_id(r.owner_fd);
	r.view = &view;
	if (view_open(&view, r.view_path, err, sizeof(err)) != 0) {
		fprintf(stderr, PROG ": %s\n", err);
		goto out;
	}
	r.routes_fd = slim_bpf_map_fd(r.bpf, SLIM_MAP_ROUTES);
	if (hosts_publish(&r, r.etcd ? &r.pending : &file_hosts, true, err, sizeof(err)) != 0) {
		fprintf(stderr, PROG ": %s\n", err);
		goto out;
	}
	cluster_free(&r.pending);
	cluster_free(&file_hosts);

	/* anchor */
	/* Joining the port's existing reuseport group is safe only if it is
	 * made of the listeners of a previous router of this host: we reused
	 * its maps, and no live router was in our cgroup when we joined it. */
	anchor = hostsock_anchor(r.self.underlay_ip, r.self.port, slim_bpf_reuseport_prog_fd(r.bpf),
				 pins == SLIM_PINS_REUSED && r.cg.others == 0, &joined, err,
				 sizeof(err));
	if (anchor < 0) {
		fprintf(stderr, PROG ": %s\n", err);
		goto out;
	}
	if (joined)
		rlog("rejoined the listeners on %s:%u (our reuseport program serves them now)",
		     ip_str(r.self.underlay_ip), r.self.port);

	/* slim clients of this host's plain servers (tc programs) */
	nat_start(&r);

	/* serve */
	ev_signal_init(&sig_int, on_signal, SIGINT);
	ev_signal_init(&sig_term, on_signal, SIGTERM);
	ev_signal_init(&sig_hup, on_hup, SIGHUP);
	sig_hup.data = &r;
	ev_signal_start(loop, &sig_int);
	ev_signal_start(loop, &sig_term);
	ev_signal_start(loop, &sig_hup);
	server_start(srv, loop, &r);
	if (mh)
		metrics_http_start(mh, loop, &r);
	netns_watch_start(nw, loop, &r);
	/* Everything that needs privileges beyond serving is done. */
	if (sandbox_enter(r.etcd != NULL, err, sizeof(err)) != 0) {
		fprintf(stderr, PROG ": %s\n", err);
		goto out;
	}
	if (!slim_bpf_guards_lsm(r.bpf))
		rlog("this kernel does not load BPF LSM programs: listen() and socket ioctls on "
		     "the host sockets apps hold are not guarded (boot with lsm=...,bpf)");
	if (mh)
		rlog("metrics on http://%s/metrics", o.metrics);
	rlog("serving %s: underlay %s:%u, subnet %s/%u, %zu hosts (%s), cgroup %s, maps %s",
	     r.socket_path, ip_str(r.self.underlay_ip), r.self.port, ip_str(r.self.subnet),
	     r.self.prefix_len, membership_live(&r.ms), r.etcd ? "etcd" : "cluster file", r.cg.dir,
	     r.pin_dir);
	ev_run(loop, 0);
	rlog("stopping (%s)", stop_signal ? stop_signal : "event loop ended");
	rc = 0;

out:
	/* Other hosts stop routing here at once rather than when the lease
	 * expires: new connects to this host fail fast (EHOSTUNREACH). */
	etcd_member_leave(r.etcd, 1.0);
	r.etcd = NULL;
	cluster_free(&file_hosts);
	cluster_free(&r.pending);
	metrics_http_close(mh);
	netns_watch_close(nw);
	server_close(srv);
	if (anchor >= 0)
		close(anchor);
	if (pinned) {
		size_t left = listeners_open(&r, lmap_ok), live = nat_live(&r);
		/* Apps still listen: keep the maps (and the cgroup their sockets
		 * belong to) for the next router of this host. */
		/* ...and the programs stay attached (pinned at start), so
		 * their connections keep their virtual addresses while no
		 * router runs. Translated connections still open keep them
		 * too: without the tc programs they would break. */
		if (left > 0 || live > 0) {
			rlog("keeping maps pinned in %s: %zu listener%s still open, %zu "
			     "translated connection%s",
			     r.pin_dir, left, left == 1 ? "" : "s", live, live == 1 ? "" : "s");
			r.cg.keep = true;
			view_set_state(&view, SLIM_VIEW_AWAY);
		} else {
			/* Sockets stamped so far lose their programs with our
			 * links: tell every libslim to drop its pool. */
			view_set_state(&view, SLIM_VIEW_RETIRED);
			retire = true;
			nat_stop(&r, true);
			slim_bpf_unpin(r.bpf);
		}
	}
	nat_stop(&r, false);
	view_close(&view, retire);
	if (redirect) {
		struct slim_rd_stats rs;
		if (slim_redirect_stats(redirect, &rs) == 0)
			rlog("redirect: %llu sockets, %llu messages (%llu bytes) redirected, "
			     "%llu through TCP, %llu fallbacks",
			     (unsigned long long)rs.inserted,
			     (unsigned long long)rs.redirected_msgs,
			     (unsigned long long)rs.redirected_bytes,
			     (unsigned long long)rs.tcp_msgs, (unsigned long long)rs.fallbacks);
		slim_redirect_destroy(redirect);
	}
	slim_revoke_destroy(r.revoke);
	slim_bpf_destroy(r.bpf);
	if (cg_entered && cg_leave(&r.cg) != 0)
		rlog("cannot leave or remove cgroup %s: %s", r.cg.dir, strerror(errno));
	if (loop)
		ev_loop_destroy(loop);
	return rc;
}
