/* AF_INET6 dual-stack sockets, as nginx, curl and most runtimes use them on
 * an IPv4 network: a client connecting to ::ffff:vip and a "::" listener
 * reached over IPv4. The overlay is IPv4, and a host socket can only join
 * the reserved port's IPv4 reuseport group as an AF_INET socket, so such an
 * app socket is carried by an AF_INET host socket like any other (swapped
 * in at connect or listen). What the app must not notice is the family: the
 * names it reads back (getsockname, getpeername, accept's address) are
 * turned into the v4-mapped IPv6 form it would get from its own socket, for
 * the fds marked v6 in the fd table (the swapped socket, and what accept
 * returns from a swapped listener). Everything else passes straight
 * through, after one lock-free table read. */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "fdtable.h"
#include "uaddr.h"
#include "v4mapped.h"

bool slim_v6_read(const struct sockaddr *addr, socklen_t len, struct slim_ep *ep)
{
	struct sockaddr_in6 s6;
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	uint32_t ip;
	int saved = errno;

	if (len < sizeof(s6) || len > sizeof(struct sockaddr_storage) ||
	    slim_peek(&s6, addr, sizeof(s6)) < 0 || s6.sin6_family != AF_INET6) {
		errno = saved;
		return false;
	}
	if (IN6_IS_ADDR_UNSPECIFIED(&s6.sin6_addr)) {
		ip = 0;
	} else if (memcmp(s6.sin6_addr.s6_addr, mapped, sizeof(mapped)) == 0) {
		memcpy(&ip, &s6.sin6_addr.s6_addr[12], 4);
		ip = ntohl(ip);
	} else {
		return false;
	}
	ep->ip = ip;
	ep->port = ntohs(s6.sin6_port);
	return true;
}

/* Writes sin as the app's own AF_INET6 socket would have reported it
 * (0.0.0.0 as ::, any other address v4-mapped) into the app's buffer of
 * *len bytes, truncated like the kernel truncates, and sets *len to the
 * full size. */
static void put_mapped(const struct sockaddr_in *sin, struct sockaddr *addr, socklen_t *len)
{
	struct sockaddr_in6 s6 = {.sin6_family = AF_INET6, .sin6_port = sin->sin_port};
	socklen_t n = *len < sizeof(s6) ? *len : (socklen_t)sizeof(s6);

	if (sin->sin_addr.s_addr != htonl(INADDR_ANY)) {
		s6.sin6_addr.s6_addr[10] = 0xff;
		s6.sin6_addr.s6_addr[11] = 0xff;
		memcpy(&s6.sin6_addr.s6_addr[12], &sin->sin_addr, 4);
	}
	(void)slim_poke(addr, &s6, n);
	*len = sizeof(s6);
}

bool slim_fd_mapped(int fd)
{
	struct fd_state st;

	fdtable_get(fd, &st);
	if (!st.v6)
		return false;
	switch (st.kind) {
	case FD_CLIENT:
	case FD_LISTENER:
	case FD_ACCEPTED:
		fdtable_lookup(fd, &st);
		return st.kind != FD_PLAIN;
	default:
		return false;
	}
}

/* Copies what the kernel reported (family other than AF_INET) to the app as
 * the kernel would have: truncated to *len, *len set to the full size. */
static void put_as_is(const struct sockaddr_storage *ss, socklen_t sl, struct sockaddr *addr,
		      socklen_t *len)
{
	(void)slim_poke(addr, ss, *len < sl ? *len : sl);
	*len = sl;
}

void slim_put_name(const struct sockaddr_storage *ss, socklen_t sl, struct sockaddr *addr,
		   socklen_t *len, socklen_t ulen)
{
	if (ss->ss_family == AF_INET)
		put_mapped((const struct sockaddr_in *)ss, addr, &ulen);
	else
		put_as_is(ss, sl, addr, &ulen);
	(void)slim_poke(len, &ulen, sizeof(ulen));
}

int slim_mapped_name(name_fn fn, int fd, struct sockaddr *addr, socklen_t *len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss), ulen;
	int saved = errno;

	if (!addr || !len || slim_peek(&ulen, len, sizeof(ulen)) < 0 || (int)ulen < 0)
		return fn(fd, addr, len);
	if (fn(fd, (struct sockaddr *)&ss, &sl) < 0)
		return -1;
	slim_put_name(&ss, sl, addr, len, ulen);
	errno = saved;
	return 0;
}
