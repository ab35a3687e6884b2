/* The libc functions libslim interposes, reached without going through our
 * own hooks. */
#ifndef LIBSLIM_REAL_H
#define LIBSLIM_REAL_H

#include <sys/socket.h>

/* Each behaves exactly like the libc function of the same name. They resolve
 * the next definition (dlsym RTLD_NEXT) once; if that is impossible (called
 * recursively while resolving, or the lookup found libslim itself) they fall
 * back to the raw system call. Safe to call from any hook at any time. */
int real_socket(int domain, int type, int protocol);
int real_connect(int fd, const struct sockaddr *addr, socklen_t len);
int real_bind(int fd, const struct sockaddr *addr, socklen_t len);
int real_listen(int fd, int backlog);
int real_accept(int fd, struct sockaddr *addr, socklen_t *len);
int real_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags);
int real_getsockname(int fd, struct sockaddr *addr, socklen_t *len);
int real_getpeername(int fd, struct sockaddr *addr, socklen_t *len);
int real_setsockopt(int fd, int level, int name, const void *val, socklen_t len);
/* Async-signal-safe. */
int real_close(int fd);
int real_shutdown(int fd, int how);

/* The next definition of name after libslim (dlsym RTLD_NEXT), or NULL if
 * there is none or it is libslim's own. For hooks outside the table above. */
void *real_sym(const char *name);

#endif
