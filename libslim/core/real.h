/* The libc functions libslim interposes, reached without going through our
 * own hooks. */
#ifndef LIBSLIM_REAL_H
#define LIBSLIM_REAL_H

#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <time.h>

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
int real_poll(struct pollfd *fds, nfds_t n, int timeout);
int real_ppoll(struct pollfd *fds, nfds_t n, const struct timespec *ts, const sigset_t *mask);
int real_epoll_ctl(int ep, int op, int fd, struct epoll_event *ev);
int real_dup(int fd);
int real_dup3(int fd, int fd2, int flags);
int real_select(int nfds, fd_set *r, fd_set *w, fd_set *e, struct timeval *tv);
int real_pselect(int nfds, fd_set *r, fd_set *w, fd_set *e, const struct timespec *ts,
		 const sigset_t *mask);
/* dup2 is dup3 with flags 0, except that fd2 == fd returns fd if valid. */
int real_dup2(int fd, int fd2);

/* The next definition of name after libslim (dlsym RTLD_NEXT), or NULL if
 * there is none or it is libslim's own. For hooks outside the table above. */
void *real_sym(const char *name);

#endif
