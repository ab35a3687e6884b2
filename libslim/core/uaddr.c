#define _GNU_SOURCE
#include "uaddr.h"

#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

/* getpid() costs a system call per peek (glibc no longer caches it): keep
 * it, and forget it in a forked child. */
static _Atomic pid_t own_pid;

void slim_uaddr_fork_child(void)
{
	atomic_store(&own_pid, 0);
}

static pid_t self_pid(void)
{
	pid_t p = atomic_load(&own_pid);

	if (p == 0) {
		p = getpid();
		atomic_store(&own_pid, p);
	}
	return p;
}

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
	got = process_vm_readv(self_pid(), &local, 1, &remote, 1, 0);
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

int slim_poke(void *dst, const void *src, size_t n)
{
	int saved = errno;
	struct iovec local = {.iov_base = (void *)src, .iov_len = n};
	struct iovec remote = {.iov_base = dst, .iov_len = n};
	ssize_t put;

	if (n == 0) {
		return 0;
	}
	if (!dst) {
		errno = EFAULT;
		return -1;
	}
	put = process_vm_writev(self_pid(), &local, 1, &remote, 1, 0);
	if (put == (ssize_t)n) {
		errno = saved;
		return 0;
	}
	if (put >= 0 || errno == EFAULT) {
		errno = EFAULT;
		return -1;
	}
	memcpy(dst, src, n); /* no process_vm_writev: as libc would */
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
