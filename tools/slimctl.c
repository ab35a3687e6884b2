/* slimctl: administer a slim-router over its unix socket.
 *   slimctl [--socket PATH] [--json] container add NAME --ip VIP --netns NETNS_PATH
 *   slimctl [--socket PATH] [--json] container del NAME
 *   slimctl [--socket PATH] [--json] status
 * Exit 0 on success; otherwise one line "slimctl: reason" on stderr, exit 1
 * (2 for usage errors). */
#include "ctl_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROG "slimctl"
#define DEFAULT_SOCKET CTL_DEFAULT_SOCKET

static void usage(FILE *f)
{
	fprintf(f, "usage: " PROG " [--socket PATH] [--json] COMMAND\n"
		   "commands:\n"
		   "  container add NAME --ip VIP --netns NETNS_PATH\n"
		   "  container del NAME\n"
		   "  status\n"
		   "options:\n"
		   "  --socket PATH  the router's socket (default $SLIM_SOCKET, else\n"
		   "                 " DEFAULT_SOCKET ")\n"
		   "  --json         print the reply as one JSON object\n"
		   "Run as root in the host's network namespace. Exit 0 ok, 1 failure (one\n"
		   "line on stderr), 2 usage error.\n");
}

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, PROG ": ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (see " PROG " --help)\n");
	return 2;
}

static const char *ip_s(uint32_t ip, char *buf)
{
	struct in_addr a = {.s_addr = htonl(ip)};

	inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
	return buf;
}

/* Prints s as a JSON string literal, escaping quotes, backslashes and
 * control characters. */
static void json_str(const char *s)
{
	putchar('"');
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		switch (*p) {
		case '"':
			fputs("\\\"", stdout);
			break;
		case '\\':
			fputs("\\\\", stdout);
			break;
		case '\n':
			fputs("\\n", stdout);
			break;
		case '\r':
			fputs("\\r", stdout);
			break;
		case '\t':
			fputs("\\t", stdout);
			break;
		case '\b':
			fputs("\\b", stdout);
			break;
		case '\f':
			fputs("\\f", stdout);
			break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				printf("\\u%04x", *p);
			else
				putchar(*p);
		}
	}
	putchar('"');
}

static void print_status_text(const Slim__StatusReply *s)
{
	char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];

	printf("host:       %s\n", s->host);
	printf("underlay:   %s\n", ip_s(s->underlay_ip, a));
	printf("port:       %u\n", s->port);
	printf("subnet:     %s/%u\n", ip_s(s->subnet, a), s->prefix_len);
	printf("cgroup:     %s\n", s->cgroup);
	printf("pin dir:    %s\n", s->pin_dir);
	printf("containers: %zu\n", s->n_containers);
	if (s->n_containers)
		printf("  %-20s %-15s %9s  %s\n", "NAME", "VIP", "LISTENERS", "NETNS");
	for (size_t i = 0; i < s->n_containers; i++) {
		const Slim__ContainerStatus *c = s->containers[i];
		printf("  %-20s %-15s %9u  %s\n", c->name, ip_s(c->vip, a), c->listeners,
		       c->netns_path);
	}
	if (s->membership)
		printf("membership: %s\n", s->membership);
	printf("hosts:      %u live, %u gone (last change applied in %" PRIu64 " us)\n", s->n_hosts,
	       s->n_gone, s->last_apply_us);
	printf("routes:     %zu", s->n_routes);
	if (s->n_routes < (size_t)s->n_hosts + s->n_gone)
		printf(" (of %u)", s->n_hosts + s->n_gone);
	printf("\n");
	if (s->n_routes)
		printf("  %-18s %-15s %5s  %-20s %s\n", "SUBNET", "UNDERLAY", "PORT", "HOST",
		       "STATE");
	for (size_t i = 0; i < s->n_routes; i++) {
		const Slim__Route *r = s->routes[i];
		char sub[INET_ADDRSTRLEN + 4];
		snprintf(sub, sizeof(sub), "%s/%u", ip_s(r->subnet, a), r->prefix_len);
		printf("  %-18s %-15s %5u  %-20s %s\n", sub, ip_s(r->underlay_ip, b), r->port,
		       r->host ? r->host : "-", r->gone ? "gone" : "live");
	}
	printf("requests:   %" PRIu64 " connect, %" PRIu64 " pool (%" PRIu64 " sockets)\n",
	       s->connect_requests, s->pool_requests, s->pool_sockets);
	if (s->has_accelerated)
		printf("connections by path: accelerated %" PRIu64 ", slim-to-plain %" PRIu64
		       ", plain-to-slim %" PRIu64 "\n",
		       s->accelerated, s->slim_to_plain, s->plain_to_slim);
	if (s->has_refused_not_a_host)
		printf("refused SYNs: not-a-cluster-host %" PRIu64 ", foreign-subnet %" PRIu64 "\n",
		       s->refused_not_a_host, s->refused_foreign_subnet);
}

static void print_status_json(const Slim__StatusReply *s)
{
	char a[INET_ADDRSTRLEN];

	printf("{\"host\":");
	json_str(s->host);
	printf(",\"underlay_ip\":\"%s\",\"port\":%u", ip_s(s->underlay_ip, a), s->port);
	printf(",\"subnet\":\"%s/%u\",\"cgroup\":", ip_s(s->subnet, a), s->prefix_len);
	json_str(s->cgroup);
	printf(",\"pin_dir\":");
	json_str(s->pin_dir);
	printf(",\"containers\":[");
	for (size_t i = 0; i < s->n_containers; i++) {
		const Slim__ContainerStatus *c = s->containers[i];
		printf("%s{\"name\":", i ? "," : "");
		json_str(c->name);
		printf(",\"vip\":\"%s\",\"netns\":", ip_s(c->vip, a));
		json_str(c->netns_path);
		printf(",\"listeners\":%u}", c->listeners);
	}
	printf("],\"membership\":");
	json_str(s->membership ? s->membership : "");
	printf(",\"hosts\":%u,\"gone\":%u,\"last_apply_us\":%" PRIu64 ",\"routes\":[", s->n_hosts,
	       s->n_gone, s->last_apply_us);
	for (size_t i = 0; i < s->n_routes; i++) {
		const Slim__Route *r = s->routes[i];
		printf("%s{\"subnet\":\"%s/%u\"", i ? "," : "", ip_s(r->subnet, a), r->prefix_len);
		printf(",\"underlay_ip\":\"%s\",\"port\":%u,\"host\":", ip_s(r->underlay_ip, a),
		       r->port);
		json_str(r->host ? r->host : "");
		printf(",\"gone\":%s}", r->gone ? "true" : "false");
	}
	printf("],\"connect_requests\":%" PRIu64 ",\"pool_requests\":%" PRIu64
	       ",\"pool_sockets\":%" PRIu64,
	       s->connect_requests, s->pool_requests, s->pool_sockets);
	if (s->has_accelerated)
		printf(",\"paths\":{\"accelerated\":%" PRIu64 ",\"slim_to_plain\":%" PRIu64
		       ",\"plain_to_slim\":%" PRIu64 "}",
		       s->accelerated, s->slim_to_plain, s->plain_to_slim);
	if (s->has_refused_not_a_host)
		printf(",\"refused\":{\"not_a_cluster_host\":%" PRIu64
		       ",\"foreign_subnet\":%" PRIu64 "}",
		       s->refused_not_a_host, s->refused_foreign_subnet);
	printf("}\n");
}

/* Matches "--name VALUE" or "--name=VALUE" at argv[*i]; advances *i. */
static int opt_value(int argc, char **argv, int *i, const char *name, const char **val)
{
	size_t n = strlen(name);

	if (strncmp(argv[*i], name, n) != 0)
		return 0;
	if (argv[*i][n] == '=') {
		*val = argv[*i] + n + 1;
		return 1;
	}
	if (argv[*i][n] != '\0')
		return 0;
	if (*i + 1 >= argc) {
		*val = NULL;
		return 1;
	}
	*val = argv[++*i];
	return 1;
}

int main(int argc, char **argv)
{
	const char *sock = getenv("SLIM_SOCKET");
	const char *name = NULL, *ip = NULL, *netns = NULL;
	char netns_abs[PATH_MAX];
	int json = 0, i = 1, rc = 1;
	Slim__Request req = SLIM__REQUEST__INIT;
	Slim__ContainerAddRequest add = SLIM__CONTAINER_ADD_REQUEST__INIT;
	Slim__ContainerDelRequest del = SLIM__CONTAINER_DEL_REQUEST__INIT;
	Slim__StatusRequest st = SLIM__STATUS_REQUEST__INIT;
	struct in_addr vip;

	if (!sock || !*sock)
		sock = DEFAULT_SOCKET;
	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *v;
		if (!strcmp(argv[i], "--json")) {
			json = 1;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else if (opt_value(argc, argv, &i, "--socket", &v)) {
			if (!v || !*v)
				return usage_error("--socket needs a path%s", "");
			sock = v;
		} else {
			return usage_error("unknown option %s", argv[i]);
		}
	}
	if (i >= argc)
		return usage_error("missing command%s", "");

	if (!strcmp(argv[i], "status")) {
		if (i + 1 < argc)
			return usage_error("unexpected argument '%s'", argv[i + 1]);
		req.body_case = SLIM__REQUEST__BODY_STATUS;
		req.status = &st;
	} else if (!strcmp(argv[i], "container") && i + 1 < argc && !strcmp(argv[i + 1], "add")) {
		for (i += 2; i < argc; i++) {
			const char *v;
			if (opt_value(argc, argv, &i, "--ip", &v)) {
				if (!v)
					return usage_error("--ip needs an address%s", "");
				ip = v;
			} else if (opt_value(argc, argv, &i, "--netns", &v)) {
				if (!v)
					return usage_error("--netns needs a path%s", "");
				netns = v;
			} else if (argv[i][0] == '-' || name) {
				return usage_error("unexpected argument '%s'", argv[i]);
			} else {
				name = argv[i];
			}
		}
		if (!name || !ip || !netns)
			return usage_error("container add needs NAME --ip VIP --netns NETNS_PATH%s",
					   "");
		if (inet_pton(AF_INET, ip, &vip) != 1)
			return usage_error("bad --ip '%s' (expected A.B.C.D)", ip);
		/* The router resolves the path itself: make it absolute here. */
		const char *abs = ctl_abs_path(netns, netns_abs);
		if (!abs) {
			fprintf(stderr, PROG ": --netns %s: %s\n", netns, strerror(errno));
			return 1;
		}
		netns = abs;
		add.name = (char *)name;
		add.vip = ntohl(vip.s_addr);
		add.netns_path = (char *)netns;
		req.body_case = SLIM__REQUEST__BODY_CONTAINER_ADD;
		req.container_add = &add;
	} else if (!strcmp(argv[i], "container") && i + 1 < argc && !strcmp(argv[i + 1], "del")) {
		if (i + 2 >= argc)
			return usage_error("container del needs NAME%s", "");
		if (i + 3 < argc)
			return usage_error("unexpected argument '%s'", argv[i + 3]);
		del.name = argv[i + 2];
		req.body_case = SLIM__REQUEST__BODY_CONTAINER_DEL;
		req.container_del = &del;
	} else if (!strcmp(argv[i], "container")) {
		return usage_error("container needs 'add' or 'del'%s", "");
	} else {
		return usage_error("unknown command '%s'", argv[i]);
	}

	struct ctl_error err;
	Slim__Reply *rep = ctl_request(sock, &req, &err);
	if (!rep) {
		fprintf(stderr, PROG ": %s\n", err.msg);
		return 1;
	}
	rc = 0;
	if (req.body_case == SLIM__REQUEST__BODY_STATUS) {
		if (json)
			print_status_json(rep->status);
		else
			print_status_text(rep->status);
	} else if (json) {
		printf("{\"ok\":true}\n");
	}
	slim__reply__free_unpacked(rep, NULL);
	if (fflush(stdout) != 0) {
		fprintf(stderr, PROG ": cannot write the output: %s\n", strerror(errno));
		rc = 1;
	}
	return rc;
}
