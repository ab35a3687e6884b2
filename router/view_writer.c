/* Writer side of the view seqlock and of its route tables. One writer (the
 * router's single thread); readers are every libslim. */
#include "view_writer.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "membership.h"

/* The router publishes the same routes into the trie and the view: a route
 * set that fits one must fit the other. */
_Static_assert(SLIM_VIEW_MAX_ROUTES == MEMBERSHIP_MAX_ROUTES,
	       "the view holds every route membership publishes");

int view_open(struct view *v, const char *path, char *err, size_t errlen)
{
	struct stat st;
	void *p;
	int fd;

	v->m = NULL;
	if (snprintf(v->path, sizeof(v->path), "%s", path) >= (int)sizeof(v->path)) {
		snprintf(err, errlen, "view file path too long: %s", path);
		return -1;
	}
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		snprintf(err, errlen, "cannot open the view file %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    ((size_t)st.st_size < sizeof(struct slim_view) &&
	     ftruncate(fd, sizeof(struct slim_view)) != 0)) {
		snprintf(err, errlen, "cannot size the view file %s: %s", path,
			 S_ISREG(st.st_mode) ? strerror(errno) : "not a regular file");
		close(fd);
		return -1;
	}
	p = mmap(NULL, sizeof(struct slim_view), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		snprintf(err, errlen, "cannot map the view file %s: %s", path, strerror(errno));
		return -1;
	}
	v->m = p;
	return 0;
}

int view_reader_fd(const struct view *v)
{
	return open(v->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
}

void view_close(struct view *v, bool unlink_it)
{
	if (v->m)
		munmap(v->m, sizeof(*v->m));
	if (v->m && unlink_it)
		unlink(v->path);
	v->m = NULL;
}

int view_path_for(const char *state_path, char *out, size_t outlen)
{
	static const char suffix[] = ".containers";
	size_t n = strlen(state_path), k = sizeof(suffix) - 1;

	if (n > k && strcmp(state_path + n - k, suffix) == 0)
		n -= k;
	return snprintf(out, outlen, "%.*s.view", (int)n, state_path) < (int)outlen ? 0 : -1;
}

/* Seqlock: an odd seq tells readers a write is under way. The fences order
 * the seq stores around the plain stores of the payload. */
static void write_begin(struct slim_view *m)
{
	_Atomic uint32_t *seq = (_Atomic uint32_t *)&m->seq;
	uint32_t s = atomic_load_explicit(seq, memory_order_relaxed);

	atomic_store_explicit(seq, (s | 1) == s ? s + 2 : s + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
}

static void write_end(struct slim_view *m)
{
	_Atomic uint32_t *seq = (_Atomic uint32_t *)&m->seq;

	atomic_store_explicit(seq, atomic_load_explicit(seq, memory_order_relaxed) + 1,
			      memory_order_release);
}

/* Fills t with the n routes (n <= SLIM_VIEW_MAX_ROUTES, so the table is at
 * most half full and every probe ends). */
static void fill_table(struct slim_view_table *t, const struct slim_route *routes, size_t n)
{
	bool plen_used[33] = {false};

	memset(t->slots, 0, sizeof(t->slots));
	for (size_t k = 0; k < n; k++) {
		const struct slim_route *r = &routes[k];
		uint32_t i = slim_view_hash(r->subnet, r->prefix_len);

		while (t->slots[i].flags & SLIM_VIEW_USED)
			i = (i + 1) & (SLIM_VIEW_SLOTS - 1);
		t->slots[i] = (struct slim_view_route){
		    .subnet = r->subnet,
		    .prefix_len = r->prefix_len,
		    .flags = (uint8_t)(SLIM_VIEW_USED | (r->gone ? SLIM_VIEW_GONE : 0)),
		    .port = r->port,
		    .underlay_ip = r->underlay_ip};
		plen_used[r->prefix_len] = true;
	}
	t->n_routes = (uint32_t)n;
	t->n_plens = 0;
	memset(t->plens, 0, sizeof(t->plens));
	for (int p = 32; p >= 0; p--)
		if (plen_used[p])
			t->plens[t->n_plens++] = (uint8_t)p;
}

int view_publish(struct view *v, const struct slim_route *routes, size_t n, uint32_t epoch,
		 char *err, size_t errlen)
{
	uint32_t next;

	if (n > SLIM_VIEW_MAX_ROUTES) {
		snprintf(err, errlen, "%zu routes: at most %d fit the view", n,
			 SLIM_VIEW_MAX_ROUTES);
		return -1;
	}
	for (size_t k = 0; k < n; k++)
		if (routes[k].prefix_len > 32) {
			snprintf(err, errlen, "route with prefix length %u", routes[k].prefix_len);
			return -1;
		}
	/* A reader that started before the last flip may still be in the
	 * table we are about to fill: the flip changed seq, so it retries. */
	next = (v->m->active & 1) ^ 1;
	if (v->m->format != SLIM_VIEW_FORMAT)
		next = 0; /* a file of another layout: nothing in it is trusted */
	fill_table(&v->m->t[next], routes, n);
	atomic_thread_fence(memory_order_release);
	write_begin(v->m);
	v->m->state = SLIM_VIEW_RUNNING;
	v->m->epoch = epoch;
	v->m->format = SLIM_VIEW_FORMAT;
	v->m->active = next;
	write_end(v->m);
	return 0;
}

void view_set_state(struct view *v, uint32_t state)
{
	if (!v->m)
		return;
	write_begin(v->m);
	v->m->state = state;
	write_end(v->m);
}
