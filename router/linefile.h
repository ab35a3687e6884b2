/* Reading the router's line-oriented files (cluster file, state file):
 * "keyword field..." per line, '#' comments, blank lines, and every error
 * reported as "FILE:LINE: reason". */
#ifndef SLIM_ROUTER_LINEFILE_H
#define SLIM_ROUTER_LINEFILE_H

#include <stddef.h>

/* More fields than any line may have, so "too many fields" is detectable:
 * callbacks get the true count but at most LF_MAX_FIELDS pointers. */
#define LF_MAX_FIELDS 8

/* Called for each line with fields (comments stripped, split at blanks).
 * Returns 0 to go on, or -1 after writing the reason with lf_bad. */
typedef int (*lf_line_fn)(void *ctx, char **f, int nf, const char *path, unsigned line, char *err,
			  size_t errlen);

/* Reads path line by line into fn. A missing file is an error unless
 * missing_ok (then 0, fn never called). Lines longer than max_len, and
 * lines holding a NUL byte, are an error. Returns 0, or -1 with a one-line
 * reason in err. */
int lf_read(const char *path, size_t max_len, int missing_ok, lf_line_fn fn, void *ctx, char *err,
	    size_t errlen);

/* tok made fit for an error message: at most 40 characters, unprintable
 * ones replaced, so a binary file cannot garble the terminal. Returns buf. */
const char *lf_shown(const char *tok, char *buf, size_t len);

/* Writes "path:line: reason" into err and returns -1. */
int lf_bad(char *err, size_t errlen, const char *path, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

#endif
