/* bpf_path: proves the kernel path of the overlay without the router.
 *
 * In a private network + mount namespace and a cgroup of its own, the test
 * loads the programs with slim_bpf, builds a reuseport group on
 * 127.0.0.1:PORT (anchor with the sk_reuseport program + two listeners filed
 * in the listeners SOCKHASH under two virtual keys), and connects stamped
 * and unstamped clients. Exits 0 only if every check passed. Needs root. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "slim_bpf.h"
#include "slim_maps.h"

#define PORT 7771
#define NLISTENERS 2
#define CLIENT_VIP "10.244.9.9"
#define CLIENT_ID 42

static const char *prog = "bpf_path";
static int failures;

/* Everything the test must undo, whatever happens. */
static struct {
	char cg_root[4096]; /* cgroup2 mount point */
	char cg_orig[4096]; /* the cgroup we started in */
	char cg_test[4096]; /* the cgroup we created ("" if none) */
	char bpffs[64];	    /* private bpffs mount point ("" if none) */
	int bpffs_mounted;
	struct slim_bpf *bpf;
	int cg_fd, anchor, lst[NLISTENERS];
} T = {.cg_fd = -1, .anchor = -1, .lst = {-1, -1}};

/* Watchdog: if the test hangs, leave the cgroup and remove it before dying
 * (async-signal-safe calls only, paths prepared in advance). */
static char wd_procs[4200], wd_pid[32];

static void on_alarm(int sig)
{
	static const char msg[] = "bpf_path: FAIL: timed out, giving up\n";
	int fd;

	(void)sig;
	if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0) {
		/* nothing more to do */
	}
	fd = open(wd_procs, O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (write(fd, wd_pid, strlen(wd_pid)) > 0)
			rmdir(T.cg_test);
		close(fd);
	}
	_exit(1);
}

static void fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "%s: FAIL: ", prog);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	failures++;
}

static void pass(const char *what)
{
	printf("%s: ok: %s\n", prog, what);
}

static void xclose(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;
	int e;

	if (fd < 0)
		return -1;
	n = write(fd, s, strlen(s));
	e = errno;
	close(fd);
	errno = e;
	return n == (ssize_t)strlen(s) ? 0 : -1;
}

/* The cgroup2 mount point from /proc/self/mountinfo. Returns 0 or -1. */
static int find_cgroup2(char *out, size_t outlen)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[8192];
	int found = -1;

	if (!f)
		return -1;
	while (found && fgets(line, sizeof(line), f)) {
		char mnt[4096], fstype[64];
		char *sep = strstr(line, " - ");

		/* id parent major:minor root mountpoint ... - fstype ... */
		if (!sep || sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1 ||
		    sscanf(sep + 3, "%63s", fstype) != 1)
			continue;
		if (strcmp(fstype, "cgroup2") == 0 && strlen(mnt) < outlen) {
			strcpy(out, mnt); /* octal escapes (\040) are not expected here */
			found = 0;
		}
	}
	fclose(f);
	return found;
}

/* Our cgroup v2 path ("0::/path") joined to the mount point. */
static int current_cgroup(const char *root, char *out, size_t outlen)
{
	FILE *f = fopen("/proc/self/cgroup", "re");
	char line[4096];
	int found = -1;

	if (!f)
		return -1;
	while (found && fgets(line, sizeof(line), f)) {
		if (strncmp(line, "0::", 3) != 0)
			continue;
		line[strcspn(line, "\n")] = '\0';
		if ((size_t)snprintf(out, outlen, "%s%s", root, line + 3) < outlen)
			found = 0;
	}
	fclose(f);
	return found;
}

static int set_lo_up(void)
{
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int ret = -1;

	if (s < 0)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(s, SIOCGIFFLAGS, &ifr) == 0) {
		ifr.ifr_flags |= IFF_UP;
		ret = ioctl(s, SIOCSIFFLAGS, &ifr);
	}
	close(s);
	return ret;
}

/* Private netns (so the port and loopback are ours) and mount ns (so the
 * bpffs we mount for the pin check vanishes with us). */
static int setup_namespaces(void)
{
	if (unshare(CLONE_NEWNET | CLONE_NEWNS)) {
		fail("unshare(CLONE_NEWNET|CLONE_NEWNS): %s", strerror(errno));
		return -1;
	}
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL)) {
		fail("make mounts private: %s", strerror(errno));
		return -1;
	}
	if (set_lo_up()) {
		fail("bring lo up: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static int setup_cgroup(void)
{
	char procs[4200], pid[32];

	if (find_cgroup2(T.cg_root, sizeof(T.cg_root))) {
		fail("no cgroup2 mount in /proc/self/mountinfo (mount cgroup v2)");
		return -1;
	}
	if (current_cgroup(T.cg_root, T.cg_orig, sizeof(T.cg_orig))) {
		fail("cannot find our cgroup v2 in /proc/self/cgroup");
		return -1;
	}
	if (snprintf(T.cg_test, sizeof(T.cg_test), "%s/bpf-test-%d", T.cg_root, (int)getpid()) >=
	    (int)sizeof(T.cg_test)) {
		fail("cgroup path too long under %s", T.cg_root);
		T.cg_test[0] = '\0';
		return -1;
	}
	if (mkdir(T.cg_test, 0755)) {
		fail("mkdir %s: %s", T.cg_test, strerror(errno));
		T.cg_test[0] = '\0';
		return -1;
	}
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", T.cg_test);
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	if (write_file(procs, pid)) {
		fail("move into %s: %s", T.cg_test, strerror(errno));
		return -1;
	}
	snprintf(wd_procs, sizeof(wd_procs), "%s/cgroup.procs", T.cg_orig);
	snprintf(wd_pid, sizeof(wd_pid), "%d", (int)getpid());
	signal(SIGALRM, on_alarm);
	alarm(40);
	T.cg_fd = open(T.cg_test, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (T.cg_fd < 0) {
		fail("open %s: %s", T.cg_test, strerror(errno));
		return -1;
	}
	return 0;
}

static void cleanup(void)
{
	char procs[4200], pid[32];
	int i;

	for (i = 0; i < NLISTENERS; i++)
		xclose(&T.lst[i]);
	xclose(&T.anchor);
	xclose(&T.cg_fd);
	if (T.bpf)
		slim_bpf_unpin(T.bpf);
	slim_bpf_destroy(T.bpf);
	T.bpf = NULL;
	if (T.bpffs_mounted && umount2(T.bpffs, MNT_DETACH))
		fail("umount %s: %s", T.bpffs, strerror(errno));
	if (T.bpffs[0] && rmdir(T.bpffs))
		fail("rmdir %s: %s", T.bpffs, strerror(errno));
	if (T.cg_test[0]) {
		snprintf(procs, sizeof(procs), "%s/cgroup.procs", T.cg_orig);
		snprintf(pid, sizeof(pid), "%d", (int)getpid());
		if (write_file(procs, pid))
			fail("move back to %s: %s", T.cg_orig, strerror(errno));
		else if (rmdir(T.cg_test))
			fail("rmdir %s: %s (remove it by hand)", T.cg_test, strerror(errno));
	}
}

static struct sockaddr_in loopback(void)
{
	struct sockaddr_in a;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons(PORT);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

static struct slim_vaddr vaddr(const char *ip, int port)
{
	struct slim_vaddr v;

	memset(&v, 0, sizeof(v));
	inet_pton(AF_INET, ip, &v.ip);
	v.port = htons(port);
	return v;
}

/* A non-blocking TCP socket bound to 127.0.0.1:PORT with SO_REUSEPORT, not
 * listening. */
static int reuseport_socket(void)
{
	struct sockaddr_in a = loopback();
	int one = 1;
	/* Non-blocking so accept() can test an empty queue. */
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a))) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static int setup_group(void)
{
	static const char *const vips[NLISTENERS] = {"10.244.1.2", "10.244.1.3"};
	int lmap = slim_bpf_map_fd(T.bpf, SLIM_MAP_LISTENERS);
	int prog_fd = slim_bpf_reuseport_prog_fd(T.bpf);
	int one = 1, i;

	T.anchor = reuseport_socket();
	if (T.anchor < 0) {
		fail("anchor socket on 127.0.0.1:%d: %s", PORT, strerror(errno));
		return -1;
	}
	if (setsockopt(T.anchor, SOL_SOCKET, SO_ATTACH_REUSEPORT_EBPF, &prog_fd, sizeof(prog_fd)) ||
	    listen(T.anchor, 16)) {
		fail("anchor: SO_ATTACH_REUSEPORT_EBPF/listen: %s", strerror(errno));
		return -1;
	}
	for (i = 0; i < NLISTENERS; i++) {
		struct slim_vaddr key = vaddr(vips[i], 80);
		__u64 val;
		int saved = 0;
		socklen_t len = sizeof(saved);

		T.lst[i] = reuseport_socket();
		if (T.lst[i] < 0) {
			fail("listener %s: %s", vips[i], strerror(errno));
			return -1;
		}
		/* Listener 0 sets TCP_SAVE_SYN like the router; listener 1
		 * relies on the sockops TCP_LISTEN_CB doing it. */
		if (i == 0 && setsockopt(T.lst[i], IPPROTO_TCP, TCP_SAVE_SYN, &one, sizeof(one))) {
			fail("TCP_SAVE_SYN: %s", strerror(errno));
			return -1;
		}
		if (listen(T.lst[i], 16)) {
			fail("listen %s: %s", vips[i], strerror(errno));
			return -1;
		}
		if (getsockopt(T.lst[i], IPPROTO_TCP, TCP_SAVE_SYN, &saved, &len) || saved != 1)
			fail("listener %s: TCP_SAVE_SYN is %d after listen (sockops LISTEN_CB)",
			     vips[i], saved);
		else if (i == 1)
			pass("sockops TCP_LISTEN_CB set TCP_SAVE_SYN on a listener");
		val = (__u64)T.lst[i];
		if (bpf_map_update_elem(lmap, &key, &val, BPF_NOEXIST)) {
			fail("insert listener %s:80 into listeners: %s", vips[i], strerror(errno));
			return -1;
		}
	}
	pass("anchor + 2 listeners in one reuseport group, filed in listeners SOCKHASH");
	return 0;
}

/* Returns 0 if an entry of the SOCKHASH for key reports the cookie of fd. */
static void check_sockhash_cookie(const char *vip, int fd)
{
	struct slim_vaddr key = vaddr(vip, 80);
	__u64 cookie = 0, val = 0;
	socklen_t len = sizeof(cookie);

	if (getsockopt(fd, SOL_SOCKET, SO_COOKIE, &cookie, &len)) {
		fail("SO_COOKIE: %s", strerror(errno));
		return;
	}
	if (bpf_map_lookup_elem(slim_bpf_map_fd(T.bpf, SLIM_MAP_LISTENERS), &key, &val))
		fail("lookup listeners %s:80: %s", vip, strerror(errno));
	else if (val != cookie)
		fail("listeners %s:80 holds cookie %llu, socket has %llu", vip,
		     (unsigned long long)val, (unsigned long long)cookie);
	else
		pass("user-space SOCKHASH lookup returns the listener's SO_COOKIE");
}

static void check_duplicate_insert(void)
{
	struct slim_vaddr key = vaddr("10.244.1.2", 80);
	__u64 val = (__u64)T.anchor;

	if (bpf_map_update_elem(slim_bpf_map_fd(T.bpf, SLIM_MAP_LISTENERS), &key, &val,
				BPF_NOEXIST) == 0)
		fail("second insert of 10.244.1.2:80 with BPF_NOEXIST succeeded");
	else if (errno != EEXIST)
		fail("second insert of 10.244.1.2:80: %s, expected EEXIST", strerror(errno));
	else
		pass("BPF_NOEXIST on a taken virtual key fails with EEXIST");
}

/* A client socket, stamped with its owner if owner (its destination comes
 * from connect() through the connect4 program). */
static int client(int owner)
{
	struct timeval tv = {.tv_sec = 3};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0) {
		fail("client socket: %s", strerror(errno));
		return -1;
	}
	/* A SYN that vanishes must not hang the test for minutes. */
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (owner) {
		struct slim_owner o = {.container_id = htonl(CLIENT_ID)};

		inet_pton(AF_INET, CLIENT_VIP, &o.vip);
		if (bpf_map_update_elem(slim_bpf_map_fd(T.bpf, SLIM_MAP_OWNER), &fd, &o, BPF_ANY)) {
			fail("stamp owner: %s", strerror(errno));
			close(fd);
			return -1;
		}
	}
	return fd;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* connect() to dst_vip:80, or to 127.0.0.1:PORT (the reserved port itself)
 * if dst_vip is NULL. Returns 0 or the errno, and the time taken. */
static int do_connect(int fd, const char *dst_vip, double *secs)
{
	struct sockaddr_in a = loopback();
	double t0 = now();

	if (dst_vip) {
		a.sin_port = htons(80);
		inet_pton(AF_INET, dst_vip, &a.sin_addr);
	}
	int r = connect(fd, (struct sockaddr *)&a, sizeof(a));
	int e = errno;

	*secs = now() - t0;
	return r ? e : 0;
}

/* Non-blocking accept on every listener and the anchor; returns the
 * accepted fd from listener want (or -1) and fails on any other. */
static int accept_from(int want)
{
	int got = -1, i;

	for (i = -1; i < NLISTENERS; i++) {
		int lfd = i < 0 ? T.anchor : T.lst[i];
		int fd;

		if (lfd < 0)
			continue; /* closed on purpose */
		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd >= 0 && i == want) {
			got = fd;
		} else if (fd >= 0) {
			fail("connection landed on %s%d instead of listener %d",
			     i < 0 ? "the anchor" : "listener ", i < 0 ? 0 : i, want);
			close(fd);
		} else if (errno != EAGAIN && errno != EWOULDBLOCK) {
			fail("accept: %s", strerror(errno));
		} else if (i == want) {
			fail("nothing in listener %d's accept queue", want);
		}
	}
	return got;
}

/* ip:port of fd from getsockname (peer 0) or getpeername (peer 1). */
static int name_of(int fd, int peer, char *out, size_t outlen)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	char ip[INET_ADDRSTRLEN];
	int r = peer ? getpeername(fd, (struct sockaddr *)&a, &len)
		     : getsockname(fd, (struct sockaddr *)&a, &len);

	if (r != 0 || len != sizeof(a) || !inet_ntop(AF_INET, &a.sin_addr, ip, sizeof(ip)))
		return -1;
	snprintf(out, outlen, "%s:%u", ip, ntohs(a.sin_port));
	return 0;
}

/* The getsockname4/getpeername4 programs report the virtual addresses on
 * both ends, and connect4 recorded the client's destination. */
static void check_names(int accepted, int client_fd, const char *local_vip)
{
	char want[64], got[64], cport[64];
	struct slim_owner o;
	struct slim_vaddr want_in = vaddr(local_vip, 80);

	if (name_of(client_fd, 0, got, sizeof(got)) || strncmp(got, CLIENT_VIP ":", 11) != 0) {
		fail("client getsockname: %s, want " CLIENT_VIP ":<port>", got);
		return;
	}
	snprintf(cport, sizeof(cport), "%s", got + strlen(CLIENT_VIP) + 1);
	snprintf(want, sizeof(want), "%s:80", local_vip);
	if (name_of(client_fd, 1, got, sizeof(got)) || strcmp(got, want) != 0)
		fail("client getpeername: %s, want %s", got, want);
	else if (name_of(accepted, 0, got, sizeof(got)) || strcmp(got, want) != 0)
		fail("accepted getsockname: %s, want %s", got, want);
	else if (snprintf(want, sizeof(want), CLIENT_VIP ":%s", cport) < 0 ||
		 name_of(accepted, 1, got, sizeof(got)) || strcmp(got, want) != 0)
		fail("accepted getpeername: %s, want %s", got, want);
	else
		pass("getsockname/getpeername report virtual addresses on both ends");
	if (bpf_map_lookup_elem(slim_bpf_map_fd(T.bpf, SLIM_MAP_OWNER), &client_fd, &o) ||
	    o.dst_ip != want_in.ip || o.dst_port != want_in.port)
		fail("client owner storage does not hold the destination %s:80", local_vip);
}

static void check_peer(int accepted, int client_fd, const char *local_vip)
{
	struct slim_peer p, want;
	struct sockaddr_in cl, pr;
	socklen_t l1 = sizeof(cl), l2 = sizeof(pr);
	int ro = slim_bpf_map_fd_rdonly(T.bpf, SLIM_MAP_PEER);

	memset(&want, 0, sizeof(want));
	inet_pton(AF_INET, CLIENT_VIP, &want.peer_ip);
	inet_pton(AF_INET, local_vip, &want.local_ip);
	want.local_port = htons(80);
	memset(&p, 0xff, sizeof(p));
	if (bpf_map_lookup_elem(slim_bpf_map_fd(T.bpf, SLIM_MAP_PEER), &accepted, &p))
		fail("peer storage of the accepted socket (%s): %s", local_vip, strerror(errno));
	else if (p.peer_ip != want.peer_ip || p.local_ip != want.local_ip ||
		 p.local_port != want.local_port || p.pad != 0)
		fail("peer storage holds %08x -> %08x:%u, want " CLIENT_VIP " -> %s:80",
		     ntohl(p.peer_ip), ntohl(p.local_ip), ntohs(p.local_port), local_vip);
	else
		pass("peer storage of the accepted socket holds the virtual src/dst/port");

	if (getsockname(client_fd, (struct sockaddr *)&cl, &l1) ||
	    getpeername(accepted, (struct sockaddr *)&pr, &l2) || cl.sin_port != pr.sin_port)
		fail("accepted socket's peer port differs from the client's local port");
	check_names(accepted, client_fd, local_vip);

	if (ro < 0) {
		fail("read-only peer map fd: %s", strerror(errno));
		return;
	}
	memset(&p, 0, sizeof(p));
	if (bpf_map_lookup_elem(ro, &accepted, &p) || p.local_ip != want.local_ip)
		fail("lookup through the read-only peer fd: %s", strerror(errno));
	else if (bpf_map_update_elem(ro, &accepted, &want, BPF_ANY) == 0)
		fail("update through the read-only peer fd succeeded");
	else if (errno != EPERM)
		fail("update through the read-only peer fd: %s, expected EPERM", strerror(errno));
	else
		pass("read-only peer fd: lookup works, update fails with EPERM");
	close(ro);
}

/* Bytes flow both ways over the accepted connection (the listener's
 * SOCKHASH membership must not leak into the accepted socket). */
static void check_data(int cfd, int afd)
{
	char buf[8] = "";

	fcntl(afd, F_SETFL, 0); /* blocking; the clients have SO_SNDTIMEO only */
	if (send(cfd, "ping", 4, 0) != 4 || recv(afd, buf, 4, MSG_WAITALL) != 4 ||
	    memcmp(buf, "ping", 4) != 0 || send(afd, "pong", 4, 0) != 4 ||
	    recv(cfd, buf, 4, MSG_WAITALL) != 4 || memcmp(buf, "pong", 4) != 0)
		fail("data over the accepted connection: %s", strerror(errno));
	else
		pass("data flows both ways");
}

/* A stamped client for dst_vip must land in listener idx. */
static void check_lands(const char *dst_vip, int idx)
{
	int fd = client(1);
	double secs;
	int e, acc;

	if (fd < 0)
		return;
	e = do_connect(fd, dst_vip, &secs);
	if (e) {
		fail("connect for %s:80: %s", dst_vip, strerror(e));
		close(fd);
		return;
	}
	acc = accept_from(idx);
	if (acc >= 0) {
		printf("%s: ok: client for %s:80 landed in listener %d\n", prog, dst_vip, idx);
		check_peer(acc, fd, dst_vip);
		check_data(fd, acc);
		close(acc);
	}
	close(fd);
}

/* A client that must be refused at once with want_err: ECONNREFUSED (RST
 * from SK_DROP) or EPERM (connect4 refuses a non-overlay destination). */
static void check_refused(const char *what, int owner, const char *dst_vip, int want_err)
{
	int fd = client(owner);
	double secs;
	int e;

	if (fd < 0)
		return;
	e = do_connect(fd, dst_vip, &secs);
	if (e != want_err)
		fail("%s: connect gave %s, want %s", what, e ? strerror(e) : "success",
		     strerror(want_err));
	else if (secs > 1.0)
		fail("%s: refused only after %.1f s", what, secs);
	else
		printf("%s: ok: %s: %s in %.3f ms\n", prog, what, strerror(e), secs * 1e3);
	accept_from(-2); /* nothing may have landed anywhere */
	close(fd);
}

static void check_pins(void)
{
	char dir[128], path[192], err[256] = "";
	static const char *const names[] = {"listeners", "owner", "peer", "routes"};
	struct stat st;
	size_t i;

	snprintf(T.bpffs, sizeof(T.bpffs), "/tmp/bpf-test-XXXXXX");
	if (!mkdtemp(T.bpffs)) {
		fail("mkdtemp: %s", strerror(errno));
		T.bpffs[0] = '\0';
		return;
	}
	if (mount("bpf", T.bpffs, "bpf", 0, NULL)) {
		fail("mount bpffs on %s: %s", T.bpffs, strerror(errno));
		return;
	}
	T.bpffs_mounted = 1;
	snprintf(dir, sizeof(dir), "%s/slim-bpf-test/sub", T.bpffs);
	if (slim_bpf_pin(T.bpf, dir, err, sizeof(err))) {
		fail("first pin: %s", err);
		return;
	}
	slim_bpf_unpin(T.bpf);
	/* Leave a stale pin of the same name (another map): it must be
	 * replaced by the next pin. */
	snprintf(path, sizeof(path), "%s/peer", dir);
	if (mkdir(dir, 0700) || bpf_obj_pin(slim_bpf_map_fd(T.bpf, SLIM_MAP_OWNER), path)) {
		fail("make a stale pin %s: %s", path, strerror(errno));
		return;
	}
	if (slim_bpf_pin(T.bpf, dir, err, sizeof(err))) {
		fail("pin over a stale pin: %s", err);
		return;
	}
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct bpf_map_info info;
		__u32 len = sizeof(info);
		int fd;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		fd = bpf_obj_get(path);
		memset(&info, 0, sizeof(info));
		if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len) ||
		    strcmp(info.name, names[i]) != 0)
			fail("pin %s does not hold map %s", path, names[i]);
		if (fd >= 0)
			close(fd);
	}
	slim_bpf_unpin(T.bpf);
	if (stat(dir, &st) == 0 || errno != ENOENT)
		fail("unpin left %s behind", dir);
	else
		pass("pin (mkdir -p, stale pin replaced) and unpin");
	snprintf(path, sizeof(path), "%s/slim-bpf-test", T.bpffs);
	rmdir(path);
}

static void check_closed_listener_leaves(void)
{
	struct slim_vaddr key = vaddr("10.244.1.2", 80);
	__u64 val;

	xclose(&T.lst[0]);
	if (bpf_map_lookup_elem(slim_bpf_map_fd(T.bpf, SLIM_MAP_LISTENERS), &key, &val) == 0)
		fail("closed listener still in the listeners SOCKHASH");
	else
		pass("a closed listener leaves the SOCKHASH by itself");
	check_refused("client for the closed listener 10.244.1.2:80", 1, "10.244.1.2",
		      ECONNREFUSED);
}

/* With SYN cookies forced, the server keeps no SYN: the client's repeat of
 * the option in its first ACK must still pick the listener and give the
 * accepted socket its virtual peer. */
static void check_syncookies(void)
{
	const char *knob = "/proc/sys/net/ipv4/tcp_syncookies";

	if (write_file(knob, "2")) {
		fail("cannot force SYN cookies in the test namespace (%s)", knob);
		return;
	}
	printf("%s: SYN cookies forced (tcp_syncookies=2)\n", prog);
	check_lands("10.244.1.3", 1);
	check_lands("10.244.1.2", 0);
	if (write_file(knob, "1"))
		fail("cannot restore %s", knob);
}

/* 10.244.1.0/24 lives on "this host": the reserved port on loopback. */
static int add_route(void)
{
	struct slim_route_key k = {.prefixlen = 24};
	struct slim_route_val v = {.port = htons(PORT)};

	inet_pton(AF_INET, "10.244.1.0", &k.subnet);
	inet_pton(AF_INET, "127.0.0.1", &v.underlay_ip);
	if (bpf_map_update_elem(slim_bpf_map_fd(T.bpf, SLIM_MAP_ROUTES), &k, &v, BPF_ANY)) {
		fail("routes map: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static int run(void)
{
	char err[256] = "";

	if (setup_namespaces() || setup_cgroup())
		return -1;
	T.bpf = slim_bpf_load(err, sizeof(err));
	if (!T.bpf) {
		fail("%s", err);
		return -1;
	}
	if (slim_bpf_attach_cgroup(T.bpf, T.cg_fd, err, sizeof(err))) {
		fail("%s", err);
		return -1;
	}
	if (slim_bpf_attach_cgroup(T.bpf, T.cg_fd, err, sizeof(err)) == 0)
		fail("second attach succeeded");
	pass("loaded and attached to the test cgroup");
	if (add_route())
		return -1;
	check_pins();
	if (setup_group())
		return -1;
	check_sockhash_cookie("10.244.1.3", T.lst[1]);
	check_duplicate_insert();
	check_lands("10.244.1.2", 0);
	check_lands("10.244.1.3", 1);
	check_lands("10.244.1.2", 0);
	check_syncookies();
	check_refused("client for 10.244.1.4:80 (nobody listens)", 1, "10.244.1.4", ECONNREFUSED);
	check_refused("unstamped client straight to the reserved port", 0, NULL, ECONNREFUSED);
	check_refused("stamped client to a non-overlay address", 1, NULL, EPERM);
	check_refused("stamped client to 10.9.9.9 (no route)", 1, "10.9.9.9", EPERM);
	check_closed_listener_leaves();
	return 0;
}

int main(int argc, char **argv)
{
	(void)argc;
	if (argv[0] && strrchr(argv[0], '/'))
		prog = strrchr(argv[0], '/') + 1;
	else if (argv[0])
		prog = argv[0];
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (geteuid() != 0) {
		fprintf(stderr,
			"%s: FAIL: must run as root (it creates a network namespace and a "
			"cgroup, and loads BPF programs)\n",
			prog);
		return 1;
	}
	run();
	cleanup();
	if (failures) {
		fprintf(stderr, "%s: %d check(s) FAILED\n", prog, failures);
		return 1;
	}
	printf("%s: all checks passed\n", prog);
	return 0;
}
