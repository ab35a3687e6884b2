/* Framing (proto/wire.c) over a SOCK_SEQPACKET pair: round trip with an fd,
 * oversized packets refused on both ends, stray fds closed (no leaks). */
#include "check.h"
#include "wire.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int open_fds(void)
{
	int n = 0;
	DIR *d = opendir("/proc/self/fd");

	REQUIRE(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* A connected loopback TCP socket with unsent data and SO_LINGER armed for
 * secs seconds: a plain close() of its last reference blocks that long. The
 * peer and the listener are left open (and counted) until exit. */
static int lingering_socket(int secs)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t alen = sizeof(a);
	static char junk[65536];
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	REQUIRE(l >= 0 && bind(l, (struct sockaddr *)&a, sizeof(a)) == 0 && listen(l, 1) == 0);
	REQUIRE(getsockname(l, (struct sockaddr *)&a, &alen) == 0);
	int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	REQUIRE(c >= 0);
	REQUIRE(connect(c, (struct sockaddr *)&a, sizeof(a)) == 0 || errno == EINPROGRESS);
	int s = accept(l, NULL, NULL); /* never read: the window fills */
	REQUIRE(s >= 0);
	while (write(c, junk, sizeof(junk)) > 0)
		;
	struct linger lg = {.l_onoff = 1, .l_linger = secs};
	REQUIRE(setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) == 0);
	return c;
}

int main(void)
{
	int sv[2], fds[SLIM_WIRE_MAX_FDS];
	uint8_t buf[SLIM_WIRE_MAX + 100];
	size_t nfds;

	REQUIRE(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == 0);
	int before = open_fds();

	/* A request with one fd arrives whole, fd close-on-exec. */
	Slim__Request q = SLIM__REQUEST__INIT;
	Slim__ConnectRequest c = SLIM__CONNECT_REQUEST__INIT;
	c.vip = 0x0af40203;
	c.port = 80;
	q.body_case = SLIM__REQUEST__BODY_CONNECT;
	q.connect = &c;
	int devnull = open("/dev/null", O_RDONLY);
	REQUIRE(devnull >= 0);
	CHECK_INT(slim_wire_send_request(sv[0], &q, &devnull, 1), 0);
	ssize_t n = slim_wire_recv(sv[1], buf, SLIM_WIRE_MAX, fds, &nfds, SLIM_WIRE_MAX_FDS);
	REQUIRE(n > 0);
	CHECK_INT(nfds, 1);
	CHECK(fcntl(fds[0], F_GETFD) & FD_CLOEXEC);
	close(fds[0]);
	close(devnull);
	Slim__Request *d = slim__request__unpack(NULL, (size_t)n, buf);
	REQUIRE(d);
	CHECK_INT(d->connect->vip, 0x0af40203);
	slim__request__free_unpacked(d, NULL);

	/* A status reply bigger than SLIM_WIRE_MAX (hundreds of containers)
	 * still goes out whole and decodes on a SLIM_WIRE_MAX_REPLY buffer. */
	{
		enum { NC = 300 };
		static uint8_t big[SLIM_WIRE_MAX_REPLY];
		static Slim__ContainerStatus cs[NC];
		static Slim__ContainerStatus *csp[NC];
		static char names[NC][16];
		Slim__StatusReply st = SLIM__STATUS_REPLY__INIT;
		Slim__Reply r = SLIM__REPLY__INIT;

		for (int i = 0; i < NC; i++) {
			slim__container_status__init(&cs[i]);
			snprintf(names[i], sizeof(names[i]), "c%d", i);
			cs[i].name = names[i];
			cs[i].vip = 0x0af40100u + (uint32_t)i;
			cs[i].netns_path = "/run/netns/some-container-namespace";
			csp[i] = &cs[i];
		}
		st.host = "h1";
		st.cgroup = "/sys/fs/cgroup/unified/slim-h1";
		st.pin_dir = "/sys/fs/bpf/slim-h1";
		st.n_containers = NC;
		st.containers = csp;
		r.body_case = SLIM__REPLY__BODY_STATUS;
		r.status = &st;
		REQUIRE(slim__reply__get_packed_size(&r) > SLIM_WIRE_MAX);
		CHECK_INT(slim_wire_send_reply(sv[0], &r, NULL, 0), 0);
		n = slim_wire_recv(sv[1], big, sizeof(big), fds, &nfds, SLIM_WIRE_MAX_FDS);
		CHECK_INT(n, (ssize_t)slim__reply__get_packed_size(&r));
		Slim__Reply *d = slim__reply__unpack(NULL, (size_t)n, big);
		REQUIRE(d && d->body_case == SLIM__REPLY__BODY_STATUS);
		CHECK_INT(d->status->n_containers, NC);
		slim__reply__free_unpacked(d, NULL);
	}

	/* Sender refuses an oversized packet. */
	memset(buf, 'x', sizeof(buf));
	CHECK_INT(slim_wire_send(sv[0], buf, SLIM_WIRE_MAX_REPLY + 1, NULL, 0), -1);
	CHECK_INT(errno, EMSGSIZE);

	/* Receiver refuses one that was sent anyway, and closes its fds. */
	int p[2];
	REQUIRE(pipe(p) == 0);
	struct iovec iov = {.iov_base = buf, .iov_len = SLIM_WIRE_MAX + 50};
	union {
		struct cmsghdr a;
		char b[CMSG_SPACE(2 * sizeof(int))];
	} ctl;
	struct msghdr m = {.msg_iov = &iov,
			   .msg_iovlen = 1,
			   .msg_control = ctl.b,
			   .msg_controllen = sizeof(ctl.b)};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(2 * sizeof(int));
	memcpy(CMSG_DATA(cm), p, sizeof(p));
	REQUIRE(sendmsg(sv[0], &m, 0) == SLIM_WIRE_MAX + 50);
	close(p[0]);
	close(p[1]);
	CHECK_INT(slim_wire_recv(sv[1], buf, SLIM_WIRE_MAX, fds, &nfds, SLIM_WIRE_MAX_FDS), -1);
	CHECK_INT(errno, EMSGSIZE);
	CHECK_INT(nfds, 0);

	/* More fds than the receiver takes: refused, all closed. */
	REQUIRE(pipe(p) == 0);
	iov.iov_len = 3;
	REQUIRE(sendmsg(sv[0], &m, 0) == 3);
	close(p[0]);
	close(p[1]);
	CHECK_INT(slim_wire_recv(sv[1], buf, SLIM_WIRE_MAX, fds, &nfds, 1), -1);
	CHECK_INT(errno, EMSGSIZE);

	/* A refused fd is dropped without blocking, even a TCP socket whose
	 * sender armed SO_LINGER over unsent data (closing that as the last
	 * reference would wait the whole linger time). */
	int lg = lingering_socket(10);
	iov.iov_len = 3;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	m.msg_controllen = CMSG_SPACE(sizeof(int));
	memcpy(CMSG_DATA(cm), &lg, sizeof(int));
	REQUIRE(sendmsg(sv[0], &m, 0) == 3);
	close(lg); /* the copy in flight is now the last reference */
	double t0 = now();
	CHECK_INT(slim_wire_recv(sv[1], buf, SLIM_WIRE_MAX, fds, &nfds, 0), -1);
	CHECK_INT(errno, EMSGSIZE);
	CHECK(now() - t0 < 5.0);
	lg = lingering_socket(10);
	t0 = now();
	errno = EINTR;
	slim_wire_drop_fd(lg);
	CHECK_INT(errno, EINTR); /* errno kept */
	CHECK(now() - t0 < 5.0);

	/* An empty packet reads as a close (0), and the fds sent with it are
	 * closed, not handed to a caller that only sees the close. */
	REQUIRE(pipe(p) == 0);
	iov.iov_len = 0;
	cm->cmsg_len = CMSG_LEN(2 * sizeof(int));
	m.msg_controllen = CMSG_SPACE(2 * sizeof(int));
	memcpy(CMSG_DATA(cm), p, sizeof(p));
	REQUIRE(sendmsg(sv[0], &m, 0) == 0);
	close(p[0]);
	close(p[1]);
	CHECK_INT(slim_wire_recv(sv[1], buf, SLIM_WIRE_MAX, fds, &nfds, SLIM_WIRE_MAX_FDS), 0);
	CHECK_INT(nfds, 0);

	/* Peer closed: 0. */
	close(sv[0]);
	CHECK_INT(slim_wire_recv(sv[1], buf, SLIM_WIRE_MAX, fds, &nfds, SLIM_WIRE_MAX_FDS), 0);
	close(sv[1]);

	CHECK_INT(open_fds(), before - 2 + 4); /* + two lingering sockets' peers */
	CHECK_DONE();
}
