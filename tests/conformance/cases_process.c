/* Processes: FD_CLOEXEC and O_NONBLOCK across connect, fork (the child
 * uses, closes, connects, accepts), exec with a cleared or kept environment,
 * and close-everything idioms (close_range, closefrom, close loops, dup2
 * over every fd) that must not break libslim's own router connection. */
#define _GNU_SOURCE
#include "conf.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static int connect_far(int fd, int port)
{
	struct sockaddr_in sin = far_sin(port);

	return connect(fd, (struct sockaddr *)&sin, sizeof(sin));
}

/* Waits up to 10 s for pid, then kills it; prints "LABEL: exit N",
 * "LABEL: signal N" or "LABEL: killed after 10s". */
static void reap(const char *label, pid_t pid)
{
	long long end = now_ms() + 10000;
	int st;

	for (;;) {
		pid_t r = waitpid(pid, &st, WNOHANG);

		if (r == pid)
			break;
		if (r < 0) {
			say("%s: waitpid -1 %s", label, ename(errno));
			return;
		}
		if (now_ms() > end) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			say("%s: killed after 10s", label);
			return;
		}
		usleep(10000);
	}
	if (WIFEXITED(st))
		say("%s: exit %d", label, WEXITSTATUS(st));
	else
		say("%s: signal %d", label, WTERMSIG(st));
}

/* Runs this program again as "--exec-child ARGS..." in a forked child,
 * with an empty environment (clear_env) or ours. */
static void run_exec(const char *label, const char *const *args, bool clear_env)
{
	char *argv[12] = {"slim-conf-client", "--exec-child"};
	char *empty[] = {NULL};
	size_t n = 2;
	pid_t pid;

	for (; *args && n + 1 < sizeof(argv) / sizeof(argv[0]); args++)
		argv[n++] = (char *)*args;
	argv[n] = NULL;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		execve(conf.self_exe, argv, clear_env ? empty : environ);
		say("execve: -1 %s", ename(errno));
		_exit(127);
	}
	if (pid < 0) {
		say("%s: fork -1 %s", label, ename(errno));
		return;
	}
	reap(label, pid);
}

static void cloexec_preserved(void)
{
	static const struct {
		const char *label;
		int flags;
		bool setfd;
	} v[] = {
	    {"SOCK_CLOEXEC", SOCK_CLOEXEC, false},
	    {"no flags", 0, false},
	    {"F_SETFD FD_CLOEXEC after socket", 0, true},
	    {"SOCK_NONBLOCK", SOCK_NONBLOCK, false},
	    {"SOCK_NONBLOCK|SOCK_CLOEXEC", SOCK_NONBLOCK | SOCK_CLOEXEC, false},
	};

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		int fd = socket(AF_INET, SOCK_STREAM | v[i].flags, 0);
		char label[96];

		if (v[i].setfd)
			fcntl(fd, F_SETFD, FD_CLOEXEC);
		snprintf(label, sizeof(label), "%s: connect", v[i].label);
		RET(label, connect_far(fd, PORT_ECHO));
		(void)wait_ready(fd, POLLOUT, CONF_WAIT_MS);
		snprintf(label, sizeof(label), "%s: flags after connect", v[i].label);
		say_flags(label, fd);
		close(fd);
	}
	{
		int fd = socket(AF_INET, SOCK_STREAM, 0);

		RET("O_NONBLOCK via F_SETFL before connect",
		    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK));
		RET("connect", connect_far(fd, PORT_ECHO));
		say_flags("flags after connect", fd);
		RET("clear O_NONBLOCK after connect", fcntl(fd, F_SETFL, 0));
		say_flags("flags", fd);
		close(fd);
	}
}

static void fork_child_uses(void)
{
	int fd = dial("dial", conf.far, PORT_ECHO, 0);
	pid_t pid;

	if (fd < 0)
		return;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		say_name("child getpeername", fd, true);
		say_name("child getsockname", fd, false);
		echo_check("child echo", fd, "from-child");
		RET("child close", close(fd));
		_exit(0);
	}
	reap("child", pid);
	say_name("parent getpeername", fd, true);
	echo_check("parent echo", fd, "from-parent");
	close(fd);
}

static void fork_child_closes(void)
{
	int fd = dial("dial sink", conf.far, PORT_SINK, 0);
	char line[64];
	pid_t pid;

	if (fd < 0)
		return;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		RET("child close", close(fd));
		_exit(0);
	}
	reap("child", pid);
	RET("parent write", write(fd, "parent", 6));
	RET("parent shutdown WR", shutdown(fd, SHUT_WR));
	if (read_line(fd, line, sizeof(line), CONF_WAIT_MS) > 0)
		say("sink says: %.*s", (int)strcspn(line, "\n"), line);
	else
		say("sink says nothing: %s", ename(errno));
	close(fd);
}

static const struct timeval rcv_bound = {.tv_sec = 3};

/* n connect+echo+close rounds; returns how many were fully correct. */
static int rounds(int n, const char *tag)
{
	int ok = 0;

	for (int i = 0; i < n; i++) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		char msg[32], buf[32];
		int len = snprintf(msg, sizeof(msg), "%s-%d", tag, i);

		if (fd < 0)
			continue;
		/* bounds the MSG_WAITALL read below */
		if (connect_far(fd, PORT_ECHO) == 0 &&
		    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &rcv_bound, sizeof(rcv_bound)) == 0 &&
		    write(fd, msg, (size_t)len) == len && wait_ready(fd, POLLIN, CONF_WAIT_MS) &&
		    recv(fd, buf, (size_t)len, MSG_WAITALL) == len &&
		    memcmp(buf, msg, (size_t)len) == 0)
			ok++;
		close(fd);
	}
	return ok;
}

static void fork_both_connect(void)
{
	pid_t pid;
	int ok;

	say("parent first: ok=%d", rounds(2, "first"));
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		int c = rounds(20, "child");

		say("child: ok=%d", c);
		_exit(0);
	}
	ok = rounds(20, "parent");
	reap("child", pid);
	say("parent: ok=%d", ok);
}

static void fork_listener(void)
{
	int lfd = listen_on("listener", htonl(INADDR_ANY), 8501, 0), ctl, fd;
	pid_t pid;

	if (lfd < 0)
		return;
	ctl = cb_request(8501, 2, "hold");
	if (ctl < 0)
		return;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		fd = accept_wait("child accept", lfd, 0, CONF_WAIT_MS);
		say_name("child accepted getsockname", fd, false);
		close(fd);
		_exit(0);
	}
	reap("child", pid);
	fd = accept_wait("parent accept", lfd, 0, CONF_WAIT_MS);
	say_name("parent accepted getpeername", fd, true);
	close(fd);
	cb_results("connect-back", ctl, 2);
	close(lfd);
}

static void exec_inherited(bool clear_env)
{
	int fd = dial("dial", conf.far, PORT_ECHO, 0);
	char fdstr[16], ip[INET_ADDRSTRLEN];
	const char *args[] = {"inherited", fdstr, ip, NULL};

	if (fd < 0)
		return;
	snprintf(fdstr, sizeof(fdstr), "%d", fd);
	inet_ntop(AF_INET, &conf.far, ip, sizeof(ip));
	run_exec("exec child", args, clear_env);
	say_name("parent getpeername", fd, true);
	echo_check("parent echo", fd, "parent-after-exec");
	close(fd);
}

static void exec_inherited_clear(void)
{
	exec_inherited(true);
}

static void exec_inherited_keep(void)
{
	exec_inherited(false);
}

static void exec_cloexec(void)
{
	int fd = dial("dial", conf.far, PORT_ECHO, SOCK_CLOEXEC);
	char fdstr[16];
	const char *args[] = {"closed", fdstr, NULL};

	if (fd < 0)
		return;
	snprintf(fdstr, sizeof(fdstr), "%d", fd);
	run_exec("exec child", args, true);
	close(fd);
}

static void exec_listener(void)
{
	int lfd = listen_on("listener", htonl(INADDR_ANY), 8502, 0);
	char fdstr[16], ip[INET_ADDRSTRLEN];
	const char *args[] = {"listener", fdstr, ip, "8502", NULL};

	if (lfd < 0)
		return;
	snprintf(fdstr, sizeof(fdstr), "%d", lfd);
	inet_ntop(AF_INET, &conf.far, ip, sizeof(ip));
	run_exec("exec child", args, true);
	close(lfd);
}

int conf_exec_child(int argc, char **argv)
{
	int fd;

	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	if (argc < 2)
		return 2;
	fd = atoi(argv[1]);
	if (argc >= 3 && inet_pton(AF_INET, argv[2], &conf.far) != 1)
		return 2;
	if (strcmp(argv[0], "closed") == 0) {
		RET("child F_GETFD on the CLOEXEC fd", fcntl(fd, F_GETFD));
		return 0;
	}
	if (strcmp(argv[0], "inherited") == 0 && argc == 3) {
		int n;

		/* differs by mode by design: stderr, not compared */
		fprintf(stderr, "exec child: LD_PRELOAD %s\n",
			getenv("LD_PRELOAD") ? "set" : "unset");
		say_name("child getpeername", fd, true);
		say_name("child getsockname", fd, false);
		echo_check("child echo", fd, "from-exec-child");
		n = dial("child new socket", conf.far, PORT_WHOAMI, 0);
		if (n >= 0) {
			say_name("child new getpeername", n, true);
			whoami("child new whoami", n);
			close(n);
		}
		return 0;
	}
	if (strcmp(argv[0], "listener") == 0 && argc == 4) {
		int ctl = cb_request(atoi(argv[3]), 1, "hold"), a;

		if (ctl < 0)
			return 1;
		a = accept_wait("child accept on inherited listener", fd, 0, CONF_WAIT_MS);
		say_name("child accepted getsockname", a, false);
		close(a);
		cb_results("connect-back", ctl, 1);
		return 0;
	}
	if (strcmp(argv[0], "connect") == 0 && argc == 3) {
		int n = dial("child new socket", conf.far, PORT_WHOAMI, 0);

		if (n >= 0) {
			say_name("child new getpeername", n, true);
			whoami("child new whoami", n);
			close(n);
		}
		return 0;
	}
	return 2;
}

/* After the app closed every fd but 0-2 in some way: new connections
 * (and a listener) still work and report virtual addresses. */
static void after_close_all(void)
{
	int fd = dial("dial after", conf.far, PORT_WHOAMI, 0), lfd, ctl;

	if (fd >= 0) {
		say_name("getpeername", fd, true);
		whoami("whoami", fd);
		close(fd);
	}
	lfd = listen_on("listener after", htonl(INADDR_ANY), 8510, 0);
	if (lfd < 0)
		return;
	ctl = cb_request(8510, 1, "hold");
	if (ctl < 0)
		return;
	fd = accept_wait("accept after", lfd, 0, CONF_WAIT_MS);
	close(fd);
	cb_results("connect-back", ctl, 1);
	close(lfd);
}

/* One connection and one listener first, so libslim has talked to its
 * router before the app closes everything. */
static void warm_up(void)
{
	int fd = dial("dial before", conf.far, PORT_ECHO, 0);

	if (fd >= 0) {
		echo_check("echo before", fd, "before");
		close(fd);
	}
}

static void close_range_all(void)
{
	warm_up();
	RET("close_range(3, ~0U, 0)", close_range(3, ~0U, 0));
	after_close_all();
}

static void closefrom_all(void)
{
	warm_up();
	closefrom(3);
	say("closefrom(3) done");
	after_close_all();
}

static void close_loop_all(void)
{
	struct rlimit rl;
	int closed = 0;

	warm_up();
	getrlimit(RLIMIT_NOFILE, &rl);
	for (int fd = 3; fd < (int)rl.rlim_cur; fd++)
		if (close(fd) == 0)
			closed++;
	say("close loop closed something: %s", closed > 0 ? "yes" : "no");
	after_close_all();
}

static void close_range_cloexec(void)
{
	char ip[INET_ADDRSTRLEN];
	const char *args[] = {"connect", "0", ip, NULL};

	warm_up();
	RET("close_range(3, ~0U, CLOSE_RANGE_CLOEXEC)", close_range(3, ~0U, CLOSE_RANGE_CLOEXEC));
	after_close_all();
	inet_ntop(AF_INET, &conf.far, ip, sizeof(ip));
	run_exec("exec child (environment kept)", args, false);
}

static void dup2_over_all(void)
{
	int null = open("/dev/null", O_RDWR), n = 0;

	warm_up();
	for (int fd = 3; fd < 1024; fd++)
		if (fd != null && dup2(null, fd) == fd)
			n++;
	say("dup2 /dev/null over fds 3..1023: %s", n == 1020 ? "all" : "some failed");
	after_close_all();
	RET("close_range(3, 1023, 0)", close_range(3, 1023, 0));
	after_close_all();
}

/* fd-leak checks (test frameworks, daemons) compare the fd count before and
 * after some work: a burst of connections must leave it where it was, and
 * so must every moment in between when the app itself holds no socket. */
static void fd_count_burst(void)
{
	int before = fd_count(), ok = 0, most = 0;

	for (int i = 0; i < 100; i++) {
		int fd = dial("dial", conf.far, PORT_ECHO, SOCK_CLOEXEC), d;

		if (fd < 0)
			break;
		ok++;
		close(fd);
		d = fd_count() - before;
		if (d > most || -d > most)
			most = d < 0 ? -d : d;
	}
	say("100 connect/close: ok=%d", ok);
	say("fd count change after the burst: %d", fd_count() - before);
	say("largest fd count change between connections: %d", most);
}

const struct conf_case conf_cases_process[] = {
    {"process.cloexec_preserved",
     "FD_CLOEXEC and O_NONBLOCK as set by socket/fcntl survive connect", cloexec_preserved},
    {"process.fork_child_uses",
     "fork: the child uses and closes the inherited connection, the parent goes on",
     fork_child_uses},
    {"process.fork_child_closes", "fork: the child's close does not end the parent's connection",
     fork_child_closes},
    {"process.fork_both_connect", "fork after connecting: parent and child connect concurrently",
     fork_both_connect},
    {"process.fork_listener", "fork: child and parent accept from one listener", fork_listener},
    {"process.exec_inherited_clear",
     "exec with an empty environment: inherited connection and new sockets", exec_inherited_clear},
    {"process.exec_inherited_keep",
     "exec keeping the environment: inherited connection and new sockets", exec_inherited_keep},
    {"process.exec_cloexec", "exec closes a SOCK_CLOEXEC connection", exec_cloexec},
    {"process.exec_listener", "exec with an empty environment: accept on an inherited listener",
     exec_listener},
    {"process.close_range", "close_range(3, ~0U, 0), then connect and listen", close_range_all},
    {"process.closefrom", "closefrom(3), then connect and listen", closefrom_all},
    {"process.close_loop", "close() of every fd up to RLIMIT_NOFILE, then connect and listen",
     close_loop_all},
    {"process.close_range_cloexec", "close_range CLOEXEC, then connect, listen and exec",
     close_range_cloexec},
    {"process.dup2_over_all",
     "dup2 /dev/null over fds 3..1023 then close them, connecting in between", dup2_over_all},
    {"process.fd_count_burst", "100 connect/close: the fd count before, between and after",
     fd_count_burst},
    {0},
};
