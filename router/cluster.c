/* Cluster file parser. Strict on purpose: a typo in this file would route
 * containers' traffic to the wrong host, so every odd line is an error that
 * names the file, the line and the offending text. */
#include "cluster.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FIELDS 6 /* one more than allowed, to detect "too many" */
#define LINE_MAX_LEN 1024
#define USAGE "expected: host NAME UNDERLAY_IP VIRTUAL_SUBNET [RESERVED_PORT]"

/* Copies a token for an error message: at most 40 characters, anything
 * unprintable replaced, so a binary file cannot garble the terminal. */
static const char *shown(const char *tok, char *buf, size_t len)
{
	size_t i = 0;

	for (; tok[i] && i + 4 < len && i < 40; i++)
		buf[i] = isprint((unsigned char)tok[i]) ? tok[i] : '?';
	if (tok[i]) {
		buf[i++] = '.';
		buf[i++] = '.';
		buf[i++] = '.';
	}
	buf[i] = '\0';
	return buf;
}

/* Writes "path:line: reason" into err and returns -1. */
static int bad(char *err, size_t errlen, const char *path, unsigned line, const char *fmt, ...)
{
	char reason[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	snprintf(err, errlen, "%s:%u: %s", path, line, reason);
	return -1;
}

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

/* Parses one host line already split into fields; appends to c. */
static int parse_host(struct cluster *c, char **f, int nf, const char *path, unsigned line,
		      char *err, size_t errlen)
{
	struct cluster_host h;
	struct in_addr a;
	char s[64];

	memset(&h, 0, sizeof(h));
	h.line = line;
	if (nf < 4)
		return bad(err, errlen, path, line, "missing fields (" USAGE ")");
	if (nf > 5)
		return bad(err, errlen, path, line, "too many fields (" USAGE ")");
	if (!slim_name_ok(f[1]))
		return bad(err, errlen, path, line,
			   "bad host name '%s' (1..63 characters of [A-Za-z0-9_.-])",
			   shown(f[1], s, sizeof(s)));
	strcpy(h.name, f[1]);
	if (inet_pton(AF_INET, f[2], &a) != 1 || !underlay_ok(ntohl(a.s_addr)))
		return bad(err, errlen, path, line, "bad underlay address '%s'",
			   shown(f[2], s, sizeof(s)));
	h.underlay_ip = ntohl(a.s_addr);
	if (slim_parse_cidr(f[3], &h.subnet, &h.prefix_len) != 0)
		return bad(err, errlen, path, line,
			   "bad virtual subnet '%s' (expected A.B.C.D/N with no host bits set)",
			   shown(f[3], s, sizeof(s)));
	if (h.prefix_len == 0)
		return bad(err, errlen, path, line, "virtual subnet '%s' covers every address",
			   shown(f[3], s, sizeof(s)));
	h.port = CLUSTER_DEFAULT_PORT;
	if (nf == 5 && parse_port(f[4], &h.port) != 0)
		return bad(err, errlen, path, line, "bad reserved port '%s' (1..65535)",
			   shown(f[4], s, sizeof(s)));

	for (size_t i = 0; i < c->n; i++) {
		const struct cluster_host *o = &c->hosts[i];
		if (strcmp(o->name, h.name) == 0)
			return bad(err, errlen, path, line,
				   "duplicate host name '%s' (first on line %u)", h.name, o->line);
		if (overlaps(o, h.subnet, h.prefix_len)) {
			struct in_addr x = {.s_addr = htonl(o->subnet)};
			char os[INET_ADDRSTRLEN];
			inet_ntop(AF_INET, &x, os, sizeof(os));
			return bad(err, errlen, path, line,
				   "virtual subnet %s overlaps %s/%u of host %s (line %u)", f[3],
				   os, o->prefix_len, o->name, o->line);
		}
		if (o->underlay_ip == h.underlay_ip && o->port == h.port)
			return bad(err, errlen, path, line,
				   "underlay %s:%u already used by host %s (line %u)", f[2], h.port,
				   o->name, o->line);
	}
	if (c->n >= CLUSTER_MAX_HOSTS)
		return bad(err, errlen, path, line, "too many hosts (at most %d)",
			   CLUSTER_MAX_HOSTS);
	c->hosts[c->n++] = h;
	return 0;
}

/* Splits line in place at blanks; returns the number of fields (at most
 * MAX_FIELDS are stored, more are still counted). */
static int split(char *line, char **f)
{
	int n = 0;
	char *save = NULL;

	for (char *t = strtok_r(line, " \t\r\v\f", &save); t;
	     t = strtok_r(NULL, " \t\r\v\f", &save)) {
		if (n < MAX_FIELDS)
			f[n] = t;
		n++;
	}
	return n;
}

int cluster_load(const char *path, struct cluster *c, char *err, size_t errlen)
{
	char buf[LINE_MAX_LEN + 2];
	char s[64];
	unsigned line = 0;
	int rc = 0;
	FILE *fp;

	memset(c, 0, sizeof(*c));
	fp = fopen(path, "re");
	if (!fp) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(buf, sizeof(buf), fp)) {
		char *f[MAX_FIELDS];
		size_t len = strlen(buf);

		line++;
		if (len > 0 && buf[len - 1] == '\n')
			buf[--len] = '\0';
		else if (!feof(fp)) {
			rc = bad(err, errlen, path, line, "line too long (at most %d characters)",
				 LINE_MAX_LEN);
			break;
		}
		char *hash = strchr(buf, '#');
		if (hash)
			*hash = '\0';
		int nf = split(buf, f);
		if (nf == 0)
			continue;
		if (strcmp(f[0], "host") != 0) {
			rc = bad(err, errlen, path, line, "unknown keyword '%s' (" USAGE ")",
				 shown(f[0], s, sizeof(s)));
			break;
		}
		rc = parse_host(c, f, nf, path, line, err, errlen);
		if (rc)
			break;
	}
	if (rc == 0 && ferror(fp)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		rc = -1;
	}
	fclose(fp);
	if (rc == 0 && c->n == 0) {
		snprintf(err, errlen, "%s: no host lines (" USAGE ")", path);
		rc = -1;
	}
	return rc;
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
