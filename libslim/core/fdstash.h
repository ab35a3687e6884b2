/* Files kept outside the process's fd table, where the app cannot see
 * them: the slots of an io_uring fixed-file table. One ring per process,
 * made while the process starts (its fd is one of libslim's own, in the
 * high range of highfd.h); mapped and given its table at the first put.
 *
 * A file enters a slot from an fd, which is then closed; it leaves its slot
 * for the lowest free fd (IORING_OP_FIXED_FD_INSTALL) with the slot emptied
 * in the same submission, so libslim never holds a second reference to a
 * file the app has: the app's close is the last one.
 *
 * Needs Linux 6.8 (IORING_OP_FIXED_FD_INSTALL). Unavailable where io_uring
 * is missing, disabled (kernel.io_uring_disabled), refused by a seccomp
 * filter, or SLIM_URING=0; and not tried at all while a seccomp filter is
 * in force (checked at process start, when a ring is made and at every
 * put), unless SLIM_URING=1: a filter may kill the process for it. Then
 * every put fails and callers keep their files in the fd table.
 *
 * Every slot belongs to one generation of the ring: a new ring (in a forked
 * child, or after the app closed libslim's ring fd) starts a new one, and
 * the slots of the old generation are gone (their files are released when
 * the old ring is). */
#ifndef LIBSLIM_FDSTASH_H
#define LIBSLIM_FDSTASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Slots in the table (at most: fewer if RLIMIT_NOFILE is lower). */
#define FDSTASH_SLOTS 64

/* Moves fds[0..n) into free slots and closes each of them. Returns how
 * many went into slots, r: the first r fds, in slots[0..r), of generation
 * *gen (the others were closed too, their files released); or -1 (errno)
 * if the stash is unavailable: then nothing was done and the fds are still
 * the caller's. n at most FDSTASH_SLOTS. Not async-signal-safe. */
int fdstash_put(const int *fds, size_t n, int *slots, uint32_t *gen);

/* Installs the file of slot (of generation gen) on the lowest free fd,
 * O_CLOEXEC if cloexec, and empties the slot in the same submission.
 * Returns the fd; or -1 with errno EMFILE (no free fd number: the file
 * stays in its slot, untouched), ESTALE (the slot's ring is gone: nothing
 * to release) or another errno (the slot is lost). Preserves errno on
 * success. Not async-signal-safe. */
int fdstash_install(int slot, uint32_t gen, bool cloexec);

/* Empties slots[0..n) of generation gen (at most FDSTASH_SLOTS), releasing
 * their files; slots of another generation are gone already. Preserves
 * errno. */
void fdstash_clear(const int *slots, size_t n, uint32_t gen);

/* In a forked child (atfork child handler): the ring and its fd are the
 * parent's, shared, and never touched again by the child; the child makes
 * its own at its first put, on the same fd number (so the app's fd count
 * does not change). Resets the lock. */
void fdstash_forget_in_child(void);

/* Makes the ring while the process starts (libslim's constructor), when
 * the fd table still has room, and only where slim may hand out pool
 * sockets (SLIM_SOCKET set, the fast path on, SLIM_URING not 0): its fd is
 * the one besides the router connection's that the app sees libslim hold,
 * from the start of main on. force (SLIM_URING=1): io_uring is tried even
 * under a seccomp filter. */
void fdstash_start(bool force);

/* After the app closed fds first..last (close_range, closefrom): if the
 * ring's fd was among them, a new ring is made at once, while the numbers
 * just freed leave room for it. Not async-signal-safe. */
void fdstash_range_closed(unsigned int first, unsigned int last);

#endif
