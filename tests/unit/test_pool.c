/* libslim's pool of host sockets: a socket is taken only in the epoch it
 * was stamped in (others are closed on the way), an entry whose fd the app
 * closed and reused is forgotten and never handed out, the pool holds at
 * most POOL_CAP, and dropping it closes what is still ours. Plain TCP
 * sockets stand in for the router's stamped ones. No root needed. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "fdtable.h"
#include "pool.h"

static bool open_fd(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

/* The fd whose inode is ino, or -1. */
static int find_inode(uint64_t ino)
{
	for (int i = 0; i < 1024; i++)
		if (fd_inode(i) == ino)
			return i;
	return -1;
}

static void put_n(size_t n, uint32_t epoch)
{
	int tmp[POOL_CAP + 8];

	REQUIRE(n <= sizeof(tmp) / sizeof(tmp[0]));
	for (size_t i = 0; i < n; i++) {
		tmp[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		REQUIRE(tmp[i] >= 0);
	}
	pool_put(tmp, n, epoch);
}

int main(void)
{
	uint64_t ino;
	int fd, a, b, udp[1], p[2];

	CHECK_INT(pool_count(), 0);
	CHECK_INT(pool_take(1, &ino), -1);

	/* Epoch 1, then epoch 2 on top: taking in epoch 2 gets the new ones;
	 * the old ones are closed when they come up. */
	put_n(2, 1);
	put_n(2, 2);
	CHECK_INT(pool_count(), 4);
	a = pool_take(2, &ino);
	CHECK(a >= 0);
	CHECK_INT(ino, fd_inode(a));
	b = pool_take(2, &ino);
	CHECK(b >= 0 && b != a);
	fd = pool_take(2, &ino); /* the two of epoch 1 are closed on the way */
	CHECK_INT(fd, -1);
	CHECK_INT(pool_count(), 0);
	close(a);
	close(b);

	/* An fd the app closed behind the pool's back and reused for a file
	 * of its own is never handed out, nor closed. */
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	REQUIRE(fd >= 0);
	ino = fd_inode(fd);
	pool_put(&fd, 1, 3); /* it may move to libslim's high numbers */
	CHECK_INT(pool_count(), 1);
	a = find_inode(ino);
	REQUIRE(a >= 0);
	close(a);
	REQUIRE(pipe(p) == 0);
	REQUIRE(dup2(p[0], a) == a);
	CHECK_INT(pool_take(3, &ino), -1);
	CHECK(open_fd(a)); /* the app's pipe is left alone */
	close(p[0]);
	close(p[1]);
	close(a);

	/* Only TCP sockets enter; the rest is closed. */
	udp[0] = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	REQUIRE(udp[0] >= 0);
	pool_put(udp, 1, 4);
	CHECK_INT(pool_count(), 0);
	CHECK(!open_fd(udp[0]));

	/* At most POOL_CAP: the rest is closed, not leaked. */
	put_n(POOL_CAP + 4, 5);
	CHECK_INT(pool_count(), POOL_CAP);
	pool_drop_all();
	CHECK_INT(pool_count(), 0);
	/* Everything is closed: a fresh socket lands on the lowest number. */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(fd >= 0 && fd < 10);
	close(fd);
	CHECK_DONE();
}
