/* poll and select over merged listeners: the waits of hooks/poll.c and
 * hooks/select.c, which add each listener's container side (waitfold.h). */
#ifndef LIBSLIM_MERGE_WAIT_H
#define LIBSLIM_MERGE_WAIT_H

#include <poll.h>
#include <signal.h>
#include <sys/select.h>
#include <time.h>

/* What merge_ppoll returns when no entry is a merged listener: the caller
 * makes the app's own call, untouched. */
#define MERGE_NONE (-2)

/* ppoll(fds, n, ts, mask) with the container side of every merged listener
 * among fds waited on too and folded into the listener's entry. Returns
 * what ppoll returns (the app's entries with events, or -1 with errno), or
 * MERGE_NONE (errno preserved) when fds has no merged listener. The
 * entries beyond the app's live on the stack, or in a private mapping for
 * large sets: async-signal-safe, as poll is. */
int merge_ppoll(struct pollfd *fds, nfds_t n, const struct timespec *ts, const sigset_t *mask);

/* pselect(nfds, r, w, e, ts, mask) the same way, as a ppoll of the sets'
 * fds: MERGE_NONE when the read set has no merged listener (the other sets
 * cannot: a listener is never writable). Otherwise what pselect returns,
 * the sets filled as the kernel fills them. */
int merge_pselect(int nfds, fd_set *r, fd_set *w, fd_set *e, const struct timespec *ts,
		  const sigset_t *mask);

#endif
