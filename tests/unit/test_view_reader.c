/* libslim's view reader against views the router's own writer makes
 * (router/view_writer.c): routes, gone subnets, several prefix lengths,
 * state and epoch; a writer that never finishes (odd seq) reads as no view;
 * a view of another format reads as no view; garbage in the tables cannot
 * make a lookup run away; a second attach of the same file keeps the
 * mapping; 8192 routes (the most the view holds) are all found. No root
 * needed. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "check.h"
#include "view_format.h"
#include "view_reader.h"
#include "view_writer.h"

static struct slim_route route(const char *net, uint8_t plen, const char *under, bool gone)
{
	return (struct slim_route){.subnet = ip(net),
				   .prefix_len = plen,
				   .underlay_ip = ip(under),
				   .port = 7771,
				   .gone = gone};
}

static bool overlay(const char *addr)
{
	uint32_t a = ip(addr);
	struct view_snap s;

	slim_view_read(&a, &s);
	return s.overlay;
}

int main(void)
{
	char dir[] = "/tmp/slim-test-view.XXXXXX", path[64], err[256], link[64];
	struct view w = {0};
	struct view_snap s;
	int fd, ro;
	uint32_t a;

	REQUIRE(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/h1.view", dir);
	REQUIRE(view_open(&w, path, err, sizeof(err)) == 0);
	fd = open(path, O_RDONLY);
	REQUIRE(fd >= 0);

	/* Nothing attached yet: no view, the plain path. */
	a = ip("10.244.2.2");
	slim_view_read(&a, &s);
	CHECK_INT(s.state, SLIM_VIEW_EMPTY);
	CHECK(!s.overlay);

	struct slim_route two[] = {route("10.244.1.0", 24, "192.168.77.1", false),
				   route("10.244.2.0", 24, "192.168.77.2", false)};
	REQUIRE(view_publish(&w, two, 2, 9, err, sizeof(err)) == 0);

	/* A file too small to be a view is refused; the real one is taken,
	 * and its fd is closed by the attach. */
	CHECK(slim_view_fd_ok(fd));
	ro = open("/dev/null", O_RDONLY);
	CHECK(!slim_view_fd_ok(ro));
	close(ro);
	CHECK_INT(slim_view_attach(fd), 0);
	CHECK(fcntl(fd, F_GETFD) < 0 && errno == EBADF);

	slim_view_read(&a, &s);
	CHECK_INT(s.state, SLIM_VIEW_RUNNING);
	CHECK_INT(s.epoch, 9);
	CHECK(s.overlay);
	CHECK(overlay("10.244.1.0"));
	CHECK(overlay("10.244.1.255"));
	CHECK(!overlay("10.244.3.2"));
	CHECK(!overlay("10.244.0.255"));
	/* Without an address: state and epoch only. */
	slim_view_read(NULL, &s);
	CHECK_INT(s.epoch, 9);
	CHECK(!s.overlay);

	/* The router rewrites it: readers see the new routes at once; a gone
	 * subnet is still overlay (connects to it fail in the kernel,
	 * EHOSTUNREACH, rather than leaving the overlay); several prefix
	 * lengths, longest first. */
	struct slim_route more[] = {route("10.244.1.0", 24, "192.168.77.1", false),
				    route("10.244.2.0", 24, "192.168.77.2", true),
				    route("10.245.0.0", 16, "192.168.77.3", false),
				    route("10.246.7.8", 32, "192.168.77.4", false),
				    route("11.0.0.0", 8, "192.168.77.5", false)};
	REQUIRE(view_publish(&w, more, 5, 10, err, sizeof(err)) == 0);
	slim_view_read(&a, &s);
	CHECK(s.overlay);
	CHECK_INT(s.epoch, 10);
	CHECK(overlay("10.245.200.1"));
	CHECK(overlay("10.246.7.8"));
	CHECK(!overlay("10.246.7.9"));
	CHECK(overlay("11.255.0.1"));
	CHECK(!overlay("12.0.0.1"));
	/* And again (the other table): a removed route is gone at once. */
	REQUIRE(view_publish(&w, more, 4, 10, err, sizeof(err)) == 0);
	CHECK(!overlay("11.255.0.1"));
	CHECK(overlay("10.246.7.8"));

	/* A writer that died mid-write (odd seq forever): no view, not a
	 * torn one. */
	w.m->seq++;
	slim_view_read(&a, &s);
	CHECK_INT(s.state, SLIM_VIEW_EMPTY);
	CHECK(!s.overlay);
	w.m->seq++;
	CHECK(overlay("10.244.1.9"));

	/* Nonsense in the header or the tables: bounded, no crash. */
	w.m->t[w.m->active].n_plens = 1000000;
	memset(w.m->t[w.m->active].plens, 200, sizeof(w.m->t[0].plens));
	(void)overlay("10.244.1.9");
	for (size_t i = 0; i < SLIM_VIEW_SLOTS; i++)
		w.m->t[w.m->active].slots[i].flags = SLIM_VIEW_USED;
	(void)overlay("10.244.1.9");
	w.m->active = 7; /* only its low bit is used */
	(void)overlay("10.244.1.9");
	/* Another format: no view. */
	w.m->format = 1;
	slim_view_read(&a, &s);
	CHECK_INT(s.state, SLIM_VIEW_EMPTY);

	/* As many routes as the view holds, all /24: every one found, and
	 * addresses next to them not. */
	static struct slim_route many[SLIM_VIEW_MAX_ROUTES + 1];
	for (uint32_t i = 0; i < SLIM_VIEW_MAX_ROUTES; i++)
		many[i] = (struct slim_route){.subnet = (10u << 24) | (i << 8),
					      .prefix_len = 24,
					      .underlay_ip = ip("192.168.0.1") + i,
					      .port = 7771};
	REQUIRE(view_publish(&w, many, SLIM_VIEW_MAX_ROUTES, 11, err, sizeof(err)) == 0);
	int found = 0, wrong = 0;
	for (uint32_t i = 0; i < SLIM_VIEW_MAX_ROUTES; i++) {
		uint32_t in = (10u << 24) | (i << 8) | 77, out = (10u << 24) | ((i + 8192) << 8);
		slim_view_read(&in, &s);
		found += s.overlay;
		slim_view_read(&out, &s);
		wrong += s.overlay;
	}
	CHECK_INT(found, SLIM_VIEW_MAX_ROUTES);
	CHECK_INT(wrong, 0);
	/* One more does not fit, and the view is left as it was. */
	CHECK_INT(view_publish(&w, many, SLIM_VIEW_MAX_ROUTES + 1, 12, err, sizeof(err)), -1);
	slim_view_read(NULL, &s);
	CHECK_INT(s.epoch, 11);

	/* Attaching the same file again keeps the mapping. */
	snprintf(link, sizeof(link), "%s", path);
	ro = open(link, O_RDONLY);
	REQUIRE(ro >= 0);
	CHECK_INT(slim_view_attach(ro), 0);
	CHECK(overlay("10.0.5.1"));

	view_set_state(&w, SLIM_VIEW_RETIRED);
	slim_view_read(NULL, &s);
	CHECK_INT(s.state, SLIM_VIEW_RETIRED);
	view_close(&w, true);
	rmdir(dir);
	CHECK_DONE();
}
