/* The etcd membership state machine. One sync = grant a lease, read every
 * record under PREFIX/hosts/, check this host against them, claim this
 * host's key (a transaction: it is created, or taken over when it holds
 * this very record, say a restarted router's), hand the live set to the
 * router, then watch from the revision that was read and keep the lease
 * alive. Any failure while running means "etcd lost": keep the routes, say
 * so once, and sync again every second (next endpoint each time). */
#include "etcd_member.h"
#include "etcd_client.h"
#include "etcd_http.h"
#include "host_record.h"
#include "log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ev.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_URLS 8
#define URL_MAX 200
#define STEP_TIMEOUT_MS 3000
#define RETRY_S 1.0
#define CLAIM_TRIES 3

enum phase { PH_IDLE, PH_GRANT, PH_RANGE, PH_CLAIM, PH_READY };

/* A record read from etcd. */
struct rec {
	struct cluster_host h;
	int64_t create_rev, mod_rev;
	bool bad;	    /* undecodable: not a host */
	int64_t logged_rev; /* mod_rev whose problem was logged */
};

struct etcd_member {
	struct ev_loop *loop;
	struct etcd_member_cfg cfg;
	struct ehttp *http;
	char urls[MAX_URLS][URL_MAX];
	size_t nurls, cur;
	char self_key[ETCD_MAX_KEY + 1];
	char *self_value;
	int64_t lease;
	enum phase phase;
	bool starting;	 /* inside etcd_member_start: problems are fatal */
	char fatal[512]; /* set when start must give up */
	size_t start_failures;
	bool lost; /* etcd unreachable (logged once) */
	time_t lost_since;
	bool conflict_logged;
	int claim_tries;
	int64_t claim_mod_rev; /* what the claim expects our key's mod_revision to be */
	int64_t range_rev;
	struct ehttp_req *req; /* the sync step in flight */
	struct ehttp_req *watch;
	struct ehttp_req *ka;
	ev_timer ka_timer, retry_timer;
	struct rec *recs;
	size_t nrecs, caprecs;
	size_t nlive;
	bool leaving_done;
};

static void begin_sync(struct etcd_member *m);
static void lost(struct etcd_member *m, const char *why);

static const char *url(const struct etcd_member *m)
{
	return m->urls[m->cur];
}

/* Posts body (consumed) to the endpoint's path. NULL on failure (errno). */
static struct ehttp_req *post(struct etcd_member *m, const char *path, char *body, long timeout_ms,
			      ehttp_line_fn on_line, ehttp_done_fn done)
{
	char u[URL_MAX + 32];
	struct ehttp_req *r;

	if (!body)
		return NULL;
	snprintf(u, sizeof(u), "%s%s", url(m), path);
	r = ehttp_post(m->http, u, body, timeout_ms, on_line, done, m);
	free(body);
	return r;
}

int etcd_member_check_cfg(const struct etcd_member_cfg *cfg, char *err, size_t errlen)
{
	const char *p = cfg->urls;
	size_t n = 0;

	while (*p) {
		size_t len = strcspn(p, ",");
		char host[URL_MAX], buf[16];
		size_t hl;
		if (len == 0 || len >= URL_MAX || strncmp(p, "http://", 7) != 0 || len == 7) {
			snprintf(err, errlen,
				 "bad --etcd endpoint '%.*s' (expected http://ADDRESS:PORT[,...])",
				 (int)(len > 80 ? 80 : len), p);
			return -1;
		}
		/* An address, not a name: resolving would need a thread and
		 * files the router's sandbox does not allow. */
		hl = strcspn(p + 7, ":/,");
		snprintf(host, sizeof(host), "%.*s", (int)hl, p + 7);
		if (inet_pton(AF_INET, host, buf) != 1) {
			snprintf(err, errlen,
				 "bad --etcd endpoint '%.*s' (give an IPv4 address, not a name: "
				 "http://ADDRESS:PORT)",
				 (int)(len > 80 ? 80 : len), p);
			return -1;
		}
		if (++n > MAX_URLS) {
			snprintf(err, errlen, "too many --etcd endpoints (at most %d)", MAX_URLS);
			return -1;
		}
		p += len;
		if (*p == ',')
			p++;
	}
	if (n == 0) {
		snprintf(err, errlen, "--etcd needs at least one http://ADDRESS:PORT endpoint");
		return -1;
	}
	if (cfg->prefix[0] != '/' || cfg->prefix[strlen(cfg->prefix) - 1] != '/' ||
	    strlen(cfg->prefix) > 200) {
		snprintf(err, errlen, "bad --etcd-prefix '%.80s' (must start and end with '/')",
			 cfg->prefix);
		return -1;
	}
	return 0;
}

/* ---- records ---- */

static struct rec *rec_find(struct etcd_member *m, const char *name)
{
	for (size_t i = 0; i < m->nrecs; i++)
		if (strcmp(m->recs[i].h.name, name) == 0)
			return &m->recs[i];
	return NULL;
}

static void rec_del(struct etcd_member *m, const char *name)
{
	struct rec *r = rec_find(m, name);

	if (r)
		*r = m->recs[--m->nrecs];
}

/* Inserts or replaces the record of kv (a key under the prefix). A record
 * that does not decode is kept as bad (so it is logged once, not at every
 * change). Returns 0, or -1 (ENOMEM). */
static int rec_put(struct etcd_member *m, const struct etcd_kv *kv)
{
	struct cluster_host h;
	char why[200];
	int d = host_record_decode(m->cfg.prefix, kv->key, kv->value, &h, why, sizeof(why));
	struct rec *r;

	if (d == 1)
		return 0; /* not a host record */
	if (d < 0) {
		/* The name part may be bad too: key it by what is there. */
		const char *name = kv->key + strlen(m->cfg.prefix) + strlen("hosts/");
		if (!slim_name_ok(name)) {
			rlog("ignoring etcd key %.100s: %s", kv->key, why);
			return 0;
		}
		snprintf(h.name, sizeof(h.name), "%s", name);
	}
	r = rec_find(m, h.name);
	if (!r) {
		if (m->nrecs == m->caprecs) {
			size_t cap = m->caprecs ? 2 * m->caprecs : 64;
			struct rec *p = realloc(m->recs, cap * sizeof(*p));
			if (!p)
				return -1;
			m->recs = p;
			m->caprecs = cap;
		}
		r = &m->recs[m->nrecs++];
		memset(r, 0, sizeof(*r));
	}
	if (d < 0 && r->logged_rev != kv->mod_revision) {
		rlog("ignoring host %s from etcd: %s", h.name, why);
		r->logged_rev = kv->mod_revision;
	}
	r->h = h;
	r->bad = d < 0;
	r->create_rev = kv->create_revision;
	r->mod_rev = kv->mod_revision;
	return 0;
}

static int by_create_rev(const void *a, const void *b)
{
	const struct rec *x = *(const struct rec *const *)a, *y = *(const struct rec *const *)b;

	if (x->create_rev != y->create_rev)
		return x->create_rev < y->create_rev ? -1 : 1;
	return strcmp(x->h.name, y->h.name);
}

/* The live set: this host, then every good record in the order it was
 * created (so when two records conflict, every router keeps the same,
 * older one). Returns 0, or -1 (ENOMEM). */
static int build_live(struct etcd_member *m, struct cluster *live)
{
	struct rec **order = m->nrecs ? malloc(m->nrecs * sizeof(*order)) : NULL;
	char why[256];
	size_t k = 0;

	memset(live, 0, sizeof(*live));
	if (m->nrecs && !order)
		return -1;
	if (cluster_add(live, &m->cfg.self, why, sizeof(why)) != 0) {
		free(order);
		return -1;
	}
	for (size_t i = 0; i < m->nrecs; i++)
		if (!m->recs[i].bad && strcmp(m->recs[i].h.name, m->cfg.self.name) != 0)
			order[k++] = &m->recs[i];
	if (k)
		qsort(order, k, sizeof(*order), by_create_rev);
	for (size_t i = 0; i < k; i++) {
		struct rec *r = order[i];
		if (cluster_add(live, &r->h, why, sizeof(why)) == 0)
			continue;
		if (strcmp(why, "out of memory") == 0) {
			free(order);
			cluster_free(live);
			return -1;
		}
		if (r->logged_rev != r->mod_rev) {
			rlog("ignoring host %s from etcd: %s", r->h.name, why);
			r->logged_rev = r->mod_rev;
		}
	}
	free(order);
	return 0;
}

/* Hands the live set to the router. */
static void publish(struct etcd_member *m)
{
	struct cluster live;

	if (build_live(m, &live) != 0) {
		rlog("etcd: out of memory building the host list; keeping the current hosts");
		return;
	}
	m->nlive = live.n;
	(void)m->cfg.apply(m->cfg.ctx, &live);
	cluster_free(&live);
}

/* ---- failures ---- */

/* A step failed. Starting: try the next endpoint, give up once every one
 * failed. Running: etcd is lost. */
static void step_failed(struct etcd_member *m, const char *why)
{
	m->req = NULL;
	if (m->starting) {
		if (++m->start_failures >= m->nurls) {
			snprintf(m->fatal, sizeof(m->fatal),
				 "cannot reach etcd at %s: %s (start etcd or fix --etcd)", url(m),
				 why);
			return;
		}
		m->cur = (m->cur + 1) % m->nurls;
		m->lease = 0;
		begin_sync(m);
		return;
	}
	lost(m, why);
}

/* This host cannot join as configured. Starting: fatal. Running (after a
 * loss): said once, then tried again at every retry. */
static void conflict(struct etcd_member *m, const char *why)
{
	m->req = NULL;
	if (m->starting) {
		snprintf(m->fatal, sizeof(m->fatal), "%s", why);
		return;
	}
	if (!m->conflict_logged)
		rlog("cannot publish this host in etcd: %s; retrying", why);
	m->conflict_logged = true;
	m->phase = PH_IDLE;
	ev_timer_stop(m->loop, &m->retry_timer);
	ev_timer_set(&m->retry_timer, 5 * RETRY_S, 0.);
	ev_timer_start(m->loop, &m->retry_timer);
}

static void stop_running(struct etcd_member *m)
{
	ehttp_cancel(m->watch);
	ehttp_cancel(m->ka);
	ehttp_cancel(m->req);
	m->watch = m->ka = m->req = NULL;
	ev_timer_stop(m->loop, &m->ka_timer);
	ev_timer_stop(m->loop, &m->retry_timer);
}

static void lost(struct etcd_member *m, const char *why)
{
	stop_running(m);
	if (!m->lost) {
		m->lost = true;
		m->lost_since = time(NULL);
		rlog("etcd unreachable at %s (%s): serving the last known %zu hosts until it is "
		     "back",
		     url(m), why, m->nlive);
	}
	m->phase = PH_IDLE;
	m->cur = (m->cur + 1) % m->nurls;
	ev_timer_set(&m->retry_timer, RETRY_S, 0.);
	ev_timer_start(m->loop, &m->retry_timer);
}

/* ---- watch ---- */

static void on_watch_line(void *ctx, const char *line, size_t len)
{
	struct etcd_member *m = ctx;
	enum etcd_watch_kind kind;
	struct etcd_event *ev;
	size_t n;
	int64_t rev;
	char why[256];
	bool changed = false, self_gone = false;

	(void)len;
	if (etcd_parse_watch(line, &kind, &ev, &n, &rev, why, sizeof(why)) != 0) {
		lost(m, why);
		return;
	}
	if (kind == ETCD_WATCH_CANCELED) {
		/* Compacted past our revision, or etcd ended it: read all
		 * again (no loss of routes meanwhile). */
		stop_running(m);
		m->phase = PH_IDLE;
		ev_timer_set(&m->retry_timer, 0., 0.);
		ev_timer_start(m->loop, &m->retry_timer);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const struct etcd_kv *kv = &ev[i].kv;
		char name[CLUSTER_NAME_MAX + 1];
		struct cluster_host h;

		if (ev[i].deleted) {
			if (host_record_decode(m->cfg.prefix, kv->key, "{}", &h, why,
					       sizeof(why)) == 1)
				continue;
			snprintf(name, sizeof(name), "%s",
				 kv->key + strlen(m->cfg.prefix) + strlen("hosts/"));
			if (strcmp(name, m->cfg.self.name) == 0)
				self_gone = true;
			rec_del(m, name);
		} else if (rec_put(m, &ev[i].kv) != 0) {
			rlog("etcd: out of memory reading a watch event");
		}
		changed = true;
	}
	free(ev);
	if (changed)
		publish(m);
	if (self_gone) {
		/* Our record went (lease expired while etcd was slow, or an
		 * operator deleted it): publish it again. */
		rlog("this host's record left etcd; publishing it again");
		stop_running(m);
		m->lease = 0;
		m->phase = PH_IDLE;
		ev_timer_set(&m->retry_timer, 0., 0.);
		ev_timer_start(m->loop, &m->retry_timer);
	}
}

static void on_watch_done(void *ctx, int ok, const char *why, const char *body, size_t len)
{
	struct etcd_member *m = ctx;

	(void)body;
	(void)len;
	m->watch = NULL;
	lost(m, ok ? "the watch stream ended" : why);
}

/* ---- keepalive ---- */

static void on_ka_done(void *ctx, int ok, const char *why, const char *body, size_t len)
{
	struct etcd_member *m = ctx;
	int64_t ttl = 0;
	char w[256];

	(void)len;
	m->ka = NULL;
	if (!ok) {
		lost(m, why);
		return;
	}
	if (etcd_parse_keepalive(body, &ttl, w, sizeof(w)) != 0) {
		lost(m, w);
		return;
	}
	if (ttl == 0) {
		rlog("this host's etcd lease expired; publishing the host again");
		stop_running(m);
		m->lease = 0;
		begin_sync(m);
	}
}

static void on_ka_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct etcd_member *m = w->data;

	(void)loop;
	(void)revents;
	if (m->ka || m->phase != PH_READY)
		return;
	m->ka = post(m, "/v3/lease/keepalive", etcd_req_keepalive(m->lease), STEP_TIMEOUT_MS, NULL,
		     on_ka_done);
	if (!m->ka)
		lost(m, "cannot start a keepalive request");
}

/* ---- the sync steps ---- */

static void on_claim_done(void *ctx, int ok, const char *why, const char *body, size_t len);

static void start_claim(struct etcd_member *m)
{
	m->phase = PH_CLAIM;
	m->req = post(m, "/v3/kv/txn",
		      etcd_req_claim(m->self_key, m->self_value, m->lease, m->claim_mod_rev),
		      STEP_TIMEOUT_MS, NULL, on_claim_done);
	if (!m->req)
		step_failed(m, "cannot start a request");
}

static void on_range_done(void *ctx, int ok, const char *why, const char *body, size_t len);

static void start_range(struct etcd_member *m)
{
	m->phase = PH_RANGE;
	m->req = post(m, "/v3/kv/range", etcd_req_range_prefix(m->cfg.prefix), STEP_TIMEOUT_MS,
		      NULL, on_range_done);
	if (!m->req)
		step_failed(m, "cannot start a request");
}

/* Whether our record (already in m->recs, if there) lets us claim the key,
 * and the conflicts with other live hosts. Returns 0 or -1 with why. */
static int check_self(struct etcd_member *m, char *why, size_t whylen)
{
	const struct cluster_host *s = &m->cfg.self;
	struct rec *own = rec_find(m, s->name);
	struct cluster others = {0};
	int rc = 0;

	m->claim_mod_rev = 0;
	if (own) {
		if (own->bad || own->h.underlay_ip != s->underlay_ip ||
		    own->h.subnet != s->subnet || own->h.prefix_len != s->prefix_len ||
		    own->h.port != s->port) {
			snprintf(why, whylen,
				 "host %s is already registered in etcd by a live router (%s%s, "
				 "subnet %s/%u); stop that router or pick another --host",
				 s->name, own->bad ? "unreadable record" : "underlay ",
				 own->bad ? "" : ip_str(own->h.underlay_ip), ip_str(own->h.subnet),
				 own->h.prefix_len);
			return -1;
		}
		/* This very record (a router of this host that restarted
		 * within the lease): take it over. */
		m->claim_mod_rev = own->mod_rev;
	}
	/* Everyone else as the other routers see them, then us. */
	for (size_t i = 0; i < m->nrecs && rc == 0; i++) {
		const struct rec *r = &m->recs[i];
		char w[256];
		if (r->bad || strcmp(r->h.name, s->name) == 0)
			continue;
		if (cluster_add(&others, &r->h, w, sizeof(w)) != 0 &&
		    strcmp(w, "out of memory") == 0)
			rc = -1;
	}
	if (rc == 0 && cluster_add(&others, s, why, whylen) != 0) {
		char w[512];
		snprintf(w, sizeof(w), "%s", why);
		snprintf(why, whylen, "cannot join as host %s: %.300s, registered in etcd", s->name,
			 w);
		rc = -1;
	}
	cluster_free(&others);
	return rc;
}

static void on_range_done(void *ctx, int ok, const char *why, const char *body, size_t len)
{
	struct etcd_member *m = ctx;
	struct etcd_kv *kvs;
	size_t n, skipped;
	int64_t rev;
	char w[512];

	(void)len;
	m->req = NULL;
	if (!ok) {
		step_failed(m, why);
		return;
	}
	if (etcd_parse_range(body, &kvs, &n, &skipped, &rev, w, sizeof(w)) != 0) {
		step_failed(m, w);
		return;
	}
	m->nrecs = 0;
	for (size_t i = 0; i < n; i++)
		if (rec_put(m, &kvs[i]) != 0) {
			free(kvs);
			step_failed(m, "out of memory");
			return;
		}
	free(kvs);
	if (skipped)
		rlog("ignoring %zu etcd keys under %s that are too long", skipped, m->cfg.prefix);
	m->range_rev = rev;
	if (check_self(m, w, sizeof(w)) != 0) {
		conflict(m, w);
		return;
	}
	start_claim(m);
}

static void on_claim_done(void *ctx, int ok, const char *why, const char *body, size_t len)
{
	struct etcd_member *m = ctx;
	struct etcd_kv cur;
	bool put;
	int64_t rev;
	char w[256];

	(void)len;
	m->req = NULL;
	if (!ok) {
		step_failed(m, why);
		return;
	}
	if (etcd_parse_claim(body, &put, &rev, &cur, w, sizeof(w)) != 0) {
		step_failed(m, w);
		return;
	}
	if (!put) {
		/* Someone wrote our key between the read and the claim. */
		if (++m->claim_tries >= CLAIM_TRIES) {
			snprintf(w, sizeof(w),
				 "host %s is being registered in etcd by another router; stop "
				 "it or pick another --host",
				 m->cfg.self.name);
			conflict(m, w);
			return;
		}
		start_range(m);
		return;
	}
	/* Joined. */
	m->claim_tries = 0;
	m->phase = PH_READY;
	m->conflict_logged = false;
	publish(m);
	m->watch = post(m, "/v3/watch", etcd_req_watch_prefix(m->cfg.prefix, m->range_rev + 1), 0,
			on_watch_line, on_watch_done);
	if (!m->watch) {
		step_failed(m, "cannot start the watch");
		return;
	}
	ev_timer_set(&m->ka_timer, (double)m->cfg.ttl / 3.0, (double)m->cfg.ttl / 3.0);
	ev_timer_start(m->loop, &m->ka_timer);
	if (m->lost) {
		rlog("etcd reachable again at %s: %zu hosts (resynchronised)", url(m), m->nlive);
		m->lost = false;
	}
}

static void on_grant_done(void *ctx, int ok, const char *why, const char *body, size_t len)
{
	struct etcd_member *m = ctx;
	int64_t ttl;
	char w[256];

	(void)len;
	m->req = NULL;
	if (!ok) {
		step_failed(m, why);
		return;
	}
	if (etcd_parse_grant(body, &m->lease, &ttl, w, sizeof(w)) != 0) {
		step_failed(m, w);
		return;
	}
	start_range(m);
}

static void begin_sync(struct etcd_member *m)
{
	m->claim_tries = 0;
	if (m->lease) {
		start_range(m);
		return;
	}
	m->phase = PH_GRANT;
	m->req = post(m, "/v3/lease/grant", etcd_req_grant(m->cfg.ttl), STEP_TIMEOUT_MS, NULL,
		      on_grant_done);
	if (!m->req)
		step_failed(m, "cannot start a request");
}

static void on_retry(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct etcd_member *m = w->data;

	(void)loop;
	(void)revents;
	if (m->phase != PH_IDLE)
		return;
	/* After a loss the old lease may have expired; a new one costs a
	 * request and is always right (the claim moves our key onto it). */
	m->lease = 0;
	begin_sync(m);
}

/* ---- life cycle ---- */

static void on_deadline(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
}

struct etcd_member *etcd_member_start(struct ev_loop *loop, const struct etcd_member_cfg *cfg,
				      double timeout_s, char *err, size_t errlen)
{
	struct etcd_member *m;
	ev_timer deadline;
	ev_tstamp end, t0;
	const char *p;

	if (etcd_member_check_cfg(cfg, err, errlen) != 0)
		return NULL;
	m = calloc(1, sizeof(*m));
	if (!m) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	m->loop = loop;
	m->cfg = *cfg;
	for (p = cfg->urls; *p && m->nurls < MAX_URLS;) {
		size_t len = strcspn(p, ",");
		snprintf(m->urls[m->nurls++], URL_MAX, "%.*s", (int)len, p);
		/* "http://a:1/" and "http://a:1" alike. */
		size_t ul = strlen(m->urls[m->nurls - 1]);
		if (ul && m->urls[m->nurls - 1][ul - 1] == '/')
			m->urls[m->nurls - 1][ul - 1] = '\0';
		p += len;
		if (*p == ',')
			p++;
	}
	m->self_value = host_record_encode(&cfg->self);
	m->http = ehttp_new(loop, err, errlen);
	if (!m->self_value || !m->http ||
	    host_record_key(cfg->prefix, cfg->self.name, m->self_key, sizeof(m->self_key))) {
		if (m->http)
			snprintf(err, errlen, "out of memory");
		etcd_member_free(m);
		return NULL;
	}
	ev_timer_init(&m->ka_timer, on_ka_timer, 1., 1.);
	m->ka_timer.data = m;
	ev_timer_init(&m->retry_timer, on_retry, RETRY_S, 0.);
	m->retry_timer.data = m;

	m->starting = true;
	ev_now_update(loop);
	t0 = ev_now(loop);
	begin_sync(m);
	end = ev_now(loop) + timeout_s;
	ev_timer_init(&deadline, on_deadline, timeout_s, 0.);
	ev_timer_start(loop, &deadline);
	while (m->phase != PH_READY && !m->fatal[0] && ev_now(loop) < end)
		ev_run(loop, EVRUN_ONCE);
	ev_timer_stop(loop, &deadline);
	m->starting = false;
	if (m->phase != PH_READY) {
		if (m->fatal[0])
			snprintf(err, errlen, "%s", m->fatal);
		else
			snprintf(err, errlen,
				 "etcd at %s did not answer within %.0f s (start etcd or fix "
				 "--etcd)",
				 url(m), timeout_s);
		etcd_member_free(m);
		return NULL;
	}
	ev_now_update(loop);
	rlog("joined the cluster in etcd at %s (prefix %s, lease %llds): %zu hosts in %.0f ms",
	     url(m), cfg->prefix, (long long)cfg->ttl, m->nlive, (ev_now(loop) - t0) * 1000);
	return m;
}

void etcd_member_status(const struct etcd_member *m, char *buf, size_t len)
{
	if (!m->lost) {
		snprintf(buf, len, "etcd %s (prefix %s): %zu hosts", url(m), m->cfg.prefix,
			 m->nlive);
		return;
	}
	struct tm tm;
	char when[32];
	localtime_r(&m->lost_since, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	snprintf(buf, len,
		 "etcd %s (prefix %s): unreachable since %s (%lld s): serving the last known %zu "
		 "hosts",
		 url(m), m->cfg.prefix, when, (long long)(time(NULL) - m->lost_since), m->nlive);
}

static void on_revoke_done(void *ctx, int ok, const char *why, const char *body, size_t len)
{
	struct etcd_member *m = ctx;

	(void)body;
	(void)len;
	m->req = NULL;
	m->leaving_done = true;
	if (ok)
		rlog("left the cluster in etcd (lease revoked)");
	else
		rlog("could not leave the cluster in etcd (%s): this host's record expires in %lld "
		     "s",
		     why, (long long)m->cfg.ttl);
}

void etcd_member_leave(struct etcd_member *m, double timeout_s)
{
	ev_timer deadline;
	ev_tstamp end;

	if (!m)
		return;
	stop_running(m);
	if (m->lease && !m->lost) {
		m->req = post(m, "/v3/lease/revoke", etcd_req_revoke(m->lease),
			      (long)(timeout_s * 1000), NULL, on_revoke_done);
		end = ev_now(m->loop) + timeout_s;
		ev_timer_init(&deadline, on_deadline, timeout_s, 0.);
		ev_timer_start(m->loop, &deadline);
		while (m->req && !m->leaving_done && ev_now(m->loop) < end)
			ev_run(m->loop, EVRUN_ONCE);
		ev_timer_stop(m->loop, &deadline);
	}
	etcd_member_free(m);
}

void etcd_member_free(struct etcd_member *m)
{
	if (!m)
		return;
	if (m->loop) {
		ev_timer_stop(m->loop, &m->ka_timer);
		ev_timer_stop(m->loop, &m->retry_timer);
	}
	ehttp_free(m->http);
	free(m->self_value);
	free(m->recs);
	free(m);
}
