/* Readiness of merged listeners in poll, ppoll, select and pselect (the
 * hooks in hooks/poll.c, hooks/select.c): the app's pollfd array (select's
 * sets turned into one) with each merged listener's container side added,
 * asked for the same events, and the kernel's answer folded back into the
 * app's entries. Pure: no system call, no allocation; the caller says which
 * fd has a container side. */
#ifndef LIBSLIM_WAITFOLD_H
#define LIBSLIM_WAITFOLD_H

#include <poll.h>
#include <stdbool.h>
#include <sys/select.h>

/* True with *cfd if fd is a listener with a container side cfd. */
typedef bool (*waitfold_side_fn)(int fd, int *cfd);

/* How many entries of fds[0..n) (negative fds skipped) are merged
 * listeners: the entries waitfold_expand adds. */
nfds_t waitfold_count(const struct pollfd *fds, nfds_t n, waitfold_side_fn side);

/* Copies fds[0..n) to out (revents cleared) and appends, for each merged
 * listener among them, its container side with the listener's events;
 * from[j] is the index of the listener entry that out[n + j] serves.
 * out has room for n + waitfold_count() entries, from for the count.
 * Returns the entries written. */
nfds_t waitfold_expand(const struct pollfd *fds, nfds_t n, struct pollfd *out, nfds_t *from,
		       waitfold_side_fn side);

/* The kernel's answer in out[0..total) handed to the app's fds[0..n): each
 * revents as it is, and each container side's events ORed into its
 * listener's, only those the listener asked for: the listener's own
 * POLLHUP, POLLERR, POLLNVAL are the host socket's (a container side that
 * no longer listens, or was closed behind libslim's back, reports those,
 * not the app's listener). Returns what poll returns: the number of app
 * entries with events. */
int waitfold_fold(struct pollfd *fds, nfds_t n, const struct pollfd *out, nfds_t total,
		  const nfds_t *from);

/* True if fd is in set (sets of any size: nfds may exceed FD_SETSIZE). */
bool waitfold_isset(const fd_set *set, int fd);

/* select's sets (each may be NULL) as pollfds, one per fd below nfds that
 * is in any set: POLLIN for the read set, POLLOUT for the write set,
 * POLLPRI for the except set. Returns the entries written (at most
 * nfds). */
nfds_t waitfold_from_sets(int nfds, const fd_set *r, const fd_set *w, const fd_set *e,
			  struct pollfd *out);

/* The answer back into select's sets, as the kernel fills them: an fd is
 * readable on POLLIN, POLLHUP or POLLERR, writable on POLLOUT or POLLERR,
 * exceptional on POLLPRI, and each set keeps only its ready fds. Returns
 * select's count (one per fd per set), or -1 if an entry is POLLNVAL (an fd
 * that is not open: select's EBADF; the sets are then left as they
 * were). */
int waitfold_to_sets(int nfds, const struct pollfd *p, nfds_t n, fd_set *r, fd_set *w, fd_set *e);

#endif
