#define _GNU_SOURCE
#include "reservation.h"

#include <errno.h>
#include <netinet/in.h>
#include <sys/resource.h>

#include "highfd.h"
#include "merge.h"
#include "real.h"
#include "swap.h"

bool slim_resv_ours(struct slim_resv r)
{
	return r.ino && (uint32_t)fd_inode(r.fd) == r.ino;
}

void slim_resv_close(struct slim_resv r)
{
	if (slim_resv_ours(r))
		real_close(r.fd);
}

bool slim_resv_affordable(int fd)
{
	struct rlimit rl;
	int saved = errno;
	bool ok = getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY ||
		  (rlim_t)fd < rl.rlim_cur / 2;

	errno = saved;
	return ok;
}

int slim_resv_bind(int app_fd, const struct sockaddr *addr, socklen_t len, uint32_t opts,
		   struct slim_resv *r, uint16_t *port)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	int fd = real_socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), e;

	if (fd < 0)
		return -1;
	/* On the lowest free number: where the app's next fd would go. */
	if (!slim_resv_affordable(fd)) {
		real_close(fd);
		return RESV_UNAFFORDABLE;
	}
	slim_copy_reuse(app_fd, fd);
	/* What the app set before bind, for the sockets the container side
	 * will accept (what it sets later follows: hooks/setsockopt.c). */
	if (opts)
		slim_copy_opts(app_fd, fd, opts);
	if (real_bind(fd, addr, len) < 0 ||
	    real_getsockname(fd, (struct sockaddr *)&sin, &sl) < 0) {
		e = errno;
		real_close(fd);
		errno = e;
		return -1;
	}
	*port = ntohs(sin.sin_port);
	r->fd = fd;
	r->ino = (uint32_t)fd_inode(fd);
	return 0;
}

void slim_resv_move_high(struct slim_resv *r)
{
	r->fd = slim_move_fd(r->fd, slim_high_base());
}

struct slim_resv slim_resv_unlisten(struct slim_resv c, bool reuse)
{
	struct slim_resv none = {.fd = -1, .ino = 0}, kept;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss), ol = sizeof(int);
	int fd, one = 1, v = 0, reuseport = 0, v6only = 0;

	if (!slim_resv_ours(c) || real_getsockname(c.fd, (struct sockaddr *)&ss, &sl) < 0) {
		merge_release(c);
		return none;
	}
	(void)getsockopt(c.fd, SOL_SOCKET, SO_REUSEPORT, &reuseport, &ol);
	ol = sizeof(int);
	if (ss.ss_family == AF_INET6)
		(void)getsockopt(c.fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, &ol);
	/* Closed first: a listening socket refuses the bind. If another
	 * process still holds it, it keeps the port itself. */
	merge_release(c);
	fd = real_socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return none;
	v = reuse;
	(void)real_setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &v, sizeof(v));
	if (reuseport)
		(void)real_setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (v6only)
		(void)real_setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (real_bind(fd, (struct sockaddr *)&ss, sl) != 0) {
		real_close(fd);
		return none;
	}
	kept.fd = fd;
	kept.ino = (uint32_t)fd_inode(fd);
	slim_resv_move_high(&kept);
	return kept;
}

int slim_resv_swap_in(int fd, struct fd_state *st)
{
	struct fd_host_bound hb = st->u.host_bound;

	if (!slim_resv_ours(hb.resv))
		return slim_unswap(fd, st);
	if (slim_swap(fd, hb.resv.fd, hb.opts) < 0)
		return -1;
	*st = (struct fd_state){.kind = FD_CONTAINER, .v6 = st->v6, .ino = fd_inode(fd)};
	st->u.container = (struct fd_container){.opts = hb.opts, .bound = true, .addr = hb.addr};
	fdtable_set(fd, st);
	return 0;
}
