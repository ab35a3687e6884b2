/* Small helpers shared by the example programs (slim-echo, slim-setup-bench):
 * strict argument parsing, a listening socket, whole-buffer I/O and the
 * "PROG server|client ..." entry point. Error messages start with the
 * program name given to nu_main(). */
#ifndef SLIM_TESTBED_NETUTIL_H
#define SLIM_TESTBED_NETUTIL_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The program name for messages (set by nu_main). */
extern const char *nu_prog;

/* A decimal port in min..65535 (min is 0 or 1). Returns it, or -1. */
int nu_parse_port(const char *s, int min);

/* A whole decimal integer in min..max into *out. Returns 0, or -1 after
 * printing "PROG: bad WHAT 'S' (want MIN..MAX)". */
int nu_parse_long(const char *what, const char *s, long min, long max, long *out);

/* Parses a --seconds value: a number in (0, 3600]. Returns 0, or -1 after
 * printing "PROG: bad --seconds ..." on stderr. */
int nu_parse_seconds(const char *prog, const char *s, double *out);

/* A dotted IPv4 address. Returns 0, or -1. */
int nu_parse_ipv4(const char *s, struct in_addr *out);

/* The example servers' command line, "[--bind IP] [--NAME N] PORT" (argv[0]
 * is the "server" word): *sin gets the address (INADDR_ANY unless --bind) and
 * the port (min_port..65535), *val the option's value in min..max (left as is
 * if absent). Returns 0, or -1 after printing why (usage(stderr) if
 * malformed). */
int nu_server_args(int argc, char **argv, const char *name, long min, long max, long *val,
		   int min_port, struct sockaddr_in *sin, void (*usage)(FILE *));

/* socket + SO_REUSEADDR + bind + listen. Returns the fd, or -1 after
 * printing which step failed and why. */
int nu_listen_tcp(const struct sockaddr_in *sin, int backlog);

/* Write or read exactly len bytes, retrying EINTR and polling when the
 * socket is non-blocking. Return 0, or -1 with errno (EPIPE for an early EOF
 * while reading). */
int nu_write_all(int fd, const void *buf, size_t len);
int nu_read_all(int fd, void *buf, size_t len);

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t nu_now_ns(void);

/* main() of a "PROG server ...|client ..." program: sets nu_prog, makes
 * stdout line buffered, ignores SIGPIPE and runs server or client with
 * argv[1] as their argv[0]; --help (or -h) prints usage(stdout) and returns
 * 0; anything else usage(stderr) and 1. */
int nu_main(const char *prog, int argc, char **argv, void (*usage)(FILE *),
	    int (*server)(int, char **), int (*client)(int, char **));

#endif
