/* The process's session with slim: whether it uses the overlay now, and
 * why not when it does not. States:
 *   UNKNOWN  the router was not asked yet (nothing needed it);
 *   ACTIVE   hello answered: the process has its vip and the router's view;
 *   AWAY     the router could not be reached (not started, restarting,
 *            crashed, retired): sockets use the container network and the
 *            next need after a second tries again;
 *   DISABLED for good: no SLIM_SOCKET, not in a registered container, or
 *            the router spoke nonsense.
 * Leaving ACTIVE prints the process's one warning line (session_fail).
 * Reads are lock-free; connecting takes the channel lock. */
#ifndef LIBSLIM_SESSION_H
#define LIBSLIM_SESSION_H

#include <stdbool.h>
#include <stdint.h>

/* Why the process is not on the overlay: each has one message. */
enum session_fault {
	FAULT_NO_SOCKET,     /* DISABLED: SLIM_SOCKET unset */
	FAULT_PATH_TOO_LONG, /* DISABLED: SLIM_SOCKET longer than a socket path */
	FAULT_BAD_REPLY,     /* DISABLED: detail = what was wrong */
	FAULT_REFUSED,	     /* DISABLED: detail = the router's reason */
	FAULT_VIEW,	     /* DISABLED: the view could not be mapped; detail = strerror */
	FAULT_UNREACHABLE,   /* AWAY: detail = strerror */
	FAULT_LOST,	     /* AWAY: the connection broke mid-request; detail = strerror */
	FAULT_STOPPED,	     /* AWAY: the router retired and none is back */
};

/* Moves to the fault's state (AWAY or DISABLED) and prints the process's one
 * warning line on stderr, if it has not been printed yet. detail may be
 * NULL where the message has none. Preserves errno. */
void session_fail(enum session_fault f, const char *detail);

/* True once slim has been given up for good. Lock-free, never blocks. */
bool slim_disabled(void);

/* Makes sure the router connection is up and hello answered, connecting
 * when the router was not asked yet or its retry time has come (one
 * blocking round trip). Returns true if the process is on the overlay.
 * Never waits for the channel lock from inside a round trip of this
 * thread. Preserves errno. */
bool slim_active(void);

/* True if the process is on the overlay now (no attempt to get there).
 * Lock-free. */
bool session_is_active(void);

/* The container's virtual IP (host byte order); meaningful once active. */
uint32_t slim_vip(void);

/* True if ip (host byte order) is an overlay address and the process is
 * active; then *epoch is the view's epoch, which pool sockets must match.
 * Reads the view: lock-free, no system call. A retired router puts the
 * process back to AWAY and drops the pool. */
bool slim_overlay(uint32_t ip, uint32_t *epoch);

/* True if the process is active and its router's stamps are in force
 * (view running, or away with the programs kept); then *epoch is the
 * view's epoch. Lock-free, no system call. */
bool slim_epoch(uint32_t *epoch);

enum session_conn {
	CONN_UP = 0,  /* the connection is open and hello answered: channel_fd() */
	CONN_DOWN,    /* could not connect: errno set; the caller reports it */
	CONN_GAVE_UP, /* refused, or nonsense: the session is DISABLED */
};

/* Opens the connection and says hello, unless it is up. Under the channel
 * lock. */
enum session_conn session_connect(void);

/* After the app closed libslim's channel fds (close_range, closefrom): the
 * connection is made again at once if the process is active (the numbers
 * just freed leave room for it), else the spare socket. Quiet: a failure
 * is left to the next need. */
void session_reopen(void);

/* While the process starts: makes the channel's spare socket, if the
 * process is set up for slim. */
void session_warm_up(void);

#endif
