/* AF_INET6 dual-stack app sockets carried by AF_INET host sockets: reading
 * the app's v4-mapped addresses and showing it v4-mapped names. */
#ifndef LIBSLIM_V4MAPPED_H
#define LIBSLIM_V4MAPPED_H

#include <stdbool.h>
#include <sys/socket.h>

#include "common.h"

/* Reads the app's AF_INET6 address for connect/bind when it is one the
 * IPv4 overlay can carry: "::" (ep->ip 0) or a v4-mapped ::ffff:a.b.c.d.
 * Returns true and fills *ep (host byte order); false for anything else
 * (unreadable, short, another family, a real IPv6 address): then the call
 * is the app's container socket's business. errno preserved. */
bool slim_v6_read(const struct sockaddr *addr, socklen_t len, struct slim_ep *ep);

/* True if fd is carried by an AF_INET host socket for an AF_INET6 app
 * socket (v6 CLIENT, LISTENER or ACCEPTED, and still the socket the record
 * was made for). A table read for every other fd. Preserves errno. */
bool slim_fd_mapped(int fd);

/* Hands the name the kernel reported (ss, sl bytes) to the app: v4-mapped
 * if it is AF_INET (0.0.0.0 as ::), as it is otherwise; truncated to ulen,
 * the size of the app's buffer, as the kernel truncates, and the full size
 * written to the app's *len. */
void slim_put_name(const struct sockaddr_storage *ss, socklen_t sl, struct sockaddr *addr,
		   socklen_t *len, socklen_t ulen);

typedef int (*name_fn)(int, struct sockaddr *, socklen_t *);

/* getsockname/getpeername of fd through fn, in the family the app created.
 * A NULL or unwritable buffer, or a bad len, goes to the kernel as it is,
 * so that it reports EFAULT/EINVAL itself. */
int slim_mapped_name(name_fn fn, int fd, struct sockaddr *addr, socklen_t *len);

#endif
