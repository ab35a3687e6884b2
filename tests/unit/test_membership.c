/* Membership: hosts join, leave (their subnet stays as a gone route),
 * change; a gone subnet is dropped when a live host overlaps it and, when
 * room runs out, the oldest goes first; routes come out sorted; 1,000
 * hosts, with one change at a time. */
#include "check.h"
#include "membership.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct cluster_host host(const char *name, const char *under, const char *net, uint8_t plen)
{
	struct cluster_host h = {
	    .underlay_ip = ip(under), .subnet = ip(net), .prefix_len = plen, .port = 7771};
	snprintf(h.name, sizeof(h.name), "%s", name);
	return h;
}

static void set(struct cluster *c, int n, const struct cluster_host *hs)
{
	char why[256];

	cluster_free(c);
	for (int i = 0; i < n; i++)
		REQUIRE(cluster_add(c, &hs[i], why, sizeof(why)) == 0);
}

static const struct member *find_gone(const struct membership *ms, const char *net)
{
	for (size_t i = 0; i < ms->n; i++)
		if (ms->m[i].gone && ms->m[i].h.subnet == ip(net))
			return &ms->m[i];
	return NULL;
}

int main(void)
{
	struct membership ms = {0};
	struct cluster c = {0};
	struct slim_route *r;
	size_t n;
	struct cluster_host h1 = host("h1", "192.168.77.1", "10.244.1.0", 24),
			    h2 = host("h2", "192.168.77.2", "10.244.2.0", 24),
			    h3 = host("h3", "192.168.77.3", "10.244.3.0", 24);

	struct cluster_host a[] = {h1, h2};
	set(&c, 2, a);
	CHECK_INT(membership_set(&ms, &c, true), 2);
	CHECK_INT(membership_live(&ms), 2);
	CHECK_INT(membership_set(&ms, &c, true), 0); /* nothing changed */

	/* h3 joins, h2 leaves: h2's subnet stays, gone. */
	struct cluster_host b[] = {h1, h3};
	set(&c, 2, b);
	CHECK_INT(membership_set(&ms, &c, true), 2);
	CHECK_INT(membership_live(&ms), 2);
	CHECK(find_gone(&ms, "10.244.2.0") != NULL);
	REQUIRE(membership_routes(&ms, &r, &n) == 0);
	CHECK_INT(n, 3);
	CHECK_INT(r[0].subnet, ip("10.244.1.0"));
	CHECK_INT(r[1].subnet, ip("10.244.2.0"));
	CHECK(r[1].gone);
	CHECK(!r[2].gone);
	free(r);

	/* h2 comes back: live again, no gone entry. */
	struct cluster_host d[] = {h1, h2, h3};
	set(&c, 3, d);
	CHECK_INT(membership_set(&ms, &c, true), 1);
	CHECK(find_gone(&ms, "10.244.2.0") == NULL);
	CHECK_INT(ms.n, 3);

	/* h3 moves to another subnet: its old one is gone. */
	struct cluster_host h3b = host("h3", "192.168.77.3", "10.244.30.0", 24);
	struct cluster_host e[] = {h1, h2, h3b};
	set(&c, 3, e);
	CHECK_INT(membership_set(&ms, &c, true), 1);
	CHECK(find_gone(&ms, "10.244.3.0") != NULL);
	CHECK_INT(membership_live(&ms), 3);
	/* A new host covering the gone subnet takes it over. */
	struct cluster_host h4 = host("h4", "192.168.77.4", "10.244.0.0", 28);
	struct cluster_host h5 = host("h5", "192.168.77.5", "10.244.3.0", 25);
	struct cluster_host f[] = {h1, h2, h3b, h4, h5};
	set(&c, 5, f);
	CHECK_INT(membership_set(&ms, &c, true), 2);
	CHECK(find_gone(&ms, "10.244.3.0") == NULL);
	CHECK_INT(ms.n, 5);

	/* 1,000 hosts, then one leaves, then another joins. */
	static struct cluster_host many[1001];
	for (int i = 0; i < 1001; i++) {
		char name[16], under[32], net[32];
		snprintf(name, sizeof(name), "n%d", i);
		snprintf(under, sizeof(under), "10.%d.%d.1", 100 + i / 250, i % 250);
		snprintf(net, sizeof(net), "172.%d.%d.0", 16 + i / 256, i % 256);
		many[i] = host(name, under, net, 24);
	}
	membership_free(&ms);
	set(&c, 1000, many);
	CHECK_INT(membership_set(&ms, &c, true), 1000);
	set(&c, 999, many + 1);
	CHECK_INT(membership_set(&ms, &c, true), 1);
	CHECK_INT(membership_live(&ms), 999);
	CHECK_INT(ms.n, 1000);
	set(&c, 1000, many + 1);
	CHECK_INT(membership_set(&ms, &c, true), 1);
	REQUIRE(membership_routes(&ms, &r, &n) == 0);
	CHECK_INT(n, 1001);
	for (size_t i = 1; i < n; i++)
		CHECK(membership_route_cmp(&r[i - 1], &r[i]) < 0);
	free(r);

	/* Room: gone subnets beyond MEMBERSHIP_MAX_ROUTES go, oldest first.
	 * Each round 100 hosts join and the previous round's 100 leave. */
	membership_free(&ms);
	struct cluster one = {0};
	char why[128];
	int rounds = MEMBERSHIP_MAX_ROUTES / 100 + 3;
	for (int round = 0; round < rounds; round++) {
		cluster_free(&one);
		REQUIRE(cluster_add(&one, &h1, why, sizeof(why)) == 0);
		for (int i = 0; i < 100; i++) {
			struct cluster_host x = host("x", "192.168.1.1", "10.0.0.0", 24);
			uint32_t k = (uint32_t)(round * 100 + i);
			snprintf(x.name, sizeof(x.name), "x%u", k);
			x.subnet = (10u << 24) | (k << 8);
			x.underlay_ip += k;
			REQUIRE(cluster_add(&one, &x, why, sizeof(why)) == 0);
		}
		REQUIRE(membership_set(&ms, &one, true) >= 0);
	}
	CHECK_INT(ms.n, MEMBERSHIP_MAX_ROUTES);
	CHECK(find_gone(&ms, "10.0.0.0") == NULL); /* the oldest went */
	CHECK(find_gone(&ms, "10.0.1.0") == NULL);
	CHECK(find_gone(&ms, "10.0.100.0") == NULL); /* round 1 (k = 100) */
	CHECK(find_gone(&ms, "10.1.44.0") != NULL);  /* round 3 (k = 300) */
	cluster_free(&one);
	cluster_free(&c);
	membership_free(&ms);
	CHECK_DONE();
}
