/* libcurl multi <-> libev glue. libcurl says which sockets to watch
 * (CURLMOPT_SOCKETFUNCTION) and when to call it back
 * (CURLMOPT_TIMERFUNCTION); libev tells libcurl when a socket is ready or
 * the timer fired (curl_multi_socket_action), and finished transfers are
 * collected with curl_multi_info_read. Every callback runs on the router's
 * thread. */
#include "etcd_http.h"

#include <curl/curl.h>
#include <errno.h>
#include <ev.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ehttp {
	struct ev_loop *loop;
	CURLM *multi;
	ev_timer timer;
	struct ehttp_req *reqs; /* in flight, linked */
	int busy;		/* inside curl_multi_socket_action: handles cannot be removed */
};

struct ehttp_req {
	struct ehttp *h;
	CURL *easy;
	struct curl_slist *hdrs;
	char *body_out; /* request body, owned */
	char *buf;	/* response (or the current partial line) */
	size_t len, cap;
	bool too_big;
	bool cancelled; /* freed once curl is done with it */
	ehttp_line_fn on_line;
	ehttp_done_fn done;
	void *ctx;
	char errbuf[CURL_ERROR_SIZE];
	struct ehttp_req *next;
};

/* One libev watcher per socket curl uses. */
struct sock_watch {
	ev_io io;
	struct ehttp *h;
};

static void check_done(struct ehttp *h);
static void req_free(struct ehttp_req *r);

/* Lets curl act on fd (or its timeouts), then collects what finished and
 * frees what was cancelled meanwhile. */
static void drive(struct ehttp *h, curl_socket_t fd, int action)
{
	int running;

	h->busy++;
	curl_multi_socket_action(h->multi, fd, action, &running);
	h->busy--;
	check_done(h);
	for (struct ehttp_req *r = h->reqs, *next; r; r = next) {
		next = r->next;
		if (r->cancelled)
			req_free(r);
	}
}

static void on_io(struct ev_loop *loop, ev_io *w, int revents)
{
	struct sock_watch *sw = (struct sock_watch *)w;
	int action =
	    (revents & EV_READ ? CURL_CSELECT_IN : 0) | (revents & EV_WRITE ? CURL_CSELECT_OUT : 0);

	(void)loop;
	drive(sw->h, w->fd, action);
}

static void on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	drive(w->data, CURL_SOCKET_TIMEOUT, 0);
}

/* CURLMOPT_SOCKETFUNCTION: start, change or stop watching s. */
static int sock_cb(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct ehttp *h = userp;
	struct sock_watch *sw = socketp;
	int events = (what & CURL_POLL_IN ? EV_READ : 0) | (what & CURL_POLL_OUT ? EV_WRITE : 0);

	(void)e;
	if (what == CURL_POLL_REMOVE) {
		if (sw) {
			ev_io_stop(h->loop, &sw->io);
			free(sw);
			curl_multi_assign(h->multi, s, NULL);
		}
		return 0;
	}
	if (!sw) {
		sw = calloc(1, sizeof(*sw));
		if (!sw)
			return -1; /* curl fails the transfer */
		sw->h = h;
		curl_multi_assign(h->multi, s, sw);
	} else {
		ev_io_stop(h->loop, &sw->io);
	}
	ev_io_init(&sw->io, on_io, s, events);
	ev_io_start(h->loop, &sw->io);
	return 0;
}

/* CURLMOPT_TIMERFUNCTION: -1 stops the timer, else fire in ms. */
static int timer_cb(CURLM *m, long ms, void *userp)
{
	struct ehttp *h = userp;

	(void)m;
	ev_timer_stop(h->loop, &h->timer);
	if (ms >= 0) {
		ev_timer_set(&h->timer, (double)ms / 1000.0, 0.);
		ev_timer_start(h->loop, &h->timer);
	}
	return 0;
}

/* Appends n bytes to r->buf (NUL-terminated). Returns false when it would
 * exceed EHTTP_MAX_BODY or memory is short. */
static bool append(struct ehttp_req *r, const char *p, size_t n)
{
	if (r->len + n + 1 > EHTTP_MAX_BODY)
		return false;
	if (r->len + n + 1 > r->cap) {
		size_t cap = r->cap ? r->cap : 4096;
		while (cap < r->len + n + 1)
			cap *= 2;
		char *b = realloc(r->buf, cap);
		if (!b)
			return false;
		r->buf = b;
		r->cap = cap;
	}
	memcpy(r->buf + r->len, p, n);
	r->len += n;
	r->buf[r->len] = '\0';
	return true;
}

/* CURLOPT_WRITEFUNCTION: keep the body, or hand complete lines over. */
static size_t write_cb(char *p, size_t size, size_t nmemb, void *userp)
{
	struct ehttp_req *r = userp;
	size_t n = size * nmemb;

	if (r->cancelled)
		return 0; /* aborts the transfer */
	if (!append(r, p, n)) {
		r->too_big = true;
		return 0;
	}
	if (!r->on_line)
		return n;
	for (;;) {
		char *nl = memchr(r->buf, '\n', r->len);
		size_t ll;
		if (!nl)
			break;
		*nl = '\0';
		ll = (size_t)(nl - r->buf);
		if (ll)
			r->on_line(r->ctx, r->buf, ll);
		if (r->cancelled)
			return 0;
		memmove(r->buf, nl + 1, r->len - ll - 1);
		r->len -= ll + 1;
		r->buf[r->len] = '\0';
	}
	return n;
}

static void req_free(struct ehttp_req *r)
{
	struct ehttp *h = r->h;

	for (struct ehttp_req **pp = &h->reqs; *pp; pp = &(*pp)->next)
		if (*pp == r) {
			*pp = r->next;
			break;
		}
	curl_multi_remove_handle(h->multi, r->easy);
	curl_easy_cleanup(r->easy);
	curl_slist_free_all(r->hdrs);
	free(r->body_out);
	free(r->buf);
	free(r);
}

/* Collects finished transfers and calls their done callbacks (outside any
 * curl callback, so they may start and cancel requests). */
static void check_done(struct ehttp *h)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(h->multi, &left))) {
		struct ehttp_req *r = NULL;
		char why[CURL_ERROR_SIZE + 64];
		long status = 0;
		int ok;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
		if (!r || r->cancelled)
			continue; /* freed by drive */
		curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
		ok = m->data.result == CURLE_OK && status == 200 && !r->too_big;
		if (r->too_big)
			snprintf(why, sizeof(why), "response larger than %u bytes", EHTTP_MAX_BODY);
		else if (m->data.result != CURLE_OK)
			snprintf(why, sizeof(why), "%s",
				 r->errbuf[0] ? r->errbuf : curl_easy_strerror(m->data.result));
		else if (status != 200)
			snprintf(why, sizeof(why), "HTTP status %ld", status);
		else
			why[0] = '\0';
		/* Done is called once; cancelling itself from it is a no-op. */
		r->cancelled = true;
		r->done(r->ctx, ok, why, r->buf ? r->buf : "", r->on_line || !r->buf ? 0 : r->len);
		req_free(r);
	}
}

struct ehttp *ehttp_new(struct ev_loop *loop, char *err, size_t errlen)
{
	struct ehttp *h = calloc(1, sizeof(*h));

	if (!h || curl_global_init(CURL_GLOBAL_NOTHING) != CURLE_OK ||
	    !(h->multi = curl_multi_init())) {
		snprintf(err, errlen, "cannot set up libcurl for etcd");
		free(h);
		return NULL;
	}
	h->loop = loop;
	ev_timer_init(&h->timer, on_timer, 0., 0.);
	h->timer.data = h;
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
	return h;
}

struct ehttp_req *ehttp_post(struct ehttp *h, const char *url, const char *body, long timeout_ms,
			     ehttp_line_fn on_line, ehttp_done_fn done, void *ctx)
{
	struct ehttp_req *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->h = h;
	r->on_line = on_line;
	r->done = done;
	r->ctx = ctx;
	r->body_out = strdup(body);
	r->easy = curl_easy_init();
	r->hdrs = curl_slist_append(NULL, "Content-Type: application/json");
	if (!r->body_out || !r->easy || !r->hdrs) {
		curl_easy_cleanup(r->easy);
		curl_slist_free_all(r->hdrs);
		free(r->body_out);
		free(r);
		errno = ENOMEM;
		return NULL;
	}
	curl_easy_setopt(r->easy, CURLOPT_URL, url);
	/* http only: the router's sandbox has no file access for TLS
	 * certificates, and etcd endpoints are addresses (no resolver thread). */
	curl_easy_setopt(r->easy, CURLOPT_PROTOCOLS_STR, "http");
	curl_easy_setopt(r->easy, CURLOPT_POSTFIELDS, r->body_out);
	curl_easy_setopt(r->easy, CURLOPT_HTTPHEADER, r->hdrs);
	curl_easy_setopt(r->easy, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(r->easy, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(r->easy, CURLOPT_PRIVATE, r);
	curl_easy_setopt(r->easy, CURLOPT_ERRORBUFFER, r->errbuf);
	curl_easy_setopt(r->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(r->easy, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
	curl_easy_setopt(r->easy, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(r->easy, CURLOPT_NOPROXY, "*");
	/* A stream that goes silent (etcd gone without a FIN) is noticed by
	 * the keepalive requests failing; TCP keepalive backs that up. */
	curl_easy_setopt(r->easy, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(r->easy, CURLOPT_TCP_KEEPIDLE, 5L);
	curl_easy_setopt(r->easy, CURLOPT_TCP_KEEPINTVL, 2L);
	if (curl_multi_add_handle(h->multi, r->easy) != CURLM_OK) {
		curl_easy_cleanup(r->easy);
		curl_slist_free_all(r->hdrs);
		free(r->body_out);
		free(r);
		errno = EIO;
		return NULL;
	}
	r->next = h->reqs;
	h->reqs = r;
	return r;
}

void ehttp_cancel(struct ehttp_req *r)
{
	if (!r || r->cancelled)
		return;
	r->cancelled = true;
	/* Inside curl (a line callback) the handle cannot be removed yet:
	 * drive frees it when curl returns. */
	if (!r->h->busy)
		req_free(r);
}

void ehttp_free(struct ehttp *h)
{
	if (!h)
		return;
	while (h->reqs)
		req_free(h->reqs);
	ev_timer_stop(h->loop, &h->timer);
	curl_multi_cleanup(h->multi);
	free(h);
}
