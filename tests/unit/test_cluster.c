/* Cluster file parser: good files parse to the right hosts; every kind of
 * bad line gives exactly "FILE:LINE: reason". */
#include "check.h"
#include "cluster.h"

#include <arpa/inet.h>
#include <errno.h>
#include <unistd.h>

static struct cluster c;
static char err[512];

/* Writes text to ./hosts.conf (we run in a private temp dir) and parses it. */
static int load(const char *text)
{
	cluster_free(&c);
	write_text("hosts.conf", text);
	err[0] = '\0';
	return cluster_load("hosts.conf", &c, err, sizeof(err));
}

#define BAD(text, want)                                                                            \
	do {                                                                                       \
		CHECK_INT(load(text), -1);                                                         \
		CHECK_STR(err, want);                                                              \
	} while (0)

#define USAGE "(expected: host NAME UNDERLAY_IP VIRTUAL_SUBNET [RESERVED_PORT])"

static void good_files(void)
{
	CHECK_INT(load("# the cluster\n"
		       "host h1 192.168.77.1 10.244.1.0/24\n"
		       "\n"
		       "   \t \n"
		       "host h2 192.168.77.2 10.244.2.0/24 7772   # own port\n"
		       "\thost\th3  192.168.77.3\t10.245.0.0/16 # tabs\n"),
		  0);
	CHECK_STR(err, "");
	CHECK_INT(c.n, 3);
	CHECK_STR(c.hosts[0].name, "h1");
	CHECK_INT(c.hosts[0].underlay_ip, ip("192.168.77.1"));
	CHECK_INT(c.hosts[0].subnet, ip("10.244.1.0"));
	CHECK_INT(c.hosts[0].prefix_len, 24);
	CHECK_INT(c.hosts[0].port, CLUSTER_DEFAULT_PORT);
	CHECK_INT(c.hosts[0].line, 2);
	CHECK_INT(c.hosts[1].port, 7772);
	CHECK_INT(c.hosts[1].line, 5);
	CHECK_INT(c.hosts[2].prefix_len, 16);

	const struct cluster_host *h = cluster_find(&c, "h2");
	REQUIRE(h);
	CHECK_INT(h->underlay_ip, ip("192.168.77.2"));
	CHECK(cluster_find(&c, "h4") == NULL);
	CHECK(cluster_find(&c, "") == NULL);

	struct slim_route r = cluster_route(&c.hosts[1]);
	CHECK_INT(r.subnet, ip("10.244.2.0"));
	CHECK_INT(r.prefix_len, 24);
	CHECK_INT(r.underlay_ip, ip("192.168.77.2"));
	CHECK_INT(r.port, 7772);

	/* CRLF, no final newline, comment right after a field, port bounds. */
	CHECK_INT(load("host a 10.0.0.1 10.1.0.0/16 1\r\nhost b 10.0.0.2 10.2.0.0/16 65535#x"), 0);
	CHECK_INT(c.n, 2);
	CHECK_INT(c.hosts[0].port, 1);
	CHECK_INT(c.hosts[1].port, 65535);
	/* Same underlay address, different reserved ports: allowed. */
	CHECK_INT(load("host a 10.0.0.1 10.1.0.0/16 7771\nhost b 10.0.0.1 10.2.0.0/16 7772\n"), 0);
	/* Names may use the whole allowed set. */
	CHECK_INT(load("host A-z_0.9 10.0.0.1 10.1.0.0/16\n"), 0);
	/* A /32 subnet is odd but legal. */
	CHECK_INT(load("host a 10.0.0.1 10.1.0.7/32\n"), 0);
}

static void bad_lines(void)
{
	BAD("host h1 1.2.3 10.244.1.0/24\n", "hosts.conf:1: bad underlay address '1.2.3'");
	BAD("# hosts\nhost h1 192.168.77.1 10.244.1.0/24\nhost h2 1.2.3 10.244.2.0/24\n",
	    "hosts.conf:3: bad underlay address '1.2.3'");
	BAD("host h1 0.0.0.0 10.244.1.0/24\n", "hosts.conf:1: bad underlay address '0.0.0.0'");
	BAD("host h1 224.0.0.1 10.244.1.0/24\n", "hosts.conf:1: bad underlay address '224.0.0.1'");
	BAD("host h1 255.255.255.255 10.244.1.0/24\n",
	    "hosts.conf:1: bad underlay address '255.255.255.255'");
	BAD("host h1 192.168.77.1/24 10.244.1.0/24\n",
	    "hosts.conf:1: bad underlay address '192.168.77.1/24'");
	BAD("host h1 192.168.77.1 10.244.1.1/24\n",
	    "hosts.conf:1: bad virtual subnet '10.244.1.1/24' (expected A.B.C.D/N with no host "
	    "bits set)");
	BAD("host h1 192.168.77.1 10.244.1.0/33\n",
	    "hosts.conf:1: bad virtual subnet '10.244.1.0/33' (expected A.B.C.D/N with no host "
	    "bits set)");
	BAD("host h1 192.168.77.1 10.244.1.0\n",
	    "hosts.conf:1: bad virtual subnet '10.244.1.0' (expected A.B.C.D/N with no host bits "
	    "set)");
	BAD("host h1 192.168.77.1 0.0.0.0/0\n",
	    "hosts.conf:1: virtual subnet '0.0.0.0/0' covers every address");
	BAD("host h1 192.168.77.1 10.244.1.0/24 0\n",
	    "hosts.conf:1: bad reserved port '0' (1..65535)");
	BAD("host h1 192.168.77.1 10.244.1.0/24 65536\n",
	    "hosts.conf:1: bad reserved port '65536' (1..65535)");
	BAD("host h1 192.168.77.1 10.244.1.0/24 -1\n",
	    "hosts.conf:1: bad reserved port '-1' (1..65535)");
	BAD("host h1 192.168.77.1 10.244.1.0/24 +80\n",
	    "hosts.conf:1: bad reserved port '+80' (1..65535)");
	BAD("host h1 192.168.77.1 10.244.1.0/24 80x\n",
	    "hosts.conf:1: bad reserved port '80x' (1..65535)");
	BAD("host h1 192.168.77.1 10.244.1.0/24 0000080\n",
	    "hosts.conf:1: bad reserved port '0000080' (1..65535)");
	BAD("host h1 192.168.77.1 10.244.1.0/24\nhost h1 192.168.77.2 10.244.2.0/24\n",
	    "hosts.conf:2: duplicate host name 'h1' (first on line 1)");
	BAD("host h1 192.168.77.1 10.244.0.0/16\n\nhost h2 192.168.77.2 10.244.2.0/24\n",
	    "hosts.conf:3: virtual subnet 10.244.2.0/24 overlaps 10.244.0.0/16 of host h1 (line "
	    "1)");
	BAD("host h1 192.168.77.1 10.244.1.0/24\nhost h2 192.168.77.2 10.0.0.0/8\n",
	    "hosts.conf:2: virtual subnet 10.0.0.0/8 overlaps 10.244.1.0/24 of host h1 (line 1)");
	BAD("host h1 192.168.77.1 10.244.1.0/24\nhost h2 192.168.77.1 10.244.2.0/24\n",
	    "hosts.conf:2: underlay 192.168.77.1:7771 already used by host h1 (line 1)");
	BAD("hots h1 192.168.77.1 10.244.1.0/24\n", "hosts.conf:1: unknown keyword 'hots' " USAGE);
	BAD("\n\nHOST h1 192.168.77.1 10.244.1.0/24\n",
	    "hosts.conf:3: unknown keyword 'HOST' " USAGE);
	BAD("host h1 192.168.77.1 10.244.1.0/24 7771 extra\n",
	    "hosts.conf:1: too many fields " USAGE);
	BAD("host h1 192.168.77.1 10.244.1.0/24 7771 a b c d e f\n",
	    "hosts.conf:1: too many fields " USAGE);
	BAD("host h1 192.168.77.1\n", "hosts.conf:1: missing fields " USAGE);
	BAD("host\n", "hosts.conf:1: missing fields " USAGE);
	BAD("host h!1 192.168.77.1 10.244.1.0/24\n",
	    "hosts.conf:1: bad host name 'h!1' (1..63 characters of [A-Za-z0-9_.-])");
	BAD("host h\x01 192.168.77.1 10.244.1.0/24\n",
	    "hosts.conf:1: bad host name 'h?' (1..63 characters of [A-Za-z0-9_.-])");
	BAD("host 0123456789012345678901234567890123456789012345678901234567890123 192.168.77.1 "
	    "10.244.1.0/24\n",
	    "hosts.conf:1: bad host name '0123456789012345678901234567890123456789...' (1..63 "
	    "characters of [A-Za-z0-9_.-])");
}

static void whole_file_problems(void)
{
	BAD("", "hosts.conf: no host lines " USAGE);
	BAD("# nothing\n\n", "hosts.conf: no host lines " USAGE);
	CHECK_INT(cluster_load("missing.conf", &c, err, sizeof(err)), -1);
	CHECK_STR(err, "missing.conf: No such file or directory");

	char big[3000];
	memset(big, 'x', sizeof(big) - 2);
	big[sizeof(big) - 2] = '\n';
	big[sizeof(big) - 1] = '\0';
	CHECK_INT(load(big), -1);
	CHECK_STR(err, "hosts.conf:1: line too long (at most 1024 characters)");

	/* A 1024-character line (comment padding) is still fine. */
	char ok[1100];
	int n = snprintf(ok, sizeof(ok), "host h1 192.168.77.1 10.244.1.0/24 #");
	memset(ok + n, 'y', 1024 - (size_t)n);
	strcpy(ok + 1024, "\n");
	CHECK_INT(load(ok), 0);

	/* Too many hosts. */
	static char many[(CLUSTER_MAX_HOSTS + 1) * 64];
	size_t off = 0;
	for (int i = 0; i <= CLUSTER_MAX_HOSTS; i++)
		off += (size_t)snprintf(many + off, sizeof(many) - off,
					"host h%d 192.168.%d.%d 10.%d.%d.0/24\n", i, i / 200,
					1 + i % 200, i / 256, i % 256);
	char want[128];
	snprintf(want, sizeof(want), "hosts.conf:%d: too many hosts (at most %d)",
		 CLUSTER_MAX_HOSTS + 1, CLUSTER_MAX_HOSTS);
	BAD(many, want);
}

static void names(void)
{
	CHECK(slim_name_ok("c1"));
	CHECK(slim_name_ok("a.b-c_D9"));
	CHECK(!slim_name_ok(""));
	CHECK(!slim_name_ok("a b"));
	CHECK(!slim_name_ok("a/b"));
	CHECK(!slim_name_ok("\xc3\xa9"));
	char n63[64], n64[65];
	memset(n63, 'a', 63);
	n63[63] = '\0';
	memset(n64, 'a', 64);
	n64[64] = '\0';
	CHECK(slim_name_ok(n63));
	CHECK(!slim_name_ok(n64));
}

/* A NUL byte would silently hide the rest of its line (here the port, or
 * in a file with no newline every later host): refused. */
static void nul_bytes(void)
{
	static const char text[] = "host h1 192.168.77.1 10.244.1.0/24\0 7772\n";
	FILE *f = fopen("hosts.conf", "w");

	REQUIRE(f && fwrite(text, 1, sizeof(text) - 1, f) == sizeof(text) - 1 && fclose(f) == 0);
	cluster_free(&c);
	CHECK_INT(cluster_load("hosts.conf", &c, err, sizeof(err)), -1);
	CHECK_STR(err, "hosts.conf:1: NUL byte in line (not a text file?)");
}

int main(void)
{
	char dir[] = "/tmp/slim-unit-cluster-XXXXXX";

	REQUIRE(mkdtemp(dir));
	REQUIRE(chdir(dir) == 0);
	good_files();
	bad_lines();
	whole_file_problems();
	names();
	nul_bytes();
	unlink("hosts.conf");
	REQUIRE(chdir("/") == 0);
	rmdir(dir);
	CHECK_DONE();
}
