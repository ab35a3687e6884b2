/* A merged listener's receive timeout (SO_RCVTIMEO), kept in its fd-table
 * record (fd_listener.rcvtimeo_ms) so that a blocking accept bounds its
 * wait without reading the option on every call.
 *
 * The value is the kernel's: read with getsockopt when a listener record
 * is made (merge_attach: at listen, for a dup of the listener, and when a
 * program adopts the listener after exec), inherited as it is by a forked
 * child (the same socket, the same value), and read again by the
 * setsockopt hook after the kernel took a new SO_RCVTIMEO through any fd
 * of the socket, then written into every listener record of that socket
 * in the process (the fd and its dups).
 *
 * Not followed: a value set without the hook (a raw system call, or a
 * setsockopt by another process sharing the socket: a forked sibling, a
 * program the socket was passed to) until a record of the socket is made
 * again; until then the blocking accept waits as long as the value it
 * last read. The value is kept in whole milliseconds, rounded up (the
 * kernel keeps it in scheduler ticks, 1 to 10 ms), at most 2^32 - 1 ms
 * (about 49 days). */
#ifndef LIBSLIM_LISTENER_TIMEO_H
#define LIBSLIM_LISTENER_TIMEO_H

#include <stdbool.h>
#include <stdint.h>

/* True if (level, name) is SO_RCVTIMEO under any of the names glibc may
 * pass it as (SO_RCVTIMEO_OLD, SO_RCVTIMEO_NEW). Pure. */
bool listener_timeo_option(int level, int name);

/* fd's SO_RCVTIMEO in milliseconds, rounded up and capped at UINT32_MAX:
 * 0 if it has none or it cannot be read. One getsockopt. Preserves errno. */
uint32_t listener_timeo_read(int fd);

/* The kernel took a new SO_RCVTIMEO on fd, a listener whose host socket's
 * inode is ino: reads it once and writes it into every listener record of
 * that socket (fd and its copies). Preserves errno. */
void listener_timeo_follow(int fd, uint64_t ino);

#endif
