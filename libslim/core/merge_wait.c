#define _GNU_SOURCE
#include "merge_wait.h"

#include <errno.h>
#include <sys/mman.h>

#include "merge.h"
#include "real.h"
#include "waitfold.h"

/* Entries kept on the stack; beyond, a mapping. */
#define STACK_FDS 128

static bool side(int fd, int *cfd)
{
	struct slim_resv c;

	if (!merge_side(fd, &c))
		return false;
	*cfd = c.fd;
	return true;
}

/* Room for total pollfds and k indexes: in the caller's stack buffers when
 * they fit, else mapped (*mapped: its size, to unmap). NULL if it cannot
 * be had. */
static void *room(size_t total, size_t k, void *stack, size_t stack_size, size_t *mapped)
{
	size_t need = total * sizeof(struct pollfd) + k * sizeof(nfds_t) + sizeof(nfds_t);
	void *p;

	*mapped = 0;
	if (need <= stack_size)
		return stack;
	p = mmap(NULL, need, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	*mapped = need;
	return p;
}

/* out (total entries, the app's n first) waited on with ppoll, the answer
 * folded into fds. */
static int wait_folded(struct pollfd *fds, nfds_t n, struct pollfd *out, nfds_t total,
		       const nfds_t *from, const struct timespec *ts, const sigset_t *mask)
{
	int r = real_ppoll(out, total, ts, mask);

	if (r < 0)
		return r;
	return waitfold_fold(fds, n, out, total, from);
}

int merge_ppoll(struct pollfd *fds, nfds_t n, const struct timespec *ts, const sigset_t *mask)
{
	_Alignas(struct pollfd) char stack[STACK_FDS * (sizeof(struct pollfd) + sizeof(nfds_t))];
	nfds_t k = waitfold_count(fds, n, side), total;
	struct pollfd *out;
	size_t mapped;
	nfds_t *from;
	int r, saved;

	if (k == 0)
		return MERGE_NONE;
	out = room(n + k, k, stack, sizeof(stack), &mapped);
	if (!out)
		return MERGE_NONE; /* no memory: the listener's own queue at least */
	from = (nfds_t *)(void *)(out + n + k);
	total = waitfold_expand(fds, n, out, from, side);
	r = wait_folded(fds, n, out, total, from, ts, mask);
	saved = errno;
	if (mapped)
		munmap(out, mapped);
	errno = saved;
	return r;
}

/* True if a fd of the read set is a merged listener. */
static bool read_set_merged(int nfds, const fd_set *r)
{
	int cfd;

	for (int fd = 0; fd < nfds; fd++)
		if (waitfold_isset(r, fd) && side(fd, &cfd))
			return true;
	return false;
}

int merge_pselect(int nfds, fd_set *r, fd_set *w, fd_set *e, const struct timespec *ts,
		  const sigset_t *mask)
{
	_Alignas(struct pollfd) char stack[STACK_FDS * (sizeof(struct pollfd) + sizeof(nfds_t))];
	struct pollfd *sets, *out;
	nfds_t n, k, total, *from;
	size_t mapped, mapped2;
	int res, saved;

	if (!r || nfds <= 0 || !read_set_merged(nfds, r))
		return MERGE_NONE;
	/* The sets' fds first (at most nfds of them), then the expansion
	 * beside them. */
	sets = room((size_t)nfds, 0, stack, sizeof(stack) / 2, &mapped);
	if (!sets)
		return MERGE_NONE;
	n = waitfold_from_sets(nfds, r, w, e, sets);
	k = waitfold_count(sets, n, side);
	out = room(n + k, k, stack + sizeof(stack) / 2, sizeof(stack) / 2, &mapped2);
	if (!out) {
		if (mapped)
			munmap(sets, mapped);
		return MERGE_NONE;
	}
	from = (nfds_t *)(void *)(out + n + k);
	total = waitfold_expand(sets, n, out, from, side);
	res = wait_folded(sets, n, out, total, from, ts, mask);
	if (res >= 0) {
		res = waitfold_to_sets(nfds, sets, n, r, w, e);
		if (res < 0)
			errno = EBADF;
	}
	saved = errno;
	if (mapped)
		munmap(sets, mapped);
	if (mapped2)
		munmap(out, mapped2);
	errno = saved;
	return res;
}
