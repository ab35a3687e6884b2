/* A merged listener's SO_RCVTIMEO kept in its fd-table records
 * (listener_timeo.h): the names the option comes under, the value read in
 * whole milliseconds (rounded up, capped), and a new value written into
 * every listener record of the socket, the dup's too, but no other
 * socket's, with the listener's wait set kept. No root needed: plain
 * sockets, recorded by hand (no hooks here). */
#define _GNU_SOURCE
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "check.h"
#include "fdtable.h"
#include "listener_timeo.h"

static void set_timeo(int fd, long sec, long usec)
{
	struct timeval tv = {.tv_sec = sec, .tv_usec = usec};

	REQUIRE(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == 0);
}

static void check_names(void)
{
	CHECK(listener_timeo_option(SOL_SOCKET, SO_RCVTIMEO));
	CHECK(listener_timeo_option(SOL_SOCKET, 20)); /* SO_RCVTIMEO_OLD */
	CHECK(listener_timeo_option(SOL_SOCKET, 66)); /* SO_RCVTIMEO_NEW */
	CHECK(!listener_timeo_option(SOL_SOCKET, SO_SNDTIMEO));
	CHECK(!listener_timeo_option(IPPROTO_TCP, SO_RCVTIMEO));
}

static void check_read(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	uint32_t ms;

	REQUIRE(s >= 0);
	CHECK_INT(listener_timeo_read(s), 0); /* none */
	set_timeo(s, 2, 0);
	CHECK_INT(listener_timeo_read(s), 2000);
	/* 1.5 ms: the kernel rounds it up to a tick (1 to 10 ms), libslim to
	 * a whole millisecond. */
	set_timeo(s, 0, 1500);
	ms = listener_timeo_read(s);
	CHECK(ms >= 2 && ms <= 10);
	/* 5,000,000 s does not fit 32 bits of milliseconds: the cap. */
	set_timeo(s, 5000000, 0);
	CHECK(listener_timeo_read(s) == UINT32_MAX);
	set_timeo(s, 0, 0);
	CHECK_INT(listener_timeo_read(s), 0);
	CHECK_INT(listener_timeo_read(-1), 0); /* unreadable: none */
	close(s);
}

static struct fd_state listener(uint64_t ino, int cfd)
{
	struct fd_state st = {.kind = FD_LISTENER, .ino = ino};

	st.u.listener.resv = (struct slim_resv){.fd = cfd, .ino = 77};
	return st;
}

static void check_follow(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0), d = dup(s), o = socket(AF_INET, SOCK_STREAM, 0);
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct fd_state st;
	uint64_t ino, oino;
	uint32_t want;

	REQUIRE(s >= 0 && d >= 0 && o >= 0 && ep >= 0);
	ino = fd_inode(s);
	oino = fd_inode(o);
	REQUIRE(ino != 0 && oino != 0);
	st = listener(ino, 900);
	REQUIRE(fdtable_set(s, &st) == 0);
	st = listener(ino, 901); /* a dup has a container side of its own */
	REQUIRE(fdtable_set(d, &st) == 0);
	st = listener(oino, 902);
	REQUIRE(fdtable_set(o, &st) == 0);
	REQUIRE(fdtable_put_waitset(s, ep));

	/* Set through the dup: both records of the socket follow, with the
	 * kernel's value (1.25 s rounded up to a tick). */
	set_timeo(d, 1, 250000);
	want = listener_timeo_read(s);
	CHECK(want >= 1250 && want <= 1260);
	listener_timeo_follow(d, ino);
	fdtable_get(s, &st);
	CHECK_INT(st.u.listener.rcvtimeo_ms, want);
	CHECK_INT(st.u.listener.resv.fd, 900);
	fdtable_get(d, &st);
	CHECK_INT(st.u.listener.rcvtimeo_ms, want);
	CHECK_INT(st.u.listener.resv.fd, 901);
	fdtable_get(o, &st);
	CHECK_INT(st.u.listener.rcvtimeo_ms, 0); /* another socket */
	/* The same listener recorded again keeps its wait set. */
	CHECK_INT(fdtable_waitset(s), ep);

	/* Off again, through the original. */
	set_timeo(s, 0, 0);
	listener_timeo_follow(s, ino);
	fdtable_get(d, &st);
	CHECK_INT(st.u.listener.rcvtimeo_ms, 0);

	/* Another listener under s: the wait set goes with the old record. */
	st = listener(ino, 903);
	REQUIRE(fdtable_set(s, &st) == 0);
	CHECK_INT(fdtable_waitset(s), -1);
	fdtable_clear(s);
	fdtable_clear(d);
	fdtable_clear(o);
	close(s);
	close(d);
	close(o);
}

int main(void)
{
	check_names();
	check_read();
	check_follow();
	CHECK_DONE();
}
