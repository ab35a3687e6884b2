/* v4-mapped names for AF_INET6 app sockets carried by AF_INET host
 * sockets: which addresses the IPv4 overlay can carry, and names written
 * back to the app as its own AF_INET6 socket would have, truncated as the
 * kernel truncates. No root needed. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>

#include "check.h"
#include "v4mapped.h"

static struct sockaddr_in6 s6(const char *addr, uint16_t port)
{
	struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons(port)};

	REQUIRE(inet_pton(AF_INET6, addr, &a.sin6_addr) == 1);
	return a;
}

int main(void)
{
	struct sockaddr_in6 a = s6("::ffff:10.244.2.2", 80), out;
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(8080)};
	struct sockaddr_storage ss;
	struct slim_ep ep;
	socklen_t len;
	char text[64];

	CHECK(slim_v6_read((struct sockaddr *)&a, sizeof(a), &ep));
	CHECK_INT(ep.ip, ip("10.244.2.2"));
	CHECK_INT(ep.port, 80);
	a = s6("::", 8080);
	CHECK(slim_v6_read((struct sockaddr *)&a, sizeof(a), &ep));
	CHECK_INT(ep.ip, 0);
	a = s6("fd00::1", 80); /* real IPv6: the container's business */
	CHECK(!slim_v6_read((struct sockaddr *)&a, sizeof(a), &ep));
	a = s6("::ffff:10.244.2.2", 80);
	CHECK(!slim_v6_read((struct sockaddr *)&a, sizeof(a) - 1, &ep)); /* short */
	CHECK(!slim_v6_read(NULL, sizeof(a), &ep));			 /* unreadable */
	CHECK(!slim_v6_read((struct sockaddr *)&sin, sizeof(a), &ep));	 /* AF_INET */

	/* An AF_INET name comes back v4-mapped, full size reported. */
	sin.sin_addr.s_addr = htonl(ip("10.244.1.2"));
	memcpy(&ss, &sin, sizeof(sin));
	len = 0;
	slim_put_name(&ss, sizeof(sin), (struct sockaddr *)&out, &len, sizeof(out));
	CHECK_INT(len, sizeof(struct sockaddr_in6));
	CHECK_INT(out.sin6_family, AF_INET6);
	CHECK_INT(ntohs(out.sin6_port), 8080);
	CHECK_STR(inet_ntop(AF_INET6, &out.sin6_addr, text, sizeof(text)), "::ffff:10.244.1.2");
	/* 0.0.0.0 is "::". */
	sin.sin_addr.s_addr = 0;
	memcpy(&ss, &sin, sizeof(sin));
	slim_put_name(&ss, sizeof(sin), (struct sockaddr *)&out, &len, sizeof(out));
	CHECK_STR(inet_ntop(AF_INET6, &out.sin6_addr, text, sizeof(text)), "::");
	/* A short buffer gets what fits, and the full size. */
	memset(&out, 0xaa, sizeof(out));
	slim_put_name(&ss, sizeof(sin), (struct sockaddr *)&out, &len, 4);
	CHECK_INT(len, sizeof(struct sockaddr_in6));
	CHECK_INT(out.sin6_family, AF_INET6);
	CHECK_INT(((unsigned char *)&out)[4], 0xaa);
	CHECK_DONE();
}
