/* The process's pool of host sockets that the router created and stamped
 * with this container's identity ahead of need. The pool is the receive
 * queue of a connection to the router used for nothing else: the router
 * answers a pool request with one packet per socket, and each socket() (or
 * a connect that needs a host socket) takes one packet. Until then the
 * sockets sit in the kernel's queue, not in the app's fd table: the app's
 * fd numbers and its fd limit are untouched, and a taken socket lands on
 * the lowest free fd, as socket() promises. */
#ifndef LIBSLIM_POOL_H
#define LIBSLIM_POOL_H

#include <stdbool.h>
#include <stdint.h>

/* Ask for more when fewer than this many are on their way; ask for at most
 * this many at once (the first request is for 2, each next one twice the
 * last, so that a process that makes one connection costs the router two
 * sockets). */
#define POOL_LOW 16
#define POOL_BATCH 32
#define POOL_FIRST 2

/* Takes a socket stamped in `epoch` (the view's current one): on the
 * lowest free fd, with FD_CLOEXEC if cloexec, blocking. Sockets of another
 * epoch are closed on the way (their stamps are void). Asks the router for
 * more ahead of need (without waiting); waits for the router only when
 * nothing is on its way, at most POOL_WAIT_MS. Returns the fd (caller owns)
 * and its inode in *ino, or -1 (errno kept): no router, the router refused,
 * it did not answer in time, or this thread is already inside the pool (a
 * signal handler). */
int pool_take(uint32_t epoch, bool cloexec, uint64_t *ino);
#define POOL_WAIT_MS 2000

/* Drops the pool (closes its connection: the queued sockets go with it):
 * the router retired, their stamps are void. */
void pool_drop_all(void);

/* In a forked child: the pool connection is the parent's; forget it (close
 * the child's copy) without taking the lock, which another parent thread
 * may have held at fork. */
void pool_forget_in_child(void);

#endif
