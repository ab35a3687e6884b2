/* Reader side of the view seqlock and its route hash (the router writes,
 * see router/view_writer.c; the format is proto/view_format.h). */
#define _GNU_SOURCE
#include "view_reader.h"

#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "real.h"
#include "routes.h"
#include "view_format.h"

/* Old mappings are never unmapped: a reader may still be inside one. They
 * only change when the router starts over with a new view file. */
static const struct slim_view *_Atomic cur_view;
static _Atomic uint64_t cur_dev, cur_ino;

bool slim_view_fd_ok(int fd)
{
	struct stat st;
	int saved = errno;
	bool ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
		  (size_t)st.st_size >= sizeof(struct slim_view);

	errno = saved;
	return ok;
}

int slim_view_attach(int fd)
{
	struct stat st;
	void *p;
	int e;

	if (fstat(fd, &st) == 0 && atomic_load(&cur_view) &&
	    (uint64_t)st.st_dev == atomic_load(&cur_dev) &&
	    (uint64_t)st.st_ino == atomic_load(&cur_ino)) {
		real_close(fd);
		return 0;
	}
	p = mmap(NULL, sizeof(struct slim_view), PROT_READ, MAP_SHARED, fd, 0);
	e = errno;
	real_close(fd);
	if (p == MAP_FAILED) {
		errno = e;
		return -1;
	}
	atomic_store(&cur_dev, (uint64_t)st.st_dev);
	atomic_store(&cur_ino, (uint64_t)st.st_ino);
	atomic_store(&cur_view, (const struct slim_view *)p);
	return 0;
}

/* The router flips tables in a few stores, so a reader that keeps colliding
 * with the writer is facing a dead writer (killed mid-write) or nonsense:
 * after a bounded number of tries it reports no view. */
#define READ_TRIES 64

/* Looks ip up in table t (which may be changing under us: every index is
 * bounded, and the caller's seq check throws the answer away if it did).
 * True when a route holds ip. */
static bool table_has(const struct slim_view_table *t, uint32_t ip)
{
	uint32_t np = t->n_plens;

	if (np > sizeof(t->plens))
		np = sizeof(t->plens);
	for (uint32_t k = 0; k < np; k++) {
		uint32_t plen = t->plens[k] > 32 ? 32 : t->plens[k];
		uint32_t key = ip & slim_prefix_mask(plen);
		uint32_t i = slim_view_hash(key, plen);

		for (uint32_t probe = 0; probe < SLIM_VIEW_SLOTS; probe++) {
			const struct slim_view_route *r = &t->slots[i];

			if (!(r->flags & SLIM_VIEW_USED))
				break;
			if (r->subnet == key && r->prefix_len == plen)
				return true;
			i = (i + 1) & (SLIM_VIEW_SLOTS - 1);
		}
	}
	return false;
}

void slim_view_read(const uint32_t *ip, struct view_snap *s)
{
	const struct slim_view *v = atomic_load(&cur_view);

	s->state = SLIM_VIEW_EMPTY;
	s->epoch = 0;
	s->overlay = false;
	if (!v)
		return;
	for (int t = 0; t < READ_TRIES; t++) {
		const _Atomic uint32_t *seq = (const _Atomic uint32_t *)&v->seq;
		uint32_t s1 = atomic_load_explicit(seq, memory_order_acquire);
		struct view_snap got = {.state = v->state, .epoch = v->epoch};

		if (s1 & 1)
			continue;
		if (v->format != SLIM_VIEW_FORMAT)
			return; /* another build's layout: no view */
		if (ip)
			got.overlay = table_has(&v->t[v->active & 1], *ip);
		atomic_thread_fence(memory_order_acquire);
		if (atomic_load_explicit(seq, memory_order_relaxed) == s1) {
			*s = got;
			return;
		}
	}
}
