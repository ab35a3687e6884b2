/* Merged listeners: who reaches a slim listener. Its host socket on the
 * reserved port is reached only by slim clients (the reserved port's
 * reuseport program hands it their connections); every other client (a
 * plain container, a static binary, loopback, the host namespace probing
 * the pod) connects to the container's own address. So the listener's
 * reservation, the container socket bound as the app asked, listens too:
 * the "container side". libslim merges its accept queue into the app's one
 * listening fd: accept takes from either, and wherever the app waits on the
 * fd (epoll, poll, select) the container side is waited on with it. A
 * connection accepted there is the kernel's own socket in the container:
 * names, errors and teardown are the plain network's.
 *
 * The container side is libslim's fd (high range, O_NONBLOCK, O_CLOEXEC),
 * recorded in the listener's entry (fd_listener.resv) and in its own entry
 * (FD_CSIDE), so that whichever of the two the app closes (close,
 * close_range, dup2 over it) releases the pair. */
#ifndef LIBSLIM_MERGE_H
#define LIBSLIM_MERGE_H

#include <stdatomic.h>
#include <stdbool.h>

#include "fdtable.h"

/* How many container sides this process holds (best effort: one whose fd
 * the app closed behind libslim's back still counts). The readiness hooks
 * do nothing else while it is 0. */
extern _Atomic int merge_live;

/* True if this process may hold a container side: one relaxed load. */
static inline bool merge_any(void)
{
	return atomic_load_explicit(&merge_live, memory_order_relaxed) > 0;
}

/* Makes cfd (a bound container socket of libslim's, not shared with the
 * app) listen with backlog, and non-blocking: accept on it never waits,
 * whatever the app's listener is. Returns 0, or -1 with errno: the
 * container's verdict (EADDRINUSE: another socket listens on the port). */
int merge_side_listen(int cfd, int backlog);

/* Records fd as the listener *st (FD_LISTENER). If st->u.listener.resv is
 * a container side (ino != 0), reads fd's SO_RCVTIMEO into *st first
 * (listener_timeo.h), records the side too (FD_CSIDE), counts it,
 * and, if follow, adds it to every epoll set the listener is already
 * registered in (an epoll registration made before listen: merge_epoll.h;
 * a read of /proc per epoll fd, so only for a socket that was registered:
 * merge_registered). Preserves errno. */
void merge_attach(int fd, struct fd_state *st, bool follow);

/* True if socket ino at fd was registered in an epoll set before it
 * listened, through fd or a copy of it made before listen
 * (FDT_MARK_EPOLL). */
bool merge_registered(int fd, uint64_t ino);

/* The container side of fd if fd is a listener that has one: false at
 * once while merge_any() is false, else one lock-free table read (two for
 * a listener). Preserves errno. */
bool merge_side(int fd, struct slim_resv *c);

/* Releases the container side c, already taken out of its listener's
 * entry (fdtable_take_resv): forgets its own entry, uncounts it and closes
 * it if its fd still is it (pending connections are reset, as when a plain
 * listener closes). Nothing for ino 0. Async-signal-safe. */
void merge_release(struct slim_resv c);

/* The app is about to close fd (close, dup2/dup3 over it, close_range):
 * a listener releases its container side (or keeps its port bound while a
 * TIME_WAIT would: timewait.h), and the container side of a listener that
 * the app closes itself is unlinked from it. Other kinds: nothing. Call it
 * while fd still is the socket (the TIME_WAIT emulation reads its state).
 * Async-signal-safe. Preserves errno. */
void merge_closing(int fd);

/* The app made fd2 a copy of fd (dup, dup2, dup3). A copy of a merged
 * listener gets a container side of its own (a copy of fd's), so that
 * accept and readiness through either fd merge the same two queues, and
 * closing one copy leaves the other whole. A copy of a bound pool socket
 * (HOST_BOUND) is recorded as one too, without the reservation: whichever
 * of them listens makes all of them merged listeners
 * (merge_bound_listening). Nothing for any other fd. Preserves errno. */
void merge_copied(int fd, int fd2);

/* A socket that could listen was bound (a pool socket for a listener, a
 * container socket): from now on the dup and epoll_ctl hooks look at the
 * fds they are given even while merge_any() is false. */
void merge_note_bound(void);

/* True once merge_note_bound was called: one load. */
bool merge_bound_seen(void);

/* listen() on HOST_BOUND fd (socket inode ino) found no reservation of its
 * own: the one of another fd of the same socket (a copy made before
 * listen), taken out of that fd's record; ino 0 if none. */
struct slim_resv merge_sibling_resv(int fd, uint64_t ino);

/* fd (socket inode ino) just became a merged listener: every other
 * HOST_BOUND fd of the same socket becomes one too, with a copy of its
 * container side (merge_copied). Preserves errno. */
void merge_bound_listening(int fd, uint64_t ino);

#endif
