/* Live hosts and gone subnets: the set difference between the hosts the
 * router routes to and the live set it is told about. */
#include "membership.h"
#include "log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static bool same_subnet(const struct cluster_host *a, const struct cluster_host *b)
{
	return a->subnet == b->subnet && a->prefix_len == b->prefix_len;
}

static bool same_record(const struct cluster_host *a, const struct cluster_host *b)
{
	return same_subnet(a, b) && a->underlay_ip == b->underlay_ip && a->port == b->port;
}

static bool overlaps(const struct cluster_host *a, const struct cluster_host *b)
{
	unsigned shorter = a->prefix_len < b->prefix_len ? a->prefix_len : b->prefix_len;
	uint32_t m = slim_prefix_mask(shorter);

	return (a->subnet & m) == (b->subnet & m);
}

const struct member *membership_find(const struct membership *ms, const char *name)
{
	for (size_t i = 0; i < ms->n; i++)
		if (strcmp(ms->m[i].h.name, name) == 0)
			return &ms->m[i];
	return NULL;
}

const struct member *membership_by_route(const struct membership *ms, const struct slim_route *r)
{
	for (size_t i = 0; i < ms->n; i++)
		if (ms->m[i].h.subnet == r->subnet && ms->m[i].h.prefix_len == r->prefix_len)
			return &ms->m[i];
	return NULL;
}

size_t membership_live(const struct membership *ms)
{
	size_t k = 0;

	for (size_t i = 0; i < ms->n; i++)
		k += !ms->m[i].gone;
	return k;
}

/* Name lookups in O(log n): with a thousand hosts, one change must not cost
 * a million string comparisons. */
static int by_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A sorted array of pointers to the n names at base + i * stride (the name
 * is the first member of each element). Caller frees; NULL if n is 0 or
 * out of memory (*fail set then). */
static const char **name_index(const void *base, size_t n, size_t stride, bool *fail)
{
	const char **x;

	if (n == 0)
		return NULL;
	x = malloc(n * sizeof(*x));
	if (!x) {
		*fail = true;
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		x[i] = (const char *)base + i * stride;
	qsort(x, n, sizeof(*x), by_name);
	return x;
}

/* name_index of the live members only (a name can also have a gone entry,
 * for the subnet it had before); the count is membership_live. */
static const char **live_member_index(const struct membership *ms, bool *fail)
{
	const char **x;
	size_t k = 0;

	if (ms->n == 0)
		return NULL;
	x = malloc(ms->n * sizeof(*x));
	if (!x) {
		*fail = true;
		return NULL;
	}
	for (size_t i = 0; i < ms->n; i++)
		if (!ms->m[i].gone)
			x[k++] = ms->m[i].h.name;
	qsort(x, k, sizeof(*x), by_name);
	return x;
}

/* The element of the index named name, or NULL. */
static const void *find_name(const char **x, size_t n, const char *name)
{
	const char **hit = x ? bsearch(&name, x, n, sizeof(*x), by_name) : NULL;

	return hit ? *hit : NULL;
}

int membership_set(struct membership *ms, const struct cluster *live, bool quiet)
{
	size_t cap = ms->n + 2 * live->n + 1, k = 0;
	struct member *next = malloc(cap * sizeof(*next));
	uint64_t now = ms->clock + 1;
	int changes = 0;
	bool fail = false;
	/* struct member and struct cluster_host both start with the name. */
	const char **old_ix = live_member_index(ms, &fail);
	const char **live_ix = name_index(live->hosts, live->n, sizeof(*live->hosts), &fail);

	if (!next || fail) {
		free(next);
		free(old_ix);
		free(live_ix);
		errno = ENOMEM;
		return -1;
	}
	ms->clock = now;
	size_t n_old_live = membership_live(ms);
	/* Every live host, noting what changed. */
	for (size_t i = 0; i < live->n; i++) {
		const struct cluster_host *h = &live->hosts[i];
		const struct member *old = find_name(old_ix, n_old_live, h->name);

		next[k++] = (struct member){.h = *h};
		if (old && !old->gone && same_record(&old->h, h))
			continue;
		changes++;
		if (quiet)
			continue;
		if (old && !old->gone)
			rlog("host %s changed: %s/%u via %s:%u (was %s/%u via %s:%u)", h->name,
			     ip_str(h->subnet), h->prefix_len, ip_str(h->underlay_ip), h->port,
			     ip_str(old->h.subnet), old->h.prefix_len, ip_str(old->h.underlay_ip),
			     old->h.port);
		else
			rlog("host %s joined: %s/%u via %s:%u", h->name, ip_str(h->subnet),
			     h->prefix_len, ip_str(h->underlay_ip), h->port);
	}
	/* Hosts that left, and the subnets they leave behind. */
	for (size_t i = 0; i < ms->n; i++) {
		const struct member *old = &ms->m[i];
		const struct cluster_host *now_h = find_name(live_ix, live->n, old->h.name);
		struct member g = *old;

		if (now_h && same_subnet(now_h, &old->h))
			continue; /* still live with this subnet */
		if (!old->gone) {
			g.gone = true;
			g.since = now;
			if (!now_h) {
				changes++;
				if (!quiet)
					rlog("host %s left: connects to %s/%u now fail "
					     "(EHOSTUNREACH)",
					     old->h.name, ip_str(old->h.subnet), old->h.prefix_len);
			}
		}
		/* A live host's subnet takes precedence over a gone one. (Gone
		 * subnets never overlap each other: each was a live host's,
		 * and live hosts overlap neither each other nor a gone one.) */
		bool covered = false;
		for (size_t j = 0; j < live->n && !covered; j++)
			covered = overlaps(&live->hosts[j], &g.h);
		if (covered)
			continue;
		/* The name may be live again under another subnet: the gone
		 * entry keeps the route only. */
		next[k++] = g;
	}
	/* Room: the oldest gone subnets go first. */
	while (k > MEMBERSHIP_MAX_ROUTES) {
		size_t oldest = k;
		for (size_t i = 0; i < k; i++)
			if (next[i].gone && (oldest == k || next[i].since < next[oldest].since))
				oldest = i;
		if (oldest == k)
			break; /* cannot happen: live hosts are fewer */
		next[oldest] = next[--k];
	}
	free(old_ix);
	free(live_ix);
	free(ms->m);
	ms->m = next;
	ms->n = k;
	ms->cap = cap;
	return changes;
}

int membership_route_cmp(const void *a, const void *b)
{
	const struct slim_route *x = a, *y = b;

	if (x->subnet != y->subnet)
		return x->subnet < y->subnet ? -1 : 1;
	return (int)x->prefix_len - (int)y->prefix_len;
}

int membership_routes(const struct membership *ms, struct slim_route **out, size_t *n)
{
	struct slim_route *r = NULL;

	*out = NULL;
	*n = 0;
	if (ms->n == 0)
		return 0;
	r = malloc(ms->n * sizeof(*r));
	if (!r) {
		errno = ENOMEM;
		return -1;
	}
	for (size_t i = 0; i < ms->n; i++) {
		r[i] = cluster_route(&ms->m[i].h);
		r[i].gone = ms->m[i].gone;
	}
	qsort(r, ms->n, sizeof(*r), membership_route_cmp);
	*out = r;
	*n = ms->n;
	return 0;
}

void membership_free(struct membership *ms)
{
	free(ms->m);
	memset(ms, 0, sizeof(*ms));
}
