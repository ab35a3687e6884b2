/* What libslim knows about each file descriptor of the process: one tagged
 * kind per fd, each with its own payload. Every hook reads the fd's state
 * and switches over its kind. */
#ifndef LIBSLIM_FDTABLE_H
#define LIBSLIM_FDTABLE_H

#include <stdbool.h>
#include <stdint.h>

#include "common.h"

enum fd_kind {
	/* Not ours (unknown, UDP, a listening container socket, given up):
	 * every call goes straight to libc. */
	FD_PLAIN = 0,
	/* The app's own TCP socket in the container (AF_INET, or AF_INET6
	 * dual stack), not decided yet: a connect to an overlay address or a
	 * listen on the container's vip can still put a host socket under
	 * it. */
	FD_CONTAINER,
	/* A host socket from the pool, stamped for this container, unused:
	 * an overlay connect needs nothing more, anything else puts a
	 * container socket in its place first. */
	FD_POOLED,
	/* A pool socket the app bound to its vip or 0.0.0.0: the bind4
	 * program moved it to the reserved port, and it becomes the listener
	 * itself at listen(). */
	FD_HOST_BOUND,
	/* A host socket connecting (or connected) to an overlay peer. */
	FD_CLIENT,
	/* A host listener for one of the container's virtual ports (and,
	 * when it has one, its container side: merge.h). */
	FD_LISTENER,
	/* A connection accepted from a slim listener's host socket. No
	 * payload: the record says only that an AF_INET6 app's socket shows
	 * v4-mapped names (v6). */
	FD_ACCEPTED,
	/* libslim's own fd: the container side of the listener in its
	 * payload. Plain for every call of the app's. */
	FD_CSIDE,
};

/* A container socket bound as the app asked, which holds the app's port in
 * the container while a host socket listens for it. ino is the low 32 bits
 * of its inode (0: none), so that a number the app closed and reused is
 * never taken for it. */
struct slim_resv {
	int fd;
	uint32_t ino;
};

/* opts, wherever it appears: the carried options the app set (swap.h bits),
 * which a swap replays on the socket that takes the fd's place. */
struct fd_container {
	uint32_t opts;
	bool bound;
	struct slim_ep addr; /* bound: the address the app bound to */
};

struct fd_pooled {
	uint32_t opts;
	uint32_t epoch; /* the view epoch of its stamps */
};

struct fd_host_bound {
	uint32_t opts;
	struct slim_ep addr; /* the app's address: 0.0.0.0 or the vip, and the port */
	struct slim_resv resv;
};

struct fd_client {
	uint32_t opts;
	struct slim_ep peer; /* the virtual destination */
};

struct fd_listener {
	struct slim_ep local; /* the address the app bound (0.0.0.0 or vip):vport */
	bool reuse;	      /* the app's socket had SO_REUSEADDR (timewait.c) */
	/* The container side: the reservation, listening too (merge.h); ino
	 * 0: none. */
	struct slim_resv resv;
	/* The host socket's SO_RCVTIMEO in milliseconds (0: none), which
	 * bounds a blocking merged accept without a getsockopt per call:
	 * listener_timeo.h says how it is kept current. */
	uint32_t rcvtimeo_ms;
};

struct fd_cside {
	int listener; /* the fd of the listener it belongs to */
};

struct fd_state {
	enum fd_kind kind;
	/* The app created it AF_INET6: once an AF_INET host socket carries it
	 * (CLIENT, LISTENER, ACCEPTED), its names are shown v4-mapped. */
	bool v6;
	/* The socket's inode when the state was recorded, or 0 where finding
	 * it would cost a system call on every connection (a pool socket from
	 * the stash, a client made of one, an accepted socket): see
	 * fdtable_lookup. */
	uint64_t ino;
	union {
		struct fd_container container;
		struct fd_pooled pooled;
		struct fd_host_bound host_bound;
		struct fd_client client;
		struct fd_listener listener;
		struct fd_cside cside;
	} u;
};

/* The reservation a state carries (HOST_BOUND, LISTENER), or NULL. */
struct slim_resv *fd_state_resv(struct fd_state *st);

/* The carried-options mask of a state that has one (CONTAINER, POOLED,
 * HOST_BOUND, CLIENT), or NULL. */
uint32_t *fd_state_opts(struct fd_state *st);

/* Records st for fd (fd >= 0). Returns 0, or -1 if fd is beyond the table or
 * memory for it could not be mapped: then fd simply stays plain. Not
 * async-signal-safe (may mmap); lock-free. Preserves errno. */
int fdtable_set(int fd, const struct fd_state *st);

/* Copies fd's recorded state into st (kind FD_PLAIN if none). Lock-free and
 * never allocates. Does not check that the record is still current. */
void fdtable_get(int fd, struct fd_state *st);

/* Forgets fd. Async-signal-safe: one atomic store at most. */
void fdtable_clear(int fd);

/* Like fdtable_get, but verifies that fd is still the socket the record was
 * made for; a stale record (the fd was closed behind our back by a raw
 * system call and the number reused) is cleared and plain is returned.
 * A record with an inode is verified by it; one without (ino 0) by fd
 * being a TCP socket still, which tells every reuse but one by another TCP
 * socket made or received without a hook seeing it. Hooks that only hand
 * the call to the kernel (a pool socket's connect, an accepted socket's
 * close) use fdtable_get and trust the record: the kernel's answer is the
 * one the app would get anyway. Whatever replaces or closes the file under
 * fd looks up first. Preserves errno. */
void fdtable_lookup(int fd, struct fd_state *st);

/* Takes fd's reservation out of its record (so that exactly one close
 * releases it), or returns one with ino 0 if it has none.
 * Async-signal-safe: for close. */
struct slim_resv fdtable_take_resv(int fd);

/* The recorded kind of fd, from one atomic load (FD_PLAIN if none): a
 * filter for hot paths, which confirm with fdtable_get. Async-signal-safe. */
enum fd_kind fdtable_kind(int fd);

/* Calls fn for every recorded fd from first to last (inclusive) with its
 * state, in fd order. fn must not record or clear fds above the one it is
 * given. Never allocates. */
void fdtable_each(int first, int last, void (*fn)(int fd, const struct fd_state *st, void *arg),
		  void *arg);

/* A word of fd's entry that is not part of its state, for a listener's
 * accepting threads (merge.h): NULL if fd has no entry. It survives
 * fdtable_set and fdtable_clear. */
_Atomic uint32_t *fdtable_gate(int fd);

/* A listener's wait set (merge_waitset.h): an fd of libslim's that the
 * entry owns. fdtable_put_waitset records ep for fd if it has none yet:
 * true if it did (false: another thread's is there, or fd has no entry;
 * the caller keeps ep). fdtable_waitset returns it, or -1. Whatever
 * replaces or forgets fd's state (fdtable_set, fdtable_clear) closes it:
 * it belongs to the listener record that was there; only a record of the
 * same listener (the same socket and container side) keeps it.
 * Async-signal-safe. */
bool fdtable_put_waitset(int fd, int ep);
int fdtable_waitset(int fd);

/* Marks of an fd that are not part of its state and outlive kind changes
 * (fdtable_set, fdtable_clear): the socket() hook drops them for a new
 * socket. */
#define FDT_MARK_EPOLL 1u /* registered in an epoll set before it listened */

/* Sets, reads, drops mark on fd's entry (fdtable_mark may map its chunk:
 * not async-signal-safe; the others are). */
void fdtable_mark(int fd, uint32_t mark);
bool fdtable_marked(int fd, uint32_t mark);
void fdtable_unmark(int fd, uint32_t mark);

/* In a forked child: forgets entries another thread of the parent left
 * mid-write (that thread does not exist in the child), and opens every
 * gate (fdtable_gate: no thread of the child is in an accept). */
void fdtable_fork_child(void);

/* The TCP state of fd (TCP_INFO: TCP_ESTABLISHED...), TCP_CLOSE if it has
 * none to report. Preserves errno. Async-signal-safe. */
int fd_tcp_state(int fd);

/* The inode of fd, or 0 if fstat fails. Preserves errno. */
uint64_t fd_inode(int fd);

/* True if fd is a TCP socket (SO_PROTOCOL). Preserves errno.
 * Async-signal-safe. */
bool fd_is_tcp(int fd);

#endif
