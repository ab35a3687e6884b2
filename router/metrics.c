/* Metric names: slim_ prefix, counters end in _total, a label where one
 * count splits by reason or path; every family has its HELP and TYPE line
 * (promtool check metrics is clean on the output, see
 * tests/integration/test_metrics.sh). docs/operations.md "Metrics" lists
 * them for operators: keep both in step. */
#define _GNU_SOURCE /* open_memstream */
#include "metrics.h"
#include "log.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

/* The HELP and TYPE lines of one family. */
static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A family with one sample and no labels. */
static void single(FILE *f, const char *name, const char *type, const char *help, uint64_t v)
{
	family(f, name, type, help);
	fprintf(f, "%s %" PRIu64 "\n", name, v);
}

/* A label value as the format wants it: backslash, double quote and line
 * feed escaped. */
static void label_value(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fprintf(f, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

static void info(FILE *f, const Slim__StatusReply *s)
{
	family(f, "slim_router_info", "gauge",
	       "The host this router serves, its underlay address and virtual subnet "
	       "(always 1).");
	fputs("slim_router_info{host=\"", f);
	label_value(f, s->host);
	fprintf(f, "\",underlay=\"%s:%" PRIu32 "\",subnet=\"%s/%" PRIu32 "\"} 1\n",
		ip_str(s->underlay_ip), s->port, ip_str(s->subnet), s->prefix_len);
}

char *metrics_render(const Slim__StatusReply *s, const struct metrics_counters *c, size_t *len)
{
	uint64_t listeners = 0;
	char *text = NULL;
	FILE *f;

	for (size_t i = 0; i < s->n_containers; i++)
		listeners += s->containers[i]->listeners;
	f = open_memstream(&text, len);
	if (!f)
		return NULL;
	info(f, s);
	single(f, "slim_containers", "gauge", "Containers registered with the router.",
	       s->n_containers);
	single(f, "slim_listeners", "gauge",
	       "Listening sockets the containers filed with the router.", listeners);
	single(f, "slim_clients", "gauge",
	       "Processes connected to the router's socket (libslim, slimctl).", c->clients);
	single(f, "slim_cluster_hosts", "gauge", "Live hosts of the cluster, this one included.",
	       s->n_hosts);
	single(f, "slim_cluster_hosts_gone", "gauge",
	       "Subnets of hosts that left the cluster, still routed as gone.", s->n_gone);
	family(f, "slim_hosts_apply_seconds", "gauge",
	       "How long the last change of cluster hosts took to apply.");
	fprintf(f, "slim_hosts_apply_seconds %" PRIu64 ".%06" PRIu64 "\n",
		s->last_apply_us / 1000000, s->last_apply_us % 1000000);
	single(f, "slim_pool_sockets_total", "counter",
	       "Host sockets handed out to the containers' socket pools.", s->pool_sockets);
	single(f, "slim_pool_requests_total", "counter", "Pool refill requests served.",
	       s->pool_requests);
	single(f, "slim_connect_requests_total", "counter",
	       "Per-connect requests served (a connect the pool did not serve).",
	       s->connect_requests);
	family(f, "slim_connections_total", "counter",
	       "Connections by path, counted by the BPF programs since this host's maps were "
	       "made.");
	if (s->has_accelerated)
		fprintf(f,
			"slim_connections_total{path=\"accelerated\"} %" PRIu64 "\n"
			"slim_connections_total{path=\"slim_to_plain\"} %" PRIu64 "\n"
			"slim_connections_total{path=\"plain_to_slim\"} %" PRIu64 "\n",
			s->accelerated, s->slim_to_plain, s->plain_to_slim);
	family(f, "slim_refused_syns_total", "counter",
	       "SYNs the reserved port refused, by reason, since this host's maps were made.");
	if (s->has_refused_not_a_host)
		fprintf(f,
			"slim_refused_syns_total{reason=\"not_a_cluster_host\"} %" PRIu64 "\n"
			"slim_refused_syns_total{reason=\"foreign_subnet\"} %" PRIu64 "\n",
			s->refused_not_a_host, s->refused_foreign_subnet);
	family(f, "slim_errors_total", "counter", "Errors of the router, by kind.");
	fprintf(f,
		"slim_errors_total{kind=\"bad_request\"} %" PRIu64 "\n"
		"slim_errors_total{kind=\"failed_request\"} %" PRIu64 "\n"
		"slim_errors_total{kind=\"socket_creation\"} %" PRIu64 "\n"
		"slim_errors_total{kind=\"client_refused\"} %" PRIu64 "\n",
		c->bad_requests, c->failed_requests, c->socket_failures, c->clients_refused);
	if (ferror(f)) {
		fclose(f);
		free(text);
		errno = ENOMEM;
		return NULL;
	}
	if (fclose(f) != 0) {
		free(text);
		errno = ENOMEM;
		return NULL;
	}
	return text;
}
