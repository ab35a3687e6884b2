/* Log lines go to stderr unbuffered so that they interleave sensibly with
 * other processes writing to the same terminal or file. */
#include "log.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>

static const char *log_host = "?";

void rlog_set_host(const char *host)
{
	log_host = host;
}

void rlog(const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* One write per line keeps concurrent writers from splitting it. */
	fprintf(stderr, "slim-router[%s]: %s\n", log_host, line);
}

const char *ip_str(uint32_t ip)
{
	static char bufs[4][INET_ADDRSTRLEN];
	static unsigned next;
	char *b = bufs[next++ % 4];
	struct in_addr a = {.s_addr = htonl(ip)};

	if (!inet_ntop(AF_INET, &a, b, INET_ADDRSTRLEN))
		b[0] = '\0';
	return b;
}
