/* A merged listener's wait set: one epoll instance holding both of its
 * queues (the host socket and the container side), in which every thread
 * blocking in accept on the listener waits. Threads asleep in epoll_wait
 * on one instance wait exclusively and are woken one per event, as the
 * kernel wakes one thread blocked in a plain accept per connection; a
 * ppoll on the two queues would wake every one of them for each
 * connection. Made at the listener's first blocking accept (servers that
 * wait in epoll or poll themselves never pay for it); the listener's
 * fdtable entry owns it (fdtable_put_waitset).
 *
 * Edge-triggered, one event per wait, and a hand-off: a thread that took a
 * connection re-arms that queue's registration (EPOLL_CTL_MOD), which
 * wakes one more waiter only if the queue still holds a connection.
 * Level-triggered would wake the next waiter as soon as the first one
 * returns, before it has taken the connection, and that one the next: 2 to
 * 3 of 3 other threads per connection, measured. Edge-triggered without
 * the hand-off would leave a second connection that came with the first
 * waiting for a third. EPOLLONESHOT would hand off the same way, but leave
 * the queue disarmed for every thread if the woken one never came back
 * (a longjmp out of a signal handler, a thread that exits); a missed
 * hand-off here delays a pending connection until the next one arrives.
 * One event per wait: both queues' events in one answer would leave the
 * one not taken with no thread woken for it. */
#ifndef LIBSLIM_MERGE_WAITSET_H
#define LIBSLIM_MERGE_WAITSET_H

#include <stdbool.h>
#include <time.h>

/* Event data of the two queues in the set. */
#define WAITSET_HOST 0u
#define WAITSET_SIDE 1u

/* The wait set of listener fd whose container side is cfd, made now if it
 * has none: its fd, or -1 if it cannot be had (no fd left, no memory):
 * the caller then waits in ppoll. Preserves errno. */
int merge_waitset(int fd, int cfd);

/* Waits in wait set ep (or, when ep < 0 or is no longer an epoll set, in
 * ppoll on fd and cfd; cfd < 0: fd alone) until a queue shows something,
 * for at most *left (NULL: no limit). Sets *host and *side to whether each
 * did (one of them from the wait set), and *side_dead if the container
 * side reported an error or hang-up without a connection (it no longer
 * listens): the caller stops waiting on it (merge_waitset_drop). Returns
 * the number of queues that showed something, 0 when *left passed, -1
 * with errno (EINTR). */
int merge_waitset_wait(int ep, int fd, int cfd, const struct timespec *left, bool *host, bool *side,
		       bool *side_dead);

/* A connection was taken from queue qfd (WAITSET_HOST or WAITSET_SIDE:
 * which) after a wait in ep: wakes the next waiter if qfd still holds one.
 * Nothing when ep < 0. Preserves errno. */
void merge_waitset_pass(int ep, int qfd, unsigned which);

/* Takes container side cfd out of wait set ep: it no longer listens. */
void merge_waitset_drop(int ep, int cfd);

#endif
