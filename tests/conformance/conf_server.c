/* slim-conf-server: the peer of every conformance case, one process serving
 * a fixed behaviour per port (conf.h lists them).
 *
 *   slim-conf-server --self IP [--plain-connect-back]
 *
 * IP is the server's own container address, used to fill the PORT_FULL
 * listener's one-slot accept queue with a connection of its own. Prints
 * "ready" on stdout once every listener is up and that queue is full, and
 * "control" for every connect-back command it takes; logs one line per
 * problem on stderr. Runs until killed. It is started the same way as the
 * client (plain, or under slim-run), so what it observes about its peers
 * (whoami, connect-back) is part of the differential output.
 *
 * --plain-connect-back: the connect-back connections are made with the
 * system calls themselves, past any preloaded library: a container's own
 * socket, as a plain or statically linked peer makes it. The runner's
 * plainclient and plainback modes use it, so that a server under slim-run
 * connects back to the client's listener plainly (a slim client's connect
 * to a plain listener is the other half of the mixed-peers question, which
 * the plainserver mode compares with servers not under slim at all). */
#define _GNU_SOURCE
#include "conf.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Idle bound for a served connection: a client that vanished must not
 * keep a thread forever, but every case finishes well within it. */
#define SERVE_IDLE_MS 20000

static struct in_addr self_ip;
static bool plain_connect_back;

static void logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logf_(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "slim-conf-server: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* Waits up to ms for fd to be readable. Returns true if it is (or has an
 * error or hangup to report). */
static bool readable(int fd, int ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	int r;

	do
		r = poll(&p, 1, ms);
	while (r < 0 && errno == EINTR);
	return r > 0;
}

/* Reads and drops until EOF, an error or SERVE_IDLE_MS of silence.
 * Returns the byte count. */
static size_t drain(int fd)
{
	char buf[65536];
	size_t total = 0;

	while (readable(fd, SERVE_IDLE_MS)) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		total += (size_t)n;
	}
	return total;
}

static void serve_echo(int fd)
{
	char buf[65536];

	while (readable(fd, SERVE_IDLE_MS)) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || write_all(fd, buf, (size_t)n) < 0)
			break;
	}
}

static void serve_reset(int fd)
{
	struct linger lg = {.l_onoff = 1, .l_linger = 0};

	if (setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) < 0)
		logf_("reset: SO_LINGER: %s", strerror(errno));
}

static void serve_sink(int fd)
{
	char line[64];
	int n = snprintf(line, sizeof(line), "got %zu\n", drain(fd));

	(void)write_all(fd, line, (size_t)n);
}

/* The client half-closes and this end stays open: "got N\n" answers its
 * EOF, then the connection is kept until the client resets it (poll
 * reports POLLHUP/POLLERR whatever was asked for) or SERVE_IDLE_MS pass.
 * So the client's socket stays in FIN_WAIT2 for as long as the case looks
 * at it; a peer that closes at EOF races every call made after shutdown. */
static void serve_hold(int fd)
{
	struct pollfd p = {.fd = fd, .events = 0};
	int r;

	serve_sink(fd);
	do
		r = poll(&p, 1, SERVE_IDLE_MS);
	while (r < 0 && errno == EINTR);
}

static void serve_greet(int fd)
{
	(void)write_all(fd, "hello\n", 6);
	if (shutdown(fd, SHUT_WR) < 0)
		logf_("greet: shutdown: %s", strerror(errno));
	(void)drain(fd);
}

/* Raw addresses (ports included): the client compares the ports with its
 * own getsockname, so nothing ephemeral reaches the diffed output. */
static void serve_whoami(int fd, const struct sockaddr_in *acc)
{
	struct sockaddr_in sin;
	socklen_t len;
	char out[256], ip[INET_ADDRSTRLEN];
	int n;

	inet_ntop(AF_INET, &acc->sin_addr, ip, sizeof(ip));
	n = snprintf(out, sizeof(out), "accept %s %u\n", ip, ntohs(acc->sin_port));
	len = sizeof(sin);
	if (getpeername(fd, (struct sockaddr *)&sin, &len) == 0) {
		inet_ntop(AF_INET, &sin.sin_addr, ip, sizeof(ip));
		n += snprintf(out + n, sizeof(out) - (size_t)n, "peer %s %u\n", ip,
			      ntohs(sin.sin_port));
	} else {
		n += snprintf(out + n, sizeof(out) - (size_t)n, "peer error %s\n", ename(errno));
	}
	len = sizeof(sin);
	if (getsockname(fd, (struct sockaddr *)&sin, &len) == 0) {
		inet_ntop(AF_INET, &sin.sin_addr, ip, sizeof(ip));
		n += snprintf(out + n, sizeof(out) - (size_t)n, "local %s %u\n", ip,
			      ntohs(sin.sin_port));
	} else {
		n += snprintf(out + n, sizeof(out) - (size_t)n, "local error %s\n", ename(errno));
	}
	(void)write_all(fd, out, (size_t)n);
	(void)drain(fd);
}

struct cb_conn {
	int fd;
	bool hold;
};

/* One connect-back connection: "hi\n", then EOF-wait or close. */
static void *cb_conn_thread(void *arg)
{
	struct cb_conn *c = arg;

	(void)write_all(c->fd, "hi\n", 3);
	if (c->hold)
		(void)drain(c->fd);
	close(c->fd);
	free(c);
	return NULL;
}

/* Connects to ip:port within ms; raw: by the system calls themselves
 * (no preloaded library sees the socket). Returns the (blocking) fd, or -1
 * with *why naming the failure ("ECONNREFUSED", "timeout"). */
static int connect_back(struct in_addr ip, int port, int ms, bool raw, const char **why)
{
	struct sockaddr_in sin = conf_sin(ip, port);
	struct pollfd p;
	int fd, err = 0, r;
	socklen_t el = sizeof(err);

	fd = raw ? (int)syscall(SYS_socket, AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)
		 : socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*why = ename(errno);
		return -1;
	}
	r = raw ? (int)syscall(SYS_connect, fd, &sin, sizeof(sin))
		: connect(fd, (struct sockaddr *)&sin, sizeof(sin));
	if (r < 0 && errno != EINPROGRESS) {
		*why = ename(errno);
		close(fd);
		return -1;
	}
	p = (struct pollfd){.fd = fd, .events = POLLOUT};
	do
		r = poll(&p, 1, ms);
	while (r < 0 && errno == EINTR);
	if (r <= 0) {
		*why = "timeout";
		close(fd);
		return -1;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
		err = errno;
	if (err) {
		*why = ename(err);
		close(fd);
		return -1;
	}
	(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	return fd;
}

/* The control port: "connect PORT COUNT hold|close" lines, one result line
 * per attempt, in order. The target is the control connection's peer
 * address as this process sees it (virtual under slim). */
static void serve_control(int fd)
{
	struct sockaddr_in peer;
	socklen_t len = sizeof(peer);
	char line[128], mode[16];
	size_t got = 0;
	int port, count;

	if (getpeername(fd, (struct sockaddr *)&peer, &len) < 0) {
		logf_("control: getpeername: %s", strerror(errno));
		return;
	}
	while (readable(fd, SERVE_IDLE_MS)) {
		ssize_t n = read(fd, line + got, 1);

		if (n <= 0)
			return;
		if (line[got] != '\n' && got + 2 < sizeof(line)) {
			got++;
			continue;
		}
		line[got] = 0;
		got = 0;
		if (sscanf(line, "connect %d %d %15s", &port, &count, mode) != 3 || port <= 0 ||
		    port > 65535 || count <= 0 || count > 1000) {
			(void)write_all(fd, "bad command\n", 12);
			continue;
		}
		printf("control\n");
		for (int i = 0; i < count; i++) {
			const char *why = "ok";
			int cfd = connect_back(peer.sin_addr, port, CONF_WAIT_MS,
					       plain_connect_back, &why);
			char res[64];
			int rl;

			if (cfd >= 0) {
				struct cb_conn *c = malloc(sizeof(*c));
				pthread_t t;

				if (!c) {
					close(cfd);
					why = "ENOMEM";
				} else {
					*c = (struct cb_conn){.fd = cfd,
							      .hold = strcmp(mode, "hold") == 0};
					if (pthread_create(&t, NULL, cb_conn_thread, c) == 0) {
						pthread_detach(t);
					} else {
						close(cfd);
						free(c);
						why = "EAGAIN";
					}
				}
			}
			rl = snprintf(res, sizeof(res), "%s\n", why);
			(void)write_all(fd, res, (size_t)rl);
		}
	}
}

struct conn {
	int fd, port;
	struct sockaddr_in peer;
};

static void *conn_thread(void *arg)
{
	struct conn *c = arg;

	switch (c->port) {
	case PORT_CONTROL:
		serve_control(c->fd);
		break;
	case PORT_ECHO:
		serve_echo(c->fd);
		break;
	case PORT_CLOSE:
		break;
	case PORT_RESET:
		serve_reset(c->fd);
		break;
	case PORT_SINK:
		serve_sink(c->fd);
		break;
	case PORT_GREET:
		serve_greet(c->fd);
		break;
	case PORT_WHOAMI:
		serve_whoami(c->fd, &c->peer);
		break;
	case PORT_HOLD:
		serve_hold(c->fd);
		break;
	}
	close(c->fd);
	free(c);
	return NULL;
}

static void *accept_thread(void *arg)
{
	int lfd = (int)(intptr_t)arg, port;
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	if (getsockname(lfd, (struct sockaddr *)&sin, &len) < 0) {
		logf_("getsockname: %s", strerror(errno));
		return NULL;
	}
	port = ntohs(sin.sin_port);
	for (;;) {
		struct conn *c = calloc(1, sizeof(*c));
		pthread_t t;

		if (!c)
			abort();
		len = sizeof(c->peer);
		c->fd = accept4(lfd, (struct sockaddr *)&c->peer, &len, SOCK_CLOEXEC);
		if (c->fd < 0) {
			logf_("accept on %d: %s", port, strerror(errno));
			free(c);
			if (errno == EINTR || errno == ECONNABORTED || errno == EMFILE)
				continue;
			return NULL;
		}
		c->port = port;
		if (pthread_create(&t, NULL, conn_thread, c) != 0) {
			logf_("pthread_create: %s", strerror(errno));
			close(c->fd);
			free(c);
			continue;
		}
		pthread_detach(t);
	}
}

static int listen_port(int port, int backlog)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int fd, one = 1;

	sin.sin_addr.s_addr = htonl(INADDR_ANY);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(fd, backlog) < 0) {
		logf_("listen on %d: %s", port, strerror(errno));
		exit(1);
	}
	return fd;
}

int main(int argc, char **argv)
{
	static const int ports[] = {PORT_CONTROL, PORT_ECHO,  PORT_CLOSE,  PORT_RESET,
				    PORT_SINK,	  PORT_GREET, PORT_WHOAMI, PORT_HOLD};
	const char *why = NULL;
	struct in_addr lo = {.s_addr = htonl(INADDR_LOOPBACK)};
	int full, filled = 0, filled_lo = 0;

	plain_connect_back = argc == 4 && strcmp(argv[3], "--plain-connect-back") == 0;
	if ((argc != 3 && !plain_connect_back) || strcmp(argv[1], "--self") != 0 ||
	    inet_pton(AF_INET, argv[2], &self_ip) != 1) {
		fprintf(stderr, "usage: slim-conf-server --self IP [--plain-connect-back]\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (size_t i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
		int lfd = listen_port(ports[i], 128);
		pthread_t t;

		if (pthread_create(&t, NULL, accept_thread, (void *)(intptr_t)lfd) != 0) {
			logf_("pthread_create: %s", strerror(errno));
			return 1;
		}
		pthread_detach(t);
	}
	/* Backlog 0 holds one connection (Linux); we fill the queue with our
	 * own until a connect no longer completes, however many that takes
	 * (listen.backlog_zero is the case that checks the number). Every
	 * later SYN is dropped, so clients stay in SYN_SENT: the
	 * deterministic "connect in progress" the EALREADY, SO_SNDTIMEO and
	 * interrupted-connect cases need. The connections are kept open.
	 * Then over loopback: under slim-run the listener has two queues, the
	 * host socket's (slim peers, filled above) and its container side's
	 * (every other peer, filled by these); plainly, the one queue is full
	 * already and the first of them times out. */
	full = listen_port(PORT_FULL, 0);
	while (filled < 8 && connect_back(self_ip, PORT_FULL, 500, false, &why) >= 0)
		filled++;
	if (filled == 0 || strcmp(why, "timeout") != 0)
		logf_("cannot fill port %d (%d connections, then %s): cases using it will differ",
		      PORT_FULL, filled, why ? why : "too many");
	else
		logf_("port %d is full after %d connections", PORT_FULL, filled);
	while (filled_lo < 8 && connect_back(lo, PORT_FULL, 500, false, &why) >= 0)
		filled_lo++;
	logf_("port %d over loopback: full after %d more connections", PORT_FULL, filled_lo);
	printf("ready\n");
	for (;;)
		pause();
	close(full);
	return 0;
}
