/* The channel: the process's connection to the local slim-router, and the
 * spare socket it is made from. One lock serialises everything done on it
 * (a request and its reply, a pool reply being collected); the pool and
 * the fd table have their own. The channel knows nothing of the messages
 * (messages.h) or of what a failure means for the process (session.h). */
#ifndef LIBSLIM_CHANNEL_H
#define LIBSLIM_CHANNEL_H

#include <stdbool.h>

/* Takes the lock; cancellation is disabled while it is held (recvmsg is a
 * cancellation point: the lock must never stay held). */
void channel_lock(int *cancel_state);

/* Takes the lock if it is free; false (nothing changed) if it is not. */
bool channel_trylock(int *cancel_state);

void channel_unlock(int cancel_state);

/* True if this thread holds the lock: a hook re-entered from a signal
 * handler in the middle of a round trip must not wait for it. */
bool channel_held_here(void);

/* Makes the spare socket (above the app's usual fd numbers) unless there is
 * one. Made while the process starts, so that a process whose fd table has
 * filled up can still reach the router later. Raw system calls: it runs in
 * every process start. Under the lock. */
void channel_spare_make(void);

/* Connects the spare socket to path and makes it the connection. Returns
 * its fd, or -1 with errno (no spare could be made, or the connect failed:
 * the spare stays for the next try). Under the lock. */
int channel_connect(const char *path);

/* The connection's fd if it is open and still the socket we opened (the
 * app may have closed the number and reused it: then it is forgotten, not
 * closed), else -1. Under the lock. */
int channel_fd(void);

/* Forgets connection fd (and the reply pending on it); closes it only if
 * it is still ours. Under the lock. */
void channel_drop(int fd);

/* A reply is on its way on the connection (a pool request): whoever uses
 * the connection next collects it first. Set and cleared under the lock;
 * channel_pending_hint() reads it without the lock (a hint: decisions are
 * taken again under the lock). channel_drop clears it. */
void channel_set_pending(bool pending);
bool channel_pending(void);
bool channel_pending_hint(void);

/* The app closed fd: if it was the connection or the spare, forget it (it
 * is made again on the next need). Async-signal-safe. */
void channel_fd_closed(int fd);

/* The app closed fds first..last (close_range, closefrom). Returns true if
 * the connection or the spare was among them (both are forgotten then).
 * Takes the lock, unless this thread holds it. Preserves errno. */
bool channel_range_closed(unsigned int first, unsigned int last);

/* pthread_atfork handlers: the child must not share the parent's
 * connection (replies would go to whichever process reads first) nor its
 * spare. The lock is held across fork, unless the forking thread holds it
 * already (a fork from a signal handler that interrupted a round trip). */
void channel_fork_prepare(void);
void channel_fork_parent(void);
void channel_fork_child(void);

#endif
