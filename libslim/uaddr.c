#define _GNU_SOURCE
#include "uaddr.h"

#include <errno.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

int slim_peek(void *dst, const void *src, size_t n)
{
	int saved = errno;
	struct iovec local = {.iov_base = dst, .iov_len = n};
	struct iovec remote = {.iov_base = (void *)src, .iov_len = n};
	ssize_t got;

	if (!src) {
		errno = EFAULT;
		return -1;
	}
	got = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
	if (got == (ssize_t)n) {
		errno = saved;
		return 0;
	}
	if (got >= 0 || errno == EFAULT) {
		errno = EFAULT;
		return -1;
	}
	/* process_vm_readv unavailable (seccomp, old kernel): trust the
	 * pointer as libc itself would. */
	memcpy(dst, src, n);
	errno = saved;
	return 0;
}

int slim_read_sin(const struct sockaddr *addr, socklen_t len, struct slim_ep *ep)
{
	struct sockaddr_in sin;
	int saved = errno;

	if (len < sizeof(sin) || len > sizeof(struct sockaddr_storage) ||
	    slim_peek(&sin, addr, sizeof(sin)) < 0 || sin.sin_family != AF_INET) {
		errno = saved;
		return -1;
	}
	ep->ip = ntohl(sin.sin_addr.s_addr);
	ep->port = ntohs(sin.sin_port);
	return 0;
}

struct sockaddr_in slim_sin(struct slim_ep ep)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(ep.ip);
	sin.sin_port = htons(ep.port);
	return sin;
}

void slim_rewrite_addr(struct sockaddr *addr, socklen_t orig, struct slim_ep ep)
{
	struct sockaddr_in sin = slim_sin(ep);
	size_t n = orig < sizeof(sin) ? orig : sizeof(sin);

	if (addr && n)
		memcpy(addr, &sin, n);
}
