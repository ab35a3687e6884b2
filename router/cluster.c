/* Cluster file parser. Strict on purpose: a typo in this file would route
 * containers' traffic to the wrong host, so every odd line is an error that
 * names the file, the line and the offending text. */
#include "cluster.h"
#include "linefile.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LINE_MAX_LEN 1024
#define USAGE "expected: host NAME UNDERLAY_IP VIRTUAL_SUBNET [RESERVED_PORT]"

/* Strict decimal port 1..65535. Returns 0 or -1. */
static int parse_port(const char *s, uint16_t *port)
{
	unsigned long v = 0;

	if (!*s || strlen(s) > 5)
		return -1;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	if (v < 1 || v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

/* An address that can carry unicast TCP between hosts. */
static int underlay_ok(uint32_t ip)
{
	return ip != 0 && ip != 0xffffffffu && (ip >> 28) != 0xe;
}

static int overlaps(const struct cluster_host *a, uint32_t subnet, uint8_t plen)
{
	uint8_t shorter = a->prefix_len < plen ? a->prefix_len : plen;
	uint32_t m = slim_prefix_mask(shorter);

	return (a->subnet & m) == (subnet & m);
}

/* lf_line_fn: parses one host line; appends to the cluster ctx. */
static int parse_host(void *ctx, char **f, int nf, const char *path, unsigned line, char *err,
		      size_t errlen)
{
	struct cluster *c = ctx;
	struct cluster_host h;
	struct in_addr a;
	char s[64];

	memset(&h, 0, sizeof(h));
	h.line = line;
	if (strcmp(f[0], "host") != 0)
		return lf_bad(err, errlen, path, line, "unknown keyword '%s' (" USAGE ")",
			      lf_shown(f[0], s, sizeof(s)));
	if (nf < 4)
		return lf_bad(err, errlen, path, line, "missing fields (" USAGE ")");
	if (nf > 5)
		return lf_bad(err, errlen, path, line, "too many fields (" USAGE ")");
	if (!slim_name_ok(f[1]))
		return lf_bad(err, errlen, path, line,
			      "bad host name '%s' (1..63 characters of [A-Za-z0-9_.-])",
			      lf_shown(f[1], s, sizeof(s)));
	strcpy(h.name, f[1]);
	if (inet_pton(AF_INET, f[2], &a) != 1 || !underlay_ok(ntohl(a.s_addr)))
		return lf_bad(err, errlen, path, line, "bad underlay address '%s'",
			      lf_shown(f[2], s, sizeof(s)));
	h.underlay_ip = ntohl(a.s_addr);
	if (slim_parse_cidr(f[3], &h.subnet, &h.prefix_len) != 0)
		return lf_bad(err, errlen, path, line,
			      "bad virtual subnet '%s' (expected A.B.C.D/N with no host bits set)",
			      lf_shown(f[3], s, sizeof(s)));
	if (h.prefix_len == 0)
		return lf_bad(err, errlen, path, line, "virtual subnet '%s' covers every address",
			      lf_shown(f[3], s, sizeof(s)));
	h.port = CLUSTER_DEFAULT_PORT;
	if (nf == 5 && parse_port(f[4], &h.port) != 0)
		return lf_bad(err, errlen, path, line, "bad reserved port '%s' (1..65535)",
			      lf_shown(f[4], s, sizeof(s)));

	for (size_t i = 0; i < c->n; i++) {
		const struct cluster_host *o = &c->hosts[i];
		if (strcmp(o->name, h.name) == 0)
			return lf_bad(err, errlen, path, line,
				      "duplicate host name '%s' (first on line %u)", h.name,
				      o->line);
		if (overlaps(o, h.subnet, h.prefix_len)) {
			struct in_addr x = {.s_addr = htonl(o->subnet)};
			char os[INET_ADDRSTRLEN];
			inet_ntop(AF_INET, &x, os, sizeof(os));
			return lf_bad(err, errlen, path, line,
				      "virtual subnet %s overlaps %s/%u of host %s (line %u)", f[3],
				      os, o->prefix_len, o->name, o->line);
		}
		if (o->underlay_ip == h.underlay_ip && o->port == h.port)
			return lf_bad(err, errlen, path, line,
				      "underlay %s:%u already used by host %s (line %u)", f[2],
				      h.port, o->name, o->line);
	}
	if (c->n >= CLUSTER_MAX_HOSTS)
		return lf_bad(err, errlen, path, line, "too many hosts (at most %d)",
			      CLUSTER_MAX_HOSTS);
	c->hosts[c->n++] = h;
	return 0;
}

int cluster_load(const char *path, struct cluster *c, char *err, size_t errlen)
{
	memset(c, 0, sizeof(*c));
	if (lf_read(path, LINE_MAX_LEN, 0, parse_host, c, err, errlen) != 0)
		return -1;
	if (c->n == 0) {
		snprintf(err, errlen, "%s: no host lines (" USAGE ")", path);
		return -1;
	}
	return 0;
}

const struct cluster_host *cluster_find(const struct cluster *c, const char *name)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->hosts[i].name, name) == 0)
			return &c->hosts[i];
	return NULL;
}

size_t cluster_routes(const struct cluster *c, struct slim_route *out)
{
	for (size_t i = 0; i < c->n; i++) {
		out[i].subnet = c->hosts[i].subnet;
		out[i].prefix_len = c->hosts[i].prefix_len;
		out[i].underlay_ip = c->hosts[i].underlay_ip;
		out[i].port = c->hosts[i].port;
	}
	return c->n;
}
