/* accept() and accept4() on a slim listener: report the virtual peer the
 * sockops program stored on the accepted socket.
 *
 * Choice: an accepted socket without a peer entry (cannot happen through
 * the reserved port, whose reuseport program drops SYNs without the option)
 * is handed over unchanged with its real address, silently: refusing it
 * would turn a bookkeeping miss into a lost connection. */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <stddef.h>
#include <sys/socket.h>

#include "common.h"
#include "fdtable.h"
#include "peer.h"
#include "real.h"
#include "uaddr.h"

/* The real peer port of nfd: from what the kernel just wrote into the app's
 * buffer if that holds it, else asked again. */
static uint16_t real_peer_port(int nfd, const struct sockaddr *addr, bool have_orig, socklen_t orig)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	int saved = errno;

	if (addr && have_orig && orig >= sizeof(sin) && addr->sa_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)addr)->sin_port);
	if (real_getpeername(nfd, (struct sockaddr *)&sin, &sl) < 0) {
		errno = saved;
		return 0;
	}
	return ntohs(sin.sin_port);
}

static int do_accept(int fd, struct sockaddr *addr, socklen_t *addrlen, int flags, bool four)
{
	struct fd_state st;
	socklen_t orig = 0;
	bool have_orig;
	uint32_t peer_ip;
	struct slim_ep local;
	int nfd;

	fdtable_lookup(fd, &st);
	if (st.kind != FD_LISTENER) {
		nfd =
		    four ? real_accept4(fd, addr, addrlen, flags) : real_accept(fd, addr, addrlen);
		if (nfd >= 0)
			fdtable_clear(nfd);
		return nfd;
	}
	/* The app's buffer size, read safely: the kernel validates the
	 * pointers itself in the real call below (EFAULT, EINVAL as Linux). */
	have_orig = addr && slim_peek(&orig, addrlen, sizeof(orig)) == 0;
	nfd = four ? real_accept4(fd, addr, addrlen, flags) : real_accept(fd, addr, addrlen);
	if (nfd < 0)
		return nfd;
	if (slim_peer_lookup(nfd, &peer_ip, &local) < 0) {
		fdtable_clear(nfd);
		return nfd;
	}
	st = (struct fd_state){.kind = FD_ACCEPTED, .ino = fd_inode(nfd), .local = local};
	st.peer.ip = peer_ip;
	st.peer.port = real_peer_port(nfd, addr, have_orig, orig);
	fdtable_set(nfd, &st);
	if (have_orig)
		slim_rewrite_addr(addr, orig, st.peer);
	return nfd;
}

SLIM_EXPORT int accept(int fd, struct sockaddr *addr, socklen_t *addrlen)
{
	return do_accept(fd, addr, addrlen, 0, false);
}

SLIM_EXPORT int accept4(int fd, struct sockaddr *addr, socklen_t *addrlen, int flags)
{
	return do_accept(fd, addr, addrlen, flags, true);
}
