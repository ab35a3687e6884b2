/* Bodies and replies of etcd's v3 JSON gateway. */
#include "etcd_client.h"

#include <errno.h>
#include <json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void etcd_b64_encode(const unsigned char *in, size_t n, char *out)
{
	size_t i = 0;

	for (; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		*out++ = b64[v >> 18];
		*out++ = b64[(v >> 12) & 63];
		*out++ = b64[(v >> 6) & 63];
		*out++ = b64[v & 63];
	}
	if (i < n) {
		uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0);
		*out++ = b64[v >> 18];
		*out++ = b64[(v >> 12) & 63];
		*out++ = i + 1 < n ? b64[(v >> 6) & 63] : '=';
		*out++ = '=';
	}
	*out = '\0';
}

static int b64_val(char c)
{
	const char *p = c ? strchr(b64, c) : NULL;

	return p ? (int)(p - b64) : -1;
}

long etcd_b64_decode(const char *in, unsigned char *out, size_t outlen)
{
	size_t n = strlen(in), k = 0;

	if (n % 4)
		return -1;
	for (size_t i = 0; i < n; i += 4) {
		int a = b64_val(in[i]), b = b64_val(in[i + 1]);
		int c = in[i + 2] == '=' ? -2 : b64_val(in[i + 2]);
		int d = in[i + 3] == '=' ? -2 : b64_val(in[i + 3]);
		bool last = i + 4 == n;

		if (a < 0 || b < 0 || c == -1 || d == -1 || (c == -2 && d != -2) ||
		    ((c == -2 || d == -2) && !last))
			return -1;
		uint32_t v = (uint32_t)a << 18 | (uint32_t)b << 12 |
			     (uint32_t)(c < 0 ? 0 : c) << 6 | (uint32_t)(d < 0 ? 0 : d);
		size_t m = c < 0 ? 1 : d < 0 ? 2 : 3;
		if (k + m > outlen)
			return -1;
		out[k++] = (unsigned char)(v >> 16);
		if (m > 1)
			out[k++] = (unsigned char)(v >> 8);
		if (m > 2)
			out[k++] = (unsigned char)v;
	}
	if (k < outlen)
		out[k] = '\0';
	return (long)k;
}

/* A new JSON string holding base64(s). */
static json_object *b64_str(const char *s, size_t n)
{
	char *buf = malloc(4 * ((n + 2) / 3) + 1);
	json_object *o;

	if (!buf)
		return NULL;
	etcd_b64_encode((const unsigned char *)s, n, buf);
	o = json_object_new_string(buf);
	free(buf);
	return o;
}

/* int64 fields travel as decimal strings. */
static json_object *i64_str(int64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%lld", (long long)v);
	return json_object_new_string(buf);
}

/* The key just past every key that starts with prefix (etcd's range_end
 * for a prefix): prefix with its last byte plus one. */
static json_object *prefix_end(const char *prefix)
{
	size_t n = strlen(prefix);
	char *end = strdup(prefix);
	json_object *o;

	if (!end)
		return NULL;
	while (n > 0 && (unsigned char)end[n - 1] == 0xff)
		n--;
	if (n == 0) {
		free(end);
		return b64_str("\0", 1); /* every key */
	}
	end[n - 1] = (char)((unsigned char)end[n - 1] + 1);
	o = b64_str(end, n);
	free(end);
	return o;
}

/* Serialises o (consumed) into a new string; NULL if o is NULL. */
static char *done(json_object *o)
{
	char *s = NULL;

	if (o)
		s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	if (!s)
		errno = ENOMEM;
	return s;
}

static void add(json_object *o, const char *k, json_object *v)
{
	json_object_object_add(o, k, v);
}

char *etcd_req_grant(int64_t ttl)
{
	json_object *o = json_object_new_object();

	add(o, "TTL", i64_str(ttl));
	return done(o);
}

char *etcd_req_keepalive(int64_t lease)
{
	json_object *o = json_object_new_object();

	add(o, "ID", i64_str(lease));
	return done(o);
}

char *etcd_req_revoke(int64_t lease)
{
	return etcd_req_keepalive(lease); /* the same body: {"ID": lease} */
}

char *etcd_req_range_prefix(const char *prefix)
{
	json_object *o = json_object_new_object();

	add(o, "key", b64_str(prefix, strlen(prefix)));
	add(o, "range_end", prefix_end(prefix));
	return done(o);
}

char *etcd_req_claim(const char *key, const char *value, int64_t lease, int64_t mod_revision)
{
	json_object *o = json_object_new_object(), *cmp = json_object_new_object();
	json_object *put = json_object_new_object(), *rput = json_object_new_object();
	json_object *get = json_object_new_object(), *rget = json_object_new_object();
	json_object *ca = json_object_new_array(), *sa = json_object_new_array();
	json_object *fa = json_object_new_array();

	add(cmp, "key", b64_str(key, strlen(key)));
	add(cmp, "target", json_object_new_string("MOD"));
	add(cmp, "result", json_object_new_string("EQUAL"));
	add(cmp, "mod_revision", i64_str(mod_revision));
	json_object_array_add(ca, cmp);
	add(put, "key", b64_str(key, strlen(key)));
	add(put, "value", b64_str(value, strlen(value)));
	add(put, "lease", i64_str(lease));
	add(rput, "request_put", put);
	json_object_array_add(sa, rput);
	add(get, "key", b64_str(key, strlen(key)));
	add(rget, "request_range", get);
	json_object_array_add(fa, rget);
	add(o, "compare", ca);
	add(o, "success", sa);
	add(o, "failure", fa);
	return done(o);
}

char *etcd_req_delete_if_lease(const char *key, int64_t lease)
{
	json_object *o = json_object_new_object(), *cmp = json_object_new_object();
	json_object *del = json_object_new_object(), *rdel = json_object_new_object();
	json_object *ca = json_object_new_array(), *sa = json_object_new_array();

	add(cmp, "key", b64_str(key, strlen(key)));
	add(cmp, "target", json_object_new_string("LEASE"));
	add(cmp, "result", json_object_new_string("EQUAL"));
	add(cmp, "lease", i64_str(lease));
	json_object_array_add(ca, cmp);
	add(del, "key", b64_str(key, strlen(key)));
	add(rdel, "request_delete_range", del);
	json_object_array_add(sa, rdel);
	add(o, "compare", ca);
	add(o, "success", sa);
	return done(o);
}

char *etcd_req_watch_prefix(const char *prefix, int64_t start)
{
	json_object *o = json_object_new_object(), *c = json_object_new_object();

	add(c, "key", b64_str(prefix, strlen(prefix)));
	add(c, "range_end", prefix_end(prefix));
	add(c, "start_revision", i64_str(start));
	add(c, "prev_kv", json_object_new_boolean(1));
	add(o, "create_request", c);
	return done(o);
}

/* ---- replies ---- */

/* Parses body as a JSON object with bounded nesting. NULL with why. */
static json_object *parse(const char *body, char *why, size_t whylen)
{
	struct json_tokener *t = json_tokener_new_ex(16);
	json_object *o;

	if (!t) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	o = json_tokener_parse_ex(t, body, (int)strnlen(body, (size_t)1 << 30));
	if (!o || json_tokener_get_error(t) != json_tokener_success ||
	    !json_object_is_type(o, json_type_object)) {
		snprintf(why, whylen, "etcd sent a reply that is not a JSON object");
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(t);
	return o;
}

static json_object *field(json_object *o, const char *k)
{
	json_object *v = NULL;

	return o && json_object_object_get_ex(o, k, &v) ? v : NULL;
}

/* An int64 field: a decimal string or a JSON integer; missing is 0.
 * Returns 0, or -1 when it is there but not a number. */
static int i64_field(json_object *o, const char *k, int64_t *out)
{
	json_object *v = field(o, k);
	const char *s;
	char *end;
	long long x;

	*out = 0;
	if (!v)
		return 0;
	if (json_object_is_type(v, json_type_int)) {
		*out = json_object_get_int64(v);
		return 0;
	}
	if (!json_object_is_type(v, json_type_string))
		return -1;
	s = json_object_get_string(v);
	if (!*s || strlen(s) > 20)
		return -1;
	errno = 0;
	x = strtoll(s, &end, 10);
	if (errno || *end)
		return -1;
	*out = x;
	return 0;
}

/* etcd's error object, if the reply is one: {"error": ..., "message": ...}
 * or {"error": {"message": ...}} (streams). Returns true and fills why. */
static bool is_error(json_object *o, char *why, size_t whylen)
{
	json_object *e = field(o, "error"), *m;

	if (!e)
		return false;
	m = json_object_is_type(e, json_type_object) ? field(e, "message") : field(o, "message");
	snprintf(why, whylen, "etcd: %.200s",
		 m && json_object_is_type(m, json_type_string) ? json_object_get_string(m)
							       : "error");
	return true;
}

static int bad(json_object *o, char *why, size_t whylen, const char *what)
{
	snprintf(why, whylen, "etcd sent a malformed %s reply", what);
	json_object_put(o);
	return -1;
}

int etcd_parse_grant(const char *body, int64_t *lease, int64_t *ttl, char *why, size_t whylen)
{
	json_object *o = parse(body, why, whylen);

	if (!o)
		return -1;
	if (is_error(o, why, whylen)) {
		json_object_put(o);
		return -1;
	}
	if (i64_field(o, "ID", lease) || i64_field(o, "TTL", ttl) || *lease == 0 || *ttl <= 0)
		return bad(o, why, whylen, "lease grant");
	json_object_put(o);
	return 0;
}

int etcd_parse_keepalive(const char *body, int64_t *ttl, char *why, size_t whylen)
{
	json_object *o = parse(body, why, whylen), *r;

	if (!o)
		return -1;
	if (is_error(o, why, whylen)) {
		json_object_put(o);
		return -1;
	}
	r = field(o, "result");
	if (!r || !json_object_is_type(r, json_type_object) || i64_field(r, "TTL", ttl) || *ttl < 0)
		return bad(o, why, whylen, "lease keepalive");
	json_object_put(o);
	return 0;
}

/* Decodes a base64 field into out (n bytes of room, NUL-terminated).
 * Missing is "". Returns 0, 1 if it does not fit, -1 if malformed. */
static int b64_field(json_object *o, const char *k, char *out, size_t n)
{
	json_object *v = field(o, k);
	long len;

	out[0] = '\0';
	if (!v)
		return 0;
	if (!json_object_is_type(v, json_type_string))
		return -1;
	if (strlen(json_object_get_string(v)) > 4 * ((n + 2) / 3) + 4)
		return 1;
	len = etcd_b64_decode(json_object_get_string(v), (unsigned char *)out, n);
	if (len < 0)
		return 1;
	if ((size_t)len >= n || memchr(out, '\0', (size_t)len))
		return 1; /* no room for the NUL, or not text */
	out[len] = '\0';
	return 0;
}

/* Reads one kv object. Returns 0, 1 to skip it (too big), -1 malformed. */
static int read_kv(json_object *o, struct etcd_kv *kv)
{
	int k, v;

	if (!o || !json_object_is_type(o, json_type_object))
		return -1;
	memset(kv, 0, sizeof(*kv));
	k = b64_field(o, "key", kv->key, sizeof(kv->key));
	v = b64_field(o, "value", kv->value, sizeof(kv->value));
	if (k < 0 || v < 0 || i64_field(o, "create_revision", &kv->create_revision) ||
	    i64_field(o, "mod_revision", &kv->mod_revision) || i64_field(o, "lease", &kv->lease))
		return -1;
	return k || v ? 1 : 0;
}

/* header.revision of a reply. */
static int revision_of(json_object *o, int64_t *rev)
{
	json_object *h = field(o, "header");

	*rev = 0;
	return h && json_object_is_type(h, json_type_object) ? i64_field(h, "revision", rev) : -1;
}

/* Reads the kvs array of o into a new array. Returns 0 or -1. */
static int read_kvs(json_object *o, struct etcd_kv **kvs, size_t *n, size_t *skipped)
{
	json_object *a = field(o, "kvs");
	size_t len;

	*kvs = NULL;
	*n = 0;
	*skipped = 0;
	if (!a)
		return 0; /* no keys: the field is left out */
	if (!json_object_is_type(a, json_type_array))
		return -1;
	len = json_object_array_length(a);
	if (len == 0)
		return 0;
	*kvs = calloc(len, sizeof(**kvs));
	if (!*kvs)
		return -1;
	for (size_t i = 0; i < len; i++) {
		int r = read_kv(json_object_array_get_idx(a, i), &(*kvs)[*n]);
		if (r < 0) {
			free(*kvs);
			*kvs = NULL;
			*n = 0;
			return -1;
		}
		if (r > 0)
			(*skipped)++;
		else
			(*n)++;
	}
	return 0;
}

int etcd_parse_range(const char *body, struct etcd_kv **kvs, size_t *n, size_t *skipped,
		     int64_t *revision, char *why, size_t whylen)
{
	json_object *o = parse(body, why, whylen);

	*kvs = NULL;
	*n = 0;
	if (!o)
		return -1;
	if (is_error(o, why, whylen)) {
		json_object_put(o);
		return -1;
	}
	if (revision_of(o, revision) || *revision <= 0 || read_kvs(o, kvs, n, skipped))
		return bad(o, why, whylen, "range");
	json_object_put(o);
	return 0;
}

int etcd_parse_claim(const char *body, bool *ok, int64_t *revision, struct etcd_kv *cur, char *why,
		     size_t whylen)
{
	json_object *o = parse(body, why, whylen), *s, *resp, *r0, *rr;
	struct etcd_kv *kvs = NULL;
	size_t n = 0, skipped = 0;

	memset(cur, 0, sizeof(*cur));
	if (!o)
		return -1;
	if (is_error(o, why, whylen)) {
		json_object_put(o);
		return -1;
	}
	s = field(o, "succeeded");
	*ok = s && json_object_is_type(s, json_type_boolean) && json_object_get_boolean(s);
	if (revision_of(o, revision) || *revision <= 0)
		return bad(o, why, whylen, "transaction");
	if (*ok) {
		json_object_put(o);
		return 0;
	}
	resp = field(o, "responses");
	r0 = resp && json_object_is_type(resp, json_type_array) &&
		     json_object_array_length(resp) == 1
		 ? json_object_array_get_idx(resp, 0)
		 : NULL;
	rr = field(r0, "response_range");
	if (!rr || !json_object_is_type(rr, json_type_object) || read_kvs(rr, &kvs, &n, &skipped))
		return bad(o, why, whylen, "transaction");
	if (n == 1)
		*cur = kvs[0];
	else if (skipped)
		cur->mod_revision = -1; /* there, but unreadable */
	free(kvs);
	json_object_put(o);
	return 0;
}

int etcd_parse_watch(const char *line, enum etcd_watch_kind *kind, struct etcd_event **ev,
		     size_t *n, int64_t *revision, char *why, size_t whylen)
{
	json_object *o = parse(line, why, whylen), *r, *a, *c;
	size_t len;

	*ev = NULL;
	*n = 0;
	*revision = 0;
	if (!o)
		return -1;
	if (is_error(o, why, whylen)) {
		json_object_put(o);
		return -1;
	}
	r = field(o, "result");
	if (!r || !json_object_is_type(r, json_type_object))
		return bad(o, why, whylen, "watch");
	(void)revision_of(r, revision);
	c = field(r, "canceled");
	if (c && json_object_get_boolean(c)) {
		*kind = ETCD_WATCH_CANCELED;
		json_object_put(o);
		return 0;
	}
	c = field(r, "created");
	if (c && json_object_get_boolean(c)) {
		*kind = ETCD_WATCH_CREATED;
		json_object_put(o);
		return 0;
	}
	*kind = ETCD_WATCH_EVENTS;
	a = field(r, "events");
	if (!a) {
		json_object_put(o);
		return 0;
	}
	if (!json_object_is_type(a, json_type_array))
		return bad(o, why, whylen, "watch");
	len = json_object_array_length(a);
	if (len) {
		*ev = calloc(len, sizeof(**ev));
		if (!*ev)
			return bad(o, why, whylen, "watch");
	}
	for (size_t i = 0; i < len; i++) {
		json_object *e = json_object_array_get_idx(a, i), *t = field(e, "type");
		struct etcd_event *x = &(*ev)[*n];
		int rk;

		if (!e || !json_object_is_type(e, json_type_object) ||
		    (t && !json_object_is_type(t, json_type_string))) {
			free(*ev);
			*ev = NULL;
			*n = 0;
			return bad(o, why, whylen, "watch");
		}
		x->deleted = t && strcmp(json_object_get_string(t), "DELETE") == 0;
		if (t && !x->deleted && strcmp(json_object_get_string(t), "PUT") != 0)
			continue; /* an event type of a newer etcd: not ours */
		rk = read_kv(field(e, "kv"), &x->kv);
		if (rk < 0) {
			free(*ev);
			*ev = NULL;
			*n = 0;
			return bad(o, why, whylen, "watch");
		}
		if (rk == 0)
			(*n)++;
	}
	json_object_put(o);
	return 0;
}
