/* State file reader and writer. The reader is as strict as the cluster file
 * parser: a line it cannot understand stops the router with "FILE:LINE:
 * reason" rather than silently forgetting a container. */
#include "state.h"
#include "linefile.h"
#include "log.h"
#include "wire.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LINE_MAX_LEN (REG_NETNS_MAX + SLIM_CONTAINER_NAME_MAX + 64)
#define USAGE "expected: container NAME VIP NETNS_PATH [ID]"

bool state_netns_ok(const char *path)
{
	size_t n = strlen(path);

	if (n == 0 || n > REG_NETNS_MAX || path[0] != '/')
		return false;
	for (const char *p = path; *p; p++)
		if (*p == '#' || isspace((unsigned char)*p) || iscntrl((unsigned char)*p))
			return false;
	return true;
}

/* A decimal id, 1..UINT32_MAX, digits only. Returns 0 or -1. */
static int parse_id(const char *t, uint32_t *id)
{
	unsigned long long v = 0;

	if (!*t || strlen(t) > 10)
		return -1;
	for (const char *p = t; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (unsigned)(*p - '0');
	}
	if (v == 0 || v > UINT32_MAX)
		return -1;
	*id = (uint32_t)v;
	return 0;
}

static int parse_line(char **f, int nf, struct state_entry *e, const char *path, unsigned line,
		      char *err, size_t errlen)
{
	struct in_addr a;
	char s[64];

	if (strcmp(f[0], "container") != 0)
		return lf_bad(err, errlen, path, line, "unknown keyword '%s' (" USAGE ")",
			      lf_shown(f[0], s, sizeof(s)));
	if (nf < 4)
		return lf_bad(err, errlen, path, line, "missing fields (" USAGE ")");
	if (nf > 5)
		return lf_bad(err, errlen, path, line, "too many fields (" USAGE ")");
	if (!slim_container_name_ok(f[1]))
		return lf_bad(err, errlen, path, line,
			      "bad container name '%s' (1..%d characters of [A-Za-z0-9_.-])",
			      lf_shown(f[1], s, sizeof(s)), SLIM_CONTAINER_NAME_MAX);
	if (inet_pton(AF_INET, f[2], &a) != 1 || a.s_addr == 0)
		return lf_bad(err, errlen, path, line, "bad virtual address '%s'",
			      lf_shown(f[2], s, sizeof(s)));
	if (!state_netns_ok(f[3]))
		return lf_bad(err, errlen, path, line,
			      "bad netns path '%s' (absolute, at most %d characters)",
			      lf_shown(f[3], s, sizeof(s)), REG_NETNS_MAX);
	memset(e, 0, sizeof(*e));
	if (nf == 5 && parse_id(f[4], &e->id) != 0)
		return lf_bad(err, errlen, path, line, "bad container id '%s' (1..4294967295)",
			      lf_shown(f[4], s, sizeof(s)));
	strcpy(e->name, f[1]);
	e->vip = ntohl(a.s_addr);
	strcpy(e->netns, f[3]);
	e->line = line;
	return 0;
}

/* Where state_load's line callback puts what it parses. */
struct load_ctx {
	struct state_entry *out;
	size_t max, n;
};

/* lf_line_fn: one container line into the next slot of the load_ctx. */
static int load_line(void *ctx, char **f, int nf, const char *path, unsigned line, char *err,
		     size_t errlen)
{
	struct load_ctx *lc = ctx;

	if (lc->n >= lc->max)
		return lf_bad(err, errlen, path, line, "too many containers (at most %zu)",
			      lc->max);
	if (parse_line(f, nf, &lc->out[lc->n], path, line, err, errlen) != 0)
		return -1;
	lc->n++;
	return 0;
}

int state_load(const char *path, struct state_entry *out, size_t max, size_t *n, char *err,
	       size_t errlen)
{
	struct load_ctx lc = {.out = out, .max = max};
	int rc = lf_read(path, LINE_MAX_LEN, 1, load_line, &lc, err, errlen);

	*n = rc == 0 ? lc.n : 0;
	return rc;
}

/* write(2) until done. Returns 0 or -1 with errno. */
static int write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

int state_save(const char *path, const struct registry *reg, char *err, size_t errlen)
{
	static const char head[] = "# slim-router container registry, rewritten on every change\n"
				   "# container NAME VIP NETNS_PATH ID\n";
	char tmp[4096], line[LINE_MAX_LEN + 2];
	int fd, e;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		snprintf(err, errlen, "%s: %s", path, strerror(ENAMETOOLONG));
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		e = errno;
		snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(e));
		return -1;
	}
	if (write_all(fd, head, sizeof(head) - 1) != 0)
		goto fail;
	for (size_t i = 0; i < reg->n; i++) {
		const struct container *c = &reg->c[i];
		char id[16] = "";
		/* A container restored without an id stays without one, so
		 * its sockets keep working across further restarts too. */
		if (!c->any_stamp)
			snprintf(id, sizeof(id), " %u", c->id);
		int len = snprintf(line, sizeof(line), "container %s %s %s%s\n", c->name,
				   ip_str(c->vip), c->netns, id);
		if (len < 0 || len >= (int)sizeof(line)) {
			errno = ENAMETOOLONG;
			goto fail;
		}
		if (write_all(fd, line, (size_t)len) != 0)
			goto fail;
	}
	if (close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) != 0)
		goto fail;
	return 0;
fail:
	e = errno;
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(e));
	return -1;
}
