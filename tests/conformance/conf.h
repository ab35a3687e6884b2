/* The differential conformance suite: shared definitions of the client
 * (slim-conf-client), its cases and the server (slim-conf-server).
 *
 * Every case prints one line per observable: return values, errno names,
 * addresses, readiness events, data. The same binary runs over the plain
 * container network and under slim-run; the runner diffs the two outputs.
 * Nothing printed may depend on fd numbers, ephemeral ports or timing, so
 * the output of a correct run is byte-for-byte the same in both modes. */
#ifndef SLIM_CONF_H
#define SLIM_CONF_H

#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

/* The server's fixed ports (slim-conf-server serves all of them). */
enum {
	PORT_CONTROL = 7000, /* line commands: "connect PORT COUNT MODE" (connect-back) */
	PORT_ECHO = 7001,    /* echo until EOF, then close */
	PORT_CLOSE = 7002,   /* close at once after accept */
	PORT_RESET = 7003,   /* SO_LINGER {1, 0} then close: a RST */
	PORT_CLOSED = 7004,  /* nobody listens: ECONNREFUSED */
	PORT_SINK = 7005,    /* read until EOF, then write "got N\n" and close */
	PORT_GREET = 7006,   /* write "hello\n", shutdown(SHUT_WR), read until EOF, close */
	PORT_WHOAMI = 7007,  /* write what accept/getpeername/getsockname said, wait EOF */
	PORT_HOLD = 7008,    /* read until EOF, write "got N\n", stay open until reset */
	PORT_FULL = 7009,    /* backlog 0, filled by the server itself, never accepts */
};

/* Ports at or above this are ephemeral (the testbed's ip_local_port_range
 * starts at 10000 in every namespace) and print as "eph". */
#define CONF_EPH_MIN 10000

/* Bound for every wait on the network inside a case, in milliseconds. */
#define CONF_WAIT_MS 3000

/* Where the servers are: far = c2 on the other host, near = c3 on the same
 * host (may be unset: INADDR_ANY, then near cases say "no near server"). */
struct conf_env {
	struct in_addr far, near;
	const char *self_exe; /* /proc/self/exe target, for the exec cases */
};
extern struct conf_env conf;

struct conf_case {
	const char *name;
	const char *what; /* one line for --list and the docs */
	void (*run)(void);
};

/* Each area file exports a table terminated by {0}. */
extern const struct conf_case conf_cases_connect[];
extern const struct conf_case conf_cases_poll[];
extern const struct conf_case conf_cases_listen[];
extern const struct conf_case conf_cases_sockopt[];
extern const struct conf_case conf_cases_dup[];
extern const struct conf_case conf_cases_process[];
extern const struct conf_case conf_cases_errors[];
extern const struct conf_case conf_cases_inet6[];
extern const struct conf_case conf_cases_threads[];
extern const struct conf_case conf_cases_fortify[];

/* The exec cases re-run the client as "slim-conf-client --exec-child ...";
 * this is that entry point (cases_process.c). Returns the exit status. */
int conf_exec_child(int argc, char **argv);

/* ---- output (conf_util.c). Every function keeps errno. ---- */

/* One line on stdout, flushed (so fork and exec never duplicate or lose
 * buffered output). */
void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The errno constant's name ("ECONNREFUSED"), or "E<number>". */
const char *ename(int e);

/* "LABEL: R" for r >= 0, "LABEL: -1 ENAME" for r < 0 (e is the errno saved
 * right after the call). For calls returning 0/-1 or a byte count. */
void say_ret(const char *label, long r, int e);

/* For calls returning an fd: "LABEL: fd" (the number is never printed) or
 * "LABEL: -1 ENAME". */
void say_fd(const char *label, int r, int e);

/* Evaluates EXPR with errno cleared and prints it with say_ret / say_fd;
 * yields the result. */
#define RET(label, expr)                                                                           \
	({                                                                                         \
		errno = 0;                                                                         \
		long r_ = (long)(expr);                                                            \
		int e_ = errno;                                                                    \
		say_ret(label, r_, e_);                                                            \
		errno = e_;                                                                        \
		r_;                                                                                \
	})
#define FD(label, expr)                                                                            \
	({                                                                                         \
		errno = 0;                                                                         \
		int r_ = (int)(expr);                                                              \
		int e_ = errno;                                                                    \
		say_fd(label, r_, e_);                                                             \
		errno = e_;                                                                        \
		r_;                                                                                \
	})

/* Formats an address for output: "10.244.2.2:7001", "[::ffff:10.244.2.2]:7001",
 * with ephemeral ports as "eph"; len is what the call reported. Returns buf. */
const char *fmt_sa(const struct sockaddr *sa, socklen_t len, char *buf, size_t cap);

/* The port of an AF_INET/AF_INET6 address (0 for anything else). */
uint16_t sa_port(const struct sockaddr *sa);

/* getsockname (peer false) or getpeername (peer true) of fd, printed as
 * "LABEL: 0 ADDR" or "LABEL: -1 ENAME". Returns the port (0 on error). */
uint16_t say_name(const char *label, int fd, bool peer);

/* Readiness masks by name, in a fixed order: "IN|OUT|RDHUP|HUP|ERR", "-"
 * for none. poll and epoll bits have the same values for these. */
const char *fmt_events(uint32_t ev, char *buf, size_t cap);

/* fcntl flags of interest: "nonblock=0|1 cloexec=0|1", or "-1 ENAME". */
void say_flags(const char *label, int fd);

/* ---- network helpers ---- */

struct sockaddr_in conf_sin(struct in_addr ip, int port);
struct sockaddr_in far_sin(int port);

/* A connected TCP socket to ip:port, created with flags (SOCK_NONBLOCK:
 * the handshake is waited for, up to CONF_WAIT_MS). Prints "LABEL ...: -1
 * ENAME" and returns -1 on failure; prints nothing on success. */
int dial(const char *label, struct in_addr ip, int port, int flags);

/* The client's own address as the container sees it (from a throwaway
 * connection to the echo port); INADDR_ANY if that fails. */
in_addr_t own_ip(void);

/* Polls fd until one of `want` (or an error/hangup) is ready or ms pass;
 * returns the last revents (0 on timeout). */
short wait_ready(int fd, short want, int ms);

/* Writes len bytes of buf (MSG_NOSIGNAL), waiting for POLLOUT up to
 * CONF_WAIT_MS at a time on a non-blocking fd. Returns 0, or -1 with errno. */
int write_all(int fd, const char *buf, size_t len);

/* Writes msg whole, then reads back exactly as many bytes within
 * CONF_WAIT_MS; prints "LABEL: ok MSG" or what went wrong. Handles
 * non-blocking fds. Returns 0 on a correct echo. */
int echo_check(const char *label, int fd, const char *msg);

/* Reads up to cap-1 bytes, stopping after a '\n', within ms; NUL-terminates.
 * Returns the length, 0 on EOF before any byte, -1 with errno (ETIMEDOUT
 * when nothing came in time). */
ssize_t read_line(int fd, char *buf, size_t cap, int ms);

/* Reads until EOF or error within ms into buf (cap-1 bytes at most, the
 * rest is counted and dropped). Returns the total, or -1 with errno when
 * nothing came; *err gets the errno that ended the read (0 for EOF). */
ssize_t read_to_eof(int fd, char *buf, size_t cap, int ms, int *err);

/* Connect-back: asks the far server (over its control port) to connect
 * count times to this client's address (as the server sees it) at port,
 * each connection writing "hi\n" then, by mode, waiting for EOF ("hold") or
 * closing ("close"). Returns the control fd, or -1 after printing why. The
 * server reports one line per attempt: read them with cb_results. */
int cb_request(int port, int count, const char *mode);

/* Reads count result lines from the control fd and prints them as
 * "LABEL: ok" / "LABEL: ECONNREFUSED" / "LABEL: timeout", then closes it. */
void cb_results(const char *label, int ctl, int count);

/* Like cb_results, but one summary line: "LABEL: ok=N" plus "NAME=N" for
 * each other result. */
void cb_summary(const char *label, int ctl, int count);

/* Reads the whoami server's three lines from fd and prints what the server
 * saw: "LABEL accept: IP port=mine" (the client's own getsockname port) or
 * the port as fmt_sa would print it, the same for its getpeername, and its
 * getsockname as-is. */
void whoami(const char *label, int fd);

/* epoll_wait on ep until an event with one of `want` shows up or ms pass;
 * prints "LABEL: TAG=EVENTS ..." (TAG: the event's data.u32) of that last
 * call, or "LABEL: timeout" / "LABEL: timeout, last TAG=EVENTS". Returns
 * the events of the first entry (0 on timeout). */
uint32_t ep_wait(const char *label, int ep, uint32_t want, int ms);

/* epoll_ctl printed as "LABEL: 0" / "LABEL: -1 ENAME"; data.u32 = tag. */
int ep_ctl(const char *label, int ep, int op, int fd, uint32_t events, uint32_t tag);

/* A listening AF_INET socket bound to ip:port (backlog 16). Prints
 * "LABEL: ..." only on failure. Returns the fd or -1. */
int listen_on(const char *label, in_addr_t ip, int port, int flags);

/* Accepts within ms (polling first, so a lost connection cannot hang the
 * case); prints "LABEL: fd" / "LABEL: -1 ENAME" / "LABEL: timeout", and the
 * address accept reported as "LABEL addr: ADDR". Returns the fd or -1. */
int accept_wait(const char *label, int lfd, int flags, int ms);

/* How many fds the process has open (entries of /proc/self/fd, the
 * listing's own fd not counted), or -1. */
int fd_count(void);

/* CLOCK_MONOTONIC milliseconds. */
long long now_ms(void);

/* Elapsed time in coarse, stable buckets for timeout checks:
 * "<0.5s", "0.5s..3s", ">3s". */
const char *bucket(long long ms);

#endif
