/* The process's pool of host sockets that the router created and stamped
 * with this container's identity ahead of need: the connect fast path takes
 * one instead of asking the router. Filled by router.c (pool replies). */
#ifndef LIBSLIM_POOL_H
#define LIBSLIM_POOL_H

#include <stddef.h>
#include <stdint.h>

/* Refill when fewer than this many are left; ask for this many at once. */
#define POOL_LOW 16
#define POOL_BATCH 32
#define POOL_CAP 64

/* Takes a socket stamped in `epoch` (the view's current one). Sockets of
 * another epoch are closed on the way (their stamps are void), entries whose
 * fd no longer holds our socket (the app closed or reused the number) are
 * forgotten. Returns the fd (caller owns; O_CLOEXEC, blocking) and its inode
 * in *ino, or -1 when the pool has none. Never blocks (a short mutex). */
int pool_take(uint32_t epoch, uint64_t *ino);

/* Adds n sockets stamped in epoch (takes ownership: what does not fit or is
 * not a TCP socket is closed). */
void pool_put(const int *fds, size_t n, uint32_t epoch);

/* How many sockets the pool holds. Lock-free; may be stale. */
size_t pool_count(void);

/* Closes every socket of the pool (those still ours): the router retired,
 * their stamps are void. */
void pool_drop_all(void);

/* In a forked child, which must not share host sockets with its parent's
 * pool: closes the child's copies and empties the pool without taking the
 * mutex (another parent thread may have held it at fork). */
void pool_forget_in_child(void);

#endif
