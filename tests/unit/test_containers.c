/* Container registry rules and network-namespace identification. */
#define _GNU_SOURCE /* accept4 */
#include "check.h"
#include "containers.h"
#include "peer.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <string.h>
#include <unistd.h>

static char why[256];

static int add(struct registry *r, const char *name, const char *vip, ino_t ino)
{
	why[0] = '\0';
	return reg_add(r, name, ip(vip), "/run/netns/x", 7, ino, 0, why, sizeof(why));
}

/* Names: up to SLIM_CONTAINER_NAME_MAX characters, so that a runtime's
 * 64-hex-digit container id fits. */
static void long_names(void)
{
	static struct registry r;

	reg_init(&r, ip("10.244.1.0"), 24);
	char name[SLIM_CONTAINER_NAME_MAX + 2];
	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	CHECK_INT(add(&r, name, "10.244.1.50", 150), EINVAL);
	CHECK_STR(why, "bad container name (1..127 characters of [A-Za-z0-9_.-])");
	name[SLIM_CONTAINER_NAME_MAX] = '\0';
	CHECK_INT(add(&r, name, "10.244.1.50", 150), 0);
	CHECK_STR(reg_by_vip(&r, ip("10.244.1.50"))->name, name);
	CHECK_INT(reg_del(&r, name, NULL), 0);
	CHECK_INT(add(&r, "4f3a9c0b1d2e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5061728394a5b6c7d8e",
		      "10.244.1.51", 151),
		  0);
	CHECK_INT(
	    reg_del(&r, "4f3a9c0b1d2e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5061728394a5b6c7d8e", NULL),
	    0);
}

static void rules(void)
{
	static struct registry r;

	reg_init(&r, ip("10.244.1.0"), 24);
	CHECK_INT(add(&r, "c1", "10.244.1.2", 100), 0);
	CHECK_INT(r.n, 1);
	const struct container *c = reg_by_name(&r, "c1");
	REQUIRE(c);
	CHECK_INT(c->vip, ip("10.244.1.2"));
	CHECK_STR(c->netns, "/run/netns/x");
	CHECK(c->id != 0);
	uint32_t c1_id = c->id;
	CHECK(reg_by_vip(&r, ip("10.244.1.2")) == c);
	CHECK(reg_by_netns(&r, 7, 100) == c);
	CHECK(reg_by_netns(&r, 8, 100) == NULL);
	CHECK(reg_by_netns(&r, 7, 101) == NULL);

	CHECK_INT(add(&r, "c 2", "10.244.1.3", 101), EINVAL);
	CHECK_INT(add(&r, "", "10.244.1.3", 101), EINVAL);
	CHECK_INT(add(&r, "c2", "10.244.2.3", 101), EINVAL);
	CHECK_STR(why, "10.244.2.3 is outside this host's subnet 10.244.1.0/24");
	CHECK_INT(add(&r, "c2", "10.244.1.0", 101), EINVAL);
	CHECK_STR(why, "10.244.1.0 is the network address of 10.244.1.0/24");
	CHECK_INT(add(&r, "c2", "10.244.1.255", 101), EINVAL);
	CHECK_STR(why, "10.244.1.255 is the broadcast address of 10.244.1.0/24");
	CHECK_INT(add(&r, "c1", "10.244.1.3", 101), EEXIST);
	CHECK_STR(why, "container c1 already exists (10.244.1.2)");
	CHECK_INT(add(&r, "c2", "10.244.1.2", 101), EEXIST);
	CHECK_STR(why, "10.244.1.2 already belongs to container c1");
	CHECK_INT(add(&r, "c2", "10.244.1.3", 100), EEXIST);
	CHECK_STR(why, "netns /run/netns/x is already container c1's");
	char longpath[REG_NETNS_MAX + 2];
	memset(longpath, 'p', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	CHECK_INT(reg_add(&r, "c2", ip("10.244.1.3"), longpath, 7, 101, 0, why, sizeof(why)),
		  ENAMETOOLONG);
	CHECK_INT(r.n, 1);

	CHECK_INT(add(&r, "c2", "10.244.1.254", 101), 0);
	CHECK_INT(add(&r, "c3", "10.244.1.1", 102), 0);
	CHECK_INT(r.n, 3);
	CHECK(reg_by_name(&r, "c3")->id != 0 && reg_by_name(&r, "c3")->id != c1_id);

	/* Delete: gone from every index; the name added again is a new id. */
	struct container gone;
	CHECK_INT(reg_del(&r, "c1", &gone), 0);
	CHECK_STR(gone.name, "c1");
	CHECK_INT(gone.vip, ip("10.244.1.2"));
	CHECK_INT(reg_del(&r, "c1", NULL), ENOENT);
	CHECK_INT(reg_del(&r, "nope", NULL), ENOENT);
	CHECK(reg_by_name(&r, "c1") == NULL);
	CHECK(reg_by_vip(&r, ip("10.244.1.2")) == NULL);
	CHECK(reg_by_netns(&r, 7, 100) == NULL);
	CHECK(reg_by_name(&r, "c2") && reg_by_name(&r, "c3"));
	CHECK_INT(add(&r, "c1", "10.244.1.2", 100), 0);
	CHECK(reg_by_name(&r, "c1")->id != c1_id);
}

static void small_subnets(void)
{
	static struct registry r;

	/* /31 and /32 have no network or broadcast address to avoid. */
	reg_init(&r, ip("10.9.0.0"), 31);
	CHECK_INT(add(&r, "a", "10.9.0.0", 1), 0);
	CHECK_INT(add(&r, "b", "10.9.0.1", 2), 0);
	CHECK_INT(add(&r, "c", "10.9.0.2", 3), EINVAL);
	reg_init(&r, ip("10.9.0.7"), 32);
	CHECK_INT(add(&r, "a", "10.9.0.7", 1), 0);
	CHECK_INT(add(&r, "b", "10.9.0.8", 2), EINVAL);
	/* /30: .0 and .3 are reserved. */
	reg_init(&r, ip("10.9.0.4"), 30);
	CHECK_INT(add(&r, "a", "10.9.0.4", 1), EINVAL);
	CHECK_INT(add(&r, "a", "10.9.0.7", 1), EINVAL);
	CHECK_INT(add(&r, "a", "10.9.0.5", 1), 0);
}

static void full(void)
{
	static struct registry r;
	char name[16];
	int e = 0;

	reg_init(&r, ip("10.0.0.0"), 8);
	for (unsigned i = 0; i < REG_MAX && e == 0; i++) {
		snprintf(name, sizeof(name), "c%u", i);
		e = reg_add(&r, name, ip("10.0.0.0") + 1 + i, "/n", 1, 1000 + i, 0, why,
			    sizeof(why));
	}
	CHECK_INT(e, 0);
	CHECK_INT(r.n, REG_MAX);
	CHECK_INT(reg_add(&r, "more", ip("10.1.0.0"), "/n", 1, 1, 0, why, sizeof(why)), ENOSPC);
}

static void netns(void)
{
	struct stat st;
	dev_t dev = 0;
	ino_t ino = 0;

	REQUIRE(stat("/proc/self/ns/net", &st) == 0);
	CHECK_INT(netns_identify("/proc/self/ns/net", &dev, &ino, why, sizeof(why)), 0);
	CHECK_INT(dev, st.st_dev);
	CHECK_INT(ino, st.st_ino);
	CHECK_INT(netns_identify("/nonexistent/netns", &dev, &ino, why, sizeof(why)), ENOENT);
	CHECK_STR(why, "netns /nonexistent/netns: No such file or directory");
	CHECK_INT(netns_identify("/proc/self/ns/uts", &dev, &ino, why, sizeof(why)), EINVAL);
	CHECK_STR(why, "/proc/self/ns/uts is not a network namespace");
	CHECK_INT(netns_identify("/proc/self/status", &dev, &ino, why, sizeof(why)), EINVAL);
	CHECK_INT(netns_identify("/dev/null", &dev, &ino, why, sizeof(why)), EINVAL);
	CHECK_INT(netns_identify("/", &dev, &ino, why, sizeof(why)), EINVAL);
}

/* A Unix stream listener on an abstract address, for peer_identify. */
static int listener(struct sockaddr_un *a, socklen_t *alen)
{
	int l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	snprintf(a->sun_path + 1, sizeof(a->sun_path) - 1, "slim-test-peer-%d", (int)getpid());
	*alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(a->sun_path + 1));
	REQUIRE(l >= 0 && bind(l, (struct sockaddr *)a, *alen) == 0 && listen(l, 4) == 0);
	return l;
}

static void peers(void)
{
	struct sockaddr_un a;
	socklen_t alen;
	struct peer_id id;
	struct stat st;
	int sv[2];

	/* A live peer: its pid, uid and network namespace. */
	REQUIRE(stat("/proc/self/ns/net", &st) == 0);
	REQUIRE(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == 0);
	CHECK_INT(peer_identify(sv[1], &id), 0);
	CHECK_INT(id.pid, getpid());
	CHECK_INT(id.uid, getuid());
	CHECK(id.ns_ok);
	CHECK_INT(id.ns_dev, st.st_dev);
	CHECK_INT(id.ns_ino, st.st_ino);
	close(sv[0]);
	close(sv[1]);

	/* A peer that connected and exited before the accept: its pid may name
	 * another process by now, so it gets no identity (no container, not
	 * admin) even though /proc/PID might exist again. */
	int l = listener(&a, &alen);
	pid_t child = fork();
	REQUIRE(child >= 0);
	if (child == 0) {
		int c = socket(AF_UNIX, SOCK_STREAM, 0);
		_exit(c >= 0 && connect(c, (struct sockaddr *)&a, alen) == 0 ? 0 : 1);
	}
	int status;
	REQUIRE(waitpid(child, &status, 0) == child && WIFEXITED(status) &&
		WEXITSTATUS(status) == 0);
	int s = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	REQUIRE(s >= 0);
	CHECK_INT(peer_identify(s, &id), 0);
	CHECK_INT(id.pid, child);
	CHECK(!id.ns_ok);
	close(s);
	close(l);
}

/* Ids: drawn non-zero and distinct when none is given, kept when one is,
 * refused when another container has it. */
static void ids(void)
{
	static struct registry r;
	uint32_t first;

	reg_init(&r, ip("10.244.1.0"), 24);
	for (int i = 0; i < 50; i++) {
		char name[16];
		snprintf(name, sizeof(name), "c%d", i);
		REQUIRE(reg_add(&r, name, ip("10.244.1.10") + (uint32_t)i, "/n", 1, 500 + (ino_t)i,
				0, why, sizeof(why)) == 0);
		CHECK(r.c[i].id != 0);
		for (int k = 0; k < i; k++)
			CHECK(r.c[k].id != r.c[i].id);
	}
	first = r.c[0].id;
	CHECK_INT(reg_add(&r, "given", ip("10.244.1.100"), "/n", 1, 600, 77, why, sizeof(why)), 0);
	CHECK_INT(reg_by_name(&r, "given")->id, 77);
	CHECK_INT(reg_add(&r, "twin", ip("10.244.1.101"), "/n", 1, 601, first, why, sizeof(why)),
		  EEXIST);
	CHECK(strstr(why, "is already container c0's") != NULL);
	/* A container added again after its deletion gets a new id. */
	REQUIRE(reg_del(&r, "c0", NULL) == 0);
	REQUIRE(reg_add(&r, "c0", ip("10.244.1.10"), "/n", 1, 500, 0, why, sizeof(why)) == 0);
	CHECK(reg_by_name(&r, "c0")->id != first);
}

int main(void)
{
	ids();
	peers();
	rules();
	long_names();
	small_subnets();
	full();
	netns();
	CHECK_DONE();
}
