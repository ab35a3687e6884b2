/* Reading the app's memory without trusting it, and sockaddr_in helpers. */
#ifndef LIBSLIM_UADDR_H
#define LIBSLIM_UADDR_H

#include <netinet/in.h>
#include <stddef.h>
#include <sys/socket.h>

#include "common.h"

/* Copies n bytes from the app pointer src into dst without faulting: a bad
 * pointer gives -1 (errno EFAULT) where a plain read would crash, so the
 * caller can hand the call to the kernel and let it report EFAULT exactly.
 * Returns 0 on success (errno preserved). */
int slim_peek(void *dst, const void *src, size_t n);

/* The reverse of slim_peek: copies n bytes to the app pointer dst, -1 with
 * EFAULT (nothing written) for a bad pointer. errno preserved on success. */
int slim_poke(void *dst, const void *src, size_t n);

/* Reads the app's AF_INET address for connect/bind. Returns 0 and fills
 * *ep (host byte order) only when addr is readable, len >= sizeof(struct
 * sockaddr_in) and the family is AF_INET; else -1 (errno preserved), which
 * means "not ours: call the real function". */
int slim_read_sin(const struct sockaddr *addr, socklen_t len, struct slim_ep *ep);

/* In a forked child: the pid cached for slim_peek/slim_poke is the
 * parent's. */
void slim_uaddr_fork_child(void);

/* ep as a sockaddr_in (network byte order inside). */
struct sockaddr_in slim_sin(struct slim_ep ep);

#endif
