/* The swap: dup3 a host socket over the app's fd, carrying what the app set
 * on its own socket. */
#define _GNU_SOURCE
#include "swap.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fdtable.h"
#include "real.h"

/* Options the app may have set on the container socket before connect or
 * listen; copied only where they differ, failures ignored (the router's
 * policy may forbid some on host sockets). Options set after the swap go
 * straight to the host socket anyway. */
static const struct {
	int level, name;
} int_opts[] = {
    {SOL_SOCKET, SO_KEEPALIVE}, {SOL_SOCKET, SO_PRIORITY},	 {IPPROTO_IP, IP_TOS},
    {IPPROTO_TCP, TCP_NODELAY}, {IPPROTO_TCP, TCP_KEEPIDLE},	 {IPPROTO_TCP, TCP_KEEPINTVL},
    {IPPROTO_TCP, TCP_KEEPCNT}, {IPPROTO_TCP, TCP_USER_TIMEOUT}, {IPPROTO_TCP, TCP_QUICKACK},
};

/* Copies the options of int_opts and SO_LINGER from socket `from` to `to`
 * where they differ. Best effort: errno may change. Uses real_setsockopt,
 * not our hook, which would mark whatever stale record `to` has. */
static void copy_sockopts(int from, int to)
{
	struct linger la, lb;
	socklen_t len;

	for (size_t i = 0; i < sizeof(int_opts) / sizeof(int_opts[0]); i++) {
		int a, b;
		socklen_t la_len = sizeof(a), lb_len = sizeof(b);

		if (getsockopt(from, int_opts[i].level, int_opts[i].name, &a, &la_len) == 0 &&
		    getsockopt(to, int_opts[i].level, int_opts[i].name, &b, &lb_len) == 0 && a != b)
			(void)real_setsockopt(to, int_opts[i].level, int_opts[i].name, &a,
					      sizeof(a));
	}
	len = sizeof(la);
	if (getsockopt(from, SOL_SOCKET, SO_LINGER, &la, &len) == 0 && la.l_onoff) {
		len = sizeof(lb);
		if (getsockopt(to, SOL_SOCKET, SO_LINGER, &lb, &len) != 0 ||
		    lb.l_onoff != la.l_onoff || lb.l_linger != la.l_linger)
			(void)real_setsockopt(to, SOL_SOCKET, SO_LINGER, &la, sizeof(la));
	}
}

int slim_swap(int app_fd, int host_fd, bool copy_opts)
{
	int fl, fdfl, saved = errno, e, tries = 0;

	fl = fcntl(app_fd, F_GETFL);
	fdfl = fcntl(app_fd, F_GETFD);
	if (fl < 0 || fdfl < 0)
		goto fail;
	/* Probing costs about twenty syscalls: only when there is
	 * something to find. */
	if (copy_opts)
		copy_sockopts(app_fd, host_fd);
	/* Status flags live in the open file description, which the two fds
	 * share after dup3: set them first, so the app never sees its fd
	 * without O_NONBLOCK. */
	if (fl & O_ASYNC) {
		struct f_owner_ex own;
		int sig = fcntl(app_fd, F_GETSIG);

		if (fcntl(app_fd, F_GETOWN_EX, &own) == 0)
			(void)fcntl(host_fd, F_SETOWN_EX, &own);
		if (sig > 0)
			(void)fcntl(host_fd, F_SETSIG, sig);
	}
	/* Host sockets arrive with no status flags: only set what the app
	 * had (one system call less on the connect path of blocking apps). */
	if ((fl & (O_NONBLOCK | O_ASYNC)) &&
	    fcntl(host_fd, F_SETFL, fl & (O_NONBLOCK | O_ASYNC)) < 0)
		goto fail;
	/* EBUSY: a racing open() in another thread holds the slot. */
	while (dup3(host_fd, app_fd, (fdfl & FD_CLOEXEC) ? O_CLOEXEC : 0) < 0) {
		if ((errno != EBUSY && errno != EINTR) || ++tries > 100)
			goto fail;
	}
	real_close(host_fd);
	errno = saved;
	return 0;
fail:
	e = errno;
	real_close(host_fd);
	errno = e;
	return -1;
}

int slim_unswap(int fd, struct fd_state *st)
{
	int fresh = real_socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fresh < 0)
		return -1;
	/* The app's options sit on the host socket: carry them back. */
	if (slim_swap(fd, fresh, st->opts_set) < 0)
		return -1;
	st->host = false;
	st->ino = fd_inode(fd);
	fdtable_set(fd, st);
	return 0;
}
