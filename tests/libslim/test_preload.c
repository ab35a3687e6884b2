/* libslim inside a program, against a fake router: no testbed, no BPF
 * programs. The test process starts a fake router (a plain process), then
 * re-executes itself with libslim preloaded as the "app", which checks:
 *  - a non-blocking overlay connect: same fd, EINPROGRESS, O_NONBLOCK and
 *    FD_CLOEXEC kept, virtual names, errno untouched on success paths;
 *  - a refusal that carries an fd anyway leaks nothing;
 *  - connect on an unbound listening candidate fails as Linux says, no swap;
 *  - the app closing libslim's own fds (close_range) and putting a pipe on
 *    their numbers: libslim reconnects and never writes into the pipe;
 *    the same with a BPF map of the app's there: never used as the peer map;
 *  - fork while another thread waits for the router: no deadlock, the child
 *    gets its own connection;
 *  - a reply whose fd is no TCP socket: closed, slim disabled, the app's fd
 *    still its own socket.
 * Usage: test_preload PATH_TO_LIBSLIM. Needs root (creates a BPF map);
 * exits 77 (skipped) without. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "wire.h"

#define VIP 0x0a630002u	 /* 10.99.0.2, the app's own */
#define PEER 0x0a630005u /* 10.99.0.5 */
#define NET 0x0a630000u	 /* 10.99.0.0/16 */
#define LOCALHOST 0x7f000001u

/* vport -> what the fake router answers */
#define P_OK 80
#define P_REFUSED_WITH_FD 81
#define P_SLOW 82
#define P_WRONG_FD 83

static int failures;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: check failed: %s (errno %d %s)\n", __FILE__,       \
				__LINE__, #cond, errno, strerror(errno));                          \
			failures++;                                                                \
		}                                                                                  \
	} while (0)

/* ---- fake router (not preloaded) ---- */

static void reply(int c, Slim__Reply *rep, int fd)
{
	if (slim_wire_send_reply(c, rep, fd >= 0 ? &fd : NULL, fd >= 0 ? 1 : 0) < 0)
		_exit(0);
}

/* One client connection: answers until it closes. */
static void serve(int c, int mapfd, uint16_t uport)
{
	uint8_t buf[SLIM_WIRE_MAX];
	int fds[SLIM_WIRE_MAX_FDS];
	size_t nfds;

	for (;;) {
		ssize_t n = slim_wire_recv(c, buf, sizeof(buf), fds, &nfds, SLIM_WIRE_MAX_FDS);
		Slim__Request *req;
		Slim__Reply rep = SLIM__REPLY__INIT;

		if (n <= 0)
			_exit(0);
		req = slim__request__unpack(NULL, (size_t)n, buf);
		if (!req)
			_exit(1);
		if (req->body_case == SLIM__REQUEST__BODY_HELLO) {
			Slim__HelloReply h = SLIM__HELLO_REPLY__INIT;
			Slim__Route r = SLIM__ROUTE__INIT, *rp = &r;

			r.subnet = NET;
			r.prefix_len = 16;
			r.underlay_ip = LOCALHOST;
			r.port = uport;
			h.container = "c1";
			h.vip = VIP;
			h.n_routes = 1;
			h.routes = &rp;
			rep.body_case = SLIM__REPLY__BODY_HELLO;
			rep.hello = &h;
			reply(c, &rep, mapfd);
		} else if (req->body_case == SLIM__REQUEST__BODY_CONNECT) {
			Slim__ConnectReply cr = SLIM__CONNECT_REPLY__INIT;
			int p[2] = {-1, -1}, fd = socket(AF_INET, SOCK_STREAM, 0);

			cr.underlay_ip = LOCALHOST;
			cr.port = uport;
			rep.body_case = SLIM__REPLY__BODY_CONNECT;
			rep.connect = &cr;
			switch (req->connect->port) {
			case P_REFUSED_WITH_FD:
				rep.error = ECONNREFUSED;
				rep.message = "nobody listens";
				rep.body_case = SLIM__REPLY__BODY__NOT_SET;
				break;
			case P_SLOW:
				usleep(300 * 1000);
				break;
			case P_WRONG_FD:
				if (pipe(p) == 0) {
					close(fd);
					fd = p[0];
					close(p[1]);
				}
				break;
			}
			reply(c, &rep, fd);
			close(fd);
		} else if (req->body_case == SLIM__REQUEST__BODY_LISTEN) {
			Slim__ListenReply lr = SLIM__LISTEN_REPLY__INIT;
			struct sockaddr_in a = {.sin_family = AF_INET};
			int fd = socket(AF_INET, SOCK_STREAM, 0);

			a.sin_addr.s_addr = htonl(LOCALHOST);
			if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 16) < 0)
				_exit(1);
			lr.vip = VIP;
			lr.port = req->listen->port;
			rep.body_case = SLIM__REPLY__BODY_LISTEN;
			rep.listen = &lr;
			reply(c, &rep, fd);
			close(fd);
		} else {
			rep.error = EINVAL;
			reply(c, &rep, -1);
		}
		slim__request__free_unpacked(req, NULL);
	}
}

static void fake_router(int ls, int mapfd, uint16_t uport)
{
	signal(SIGCHLD, SIG_IGN);
	for (;;) {
		int c = accept(ls, NULL, NULL);

		if (c < 0)
			continue;
		if (fork() == 0) {
			close(ls);
			serve(c, mapfd, uport);
		}
		close(c);
	}
}

/* ---- the app (preloaded) ---- */

static struct sockaddr_in sin_of(uint32_t ip, uint16_t port)
{
	struct sockaddr_in s = {.sin_family = AF_INET};

	s.sin_addr.s_addr = htonl(ip);
	s.sin_port = htons(port);
	return s;
}

static int connect_to(int fd, uint32_t ip, uint16_t port)
{
	struct sockaddr_in s = sin_of(ip, port);

	return connect(fd, (struct sockaddr *)&s, sizeof(s));
}

/* Open fds below 900 (libslim keeps its own at 960 and up). */
static int app_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	while (d && (de = readdir(d)) != NULL)
		if (de->d_name[0] != '.' && atoi(de->d_name) < 900 && atoi(de->d_name) != dirfd(d))
			n++;
	if (d)
		closedir(d);
	return n;
}

/* A new BPF array map with 4-byte keys, or -1 (errno). */
static int array_map(unsigned value_size, unsigned entries)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.map_type = BPF_MAP_TYPE_ARRAY;
	attr.key_size = 4;
	attr.value_size = value_size;
	attr.max_entries = entries;
	return (int)syscall(SYS_bpf, BPF_MAP_CREATE, &attr, sizeof(attr));
}

/* The open fds at 900 and up (libslim's own), at most 8, into high. */
static int high_fds(int *high)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	while (d && (de = readdir(d)) != NULL)
		if (atoi(de->d_name) >= 900 && atoi(de->d_name) != dirfd(d) && n < 8)
			high[n++] = atoi(de->d_name);
	if (d)
		closedir(d);
	return n;
}

static void test_overlay_connect(int lfd)
{
	struct sockaddr_in a;
	socklen_t al = sizeof(a);
	struct pollfd pfd;
	int fd, r, err = -1, c;
	socklen_t el = sizeof(err);

	errno = 4242;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	CHECK(fd >= 0 && errno == 4242);
	r = connect_to(fd, PEER, P_OK);
	CHECK(r == -1 && errno == EINPROGRESS);
	CHECK(fcntl(fd, F_GETFL) & O_NONBLOCK);
	CHECK(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	pfd = (struct pollfd){.fd = fd, .events = POLLOUT};
	CHECK(poll(&pfd, 1, 5000) == 1);
	CHECK(getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) == 0 && err == 0);
	c = accept(lfd, NULL, NULL);
	CHECK(c >= 0);
	errno = 4242;
	CHECK(getpeername(fd, (struct sockaddr *)&a, &al) == 0 && errno == 4242);
	CHECK(a.sin_addr.s_addr == htonl(PEER) && a.sin_port == htons(P_OK));
	al = sizeof(a);
	CHECK(getsockname(fd, (struct sockaddr *)&a, &al) == 0 && errno == 4242);
	CHECK(a.sin_addr.s_addr == htonl(VIP));
	/* a short buffer: min(len, size) copied, full length reported */
	al = 4;
	memset(&a, 0xee, sizeof(a));
	CHECK(getpeername(fd, (struct sockaddr *)&a, &al) == 0 && al == sizeof(a));
	CHECK(a.sin_family == AF_INET && a.sin_port == htons(P_OK) &&
	      a.sin_addr.s_addr == 0xeeeeeeeeu);
	CHECK(close(fd) == 0 && errno == 4242);
	close(c);
}

static void test_refused_with_fd(void)
{
	int before = app_fds(), fd = socket(AF_INET, SOCK_STREAM, 0);

	CHECK(connect_to(fd, PEER, P_REFUSED_WITH_FD) == -1 && errno == ECONNREFUSED);
	close(fd);
	CHECK(app_fds() == before);
}

static void test_listening_candidate(uint16_t uport)
{
	int a = socket(AF_INET, SOCK_STREAM, 0), b = socket(AF_INET, SOCK_STREAM, 0);
	int ea, eb;

	/* Linux autobinds an unbound listen(); connect then fails */
	CHECK(listen(a, 1) == 0 && listen(b, 1) == 0);
	CHECK(connect_to(a, LOCALHOST, uport) == -1);
	ea = errno;
	CHECK(connect_to(b, PEER, P_OK) == -1);
	eb = errno;
	CHECK(ea == eb);
	close(a);
	close(b);
}

/* The app closes every high fd (libslim's router connection and peer map)
 * without our close hook and puts a pipe on each number. */
static void test_fds_taken(int lfd)
{
	int p[2], fd, c, high[8], n = high_fds(high);
	char ch;
	CHECK(n >= 1);
	CHECK(pipe2(p, O_NONBLOCK) == 0);
	CHECK(syscall(SYS_close_range, 900, ~0U, 0) == 0);
	for (int i = 0; i < n; i++)
		CHECK(dup2(p[1], high[i]) == high[i]);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(connect_to(fd, PEER, P_OK) == 0);
	c = accept(lfd, NULL, NULL);
	CHECK(c >= 0);
	CHECK(read(p[0], &ch, 1) == -1 && errno == EAGAIN);
	for (int i = 0; i < n; i++)
		CHECK(fcntl(high[i], F_GETFD) >= 0); /* the app's pipe is still there */
	for (int i = 0; i < n; i++)
		close(high[i]);
	close(p[0]);
	close(p[1]);
	close(fd);
	close(c);
}

/* Same, but the app puts its own BPF map (values far bigger than libslim's
 * peer entry) on the numbers: every BPF map fd has the same inode number,
 * so only the map id tells it from libslim's peer map. A lookup through it
 * would write 4 KiB into a 12-byte buffer on accept. */
static void test_peer_map_taken(void)
{
	struct sockaddr_in a = sin_of(0, 8080), real;
	socklen_t rl = sizeof(real), al = sizeof(a);
	int m = array_map(4096, 1024), ls, c, s, high[8], n = high_fds(high);

	CHECK(m >= 0);
	CHECK(syscall(SYS_close_range, 900, ~0U, 0) == 0);
	for (int i = 0; i < n; i++)
		CHECK(dup2(m, high[i]) == high[i]);
	ls = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(bind(ls, (struct sockaddr *)&a, sizeof(a)) == 0);
	CHECK(listen(ls, 4) == 0);
	/* the host listener's real address, past the getsockname hook */
	CHECK(syscall(SYS_getsockname, ls, &real, &rl) == 0);
	c = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(connect(c, (struct sockaddr *)&real, sizeof(real)) == 0);
	s = accept(ls, (struct sockaddr *)&a, &al);
	CHECK(s >= 0);
	/* no peer entry: the real address, as accept.c documents */
	CHECK(a.sin_addr.s_addr == htonl(LOCALHOST));
	for (int i = 0; i < n; i++)
		close(high[i]);
	close(m);
	close(s);
	close(c);
	close(ls);
}

static void *slow_connect(void *arg)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	*(int *)arg = connect_to(fd, PEER, P_SLOW);
	close(fd);
	return NULL;
}

static void test_fork_during_roundtrip(int lfd)
{
	pthread_t t;
	int r = -2, status, c;
	pid_t pid;

	CHECK(pthread_create(&t, NULL, slow_connect, &r) == 0);
	usleep(100 * 1000);
	pid = fork();
	if (pid == 0) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);

		alarm(10);
		_exit(connect_to(fd, PEER, P_OK) == 0 ? 0 : 1);
	}
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	pthread_join(t, NULL);
	CHECK(r == 0);
	/* the connections reached the underlay listener */
	for (int i = 0; i < 2; i++) {
		c = accept(lfd, NULL, NULL);
		CHECK(c >= 0);
		close(c);
	}
}

static void test_wrong_fd_kind(void)
{
	int before = app_fds(), fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct stat sb;

	/* slim gives up; the plain connect to 10.99.0.5 goes wherever the
	 * container's routes say: any result but a pipe in the app's fd */
	(void)connect_to(fd, PEER, P_WRONG_FD);
	CHECK(fstat(fd, &sb) == 0 && S_ISSOCK(sb.st_mode));
	close(fd);
	CHECK(app_fds() == before);
}

static int app(void)
{
	int lfd = atoi(getenv("SLIM_TEST_LFD"));
	uint16_t uport = (uint16_t)atoi(getenv("SLIM_TEST_UPORT"));

	alarm(30);
	test_overlay_connect(lfd);
	test_refused_with_fd();
	test_listening_candidate(uport);
	test_fds_taken(lfd);
	test_peer_map_taken();
	test_fork_during_roundtrip(lfd);
	test_wrong_fd_kind(); /* last: it disables slim */
	if (failures)
		fprintf(stderr, "test_preload: %d checks failed\n", failures);
	return failures ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct sockaddr_in ua = sin_of(LOCALHOST, 0);
	socklen_t ul = sizeof(ua);
	int ls, lfd, mapfd, status;
	pid_t router, child;
	char v[32];

	if (getenv("SLIM_TEST_CHILD"))
		return app();
	if (argc != 2) {
		fprintf(stderr, "usage: test_preload PATH_TO_LIBSLIM\n");
		return 2;
	}
	mapfd = array_map(12, 1);
	if (mapfd < 0) {
		fprintf(stderr, "test_preload: cannot create a BPF map (%s): skipped\n",
			strerror(errno));
		return 77;
	}
	/* the "underlay": where every host socket connects */
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&ua, sizeof(ua)) < 0 || listen(lfd, 16) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&ua, &ul) < 0) {
		perror("test_preload: underlay listener");
		return 1;
	}
	snprintf(sun.sun_path, sizeof(sun.sun_path), "/tmp/slim-test-preload-%d.sock",
		 (int)getpid());
	ls = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (ls < 0 || bind(ls, (struct sockaddr *)&sun, sizeof(sun)) < 0 || listen(ls, 16) < 0) {
		perror("test_preload: router socket");
		return 1;
	}
	router = fork();
	if (router == 0)
		fake_router(ls, mapfd, ntohs(ua.sin_port));
	child = fork();
	if (child == 0) {
		setenv("LD_PRELOAD", argv[1], 1);
		setenv("SLIM_SOCKET", sun.sun_path, 1);
		setenv("SLIM_TEST_CHILD", "1", 1);
		snprintf(v, sizeof(v), "%d", lfd);
		setenv("SLIM_TEST_LFD", v, 1);
		snprintf(v, sizeof(v), "%u", ntohs(ua.sin_port));
		setenv("SLIM_TEST_UPORT", v, 1);
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	status = 1;
	if (child < 0 || waitpid(child, &status, 0) != child)
		status = 1;
	kill(router, SIGKILL);
	waitpid(router, NULL, 0);
	unlink(sun.sun_path);
	if (WIFSIGNALED(status)) {
		fprintf(stderr, "test_preload: app killed by signal %d\n", WTERMSIG(status));
		return 1;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
