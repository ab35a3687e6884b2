/* bench_pool_paths MODE ROUNDS: the ways a process can keep pre-made
 * sockets and hand one to socket(), measured side by side with the same
 * "router" (a forked child that makes plain TCP sockets and sends them over
 * a SOCK_SEQPACKET pair with SCM_RIGHTS). Not a test: it prints, per
 * socket, the app's time to take one (what socket() pays), the app's time
 * to put the router's batch away (refill, amortized per socket), the app's
 * CPU time in all (its own socket closes included) and the router's CPU
 * time, in ns. Each round asks for 32 sockets and uses them all.
 *
 * Modes (system calls per socket in the app, take + put):
 *  fds      the pool as fds in the table, at the high numbers: take =
 *           fstat (still ours?) + fcntl(F_DUPFD) + close; put = fcntl
 *           (F_DUPFD_CLOEXEC, to the high range) + close + fstat (3 + 3)
 *  ring-fd  an io_uring fixed-file table entered by its fd: take = fstat of
 *           the ring (still ours?) + io_uring_enter (FIXED_FD_INSTALL
 *           linked to FILES_UPDATE -1); put = fstat + 1/32 of an enter
 *           (FILES_UPDATE, slots allocated) and of an enter of 32 CLOSEs
 *  ring     the same entered through a registered ring index (no fd, no
 *           fstat): take = io_uring_enter (1 + 1)
 *  stash    a unix datagram socket connected to itself holds the sockets
 *           in its receive queue: take = fstat (still ours?) + recvmsg;
 *           put = fstat + sendmsg + close (2 + 3)
 *  push     no pool: the router sends one socket per message ahead of need
 *           and socket() receives one: fstat of the connection + recvmsg +
 *           fstat of the socket (3 + 0; the router pays a sendmsg per
 *           socket instead of one per batch)
 * Pin it to one CPU (taskset -c 1) to make the router's work compete with
 * the app's, as it does on a small machine. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/io_uring.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define OP_FIXED_FD_INSTALL 54 /* Linux 6.8 */
#define BATCH 32

static long long now(clockid_t c)
{
	struct timespec t;

	clock_gettime(c, &t);
	return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static uint64_t ino(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 ? (uint64_t)st.st_ino : 0;
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

/* Sends n fds with data beside them. */
static void send_fds(int s, const int *fds, int n, const void *data, size_t dl)
{
	char cb[CMSG_SPACE(sizeof(int) * BATCH)];
	struct iovec iov = {(void *)data, dl};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
	struct cmsghdr *c;

	m.msg_control = cb;
	m.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)n);
	c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)n);
	memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)n);
	if (sendmsg(s, &m, 0) < 0)
		die("sendmsg");
}

/* Receives up to max fds (MSG_CMSG_CLOEXEC); returns how many. */
static int recv_fds(int s, int *fds, int max, int flags, void *data, size_t dl)
{
	char cb[CMSG_SPACE(sizeof(int) * BATCH)];
	struct iovec iov = {data, dl};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
	struct cmsghdr *c;
	int n;

	m.msg_control = cb;
	m.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)max);
	if (recvmsg(s, &m, flags | MSG_CMSG_CLOEXEC) < 0)
		die("recvmsg");
	c = CMSG_FIRSTHDR(&m);
	if (!c)
		return 0;
	n = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
	memcpy(fds, CMSG_DATA(c), sizeof(int) * (size_t)n);
	return n;
}

/* The router: "b" N: one message with N sockets; "p" N: N messages of
 * one socket and its inode, then a byte on sync (so the app measures its
 * receives, not the router's work). */
static void router(int s, int sync)
{
	char req[2];

	for (;;) {
		int n, fds[BATCH];

		if (recv(s, req, 2, 0) != 2)
			_exit(0);
		n = (unsigned char)req[1];
		for (int i = 0; i < n; i++)
			fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (req[0] == 'b') {
			uint32_t cnt = (uint32_t)n;

			send_fds(s, fds, n, &cnt, sizeof(cnt));
		} else {
			for (int i = 0; i < n; i++) {
				uint64_t in = ino(fds[i]);

				send_fds(s, &fds[i], 1, &in, sizeof(in));
			}
			if (write(sync, "d", 1) != 1)
				_exit(1);
		}
		for (int i = 0; i < n; i++)
			close(fds[i]);
	}
}

/* ---- io_uring ---- */

static int ring_fd, ring_idx = -1;
static unsigned *sq_tail, *sq_array, *cq_head, *cq_tail, sq_mask, cq_mask, tail;
static struct io_uring_sqe *sqes;
static struct io_uring_cqe *cqes;
static const int32_t minus_one = -1;

static void ring_setup(int registered)
{
	struct io_uring_params p;
	struct io_uring_rsrc_register rr = {.nr = 64, .flags = IORING_RSRC_REGISTER_SPARSE};
	size_t sz, csz;
	char *m;

	memset(&p, 0, sizeof(p));
	p.flags = IORING_SETUP_CLAMP | IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN;
	ring_fd = (int)syscall(SYS_io_uring_setup, 64, &p);
	if (ring_fd < 0)
		die("io_uring_setup");
	sz = p.sq_off.array + p.sq_entries * sizeof(unsigned);
	csz = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
	m = mmap(NULL, sz > csz ? sz : csz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
		 ring_fd, IORING_OFF_SQ_RING);
	sqes = mmap(NULL, p.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_POPULATE, ring_fd, IORING_OFF_SQES);
	if (m == MAP_FAILED || sqes == MAP_FAILED)
		die("mmap");
	sq_tail = (unsigned *)(m + p.sq_off.tail);
	sq_array = (unsigned *)(m + p.sq_off.array);
	sq_mask = *(unsigned *)(m + p.sq_off.ring_mask);
	cq_head = (unsigned *)(m + p.cq_off.head);
	cq_tail = (unsigned *)(m + p.cq_off.tail);
	cq_mask = *(unsigned *)(m + p.cq_off.ring_mask);
	cqes = (struct io_uring_cqe *)(m + p.cq_off.cqes);
	tail = *sq_tail;
	if (syscall(SYS_io_uring_register, ring_fd, IORING_REGISTER_FILES2, &rr, sizeof(rr)) < 0)
		die("IORING_REGISTER_FILES2");
	if (registered) {
		struct io_uring_rsrc_update u = {.offset = ~0U, .data = (uint64_t)ring_fd};

		if (syscall(SYS_io_uring_register, ring_fd, IORING_REGISTER_RING_FDS, &u, 1) != 1)
			die("IORING_REGISTER_RING_FDS");
		ring_idx = (int)u.offset;
	}
}

static struct io_uring_sqe *sqe_next(uint64_t user_data)
{
	unsigned i = tail & sq_mask;

	memset(&sqes[i], 0, sizeof(sqes[i]));
	sqes[i].user_data = user_data;
	sq_array[i] = i;
	tail++;
	return &sqes[i];
}

/* Submits n entries, waits for them, res[user_data] = result. */
static void ring_submit(unsigned n, int *res)
{
	unsigned h, t;

	__atomic_store_n(sq_tail, tail, __ATOMIC_RELEASE);
	if (ring_idx >= 0) {
		if (syscall(SYS_io_uring_enter, ring_idx, n, n,
			    IORING_ENTER_GETEVENTS | IORING_ENTER_REGISTERED_RING, NULL, 0) != n)
			die("io_uring_enter");
	} else {
		(void)ino(ring_fd); /* still our ring? */
		if (syscall(SYS_io_uring_enter, ring_fd, n, n, IORING_ENTER_GETEVENTS, NULL, 0) !=
		    n)
			die("io_uring_enter");
	}
	h = *cq_head;
	t = __atomic_load_n(cq_tail, __ATOMIC_ACQUIRE);
	for (; h != t; h++)
		res[cqes[h & cq_mask].user_data] = cqes[h & cq_mask].res;
	__atomic_store_n(cq_head, h, __ATOMIC_RELEASE);
}

static void ring_put(const int *fds, int n, int *slots)
{
	int32_t idx[BATCH];
	int res[BATCH];
	struct io_uring_sqe *s;

	for (int i = 0; i < n; i++) {
		(void)ino(fds[i]); /* the inode, for the fd table */
		idx[i] = fds[i];
	}
	s = sqe_next(0);
	s->opcode = IORING_OP_FILES_UPDATE;
	s->fd = -1;
	s->off = IORING_FILE_INDEX_ALLOC;
	s->addr = (uint64_t)(uintptr_t)idx;
	s->len = (unsigned)n;
	ring_submit(1, res);
	if (res[0] != n)
		die("FILES_UPDATE");
	for (int i = 0; i < n; i++) {
		s = sqe_next((uint64_t)i);
		s->opcode = IORING_OP_CLOSE;
		s->fd = fds[i];
	}
	ring_submit((unsigned)n, res);
	for (int i = 0; i < n; i++)
		slots[i] = idx[i];
}

static int ring_take(int slot)
{
	int res[2];
	struct io_uring_sqe *s = sqe_next(0);

	s->opcode = OP_FIXED_FD_INSTALL;
	s->fd = slot;
	s->flags = IOSQE_FIXED_FILE | IOSQE_IO_LINK;
	s = sqe_next(1);
	s->opcode = IORING_OP_FILES_UPDATE;
	s->fd = -1;
	s->off = (unsigned)slot;
	s->addr = (uint64_t)(uintptr_t)&minus_one;
	s->len = 1;
	ring_submit(2, res);
	if (res[1] != 1)
		die("FILES_UPDATE -1");
	return res[0];
}

/* ---- the self-connected unix socket ---- */

static int stash_fd;

static void stash_setup(void)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	socklen_t l = sizeof(a);

	stash_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (stash_fd < 0 || bind(stash_fd, (struct sockaddr *)&a, sizeof(sa_family_t)) < 0 ||
	    getsockname(stash_fd, (struct sockaddr *)&a, &l) < 0 ||
	    connect(stash_fd, (struct sockaddr *)&a, l) < 0)
		die("stash socket");
}

int main(int argc, char **argv)
{
	const char *mode = argc == 3 ? argv[1] : "";
	int rounds = argc == 3 ? atoi(argv[2]) : 0, sp[2], sync[2], st, pool[BATCH], np = 0;
	long long t_take = 0, t_put = 0, c0, c1, n = 0;
	struct rusage ru;
	double router_ns;
	pid_t pid;

	if (rounds <= 0 ||
	    (strcmp(mode, "fds") && strcmp(mode, "ring-fd") && strcmp(mode, "ring") &&
	     strcmp(mode, "stash") && strcmp(mode, "push"))) {
		fprintf(stderr,
			"usage: bench_pool_paths fds|ring-fd|ring|stash|push ROUNDS (32 sockets "
			"each)\n");
		return 2;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0 ||
	    pipe2(sync, O_CLOEXEC) < 0)
		die("socketpair");
	pid = fork();
	if (pid == 0) {
		close(sp[1]);
		close(sync[0]);
		router(sp[0], sync[1]);
	}
	close(sp[0]);
	close(sync[1]);
	if (!strcmp(mode, "ring-fd") || !strcmp(mode, "ring"))
		ring_setup(!strcmp(mode, "ring"));
	if (!strcmp(mode, "stash"))
		stash_setup();
	c0 = now(CLOCK_PROCESS_CPUTIME_ID);
	for (int round = 0; round < rounds; round++) {
		int fds[BATCH], got[BATCH], k = BATCH;
		char req[2] = {strcmp(mode, "push") ? 'b' : 'p', BATCH};
		long long t1, t2;

		if (send(sp[1], req, 2, 0) != 2)
			die("send");
		if (strcmp(mode, "push")) {
			uint32_t cnt;

			k = recv_fds(sp[1], fds, BATCH, 0, &cnt, sizeof(cnt));
		} else {
			char d;

			if (read(sync[0], &d, 1) != 1)
				die("sync");
		}
		t1 = now(CLOCK_MONOTONIC);
		if (!strcmp(mode, "fds")) {
			for (int i = 0; i < k; i++) {
				pool[np] = fcntl(fds[i], F_DUPFD_CLOEXEC, 896);
				close(fds[i]);
				(void)ino(pool[np++]);
			}
		} else if (!strncmp(mode, "ring", 4)) {
			ring_put(fds, k, pool);
			np = k;
		} else if (!strcmp(mode, "stash")) {
			for (int i = 0; i < k; i++) {
				uint64_t in = ino(fds[i]);

				send_fds(stash_fd, &fds[i], 1, &in, sizeof(in));
				close(fds[i]);
			}
			np = k;
		}
		t2 = now(CLOCK_MONOTONIC);
		t_put += t2 - t1;
		for (int i = 0; i < k; i++) {
			uint64_t in;

			if (!strcmp(mode, "fds")) {
				int h = pool[--np];

				(void)ino(h);
				got[i] = fcntl(h, F_DUPFD_CLOEXEC, 0);
				close(h);
			} else if (!strncmp(mode, "ring", 4)) {
				got[i] = ring_take(pool[--np]);
			} else if (!strcmp(mode, "stash")) {
				(void)ino(stash_fd);
				if (recv_fds(stash_fd, &got[i], 1, MSG_DONTWAIT, &in, sizeof(in)) !=
				    1)
					die("stash recv");
			} else {
				(void)ino(sp[1]);
				if (recv_fds(sp[1], &got[i], 1, 0, &in, sizeof(in)) != 1)
					die("push recv");
				(void)ino(got[i]);
			}
			if (got[i] < 0)
				die("take");
		}
		t_take += now(CLOCK_MONOTONIC) - t2;
		for (int i = 0; i < k; i++)
			close(got[i]);
		n += k;
	}
	c1 = now(CLOCK_PROCESS_CPUTIME_ID);
	close(sp[1]);
	waitpid(pid, &st, 0);
	getrusage(RUSAGE_CHILDREN, &ru);
	router_ns = ((double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec) * 1e9 +
		    ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) * 1e3;
	printf("%-8s sockets=%lld take=%.0f put=%.0f app-cpu=%.0f router-cpu=%.0f "
	       "(ns per socket)\n",
	       mode, n, (double)t_take / (double)n, (double)t_put / (double)n,
	       (double)(c1 - c0) / (double)n, router_ns / (double)n);
	return 0;
}
