/* One exchange per connection: read the request head (at most
 * MH_REQ_MAX bytes), answer, shut down our side, read and drop whatever the
 * client still sends until it closes, close. The drain keeps the kernel
 * from resetting the connection (unread data at close) before the client
 * has read the answer. A timer bounds the whole exchange. Everything is
 * non-blocking on the router's thread, with the calls the sandbox allows
 * (accept4, read, write, shutdown, close). */
#define _GNU_SOURCE /* accept4 */
#include "metrics_http.h"
#include "cluster.h"
#include "daemon.h"
#include "handlers.h"
#include "log.h"
#include "metrics.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ev.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MH_REQ_MAX 4096		 /* request head, bytes */
#define MH_CLIENTS_MAX 8	 /* connections at once; more are closed at accept */
#define MH_TIMEOUT 5.0		 /* seconds for one whole exchange */
#define MH_DRAIN_TIME 1.0	 /* seconds to wait for the client's close */
#define MH_PAUSE 1.0		 /* accept paused this long when out of fds */
#define MH_DRAIN_MAX (64 * 1024) /* bytes dropped while draining, at most */

struct mh_client {
	ev_io w;
	ev_timer t;
	struct metrics_http *m;
	char req[MH_REQ_MAX + 1];
	size_t rlen;
	char *resp; /* malloc'd, while being written */
	size_t len, off;
	size_t drained; /* bytes dropped after the answer */
	bool draining;
	struct mh_client *prev, *next;
};

struct metrics_http {
	struct ev_loop *loop;
	ev_io accept_w;
	ev_timer pause_t;
	int fd;
	struct router *r;
	struct reply_ctx *rc; /* status reply storage, reused by every scrape */
	struct mh_client *clients;
	size_t n;
};

int metrics_addr_parse(const char *spec, struct sockaddr_in *sa, char *err, size_t errlen)
{
	const char *colon = strrchr(spec, ':');
	char addr[INET_ADDRSTRLEN];
	uint16_t port;

	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	if (!colon || (size_t)(colon - spec) >= sizeof(addr) ||
	    cluster_parse_port(colon + 1, &port) != 0)
		goto bad;
	memcpy(addr, spec, (size_t)(colon - spec));
	addr[colon - spec] = '\0';
	if (inet_pton(AF_INET, addr, &sa->sin_addr) != 1)
		goto bad;
	sa->sin_port = htons(port);
	return 0;
bad:
	snprintf(err, errlen, "bad --metrics '%s' (IPv4 ADDR:PORT, e.g. 127.0.0.1:9771)", spec);
	return -1;
}

struct metrics_http *metrics_http_open(const struct sockaddr_in *sa, char *err, size_t errlen)
{
	struct metrics_http *m = calloc(1, sizeof(*m));
	static const int one = 1;
	char where[INET_ADDRSTRLEN + 8];

	snprintf(where, sizeof(where), "%s:%u", ip_str(ntohl(sa->sin_addr.s_addr)),
		 ntohs(sa->sin_port));
	if (m)
		m->rc = malloc(sizeof(*m->rc));
	if (!m || !m->rc) {
		snprintf(err, errlen, "--metrics %s: out of memory", where);
		goto fail_mem;
	}
	m->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (m->fd < 0) {
		snprintf(err, errlen, "--metrics %s: cannot create a TCP socket: %s", where,
			 strerror(errno));
		goto fail_mem;
	}
	if (setsockopt(m->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(m->fd, (const struct sockaddr *)sa, sizeof(*sa)) != 0) {
		snprintf(err, errlen,
			 "--metrics %s: cannot bind: %s (pick a free local address "
			 "and port)",
			 where, strerror(errno));
		goto fail;
	}
	if (listen(m->fd, 16) != 0) {
		snprintf(err, errlen, "--metrics %s: cannot listen: %s", where, strerror(errno));
		goto fail;
	}
	return m;
fail:
	close(m->fd);
fail_mem:
	if (m)
		free(m->rc);
	free(m);
	return NULL;
}

static void client_close(struct mh_client *c)
{
	struct metrics_http *m = c->m;

	ev_io_stop(m->loop, &c->w);
	ev_timer_stop(m->loop, &c->t);
	close(c->w.fd);
	free(c->resp);
	if (c->prev)
		c->prev->next = c->next;
	else
		m->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	m->n--;
	free(c);
}

/* The metrics text from the router's current state, or NULL (ENOMEM). */
static char *scrape(struct metrics_http *m, size_t *len)
{
	struct router *r = m->r;
	struct metrics_counters mc = {
	    .clients = r->clients,
	    .bad_requests = r->bad_requests,
	    .failed_requests = r->failed_requests,
	    .socket_failures = r->socket_failures,
	    .clients_refused = r->clients_refused,
	};
	char *text;

	reply_init(m->rc);
	router_status(r, m->rc);
	text = metrics_render(&m->rc->status, &mc, len);
	reply_done(m->rc);
	return text;
}

/* Sets c->resp to a whole HTTP response: status line, headers, body (the
 * body freed here). Returns 0, or -1 (out of memory: the client is closed
 * without an answer). */
static int respond(struct mh_client *c, const char *status, const char *ctype, const char *extra,
		   char *body, size_t blen)
{
	char head[256];
	int hlen = snprintf(head, sizeof(head),
			    "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s"
			    "Connection: close\r\n\r\n",
			    status, ctype, blen, extra);

	if (hlen < 0 || (size_t)hlen >= sizeof(head)) {
		free(body);
		return -1;
	}
	c->resp = malloc((size_t)hlen + blen);
	if (c->resp) {
		memcpy(c->resp, head, (size_t)hlen);
		memcpy(c->resp + hlen, body, blen);
		c->len = (size_t)hlen + blen;
	}
	free(body);
	return c->resp ? 0 : -1;
}

/* An answer whose body is one line of text. */
static int respond_text(struct mh_client *c, const char *status, const char *extra)
{
	char *body;
	size_t n = strlen(status);

	body = malloc(n + 1);
	if (!body)
		return -1;
	memcpy(body, status, n);
	body[n] = '\n';
	return respond(c, status, "text/plain; charset=utf-8", extra, body, n + 1);
}

/* Answers the request head in c->req (NUL-terminated, complete or cut at
 * MH_REQ_MAX). Returns as respond. */
static int answer(struct mh_client *c, bool complete)
{
	char *line = c->req, *eol, *sp1, *sp2, *body;
	size_t blen;

	if (!complete)
		return respond_text(c, "431 Request Header Fields Too Large", "");
	eol = strchr(line, '\n');
	if (eol > line && eol[-1] == '\r')
		eol--;
	*eol = '\0';
	sp1 = strchr(line, ' ');
	sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
	if (!sp1 || !sp2 || sp1 == line || sp2 == sp1 + 1 || strchr(sp2 + 1, ' ') ||
	    (strcmp(sp2 + 1, "HTTP/1.0") != 0 && strcmp(sp2 + 1, "HTTP/1.1") != 0))
		return respond_text(c, "400 Bad Request", "");
	*sp1 = *sp2 = '\0';
	if (strcmp(line, "GET") != 0)
		return respond_text(c, "405 Method Not Allowed", "Allow: GET\r\n");
	sp1++;
	if (strcmp(sp1, "/metrics") != 0 && strncmp(sp1, "/metrics?", 9) != 0)
		return respond_text(c, "404 Not Found", "");
	body = scrape(c->m, &blen);
	if (!body)
		return respond_text(c, "500 Internal Server Error", "");
	return respond(c, "200 OK", METRICS_CONTENT_TYPE, "", body, blen);
}

/* The end of the request head: a blank line. */
static bool head_complete(const struct mh_client *c)
{
	return strstr(c->req, "\r\n\r\n") || strstr(c->req, "\n\n");
}

/* After the answer: stop sending, wait (briefly) for the client's close. */
static void start_drain(struct mh_client *c)
{
	struct ev_loop *loop = c->m->loop;

	free(c->resp);
	c->resp = NULL;
	c->draining = true;
	(void)shutdown(c->w.fd, SHUT_WR);
	ev_io_stop(loop, &c->w);
	ev_io_set(&c->w, c->w.fd, EV_READ);
	ev_io_start(loop, &c->w);
	ev_timer_stop(loop, &c->t);
	ev_timer_set(&c->t, MH_DRAIN_TIME, 0.);
	ev_timer_start(loop, &c->t);
}

/* Writes what it can of the answer. Returns 0 (done: draining, or waiting
 * for EV_WRITE) or -1 when the client is to be closed. */
static int send_some(struct mh_client *c)
{
	while (c->off < c->len) {
		ssize_t n = write(c->w.fd, c->resp + c->off, c->len - c->off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (!(c->w.events & EV_WRITE)) {
				ev_io_stop(c->m->loop, &c->w);
				ev_io_set(&c->w, c->w.fd, EV_WRITE);
				ev_io_start(c->m->loop, &c->w);
			}
			return 0;
		}
		if (n <= 0)
			return -1;
		c->off += (size_t)n;
	}
	start_drain(c);
	return 0;
}

/* Reads what the client sent; once the head is complete (or too long),
 * answers. Returns 0, or -1 when the client is to be closed. */
static int read_head(struct mh_client *c)
{
	for (;;) {
		size_t room = MH_REQ_MAX - c->rlen;
		ssize_t n;

		if (room == 0)
			break;
		n = read(c->w.fd, c->req + c->rlen, room);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n <= 0)
			return -1; /* closed before asking, or failed */
		/* A NUL would hide the rest of the head from the parser. */
		if (memchr(c->req + c->rlen, '\0', (size_t)n)) {
			if (respond_text(c, "400 Bad Request", "") != 0)
				return -1;
			return send_some(c);
		}
		c->rlen += (size_t)n;
		c->req[c->rlen] = '\0';
		if (head_complete(c))
			break;
	}
	if (answer(c, head_complete(c)) != 0)
		return -1;
	return send_some(c);
}

/* Drops what the client still sends after the answer. Returns 0 while it
 * may send more, -1 when it is time to close. */
static int drain(struct mh_client *c)
{
	char buf[1024];

	for (;;) {
		ssize_t n = read(c->w.fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n <= 0)
			return -1;
		c->drained += (size_t)n;
		if (c->drained > MH_DRAIN_MAX)
			return -1;
	}
}

static void on_client(struct ev_loop *loop, ev_io *w, int revents)
{
	struct mh_client *c = (struct mh_client *)w;
	int rc;

	(void)loop;
	if (c->draining)
		rc = drain(c);
	else if (c->resp)
		rc = revents & EV_WRITE ? send_some(c) : 0;
	else
		rc = read_head(c);
	if (rc != 0)
		client_close(c);
}

static void on_timeout(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct mh_client *c = (struct mh_client *)((char *)t - offsetof(struct mh_client, t));

	(void)loop;
	(void)revents;
	client_close(c);
}

static void on_pause_end(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct metrics_http *m = t->data;

	(void)revents;
	ev_io_start(loop, &m->accept_w);
}

static void on_accept(struct ev_loop *loop, ev_io *w, int revents)
{
	struct metrics_http *m = w->data;

	(void)revents;
	for (int i = 0; i < 16; i++) {
		int fd = accept4(m->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0) {
			/* Out of fds the pending connection would wake us at
			 * once again: wait a while before accepting again. */
			if (errno == EMFILE || errno == ENFILE || errno == ENOMEM ||
			    errno == ENOBUFS) {
				ev_io_stop(loop, &m->accept_w);
				ev_timer_set(&m->pause_t, MH_PAUSE, 0.);
				ev_timer_start(loop, &m->pause_t);
			}
			return;
		}
		struct mh_client *c = m->n < MH_CLIENTS_MAX ? calloc(1, sizeof(*c)) : NULL;
		if (!c) {
			close(fd);
			continue;
		}
		c->m = m;
		c->next = m->clients;
		if (c->next)
			c->next->prev = c;
		m->clients = c;
		m->n++;
		ev_io_init(&c->w, on_client, fd, EV_READ);
		ev_io_start(loop, &c->w);
		ev_timer_init(&c->t, on_timeout, MH_TIMEOUT, 0.);
		ev_timer_start(loop, &c->t);
	}
}

void metrics_http_start(struct metrics_http *m, struct ev_loop *loop, struct router *r)
{
	m->loop = loop;
	m->r = r;
	ev_io_init(&m->accept_w, on_accept, m->fd, EV_READ);
	m->accept_w.data = m;
	ev_timer_init(&m->pause_t, on_pause_end, MH_PAUSE, 0.);
	m->pause_t.data = m;
	ev_io_start(loop, &m->accept_w);
}

void metrics_http_close(struct metrics_http *m)
{
	if (!m)
		return;
	while (m->clients)
		client_close(m->clients);
	if (m->loop) {
		ev_io_stop(m->loop, &m->accept_w);
		ev_timer_stop(m->loop, &m->pause_t);
	}
	close(m->fd);
	free(m->rc);
	free(m);
}
