/* libslim's view reader: routes, state and epoch read from a view file the
 * test writes as the router would, a writer that never finishes (odd seq)
 * reads as no view, and a second attach of the same file keeps the
 * mapping. No root needed. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "check.h"
#include "view_format.h"
#include "view_reader.h"

int main(void)
{
	char path[] = "/tmp/slim-test-view.XXXXXX";
	int fd = mkstemp(path), ro;
	char link[64];
	struct slim_view *v;
	struct view_snap s;
	uint32_t a;

	REQUIRE(fd >= 0);
	unlink(path);
	REQUIRE(ftruncate(fd, sizeof(*v)) == 0);
	v = mmap(NULL, sizeof(*v), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	REQUIRE(v != MAP_FAILED);

	/* Nothing attached yet: no view, the plain path. */
	a = ip("10.244.2.2");
	slim_view_read(&a, &s);
	CHECK_INT(s.state, SLIM_VIEW_EMPTY);
	CHECK(!s.overlay);

	v->state = SLIM_VIEW_RUNNING;
	v->epoch = 9;
	v->n_routes = 2;
	v->routes[0] = (struct slim_view_route){ip("10.244.1.0"), 24, ip("192.168.77.1"), 7771};
	v->routes[1] = (struct slim_view_route){ip("10.244.2.0"), 24, ip("192.168.77.2"), 7771};

	/* A file too small to be a view is refused; the real one is taken,
	 * and its fd is closed by the attach. */
	CHECK(slim_view_fd_ok(fd));
	ro = open("/dev/null", O_RDONLY);
	CHECK(!slim_view_fd_ok(ro));
	close(ro);
	/* Read-only, as the router hands it out. */
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ro = open(link, O_RDONLY);
	REQUIRE(ro >= 0);
	CHECK_INT(slim_view_attach(ro), 0);
	CHECK(fcntl(ro, F_GETFD) < 0 && errno == EBADF);

	slim_view_read(&a, &s);
	CHECK_INT(s.state, SLIM_VIEW_RUNNING);
	CHECK_INT(s.epoch, 9);
	CHECK(s.overlay);
	a = ip("10.244.3.2");
	slim_view_read(&a, &s);
	CHECK(!s.overlay);
	/* Without an address: state and epoch only. */
	slim_view_read(NULL, &s);
	CHECK_INT(s.epoch, 9);
	CHECK(!s.overlay);

	/* The router rewrites it: readers see the new routes at once. */
	v->seq++;
	v->routes[1].subnet = ip("10.244.3.0");
	v->epoch = 10;
	v->seq++;
	slim_view_read(&a, &s);
	CHECK(s.overlay);
	CHECK_INT(s.epoch, 10);

	/* A writer that died mid-write (odd seq forever): no view, not a
	 * torn one. */
	v->seq++;
	slim_view_read(&a, &s);
	CHECK_INT(s.state, SLIM_VIEW_EMPTY);
	CHECK(!s.overlay);
	v->seq++;

	/* A route count beyond the array is cut to the array. */
	v->n_routes = 1000000;
	a = ip("10.244.1.9");
	slim_view_read(&a, &s);
	CHECK(s.overlay);

	v->state = SLIM_VIEW_RETIRED;
	slim_view_read(NULL, &s);
	CHECK_INT(s.state, SLIM_VIEW_RETIRED);
	munmap(v, sizeof(*v));
	close(fd);
	CHECK_DONE();
}
