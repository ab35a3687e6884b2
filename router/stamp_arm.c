/* Arming the sock_create program. The program matches the thread by its id
 * in the pid namespace the arming entry names, so the router's own view of
 * its thread id (gettid) is what it compares with, wherever the router
 * runs. */
#define _GNU_SOURCE /* gettid */
#include "stamp_arm.h"
#include "slim_maps.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* The calling thread's id, asked once per thread (one system call less per
 * batch), and again after a fork: the child's thread inherits the value
 * but has an id of its own. */
static __thread uint32_t cached_tid;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void forget_tid(void)
{
	cached_tid = 0;
}

static void register_atfork(void)
{
	(void)pthread_atfork(NULL, NULL, forget_tid);
}

static uint32_t my_tid(void)
{
	if (!cached_tid) {
		pthread_once(&atfork_once, register_atfork);
		cached_tid = (uint32_t)gettid();
	}
	return cached_tid;
}

static int write_entry(const struct stamp_arm *a, const struct slim_stamp_arm *v)
{
	uint32_t key = 0;

	if (bpf_map_update_elem(a->fd, &key, v, BPF_ANY) != 0)
		return errno ? errno : EIO;
	return 0;
}

int stamp_arm(const struct stamp_arm *a, uint32_t vip, uint32_t id, uint32_t count)
{
	struct slim_stamp_arm v = {.pidns_dev = a->pidns_dev,
				   .pidns_ino = a->pidns_ino,
				   .tid = my_tid(),
				   .left = count,
				   .vip = htonl(vip),
				   .container_id = htonl(id)};

	return write_entry(a, &v);
}

int stamp_disarm(const struct stamp_arm *a)
{
	struct slim_stamp_arm v = {.pidns_dev = a->pidns_dev, .pidns_ino = a->pidns_ino};

	return write_entry(a, &v);
}

/* Creates one TCP socket and says whether it carries owner storage: 1
 * stamped, 0 bare, -1 with errno when it cannot tell. */
static int probe_socket(int owner_fd)
{
	struct slim_owner o;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), r, e;

	if (fd < 0)
		return -1;
	r = bpf_map_lookup_elem(owner_fd, &fd, &o) == 0 ? 1 : errno == ENOENT ? 0 : -1;
	e = errno;
	close(fd);
	errno = e;
	return r;
}

struct probe_thread {
	int owner_fd;
	int result;
	int err;
};

static void *probe_in_thread(void *arg)
{
	struct probe_thread *t = arg;

	t->result = probe_socket(t->owner_fd);
	t->err = errno;
	return NULL;
}

int stamp_arm_init(struct stamp_arm *a, int map_fd, int owner_fd, char *err, size_t errlen)
{
	struct probe_thread t = {.owner_fd = owner_fd, .result = -1, .err = EIO};
	struct stat st;
	pthread_t th;
	int mine, e;

	if (map_fd < 0 || owner_fd < 0) {
		snprintf(err, errlen, "cannot arm the sock_create program: %s (load it first)",
			 strerror(EINVAL));
		return -1;
	}
	if (stat("/proc/self/ns/pid", &st) != 0) {
		snprintf(err, errlen, "cannot stat /proc/self/ns/pid: %s (is /proc mounted?)",
			 strerror(errno));
		return -1;
	}
	a->fd = map_fd;
	a->pidns_dev = (uint64_t)st.st_dev;
	a->pidns_ino = (uint64_t)st.st_ino;
	/* Two sockets at most: the probe and whatever the other thread makes
	 * if the thread match were broken. */
	if ((e = stamp_arm(a, 0, 0, 2)) != 0) {
		snprintf(err, errlen, "cannot arm the sock_create program: %s", strerror(e));
		return -1;
	}
	if ((e = pthread_create(&th, NULL, probe_in_thread, &t)) == 0)
		pthread_join(th, NULL);
	else
		t.err = e;
	mine = probe_socket(owner_fd);
	if (mine < 0)
		snprintf(err, errlen, "sock_create check: %s", strerror(errno));
	if ((e = stamp_disarm(a)) != 0) {
		snprintf(err, errlen, "cannot disarm the sock_create program: %s", strerror(e));
		return -1;
	}
	if (mine < 0)
		return -1;
	if (t.result < 0) {
		snprintf(err, errlen, "sock_create check in a second thread: %s", strerror(t.err));
		return -1;
	}
	if (mine == 0 || t.result == 1) {
		snprintf(err, errlen,
			 "the sock_create program %s (is the router in the cgroup the programs are "
			 "attached to?)",
			 mine == 0 ? "did not stamp a socket of the thread that armed it"
				   : "stamped a socket of a thread that did not arm it");
		return -1;
	}
	return 0;
}
