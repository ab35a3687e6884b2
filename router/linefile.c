#include "linefile.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *lf_shown(const char *tok, char *buf, size_t len)
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

int lf_bad(char *err, size_t errlen, const char *path, unsigned line, const char *fmt, ...)
{
	char reason[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	snprintf(err, errlen, "%s:%u: %s", path, line, reason);
	return -1;
}

/* Splits line in place at blanks; returns the number of fields (at most
 * LF_MAX_FIELDS are stored, more are still counted). */
static int split(char *line, char **f)
{
	int n = 0;
	char *save = NULL;

	for (char *t = strtok_r(line, " \t\r\v\f", &save); t;
	     t = strtok_r(NULL, " \t\r\v\f", &save)) {
		if (n < LF_MAX_FIELDS)
			f[n] = t;
		n++;
	}
	return n;
}

int lf_read(const char *path, size_t max_len, int missing_ok, lf_line_fn fn, void *ctx, char *err,
	    size_t errlen)
{
	unsigned line = 0;
	int rc = 0;
	char *buf;
	FILE *fp;

	fp = fopen(path, "re");
	if (!fp) {
		if (errno == ENOENT && missing_ok)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	buf = malloc(max_len + 2);
	if (!buf) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		fclose(fp);
		return -1;
	}
	long at = ftell(fp);
	while (fgets(buf, (int)(max_len + 2), fp)) {
		char *f[LF_MAX_FIELDS];
		size_t len = strlen(buf);
		long next = ftell(fp);

		line++;
		/* strlen stops at a NUL byte, fgets does not: the rest of the
		 * line would be silently dropped. (Unseekable files, a FIFO,
		 * have no position to compare: not checked.) */
		if (at >= 0 && next >= 0 && (size_t)(next - at) != len) {
			rc = lf_bad(err, errlen, path, line, "NUL byte in line (not a text file?)");
			break;
		}
		at = next;
		if (len > 0 && buf[len - 1] == '\n')
			buf[--len] = '\0';
		else if (!feof(fp)) {
			rc = lf_bad(err, errlen, path, line,
				    "line too long (at most %zu characters)", max_len);
			break;
		}
		char *hash = strchr(buf, '#');
		if (hash)
			*hash = '\0';
		int nf = split(buf, f);
		if (nf == 0)
			continue;
		rc = fn(ctx, f, nf, path, line, err, errlen);
		if (rc)
			break;
	}
	if (rc == 0 && ferror(fp)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		rc = -1;
	}
	free(buf);
	fclose(fp);
	return rc;
}
