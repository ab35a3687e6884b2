/* Socket options: set before connect/listen and still in force after (as
 * getsockopt reports them and, for the timeouts, as behaviour), defaults,
 * inheritance by accepted sockets, and the options slim needs on its own
 * sockets (SO_REUSEADDR, SO_REUSEPORT, TCP_SAVE_SYN) reading back as the
 * app set them. */
#define _GNU_SOURCE
#include "conf.h"

#include <netinet/ip.h>
#include <poll.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct opt {
	const char *name;
	int level, opt;
	int value; /* what the cases set */
};

static const struct opt int_opts[] = {
    {"TCP_NODELAY", IPPROTO_TCP, TCP_NODELAY, 1},
    {"SO_KEEPALIVE", SOL_SOCKET, SO_KEEPALIVE, 1},
    {"SO_RCVBUF", SOL_SOCKET, SO_RCVBUF, 65536},
    {"SO_SNDBUF", SOL_SOCKET, SO_SNDBUF, 65536},
    {"TCP_KEEPIDLE", IPPROTO_TCP, TCP_KEEPIDLE, 33},
    {"TCP_KEEPINTVL", IPPROTO_TCP, TCP_KEEPINTVL, 7},
    {"TCP_KEEPCNT", IPPROTO_TCP, TCP_KEEPCNT, 4},
    {"TCP_USER_TIMEOUT", IPPROTO_TCP, TCP_USER_TIMEOUT, 5000},
    {"TCP_NOTSENT_LOWAT", IPPROTO_TCP, TCP_NOTSENT_LOWAT, 16384},
    {"IP_TOS", IPPROTO_IP, IP_TOS, 0x10},
    {"IP_TTL", IPPROTO_IP, IP_TTL, 33},
    {"SO_PRIORITY", SOL_SOCKET, SO_PRIORITY, 3},
    {"SO_RCVLOWAT", SOL_SOCKET, SO_RCVLOWAT, 2},
    {"SO_REUSEADDR", SOL_SOCKET, SO_REUSEADDR, 1},
    {"SO_OOBINLINE", SOL_SOCKET, SO_OOBINLINE, 1},
};

/* Options whose default is the same on any socket of this kind (buffer
 * sizes are not: the kernel sizes them from the path's MSS). */
static const struct opt default_opts[] = {
    {"TCP_NODELAY", IPPROTO_TCP, TCP_NODELAY, 0},
    {"SO_KEEPALIVE", SOL_SOCKET, SO_KEEPALIVE, 0},
    {"TCP_KEEPIDLE", IPPROTO_TCP, TCP_KEEPIDLE, 0},
    {"TCP_KEEPINTVL", IPPROTO_TCP, TCP_KEEPINTVL, 0},
    {"TCP_KEEPCNT", IPPROTO_TCP, TCP_KEEPCNT, 0},
    {"TCP_USER_TIMEOUT", IPPROTO_TCP, TCP_USER_TIMEOUT, 0},
    {"IP_TOS", IPPROTO_IP, IP_TOS, 0},
    {"IP_TTL", IPPROTO_IP, IP_TTL, 0},
    {"SO_PRIORITY", SOL_SOCKET, SO_PRIORITY, 0},
    {"SO_RCVLOWAT", SOL_SOCKET, SO_RCVLOWAT, 0},
    {"SO_REUSEADDR", SOL_SOCKET, SO_REUSEADDR, 0},
    {"SO_REUSEPORT", SOL_SOCKET, SO_REUSEPORT, 0},
    {"SO_TYPE", SOL_SOCKET, SO_TYPE, 0},
    {"SO_DOMAIN", SOL_SOCKET, SO_DOMAIN, 0},
    {"SO_PROTOCOL", SOL_SOCKET, SO_PROTOCOL, 0},
    {"SO_ACCEPTCONN", SOL_SOCKET, SO_ACCEPTCONN, 0},
    {"SO_ERROR", SOL_SOCKET, SO_ERROR, 0},
    {"SO_BROADCAST", SOL_SOCKET, SO_BROADCAST, 0},
    {"SO_OOBINLINE", SOL_SOCKET, SO_OOBINLINE, 0},
    {"TCP_DEFER_ACCEPT", IPPROTO_TCP, TCP_DEFER_ACCEPT, 0},
    {"TCP_NOTSENT_LOWAT", IPPROTO_TCP, TCP_NOTSENT_LOWAT, 0},
    {"TCP_FASTOPEN", IPPROTO_TCP, TCP_FASTOPEN, 0},
};

static void get_int(const char *prefix, int fd, const struct opt *o)
{
	int v = -1;
	socklen_t len = sizeof(v);

	errno = 0;
	if (getsockopt(fd, o->level, o->opt, &v, &len) < 0)
		say("%s %s: -1 %s", prefix, o->name, ename(errno));
	else
		say("%s %s: %d", prefix, o->name, v);
}

static void get_special(const char *prefix, int fd)
{
	struct linger lg = {-1, -1};
	struct timeval tv = {-1, -1};
	char cc[32] = "";
	socklen_t len;

	len = sizeof(lg);
	if (getsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, &len) == 0)
		say("%s SO_LINGER: %d %d", prefix, lg.l_onoff, lg.l_linger);
	len = sizeof(tv);
	if (getsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, &len) == 0)
		say("%s SO_RCVTIMEO: %ld.%06ld", prefix, (long)tv.tv_sec, (long)tv.tv_usec);
	len = sizeof(tv);
	if (getsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, &len) == 0)
		say("%s SO_SNDTIMEO: %ld.%06ld", prefix, (long)tv.tv_sec, (long)tv.tv_usec);
	len = sizeof(cc);
	if (getsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, cc, &len) == 0)
		say("%s TCP_CONGESTION: %.*s", prefix, (int)strnlen(cc, len), cc);
}

/* Sets every option of int_opts plus linger, timeouts and congestion
 * control to non-default values, printing each result. */
static void set_all(int fd)
{
	struct linger lg = {.l_onoff = 1, .l_linger = 5};
	struct timeval rcv = {.tv_sec = 1, .tv_usec = 500000},
		       snd = {.tv_sec = 2, .tv_usec = 250000};
	char label[64];

	for (size_t i = 0; i < sizeof(int_opts) / sizeof(int_opts[0]); i++) {
		snprintf(label, sizeof(label), "set %s %d", int_opts[i].name, int_opts[i].value);
		RET(label, setsockopt(fd, int_opts[i].level, int_opts[i].opt, &int_opts[i].value,
				      sizeof(int)));
	}
	RET("set SO_LINGER 1 5", setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
	RET("set SO_RCVTIMEO 1.5s", setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &rcv, sizeof(rcv)));
	RET("set SO_SNDTIMEO 2.25s", setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &snd, sizeof(snd)));
	RET("set TCP_CONGESTION reno", setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, "reno", 4));
}

static void get_all(const char *prefix, int fd)
{
	for (size_t i = 0; i < sizeof(int_opts) / sizeof(int_opts[0]); i++)
		get_int(prefix, fd, &int_opts[i]);
	get_special(prefix, fd);
}

static void sockopt_before_connect(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sin = far_sin(PORT_ECHO);

	set_all(fd);
	RET("connect", connect(fd, (struct sockaddr *)&sin, sizeof(sin)));
	get_all("after connect", fd);
	echo_check("echo", fd, "options");
	close(fd);
}

static void sockopt_before_nb_connect(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in sin = far_sin(PORT_ECHO);

	set_all(fd);
	RET("connect", connect(fd, (struct sockaddr *)&sin, sizeof(sin)));
	get_all("while connecting", fd);
	(void)wait_ready(fd, POLLOUT, CONF_WAIT_MS);
	get_int("connected", fd, &int_opts[0]);
	echo_check("echo", fd, "options-nb");
	close(fd);
}

static void sockopt_after_connect(void)
{
	int fd = dial("dial", conf.far, PORT_ECHO, 0);

	if (fd < 0)
		return;
	set_all(fd);
	get_all("after set", fd);
	echo_check("echo", fd, "options-after");
	close(fd);
}

static void sockopt_defaults(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sin = far_sin(PORT_ECHO);

	for (size_t i = 0; i < sizeof(default_opts) / sizeof(default_opts[0]); i++)
		get_int("fresh", fd, &default_opts[i]);
	get_special("fresh", fd);
	RET("connect", connect(fd, (struct sockaddr *)&sin, sizeof(sin)));
	for (size_t i = 0; i < sizeof(default_opts) / sizeof(default_opts[0]); i++)
		get_int("connected", fd, &default_opts[i]);
	get_special("connected", fd);
	close(fd);
}

static void sockopt_rcvtimeo_in_force(void)
{
	struct timeval tv = {.tv_sec = 1};
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sin = far_sin(PORT_ECHO);
	char buf[8];
	long long t0;

	RET("SO_RCVTIMEO 1s before connect",
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	RET("connect", connect(fd, (struct sockaddr *)&sin, sizeof(sin)));
	t0 = now_ms();
	RET("blocking recv, peer silent", recv(fd, buf, sizeof(buf), 0));
	say("elapsed: %s", bucket(now_ms() - t0));
	close(fd);
}

static void sockopt_listener_inherit(void)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(8401)};
	int lfd = socket(AF_INET, SOCK_STREAM, 0), ctl, fd;
	static const struct opt lopts[] = {
	    {"TCP_NODELAY", IPPROTO_TCP, TCP_NODELAY, 1},
	    {"SO_KEEPALIVE", SOL_SOCKET, SO_KEEPALIVE, 1},
	    {"SO_RCVBUF", SOL_SOCKET, SO_RCVBUF, 65536},
	    {"SO_SNDBUF", SOL_SOCKET, SO_SNDBUF, 65536},
	    {"TCP_KEEPIDLE", IPPROTO_TCP, TCP_KEEPIDLE, 44},
	    {"IP_TOS", IPPROTO_IP, IP_TOS, 0x20},
	    {"SO_REUSEADDR", SOL_SOCKET, SO_REUSEADDR, 1},
	    {"TCP_DEFER_ACCEPT", IPPROTO_TCP, TCP_DEFER_ACCEPT, 0},
	};
	struct linger lg = {.l_onoff = 1, .l_linger = 3};
	char label[64];

	for (size_t i = 0; i < sizeof(lopts) / sizeof(lopts[0]); i++) {
		snprintf(label, sizeof(label), "set %s %d", lopts[i].name, lopts[i].value);
		RET(label,
		    setsockopt(lfd, lopts[i].level, lopts[i].opt, &lopts[i].value, sizeof(int)));
	}
	RET("set SO_LINGER 1 3", setsockopt(lfd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
	RET("bind", bind(lfd, (struct sockaddr *)&sin, sizeof(sin)));
	RET("listen", listen(lfd, 8));
	for (size_t i = 0; i < sizeof(lopts) / sizeof(lopts[0]); i++)
		get_int("listener", lfd, &lopts[i]);
	get_special("listener", lfd);
	ctl = cb_request(8401, 1, "hold");
	if (ctl < 0)
		return;
	fd = accept_wait("accept", lfd, 0, CONF_WAIT_MS);
	for (size_t i = 0; i < sizeof(lopts) / sizeof(lopts[0]); i++)
		get_int("accepted", fd, &lopts[i]);
	get_special("accepted", fd);
	close(fd);
	cb_results("connect-back", ctl, 1);
	close(lfd);
}

static void sockopt_short_and_bad(void)
{
	int fd = dial("dial", conf.far, PORT_ECHO, 0), v = -1;
	unsigned char c = 0xAA;
	socklen_t len = 1;

	if (fd < 0)
		return;
	RET("setsockopt TCP_NODELAY 1",
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){1}, sizeof(int)));
	RET("getsockopt TCP_NODELAY optlen 1", getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &c, &len));
	say("optlen %u value byte %u", (unsigned)len, c);
	RET("setsockopt optlen 0", setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, 0));
	RET("setsockopt unknown option", setsockopt(fd, SOL_SOCKET, 12345, &v, sizeof(v)));
	RET("setsockopt unknown level", setsockopt(fd, 12345, 1, &v, sizeof(v)));
	len = sizeof(v);
	RET("getsockopt unknown option", getsockopt(fd, SOL_SOCKET, 12345, &v, &len));
	RET("setsockopt NULL value", setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, NULL, sizeof(int)));
	RET("getsockopt NULL optlen", getsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &v, NULL));
	RET("setsockopt bad fd", setsockopt(-1, SOL_SOCKET, SO_KEEPALIVE, &v, sizeof(v)));
	close(fd);
}

static void sockopt_tcp_info(void)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	struct sockaddr_in sin = far_sin(PORT_FULL);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	memset(&ti, 0, sizeof(ti));
	getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len);
	say("fresh tcpi_state: %u", ti.tcpi_state);
	RET("connect full listener", connect(fd, (struct sockaddr *)&sin, sizeof(sin)));
	len = sizeof(ti);
	getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len);
	say("connecting tcpi_state: %u", ti.tcpi_state);
	close(fd);
	fd = dial("dial", conf.far, PORT_ECHO, 0);
	if (fd < 0)
		return;
	len = sizeof(ti);
	getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len);
	say("connected tcpi_state: %u", ti.tcpi_state);
	RET("shutdown WR", shutdown(fd, SHUT_WR));
	(void)wait_ready(fd, POLLRDHUP, CONF_WAIT_MS);
	/* The kernel marks the read side shut (POLLRDHUP) a moment before it
	 * moves the socket on from FIN_WAIT2: wait for the state itself
	 * (bounded), or the line would depend on timing. */
	for (int i = 0; i < 300; i++) {
		len = sizeof(ti);
		getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len);
		if (ti.tcpi_state != TCP_FIN_WAIT2)
			break;
		usleep(10000);
	}
	say("after both FINs tcpi_state: %u", ti.tcpi_state);
	close(fd);
}

/* The options slim needs on its own host sockets (a listener joins the
 * reserved port's reuseport group; its SYNs are saved for the overlay
 * option; a client's chosen source port is shared with the whole host):
 * each must read back as the app set it, or its default. */
static const struct opt reuse_opts[] = {
    {"SO_REUSEADDR", SOL_SOCKET, SO_REUSEADDR, 0},
    {"SO_REUSEPORT", SOL_SOCKET, SO_REUSEPORT, 0},
    {"TCP_SAVE_SYN", IPPROTO_TCP, TCP_SAVE_SYN, 0},
};

static void get_reuse(const char *prefix, int fd)
{
	for (size_t i = 0; i < sizeof(reuse_opts) / sizeof(reuse_opts[0]); i++)
		get_int(prefix, fd, &reuse_opts[i]);
}

/* Sets the reuse_opts selected by mask (bit i: reuse_opts[i]) to v. */
static void set_reuse(int fd, unsigned mask, int v)
{
	char label[48];

	for (size_t i = 0; i < sizeof(reuse_opts) / sizeof(reuse_opts[0]); i++) {
		if (!(mask & (1u << i)))
			continue;
		snprintf(label, sizeof(label), "set %s %d", reuse_opts[i].name, v);
		RET(label, setsockopt(fd, reuse_opts[i].level, reuse_opts[i].opt, &v, sizeof(v)));
	}
}

/* Accepts one connect-back connection on lfd (the server closes it) and
 * reads the options of the accepted socket. */
static void accept_reuse(int lfd, int port)
{
	int ctl = cb_request(port, 1, "close"), fd;

	if (ctl < 0)
		return;
	fd = accept_wait("accept", lfd, 0, CONF_WAIT_MS);
	if (fd >= 0) {
		get_reuse("accepted", fd);
		close(fd);
	}
	cb_results("connect-back", ctl, 1);
}

/* One listener per combination of the options the app sets before bind:
 * read back fresh, bound, listening and on an accepted socket. */
static void reuse_listener(in_addr_t ip, int port0)
{
	static const unsigned masks[] = {0, 1, 2, 7};

	for (size_t k = 0; k < sizeof(masks) / sizeof(masks[0]); k++) {
		int port = port0 + (int)k;
		struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
		int lfd = socket(AF_INET, SOCK_STREAM, 0);

		say("-- listener %zu", k);
		sin.sin_addr.s_addr = ip;
		set_reuse(lfd, masks[k], 1);
		get_reuse("fresh", lfd);
		RET("bind", bind(lfd, (struct sockaddr *)&sin, sizeof(sin)));
		get_reuse("bound", lfd);
		RET("listen", listen(lfd, 8));
		get_reuse("listening", lfd);
		accept_reuse(lfd, port);
		close(lfd);
	}
}

static void sockopt_reuse_listener_vip(void)
{
	reuse_listener(own_ip(), 8410);
}

static void sockopt_reuse_listener_any(void)
{
	reuse_listener(htonl(INADDR_ANY), 8415);
}

/* Set after listen, then cleared again: the listener and the sockets it
 * accepts follow each time, and clearing SO_REUSEADDR/SO_REUSEPORT on a
 * listening socket does not stop it from accepting. */
static void sockopt_reuse_after_listen(void)
{
	int lfd = listen_on("listener", htonl(INADDR_ANY), 8420, 0), fd;

	if (lfd < 0)
		return;
	get_reuse("listening", lfd);
	set_reuse(lfd, 7, 1);
	get_reuse("after set", lfd);
	accept_reuse(lfd, 8420);
	set_reuse(lfd, 7, 0);
	get_reuse("after clear", lfd);
	accept_reuse(lfd, 8420);
	/* An accepted socket's own setting, both ways. */
	int ctl = cb_request(8420, 1, "close");
	if (ctl < 0) {
		close(lfd);
		return;
	}
	fd = accept_wait("accept", lfd, 0, CONF_WAIT_MS);
	if (fd >= 0) {
		set_reuse(fd, 7, 1);
		get_reuse("accepted after set", fd);
		set_reuse(fd, 7, 0);
		get_reuse("accepted after clear", fd);
		close(fd);
	}
	cb_results("connect-back", ctl, 1);
	close(lfd);
}

/* An SO_REUSEPORT listener (on its vip) whose app turns SO_REUSEPORT and
 * SO_REUSEADDR off once it listens: it reads back 0 and still gets every
 * connection. */
static void sockopt_reuseport_off(void)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(8421)};
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), ctl, fd, n = 0;

	sin.sin_addr.s_addr = own_ip();
	set_reuse(lfd, 3, 1);
	RET("bind", bind(lfd, (struct sockaddr *)&sin, sizeof(sin)));
	RET("listen", listen(lfd, 16));
	set_reuse(lfd, 3, 0);
	get_reuse("listening", lfd);
	ctl = cb_request(8421, 4, "close");
	if (ctl >= 0)
		cb_summary("connect-back", ctl, 4);
	/* Every connection the server reported is complete: in the queue. */
	while ((fd = accept(lfd, NULL, NULL)) >= 0) {
		if (n++ == 0)
			get_reuse("accepted", fd);
		close(fd);
	}
	say("accepted: %d", n);
	get_reuse("at the end", lfd);
	close(lfd);
}

/* Clients: a fresh one, one the app set SO_REUSEPORT on, and two with a
 * source port the app chose (slim binds that port on the host socket with
 * SO_REUSEADDR), with and without the app's own SO_REUSEADDR. */
static void sockopt_reuse_client(void)
{
	struct sockaddr_in sin = far_sin(PORT_GREET);
	char line[32];
	int fd;

	for (int k = 0; k < 4; k++) {
		struct sockaddr_in src = {.sin_family = AF_INET,
					  .sin_port = htons((uint16_t)(9012 + k))};

		say("-- client %d", k);
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (k == 1)
			set_reuse(fd, 2, 1);
		if (k == 3)
			set_reuse(fd, 1, 1);
		get_reuse("fresh", fd);
		if (k >= 2) {
			RET("bind 0.0.0.0:port", bind(fd, (struct sockaddr *)&src, sizeof(src)));
			get_reuse("bound", fd);
		}
		RET("connect", connect(fd, (struct sockaddr *)&sin, sizeof(sin)));
		get_reuse("connected", fd);
		/* The greet server writes first and closes first: no
		 * TIME_WAIT on this side, so the bound ports can be used
		 * again at once. */
		if (read_line(fd, line, sizeof(line), CONF_WAIT_MS) > 0)
			say("greeting: %.*s", (int)strcspn(line, "\n"), line);
		RET("shutdown WR", shutdown(fd, SHUT_WR));
		close(fd);
	}
}

/* A dual-stack listener (slim gives it a listener the router made): the
 * same read-back, without and with the app's SO_REUSEADDR and
 * TCP_SAVE_SYN. */
static void sockopt_reuse_listener_v6(void)
{
	for (int k = 0; k < 2; k++) {
		struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6,
					    .sin6_port = htons((uint16_t)(8422 + k)),
					    .sin6_addr = IN6ADDR_ANY_INIT};
		int lfd = socket(AF_INET6, SOCK_STREAM, 0);

		say("-- listener %d", k);
		if (k == 1)
			set_reuse(lfd, 5, 1);
		RET("bind [::]", bind(lfd, (struct sockaddr *)&sin6, sizeof(sin6)));
		RET("listen", listen(lfd, 8));
		get_reuse("listening", lfd);
		accept_reuse(lfd, 8422 + k);
		close(lfd);
	}
}

const struct conf_case conf_cases_sockopt[] = {
    {"sockopt.before_connect", "options set before a blocking connect, read back after it",
     sockopt_before_connect},
    {"sockopt.before_nb_connect",
     "options set before a non-blocking connect, read back while it is pending",
     sockopt_before_nb_connect},
    {"sockopt.after_connect", "options set and read after connect", sockopt_after_connect},
    {"sockopt.defaults", "defaults of a fresh and of a connected socket", sockopt_defaults},
    {"sockopt.rcvtimeo_in_force",
     "SO_RCVTIMEO set before connect times out a blocking recv after it",
     sockopt_rcvtimeo_in_force},
    {"sockopt.listener_inherit",
     "options set on a listener before listen: on the listener and the accepted socket",
     sockopt_listener_inherit},
    {"sockopt.short_and_bad", "short optlen, unknown options and levels, NULL pointers, bad fd",
     sockopt_short_and_bad},
    {"sockopt.tcp_info", "TCP_INFO state: fresh, connecting, connected, closed", sockopt_tcp_info},
    {"sockopt.reuse_listener_vip",
     "SO_REUSEADDR, SO_REUSEPORT, TCP_SAVE_SYN as the app set them before bind (own ip): "
     "bound, listening, accepted",
     sockopt_reuse_listener_vip},
    {"sockopt.reuse_listener_any", "the same for listeners bound to 0.0.0.0",
     sockopt_reuse_listener_any},
    {"sockopt.reuse_after_listen",
     "the three set after listen and cleared again: listener and accepted sockets",
     sockopt_reuse_after_listen},
    {"sockopt.reuseport_off",
     "SO_REUSEPORT/SO_REUSEADDR turned off on a listener: reads 0, still accepts",
     sockopt_reuseport_off},
    {"sockopt.reuse_client",
     "the three on clients: fresh, SO_REUSEPORT, app-chosen source port with and without "
     "SO_REUSEADDR",
     sockopt_reuse_client},
    {"sockopt.reuse_listener_v6", "the three on a dual-stack listener and its accepted socket",
     sockopt_reuse_listener_v6},
    {0},
};
