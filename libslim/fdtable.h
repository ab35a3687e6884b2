/* What libslim knows about each file descriptor of the process. */
#ifndef LIBSLIM_FDTABLE_H
#define LIBSLIM_FDTABLE_H

#include <stdbool.h>
#include <stdint.h>

#include "common.h"

enum fd_kind {
	FD_PLAIN = 0, /* unknown or not ours: every call goes straight to libc */
	FD_CANDIDATE, /* AF_INET TCP socket of the container, not decided yet */
	FD_CLIENT,    /* swapped: host socket connecting to an overlay peer */
	FD_LISTENER,  /* swapped: host listener for a virtual port */
	FD_ACCEPTED,  /* accepted from a slim listener (timewait.c, inet6.c) */
};

/* One fd's state. Which fields mean something depends on kind:
 *  CANDIDATE: host: the app's socket() already got a host socket from the
 *             pool (an overlay connect then needs no swap; anything else
 *             swaps a container socket in first; aux.ip = the view epoch
 *             of its stamps); bound (and then aux = the address the app
 *             bound to; never with host)
 *  CLIENT:    peer = virtual destination
 *  LISTENER:  local = the address the app bound (0.0.0.0 or vip):vport;
 *             aux.ip = SLIM_TW_REUSE if the app set SO_REUSEADDR on it
 *  ACCEPTED:  local = its listener's; aux.ip = SLIM_TW_* flags
 * Accepted sockets need no tracking for their names: the kernel reports
 * their virtual addresses (getsockname4/getpeername4 programs). */
struct fd_state {
	enum fd_kind kind;
	bool bound;
	uint32_t opts; /* CANDIDATE, CLIENT: carried options the app set (swap.h) */
	bool host;     /* CANDIDATE: it is a host socket from the pool */
	/* The app created it AF_INET6 (dual stack): once an AF_INET host
	 * socket carries it (CLIENT, LISTENER, MAPPED), its names are shown
	 * v4-mapped (inet6.c). */
	bool v6;
	uint64_t ino; /* socket inode when the state was recorded */
	struct slim_ep local, peer, aux;
	/* CANDIDATE (host, bound) and LISTENER made from one: the container
	 * socket that holds the bound port in the container (bind_listen.c),
	 * and the low 32 bits of its inode (0: none). Closed with the fd. */
	int resv;
	uint32_t resv_ino;
};

/* Records st for fd (fd >= 0). Returns 0, or -1 if fd is beyond the table or
 * memory for it could not be mapped: then fd simply stays plain. Not
 * async-signal-safe (may mmap); lock-free. */
int fdtable_set(int fd, const struct fd_state *st);

/* Copies fd's recorded state into st (kind FD_PLAIN if none). Lock-free and
 * never allocates. Does not check that the record is still current. */
void fdtable_get(int fd, struct fd_state *st);

/* Forgets fd. Async-signal-safe: one atomic store at most. */
void fdtable_clear(int fd);

/* Like fdtable_get, but verifies that fd is still the socket the record was
 * made for (same inode); a stale record (the fd was closed behind our back,
 * e.g. by close_range or dup2, and the number reused) is cleared and plain is
 * returned. Preserves errno. */
void fdtable_lookup(int fd, struct fd_state *st);

/* Takes fd's reservation out of its record (fd_state.resv, packed as
 * resv << 32 | resv_ino), or returns 0 if it has none. Async-signal-safe:
 * for close. */
uint64_t fdtable_take_resv(int fd);

/* The TCP state of fd (TCP_INFO: TCP_ESTABLISHED...), TCP_CLOSE if it has
 * none to report. Preserves errno. Async-signal-safe. */
int fd_tcp_state(int fd);

/* The inode of fd, or 0 if fstat fails. Preserves errno. */
uint64_t fd_inode(int fd);

#endif
