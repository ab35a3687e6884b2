/* The --metrics text (router/metrics.c): every value lands on its series,
 * label values are escaped, samples the router could not read (the BPF
 * counts) are left out while their family stays declared, and every sample
 * belongs to a family with a HELP and a TYPE line. */
#include "check.h"
#include "metrics.h"

#include <stdbool.h>

/* True if text has line as one whole line. */
static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; (p = strstr(p, line)) != NULL; p++)
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return true;
	return false;
}

#define CHECK_LINE(text, line)                                                                     \
	do {                                                                                       \
		if (!has_line(text, line)) {                                                       \
			fprintf(stderr, "%s:%d: no line '%s' in:\n%s", __FILE__, __LINE__, line,   \
				text);                                                             \
			check_failures++;                                                          \
		}                                                                                  \
	} while (0)

/* Every sample's family (its name up to '{' or ' ') was declared before it
 * with HELP and then TYPE, and every line ends with '\n'. */
static void check_families(const char *text)
{
	char declared[64] = "", name[128];
	const char *p = text;

	while (*p) {
		const char *eol = strchr(p, '\n');
		REQUIRE(eol);
		if (strncmp(p, "# HELP ", 7) == 0) {
			sscanf(p + 7, "%63s", declared);
			char want[128];
			snprintf(want, sizeof(want), "# TYPE %s ", declared);
			CHECK(strncmp(eol + 1, want, strlen(want)) == 0);
		} else if (p[0] != '#') {
			size_t n = strcspn(p, "{ ");
			REQUIRE(n < sizeof(name));
			memcpy(name, p, n);
			name[n] = '\0';
			if (strcmp(name, declared) != 0) {
				fprintf(stderr, "sample of %s under family '%s'\n", name, declared);
				check_failures++;
			}
		}
		p = eol + 1;
	}
}

int main(void)
{
	Slim__ContainerStatus c1 = SLIM__CONTAINER_STATUS__INIT, c2 = SLIM__CONTAINER_STATUS__INIT;
	Slim__ContainerStatus *cs[] = {&c1, &c2};
	Slim__StatusReply s = SLIM__STATUS_REPLY__INIT;
	struct metrics_counters mc = {.clients = 5,
				      .bad_requests = 6,
				      .failed_requests = 7,
				      .socket_failures = 8,
				      .clients_refused = 9};
	size_t len = 0;
	char *text;

	c1.listeners = 2;
	c2.listeners = 1;
	s.host = "h\"1\\";
	s.underlay_ip = ip("192.168.77.1");
	s.port = 7771;
	s.subnet = ip("10.244.1.0");
	s.prefix_len = 24;
	s.n_containers = 2;
	s.containers = cs;
	s.n_hosts = 3;
	s.n_gone = 1;
	s.last_apply_us = 1234567;
	s.pool_sockets = 100;
	s.pool_requests = 4;
	s.connect_requests = 11;
	s.has_accelerated = true;
	s.accelerated = 12;
	s.slim_to_plain = 13;
	s.plain_to_slim = 14;
	text = metrics_render(&s, &mc, &len);
	REQUIRE(text);
	CHECK_INT(len, strlen(text));
	CHECK_LINE(text, "slim_router_info{host=\"h\\\"1\\\\\",underlay=\"192.168.77.1:7771\","
			 "subnet=\"10.244.1.0/24\"} 1");
	CHECK_LINE(text, "slim_containers 2");
	CHECK_LINE(text, "slim_listeners 3");
	CHECK_LINE(text, "slim_clients 5");
	CHECK_LINE(text, "slim_cluster_hosts 3");
	CHECK_LINE(text, "slim_cluster_hosts_gone 1");
	CHECK_LINE(text, "slim_hosts_apply_seconds 1.234567");
	CHECK_LINE(text, "slim_pool_sockets_total 100");
	CHECK_LINE(text, "slim_pool_requests_total 4");
	CHECK_LINE(text, "slim_connect_requests_total 11");
	CHECK_LINE(text, "slim_connections_total{path=\"accelerated\"} 12");
	CHECK_LINE(text, "slim_connections_total{path=\"slim_to_plain\"} 13");
	CHECK_LINE(text, "slim_connections_total{path=\"plain_to_slim\"} 14");
	CHECK_LINE(text, "# TYPE slim_refused_syns_total counter");
	CHECK(strstr(text, "slim_refused_syns_total{") == NULL);
	CHECK_LINE(text, "slim_errors_total{kind=\"bad_request\"} 6");
	CHECK_LINE(text, "slim_errors_total{kind=\"failed_request\"} 7");
	CHECK_LINE(text, "slim_errors_total{kind=\"socket_creation\"} 8");
	CHECK_LINE(text, "slim_errors_total{kind=\"client_refused\"} 9");
	check_families(text);
	free(text);

	s.has_refused_not_a_host = true;
	s.refused_not_a_host = 21;
	s.refused_foreign_subnet = 22;
	s.has_accelerated = false;
	text = metrics_render(&s, &mc, &len);
	REQUIRE(text);
	CHECK_LINE(text, "slim_refused_syns_total{reason=\"not_a_cluster_host\"} 21");
	CHECK_LINE(text, "slim_refused_syns_total{reason=\"foreign_subnet\"} 22");
	CHECK_LINE(text, "# TYPE slim_connections_total counter");
	CHECK(strstr(text, "slim_connections_total{") == NULL);
	check_families(text);
	free(text);
	CHECK_DONE();
}
