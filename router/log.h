/* One-line log messages on stderr, prefixed with the program and host name:
 * "slim-router[h1]: container c1 10.244.1.2 added". */
#ifndef SLIM_ROUTER_LOG_H
#define SLIM_ROUTER_LOG_H

#include <stdint.h>

/* Sets the host name used in the prefix (the string must outlive logging). */
void rlog_set_host(const char *host);

/* Logs one line (no trailing newline in fmt). */
void rlog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Formats a host-byte-order IPv4 address into a static buffer out of 4
 * rotating ones, so up to 4 calls may appear in one printf. */
const char *ip_str(uint32_t ip);

#endif
