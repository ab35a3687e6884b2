/* libslim inside a program, against a fake router: no testbed, no BPF
 * programs. In a network namespace of its own where the "virtual" peer
 * 10.99.0.5 is simply an address on lo (so host sockets connected to it
 * arrive without the connect4 program), the test process starts a fake
 * router (a plain process, which refuses pool requests, so every connect
 * takes the per-connect path), then re-executes itself with libslim
 * preloaded as the "app", which checks:
 *  - a non-blocking overlay connect: same fd, EINPROGRESS, O_NONBLOCK and
 *    FD_CLOEXEC kept, errno untouched on success paths;
 *  - a refusal that carries an fd anyway leaks nothing;
 *  - connect on an unbound listening candidate fails as Linux says, no swap;
 *  - the app closing libslim's own fds (close_range) and putting a pipe on
 *    their numbers: libslim reconnects and never writes into the pipe;
 *  - fork while another thread waits for the router: no deadlock, the child
 *    gets its own connection;
 *  - a program exec'd with a cleared environment, by any of execve, execv,
 *    execvp, execl, execlp, execle, gets LD_PRELOAD and SLIM_SOCKET back;
 *  - a reply whose fd is no TCP socket: closed, slim disabled, the app's fd
 *    still its own socket.
 * Usage: test_preload PATH_TO_LIBSLIM. Needs root (a network namespace);
 * exits 77 (skipped) without. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
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

#include "view_format.h"
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
static void serve(int c, const char *view_path, uint16_t uport)
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

			h.container = "c1";
			h.vip = VIP;
			int vfd = open(view_path, O_RDONLY | O_CLOEXEC);

			rep.body_case = SLIM__REPLY__BODY_HELLO;
			rep.hello = &h;
			reply(c, &rep, vfd);
			close(vfd);
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
		} else if (req->body_case == SLIM__REQUEST__BODY_POOL) {
			rep.error = ENOBUFS;
			rep.message = "no pool in this test";
			reply(c, &rep, -1);
		} else {
			rep.error = EINVAL;
			reply(c, &rep, -1);
		}
		slim__request__free_unpacked(req, NULL);
	}
}

static void fake_router(int ls, const char *view_path, uint16_t uport)
{
	signal(SIGCHLD, SIG_IGN);
	for (;;) {
		int c = accept(ls, NULL, NULL);

		if (c < 0)
			continue;
		if (fork() == 0) {
			close(ls);
			serve(c, view_path, uport);
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
	/* both connections arrived (P_SLOW's listener is lfd's sibling) */
	c = accept(lfd, NULL, NULL);
	CHECK(c >= 0);
	close(c);
	c = accept(atoi(getenv("SLIM_TEST_SLOWFD")), NULL, NULL);
	CHECK(c >= 0);
	close(c);
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

/* Runs /usr/bin/env through one member of the exec family, in a child
 * whose environment was cleared, and returns what it printed (static
 * buffer), or NULL. */
static const char *env_after_exec(const char *how)
{
	static char out[8192];
	static char asan[512];
	const char *a = getenv("ASAN_OPTIONS");
	/* "Cleared" but for ASAN_OPTIONS in the sanitizer build, whose libslim
	 * needs it in every process it is loaded into. */
	char *const args[] = {"env", NULL}, *const empty[] = {a ? asan : NULL, NULL};
	int p[2], status;
	ssize_t n, got = 0;
	pid_t pid;

	if (a)
		snprintf(asan, sizeof(asan), "ASAN_OPTIONS=%s", a);
	if (pipe(p) != 0)
		return NULL;
	pid = fork();
	if (pid == 0) {
		dup2(p[1], STDOUT_FILENO);
		clearenv();
		if (a)
			putenv(asan);
		if (!strcmp(how, "execl"))
			execl("/usr/bin/env", "env", (char *)NULL);
		else if (!strcmp(how, "execlp"))
			execlp("env", "env", (char *)NULL);
		else if (!strcmp(how, "execle"))
			execle("/usr/bin/env", "env", (char *)NULL, empty);
		else if (!strcmp(how, "execv"))
			execv("/usr/bin/env", args);
		else if (!strcmp(how, "execvp"))
			execvp("env", args);
		else if (!strcmp(how, "execve"))
			execve("/usr/bin/env", args, empty);
		_exit(127);
	}
	close(p[1]);
	while (pid > 0 && got < (ssize_t)sizeof(out) - 1 &&
	       (n = read(p[0], out + got, sizeof(out) - 1 - (size_t)got)) > 0)
		got += n;
	out[got] = '\0';
	close(p[0]);
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		return NULL;
	return out;
}

/* A program exec'd with a cleared environment gets LD_PRELOAD (this very
 * library) and SLIM_SOCKET back, whichever exec function the app used. */
static void test_exec_reinjects(void)
{
	static const char *const how[] = {"execve", "execv", "execvp", "execl", "execlp", "execle"};
	const char *lib = getenv("SLIM_TEST_LIB"), *sock = getenv("SLIM_SOCKET");

	for (size_t i = 0; i < sizeof(how) / sizeof(how[0]); i++) {
		const char *out = env_after_exec(how[i]);
		char want_pre[4200], want_sock[200];

		snprintf(want_pre, sizeof(want_pre), "LD_PRELOAD=%s\n", lib);
		snprintf(want_sock, sizeof(want_sock), "SLIM_SOCKET=%s\n", sock);
		if (!out || !strstr(out, want_pre) || !strstr(out, want_sock)) {
			fprintf(stderr, "test_preload: %s with a cleared environment: got %s\n",
				how[i], out ? out : "(failed)");
			failures++;
		}
	}
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
	test_fork_during_roundtrip(lfd);
	test_exec_reinjects();
	test_wrong_fd_kind(); /* last: it disables slim */
	if (failures)
		fprintf(stderr, "test_preload: %d checks failed\n", failures);
	return failures ? 1 : 0;
}

/* A listener on PEER:port in the test's namespace. Returns the fd or -1. */
static int peer_listener(uint16_t port)
{
	struct sockaddr_in a = sin_of(PEER, port);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 16) < 0) {
		perror("test_preload: peer listener");
		return -1;
	}
	return fd;
}

/* The view file the fake router hands out: running, one route (NET). */
static int write_view(const char *path, uint16_t uport)
{
	struct slim_view *v = calloc(1, sizeof(*v));
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600), rc = 0;

	if (!v || fd < 0)
		goto fail;
	v->state = SLIM_VIEW_RUNNING;
	v->epoch = 1;
	v->format = SLIM_VIEW_FORMAT;
	v->t[0].n_routes = 1;
	v->t[0].n_plens = 1;
	v->t[0].plens[0] = 16;
	v->t[0].slots[slim_view_hash(NET, 16)] = (struct slim_view_route){.subnet = NET,
									  .prefix_len = 16,
									  .flags = SLIM_VIEW_USED,
									  .port = uport,
									  .underlay_ip = LOCALHOST};
	if (write(fd, v, sizeof(*v)) != (ssize_t)sizeof(*v))
		goto fail;
	goto out;
fail:
	perror("test_preload: view file");
	rc = -1;
out:
	if (fd >= 0)
		close(fd);
	free(v);
	return rc;
}

int main(int argc, char **argv)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct sockaddr_in ua = sin_of(LOCALHOST, 0);
	socklen_t ul = sizeof(ua);
	int ls, lfd, slowfd, status;
	pid_t router, child;
	char v[32], view_path[64];

	if (getenv("SLIM_TEST_CHILD"))
		return app();
	if (argc != 2) {
		fprintf(stderr, "usage: test_preload PATH_TO_LIBSLIM\n");
		return 2;
	}
	if (unshare(CLONE_NEWNET) != 0) {
		fprintf(stderr, "test_preload: cannot make a network namespace (%s): skipped\n",
			strerror(errno));
		return 77;
	}
	if (system("ip link set lo up && ip addr add 10.99.0.5/32 dev lo") != 0) {
		fprintf(stderr, "test_preload: cannot set up lo in the test namespace\n");
		return 1;
	}
	lfd = peer_listener(P_OK);
	slowfd = peer_listener(P_SLOW);
	if (lfd < 0 || slowfd < 0)
		return 1;
	/* uport: a port nothing listens on, for the listening-candidate case */
	{
		int u = socket(AF_INET, SOCK_STREAM, 0);

		if (u < 0 || bind(u, (struct sockaddr *)&ua, sizeof(ua)) < 0 ||
		    getsockname(u, (struct sockaddr *)&ua, &ul) < 0) {
			perror("test_preload: port");
			return 1;
		}
		close(u);
	}
	snprintf(view_path, sizeof(view_path), "/tmp/slim-test-preload-%d.view", (int)getpid());
	if (write_view(view_path, ntohs(ua.sin_port)) != 0)
		return 1;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "/tmp/slim-test-preload-%d.sock",
		 (int)getpid());
	ls = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (ls < 0 || bind(ls, (struct sockaddr *)&sun, sizeof(sun)) < 0 || listen(ls, 16) < 0) {
		perror("test_preload: router socket");
		unlink(view_path);
		return 1;
	}
	router = fork();
	if (router == 0)
		fake_router(ls, view_path, ntohs(ua.sin_port));
	child = fork();
	if (child == 0) {
		setenv("LD_PRELOAD", argv[1], 1);
		setenv("SLIM_SOCKET", sun.sun_path, 1);
		setenv("SLIM_TEST_CHILD", "1", 1);
		setenv("SLIM_TEST_LIB", argv[1], 1);
		snprintf(v, sizeof(v), "%d", lfd);
		setenv("SLIM_TEST_LFD", v, 1);
		snprintf(v, sizeof(v), "%d", slowfd);
		setenv("SLIM_TEST_SLOWFD", v, 1);
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
	unlink(view_path);
	if (WIFSIGNALED(status)) {
		fprintf(stderr, "test_preload: app killed by signal %d\n", WTERMSIG(status));
		return 1;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
