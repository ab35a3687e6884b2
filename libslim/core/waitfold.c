#define _GNU_SOURCE
#include "waitfold.h"

#include <limits.h>
#include <string.h>

#define WORD_BITS (sizeof(unsigned long) * CHAR_BIT)

/* Select's masks, as fs/select.c has them. */
#define IN_SET (POLLIN | POLLRDNORM | POLLRDBAND | POLLHUP | POLLERR)
#define OUT_SET (POLLOUT | POLLWRNORM | POLLWRBAND | POLLERR)
#define EX_SET (POLLPRI)

nfds_t waitfold_count(const struct pollfd *fds, nfds_t n, waitfold_side_fn side)
{
	nfds_t k = 0;
	int cfd;

	for (nfds_t i = 0; i < n; i++)
		if (fds[i].fd >= 0 && side(fds[i].fd, &cfd))
			k++;
	return k;
}

nfds_t waitfold_expand(const struct pollfd *fds, nfds_t n, struct pollfd *out, nfds_t *from,
		       waitfold_side_fn side)
{
	nfds_t total = n;
	int cfd;

	for (nfds_t i = 0; i < n; i++) {
		out[i] = fds[i];
		out[i].revents = 0;
	}
	for (nfds_t i = 0; i < n; i++) {
		if (fds[i].fd < 0 || !side(fds[i].fd, &cfd))
			continue;
		out[total] = (struct pollfd){.fd = cfd, .events = fds[i].events};
		from[total - n] = i;
		total++;
	}
	return total;
}

int waitfold_fold(struct pollfd *fds, nfds_t n, const struct pollfd *out, nfds_t total,
		  const nfds_t *from)
{
	int ready = 0;

	for (nfds_t i = 0; i < n; i++)
		fds[i].revents = out[i].revents;
	for (nfds_t j = n; j < total; j++) {
		struct pollfd *l = &fds[from[j - n]];

		l->revents |= (short)(out[j].revents & l->events);
	}
	for (nfds_t i = 0; i < n; i++)
		if (fds[i].revents)
			ready++;
	return ready;
}

bool waitfold_isset(const fd_set *set, int fd)
{
	const unsigned long *w = (const unsigned long *)(const void *)set;

	return (w[(size_t)fd / WORD_BITS] >> ((size_t)fd % WORD_BITS)) & 1UL;
}

static void set_bit(fd_set *set, int fd)
{
	unsigned long *w = (unsigned long *)(void *)set;

	w[(size_t)fd / WORD_BITS] |= 1UL << ((size_t)fd % WORD_BITS);
}

nfds_t waitfold_from_sets(int nfds, const fd_set *r, const fd_set *w, const fd_set *e,
			  struct pollfd *out)
{
	nfds_t n = 0;

	for (int fd = 0; fd < nfds; fd++) {
		short ev = 0;

		if (r && waitfold_isset(r, fd))
			ev |= POLLIN;
		if (w && waitfold_isset(w, fd))
			ev |= POLLOUT;
		if (e && waitfold_isset(e, fd))
			ev |= POLLPRI;
		if (ev)
			out[n++] = (struct pollfd){.fd = fd, .events = ev};
	}
	return n;
}

int waitfold_to_sets(int nfds, const struct pollfd *p, nfds_t n, fd_set *r, fd_set *w, fd_set *e)
{
	size_t bytes = ((size_t)nfds + WORD_BITS - 1) / WORD_BITS * sizeof(unsigned long);
	int count = 0;

	for (nfds_t i = 0; i < n; i++)
		if (p[i].revents & POLLNVAL)
			return -1;
	if (r)
		memset(r, 0, bytes);
	if (w)
		memset(w, 0, bytes);
	if (e)
		memset(e, 0, bytes);
	for (nfds_t i = 0; i < n; i++) {
		short ev = p[i].revents;

		if (r && (p[i].events & POLLIN) && (ev & IN_SET)) {
			set_bit(r, p[i].fd);
			count++;
		}
		if (w && (p[i].events & POLLOUT) && (ev & OUT_SET)) {
			set_bit(w, p[i].fd);
			count++;
		}
		if (e && (p[i].events & POLLPRI) && (ev & EX_SET)) {
			set_bit(e, p[i].fd);
			count++;
		}
	}
	return count;
}
