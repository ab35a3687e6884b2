/* The swap: dup3 a host socket over the app's fd, carrying what the app set
 * on its own socket. */
#define _GNU_SOURCE
#include "swap.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/time.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fdtable.h"
#include "real.h"

/* The options a swap carries over, in the order they are replayed (IP_TOS
 * before SO_PRIORITY: setting the TOS also sets the priority). Only those
 * the app set are copied: copying a default would pin it (a SO_SNDBUF
 * copied from the container's defaults would turn off autotuning), and
 * SO_REUSEADDR, SO_REUSEPORT and TCP_SAVE_SYN are carried apart
 * (slim_copy_reuse). */
enum opt_kind { O_INT, O_BUF, O_TIMEVAL, O_LINGER, O_NAME };
static const struct {
	int level, name;
	enum opt_kind kind;
} opts[] = {
    {SOL_SOCKET, SO_KEEPALIVE, O_INT},	     {IPPROTO_IP, IP_TOS, O_INT},
    {SOL_SOCKET, SO_PRIORITY, O_INT},	     {IPPROTO_TCP, TCP_NODELAY, O_INT},
    {IPPROTO_TCP, TCP_KEEPIDLE, O_INT},	     {IPPROTO_TCP, TCP_KEEPINTVL, O_INT},
    {IPPROTO_TCP, TCP_KEEPCNT, O_INT},	     {IPPROTO_TCP, TCP_USER_TIMEOUT, O_INT},
    {SOL_SOCKET, SO_LINGER, O_LINGER},	     {SOL_SOCKET, SO_SNDBUF, O_BUF},
    {SOL_SOCKET, SO_RCVBUF, O_BUF},	     {SOL_SOCKET, SO_RCVTIMEO, O_TIMEVAL},
    {SOL_SOCKET, SO_SNDTIMEO, O_TIMEVAL},    {IPPROTO_TCP, TCP_CONGESTION, O_NAME},
    {IPPROTO_TCP, TCP_NOTSENT_LOWAT, O_INT}, {IPPROTO_IP, IP_TTL, O_INT},
    {SOL_SOCKET, SO_RCVLOWAT, O_INT},	     {SOL_SOCKET, SO_OOBINLINE, O_INT},
    {IPPROTO_TCP, TCP_MAXSEG, O_INT},	     {IPPROTO_TCP, TCP_DEFER_ACCEPT, O_INT},
};
_Static_assert(sizeof(opts) / sizeof(opts[0]) <= 20, "fd table keeps 20 option bits");

uint32_t slim_opt_bit(int level, int name)
{
	/* SO_RCVTIMEO/SO_SNDTIMEO have _NEW/_OLD variants on some ABIs:
	 * libc maps them; on x86-64 the names are the ones above. */
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
		if (opts[i].level == level && opts[i].name == name)
			return 1u << i;
	return 0;
}

/* Copies option i from socket `from` to `to`. Best effort. Uses
 * real_setsockopt, not our hook, which would mark whatever stale record
 * `to` has. */
static void copy_opt(size_t i, int from, int to)
{
	union {
		int i;
		struct timeval tv;
		struct linger l;
		char name[32];
	} v;
	socklen_t len = sizeof(v);

	memset(&v, 0, sizeof(v));
	if (getsockopt(from, opts[i].level, opts[i].name, &v, &len) != 0)
		return;
	switch (opts[i].kind) {
	case O_BUF:
		/* The kernel reports twice what was set (its bookkeeping
		 * overhead) and doubles what it is given. */
		v.i /= 2;
		len = sizeof(v.i);
		break;
	case O_NAME:
		len = (socklen_t)strnlen(v.name, sizeof(v.name));
		break;
	default:
		break;
	}
	(void)real_setsockopt(to, opts[i].level, opts[i].name, &v, len);
}

void slim_copy_opts(int from, int to, uint32_t mask)
{
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
		if (mask & (1u << i))
			copy_opt(i, from, to);
}

int slim_swap(int app_fd, int host_fd, uint32_t opt_mask)
{
	int fl, fdfl, saved = errno, e, tries = 0;

	fl = fcntl(app_fd, F_GETFL);
	fdfl = fcntl(app_fd, F_GETFD);
	if (fl < 0 || fdfl < 0)
		goto fail;
	/* Probing costs about twenty syscalls: only when there is
	 * something to find. */
	if (opt_mask)
		slim_copy_opts(app_fd, host_fd, opt_mask);
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
	while (real_dup3(host_fd, app_fd, (fdfl & FD_CLOEXEC) ? O_CLOEXEC : 0) < 0) {
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

/* A container socket that takes over for a bind must have SO_REUSEADDR and
 * SO_REUSEPORT as the app set them: they decide whether the bind succeeds
 * (and leave their mark on the connections the socket accepts, whose
 * TIME_WAIT keeps it). A host socket that takes over gets them too, and
 * TCP_SAVE_SYN, the third option slim sets on its own sockets, goes both
 * ways with them, so that all three read back as the app set them: on host
 * sockets the sockopt programs record them and never let them undo what
 * slim set. Only options that are on are copied (off is every socket's
 * default). */
void slim_copy_reuse(int from, int to)
{
	static const struct {
		int level, name;
	} names[] = {
	    {SOL_SOCKET, SO_REUSEADDR}, {SOL_SOCKET, SO_REUSEPORT}, {IPPROTO_TCP, TCP_SAVE_SYN}};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		int v = 0;
		socklen_t vl = sizeof(v);

		if (getsockopt(from, names[i].level, names[i].name, &v, &vl) == 0 && v)
			(void)real_setsockopt(to, names[i].level, names[i].name, &v, sizeof(v));
	}
}

int slim_unswap(int fd, struct fd_state *st)
{
	const uint32_t *opts = fd_state_opts(st);
	struct fd_container c = {.opts = opts ? *opts : 0};
	int fresh = real_socket(st->v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fresh < 0)
		return -1;
	if (st->kind == FD_HOST_BOUND) {
		c.bound = true;
		c.addr = st->u.host_bound.addr;
	}
	slim_copy_reuse(fd, fresh);
	/* The app's options sit on the host socket: carry them back. */
	if (slim_swap(fd, fresh, c.opts) < 0)
		return -1;
	*st = (struct fd_state){.kind = FD_CONTAINER, .v6 = st->v6, .ino = fd_inode(fd)};
	st->u.container = c;
	fdtable_set(fd, st);
	return 0;
}
