/* pool_stamp: the sock_create program stamps a pool batch as the router's
 * per-socket stamp would, and only where it was armed.
 *
 * In a network namespace and a cgroup of its own, the test loads and
 * attaches the programs with slim_bpf (as the router does) and uses the
 * router's own code (router/hostsock.c, router/stamp_arm.c):
 *   - the router's start-up check (stamp_arm_init) passes;
 *   - a batch (hostsock_client_batch) comes out with owner storage equal,
 *     byte for byte, to what hostsock_client's map update writes for the
 *     same container, and to {vip, id, 0, 0, 0} field by field;
 *   - while armed, a socket another thread of this process creates is not
 *     stamped, while the arming thread's next socket is;
 *   - no socket is stamped after the disarm, nor beyond the armed count;
 *   - armed, sockets other than AF_INET TCP are not stamped and do not use
 *     up the count;
 *   - in a pid namespace of its own, the router's start-up check passes
 *     and a batch is stamped (the fallback: the check refuses).
 * With SLIM_STAMP_INITNS=1 it checks the fallback program a kernel before
 * 6.10 gets (ctest runs it both ways).
 * Exits 0 only if every check passed. Needs root. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "bpf_test.h"
#include "hostsock.h"
#include "slim_bpf.h"
#include "slim_maps.h"
#include "stamp_arm.h"

#define VIP 0x0af40905u /* 10.244.9.5 */
#define ID 4242u
#define BATCH 8

static struct {
	struct slim_bpf *bpf;
	int cg_fd, owner_fd;
	struct stamp_arm arm;
} T = {.cg_fd = -1, .owner_fd = -1, .arm = {.fd = -1}};

static int setup(void)
{
	char err[512] = "";

	/* Our own network namespace: nothing here touches the host's. */
	if (unshare(CLONE_NEWNET)) {
		fail("unshare(CLONE_NEWNET): %s", strerror(errno));
		return -1;
	}
	T.cg_fd = test_cgroup_enter("pool-stamp-test", 40);
	if (T.cg_fd < 0)
		return -1;
	T.bpf = slim_bpf_load(err, sizeof(err));
	if (!T.bpf || slim_bpf_attach_cgroup(T.bpf, T.cg_fd, err, sizeof(err))) {
		fail("%s", err);
		return -1;
	}
	T.owner_fd = slim_bpf_map_fd(T.bpf, SLIM_MAP_OWNER);
	/* A failed start-up check still lets the checks below run (and say
	 * more), once the arming map is known. */
	if (stamp_arm_init(&T.arm, slim_bpf_stamp_arm_fd(T.bpf), T.owner_fd, err, sizeof(err))) {
		fail("the router's start-up check: %s", err);
		return T.arm.fd >= 0 ? 0 : -1;
	}
	printf("%s: sock_create program: %s\n", test_prog,
	       slim_bpf_stamp_initns(T.bpf) ? "initial pid namespace fallback"
					    : "thread id in the router's pid namespace");
	pass("loaded, attached, and the router's start-up check (stamp_arm_init) passed");
	return 0;
}

static void cleanup(void)
{
	slim_bpf_destroy(T.bpf);
	T.bpf = NULL;
	test_cgroup_leave();
}

/* fd's owner storage into *o: 1 stamped, 0 not, -1 (a failure reported)
 * when it cannot tell. */
static int owner_of(int fd, struct slim_owner *o)
{
	memset(o, 0, sizeof(*o));
	if (bpf_map_lookup_elem(T.owner_fd, &fd, o) == 0)
		return 1;
	if (errno == ENOENT)
		return 0;
	fail("look up the owner of fd %d: %s", fd, strerror(errno));
	return -1;
}

/* A new socket of the given kind: 1 stamped, 0 not, -1 on failure. */
static int new_socket_stamped(int family, int type)
{
	struct slim_owner o;
	int fd = socket(family, type | SOCK_CLOEXEC, 0), r;

	if (fd < 0) {
		fail("socket(%d, %d): %s", family, type, strerror(errno));
		return -1;
	}
	r = owner_of(fd, &o);
	close(fd);
	return r;
}

static void disarm(void)
{
	int e = stamp_disarm(&T.arm);

	if (e)
		fail("stamp_disarm: %s", strerror(e));
}

/* A batch carries what the per-socket stamp writes, byte for byte. */
static void check_batch(void)
{
	const struct slim_owner want = {.vip = htonl(VIP), .container_id = htonl(ID)};
	struct slim_owner ref, got;
	int fds[BATCH], ref_fd = -1, bad = 0, e;
	const char *what = "";
	size_t made = 0;

	e = hostsock_client(T.owner_fd, VIP, ID, &ref_fd, &what);
	if (e) {
		fail("hostsock_client: %s: %s", what, strerror(e));
		return;
	}
	if (owner_of(ref_fd, &ref) != 1 || memcmp(&ref, &want, sizeof(want)) != 0)
		fail("the per-socket stamp reads back wrong: vip %08x id %u dst %08x:%u flags %u",
		     ntohl(ref.vip), ntohl(ref.container_id), ntohl(ref.dst_ip),
		     ntohs(ref.dst_port), ref.flags);
	close(ref_fd);
	e = hostsock_client_batch(&T.arm, VIP, ID, fds, BATCH, &made, &what);
	if (e || made != BATCH) {
		fail("hostsock_client_batch: %s: %s (%zu of %d made)", what, strerror(e), made,
		     BATCH);
		for (size_t i = 0; i < made; i++)
			close(fds[i]);
		return;
	}
	for (size_t i = 0; i < made; i++) {
		int r = owner_of(fds[i], &got);

		if (r != 1 || memcmp(&got, &ref, sizeof(ref)) != 0) {
			fail("batch socket %zu: %s: vip %08x id %u dst %08x:%u flags %u", i,
			     r == 1 ? "owner differs from the per-socket stamp" : "not stamped",
			     ntohl(got.vip), ntohl(got.container_id), ntohl(got.dst_ip),
			     ntohs(got.dst_port), got.flags);
			bad++;
		}
		close(fds[i]);
	}
	if (!bad)
		pass("a batch of 8 is stamped exactly as hostsock_client stamps "
		     "{vip, id, dst 0:0, flags 0}");
	if (new_socket_stamped(AF_INET, SOCK_STREAM) != 0)
		fail("a socket after the batch (disarmed) is stamped");
	else
		pass("after the batch, the thread's next socket is not stamped");
}

static void *other_thread(void *arg)
{
	*(int *)arg = new_socket_stamped(AF_INET, SOCK_STREAM);
	return NULL;
}

/* Armed for this thread: another thread's socket is left alone. */
static void check_other_thread(void)
{
	pthread_t th;
	int theirs = -1, ours, e;

	if ((e = stamp_arm(&T.arm, VIP, ID, 4)) != 0) {
		fail("stamp_arm: %s", strerror(e));
		return;
	}
	if ((e = pthread_create(&th, NULL, other_thread, &theirs)) != 0) {
		fail("pthread_create: %s", strerror(e));
		disarm();
		return;
	}
	pthread_join(th, NULL);
	ours = new_socket_stamped(AF_INET, SOCK_STREAM);
	disarm();
	if (theirs != 0)
		fail("armed for thread %d, a socket of another thread %s", (int)gettid(),
		     theirs == 1 ? "was stamped" : "could not be checked");
	else if (ours != 1)
		fail("armed, the arming thread's socket was not stamped (so the other thread's "
		     "result proves nothing)");
	else
		pass("armed: another thread's socket is not stamped, the arming thread's is");
	if (new_socket_stamped(AF_INET, SOCK_STREAM) != 0)
		fail("after the disarm, a socket is stamped");
	else
		pass("after the disarm, no socket is stamped");
}

/* The count bounds the batch, and only AF_INET TCP sockets use it up. */
static void check_count_and_kinds(void)
{
	int e, r[5];

	if ((e = stamp_arm(&T.arm, VIP, ID, 2)) != 0) {
		fail("stamp_arm: %s", strerror(e));
		return;
	}
	r[0] = new_socket_stamped(AF_INET, SOCK_DGRAM);
	r[1] = new_socket_stamped(AF_INET6, SOCK_STREAM);
	r[2] = new_socket_stamped(AF_INET, SOCK_STREAM);
	r[3] = new_socket_stamped(AF_INET, SOCK_STREAM);
	r[4] = new_socket_stamped(AF_INET, SOCK_STREAM);
	disarm();
	if (r[0] != 0 || r[1] != 0)
		fail("armed: a UDP socket %s, an AF_INET6 TCP socket %s (neither should be)",
		     r[0] == 1 ? "stamped" : "not stamped", r[1] == 1 ? "stamped" : "not stamped");
	else
		pass("armed: UDP and AF_INET6 sockets are not stamped");
	if (r[2] != 1 || r[3] != 1 || r[4] != 0)
		fail("armed for 2: the next three TCP sockets came out %d %d %d (want 1 1 0)", r[2],
		     r[3], r[4]);
	else
		pass("armed for 2: two TCP sockets stamped, the third not");
}

/* In a pid namespace of its own (a grandchild, pid 1 there, in our cgroup
 * with our map fds): the router's start-up check and a batch. Returns the
 * grandchild's verdict: 0 stamped as it should be, 1 the start-up check
 * refused, 2 the check passed but the batch came out wrong, 3 could not
 * run. */
static int batch_in_pid_namespace(void)
{
	struct stamp_arm a;
	struct slim_owner o;
	char err[512];
	int fds[2];
	size_t made = 0;
	const char *what;

	if (stamp_arm_init(&a, T.arm.fd, T.owner_fd, err, sizeof(err)) != 0) {
		printf("%s: in a pid namespace: %s\n", test_prog, err);
		return 1;
	}
	if (hostsock_client_batch(&a, VIP, ID, fds, 2, &made, &what) != 0 || made != 2)
		return 2;
	for (size_t i = 0; i < made; i++) {
		if (bpf_map_lookup_elem(T.owner_fd, &fds[i], &o) != 0 || o.vip != htonl(VIP) ||
		    o.container_id != htonl(ID))
			made = 0;
		close(fds[i]);
	}
	return made == 2 ? 0 : 2;
}

/* Forks a child that enters a new pid namespace and forks the grandchild
 * that runs batch_in_pid_namespace. Returns its verdict, or 3. */
static int run_in_pid_namespace(void)
{
	int status;
	pid_t child = fork();

	if (child < 0)
		return 3;
	if (child == 0) {
		pid_t g;
		/* Not the parent's watchdog: it would move the parent's pid. */
		signal(SIGALRM, SIG_DFL);
		alarm(20);
		if (unshare(CLONE_NEWPID) != 0)
			_exit(3);
		g = fork();
		if (g < 0)
			_exit(3);
		if (g == 0) {
			int v = batch_in_pid_namespace();
			fflush(stdout);
			_exit(v);
		}
		if (waitpid(g, &status, 0) != g || !WIFEXITED(status))
			_exit(3);
		_exit(WEXITSTATUS(status));
	}
	if (waitpid(child, &status, 0) != child || !WIFEXITED(status))
		return 3;
	return WEXITSTATUS(status);
}

/* The main program matches the thread wherever the router runs; the
 * fallback (initial pid namespace) cannot, and then the router's start-up
 * check must refuse rather than let it hand out bare sockets. */
static void check_pid_namespace(void)
{
	int v = run_in_pid_namespace(), want = slim_bpf_stamp_initns(T.bpf) ? 1 : 0;

	if (v == 3)
		fail("could not run a process in a new pid namespace");
	else if (v != want)
		fail("in a pid namespace of its own: verdict %d, want %d (0 stamped, 1 start-up "
		     "check refused, 2 a batch came out wrong)",
		     v, want);
	else
		pass(want ? "in a pid namespace of its own, the fallback's start-up check refuses"
			  : "in a pid namespace of its own, the start-up check passes and a "
			    "batch is stamped");
}

int main(int argc, char **argv)
{
	(void)argc;
	if (test_begin(argv, "pool_stamp", "creates a cgroup and loads BPF programs"))
		return 1;
	if (setup() == 0) {
		check_batch();
		check_other_thread();
		check_count_and_kinds();
		check_pid_namespace();
	}
	cleanup();
	return test_verdict();
}
