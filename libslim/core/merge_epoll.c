#define _GNU_SOURCE
#include "merge_epoll.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "real.h"

#define EP_SLOTS 64
/* Registrations of one listener followed per epoll set: more would be the
 * same file under many fd numbers of one set. */
#define EP_REGS 16

/* fd + 1 of each known epoll fd; 0: free. */
static _Atomic int epfds[EP_SLOTS];

void merge_epoll_created(int epfd)
{
	int saved = errno;

	if (epfd < 0)
		return;
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < EP_SLOTS; i++)
			if (atomic_load(&epfds[i]) == epfd + 1)
				goto out;
		for (int i = 0; i < EP_SLOTS; i++) {
			int free_mark = 0;

			if (atomic_compare_exchange_strong(&epfds[i], &free_mark, epfd + 1))
				goto out;
		}
		/* Full: forget the fds that were closed since. */
		for (int i = 0; i < EP_SLOTS; i++) {
			int v = atomic_load(&epfds[i]);

			if (v && fcntl(v - 1, F_GETFD) < 0 && errno == EBADF)
				atomic_compare_exchange_strong(&epfds[i], &v, 0);
		}
	}
out:
	errno = saved;
}

/* Parses "KEY:<spaces>NUMBER" at *p in base, advancing *p past it. */
static bool field(const char **p, const char *key, int base, unsigned long long *v)
{
	size_t kl = strlen(key);
	char *end;

	while (**p == ' ' || **p == '\t')
		(*p)++;
	if (strncmp(*p, key, kl) != 0)
		return false;
	*p += kl;
	while (**p == ' ' || **p == '\t')
		(*p)++;
	errno = 0;
	*v = strtoull(*p, &end, base);
	if (end == *p || errno)
		return false;
	*p = end;
	return true;
}

bool merge_epoll_parse(const char *line, uint64_t ino, struct merge_ep_reg *r)
{
	unsigned long long tfd, events, data, pos, fino;
	const char *p = line;
	int saved = errno;
	bool ok = field(&p, "tfd:", 10, &tfd) && field(&p, "events:", 16, &events) &&
		  field(&p, "data:", 16, &data) && field(&p, "pos:", 10, &pos) &&
		  field(&p, "ino:", 16, &fino) && fino == ino;

	errno = saved;
	if (!ok)
		return false;
	r->events = (uint32_t)events;
	r->data = data;
	return true;
}

/* The registrations of inode ino in epoll fd epfd (at most max). */
static int regs_of(int epfd, uint64_t ino, struct merge_ep_reg *regs, int max)
{
	char path[48], buf[4096], line[256];
	size_t ll = 0;
	int fd, n = 0;
	ssize_t got;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", epfd);
	fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	while (n < max && (got = read(fd, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < got && n < max; i++) {
			if (buf[i] != '\n') {
				if (ll < sizeof(line) - 1)
					line[ll++] = buf[i];
				continue;
			}
			line[ll] = '\0';
			ll = 0;
			if (merge_epoll_parse(line, ino, &regs[n]))
				n++;
		}
	}
	real_close(fd);
	return n;
}

void merge_epoll_follow(uint64_t ino, int cfd)
{
	struct merge_ep_reg regs[EP_REGS];
	int saved = errno;

	for (int i = 0; i < EP_SLOTS; i++) {
		int epfd = atomic_load(&epfds[i]) - 1, n;

		if (epfd < 0)
			continue;
		n = regs_of(epfd, ino, regs, EP_REGS);
		for (int k = 0; k < n; k++) {
			struct epoll_event ev = {.events = regs[k].events,
						 .data.u64 = regs[k].data};

			/* The same set under two fd numbers of the
			 * listener: the first one wins (EEXIST). */
			(void)real_epoll_ctl(epfd, EPOLL_CTL_ADD, cfd, &ev);
		}
	}
	errno = saved;
}
