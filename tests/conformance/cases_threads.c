/* Concurrency and limits: 8 threads connecting / accepting / closing at
 * once, fds at the top of RLIMIT_NOFILE (above 65535 where the hard limit
 * allows), and close() from a signal handler while another thread is in
 * connect (no lock may be held across a blocking call). Output is totals
 * only, so thread interleaving never shows. */
#define _GNU_SOURCE
#include "conf.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <unistd.h>

#define NTHREADS 8

static atomic_int n_ok, n_fail, n_peer_ok;

static int connect_far(int fd, int port)
{
	struct sockaddr_in sin = far_sin(port);

	return connect(fd, (struct sockaddr *)&sin, sizeof(sin));
}

static const struct timeval rcv_bound = {.tv_sec = 3};

/* One connect/echo/getpeername/close round; true if all of it was right. */
static bool one_round(int id, int i)
{
	struct sockaddr_in peer;
	socklen_t pl = sizeof(peer);
	char msg[32], buf[32];
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int len = snprintf(msg, sizeof(msg), "t%d-%d", id, i);
	bool ok;

	if (fd < 0)
		return false;
	/* SO_RCVTIMEO bounds the MSG_WAITALL read */
	ok = connect_far(fd, PORT_ECHO) == 0 &&
	     setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &rcv_bound, sizeof(rcv_bound)) == 0 &&
	     getpeername(fd, (struct sockaddr *)&peer, &pl) == 0 &&
	     peer.sin_addr.s_addr == conf.far.s_addr && peer.sin_port == htons(PORT_ECHO) &&
	     write(fd, msg, (size_t)len) == len && wait_ready(fd, POLLIN, CONF_WAIT_MS) &&
	     recv(fd, buf, (size_t)len, MSG_WAITALL) == len && memcmp(buf, msg, (size_t)len) == 0;
	close(fd);
	return ok;
}

static void *connector(void *arg)
{
	int id = (int)(intptr_t)arg;

	for (int i = 0; i < 10; i++)
		atomic_fetch_add(one_round(id, i) ? &n_ok : &n_fail, 1);
	return NULL;
}

static void threads_connect(void)
{
	pthread_t t[NTHREADS];

	for (int i = 0; i < NTHREADS; i++)
		pthread_create(&t[i], NULL, connector, (void *)(intptr_t)i);
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);
	say("%d threads x 10 connect/echo/close: ok=%d failed=%d", NTHREADS, atomic_load(&n_ok),
	    atomic_load(&n_fail));
}

struct acc_ctx {
	int lfd;
	atomic_int left;
};

/* Accepts from a shared non-blocking listener until ctx->left reaches 0
 * or nothing comes for CONF_WAIT_MS. */
static void *acceptor(void *arg)
{
	struct acc_ctx *c = arg;

	while (atomic_load(&c->left) > 0) {
		struct sockaddr_in peer;
		socklen_t pl = sizeof(peer);
		char line[8];
		int fd;

		if (!wait_ready(c->lfd, POLLIN, CONF_WAIT_MS))
			break;
		fd = accept4(c->lfd, (struct sockaddr *)&peer, &pl, SOCK_CLOEXEC);
		if (fd < 0)
			continue; /* another thread took it */
		atomic_fetch_sub(&c->left, 1);
		if (peer.sin_addr.s_addr == conf.far.s_addr)
			atomic_fetch_add(&n_peer_ok, 1);
		if (read_line(fd, line, sizeof(line), CONF_WAIT_MS) == 3 &&
		    strcmp(line, "hi\n") == 0)
			atomic_fetch_add(&n_ok, 1);
		else
			atomic_fetch_add(&n_fail, 1);
		close(fd);
	}
	return NULL;
}

static void threads_accept(void)
{
	struct acc_ctx c = {.left = 40};
	pthread_t t[NTHREADS];
	int ctl;

	c.lfd = listen_on("listener", htonl(INADDR_ANY), 8701, SOCK_NONBLOCK);
	if (c.lfd < 0)
		return;
	for (int i = 0; i < NTHREADS; i++)
		pthread_create(&t[i], NULL, acceptor, &c);
	ctl = cb_request(8701, 40, "close");
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);
	if (ctl >= 0)
		cb_summary("connect-back", ctl, 40);
	say("%d threads accepting: accepted=%d data ok=%d failed=%d virtual peer=%d", NTHREADS,
	    40 - atomic_load(&c.left), atomic_load(&n_ok), atomic_load(&n_fail),
	    atomic_load(&n_peer_ok));
	close(c.lfd);
}

static atomic_bool churn_stop;
static atomic_int churn_bad;

/* Creates and closes candidate sockets (and dups of them) in a loop,
 * racing the fd numbers the other threads' connects use. */
static void *churner(void *arg)
{
	(void)arg;
	while (!atomic_load(&churn_stop)) {
		int s = socket(AF_INET, SOCK_STREAM, 0), d = dup(s);

		if (s < 0 || d < 0 || close(d) != 0 || close(s) != 0)
			atomic_fetch_add(&churn_bad, 1);
	}
	return NULL;
}

static void threads_mixed(void)
{
	struct acc_ctx c = {.left = 20};
	pthread_t con[3], acc[3], ch[2];
	int ctl;

	c.lfd = listen_on("listener", htonl(INADDR_ANY), 8702, SOCK_NONBLOCK);
	if (c.lfd < 0)
		return;
	for (int i = 0; i < 2; i++)
		pthread_create(&ch[i], NULL, churner, NULL);
	for (int i = 0; i < 3; i++)
		pthread_create(&acc[i], NULL, acceptor, &c);
	for (int i = 0; i < 3; i++)
		pthread_create(&con[i], NULL, connector, (void *)(intptr_t)(100 + i));
	ctl = cb_request(8702, 20, "close");
	for (int i = 0; i < 3; i++)
		pthread_join(con[i], NULL);
	for (int i = 0; i < 3; i++)
		pthread_join(acc[i], NULL);
	atomic_store(&churn_stop, true);
	for (int i = 0; i < 2; i++)
		pthread_join(ch[i], NULL);
	if (ctl >= 0)
		cb_summary("connect-back", ctl, 20);
	say("3 connecting (30 rounds) + 3 accepting (20) + 2 churning: ok=%d failed=%d "
	    "accepted=%d virtual peer=%d churn errors=%d",
	    atomic_load(&n_ok), atomic_load(&n_fail), 20 - atomic_load(&c.left),
	    atomic_load(&n_peer_ok), atomic_load(&churn_bad));
	close(c.lfd);
}

/* Raises the soft fd limit to the hard one and picks the fd to use:
 * 65536 + 100 if allowed, else the highest one allowed. Says which. */
static int high_target(void)
{
	struct rlimit rl;

	getrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	getrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur > 65636) {
		say("target fd: above 65535 (65636)");
		return 65636;
	}
	say("target fd: the highest allowed, %llu (hard RLIMIT_NOFILE %llu does not reach 65536)",
	    (unsigned long long)rl.rlim_cur - 1, (unsigned long long)rl.rlim_max);
	return (int)rl.rlim_cur - 1;
}

/* A new socket of the given type that socket() itself puts on fd target:
 * every free fd below is filled with a copy of /dev/null first, and freed
 * again afterwards. (fcntl(F_DUPFD) would also get there, but that is the
 * dup family's case; here libslim must track a socket() result at the top
 * of the fd range.) Returns the fd, or -1 after saying why. */
static int socket_at(int target, int type)
{
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC), lo = -1, d = -1, s;

	if (null < 0 || null >= target) {
		say("filler: %s", null < 0 ? ename(errno) : "target too low");
		return -1;
	}
	while ((d = dup(null)) >= 0) {
		if (lo < 0)
			lo = d;
		if (d >= target - 1)
			break;
	}
	s = socket(AF_INET, SOCK_STREAM | type, 0);
	if (lo >= 0)
		close_range((unsigned)lo, (unsigned)target - 1, 0);
	close(null);
	if (s != target) {
		say("socket() on the target fd: %s", s < 0 ? ename(errno) : "landed elsewhere");
		if (s >= 0)
			close(s);
		return -1;
	}
	say("socket() on the target fd: yes");
	return s;
}

static void high_fd_client(void)
{
	int target = high_target(), fd, ep;

	fd = socket_at(target, SOCK_NONBLOCK);
	if (fd < 0)
		return;
	say_flags("high fd flags", fd);
	RET("connect", connect_far(fd, PORT_ECHO));
	/* registered after connect: poll.epoll_before_connect covers before */
	ep = epoll_create1(0);
	ep_ctl("epoll ADD", ep, EPOLL_CTL_ADD, fd, EPOLLOUT, 1);
	ep_wait("epoll OUT", ep, EPOLLOUT, CONF_WAIT_MS);
	say_flags("high fd flags after connect", fd);
	say_name("getsockname", fd, false);
	say_name("getpeername", fd, true);
	echo_check("echo", fd, "high-fd");
	RET("close", close(fd));
	close(ep);
	fd = socket_at(target - 1, 0);
	if (fd < 0)
		return;
	RET("connect whoami (blocking, fd target-1)", connect_far(fd, PORT_WHOAMI));
	whoami("whoami", fd);
	close(fd);
}

static void high_fd_listener(void)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(8703)};
	int target = high_target(), lfd, ctl, fd, one = 1;

	lfd = socket_at(target, 0);
	if (lfd < 0)
		return;
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	RET("bind", bind(lfd, (struct sockaddr *)&sin, sizeof(sin)));
	RET("listen", listen(lfd, 8));
	say_name("listener getsockname", lfd, false);
	ctl = cb_request(8703, 1, "hold");
	if (ctl < 0)
		return;
	fd = accept_wait("accept", lfd, 0, CONF_WAIT_MS);
	say_name("accepted getpeername", fd, true);
	say_name("accepted getsockname", fd, false);
	close(fd);
	cb_results("connect-back", ctl, 1);
	close(lfd);
}

static volatile int victim_fd = -1;
static volatile sig_atomic_t handler_close_rc = 99, handler_close_errno;

static void close_handler(int sig)
{
	int saved = errno;

	(void)sig;
	handler_close_rc = close(victim_fd);
	handler_close_errno = errno;
	errno = saved;
}

static void wake_handler(int sig)
{
	(void)sig;
}

struct conn_res {
	int fd, r, e;
};

static void *blocked_connect(void *arg)
{
	struct conn_res *c = arg;

	errno = 0;
	c->r = connect_far(c->fd, PORT_FULL);
	c->e = errno;
	return NULL;
}

static void signal_close_in_connect(void)
{
	struct sigaction sa = {.sa_handler = close_handler}, wa = {.sa_handler = wake_handler};
	struct conn_res c = {.r = 99};
	struct timespec ts;
	pthread_t t;
	int fd, jr;

	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &wa, NULL); /* no SA_RESTART: connect returns EINTR */
	c.fd = socket(AF_INET, SOCK_STREAM, 0);
	victim_fd = c.fd;
	pthread_create(&t, NULL, blocked_connect, &c);
	usleep(300000); /* the thread is in connect now: the SYN is never answered */
	raise(SIGUSR1); /* our handler closes the fd the thread connects on */
	if (handler_close_rc < 0)
		say("close in the signal handler: -1 %s", ename(handler_close_errno));
	else
		say("close in the signal handler: %d", (int)handler_close_rc);
	/* nothing may be locked now: a connect from this thread must work */
	fd = dial("dial while the other thread is still in connect", conf.far, PORT_ECHO, 0);
	if (fd >= 0) {
		echo_check("echo", fd, "not-deadlocked");
		close(fd);
	}
	pthread_kill(t, SIGUSR2);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 5;
	jr = pthread_timedjoin_np(t, NULL, &ts);
	if (jr != 0) {
		say("connecting thread: still blocked after 5s");
		return;
	}
	if (c.r < 0)
		say("connecting thread's connect: %d %s", c.r, ename(c.e));
	else
		say("connecting thread's connect: %d", c.r);
}

static atomic_bool storm_stop;

static void *storm_connector(void *arg)
{
	(void)arg;
	for (int i = 0; i < 20; i++)
		atomic_fetch_add(one_round(7, i) ? &n_ok : &n_fail, 1);
	return NULL;
}

static void signal_close_storm(void)
{
	struct sigaction sa = {.sa_handler = close_handler, .sa_flags = SA_RESTART};
	pthread_t t[2];
	int handled = 0, bad = 0;

	sigaction(SIGUSR1, &sa, NULL);
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, storm_connector, NULL);
	/* the main thread: make a socket, close it from a signal handler,
	 * while the others connect (and so take libslim's router lock) */
	for (long long end = now_ms() + 1500; now_ms() < end;) {
		victim_fd = socket(AF_INET, SOCK_STREAM, 0);
		raise(SIGUSR1);
		handled++;
		bad += handler_close_rc != 0;
	}
	atomic_store(&storm_stop, true);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	say("closes from the signal handler all returned 0: %s",
	    handled > 0 && !bad ? "yes" : "no");
	say("2 threads x 20 connect/echo/close meanwhile: ok=%d failed=%d", atomic_load(&n_ok),
	    atomic_load(&n_fail));
}

static void *fd_count_worker(void *arg)
{
	(void)arg;
	for (int i = 0; i < 25; i++) {
		int fd = dial("dial", conf.far, PORT_ECHO, SOCK_CLOEXEC);

		atomic_fetch_add(fd >= 0 ? &n_ok : &n_fail, 1);
		if (fd >= 0)
			close(fd);
	}
	return NULL;
}

/* 4 threads connecting at once leave the fd count where it was. */
static void fd_count_threads(void)
{
	pthread_t t[4];
	int before = fd_count();

	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, fd_count_worker, NULL);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	say("4 threads x 25 connect/close: ok=%d failed=%d", atomic_load(&n_ok),
	    atomic_load(&n_fail));
	say("fd count change: %d", fd_count() - before);
}

const struct conf_case conf_cases_threads[] = {
    {"threads.connect", "8 threads x 10 connect/echo/getpeername/close", threads_connect},
    {"threads.accept", "8 threads accepting 40 connect-back connections from one listener",
     threads_accept},
    {"threads.mixed", "connecting, accepting and socket/dup/close churn in parallel",
     threads_mixed},
    {"threads.high_fd_client",
     "a client socket at the top fd allowed (or above 65535): epoll, flags, addresses",
     high_fd_client},
    {"threads.high_fd_listener", "a listener at the top fd allowed: accept and addresses",
     high_fd_listener},
    {"threads.signal_close_in_connect",
     "close() from a signal handler while another thread blocks in connect",
     signal_close_in_connect},
    {"threads.signal_close_storm", "signal-handler closes racing two connecting threads",
     signal_close_storm},
    {"threads.fd_count", "4 threads x 25 connect/close: the fd count before and after",
     fd_count_threads},
    {0},
};
