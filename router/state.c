/* State file reader and writer. The reader is as strict as the cluster file
 * parser: a line it cannot understand stops the router with "FILE:LINE:
 * reason" rather than silently forgetting a container. */
#include "state.h"
#include "log.h"
#include "wire.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LINE_MAX_LEN (REG_NETNS_MAX + 128)
#define MAX_FIELDS 5 /* one more than allowed, to detect "too many" */
#define USAGE "expected: container NAME VIP NETNS_PATH"

/* Copies a token for an error message: at most 40 characters, anything
 * unprintable replaced. */
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

static int bad(char *err, size_t errlen, const char *path, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

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

static int parse_line(char **f, int nf, struct state_entry *e, const char *path, unsigned line,
		      char *err, size_t errlen)
{
	struct in_addr a;
	char s[64];

	if (strcmp(f[0], "container") != 0)
		return bad(err, errlen, path, line, "unknown keyword '%s' (" USAGE ")",
			   shown(f[0], s, sizeof(s)));
	if (nf < 4)
		return bad(err, errlen, path, line, "missing fields (" USAGE ")");
	if (nf > 4)
		return bad(err, errlen, path, line, "too many fields (" USAGE ")");
	if (!slim_name_ok(f[1]))
		return bad(err, errlen, path, line,
			   "bad container name '%s' (1..63 characters of [A-Za-z0-9_.-])",
			   shown(f[1], s, sizeof(s)));
	if (inet_pton(AF_INET, f[2], &a) != 1 || a.s_addr == 0)
		return bad(err, errlen, path, line, "bad virtual address '%s'",
			   shown(f[2], s, sizeof(s)));
	if (!state_netns_ok(f[3]))
		return bad(err, errlen, path, line,
			   "bad netns path '%s' (absolute, at most %d characters)",
			   shown(f[3], s, sizeof(s)), REG_NETNS_MAX);
	memset(e, 0, sizeof(*e));
	strcpy(e->name, f[1]);
	e->vip = ntohl(a.s_addr);
	strcpy(e->netns, f[3]);
	e->line = line;
	return 0;
}

int state_load(const char *path, struct state_entry *out, size_t max, size_t *n, char *err,
	       size_t errlen)
{
	char buf[LINE_MAX_LEN + 2];
	unsigned line = 0;
	int rc = 0;
	FILE *fp;

	*n = 0;
	fp = fopen(path, "re");
	if (!fp) {
		if (errno == ENOENT)
			return 0; /* no previous state */
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
		if (*n >= max) {
			rc = bad(err, errlen, path, line, "too many containers (at most %zu)", max);
			break;
		}
		rc = parse_line(f, nf, &out[*n], path, line, err, errlen);
		if (rc)
			break;
		(*n)++;
	}
	if (rc == 0 && ferror(fp)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		rc = -1;
	}
	fclose(fp);
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
				   "# container NAME VIP NETNS_PATH\n";
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
		int len = snprintf(line, sizeof(line), "container %s %s %s\n", c->name,
				   ip_str(c->vip), c->netns);
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
