/* Writer side of the view seqlock and of the routes trie. One writer (the
 * router's single thread); readers are every libslim and the kernel. */
#include "view_writer.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "slim_maps.h"

/* view_publish writes the same routes into the trie and the view: a route
 * set that fits one must fit the other. */
_Static_assert(SLIM_VIEW_MAX_ROUTES == SLIM_MAX_ROUTES,
	       "the view and the routes trie must hold the same number of routes");

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

static bool is_route(const struct slim_route_key *k, const struct slim_route *routes, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (k->prefixlen == routes[i].prefix_len && k->subnet == htonl(routes[i].subnet))
			return true;
	return false;
}

int view_publish(struct view *v, int routes_fd, const struct slim_route *routes, size_t n,
		 uint32_t epoch, char *err, size_t errlen)
{
	struct slim_route_key k, next, *prev = NULL;

	if (n > SLIM_MAX_ROUTES) {
		snprintf(err, errlen, "%zu routes: at most %d fit the routes map", n,
			 SLIM_MAX_ROUTES);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		struct slim_route_key key = {.prefixlen = routes[i].prefix_len,
					     .subnet = htonl(routes[i].subnet)};
		struct slim_route_val val = {.underlay_ip = htonl(routes[i].underlay_ip),
					     .port = htons(routes[i].port)};

		if (bpf_map_update_elem(routes_fd, &key, &val, BPF_ANY) != 0) {
			snprintf(err, errlen, "cannot write the routes map: %s", strerror(errno));
			return -1;
		}
	}
	/* Routes a previous router of this host left (the maps are reused):
	 * after deleting one, iteration restarts from the beginning. */
	while (bpf_map_get_next_key(routes_fd, prev, &next) == 0) {
		if (is_route(&next, routes, n)) {
			k = next;
			prev = &k;
			continue;
		}
		if (bpf_map_delete_elem(routes_fd, &next) != 0) {
			snprintf(err, errlen, "cannot clean the routes map: %s", strerror(errno));
			return -1;
		}
		prev = NULL;
	}
	write_begin(v->m);
	v->m->state = SLIM_VIEW_RUNNING;
	v->m->epoch = epoch;
	v->m->n_routes = (uint32_t)n;
	for (size_t i = 0; i < n; i++)
		v->m->routes[i] = (struct slim_view_route){.subnet = routes[i].subnet,
							   .prefix_len = routes[i].prefix_len,
							   .underlay_ip = routes[i].underlay_ip,
							   .port = routes[i].port};
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
