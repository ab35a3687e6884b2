/* Tiny assertions for the unit tests: a failed check prints where and what,
 * and the test exits non-zero at the end (or at once with REQUIRE). */
#ifndef SLIM_TEST_CHECK_H
#define SLIM_TEST_CHECK_H

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_failures;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);   \
			check_failures++;                                                          \
		}                                                                                  \
	} while (0)

#define REQUIRE(cond)                                                                              \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: required: %s\n", __FILE__, __LINE__, #cond);       \
			exit(1);                                                                   \
		}                                                                                  \
	} while (0)

#define CHECK_STR(got, want)                                                                       \
	do {                                                                                       \
		const char *g_ = (got), *w_ = (want);                                              \
		if (!g_ || strcmp(g_, w_) != 0) {                                                  \
			fprintf(stderr, "%s:%d: %s\n    got:  '%s'\n    want: '%s'\n", __FILE__,   \
				__LINE__, #got, g_ ? g_ : "(null)", w_);                           \
			check_failures++;                                                          \
		}                                                                                  \
	} while (0)

#define CHECK_INT(got, want)                                                                       \
	do {                                                                                       \
		long long g_ = (long long)(got), w_ = (long long)(want);                           \
		if (g_ != w_) {                                                                    \
			fprintf(stderr, "%s:%d: %s = %lld, want %lld\n", __FILE__, __LINE__, #got, \
				g_, w_);                                                           \
			check_failures++;                                                          \
		}                                                                                  \
	} while (0)

/* Ends main(): 0 when every check passed. */
#define CHECK_DONE()                                                                               \
	do {                                                                                       \
		if (check_failures)                                                                \
			fprintf(stderr, "%d check(s) failed\n", check_failures);                   \
		return check_failures ? 1 : 0;                                                     \
	} while (0)

/* A dotted IPv4 address in host byte order (the test's own literals). */
static inline uint32_t ip(const char *s)
{
	struct in_addr a;

	REQUIRE(inet_pton(AF_INET, s, &a) == 1);
	return ntohl(a.s_addr);
}

/* Writes text to path (tests run in a private temp dir). */
static inline void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	REQUIRE(f);
	fputs(text, f);
	REQUIRE(fclose(f) == 0);
}

#endif
