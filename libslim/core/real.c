/* Resolution of the real libc functions behind our hooks. */
#define _GNU_SOURCE
#include "real.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

struct real_fns {
	int (*socket)(int, int, int);
	int (*connect)(int, const struct sockaddr *, socklen_t);
	int (*bind)(int, const struct sockaddr *, socklen_t);
	int (*listen)(int, int);
	int (*accept)(int, struct sockaddr *, socklen_t *);
	int (*accept4)(int, struct sockaddr *, socklen_t *, int);
	int (*getsockname)(int, struct sockaddr *, socklen_t *);
	int (*getpeername)(int, struct sockaddr *, socklen_t *);
	int (*setsockopt)(int, int, int, const void *, socklen_t);
	int (*close)(int);
	int (*poll)(struct pollfd *, nfds_t, int);
	int (*ppoll)(struct pollfd *, nfds_t, const struct timespec *, const sigset_t *);
	int (*epoll_ctl)(int, int, int, struct epoll_event *);
	int (*dup)(int);
	int (*dup2)(int, int);
	int (*dup3)(int, int, int);
	int (*select)(int, fd_set *, fd_set *, fd_set *, struct timeval *);
	int (*pselect)(int, fd_set *, fd_set *, fd_set *, const struct timespec *,
		       const sigset_t *);
};

static struct real_fns fns;
static pthread_once_t fns_once = PTHREAD_ONCE_INIT;
/* Set while this thread resolves: a hook entered again from inside dlsym or
 * dladdr (or from a signal handler meanwhile) must not wait for pthread_once
 * on itself, so it uses the raw system call instead. */
static __thread int resolving __attribute__((tls_model("initial-exec")));

/* The next definition of name after libslim, or NULL if there is none or the
 * lookup came back to libslim itself (e.g. loaded twice, or dlopen'ed). */
static void *next_sym(const char *name)
{
	Dl_info mine, theirs;
	void *p = dlsym(RTLD_NEXT, name);

	if (p && dladdr(p, &theirs) && dladdr((void *)next_sym, &mine) &&
	    theirs.dli_fbase == mine.dli_fbase)
		return NULL;
	return p;
}

static void resolve(void)
{
	resolving = 1;
	fns.socket = next_sym("socket");
	fns.connect = next_sym("connect");
	fns.bind = next_sym("bind");
	fns.listen = next_sym("listen");
	fns.accept = next_sym("accept");
	fns.accept4 = next_sym("accept4");
	fns.getsockname = next_sym("getsockname");
	fns.getpeername = next_sym("getpeername");
	fns.setsockopt = next_sym("setsockopt");
	fns.close = next_sym("close");
	fns.poll = next_sym("poll");
	fns.ppoll = next_sym("ppoll");
	fns.epoll_ctl = next_sym("epoll_ctl");
	fns.dup = next_sym("dup");
	fns.dup2 = next_sym("dup2");
	fns.dup3 = next_sym("dup3");
	fns.select = next_sym("select");
	fns.pselect = next_sym("pselect");
	resolving = 0;
}

void *real_sym(const char *name)
{
	return next_sym(name);
}

/* The resolved table, or NULL while this very thread is resolving it. */
static const struct real_fns *get(void)
{
	if (resolving)
		return NULL;
	pthread_once(&fns_once, resolve);
	return &fns;
}

int real_socket(int domain, int type, int protocol)
{
	const struct real_fns *f = get();

	if (f && f->socket)
		return f->socket(domain, type, protocol);
	return (int)syscall(SYS_socket, domain, type, protocol);
}

int real_connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	const struct real_fns *f = get();

	if (f && f->connect)
		return f->connect(fd, addr, len);
	return (int)syscall(SYS_connect, fd, addr, len);
}

int real_bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	const struct real_fns *f = get();

	if (f && f->bind)
		return f->bind(fd, addr, len);
	return (int)syscall(SYS_bind, fd, addr, len);
}

int real_listen(int fd, int backlog)
{
	const struct real_fns *f = get();

	if (f && f->listen)
		return f->listen(fd, backlog);
	return (int)syscall(SYS_listen, fd, backlog);
}

int real_accept(int fd, struct sockaddr *addr, socklen_t *len)
{
	const struct real_fns *f = get();

	if (f && f->accept)
		return f->accept(fd, addr, len);
	return (int)syscall(SYS_accept4, fd, addr, len, 0);
}

int real_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
	const struct real_fns *f = get();

	if (f && f->accept4)
		return f->accept4(fd, addr, len, flags);
	return (int)syscall(SYS_accept4, fd, addr, len, flags);
}

int real_getsockname(int fd, struct sockaddr *addr, socklen_t *len)
{
	const struct real_fns *f = get();

	if (f && f->getsockname)
		return f->getsockname(fd, addr, len);
	return (int)syscall(SYS_getsockname, fd, addr, len);
}

int real_getpeername(int fd, struct sockaddr *addr, socklen_t *len)
{
	const struct real_fns *f = get();

	if (f && f->getpeername)
		return f->getpeername(fd, addr, len);
	return (int)syscall(SYS_getpeername, fd, addr, len);
}

int real_close(int fd)
{
	const struct real_fns *f = get();

	if (f && f->close)
		return f->close(fd);
	return (int)syscall(SYS_close, fd);
}

int real_setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	const struct real_fns *f = get();

	if (f && f->setsockopt)
		return f->setsockopt(fd, level, name, val, len);
	return (int)syscall(SYS_setsockopt, fd, level, name, val, len);
}

int real_shutdown(int fd, int how)
{
	/* A plain system call in every libc: no lookup needed. */
	return (int)syscall(SYS_shutdown, fd, how);
}

/* The libc wrappers are cancellation points (poll, ppoll) and what the app
 * would have called; the system calls are the fallback while resolving. */
int real_poll(struct pollfd *fds, nfds_t n, int timeout)
{
	const struct real_fns *f = get();
	struct timespec ts;

	if (f && f->poll)
		return f->poll(fds, n, timeout);
	ts.tv_sec = timeout / 1000;
	ts.tv_nsec = (long)(timeout % 1000) * 1000000L;
	return (int)syscall(SYS_ppoll, fds, n, timeout < 0 ? NULL : &ts, NULL, 0);
}

int real_ppoll(struct pollfd *fds, nfds_t n, const struct timespec *ts, const sigset_t *mask)
{
	const struct real_fns *f = get();
	struct timespec copy;

	if (f && f->ppoll)
		return f->ppoll(fds, n, ts, mask);
	/* The system call writes the time left back; ppoll() does not. */
	if (ts)
		copy = *ts;
	return (int)syscall(SYS_ppoll, fds, n, ts ? &copy : NULL, mask, mask ? _NSIG / 8 : 0);
}

int real_epoll_ctl(int ep, int op, int fd, struct epoll_event *ev)
{
	const struct real_fns *f = get();

	if (f && f->epoll_ctl)
		return f->epoll_ctl(ep, op, fd, ev);
	return (int)syscall(SYS_epoll_ctl, ep, op, fd, ev);
}

int real_dup(int fd)
{
	const struct real_fns *f = get();

	if (f && f->dup)
		return f->dup(fd);
	return (int)syscall(SYS_dup, fd);
}

int real_dup2(int fd, int fd2)
{
	const struct real_fns *f = get();

	if (f && f->dup2)
		return f->dup2(fd, fd2);
	if (fd == fd2)
		return fcntl(fd, F_GETFD) < 0 ? -1 : fd;
	return (int)syscall(SYS_dup3, fd, fd2, 0);
}

int real_dup3(int fd, int fd2, int flags)
{
	const struct real_fns *f = get();

	if (f && f->dup3)
		return f->dup3(fd, fd2, flags);
	return (int)syscall(SYS_dup3, fd, fd2, flags);
}

int real_select(int nfds, fd_set *r, fd_set *w, fd_set *e, struct timeval *tv)
{
	const struct real_fns *f = get();

	if (f && f->select)
		return f->select(nfds, r, w, e, tv);
	return (int)syscall(SYS_select, nfds, r, w, e, tv);
}

int real_pselect(int nfds, fd_set *r, fd_set *w, fd_set *e, const struct timespec *ts,
		 const sigset_t *mask)
{
	const struct real_fns *f = get();
	/* pselect6 takes the signal mask as {mask, size}, and writes the
	 * time left back, which pselect() does not. */
	struct {
		const sigset_t *ss;
		size_t len;
	} m = {mask, _NSIG / 8};
	struct timespec copy;

	if (f && f->pselect)
		return f->pselect(nfds, r, w, e, ts, mask);
	if (ts)
		copy = *ts;
	return (int)syscall(SYS_pselect6, nfds, r, w, e, ts ? &copy : NULL, mask ? &m : NULL);
}
