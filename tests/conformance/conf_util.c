/* Output and network helpers of the conformance client (see conf.h). */
#define _GNU_SOURCE
#include "conf.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

struct conf_env conf;

void say(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	errno = saved;
}

const char *ename(int e)
{
	static __thread char buf[16];
	const char *n = strerrorname_np(e);

	if (n)
		return n;
	snprintf(buf, sizeof(buf), "E%d", e);
	return buf;
}

void say_ret(const char *label, long r, int e)
{
	if (r < 0)
		say("%s: %ld %s", label, r, ename(e));
	else
		say("%s: %ld", label, r);
}

void say_fd(const char *label, int r, int e)
{
	if (r < 0)
		say("%s: %d %s", label, r, ename(e));
	else
		say("%s: fd", label);
}

static void fmt_port(char *buf, size_t cap, uint16_t port)
{
	if (port >= CONF_EPH_MIN)
		snprintf(buf, cap, "eph");
	else
		snprintf(buf, cap, "%u", port);
}

const char *fmt_sa(const struct sockaddr *sa, socklen_t len, char *buf, size_t cap)
{
	char ip[INET6_ADDRSTRLEN], port[8];

	if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;

		inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip));
		fmt_port(port, sizeof(port), ntohs(sin->sin_port));
		snprintf(buf, cap, "%s:%s", ip, port);
	} else if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;

		inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof(ip));
		fmt_port(port, sizeof(port), ntohs(sin6->sin6_port));
		snprintf(buf, cap, "[%s]:%s", ip, port);
	} else {
		snprintf(buf, cap, "family=%d len=%u", sa->sa_family, (unsigned)len);
	}
	return buf;
}

uint16_t sa_port(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)sa)->sin_port);
	if (sa->sa_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	return 0;
}

uint16_t say_name(const char *label, int fd, bool peer)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char buf[80];
	int r, saved = errno;

	memset(&ss, 0, sizeof(ss));
	errno = 0;
	r = peer ? getpeername(fd, (struct sockaddr *)&ss, &len)
		 : getsockname(fd, (struct sockaddr *)&ss, &len);
	if (r < 0) {
		say("%s: %d %s", label, r, ename(errno));
		errno = saved;
		return 0;
	}
	say("%s: %d %s", label, r, fmt_sa((struct sockaddr *)&ss, len, buf, sizeof(buf)));
	errno = saved;
	return sa_port((struct sockaddr *)&ss);
}

const char *fmt_events(uint32_t ev, char *buf, size_t cap)
{
	static const struct {
		uint32_t bit;
		const char *name;
	} names[] = {
	    {EPOLLIN, "IN"},	   {EPOLLPRI, "PRI"}, {EPOLLOUT, "OUT"},
	    {EPOLLRDHUP, "RDHUP"}, {EPOLLHUP, "HUP"}, {EPOLLERR, "ERR"},
	};
	size_t n = 0;

	buf[0] = 0;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!(ev & names[i].bit))
			continue;
		n += (size_t)snprintf(buf + n, n < cap ? cap - n : 0, "%s%s", n ? "|" : "",
				      names[i].name);
		ev &= ~names[i].bit;
	}
	/* EPOLLWRNORM and friends only come back when asked for */
	if (ev & ~(uint32_t)(POLLRDNORM | POLLWRNORM | POLLRDBAND | POLLWRBAND))
		n += (size_t)snprintf(buf + n, n < cap ? cap - n : 0, "%s0x%x", n ? "|" : "", ev);
	if (n == 0)
		snprintf(buf, cap, "-");
	return buf;
}

void say_flags(const char *label, int fd)
{
	int fl, fdfl, saved = errno;

	fl = fcntl(fd, F_GETFL);
	if (fl < 0) {
		say("%s: -1 %s", label, ename(errno));
		errno = saved;
		return;
	}
	fdfl = fcntl(fd, F_GETFD);
	say("%s: nonblock=%d cloexec=%d", label, !!(fl & O_NONBLOCK),
	    fdfl < 0 ? -1 : !!(fdfl & FD_CLOEXEC));
	errno = saved;
}

struct sockaddr_in conf_sin(struct in_addr ip, int port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};

	sin.sin_addr = ip;
	return sin;
}

struct sockaddr_in far_sin(int port)
{
	return conf_sin(conf.far, port);
}

int dial(const char *label, struct in_addr ip, int port, int flags)
{
	struct sockaddr_in sin = conf_sin(ip, port);
	int fd, e = 0;
	socklen_t el = sizeof(e);

	fd = socket(AF_INET, SOCK_STREAM | flags, 0);
	if (fd < 0) {
		say("%s socket: -1 %s", label, ename(errno));
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0)
		return fd;
	e = errno;
	/* non-blocking: wait for the handshake, then its outcome */
	if (e == EINPROGRESS) {
		if (!(wait_ready(fd, POLLOUT, CONF_WAIT_MS) & POLLOUT))
			e = ETIMEDOUT;
		else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) < 0)
			e = errno;
		if (e == 0)
			return fd;
	}
	say("%s connect: -1 %s", label, ename(e));
	close(fd);
	errno = e;
	return -1;
}

in_addr_t own_ip(void)
{
	struct sockaddr_in me = {0};
	socklen_t len = sizeof(me);
	int t = dial("probe", conf.far, PORT_ECHO, SOCK_CLOEXEC);

	if (t < 0)
		return 0;
	getsockname(t, (struct sockaddr *)&me, &len);
	close(t);
	return me.sin_addr.s_addr;
}

long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *bucket(long long ms)
{
	if (ms < 500)
		return "<0.5s";
	if (ms <= 3000)
		return "0.5s..3s";
	return ">3s";
}

short wait_ready(int fd, short want, int ms)
{
	long long end = now_ms() + ms;
	struct pollfd p = {.fd = fd, .events = want};
	int r, saved = errno;

	for (;;) {
		long long left = end - now_ms();

		p.revents = 0;
		r = poll(&p, 1, left > 0 ? (int)left : 0);
		if (r > 0 || (r == 0 && left <= 0))
			break;
		if (r < 0 && errno != EINTR)
			break;
	}
	errno = saved;
	return r > 0 ? p.revents : 0;
}

int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EAGAIN) {
			if (!(wait_ready(fd, POLLOUT, CONF_WAIT_MS) & POLLOUT)) {
				errno = ETIMEDOUT;
				return -1;
			}
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int echo_check(const char *label, int fd, const char *msg)
{
	size_t len = strlen(msg), got = 0;
	char buf[4096];
	long long end;

	if (len >= sizeof(buf))
		abort();
	if (write_all(fd, msg, len) < 0) {
		say("%s: write -1 %s", label, ename(errno));
		return -1;
	}
	end = now_ms() + CONF_WAIT_MS;
	while (got < len) {
		long long left = end - now_ms();
		ssize_t n;

		if (left <= 0 || !wait_ready(fd, POLLIN, (int)left)) {
			say("%s: timeout after %zu bytes", label, got);
			return -1;
		}
		n = recv(fd, buf + got, len - got, MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n < 0) {
			say("%s: read -1 %s after %zu bytes", label, ename(errno), got);
			return -1;
		}
		if (n == 0) {
			say("%s: EOF after %zu bytes", label, got);
			return -1;
		}
		got += (size_t)n;
	}
	buf[got] = 0;
	if (memcmp(buf, msg, len) != 0) {
		say("%s: wrong data '%s'", label, buf);
		return -1;
	}
	say("%s: ok %s", label, msg);
	return 0;
}

ssize_t read_line(int fd, char *buf, size_t cap, int ms)
{
	long long end = now_ms() + ms;
	size_t got = 0;

	while (got + 1 < cap) {
		long long left = end - now_ms();
		ssize_t n;

		if (left <= 0 || !wait_ready(fd, POLLIN, (int)left)) {
			buf[got] = 0;
			if (got)
				return (ssize_t)got;
			errno = ETIMEDOUT;
			return -1;
		}
		n = recv(fd, buf + got, 1, MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n < 0) {
			buf[got] = 0;
			return got ? (ssize_t)got : -1;
		}
		if (n == 0)
			break;
		if (buf[got++] == '\n')
			break;
	}
	buf[got] = 0;
	return (ssize_t)got;
}

ssize_t read_to_eof(int fd, char *buf, size_t cap, int ms, int *err)
{
	long long end = now_ms() + ms;
	size_t got = 0, kept = 0;
	char tmp[4096];

	*err = 0;
	for (;;) {
		long long left = end - now_ms();
		ssize_t n;

		if (left <= 0 || !wait_ready(fd, POLLIN, (int)left)) {
			*err = ETIMEDOUT;
			break;
		}
		n = recv(fd, tmp, sizeof(tmp), MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n < 0) {
			*err = errno;
			break;
		}
		if (n == 0)
			break;
		if (kept + 1 < cap) {
			size_t k = (size_t)n < cap - 1 - kept ? (size_t)n : cap - 1 - kept;

			memcpy(buf + kept, tmp, k);
			kept += k;
		}
		got += (size_t)n;
	}
	if (cap)
		buf[kept] = 0;
	if (got == 0 && *err) {
		errno = *err;
		return -1;
	}
	return (ssize_t)got;
}

int cb_request(int port, int count, const char *mode)
{
	char cmd[64];
	int ctl = dial("control", conf.far, PORT_CONTROL, SOCK_CLOEXEC);
	int n;

	if (ctl < 0)
		return -1;
	n = snprintf(cmd, sizeof(cmd), "connect %d %d %s\n", port, count, mode);
	if (write_all(ctl, cmd, (size_t)n) < 0) {
		say("control write: -1 %s", ename(errno));
		close(ctl);
		return -1;
	}
	return ctl;
}

void cb_results(const char *label, int ctl, int count)
{
	char line[128];

	for (int i = 0; i < count; i++) {
		/* the server gives each attempt CONF_WAIT_MS */
		ssize_t n = read_line(ctl, line, sizeof(line), CONF_WAIT_MS + 2000);

		if (n <= 0) {
			say("%s: no result from the server (%s)", label,
			    n == 0 ? "EOF" : ename(errno));
			break;
		}
		line[strcspn(line, "\n")] = 0;
		say("%s: %s", label, line);
	}
	close(ctl);
}

int listen_on(const char *label, in_addr_t ip, int port, int flags)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int fd, one = 1;

	sin.sin_addr.s_addr = ip;
	fd = socket(AF_INET, SOCK_STREAM | flags, 0);
	if (fd < 0) {
		say("%s socket: -1 %s", label, ename(errno));
		return -1;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		say("%s bind: -1 %s", label, ename(errno));
		close(fd);
		return -1;
	}
	if (listen(fd, 16) < 0) {
		say("%s listen: -1 %s", label, ename(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int accept_wait(const char *label, int lfd, int flags, int ms)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char buf[80];
	int fd;

	if (!(wait_ready(lfd, POLLIN, ms) & POLLIN)) {
		say("%s: timeout", label);
		return -1;
	}
	memset(&ss, 0, sizeof(ss));
	errno = 0;
	fd = accept4(lfd, (struct sockaddr *)&ss, &len, flags);
	say_fd(label, fd, errno);
	if (fd >= 0)
		say("%s addr: %s", label, fmt_sa((struct sockaddr *)&ss, len, buf, sizeof(buf)));
	return fd;
}

/* Distinct results other than "ok" that cb_summary counts; further kinds
 * are not counted. Results are short words: longer ones are cut to fit. */
#define CB_KINDS 8
struct cb_kind {
	char name[24];
	int count;
};

void cb_summary(const char *label, int ctl, int count)
{
	struct cb_kind kinds[CB_KINDS];
	size_t nkinds = 0;
	int ok = 0;
	char line[128], out[256];
	size_t o;

	for (int i = 0; i < count; i++) {
		ssize_t n = read_line(ctl, line, sizeof(line), CONF_WAIT_MS + 2000);
		size_t k;

		if (n <= 0) {
			snprintf(line, sizeof(line), "no-result");
			i = count - 1; /* count it once, then stop */
		}
		line[strcspn(line, "\n")] = 0;
		if (strcmp(line, "ok") == 0) {
			ok++;
			continue;
		}
		line[sizeof(kinds[0].name) - 1] = 0;
		for (k = 0; k < nkinds && strcmp(kinds[k].name, line) != 0; k++)
			;
		if (k == nkinds) {
			if (nkinds == CB_KINDS)
				continue;
			memcpy(kinds[k].name, line, sizeof(kinds[k].name));
			kinds[k].count = 0;
			nkinds++;
		}
		kinds[k].count++;
	}
	close(ctl);
	o = (size_t)snprintf(out, sizeof(out), "ok=%d", ok);
	for (size_t k = 0; k < nkinds && o < sizeof(out); k++)
		o += (size_t)snprintf(out + o, sizeof(out) - o, " %s=%d", kinds[k].name,
				      kinds[k].count);
	say("%s: %s", label, out);
}

/* One whoami line "KEY IP PORT" printed against my own port. */
static void whoami_line(const char *label, const char *line, uint16_t mine)
{
	char key[16], ip[64];
	unsigned port;

	if (sscanf(line, "%15s %63s %u", key, ip, &port) != 3) {
		say("%s: '%s'", label, line);
		return;
	}
	if (strcmp(key, "local") == 0)
		say("%s %s: %s:%u", label, key, ip, port);
	else if (port == mine)
		say("%s %s: %s port=mine", label, key, ip);
	else if (port >= CONF_EPH_MIN)
		say("%s %s: %s port=other-eph", label, key, ip);
	else
		say("%s %s: %s port=%u", label, key, ip, port);
}

void whoami(const char *label, int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char line[128];
	uint16_t mine = 0;

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
		mine = sa_port((struct sockaddr *)&ss);
	for (int i = 0; i < 3; i++) {
		ssize_t n = read_line(fd, line, sizeof(line), CONF_WAIT_MS);

		if (n <= 0) {
			say("%s: %s", label, n == 0 ? "EOF" : ename(errno));
			return;
		}
		line[strcspn(line, "\n")] = 0;
		whoami_line(label, line, mine);
	}
}

uint32_t ep_wait(const char *label, int ep, uint32_t want, int ms)
{
	long long end = now_ms() + ms;
	struct epoll_event ev[8];
	char out[256], evs[64];
	int n = 0;

	for (;;) {
		long long left = end - now_ms();
		bool hit = false;

		n = epoll_wait(ep, ev, 8, left > 0 ? (int)left : 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			say("%s: -1 %s", label, ename(errno));
			return 0;
		}
		for (int i = 0; i < n; i++)
			hit = hit || (ev[i].events & want);
		if (hit)
			break;
		if (left <= 0) {
			size_t o = (size_t)snprintf(out, sizeof(out), "%s: timeout", label);

			for (int i = 0; i < n; i++)
				o +=
				    (size_t)snprintf(out + o, o < sizeof(out) ? sizeof(out) - o : 0,
						     "%s %u=%s", i ? "" : ", last", ev[i].data.u32,
						     fmt_events(ev[i].events, evs, sizeof(evs)));
			say("%s", out);
			return 0;
		}
		/* Level-triggered events we do not wait for (OUT) would
		 * spin: yield a little. */
		if (n > 0)
			usleep(1000);
	}
	{
		size_t o = (size_t)snprintf(out, sizeof(out), "%s:", label);

		for (int i = 0; i < n; i++)
			o += (size_t)snprintf(out + o, o < sizeof(out) ? sizeof(out) - o : 0,
					      " %u=%s", ev[i].data.u32,
					      fmt_events(ev[i].events, evs, sizeof(evs)));
		say("%s", out);
	}
	return ev[0].events;
}

int ep_ctl(const char *label, int ep, int op, int fd, uint32_t events, uint32_t tag)
{
	struct epoll_event ev = {.events = events, .data.u32 = tag};
	int r;

	errno = 0;
	r = epoll_ctl(ep, op, fd, &ev);
	say_ret(label, r, errno);
	return r;
}

int fd_count(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;
}
