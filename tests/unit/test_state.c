/* State file: good files parse to the right entries; every kind of bad line
 * gives exactly "FILE:LINE: reason"; what state_save writes, state_load
 * reads back (round trip), atomically (no FILE.tmp left). */
#include "check.h"
#include "state.h"

#include <arpa/inet.h>
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

static struct state_entry e[8];
static size_t n;
static char err[512];

/* Writes text to ./reg.containers (we run in a private temp dir), parses it. */
static int load(const char *text)
{
	write_text("reg.containers", text);
	err[0] = '\0';
	return state_load("reg.containers", e, 8, &n, err, sizeof(err));
}

#define BAD(text, want)                                                                            \
	do {                                                                                       \
		CHECK_INT(load(text), -1);                                                         \
		CHECK_STR(err, want);                                                              \
	} while (0)

#define USAGE "(expected: container NAME VIP NETNS_PATH [ID])"

static void parse(void)
{
	CHECK_INT(load("# saved\n"
		       "container c1 10.244.1.2 /run/netns/c1\n"
		       "\n"
		       "\tcontainer  c3\t10.244.1.3 /proc/1/ns/net 4294967295 # a comment\r\n"),
		  0);
	CHECK_STR(err, "");
	CHECK_INT(n, 2);
	CHECK_STR(e[0].name, "c1");
	CHECK_INT(e[0].vip, ip("10.244.1.2"));
	CHECK_STR(e[0].netns, "/run/netns/c1");
	CHECK_INT(e[0].line, 2);
	CHECK_STR(e[1].name, "c3");
	CHECK_STR(e[1].netns, "/proc/1/ns/net");
	CHECK_INT(e[1].line, 4);
	/* The id is optional: 0 when the line has none. */
	CHECK_INT(e[0].id, 0);
	CHECK(e[1].id == 4294967295u);

	/* Empty, comments only, no final newline. */
	CHECK_INT(load(""), 0);
	CHECK_INT(n, 0);
	CHECK_INT(load("# nothing\n\n"), 0);
	CHECK_INT(n, 0);
	CHECK_INT(load("container a 10.0.0.5 /x"), 0);
	CHECK_INT(n, 1);

	/* A missing file is no previous state. */
	unlink("reg.containers");
	err[0] = '\0';
	CHECK_INT(state_load("reg.containers", e, 8, &n, err, sizeof(err)), 0);
	CHECK_INT(n, 0);
	CHECK_STR(err, "");
}

static void bad_lines(void)
{
	BAD("container c1 10.244.1.2 /run/netns/c1\nhost h1 1.2.3.4 10.0.0.0/8\n",
	    "reg.containers:2: unknown keyword 'host' " USAGE);
	BAD("container c1 10.244.1.2\n", "reg.containers:1: missing fields " USAGE);
	BAD("container c1 10.244.1.2 /a 7 8\n", "reg.containers:1: too many fields " USAGE);
	BAD("container c1 10.244.1.2 /a /b\n",
	    "reg.containers:1: bad container id '/b' (1..4294967295)");
	BAD("container c1 10.244.1.2 /a 0\n",
	    "reg.containers:1: bad container id '0' (1..4294967295)");
	BAD("container c1 10.244.1.2 /a 4294967296\n",
	    "reg.containers:1: bad container id '4294967296' (1..4294967295)");
	BAD("container c1 10.244.1.2 /a -1\n",
	    "reg.containers:1: bad container id '-1' (1..4294967295)");
	BAD("container c/1 10.244.1.2 /a\n",
	    "reg.containers:1: bad container name 'c/1' (1..127 characters of [A-Za-z0-9_.-])");
	BAD("container c1 10.244.1 /a\n", "reg.containers:1: bad virtual address '10.244.1'");
	BAD("container c1 0.0.0.0 /a\n", "reg.containers:1: bad virtual address '0.0.0.0'");
	BAD("\n\ncontainer c1 10.244.1.2 run/netns/c1\n",
	    "reg.containers:3: bad netns path 'run/netns/c1' (absolute, at most 255 characters)");
	BAD("container c1 1.2.3.4 /x\x01y\n",
	    "reg.containers:1: bad netns path '/x?y' (absolute, at most 255 characters)");

	/* More entries than the caller has room for. */
	CHECK_INT(load("container a 10.0.0.1 /a\ncontainer b 10.0.0.2 /b\n"), 0);
	err[0] = '\0';
	CHECK_INT(state_load("reg.containers", e, 1, &n, err, sizeof(err)), -1);
	CHECK_STR(err, "reg.containers:2: too many containers (at most 1)");

	/* A directory cannot be read as a file. */
	REQUIRE(mkdir("adir", 0700) == 0);
	err[0] = '\0';
	CHECK_INT(state_load("adir", e, 8, &n, err, sizeof(err)), -1);
	CHECK(strncmp(err, "adir: ", 6) == 0);
	rmdir("adir");

	CHECK(state_netns_ok("/run/netns/c1"));
	CHECK(!state_netns_ok("/run/netns/a b"));
	CHECK(!state_netns_ok("/run/netns/a#b"));
	CHECK(!state_netns_ok("relative"));
	CHECK(!state_netns_ok(""));
}

static void round_trip(void)
{
	static struct registry reg;
	char why[256];
	struct stat st;

	reg_init(&reg, ip("10.244.1.0"), 24);
	REQUIRE(reg_add(&reg, "c1", ip("10.244.1.2"), "/run/netns/c1", 1, 11, 0, why,
			sizeof(why)) == 0);
	REQUIRE(reg_add(&reg, "web.2", ip("10.244.1.30"), "/proc/42/ns/net", 1, 12, 0, why,
			sizeof(why)) == 0);
	CHECK_INT(state_save("saved.containers", &reg, err, sizeof(err)), 0);
	CHECK(stat("saved.containers.tmp", &st) != 0 && errno == ENOENT);
	err[0] = '\0';
	CHECK_INT(state_load("saved.containers", e, 8, &n, err, sizeof(err)), 0);
	CHECK_INT(n, 2);
	CHECK_STR(e[0].name, "c1");
	CHECK_INT(e[0].vip, ip("10.244.1.2"));
	CHECK_STR(e[0].netns, "/run/netns/c1");
	CHECK_STR(e[1].name, "web.2");
	CHECK_INT(e[1].vip, ip("10.244.1.30"));
	CHECK_STR(e[1].netns, "/proc/42/ns/net");
	/* The ids go with them: drawn at add (non-zero, distinct), kept. */
	CHECK(reg.c[0].id != 0 && reg.c[1].id != 0 && reg.c[0].id != reg.c[1].id);
	CHECK_INT(e[0].id, reg.c[0].id);
	CHECK_INT(e[1].id, reg.c[1].id);

	/* The longest line: a name of SLIM_CONTAINER_NAME_MAX characters and a
	 * netns path of REG_NETNS_MAX. */
	char longname[SLIM_CONTAINER_NAME_MAX + 1], longpath[REG_NETNS_MAX + 1];
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	memset(longpath, 'p', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	REQUIRE(reg_add(&reg, longname, ip("10.244.1.255") - 1, longpath, 1, 13, 0, why,
			sizeof(why)) == 0);
	CHECK_INT(state_save("saved.containers", &reg, err, sizeof(err)), 0);
	CHECK_INT(state_load("saved.containers", e, 8, &n, err, sizeof(err)), 0);
	CHECK_STR(err, "");
	CHECK_INT(n, 3);
	CHECK_STR(e[2].name, longname);
	CHECK_STR(e[2].netns, longpath);
	REQUIRE(reg_del(&reg, longname, NULL) == 0);

	/* Rewritten in place after a delete; an empty registry still writes. */
	REQUIRE(reg_del(&reg, "c1", NULL) == 0);
	CHECK_INT(state_save("saved.containers", &reg, err, sizeof(err)), 0);
	CHECK_INT(state_load("saved.containers", e, 8, &n, err, sizeof(err)), 0);
	CHECK_INT(n, 1);
	CHECK_STR(e[0].name, "web.2");
	REQUIRE(reg_del(&reg, "web.2", NULL) == 0);
	CHECK_INT(state_save("saved.containers", &reg, err, sizeof(err)), 0);
	CHECK_INT(state_load("saved.containers", e, 8, &n, err, sizeof(err)), 0);
	CHECK_INT(n, 0);

	/* An unwritable place: one line naming FILE.tmp, nothing left. */
	CHECK_INT(state_save("nodir/x.containers", &reg, err, sizeof(err)), -1);
	CHECK_STR(err, "cannot write nodir/x.containers.tmp: No such file or directory");
}

/* A NUL byte would silently hide the rest of its line, or every later line
 * of a file with no newline (containers forgotten): refused. */
static void nul_bytes(void)
{
	static const char text[] = "container a 10.0.0.5 /x\n\0container b 10.0.0.6 /y";
	FILE *f = fopen("reg.containers", "w");

	REQUIRE(f && fwrite(text, 1, sizeof(text) - 1, f) == sizeof(text) - 1 && fclose(f) == 0);
	CHECK_INT(state_load("reg.containers", e, 8, &n, err, sizeof(err)), -1);
	CHECK_STR(err, "reg.containers:2: NUL byte in line (not a text file?)");
	CHECK_INT(n, 0);
}

int main(void)
{
	char dir[] = "/tmp/slim-unit-state-XXXXXX";

	REQUIRE(mkdtemp(dir));
	REQUIRE(chdir(dir) == 0);
	parse();
	bad_lines();
	round_trip();
	nul_bytes();
	unlink("reg.containers");
	unlink("saved.containers");
	REQUIRE(chdir("/") == 0);
	rmdir(dir);
	CHECK_DONE();
}
