/* Cluster file parser and the rules every set of hosts obeys. Strict on
 * purpose: a typo in this file would route containers' traffic to the wrong
 * host, so every odd line is an error that names the file, the line and the
 * offending text. */
#include "cluster.h"
#include "linefile.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LINE_MAX_LEN 1024
#define USAGE "expected: host NAME UNDERLAY_IP VIRTUAL_SUBNET [RESERVED_PORT]"

int cluster_parse_port(const char *s, uint16_t *port)
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

int cluster_host_ok(const struct cluster_host *h, char *why, size_t whylen)
{
	if (!slim_name_ok(h->name))
		snprintf(why, whylen, "bad host name (1..63 characters of [A-Za-z0-9_.-])");
	else if (!underlay_ok(h->underlay_ip))
		snprintf(why, whylen, "bad underlay address");
	else if (h->prefix_len > 32 || (h->subnet & slim_prefix_mask(h->prefix_len)) != h->subnet)
		snprintf(why, whylen, "bad virtual subnet (host bits set)");
	else if (h->prefix_len == 0)
		snprintf(why, whylen, "virtual subnet covers every address");
	else if (h->port == 0)
		snprintf(why, whylen, "bad reserved port (1..65535)");
	else
		return 0;
	return -1;
}

/* " (line N)" for a host from a file, "" for one from elsewhere. */
static const char *where(const struct cluster_host *h, char *buf, size_t len)
{
	if (!h->line)
		return "";
	snprintf(buf, len, " (line %u)", h->line);
	return buf;
}

int cluster_add(struct cluster *c, const struct cluster_host *h, char *why, size_t whylen)
{
	char w[32];

	for (size_t i = 0; i < c->n; i++) {
		const struct cluster_host *o = &c->hosts[i];
		if (strcmp(o->name, h->name) == 0) {
			if (o->line)
				snprintf(why, whylen, "duplicate host name '%s' (first on line %u)",
					 h->name, o->line);
			else
				snprintf(why, whylen, "duplicate host name '%s'", h->name);
			return -1;
		}
		if (overlaps(o, h->subnet, h->prefix_len)) {
			struct in_addr x = {.s_addr = htonl(o->subnet)},
				       y = {.s_addr = htonl(h->subnet)};
			char os[INET_ADDRSTRLEN], hs[INET_ADDRSTRLEN];
			inet_ntop(AF_INET, &x, os, sizeof(os));
			inet_ntop(AF_INET, &y, hs, sizeof(hs));
			snprintf(why, whylen, "virtual subnet %s/%u overlaps %s/%u of host %s%s",
				 hs, h->prefix_len, os, o->prefix_len, o->name,
				 where(o, w, sizeof(w)));
			return -1;
		}
		if (o->underlay_ip == h->underlay_ip && o->port == h->port) {
			struct in_addr x = {.s_addr = htonl(h->underlay_ip)};
			char us[INET_ADDRSTRLEN];
			inet_ntop(AF_INET, &x, us, sizeof(us));
			snprintf(why, whylen, "underlay %s:%u already used by host %s%s", us,
				 h->port, o->name, where(o, w, sizeof(w)));
			return -1;
		}
	}
	if (c->n >= CLUSTER_MAX_HOSTS) {
		snprintf(why, whylen, "too many hosts (at most %d)", CLUSTER_MAX_HOSTS);
		return -1;
	}
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 16;
		struct cluster_host *p = realloc(c->hosts, cap * sizeof(*p));
		if (!p) {
			snprintf(why, whylen, "out of memory");
			return -1;
		}
		c->hosts = p;
		c->cap = cap;
	}
	c->hosts[c->n++] = *h;
	return 0;
}

/* lf_line_fn: parses one host line; appends to the cluster ctx. */
static int parse_host(void *ctx, char **f, int nf, const char *path, unsigned line, char *err,
		      size_t errlen)
{
	struct cluster *c = ctx;
	struct cluster_host h;
	struct in_addr a;
	char s[64], why[256];

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
	if (nf == 5 && cluster_parse_port(f[4], &h.port) != 0)
		return lf_bad(err, errlen, path, line, "bad reserved port '%s' (1..65535)",
			      lf_shown(f[4], s, sizeof(s)));
	if (cluster_add(c, &h, why, sizeof(why)) != 0)
		return lf_bad(err, errlen, path, line, "%s", why);
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

void cluster_free(struct cluster *c)
{
	free(c->hosts);
	memset(c, 0, sizeof(*c));
}

const struct cluster_host *cluster_find(const struct cluster *c, const char *name)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->hosts[i].name, name) == 0)
			return &c->hosts[i];
	return NULL;
}

struct slim_route cluster_route(const struct cluster_host *h)
{
	return (struct slim_route){.subnet = h->subnet,
				   .prefix_len = h->prefix_len,
				   .underlay_ip = h->underlay_ip,
				   .port = h->port};
}
