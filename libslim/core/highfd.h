/* Where libslim keeps its own fds: just below the soft fd limit, but
 * never above 1024 - 64, out of the way of apps that expect small fd
 * numbers. The kernel sizes each process's fd table to the highest fd in
 * use, so fd 19936 (a 20000 limit) would cost every process a 32768-slot
 * table (~260 KiB) and a slow first dup; the range below 1024 keeps it at
 * 1024 slots. An app that still lands on one of our numbers (dup2, close
 * loops) is detected by inode where it matters. */
#ifndef LIBSLIM_HIGHFD_H
#define LIBSLIM_HIGHFD_H

/* The top of libslim's range: min(soft limit, 1024) - 64 (960 with the
 * usual limit of 1024), or -1 when the soft limit is 256 or less (no
 * room: our fds stay where the kernel put them). Preserves errno. */
int slim_high_base(void);

/* fd moved to base or above with FD_CLOEXEC (fd itself is closed), or fd
 * unchanged when base < 0, fd is at base or above already, or no number
 * there is free. Preserves errno. */
int slim_move_fd(int fd, int base);

#endif
