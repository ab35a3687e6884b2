/* libslim's pool of host sockets inside a real process, against a fake
 * router that does serve pool requests (plain TCP sockets, no BPF), in a
 * network namespace of its own where the "virtual" peer 10.99.0.5 is an
 * address on lo. Every socket the fake router hands out carries
 * SO_PRIORITY = the view epoch it was made in, so the app can tell a pool
 * socket from a container socket, and which epoch it came from.
 *
 * test_pool LIBSLIM [--expect stash|fds] [--wrap PROG] [--bench N]
 *
 * The app (this program re-executed with libslim preloaded, through PROG
 * if given: e.g. the seccomp wrapper no_uring) checks, with --expect stash
 * (the default: pool sockets are kept outside the fd table):
 *  - the process's fd count after a burst of 100 connections, after 4
 *    threads x 25, across fork and in a process exec'd from it, is the one
 *    it had when main started; no thread appears;
 *  - socket() flags (SOCK_NONBLOCK, SOCK_CLOEXEC) and the lowest free fd;
 *  - the app's close of a pool socket really closes the connection;
 *  - a forked child gets its own ring (never the parent's sockets);
 *  - a new view epoch: pool sockets of the old one are never handed out;
 *  - the app closing libslim's fds (close_range, raw, and dup2 of a pipe
 *    over them): sockets keep coming, nothing is written to the pipe;
 *  - a full fd table: socket() still lands on the last free fd;
 *  - a forked child that installs a seccomp filter killing for io_uring
 *    before its first socket keeps getting sockets (and lives).
 * With --expect fds (io_uring unavailable: the pool keeps its sockets in
 * the fd table) the same connections must work from pool sockets, and the
 * fd count is allowed to grow by at most the pool's size.
 * --bench N: N x socket()+close under libslim (after warming the pool) and
 * the same with the plain socket() of this process; prints ns per call.
 * Needs root (network namespace); exits 77 (skipped) without. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stddef.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "view_format.h"
#include "wire.h"

#define VIP 0x0a630002u	 /* 10.99.0.2, the app's own */
#define PEER 0x0a630005u /* 10.99.0.5 */
#define NET 0x0a630000u	 /* 10.99.0.0/16 */
#define LOCALHOST 0x7f000001u
#define PEER_PORT 80
#define POOL_CAP 64 /* libslim/pool.h */

static int failures;
static bool expect_stash = true;
static const char *view_path;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: check failed: %s (errno %d %s)\n", __FILE__,       \
				__LINE__, #cond, errno, strerror(errno));                          \
			failures++;                                                                \
		}                                                                                  \
	} while (0)

/* ---- the view file ---- */

static uint32_t view_epoch(void)
{
	struct slim_view v;
	int fd = open(view_path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? pread(fd, &v, sizeof(v), 0) : -1;

	if (fd >= 0)
		close(fd);
	return n == (ssize_t)sizeof(v) ? v.epoch : 0;
}

/* Writes the epoch field in place (seq stays even: readers see it whole). */
static int set_view_epoch(uint32_t epoch)
{
	int fd = open(view_path, O_WRONLY | O_CLOEXEC);
	ssize_t n =
	    fd >= 0 ? pwrite(fd, &epoch, sizeof(epoch), offsetof(struct slim_view, epoch)) : -1;

	if (fd >= 0)
		close(fd);
	return n == (ssize_t)sizeof(epoch) ? 0 : -1;
}

static int write_view(uint16_t uport)
{
	struct slim_view *v = calloc(1, sizeof(*v));
	int fd = open(view_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600), rc = 0;

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
	perror("test_pool: view file");
	rc = -1;
out:
	if (fd >= 0)
		close(fd);
	free(v);
	return rc;
}

/* ---- fake router (not preloaded) ---- */

static void reply(int c, Slim__Reply *rep, const int *fds, size_t n)
{
	if (slim_wire_send_reply(c, rep, fds, n) < 0)
		_exit(0);
}

/* One client connection: hello and pool requests, until it closes. */
static void serve(int c)
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
			int vfd = open(view_path, O_RDONLY | O_CLOEXEC);

			h.container = "c1";
			h.vip = VIP;
			rep.body_case = SLIM__REPLY__BODY_HELLO;
			rep.hello = &h;
			reply(c, &rep, &vfd, 1);
			close(vfd);
		} else if (req->body_case == SLIM__REQUEST__BODY_POOL) {
			Slim__PoolReply pr = SLIM__POOL_REPLY__INIT;
			uint32_t want = req->pool->count, epoch = view_epoch();
			int socks[SLIM_POOL_MAX], prio = (int)epoch;
			size_t k;

			if (want > SLIM_POOL_MAX)
				want = SLIM_POOL_MAX;
			for (k = 0; k < want; k++) {
				socks[k] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
				if (socks[k] < 0)
					_exit(1);
				setsockopt(socks[k], SOL_SOCKET, SO_PRIORITY, &prio, sizeof(prio));
			}
			pr.count = (uint32_t)k;
			pr.epoch = epoch;
			rep.body_case = SLIM__REPLY__BODY_POOL;
			rep.pool = &pr;
			reply(c, &rep, socks, k);
			for (size_t i = 0; i < k; i++)
				close(socks[i]);
		} else {
			rep.error = EINVAL;
			rep.message = "not in this test";
			reply(c, &rep, NULL, 0);
		}
		slim__request__free_unpacked(req, NULL);
	}
}

static void fake_router(int ls)
{
	signal(SIGCHLD, SIG_IGN);
	for (;;) {
		int c = accept(ls, NULL, NULL);

		if (c < 0)
			continue;
		if (fork() == 0) {
			close(ls);
			serve(c);
		}
		close(c);
	}
}

/* ---- the app (preloaded) ---- */

static int count_dir(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;
	int n = 0;

	while (d && (de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	if (d)
		closedir(d);
	return n;
}

/* Open fds of this process, the directory's own fd not counted. */
static int fd_count(void)
{
	return count_dir("/proc/self/fd") - 1;
}

/* Lists the open fds on stderr (for a failed fd count). */
static void dump_fds(const char *what)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	char path[300], link[128];

	fprintf(stderr, "test_pool: fds %s:", what);
	while (d && (de = readdir(d)) != NULL) {
		ssize_t n;

		if (de->d_name[0] == '.' || atoi(de->d_name) == dirfd(d))
			continue;
		snprintf(path, sizeof(path), "/proc/self/fd/%s", de->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		link[n > 0 ? n : 0] = 0;
		fprintf(stderr, " %s=%s", de->d_name, link);
	}
	fprintf(stderr, "\n");
	if (d)
		closedir(d);
}

static int thread_count(void)
{
	return count_dir("/proc/self/task");
}

/* The fd of libslim's io_uring (anon_inode:[io_uring]), or -1. */
static int ring_fd(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	char path[300], link[64];
	int fd = -1;

	while (d && (de = readdir(d)) != NULL) {
		ssize_t n;

		snprintf(path, sizeof(path), "/proc/self/fd/%s", de->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n > 0) {
			link[n] = 0;
			if (strcmp(link, "anon_inode:[io_uring]") == 0)
				fd = atoi(de->d_name);
		}
	}
	if (d)
		closedir(d);
	return fd;
}

static uint64_t inode_of(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 ? (uint64_t)st.st_ino : 0;
}

/* SO_PRIORITY of fd: the epoch of a pool socket, 0 for a container one. */
static int mark_of(int fd)
{
	int v = -1;
	socklen_t l = sizeof(v);

	return getsockopt(fd, SOL_SOCKET, SO_PRIORITY, &v, &l) == 0 ? v : -1;
}

static int lfd;

static int connect_peer(int fd)
{
	struct sockaddr_in s = {.sin_family = AF_INET};

	s.sin_addr.s_addr = htonl(PEER);
	s.sin_port = htons(PEER_PORT);
	return connect(fd, (struct sockaddr *)&s, sizeof(s));
}

/* One connection from a new socket to the peer listener: socket, connect,
 * accept, both closed. Returns the socket's mark (epoch), or -1. */
static int one_connection(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), mark, c;

	if (fd < 0)
		return -1;
	mark = mark_of(fd);
	if (connect_peer(fd) != 0) {
		close(fd);
		return -1;
	}
	c = accept(lfd, NULL, NULL);
	if (c >= 0)
		close(c);
	close(fd);
	return c >= 0 ? mark : -1;
}

/* The fd count must stay where it started (stash), or grow by at most the
 * pool's sockets (fds). */
static void check_count(const char *what, int start)
{
	int now = fd_count();

	if (expect_stash ? now != start : (now < start || now > start + POOL_CAP)) {
		fprintf(stderr, "test_pool: %s: %d fds, %d at start\n", what, now, start);
		dump_fds("now");
		failures++;
	}
}

static void test_burst(int start)
{
	int pool = 0;

	for (int i = 0; i < 100; i++) {
		int m = one_connection();

		CHECK(m >= 0);
		if (m > 0)
			pool++;
		if (i % 10 == 9)
			check_count("burst", start);
	}
	/* the first socket may come before the first pool reply */
	CHECK(pool >= 99);
	check_count("after a burst of 100", start);
}

static void *burst_thread(void *arg)
{
	int *bad = arg;

	/* a thread that finds the pool empty while another waits for the
	 * router's reply gets a container socket (mark 0): fine too */
	for (int i = 0; i < 25; i++)
		if (one_connection() < 0)
			(*bad)++;
	return NULL;
}

static void test_threads(int start, int threads)
{
	pthread_t t[4];
	int bad[4] = {0};

	for (int i = 0; i < 4; i++)
		CHECK(pthread_create(&t[i], NULL, burst_thread, &bad[i]) == 0);
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		CHECK(bad[i] == 0);
	}
	check_count("after 4 threads x 25", start);
	/* io_uring work punted to a worker would show as a thread */
	CHECK(thread_count() == threads);
}

static void test_flags(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	CHECK(fd >= 0 && mark_of(fd) > 0);
	CHECK((fcntl(fd, F_GETFL) & O_NONBLOCK) && (fcntl(fd, F_GETFD) & FD_CLOEXEC));
	CHECK(connect_peer(fd) == -1 && errno == EINPROGRESS);
	close(fd);
	close(accept(lfd, NULL, NULL));
	fd = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(fd >= 0 && mark_of(fd) > 0);
	CHECK(!(fcntl(fd, F_GETFL) & O_NONBLOCK) && !(fcntl(fd, F_GETFD) & FD_CLOEXEC));
	close(fd);
	/* the lowest free fd, as socket() promises */
	{
		int n = open("/dev/null", O_RDONLY), s;

		close(n);
		s = socket(AF_INET, SOCK_STREAM, 0);
		CHECK(s == n && mark_of(s) > 0);
		close(s);
	}
}

/* The app's close of a pool socket must end the connection: nothing of
 * libslim may keep the socket open. */
static void test_close_closes(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0), c;
	struct pollfd p;
	char ch;

	CHECK(fd >= 0 && mark_of(fd) > 0);
	CHECK(connect_peer(fd) == 0);
	c = accept(lfd, NULL, NULL);
	CHECK(c >= 0);
	close(fd);
	p = (struct pollfd){.fd = c, .events = POLLIN};
	CHECK(poll(&p, 1, 2000) == 1 && read(c, &ch, 1) == 0);
	close(c);
}

static void test_fork(int start)
{
	int p[2], ring = ring_fd(), status;
	uint64_t parent_ring = ring >= 0 ? inode_of(ring) : 0;
	pid_t pid;

	CHECK(expect_stash == (ring >= 0));
	CHECK(pipe(p) == 0);
	pid = fork();
	if (pid == 0) {
		int bad = 0, n;

		close(p[0]);
		/* The child's router connection: made at its first need (the
		 * parent's is closed at fork), on top of what it inherited. */
		if (one_connection() <= 0)
			bad++;
		n = fd_count();
		for (int i = 0; i < 20; i++)
			if (one_connection() <= 0)
				bad++;
		if (fd_count() != n && expect_stash)
			bad |= 32;
		/* the child's own ring, on the number it inherited */
		if (expect_stash && (ring_fd() != ring || inode_of(ring) == parent_ring))
			bad |= 64;
		_exit(bad);
	}
	close(p[1]);
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	if (WIFEXITED(status) && WEXITSTATUS(status))
		fprintf(stderr, "test_pool: fork child: %d\n", WEXITSTATUS(status));
	close(p[0]);
	/* the parent's pool is untouched */
	for (int i = 0; i < 20; i++)
		CHECK(one_connection() > 0);
	check_count("after fork", start);
}

/* A program exec'd from here starts with what a fresh process has. */
static void test_exec(int start)
{
	char out[32] = "";
	int p[2], status;
	pid_t pid;

	CHECK(pipe(p) == 0);
	pid = fork();
	if (pid == 0) {
		char fdbuf[16];

		close(p[0]);
		snprintf(fdbuf, sizeof(fdbuf), "%d", p[1]);
		setenv("SLIM_TEST_COUNT_TO", fdbuf, 1);
		execl("/proc/self/exe", "test_pool", (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	CHECK(read(p[0], out, sizeof(out) - 1) > 0);
	close(p[0]);
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	      WEXITSTATUS(status) == 0);
	/* the child holds the pipe's write end besides */
	CHECK(atoi(out) == start + 1);
	if (atoi(out) != start + 1)
		fprintf(stderr, "test_pool: exec'd child started with %s fds, %d here\n", out,
			start);
}

static void test_epoch(int start)
{
	uint32_t e = view_epoch() + 1;

	CHECK(set_view_epoch(e) == 0);
	for (int i = 0; i < 40; i++) {
		int m = one_connection();

		/* never a socket stamped in the old epoch */
		CHECK(m == (int)e || m == 0);
	}
	CHECK(one_connection() == (int)e);
	check_count("after an epoch change", start);
}

/* The app closes libslim's fds itself: through the close_range hook, then
 * behind libslim's back with a pipe put on every number. */
static void test_fds_taken(void)
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		int keep = lfd, p[2], n, high[8], nh = 0;
		DIR *d;
		struct dirent *de;
		char ch;

		/* everything but stdio and the listener */
		if (keep > 3)
			close_range(3, (unsigned)keep - 1, 0);
		close_range((unsigned)keep + 1, ~0U, 0);
		lfd = keep;
		/* the child's router connection comes at its first need */
		if (one_connection() <= 0)
			_exit(1);
		n = fd_count();
		for (int i = 0; i < 10; i++)
			if (one_connection() <= 0)
				_exit(1);
		if (expect_stash && fd_count() != n) {
			fprintf(stderr, "test_pool: %d fds after close_range, now %d\n", n,
				fd_count());
			dump_fds("now");
			_exit(2);
		}
		/* libslim's fds now: a pipe on each number, no hook told */
		d = opendir("/proc/self/fd");
		while (d && (de = readdir(d)) != NULL)
			if (atoi(de->d_name) >= 900 && atoi(de->d_name) != dirfd(d) && nh < 8)
				high[nh++] = atoi(de->d_name);
		if (d)
			closedir(d);
		if (nh < 1 || pipe2(p, O_NONBLOCK) != 0)
			_exit(3);
		syscall(SYS_close_range, 900, ~0U, 0);
		for (int i = 0; i < nh; i++)
			if (dup2(p[1], high[i]) != high[i])
				_exit(4);
		for (int i = 0; i < 10; i++)
			if (one_connection() <= 0)
				_exit(5);
		if (read(p[0], &ch, 1) != -1 || errno != EAGAIN)
			_exit(6);
		for (int i = 0; i < nh; i++)
			if (fcntl(high[i], F_GETFD) < 0)
				_exit(7);
		_exit(0);
	}
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	if (WIFEXITED(status) && WEXITSTATUS(status))
		fprintf(stderr, "test_pool: fds taken: step %d\n", WEXITSTATUS(status));
}

/* Every fd below the soft limit but the last one taken: socket() lands on
 * the last one, and (stash) it is a pool socket. */
static void test_full_table(void)
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		struct rlimit rl = {.rlim_cur = 512, .rlim_max = 512};
		int null, d, s, target;

		/* the child's own router connection (and ring) first: a
		 * forked child makes them at its first need */
		if (one_connection() <= 0 || setrlimit(RLIMIT_NOFILE, &rl) != 0)
			_exit(1);
		target = (int)rl.rlim_cur - 1;
		null = open("/dev/null", O_RDONLY);
		while ((d = dup(null)) >= 0 && d < target - 1)
			;
		/* numbers libslim holds are skipped by dup: free target if
		 * something of ours sits there */
		if (fcntl(target, F_GETFD) >= 0)
			_exit(2);
		s = socket(AF_INET, SOCK_STREAM, 0);
		if (s != target)
			_exit(3);
		if (expect_stash && mark_of(s) <= 0)
			_exit(4);
		if (expect_stash) {
			/* Not a number left: EMFILE, as without slim, and the
			 * pool keeps its socket for the next free number. */
			int t = socket(AF_INET, SOCK_STREAM, 0);

			if (t >= 0 || errno != EMFILE)
				_exit(5);
			close(s);
			s = socket(AF_INET, SOCK_STREAM, 0);
			if (s != target || mark_of(s) <= 0)
				_exit(6);
		}
		_exit(0);
	}
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	if (WIFEXITED(status) && WEXITSTATUS(status))
		fprintf(stderr, "test_pool: full table: step %d\n", WEXITSTATUS(status));
}

/* A forked child that sandboxes itself before its first socket, with a
 * seccomp filter that kills for any io_uring call (as self-sandboxing
 * daemons do for calls they do not expect): its sockets must keep coming
 * (from the fd-table pool), not kill it. */
static void test_sandboxed_child(void)
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		struct sock_filter f[] = {
		    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 3, 0),
		    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_enter, 2, 0),
		    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_register, 1, 0),
		    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		};
		struct sock_fprog prog = {.len = sizeof(f) / sizeof(f[0]), .filter = f};

		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
		    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0)
			_exit(1);
		for (int i = 0; i < 10; i++)
			if (one_connection() < 0)
				_exit(2);
		_exit(0);
	}
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	if (WIFSIGNALED(status))
		fprintf(stderr, "test_pool: sandboxed child killed by signal %d\n",
			WTERMSIG(status));
}

static long long now_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* n x socket()+close; prints wall and CPU ns per pair, and how many came
 * from the pool. */
static void bench(const char *label, long n)
{
	long pool = 0;
	long long w0, c0, w1, c1;

	for (int i = 0; i < 64; i++) /* warm up: hello, first pool replies */
		close(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
	w0 = now_ns(CLOCK_MONOTONIC);
	c0 = now_ns(CLOCK_PROCESS_CPUTIME_ID);
	for (long i = 0; i < n; i++) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (i < 1000 && mark_of(fd) > 0)
			pool++;
		close(fd);
	}
	c1 = now_ns(CLOCK_PROCESS_CPUTIME_ID);
	w1 = now_ns(CLOCK_MONOTONIC);
	printf("%s: %ld x socket()+close: %.0f ns wall, %.0f ns CPU (this process) each; "
	       "pool sockets in the first 1000: %ld\n",
	       label, n, (double)(w1 - w0) / (double)n, (double)(c1 - c0) / (double)n, pool);
}

static int app(void)
{
	int start = fd_count(), threads = thread_count();
	const char *b = getenv("SLIM_TEST_BENCH"), *to = getenv("SLIM_TEST_COUNT_TO");

	if (to) {
		/* exec'd by test_exec: report the count main started with */
		dprintf(atoi(to), "%d", start);
		return 0;
	}
	lfd = atoi(getenv("SLIM_TEST_LFD"));
	expect_stash = strcmp(getenv("SLIM_TEST_EXPECT"), "stash") == 0;
	view_path = getenv("SLIM_TEST_VIEW");
	if (b) {
		bench("libslim", atol(b));
		return 0;
	}
	alarm(60);
	test_burst(start);
	test_threads(start, threads);
	test_flags();
	test_close_closes();
	check_count("after flags and close", start);
	test_fork(start);
	test_exec(start);
	test_epoch(start);
	test_fds_taken();
	test_full_table();
	test_sandboxed_child();
	if (failures)
		fprintf(stderr, "test_pool: %d checks failed (expecting pool sockets %s)\n",
			failures, expect_stash ? "outside the fd table" : "in the fd table");
	else
		printf("test_pool: all checks passed (pool sockets %s)\n",
		       expect_stash ? "outside the fd table" : "in the fd table");
	return failures ? 1 : 0;
}

static int peer_listener(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(PEER_PORT)};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = htonl(PEER);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 128) < 0) {
		perror("test_pool: peer listener");
		return -1;
	}
	return fd;
}

int main(int argc, char **argv)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	const char *lib = NULL, *wrap = NULL, *expect = "stash";
	long bench_n = 0;
	int ls, status;
	pid_t router, child;
	char v[32], vp[64], self[4096];
	ssize_t sl;

	if (getenv("SLIM_TEST_CHILD") || getenv("SLIM_TEST_COUNT_TO"))
		return app();
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--expect") && i + 1 < argc)
			expect = argv[++i];
		else if (!strcmp(argv[i], "--wrap") && i + 1 < argc)
			wrap = argv[++i];
		else if (!strcmp(argv[i], "--bench") && i + 1 < argc)
			bench_n = atol(argv[++i]);
		else if (!lib)
			lib = argv[i];
	}
	if (!lib || (strcmp(expect, "stash") && strcmp(expect, "fds"))) {
		fprintf(stderr, "usage: test_pool LIBSLIM [--expect stash|fds] [--wrap PROG] "
				"[--bench N]\n");
		return 2;
	}
	sl = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (sl <= 0)
		return 1;
	self[sl] = 0;
	if (unshare(CLONE_NEWNET) != 0) {
		fprintf(stderr, "test_pool: cannot make a network namespace (%s): skipped\n",
			strerror(errno));
		return 77;
	}
	if (system("ip link set lo up && ip addr add 10.99.0.5/32 dev lo") != 0) {
		fprintf(stderr, "test_pool: cannot set up lo in the test namespace\n");
		return 1;
	}
	lfd = peer_listener();
	if (lfd < 0)
		return 1;
	snprintf(vp, sizeof(vp), "/tmp/slim-test-pool-%d.view", (int)getpid());
	view_path = vp;
	if (write_view(1) != 0)
		return 1;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "/tmp/slim-test-pool-%d.sock", (int)getpid());
	ls = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (ls < 0 || bind(ls, (struct sockaddr *)&sun, sizeof(sun)) < 0 || listen(ls, 16) < 0) {
		perror("test_pool: router socket");
		unlink(view_path);
		return 1;
	}
	router = fork();
	if (router == 0)
		fake_router(ls);
	close(ls);
	if (bench_n > 0)
		bench("plain socket() of this process", bench_n);
	child = fork();
	if (child == 0) {
		setenv("LD_PRELOAD", lib, 1);
		setenv("SLIM_SOCKET", sun.sun_path, 1);
		setenv("SLIM_TEST_CHILD", "1", 1);
		setenv("SLIM_TEST_EXPECT", expect, 1);
		setenv("SLIM_TEST_VIEW", view_path, 1);
		snprintf(v, sizeof(v), "%d", lfd);
		setenv("SLIM_TEST_LFD", v, 1);
		if (bench_n > 0) {
			snprintf(v, sizeof(v), "%ld", bench_n);
			setenv("SLIM_TEST_BENCH", v, 1);
		}
		if (wrap)
			execl(wrap, wrap, self, (char *)NULL);
		else
			execl(self, "test_pool", (char *)NULL);
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
		fprintf(stderr, "test_pool: app killed by signal %d\n", WTERMSIG(status));
		return 1;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
