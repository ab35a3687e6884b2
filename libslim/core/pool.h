/* The process's pool of host sockets that the router created and stamped
 * with this container's identity ahead of need: socket() installs one
 * instead of creating a socket, the connect fast path takes one instead of
 * asking the router. Filled by router.c (pool replies).
 *
 * The pooled sockets are kept outside the fd table (fdstash.h), so the app
 * never sees them: its fd count is what it opened, plus the two fds
 * libslim holds from the start of the process (the router connection's
 * socket and the stash's ring). Where the stash is unavailable (no
 * io_uring: seccomp, kernel.io_uring_disabled, a kernel before 6.8) they
 * are ordinary fds of the app, up to POOL_CAP of them, on the numbers just
 * below libslim's own (highfd.h), and the fd count changes as the pool
 * fills and empties. */
#ifndef LIBSLIM_POOL_H
#define LIBSLIM_POOL_H

#include <stddef.h>
#include <stdint.h>

/* Refill when fewer than this many are left; ask for this many at once. */
#define POOL_LOW 16
#define POOL_BATCH 32
#define POOL_CAP 64

/* A socket stamped in `epoch` (the view's current one) for socket(): on
 * the lowest free fd, O_CLOEXEC and O_NONBLOCK as SOCK_CLOEXEC and
 * SOCK_NONBLOCK are in type_flags. Returns the fd (the caller's) with its
 * inode in *ino (0 for one from the stash: its record needs none,
 * fdtable_lookup), or -1 when the pool has none or no fd number is free
 * (errno kept: the caller makes the socket itself). Sockets of another
 * epoch are released on the way (their stamps are void). Never blocks on
 * the router. Not async-signal-safe; a call from a signal handler that
 * interrupted the pool returns -1. */
int pool_install(uint32_t epoch, int type_flags, uint64_t *ino);

/* A socket stamped in `epoch`, for internal users that dup3 it over an fd
 * of the app (connect's swap path). Returns the fd (the caller's;
 * O_CLOEXEC, blocking; on any free number) and its inode in *ino (0 from
 * the stash), or -1
 * when the pool has none (errno kept). Otherwise as pool_install. */
int pool_take(uint32_t epoch, uint64_t *ino);

/* Adds the n sockets of a pool reply, stamped in epoch, taking ownership
 * of the fds: into the stash (the fds are closed), else kept as fds; what
 * does not fit or is not a TCP socket is closed. Preserves errno. */
void pool_put(const int *fds, size_t n, uint32_t epoch);

/* How many sockets the pool holds. Lock-free; may be stale. */
size_t pool_count(void);

/* Releases every socket of the pool: the router retired, their stamps are
 * void. */
void pool_drop_all(void);

/* In a forked child, which must not share host sockets with its parent's
 * pool: forgets the pool (closing the child's copies of those in the fd
 * table) without taking the mutex (another parent thread may have held it
 * at fork). The child's pool starts empty, with a stash of its own. */
void pool_forget_in_child(void);

/* After the app closed fds first..last (close_range, closefrom): the
 * stash's ring is made again at once if it was among them. */
void pool_range_closed(unsigned int first, unsigned int last);

#endif
