/* Route table: longest-prefix lookup, addresses outside the overlay, /32 and
 * /0 routes, and CIDR parsing. */
#include "check.h"
#include "routes.h"

#include <arpa/inet.h>

static struct slim_route route(const char *net, uint8_t plen, const char *under, uint16_t port)
{
	struct slim_route r = {
	    .subnet = ip(net), .prefix_len = plen, .underlay_ip = ip(under), .port = port};
	return r;
}

static void masks(void)
{
	CHECK_INT(slim_prefix_mask(0), 0);
	CHECK_INT(slim_prefix_mask(1), 0x80000000u);
	CHECK_INT(slim_prefix_mask(24), 0xffffff00u);
	CHECK_INT(slim_prefix_mask(31), 0xfffffffeu);
	CHECK_INT(slim_prefix_mask(32), 0xffffffffu);
}

static void lookup(void)
{
	struct slim_route t[] = {
	    route("10.0.0.0", 8, "192.168.77.1", 7771),
	    route("10.244.1.0", 24, "192.168.77.3", 7771),
	    route("10.244.0.0", 16, "192.168.77.2", 7771),
	    route("10.244.1.7", 32, "192.168.77.4", 7000),
	};
	size_t n = sizeof(t) / sizeof(t[0]);

	CHECK(slim_route_lookup(t, n, ip("10.1.2.3")) == &t[0]);
	CHECK(slim_route_lookup(t, n, ip("10.244.9.9")) == &t[2]);
	CHECK(slim_route_lookup(t, n, ip("10.244.1.2")) == &t[1]);
	CHECK(slim_route_lookup(t, n, ip("10.244.1.0")) == &t[1]);
	CHECK(slim_route_lookup(t, n, ip("10.244.1.255")) == &t[1]);
	CHECK(slim_route_lookup(t, n, ip("10.244.1.7")) == &t[3]);
	CHECK(slim_route_lookup(t, n, ip("10.244.1.8")) == &t[1]);
	CHECK(slim_route_lookup(t, n, ip("10.255.255.255")) == &t[0]);
	/* Outside the overlay. */
	CHECK(slim_route_lookup(t, n, ip("11.0.0.1")) == NULL);
	CHECK(slim_route_lookup(t, n, ip("9.255.255.255")) == NULL);
	CHECK(slim_route_lookup(t, n, ip("192.168.77.1")) == NULL);
	CHECK(slim_route_lookup(t, n, ip("0.0.0.0")) == NULL);
	CHECK(slim_route_lookup(t, n, ip("255.255.255.255")) == NULL);
	CHECK(slim_route_lookup(t, 0, ip("10.1.2.3")) == NULL);

	CHECK(slim_route_contains(&t[1], ip("10.244.1.200")));
	CHECK(!slim_route_contains(&t[1], ip("10.244.2.1")));
	CHECK(slim_route_contains(&t[3], ip("10.244.1.7")));
	CHECK(!slim_route_contains(&t[3], ip("10.244.1.6")));

	/* A /0 route catches everything the others do not. */
	struct slim_route all[] = {route("10.244.1.0", 24, "192.168.77.1", 7771),
				   route("0.0.0.0", 0, "192.168.77.9", 7771)};
	CHECK(slim_route_lookup(all, 2, ip("8.8.8.8")) == &all[1]);
	CHECK(slim_route_lookup(all, 2, ip("10.244.1.5")) == &all[0]);
	CHECK(slim_route_lookup(all, 2, ip("255.255.255.255")) == &all[1]);
}

static void cidr(void)
{
	uint32_t net = 0xdeadbeef;
	uint8_t plen = 99;

	CHECK_INT(slim_parse_cidr("10.244.1.0/24", &net, &plen), 0);
	CHECK_INT(net, ip("10.244.1.0"));
	CHECK_INT(plen, 24);
	CHECK_INT(slim_parse_cidr("0.0.0.0/0", &net, &plen), 0);
	CHECK_INT(net, 0);
	CHECK_INT(plen, 0);
	CHECK_INT(slim_parse_cidr("10.244.1.7/32", &net, &plen), 0);
	CHECK_INT(net, ip("10.244.1.7"));
	CHECK_INT(plen, 32);
	CHECK_INT(slim_parse_cidr("128.0.0.0/1", &net, &plen), 0);

	/* Failures leave the outputs alone. */
	net = 1;
	plen = 2;
	const char *bad[] = {
	    "10.244.1.1/24", /* host bits set */
	    "10.244.1.0/23", /* host bits set */
	    "1.0.0.0/0",     /* host bits set */
	    "10.244.1.0",
	    "10.244.1.0/",
	    "/24",
	    "10.244.1.0/33",
	    "10.244.1.0/-1",
	    "10.244.1.0/24x",
	    "10.244.1.0/ 24",
	    "1.2.3/8",
	    "1.2.3.4.5/8",
	    "a.b.c.d/8",
	    "",
	    "10.244.1.0/24/8",
	    "256.0.0.0/8",
	    " 10.0.0.0/8",
	    "10.0.0.0/+8",
	    "10.0.0.0/999999999999",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (slim_parse_cidr(bad[i], &net, &plen) != -1) {
			fprintf(stderr, "slim_parse_cidr accepted '%s'\n", bad[i]);
			check_failures++;
		}
	}
	CHECK_INT(net, 1);
	CHECK_INT(plen, 2);
}

int main(void)
{
	masks();
	lookup();
	cidr();
	CHECK_DONE();
}
