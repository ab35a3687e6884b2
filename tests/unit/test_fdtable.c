/* libslim's fd table: every kind's payload comes back as it was recorded,
 * a record whose fd was closed and reused behind libslim's back reads as
 * plain, a reservation is taken exactly once, and fds far beyond 1024 have
 * their own entries. No root needed. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "fdtable.h"

static struct fd_state roundtrip(int fd, const struct fd_state *st)
{
	struct fd_state got;

	REQUIRE(fdtable_set(fd, st) == 0);
	fdtable_get(fd, &got);
	return got;
}

static void check_kinds(int fd)
{
	struct fd_state st = {.kind = FD_CONTAINER, .v6 = true, .ino = 7}, got;

	st.u.container =
	    (struct fd_container){.opts = 0x5, .bound = true, .addr = {0x0af40202, 80}};
	got = roundtrip(fd, &st);
	CHECK_INT(got.kind, FD_CONTAINER);
	CHECK(got.v6);
	CHECK_INT(got.ino, 7);
	CHECK_INT(got.u.container.opts, 0x5);
	CHECK(got.u.container.bound);
	CHECK_INT(got.u.container.addr.ip, 0x0af40202);
	CHECK_INT(got.u.container.addr.port, 80);

	st = (struct fd_state){.kind = FD_POOLED, .ino = 8};
	st.u.pooled = (struct fd_pooled){.opts = 0xfffff, .epoch = 42};
	got = roundtrip(fd, &st);
	CHECK_INT(got.kind, FD_POOLED);
	CHECK(!got.v6);
	CHECK_INT(got.u.pooled.opts, 0xfffff);
	CHECK_INT(got.u.pooled.epoch, 42);

	st = (struct fd_state){.kind = FD_HOST_BOUND, .ino = 9};
	st.u.host_bound = (struct fd_host_bound){
	    .opts = 3, .addr = {0, 8080}, .resv = {.fd = 900, .ino = 0xdeadbeef}};
	got = roundtrip(fd, &st);
	CHECK_INT(got.kind, FD_HOST_BOUND);
	CHECK_INT(got.u.host_bound.addr.port, 8080);
	CHECK_INT(got.u.host_bound.resv.fd, 900);
	CHECK_INT(got.u.host_bound.resv.ino, 0xdeadbeef);
	CHECK(fd_state_resv(&got) == &got.u.host_bound.resv);
	CHECK(fd_state_opts(&got) && *fd_state_opts(&got) == 3);

	st = (struct fd_state){.kind = FD_CLIENT, .v6 = true, .ino = 10};
	st.u.client = (struct fd_client){.opts = 1, .peer = {0x0af40302, 443}};
	got = roundtrip(fd, &st);
	CHECK_INT(got.kind, FD_CLIENT);
	CHECK_INT(got.u.client.peer.ip, 0x0af40302);
	CHECK_INT(got.u.client.peer.port, 443);
	CHECK(fd_state_resv(&got) == NULL);

	st = (struct fd_state){.kind = FD_LISTENER, .ino = 11};
	st.u.listener = (struct fd_listener){
	    .local = {0x0af40202, 6379}, .reuse = true, .resv = {.fd = 901, .ino = 77}};
	got = roundtrip(fd, &st);
	CHECK_INT(got.kind, FD_LISTENER);
	CHECK(got.u.listener.reuse);
	CHECK_INT(got.u.listener.local.port, 6379);
	CHECK_INT(got.u.listener.resv.fd, 901);
	CHECK(fd_state_opts(&got) == NULL);

	/* An accepted socket's record has no payload: its kind and v6. */
	st = (struct fd_state){.kind = FD_ACCEPTED, .v6 = true, .ino = 12};
	got = roundtrip(fd, &st);
	CHECK_INT(got.kind, FD_ACCEPTED);
	CHECK(got.v6);
	CHECK_INT(got.ino, 12);
	CHECK(fd_state_resv(&got) == NULL);

	st = (struct fd_state){.kind = FD_CSIDE, .ino = 13};
	st.u.cside.listener = 42;
	got = roundtrip(fd, &st);
	CHECK_INT(got.kind, FD_CSIDE);
	CHECK_INT(got.u.cside.listener, 42);
	CHECK_INT(fdtable_kind(fd), FD_CSIDE);

	fdtable_clear(fd);
	fdtable_get(fd, &got);
	CHECK_INT(got.kind, FD_PLAIN);
	CHECK_INT(fdtable_kind(fd), FD_PLAIN);
}

struct seen {
	int fds[8], n;
};

static void saw(int fd, const struct fd_state *st, void *arg)
{
	struct seen *s = arg;

	(void)st;
	if (s->n < 8)
		s->fds[s->n++] = fd;
}

/* fdtable_each visits the recorded fds of a range in order, across
 * chunks; the gate word is the entry's own: set and clear leave it. */
static void check_each_and_gate(void)
{
	struct fd_state st = {.kind = FD_LISTENER, .ino = 1};
	struct seen s = {.n = 0};
	_Atomic uint32_t *g;

	fdtable_set(2000, &st);
	fdtable_set(2001, &(struct fd_state){.kind = FD_CSIDE, .ino = 2});
	fdtable_set(3100, &(struct fd_state){.kind = FD_CLIENT, .ino = 3});
	fdtable_set(3101, &st);
	fdtable_clear(3101);
	fdtable_each(1999, 5000, saw, &s);
	CHECK_INT(s.n, 3);
	CHECK_INT(s.fds[0], 2000);
	CHECK_INT(s.fds[1], 2001);
	CHECK_INT(s.fds[2], 3100);
	s.n = 0;
	fdtable_each(2001, 3099, saw, &s);
	CHECK_INT(s.n, 1);
	CHECK_INT(s.fds[0], 2001);
	s.n = 0;
	fdtable_each(3000, 2000, saw, &s);
	CHECK_INT(s.n, 0);

	g = fdtable_gate(2000);
	REQUIRE(g != NULL);
	*g = 2;
	fdtable_set(2000, &st);
	fdtable_clear(2000);
	CHECK_INT(*fdtable_gate(2000), 2);
	CHECK(fdtable_gate(7654321) == NULL); /* no chunk there */
	fdtable_clear(2001);
	fdtable_clear(3100);
}

/* A reservation is handed out once: a second close must not close the
 * number again (it may be someone else's by then). */
static void check_take_resv(int fd)
{
	struct fd_state st = {.kind = FD_LISTENER, .ino = 1}, got;
	struct slim_resv r;

	st.u.listener.resv = (struct slim_resv){.fd = 905, .ino = 1234};
	REQUIRE(fdtable_set(fd, &st) == 0);
	r = fdtable_take_resv(fd);
	CHECK_INT(r.fd, 905);
	CHECK_INT(r.ino, 1234);
	r = fdtable_take_resv(fd);
	CHECK_INT(r.ino, 0);
	/* The record itself no longer names it either. */
	fdtable_get(fd, &got);
	CHECK_INT(got.kind, FD_LISTENER);
	CHECK_INT(got.u.listener.resv.ino, 0);
	fdtable_clear(fd);
}

/* fdtable_lookup trusts a record only while fd is still the same socket. */
static void check_stale(void)
{
	int sv[2], fd, again;
	struct fd_state st = {.kind = FD_CLIENT}, got;

	REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	fd = sv[0];
	st.ino = fd_inode(fd);
	CHECK(st.ino != 0);
	REQUIRE(fdtable_set(fd, &st) == 0);
	fdtable_lookup(fd, &got);
	CHECK_INT(got.kind, FD_CLIENT);

	/* Closed behind the table's back, the number reused. */
	close(fd);
	again = socket(AF_INET, SOCK_STREAM, 0);
	REQUIRE(again == fd);
	errno = 1234;
	fdtable_lookup(fd, &got);
	CHECK_INT(got.kind, FD_PLAIN);
	CHECK_INT(errno, 1234);
	fdtable_get(fd, &got); /* the stale record is gone, not just hidden */
	CHECK_INT(got.kind, FD_PLAIN);
	close(again);
	close(sv[1]);
	CHECK_INT(fd_inode(fd), 0);
}

/* A record made without an inode (ino 0) is kept while fd is a TCP socket
 * and dropped once the number holds anything else. */
static void check_stale_no_inode(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0), p[2];
	struct fd_state st = {.kind = FD_ACCEPTED, .ino = 0}, got;

	REQUIRE(fd >= 0);
	REQUIRE(fdtable_set(fd, &st) == 0);
	errno = 4321;
	fdtable_lookup(fd, &got);
	CHECK_INT(got.kind, FD_ACCEPTED);
	CHECK_INT(errno, 4321);

	/* Closed behind the table's back, a pipe on the number. */
	close(fd);
	REQUIRE(pipe(p) == 0);
	if (p[0] != fd) {
		REQUIRE(dup2(p[0], fd) == fd);
		close(p[0]);
	}
	fdtable_lookup(fd, &got);
	CHECK_INT(got.kind, FD_PLAIN);
	CHECK_INT(errno, 4321);
	fdtable_get(fd, &got);
	CHECK_INT(got.kind, FD_PLAIN);

	/* A UDP socket on the number is no record's either. */
	REQUIRE(fdtable_set(fd, &st) == 0);
	close(fd);
	REQUIRE(socket(AF_INET, SOCK_DGRAM, 0) == fd);
	fdtable_lookup(fd, &got);
	CHECK_INT(got.kind, FD_PLAIN);
	close(fd);
	close(p[1]);
}

int main(void)
{
	struct fd_state got;

	fdtable_get(3, &got);
	CHECK_INT(got.kind, FD_PLAIN); /* nothing recorded yet */
	check_kinds(5);
	check_take_resv(6);
	check_stale();
	check_stale_no_inode();
	check_each_and_gate();
	/* The table has no fixed cap: it is sized for fs.nr_open. */
	check_kinds(100000);
	fdtable_get(-1, &got);
	CHECK_INT(got.kind, FD_PLAIN);
	CHECK_INT(fdtable_set(-1, &(struct fd_state){.kind = FD_CLIENT}), -1);
	CHECK_DONE();
}
