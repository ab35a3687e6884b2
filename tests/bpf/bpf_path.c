/* bpf_path: proves the kernel path of the overlay without the router.
 *
 * In a private network + mount namespace and a cgroup of its own, the test
 * loads the programs with slim_bpf, builds a reuseport group on
 * 127.0.0.1:PORT (anchor with the sk_reuseport program + two listeners filed
 * in the listeners SOCKHASH under two virtual keys), and connects stamped
 * and unstamped clients; a stamped client whose vIP the routes trie gives
 * to another host, or to none, is refused and counted by reason (the
 * sender check). Then stamped sockets bind their container's vip
 * (or libslim's 0.0.0.0 mark) and listen, as an app does with a pool socket:
 * the bind4 program must move them to the reserved port (read back through
 * sock_diag, which no program rewrites) and sockops must file them at
 * listen(). The options slim sets on them for its own use read back as the
 * app set them, through raw system calls (the cgroup sockopt programs), on
 * listeners and the sockets they accept. A connection the server closes
 * first notes a TIME_WAIT on its virtual address (one the client closes
 * first does not), which a slim listener's private getsockopt reports.
 * Last, the slim-to-plain
 * translation: the tc programs carry a stamped client's connect to a vIP
 * without a slim listener into a second netns behind a veth (a container
 * with plain listeners; needs iproute2), and a plain client of this host
 * reaching that container directly is counted as plain-to-slim exactly when
 * a slim listener is filed for the port. Exits 0 only if every check
 * passed. Needs root. */
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
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>

#include <bpf/bpf.h>

#include "bpf_test.h"
#include "slim_bpf.h"
#include "slim_maps.h"

#define PORT 7771
#define NLISTENERS 2
#define CLIENT_VIP "10.244.9.9"
#define CLIENT_ID 42
/* Listeners the app binds itself on a pool socket (bind4 + sockops). */
#define NBOUND 5

/* Everything the test must undo, whatever happens. */
static struct {
	char bpffs[64]; /* private bpffs mount point ("" if none) */
	int bpffs_mounted;
	struct slim_bpf *bpf;
	int cg_fd, anchor, lst[NLISTENERS];
	int bl[NBOUND]; /* stamped sockets the app bound and listens on */
} T = {.cg_fd = -1, .anchor = -1, .lst = {-1, -1}, .bl = {-1, -1, -1, -1, -1}};

static void xclose(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
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
	T.cg_fd = test_cgroup_enter("bpf-test", 40);
	return T.cg_fd < 0 ? -1 : 0;
}

static void cleanup(void)
{
	int i;

	for (i = 0; i < NLISTENERS; i++)
		xclose(&T.lst[i]);
	for (i = 0; i < NBOUND; i++)
		xclose(&T.bl[i]);
	xclose(&T.anchor);
	if (T.bpf)
		slim_bpf_unpin(T.bpf);
	slim_bpf_destroy(T.bpf);
	T.bpf = NULL;
	if (T.bpffs_mounted && umount2(T.bpffs, MNT_DETACH))
		fail("umount %s: %s", T.bpffs, strerror(errno));
	if (T.bpffs[0] && rmdir(T.bpffs))
		fail("rmdir %s: %s", T.bpffs, strerror(errno));
	test_cgroup_leave();
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

/* Stamps fd with owner o as the router does, its container being one the
 * router has (o->vip in the live map, under o's container id). Returns 0,
 * or -1 with errno. */
static int stamp(int fd, const struct slim_owner *o)
{
	if (bpf_map_update_elem(slim_bpf_map_fd(T.bpf, SLIM_MAP_LIVE), &o->vip, &o->container_id,
				BPF_ANY))
		return -1;
	return bpf_map_update_elem(slim_bpf_map_fd(T.bpf, SLIM_MAP_OWNER), &fd, o, BPF_ANY);
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
		if (stamp(fd, &o)) {
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
static void check_names(int accepted, int client_fd, const char *local_vip, int port)
{
	char want[64], got[64], cport[64];
	struct slim_owner o;
	struct slim_vaddr want_in = vaddr(local_vip, port);

	if (name_of(client_fd, 0, got, sizeof(got)) || strncmp(got, CLIENT_VIP ":", 11) != 0) {
		fail("client getsockname: %s, want " CLIENT_VIP ":<port>", got);
		return;
	}
	snprintf(cport, sizeof(cport), "%s", got + strlen(CLIENT_VIP) + 1);
	snprintf(want, sizeof(want), "%s:%d", local_vip, port);
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
		fail("client owner storage does not hold the destination %s:%d", local_vip, port);
}

static void check_peer(int accepted, int client_fd, const char *local_vip, int port)
{
	struct slim_peer p, want;
	struct sockaddr_in cl, pr;
	socklen_t l1 = sizeof(cl), l2 = sizeof(pr);
	int ro = slim_bpf_map_fd_rdonly(T.bpf, SLIM_MAP_PEER);

	memset(&want, 0, sizeof(want));
	inet_pton(AF_INET, CLIENT_VIP, &want.peer_ip);
	inet_pton(AF_INET, local_vip, &want.local_ip);
	want.local_port = htons(port);
	memset(&p, 0xff, sizeof(p));
	if (bpf_map_lookup_elem(slim_bpf_map_fd(T.bpf, SLIM_MAP_PEER), &accepted, &p))
		fail("peer storage of the accepted socket (%s): %s", local_vip, strerror(errno));
	else if (p.peer_ip != want.peer_ip || p.local_ip != want.local_ip ||
		 p.local_port != want.local_port || p.pad != 0)
		fail("peer storage holds %08x -> %08x:%u, want " CLIENT_VIP " -> %s:%d",
		     ntohl(p.peer_ip), ntohl(p.local_ip), ntohs(p.local_port), local_vip, port);
	else
		pass("peer storage of the accepted socket holds the virtual src/dst/port");

	if (getsockname(client_fd, (struct sockaddr *)&cl, &l1) ||
	    getpeername(accepted, (struct sockaddr *)&pr, &l2) || cl.sin_port != pr.sin_port)
		fail("accepted socket's peer port differs from the client's local port");
	check_names(accepted, client_fd, local_vip, port);

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
		printf("%s: ok: client for %s:80 landed in listener %d\n", test_prog, dst_vip, idx);
		check_peer(acc, fd, dst_vip, 80);
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
		printf("%s: ok: %s: %s in %.3f ms\n", test_prog, what, strerror(e), secs * 1e3);
	accept_from(-2); /* nothing may have landed anywhere */
	close(fd);
}

static __u32 map_id(const struct slim_bpf *b, enum slim_map m)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(slim_bpf_map_fd(b, m), &info, &len))
		return 0;
	return info.id;
}

/* A pin set without app_opts (left by a router without the sockopt
 * programs) is still reused: every other map is the pinned one, app_opts a
 * fresh one. */
static void check_reuse_without_app_opts(const char *dir)
{
	char path[192], err[256] = "";
	enum slim_pins pins = SLIM_PINS_NONE;
	struct slim_bpf *b;

	snprintf(path, sizeof(path), "%s/app_opts", dir);
	if (unlink(path)) {
		fail("unlink %s: %s", path, strerror(errno));
		return;
	}
	b = slim_bpf_load_reusing(dir, &pins, err, sizeof(err));
	if (!b) {
		fail("reusing a pin set without app_opts: %s", err);
		return;
	}
	if (pins != SLIM_PINS_REUSED ||
	    map_id(b, SLIM_MAP_OWNER) != map_id(T.bpf, SLIM_MAP_OWNER) ||
	    map_id(b, SLIM_MAP_LISTENERS) != map_id(T.bpf, SLIM_MAP_LISTENERS) ||
	    !map_id(b, SLIM_MAP_APP_OPTS) ||
	    map_id(b, SLIM_MAP_APP_OPTS) == map_id(T.bpf, SLIM_MAP_APP_OPTS))
		fail("pin set without app_opts: pins %d, owner %u/%u, app_opts %u/%u (want "
		     "reused, the same owner, a new app_opts)",
		     (int)pins, map_id(b, SLIM_MAP_OWNER), map_id(T.bpf, SLIM_MAP_OWNER),
		     map_id(b, SLIM_MAP_APP_OPTS), map_id(T.bpf, SLIM_MAP_APP_OPTS));
	else
		pass("a pin set without app_opts is reused, with a fresh app_opts");
	slim_bpf_destroy(b);
}

static void check_pins(void)
{
	char dir[128], path[192], err[256] = "";
	static const char *const names[] = {"listeners", "owner", "peer",    "routes",
					    "app_opts",	 "nat",	  "ctr_ifs", "path_stats",
					    "nat_ports", "hosts", "refused", "tw"};
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
	check_reuse_without_app_opts(dir);
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
	printf("%s: SYN cookies forced (tcp_syncookies=2)\n", test_prog);
	check_lands("10.244.1.3", 1);
	check_lands("10.244.1.2", 0);
	if (write_file(knob, "1"))
		fail("cannot restore %s", knob);
}

/* ---- Listeners the app binds itself: the bind4 program moves a stamped
 * socket bound to its vip (or to SLIM_BIND_ANY_MARK, libslim's 0.0.0.0) to
 * the reserved port, and sockops files it at listen(). ---- */

#define VPORT 8080
#define SERVER_VIP "10.244.1.5" /* a container of this host (10.244.1.0/24) */
#define ANY_VIP "10.244.1.6"	/* a container whose app binds 0.0.0.0 */
#define SERVER_ID 43
/* sock_diag state masks. TCP_BOUND_INACTIVE (13, Linux 6.7) is the pseudo
 * state that lists sockets that are bound and nothing else (not listening
 * yet); it is not in the uapi headers. */
#define DIAG_BOUND (1u << 13)
#define DIAG_LISTEN (1u << TCP_LISTEN)

/* A non-blocking TCP socket stamped for the container vip, as the router
 * stamps the pool sockets it hands out. */
static int stamped(const char *vip)
{
	struct slim_owner o = {.container_id = htonl(SERVER_ID)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd < 0) {
		fail("stamped socket: %s", strerror(errno));
		return -1;
	}
	inet_pton(AF_INET, vip, &o.vip);
	if (stamp(fd, &o)) {
		fail("stamp owner %s: %s", vip, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* bind() to ip:port. Returns 0 or the errno. */
static int bind_to(int fd, const char *ip, int port)
{
	struct sockaddr_in a;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons(port);
	inet_pton(AF_INET, ip, &a.sin_addr);
	return bind(fd, (struct sockaddr *)&a, sizeof(a)) ? errno : 0;
}

static int sockopt_int(int fd, int level, int opt)
{
	int v = -1;
	socklen_t len = sizeof(v);

	if (getsockopt(fd, level, opt, &v, &len))
		return -1;
	return v;
}

static __u64 cookie_of(int fd)
{
	__u64 cookie = 0;
	socklen_t len = sizeof(cookie);

	if (getsockopt(fd, SOL_SOCKET, SO_COOKIE, &cookie, &len))
		return 0;
	return cookie;
}

/* The cookie of the socket filed in listeners under vip:port, 0 if none. */
static __u64 filed(const char *vip, int port)
{
	struct slim_vaddr key = vaddr(vip, port);
	__u64 val = 0;

	if (bpf_map_lookup_elem(slim_bpf_map_fd(T.bpf, SLIM_MAP_LISTENERS), &key, &val))
		return 0;
	return val;
}

/* The local address the kernel holds for fd, read through sock_diag (the
 * getsockname4 program cannot rewrite it), as ip:port; the socket is found
 * by its inode among the TCP sockets in states. Returns 0, or -1 if it is
 * not among them. */
static int diag_name(int fd, __u32 states, char *out, size_t outlen)
{
	struct {
		struct nlmsghdr nh;
		struct inet_diag_req_v2 r;
	} req;
	static char buf[32768] __attribute__((aligned(8)));
	struct timeval tv = {.tv_sec = 2};
	struct stat st;
	int nl, found = -1, done = 0;

	if (fstat(fd, &st))
		return -1;
	nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (nl < 0)
		return -1;
	/* A lost answer must not hang the test. */
	setsockopt(nl, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_len = sizeof(req);
	req.nh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req.r.sdiag_family = AF_INET;
	req.r.sdiag_protocol = IPPROTO_TCP;
	req.r.idiag_states = states;
	if (send(nl, &req, sizeof(req), 0) != (ssize_t)sizeof(req)) {
		close(nl);
		return -1;
	}
	while (!done) {
		long n = recv(nl, buf, sizeof(buf), 0);
		struct nlmsghdr *h;

		if (n <= 0)
			break;
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
			const struct inet_diag_msg *m = NLMSG_DATA(h);
			char ip[INET_ADDRSTRLEN];

			if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR) {
				done = 1;
				break;
			}
			if ((ino_t)m->idiag_inode != st.st_ino || found == 0 ||
			    !inet_ntop(AF_INET, m->id.idiag_src, ip, sizeof(ip)))
				continue;
			snprintf(out, outlen, "%s:%u", ip, ntohs(m->id.idiag_sport));
			found = 0;
		}
	}
	close(nl);
	return found;
}

/* getsockname (through the getsockname4 program) says want; the kernel
 * (sock_diag, in states) holds kwant. */
static int check_name_pair(const char *what, int fd, const char *want, __u32 states,
			   const char *kwant)
{
	char got[64] = "?", kgot[64] = "?";

	if (name_of(fd, 0, got, sizeof(got)) || strcmp(got, want) != 0) {
		fail("%s: getsockname %s, want %s", what, got, want);
		return -1;
	}
	if (diag_name(fd, states, kgot, sizeof(kgot))) {
		fail("%s: not among the TCP sockets sock_diag lists in states %#x", what, states);
		return -1;
	}
	if (strcmp(kgot, kwant) != 0) {
		fail("%s: the kernel holds %s (sock_diag), want %s", what, kgot, kwant);
		return -1;
	}
	return 0;
}

/* Non-blocking accept on every listener; returns the accepted fd from want
 * (or -1: then nothing may land anywhere) and fails on any other. */
static int accept_on(int want)
{
	struct lfd {
		int fd;
		const char *name;
		int idx;
	} all[1 + NLISTENERS + NBOUND];
	int n = 0, got = -1, i;

	all[n++] = (struct lfd){T.anchor, "the anchor", 0};
	for (i = 0; i < NLISTENERS; i++)
		all[n++] = (struct lfd){T.lst[i], "listener", i};
	for (i = 0; i < NBOUND; i++)
		all[n++] = (struct lfd){T.bl[i], "app-bound listener", i};
	for (i = 0; i < n; i++) {
		int fd;

		if (all[i].fd < 0)
			continue;
		fd = accept4(all[i].fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0 && all[i].fd == want) {
			got = fd;
		} else if (fd >= 0) {
			fail("connection landed on %s %d (fd %d) instead of fd %d", all[i].name,
			     all[i].idx, all[i].fd, want);
			close(fd);
		} else if (errno != EAGAIN && errno != EWOULDBLOCK) {
			fail("accept: %s", strerror(errno));
		} else if (all[i].fd == want) {
			fail("nothing in the accept queue of %s %d", all[i].name, all[i].idx);
		}
	}
	return got;
}

/* connect() to vip:port. Returns 0 or the errno, and the time taken. */
static int connect_vport(int fd, const char *vip, int port, double *secs)
{
	struct sockaddr_in a;
	double t0 = now();
	int r, e;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons(port);
	inet_pton(AF_INET, vip, &a.sin_addr);
	r = connect(fd, (struct sockaddr *)&a, sizeof(a));
	e = errno;
	*secs = now() - t0;
	return r ? e : 0;
}

/* A stamped client (cfd, or a new one if cfd < 0) for vip:port must be
 * accepted on want and nowhere else, with virtual names on both ends and
 * data both ways. Returns 0 if it landed there. */
static int check_lands_on(int cfd, const char *vip, int port, int want, const char *what)
{
	int fd = cfd >= 0 ? cfd : client(1);
	double secs;
	int e, acc, ret = -1;

	if (fd < 0)
		return -1;
	e = connect_vport(fd, vip, port, &secs);
	if (e) {
		fail("%s: connect to %s:%d: %s", what, vip, port, strerror(e));
	} else if ((acc = accept_on(want)) >= 0) {
		printf("%s: ok: %s: a client for %s:%d is accepted there\n", test_prog, what, vip,
		       port);
		check_peer(acc, fd, vip, port);
		check_data(fd, acc);
		close(acc);
		ret = 0;
	}
	if (cfd < 0)
		close(fd);
	return ret;
}

/* fd's owner storage after bind4 took the bind: the identity the router
 * stamped is untouched, dst is the address the app bound (dst_ip, 0.0.0.0
 * for the any mark) and the socket is flagged as a listener. */
static int check_owner_listener(const char *what, int fd, const char *vip, const char *dst_ip,
				int port)
{
	struct slim_owner o, want = {.container_id = htonl(SERVER_ID),
				     .dst_port = htons(port),
				     .flags = SLIM_OWNER_LISTENER};

	inet_pton(AF_INET, vip, &want.vip);
	inet_pton(AF_INET, dst_ip, &want.dst_ip);
	memset(&o, 0xff, sizeof(o));
	if (bpf_map_lookup_elem(slim_bpf_map_fd(T.bpf, SLIM_MAP_OWNER), &fd, &o)) {
		fail("%s: owner storage: %s", what, strerror(errno));
		return -1;
	}
	if (memcmp(&o, &want, sizeof(o)) != 0) {
		fail("%s: owner storage holds vip %08x id %u dst %08x:%u flags %#x, want %s id %d "
		     "dst %s:%d flags %#x",
		     what, ntohl(o.vip), ntohl(o.container_id), ntohl(o.dst_ip), ntohs(o.dst_port),
		     o.flags, vip, SERVER_ID, dst_ip, port, SLIM_OWNER_LISTENER);
		return -1;
	}
	return 0;
}

/* fd's owner storage is the bare stamp: no destination, no flag. */
static int owner_is_bare(int fd)
{
	struct slim_owner o;

	memset(&o, 0xff, sizeof(o));
	return bpf_map_lookup_elem(slim_bpf_map_fd(T.bpf, SLIM_MAP_OWNER), &fd, &o) == 0 &&
	       o.dst_ip == 0 && o.dst_port == 0 && o.flags == 0;
}

/* The router's view of a container whose host has no route is being
 * reconfigured: bind4 refuses the bind rather than pick a port, and the
 * refused bind leaves the stamp as it was. */
static void check_bind_no_route(void)
{
	int fd = stamped("10.9.9.5");
	int e1, e2;

	if (fd < 0)
		return;
	e1 = bind_to(fd, "10.9.9.5", VPORT);
	e2 = bind_to(fd, "255.255.255.255", VPORT);
	if (e1 != EPERM || e2 != EPERM)
		fail("stamped socket of 10.9.9.5 (no route): bind to its vip: %s, to the any mark: "
		     "%s, want EPERM",
		     e1 ? strerror(e1) : "success", e2 ? strerror(e2) : "success");
	else if (!owner_is_bare(fd))
		fail("a refused bind changed the owner storage");
	else
		pass("bind4: vip or any mark of a container without a route: EPERM, stamp "
		     "untouched");
	close(fd);
}

/* live_errs: the errnos of a connect of c (if c >= 0) to a listening vip
 * and of a bind of b to vip (0 for success; -1: not tried), after the live
 * map entry for vip was set by set: deleted (NULL), or the id *set. */
static void live_errs(int c, int b, const char *vip, const __u32 *set, int *e1, int *e2)
{
	int live = slim_bpf_map_fd(T.bpf, SLIM_MAP_LIVE);
	struct in_addr k;
	double secs;

	*e1 = *e2 = -1;
	inet_pton(AF_INET, vip, &k);
	if (b < 0)
		return;
	if (set ? bpf_map_update_elem(live, &k.s_addr, set, BPF_ANY)
		: bpf_map_delete_elem(live, &k.s_addr))
		return;
	if (c >= 0)
		*e1 = do_connect(c, "10.244.1.2", &secs);
	*e2 = bind_to(b, vip, VPORT);
}

static const char *err_s(int e)
{
	return e > 0 ? strerror(e) : e ? "not tried" : "success";
}

/* A deleted container (its vip out of the live map), or one whose vip now
 * belongs to another container (another id there): its stamped sockets
 * neither connect, even to a vip that listens, nor bind its vip. A
 * container restored without an id (0 there) lets any stamp through. */
static void check_deleted_container(void)
{
	const char *vip = "10.244.1.9";
	__u32 other = htonl(SERVER_ID + 1), any = 0;
	int c = stamped(vip), b = stamped(vip), e1, e2;

	live_errs(c, b, vip, NULL, &e1, &e2);
	if (e1 != EPERM || e2 != EPERM)
		fail("deleted container %s: connect to a listening vip gave %s, bind to its vip %s,"
		     " want EPERM for both",
		     vip, err_s(e1), err_s(e2));
	else
		pass("a deleted container's stamped sockets: connect and bind EPERM");
	accept_from(-2);
	live_errs(c, b, vip, &other, &e1, &e2);
	if (e1 != EPERM || e2 != EPERM)
		fail("%s under another container's id: connect gave %s, bind %s, want EPERM for "
		     "both",
		     vip, err_s(e1), err_s(e2));
	else
		pass("a vip reused by another container: the old stamped sockets connect and bind "
		     "EPERM");
	accept_from(-2);
	if (c >= 0)
		close(c);
	if (b >= 0)
		close(b);
	/* Only a bind: a connection made here would sit in a listener's
	 * queue, where the checks after this one look. stamped() makes the
	 * vip live under its id; then it is set to 0. */
	b = stamped(vip);
	live_errs(-1, b, vip, &any, &e1, &e2);
	if (e2 != 0)
		fail("%s live with id 0 (any stamp): bind gave %s, want success", vip, err_s(e2));
	else
		pass("a vip live with id 0: any stamp binds");
	if (b >= 0)
		close(b);
}

/* (6) bind4 leaves sockets without an owner stamp alone: each bind gets
 * what Linux gives it without slim. */
static void check_bind_unstamped(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	int e, ok = 1;
	struct slim_owner o;

	if (fd < 0) {
		fail("socket: %s", strerror(errno));
		return;
	}
	/* 255.255.255.255 is the any mark only for a stamped socket: Linux
	 * lets a plain TCP socket bind the broadcast address as it is. */
	e = bind_to(fd, "255.255.255.255", 8084);
	if (e) {
		fail("unstamped bind to 255.255.255.255:8084: %s", strerror(e));
		ok = 0;
	} else if (check_name_pair("unstamped socket bound to 255.255.255.255:8084", fd,
				   "255.255.255.255:8084", DIAG_BOUND, "255.255.255.255:8084")) {
		ok = 0;
	} else if (bpf_map_lookup_elem(slim_bpf_map_fd(T.bpf, SLIM_MAP_OWNER), &fd, &o) == 0) {
		fail("an unstamped socket got owner storage from its bind");
		ok = 0;
	} else if (sockopt_int(fd, SOL_SOCKET, SO_REUSEPORT) != 0 ||
		   sockopt_int(fd, SOL_SOCKET, SO_REUSEADDR) != 0) {
		fail("an unstamped socket's bind set SO_REUSEADDR/SO_REUSEPORT");
		ok = 0;
	}
	close(fd);
	/* A vip is no local address here: nothing rewrites it. */
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	e = fd < 0 ? errno : bind_to(fd, SERVER_VIP, VPORT);
	if (e != EADDRNOTAVAIL) {
		fail("unstamped bind to " SERVER_VIP ":%d: %s, want EADDRNOTAVAIL", VPORT,
		     e ? strerror(e) : "success");
		ok = 0;
	}
	if (fd >= 0)
		close(fd);
	if (ok)
		pass("bind4 leaves unstamped sockets alone (255.255.255.255:8084 stays that in "
		     "the kernel, a vip gives EADDRNOTAVAIL)");
}

/* (1) + (3) A stamped socket bound to its vip:8080 is bound to the reserved
 * port in the kernel, reports vip:8080 before and after listen(), is filed
 * at listen() and gets the overlay connections for vip:8080. */
static void check_bind_vip(void)
{
	const char *what = "stamped socket bound to " SERVER_VIP ":8080";
	char want[64], resv[64];
	int fd;

	snprintf(want, sizeof(want), "%s:%d", SERVER_VIP, VPORT);
	snprintf(resv, sizeof(resv), "127.0.0.1:%d", PORT);
	fd = T.bl[0] = stamped(SERVER_VIP);
	if (fd < 0)
		return;
	if (bind_to(fd, SERVER_VIP, VPORT)) {
		fail("%s: bind: %s", what, strerror(errno));
		return;
	}
	if (check_name_pair(what, fd, want, DIAG_BOUND, resv) == 0)
		pass("bind4: bind to vip:8080 holds the reserved port 127.0.0.1:7771 in the kernel "
		     "(sock_diag); getsockname says vip:8080");
	/* bind4 set SO_REUSEADDR + SO_REUSEPORT (the bind next to the
	 * anchor's reuseport group proves it), but the app set neither. */
	if (sockopt_int(fd, SOL_SOCKET, SO_REUSEADDR) != 0 ||
	    sockopt_int(fd, SOL_SOCKET, SO_REUSEPORT) != 0)
		fail("%s: SO_REUSEADDR %d SO_REUSEPORT %d, want 0 0 (the app's)", what,
		     sockopt_int(fd, SOL_SOCKET, SO_REUSEADDR),
		     sockopt_int(fd, SOL_SOCKET, SO_REUSEPORT));
	else if (check_owner_listener(what, fd, SERVER_VIP, SERVER_VIP, VPORT) == 0)
		pass("bind4 joined the reserved port's group (SO_REUSEPORT), recorded vip:8080 + "
		     "LISTENER; SO_REUSEADDR/SO_REUSEPORT read 0 0 as the app left them");
	if (filed(SERVER_VIP, VPORT))
		fail("%s: filed in listeners before listen()", what);
	if (listen(fd, 16)) {
		fail("%s: listen: %s", what, strerror(errno));
		return;
	}
	if (check_name_pair("after listen", fd, want, DIAG_LISTEN, resv) == 0)
		pass("after listen(): listening on 127.0.0.1:7771 (sock_diag), getsockname still "
		     "vip:8080");
	if (filed(SERVER_VIP, VPORT) != cookie_of(fd))
		fail("%s: listeners " SERVER_VIP ":%d holds cookie %llu, the socket has %llu", what,
		     VPORT, (unsigned long long)filed(SERVER_VIP, VPORT),
		     (unsigned long long)cookie_of(fd));
	else
		pass("sockops filed the listener under vip:8080 at listen()");
	check_lands_on(-1, SERVER_VIP, VPORT, fd, "listener the app bound to " SERVER_VIP ":8080");
}

/* (2) The any mark: getsockname says 0.0.0.0:8081, the kernel holds the
 * reserved port, and the listener is filed under the container's vip. */
static void check_bind_any(void)
{
	const char *what = "stamped socket bound to 255.255.255.255:8081";
	char resv[64];
	int fd;

	snprintf(resv, sizeof(resv), "127.0.0.1:%d", PORT);
	fd = T.bl[2] = stamped(ANY_VIP);
	if (fd < 0)
		return;
	if (bind_to(fd, "255.255.255.255", VPORT + 1)) {
		fail("%s: bind: %s", what, strerror(errno));
		return;
	}
	if (check_name_pair(what, fd, "0.0.0.0:8081", DIAG_BOUND, resv) == 0 &&
	    check_owner_listener(what, fd, ANY_VIP, "0.0.0.0", VPORT + 1) == 0)
		pass("bind4: the any mark reports 0.0.0.0:8081, holds 127.0.0.1:7771, records "
		     "0.0.0.0:8081 + LISTENER");
	if (listen(fd, 16)) {
		fail("%s: listen: %s", what, strerror(errno));
		return;
	}
	if (check_name_pair("any mark after listen", fd, "0.0.0.0:8081", DIAG_LISTEN, resv) == 0)
		pass("any mark after listen(): getsockname still 0.0.0.0:8081");
	if (filed(ANY_VIP, VPORT + 1) != cookie_of(fd))
		fail("%s: not filed under " ANY_VIP ":%d", what, VPORT + 1);
	else
		pass("sockops filed the any-mark listener under its container's vip");
	check_lands_on(-1, ANY_VIP, VPORT + 1, fd, "listener the app bound to 0.0.0.0:8081");
}

/* The listeners entry of vip:port in slot (0 if none). */
static __u64 filed_slot(const char *vip, int port, int slot)
{
	struct slim_vaddr key = vaddr(vip, port);
	__u64 val = 0;

	key.slot = (__u16)slot;
	if (bpf_map_lookup_elem(slim_bpf_map_fd(T.bpf, SLIM_MAP_LISTENERS), &key, &val))
		return 0;
	return val;
}

/* n clients for vip:port; counts in got[0]/got[1] the connections that
 * T.bl[0]/T.bl[1] accepted (any other listener taking one is a failure).
 * Returns the number that connected. */
static int spread(const char *vip, int port, int n, int got[2])
{
	double secs;
	int ok = 0;

	got[0] = got[1] = 0;
	for (int k = 0; k < n; k++) {
		int fd = client(1), e;

		if (fd < 0)
			continue;
		e = connect_vport(fd, vip, port, &secs);
		if (e == 0) {
			ok++;
			for (int i = 0; i < 2; i++) {
				int acc = T.bl[i] < 0 ? -1
						      : accept4(T.bl[i], NULL, NULL,
								SOCK_NONBLOCK | SOCK_CLOEXEC);

				if (acc >= 0) {
					got[i]++;
					close(acc);
				}
			}
		}
		close(fd);
	}
	return ok;
}

/* (4) A second stamped socket of the same container bound to vip:8080 (an
 * SO_REUSEPORT group of the app) listens in the reserved port's reuseport
 * group and is filed in the next slot: connections spread over both by the
 * flow hash, as the kernel spreads a reuseport group's. */
static void check_bind_second(void)
{
	const char *what = "second socket bound to " SERVER_VIP ":8080";
	char want[64], resv[64];
	int fd, got[2], n;

	if (T.bl[0] < 0)
		return;
	snprintf(want, sizeof(want), "%s:%d", SERVER_VIP, VPORT);
	snprintf(resv, sizeof(resv), "127.0.0.1:%d", PORT);
	fd = T.bl[1] = stamped(SERVER_VIP);
	if (fd < 0)
		return;
	if (bind_to(fd, SERVER_VIP, VPORT) || listen(fd, 16)) {
		fail("%s: bind/listen: %s", what, strerror(errno));
		return;
	}
	if (check_name_pair(what, fd, want, DIAG_LISTEN, resv) ||
	    check_owner_listener(what, fd, SERVER_VIP, SERVER_VIP, VPORT))
		return;
	if (filed_slot(SERVER_VIP, VPORT, 0) != cookie_of(T.bl[0]) ||
	    filed_slot(SERVER_VIP, VPORT, 1) != cookie_of(fd))
		fail("%s: slots 0/1 hold cookies %llu/%llu, want the first's %llu and its %llu",
		     what, (unsigned long long)filed_slot(SERVER_VIP, VPORT, 0),
		     (unsigned long long)filed_slot(SERVER_VIP, VPORT, 1),
		     (unsigned long long)cookie_of(T.bl[0]), (unsigned long long)cookie_of(fd));
	else
		pass(
		    "a second listener for vip:8080 is filed in slot 1, the first stays in slot 0");
	/* 32 flows: both listeners get some unless the hash is broken (the
	 * odds of one getting none by chance are 2^-31). */
	n = spread(SERVER_VIP, VPORT, 32, got);
	if (n != 32 || got[0] + got[1] != n || got[0] == 0 || got[1] == 0)
		fail("32 clients of " SERVER_VIP
		     ":8080: %d connected, accepted %d by the first and "
		     "%d by the second, want all 32 shared by both",
		     n, got[0], got[1]);
	else
		printf("%s: ok: 32 clients of vip:8080 spread over both listeners (%d / %d)\n",
		       test_prog, got[0], got[1]);
}

/* (5) A socket bind4 bound for listening is never a client: connect4
 * refuses it, and the refusal leaves its bound address alone. */
static void check_listener_connect(void)
{
	const char *what = "stamped socket bound to " SERVER_VIP ":8082";
	double secs;
	int fd = stamped(SERVER_VIP), e;

	if (fd < 0)
		return;
	if (bind_to(fd, SERVER_VIP, VPORT + 2)) {
		fail("%s: bind: %s", what, strerror(errno));
		close(fd);
		return;
	}
	/* 10.244.1.3:80 has a listener: only connect4 stands in the way. */
	e = connect_vport(fd, "10.244.1.3", 80, &secs);
	accept_on(-1);
	if (e != EPERM)
		fail("%s: connect to 10.244.1.3:80 gave %s, want EPERM", what,
		     e ? strerror(e) : "success");
	else if (check_owner_listener(what, fd, SERVER_VIP, SERVER_VIP, VPORT + 2) == 0)
		printf("%s: ok: connect4 refuses a listener-bound socket: %s in %.3f ms, its "
		       "bound address kept\n",
		       test_prog, strerror(e), secs * 1e3);
	close(fd);
}

/* (7) A client's source port keeps its address: 0.0.0.0:8085 stays that
 * in the kernel, with SO_REUSEADDR (bind4: a host port another
 * connection's TIME_WAIT may hold) that reads back 0, and the socket
 * connects through connect4 from that port; a bind to another container's
 * vip is refused (the guard: nothing but slim's binds on a host socket). */
static void check_bind_client_port(void)
{
	const char *what = "stamped socket bound to 0.0.0.0:8085";
	char got[64] = "?";
	int fd = client(1), e;

	if (fd < 0)
		return;
	e = bind_to(fd, "0.0.0.0", 8085);
	if (e) {
		fail("%s: bind: %s", what, strerror(e));
	} else if (check_name_pair(what, fd, "0.0.0.0:8085", DIAG_BOUND, "0.0.0.0:8085") == 0) {
		int other = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1, e2 = EBADF;

		/* Two bound, non-listening sockets share a port only when
		 * both have SO_REUSEADDR in the kernel. */
		if (other >= 0 &&
		    setsockopt(other, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == 0)
			e2 = bind_to(other, "0.0.0.0", 8085);
		if (other >= 0)
			close(other);
		if (!owner_is_bare(fd) || sockopt_int(fd, SOL_SOCKET, SO_REUSEPORT) != 0 ||
		    sockopt_int(fd, SOL_SOCKET, SO_REUSEADDR) != 0)
			fail("%s: owner storage changed by the bind, or options not as the app "
			     "left them (SO_REUSEADDR %d SO_REUSEPORT %d)",
			     what, sockopt_int(fd, SOL_SOCKET, SO_REUSEADDR),
			     sockopt_int(fd, SOL_SOCKET, SO_REUSEPORT));
		else if (e2)
			fail("%s: a second SO_REUSEADDR socket cannot bind 0.0.0.0:8085 (%s): "
			     "bind4 did not set SO_REUSEADDR",
			     what, strerror(e2));
		else
			pass("bind4 keeps a stamped socket's bind to 0.0.0.0:8085 (kernel, stamp), "
			     "with SO_REUSEADDR in the kernel that reads back 0");
	}
	if (e == 0 && check_lands_on(fd, SERVER_VIP, VPORT, T.bl[0], what) == 0) {
		if (name_of(fd, 0, got, sizeof(got)) || strcmp(got, CLIENT_VIP ":8085") != 0)
			fail("%s: getsockname after connect %s, want " CLIENT_VIP ":8085", what,
			     got);
		else
			pass("the client connected from its bound source port 8085");
	}
	close(fd);

	fd = stamped(SERVER_VIP);
	if (fd < 0)
		return;
	e = bind_to(fd, "10.244.1.7", VPORT);
	if (e != EPERM || !owner_is_bare(fd))
		fail("stamped socket of " SERVER_VIP " bound to 10.244.1.7:%d: %s, want "
		     "EPERM and the stamp untouched",
		     VPORT, e ? strerror(e) : "success");
	else
		pass("bind4 refuses a bind to another container's vip (EPERM), stamp untouched");
	close(fd);
}

/* Records whether call gave want (an errno, or 0). */
static int guard_case(const char *what, int got, int want)
{
	if (got == want)
		return 1;
	fail("guard: %s: %s, want %s", what, got ? strerror(got) : "success",
	     want ? strerror(want) : "success");
	return 0;
}

/* (8) The guards (bind4, the setsockopt program, guard.bpf.c): a stamped
 * socket binds only where slim puts it and sets only the options of the
 * allow-list, and a refusal records nothing; where the kernel loads BPF
 * LSM programs, it listens only on the reserved port and has no socket
 * ioctl that reaches the namespace. An unstamped socket is the kernel's
 * alone. */
static void check_guards(void)
{
	struct sockaddr_in un = {.sin_family = AF_UNSPEC, .sin_port = htons(8091)};
	int fd = stamped(SERVER_VIP), one = 1, ok = 1, lsm = slim_bpf_guards_lsm(T.bpf), u;

	if (fd < 0)
		return;
	ok &= guard_case("bind 127.0.0.1:8092", bind_to(fd, "127.0.0.1", 8092), EPERM);
	ok &= guard_case("bind 0.0.0.0:0", bind_to(fd, "0.0.0.0", 0), EPERM);
	ok &= guard_case("bind 0.0.0.0 on the reserved port", bind_to(fd, "0.0.0.0", PORT), EPERM);
	ok &= guard_case("bind AF_UNSPEC 0.0.0.0:8091",
			 bind(fd, (struct sockaddr *)&un, sizeof(un)) ? errno : 0, EPERM);
	ok &= guard_case("SO_MARK",
			 setsockopt(fd, SOL_SOCKET, SO_MARK, &one, sizeof(one)) ? errno : 0, EPERM);
	ok &= guard_case("SO_BINDTODEVICE lo",
			 setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, "lo", 2) ? errno : 0, EPERM);
	ok &=
	    guard_case("TCP_NODELAY",
		       setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) ? errno : 0, 0);
	ok &= guard_case("owner storage untouched by the refusals", !owner_is_bare(fd), 0);
	if (lsm) {
		ok &= guard_case("listen of an unbound stamped socket", listen(fd, 4) ? errno : 0,
				 EPERM);
		ok &= guard_case("SIOCGIFCONF",
				 ioctl(fd, SIOCGIFCONF, &(struct ifconf){0}) ? errno : 0, EPERM);
	}
	ok &= guard_case("bind 0.0.0.0:8093 (a source port)", bind_to(fd, "0.0.0.0", 8093), 0);
	if (lsm)
		ok &= guard_case("listen on a source port", listen(fd, 4) ? errno : 0, EPERM);
	close(fd);
	u = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ok &= guard_case("SO_MARK on an unstamped socket",
			 setsockopt(u, SOL_SOCKET, SO_MARK, &one, sizeof(one)) ? errno : 0, 0);
	ok &= guard_case("listen of an unbound unstamped socket", listen(u, 4) ? errno : 0, 0);
	if (u >= 0)
		close(u);
	if (ok && lsm)
		pass("guards: a stamped socket's binds, SO_MARK, SO_BINDTODEVICE, listen and "
		     "SIOCGIFCONF outside slim's own refused (EPERM, stamp untouched); "
		     "TCP_NODELAY and unstamped sockets left alone");
	else if (ok)
		pass("guards: a stamped socket's binds, SO_MARK and SO_BINDTODEVICE outside slim's "
		     "own refused (EPERM, stamp untouched); TCP_NODELAY and unstamped sockets left "
		     "alone (this kernel loads no BPF LSM programs: listen and ioctl unguarded)");
}

/* (4b) The slot-0 listener of the group closes: the other one, in slot 1,
 * gets every connection (no hole in the group). */
static void check_second_after_first(void)
{
	int got[2], n;

	if (T.bl[0] < 0 || T.bl[1] < 0)
		return;
	xclose(&T.bl[0]);
	n = spread(SERVER_VIP, VPORT, 4, got);
	if (n != 4 || got[1] != 4)
		fail("after the slot-0 listener of " SERVER_VIP ":8080 closed: %d of 4 clients "
		     "connected, %d accepted by the slot-1 one",
		     n, got[1]);
	else
		pass("after the slot-0 listener closed, the slot-1 one gets every connection");
}

/* The three options slim sets for its own use, through raw system calls
 * (whatever libc or libslim would do, the kernel answers). */
static int raw_get(int fd, int level, int opt, socklen_t len)
{
	int v = -1;

	if (syscall(SYS_getsockopt, fd, level, opt, &v, &len))
		return -errno;
	/* A short read fills the low bytes; the rest keeps its -1. */
	return len == sizeof(v) ? v : (int)(unsigned char)v;
}

static int raw_set(int fd, int level, int opt, int v, socklen_t len)
{
	return syscall(SYS_setsockopt, fd, level, opt, &v, len) ? errno : 0;
}

/* "a/b/c": SO_REUSEADDR, SO_REUSEPORT, TCP_SAVE_SYN as getsockopt reports
 * them. */
static const char *app_view(int fd, char *buf, size_t len)
{
	snprintf(buf, len, "%d/%d/%d", raw_get(fd, SOL_SOCKET, SO_REUSEADDR, sizeof(int)),
		 raw_get(fd, SOL_SOCKET, SO_REUSEPORT, sizeof(int)),
		 raw_get(fd, IPPROTO_TCP, TCP_SAVE_SYN, sizeof(int)));
	return buf;
}

static int expect_view(const char *what, int fd, const char *want)
{
	char got[48];

	app_view(fd, got, sizeof(got));
	if (strcmp(got, want) != 0) {
		fail("%s: SO_REUSEADDR/SO_REUSEPORT/TCP_SAVE_SYN read %s, want %s", what, got,
		     want);
		return -1;
	}
	return 0;
}

/* A stamped client connects to vip:port; returns the socket want accepted
 * (-1 after a failure). The client is closed. */
static int accepted_on(const char *vip, int port, int want)
{
	int fd = client(1), acc = -1, e;
	double secs;

	if (fd < 0)
		return -1;
	e = connect_vport(fd, vip, port, &secs);
	if (e)
		fail("connect to %s:%d: %s", vip, port, strerror(e));
	else
		acc = accept_on(want);
	close(fd);
	return acc;
}

/* (8) The cgroup sockopt programs. A listener the app binds to vip:8086
 * has SO_REUSEADDR, SO_REUSEPORT (bind4) and TCP_SAVE_SYN (sockops) in the
 * kernel and reads 0/0/0, and so does a socket it accepts. What the app
 * sets reads back (short buffers too); turning SO_REUSEPORT/SO_REUSEADDR
 * off on the listener is recorded, not applied: it still gets its
 * connections. A listener's values go to the sockets it accepts (as the
 * kernel copies the options), each of which then has its own. Values the
 * kernel refuses are refused as before and not recorded. Sockets without a
 * stamp, the anchor included, get the kernel's answers. */
static void check_app_opts(void)
{
	const char *what = "app listener on " SERVER_VIP ":8086";
	char buf[48];
	int fd, acc, anchor_ok, ok = 1;
	unsigned char c;
	socklen_t len;

	fd = T.bl[3] = stamped(SERVER_VIP);
	if (fd < 0)
		return;
	if (bind_to(fd, SERVER_VIP, 8086) || listen(fd, 16)) {
		fail("%s: bind/listen: %s", what, strerror(errno));
		return;
	}
	ok &= expect_view(what, fd, "0/0/0") == 0;
	acc = accepted_on(SERVER_VIP, 8086, fd);
	if (acc < 0)
		return;
	ok &= expect_view("socket accepted before the app set anything", acc, "0/0/0") == 0;
	close(acc);
	if (ok)
		pass("listener the app bound and its accepted socket read 0/0/0 (the kernel has "
		     "1/1/1)");

	/* On: recorded and applied; short reads see the same value. */
	ok = raw_set(fd, SOL_SOCKET, SO_REUSEADDR, 1, sizeof(int)) == 0 &&
	     raw_set(fd, IPPROTO_TCP, TCP_SAVE_SYN, 1, sizeof(int)) == 0;
	ok &= expect_view("after the app set SO_REUSEADDR and TCP_SAVE_SYN", fd, "1/0/1") == 0;
	c = 0xAA;
	len = 1;
	if (syscall(SYS_getsockopt, fd, SOL_SOCKET, SO_REUSEPORT, &c, &len) || len != 1 || c != 0) {
		fail("%s: SO_REUSEPORT into a 1-byte buffer: len %u value %u, want 1 0", what,
		     (unsigned)len, c);
		ok = 0;
	}
	acc = accepted_on(SERVER_VIP, 8086, fd);
	if (acc < 0)
		return;
	ok &= expect_view("socket accepted after the app set them", acc, "1/0/1") == 0;
	ok &= raw_set(acc, SOL_SOCKET, SO_REUSEADDR, 0, sizeof(int)) == 0;
	ok &= expect_view("accepted socket after it cleared SO_REUSEADDR", acc, "0/0/1") == 0;
	ok &= expect_view("its listener meanwhile", fd, "1/0/1") == 0;
	close(acc);
	if (ok)
		pass("values the app sets read back on the listener (1-byte buffers too), go to "
		     "the sockets it accepts, and each accepted socket keeps its own");

	/* Refused values stay refused and unrecorded. */
	ok = raw_set(fd, IPPROTO_TCP, TCP_SAVE_SYN, 5, sizeof(int)) == EINVAL &&
	     raw_set(fd, SOL_SOCKET, SO_REUSEADDR, 0, 2) == EINVAL;
	if (!ok || expect_view("after refused values", fd, "1/0/1"))
		fail("%s: TCP_SAVE_SYN 5 / a 2-byte SO_REUSEADDR: not EINVAL, or recorded", what);
	else
		pass("TCP_SAVE_SYN 5 and a 2-byte SO_REUSEADDR: EINVAL as without slim, not "
		     "recorded");

	/* Off: recorded only; the listener keeps slim's options and its
	 * overlay connections. */
	ok = raw_set(fd, SOL_SOCKET, SO_REUSEPORT, 0, sizeof(int)) == 0 &&
	     raw_set(fd, SOL_SOCKET, SO_REUSEADDR, 0, sizeof(int)) == 0 &&
	     raw_set(fd, IPPROTO_TCP, TCP_SAVE_SYN, 0, sizeof(int)) == 0;
	ok &= expect_view("after the app turned all three off", fd, "0/0/0") == 0;
	if (ok && check_lands_on(-1, SERVER_VIP, 8086, fd, "listener with all three off") == 0)
		pass("turned off by the app: read 0/0/0, the listener still gets overlay "
		     "connections (saved SYN, reuseport group)");

	/* Unstamped sockets: the kernel's own answers. */
	anchor_ok = expect_view("the anchor (router's own)", T.anchor, "0/1/1") == 0;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ok = fd >= 0 && raw_set(fd, SOL_SOCKET, SO_REUSEADDR, 1, sizeof(int)) == 0 &&
	     raw_get(fd, SOL_SOCKET, SO_REUSEADDR, sizeof(int)) == 1 &&
	     raw_set(fd, SOL_SOCKET, SO_REUSEADDR, 0, sizeof(int)) == 0 &&
	     raw_get(fd, SOL_SOCKET, SO_REUSEADDR, sizeof(int)) == 0;
	if (fd >= 0)
		close(fd);
	if (!ok)
		fail("an unstamped socket's SO_REUSEADDR did not go on and off: %s",
		     strerror(errno));
	else if (anchor_ok)
		printf("%s: ok: unstamped sockets answer as the kernel does (the anchor: %s)\n",
		       test_prog, app_view(T.anchor, buf, sizeof(buf)));
}

/* ---- (10) The TIME_WAIT emulation (lib/tw.bpf.h): sockops notes a
 * TIME_WAIT for an accepted connection's virtual address when it sends its
 * FIN first, and getsockopt(SLIM_SOL, SLIM_TW_LEFT) on a slim listener
 * answers how much of it is left. ---- */

#define TW_PORT 8087
#define TW_LEN_S 60.0

/* getsockopt(SLIM_SOL, SLIM_TW_LEFT) on fd with a len-byte buffer, as a
 * raw system call. Returns 0 with the answer in *left, or the errno. */
static int tw_ask(int fd, socklen_t len, __u64 *left)
{
	__u64 buf[2] = {~0ULL, ~0ULL};
	socklen_t l = len;

	if (syscall(SYS_getsockopt, fd, SLIM_SOL, SLIM_TW_LEFT, buf, &l))
		return errno;
	if (l != sizeof(*left)) {
		fail("SLIM_TW_LEFT answered %u bytes, want 8", (unsigned)l);
		return EPROTO;
	}
	*left = buf[0];
	return 0;
}

/* The tw map's entry for vip:port: 0 with its start in *start, or the
 * errno of the lookup (ENOENT: none). */
static int tw_entry(const char *vip, int port, __u64 *start)
{
	struct slim_tw_key k = {.port = htons(port)};

	inet_pton(AF_INET, vip, &k.ip);
	return bpf_map_lookup_elem(slim_bpf_map_fd(T.bpf, SLIM_MAP_TW), &k, start) ? errno : 0;
}

/* CLOCK_MONOTONIC in ns: what bpf_ktime_get_ns counts in this (the
 * initial) time namespace. */
static __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

/* Waits (at most 2 s) for fd to read EOF. Returns 0, or -1. */
static int read_eof(int fd)
{
	char c;

	for (int i = 0; i < 200; i++) {
		ssize_t n = recv(fd, &c, 1, MSG_DONTWAIT);

		if (n == 0)
			return 0;
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
		usleep(10000);
	}
	return -1;
}

/* The private level on fd, not a slim listener: EOPNOTSUPP, the kernel's
 * answer (ip_getsockopt knows no such level). */
static int tw_refused(const char *what, int fd)
{
	__u64 left = 0;
	int e = tw_ask(fd, sizeof(left), &left);

	if (e != EOPNOTSUPP) {
		fail("SLIM_TW_LEFT on %s: %s (left %llu), want EOPNOTSUPP", what,
		     e ? strerror(e) : "answered", (unsigned long long)left);
		return -1;
	}
	return 0;
}

/* One connection from a stamped client to vip:port, accepted on lfd and
 * closed first by the server (server_first) or by the client, the other
 * end reading its EOF. The accepted socket and the client must refuse the
 * private level. Returns 0, or -1 after a failure. */
static int tw_conn(int lfd, const char *vip, int port, int server_first)
{
	int cfd = client(1), acc, e, ok, refused;
	double secs;

	if (cfd < 0)
		return -1;
	e = connect_vport(cfd, vip, port, &secs);
	if (e) {
		fail("connect to %s:%d: %s", vip, port, strerror(e));
		close(cfd);
		return -1;
	}
	acc = accept_on(lfd);
	if (acc < 0) {
		close(cfd);
		return -1;
	}
	refused = tw_refused("an accepted socket", acc) == 0 &&
		  tw_refused("a stamped, connected client", cfd) == 0;
	if (server_first) {
		close(acc);
		ok = read_eof(cfd) == 0;
		close(cfd);
	} else {
		close(cfd);
		ok = read_eof(acc) == 0;
		close(acc);
	}
	if (!ok)
		fail("%s-first close of a connection to %s:%d: no EOF on the other end",
		     server_first ? "server" : "client", vip, port);
	return ok && refused ? 0 : -1;
}

static void check_timewait(void)
{
	const char *what = "listener on " SERVER_VIP ":8087";
	__u64 left = 0, start = 0, t0, t1;
	struct slim_tw_key k = {.port = htons(TW_PORT)};
	int fd, plain, e;

	fd = T.bl[4] = stamped(SERVER_VIP);
	if (fd < 0)
		return;
	if (bind_to(fd, SERVER_VIP, TW_PORT) || listen(fd, 16)) {
		fail("%s: bind/listen: %s", what, strerror(errno));
		return;
	}
	e = tw_ask(fd, sizeof(left), &left);
	if (e || left)
		fail("%s, no connection yet: SLIM_TW_LEFT %s %llu, want 0", what, strerror(e),
		     (unsigned long long)left);
	else
		pass("SLIM_TW_LEFT on a fresh slim listener: 0");

	/* The client closes first: the server answers its FIN (CLOSE_WAIT,
	 * LAST_ACK), no TIME_WAIT on our side. */
	if (tw_conn(fd, SERVER_VIP, TW_PORT, 0))
		return;
	e = tw_entry(SERVER_VIP, TW_PORT, &start);
	if (e != ENOENT)
		fail("%s: client-first close: tw map entry (%s), want none", what,
		     e ? strerror(e) : "present");
	else if ((e = tw_ask(fd, sizeof(left), &left)) || left)
		fail("%s: client-first close: SLIM_TW_LEFT %s %llu, want 0", what, strerror(e),
		     (unsigned long long)left);
	else
		pass("a connection the client closes first notes no TIME_WAIT; the listener "
		     "answers 0");

	/* The server closes first: a TIME_WAIT from then on. */
	t0 = mono_ns();
	if (tw_conn(fd, SERVER_VIP, TW_PORT, 1))
		return;
	t1 = mono_ns();
	e = tw_entry(SERVER_VIP, TW_PORT, &start);
	if (e)
		fail("%s: server-first close: no tw map entry (%s)", what, strerror(e));
	else if (start < t0 || start > t1)
		fail("%s: server-first close: tw entry %llu outside the close's %llu..%llu", what,
		     (unsigned long long)start, (unsigned long long)t0, (unsigned long long)t1);
	else if ((e = tw_ask(fd, sizeof(left), &left)) || left == 0 ||
		 left > (__u64)(TW_LEN_S * 1e9) || mono_ns() + left < t0 + (__u64)(TW_LEN_S * 1e9))
		fail("%s: server-first close: SLIM_TW_LEFT %s %llu ns, want 60 s from the close",
		     what, strerror(e), (unsigned long long)left);
	else
		printf(
		    "%s: ok: a connection the server closes first notes a TIME_WAIT on " SERVER_VIP
		    ":8087 at its FIN; the listener answers %.3f s left\n",
		    test_prog, (double)left / 1e9);

	/* A listener bound to 0.0.0.0 asks for its container's vip. */
	if (T.bl[2] >= 0 && tw_conn(T.bl[2], ANY_VIP, VPORT + 1, 1) == 0) {
		if ((e = tw_ask(T.bl[2], sizeof(left), &left)) || left == 0)
			fail("listener bound to 0.0.0.0:8081: SLIM_TW_LEFT %s %llu, want > 0",
			     strerror(e), (unsigned long long)left);
		else
			pass("a listener bound to 0.0.0.0 answers for its container's vip");
	}

	/* Ended: a TIME_WAIT that started 61 s ago reads 0. */
	inet_pton(AF_INET, SERVER_VIP, &k.ip);
	start = mono_ns() - 61000000000ULL;
	if (bpf_map_update_elem(slim_bpf_map_fd(T.bpf, SLIM_MAP_TW), &k, &start, BPF_EXIST))
		fail("%s: age the tw entry: %s", what, strerror(errno));
	else if ((e = tw_ask(fd, sizeof(left), &left)) || left)
		fail("%s: TIME_WAIT started 61 s ago: SLIM_TW_LEFT %s %llu, want 0", what,
		     strerror(e), (unsigned long long)left);
	else
		pass("a TIME_WAIT that started 61 s ago has ended: 0");

	/* Refused, as the kernel refuses an unknown level: a short buffer,
	 * the router's own anchor (no stamp), an unstamped listener. */
	e = tw_ask(fd, 4, &left);
	if (e != EOPNOTSUPP)
		fail("%s: SLIM_TW_LEFT into 4 bytes: %s, want EOPNOTSUPP", what,
		     e ? strerror(e) : "answered");
	plain = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (plain < 0 || listen(plain, 1)) {
		fail("unstamped listener: %s", strerror(errno));
	} else if (e == EOPNOTSUPP && tw_refused("the anchor", T.anchor) == 0 &&
		   tw_refused("an unstamped listener", plain) == 0) {
		pass("SLIM_TW_LEFT is EOPNOTSUPP on accepted sockets, clients, the anchor, an "
		     "unstamped listener and into a buffer under 8 bytes");
	}
	if (plain >= 0)
		close(plain);
}

/* ---- The slim-to-plain translation (tc_nat.bpf.c): a stamped client's
 * connect to a vIP that has no slim listener on its host is carried into
 * that container's own network. This netns plays the host (its underlay
 * address NAT_UL on lo, where a client of this very host sends its SYN);
 * a second netns behind a veth plays the container, with plain listeners
 * that see the client's vIP. ---- */

#define NAT_UL "10.99.0.1"
#define NAT_CTR_VIP "10.244.7.5"
#define NAT_CLIENT_VIP "10.244.8.8"
#define NAT_VETH "slimvh"
#define NAT_HOST_MAC "02:00:00:00:00:01"
#define NAT_CTR_MAC "02:00:00:00:00:02"

static char nat_ns[64];
static int nat_vh;

/* Runs a shell command (iproute2). Returns 0, or -1 after a failure line. */
static int sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	rc = system(cmd);
	if (rc != 0) {
		fail("'%s' exited with %d", cmd, rc);
		return -1;
	}
	return 0;
}

/* A routes entry: subnet/24 -> NAT_UL:PORT. */
static int nat_route(const char *subnet)
{
	struct slim_route_key k = {.prefixlen = 24};
	struct slim_route_val v = {.port = htons(PORT)};

	inet_pton(AF_INET, subnet, &k.subnet);
	inet_pton(AF_INET, NAT_UL, &v.underlay_ip);
	return bpf_map_update_elem(slim_bpf_map_fd(T.bpf, SLIM_MAP_ROUTES), &k, &v, BPF_ANY);
}

/* A listening socket on port made in the container netns. */
static int nat_listener(int port)
{
	char path[128];
	int host = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC), ns, fd = -1;

	snprintf(path, sizeof(path), "/run/netns/%s", nat_ns);
	ns = open(path, O_RDONLY | O_CLOEXEC);
	if (host >= 0 && ns >= 0 && setns(ns, CLONE_NEWNET) == 0) {
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd >= 0 && (bind_to(fd, "0.0.0.0", port) || listen(fd, 8))) {
			close(fd);
			fd = -1;
		}
		if (setns(host, CLONE_NEWNET) != 0) {
			fail("back to the test netns: %s", strerror(errno));
			exit(1);
		}
	}
	if (fd < 0)
		fail("listener on port %d in netns %s: %s", port, nat_ns, strerror(errno));
	if (host >= 0)
		close(host);
	if (ns >= 0)
		close(ns);
	return fd;
}

/* The container: a veth pair (fixed MACs) into a named netns with the vIP,
 * a default route via its host side; the routes of both subnets; the tc
 * programs on lo and the veth, and the veth filed in ctr_ifs. */
static int nat_setup(void)
{
	struct slim_ctr_if ci = {0};
	char dir[128], err[256] = "";
	__u32 key;

	snprintf(nat_ns, sizeof(nat_ns), "slimbpfnat%d", (int)getpid());
	if (sh("ip addr add " NAT_UL "/32 dev lo") || sh("ip netns add %s", nat_ns) ||
	    sh("ip link add " NAT_VETH " address " NAT_HOST_MAC " type veth peer name eth0 "
	       "address " NAT_CTR_MAC " netns %s",
	       nat_ns) ||
	    sh("ip link set " NAT_VETH " up") ||
	    sh("ip -n %s link set lo up && ip -n %s link set eth0 up && "
	       "ip -n %s addr add " NAT_CTR_VIP "/24 dev eth0 && "
	       "ip -n %s neigh add 10.244.7.1 lladdr " NAT_HOST_MAC " dev eth0 nud permanent && "
	       "ip -n %s route add default via 10.244.7.1 dev eth0",
	       nat_ns, nat_ns, nat_ns, nat_ns, nat_ns))
		return -1;
	nat_vh = (int)if_nametoindex(NAT_VETH);
	/* What the router does (router/nat.c): replies to a client of this
	 * host come up lo without a route, from a local address. */
	if (write_file("/proc/sys/net/ipv4/conf/lo/accept_local", "1")) {
		fail("lo accept_local: %s", strerror(errno));
		return -1;
	}
	if (nat_route("10.244.7.0") || nat_route("10.244.8.0")) {
		fail("routes map: %s", strerror(errno));
		return -1;
	}
	snprintf(dir, sizeof(dir), "%s/slim-bpf-nat", T.bpffs);
	if (!T.bpffs_mounted || slim_bpf_pin(T.bpf, dir, err, sizeof(err)) ||
	    slim_bpf_tc_attach(T.bpf, 1, SLIM_TC_IN, err, sizeof(err)) ||
	    slim_bpf_tc_attach(T.bpf, nat_vh, SLIM_TC_OUT, err, sizeof(err))) {
		fail("tc programs: %s", err[0] ? err : "no bpffs");
		return -1;
	}
	inet_pton(AF_INET, NAT_CTR_VIP, &key);
	ci.ifindex = (__u32)nat_vh;
	memcpy(ci.host_mac, "\x02\0\0\0\0\x01", 6);
	memcpy(ci.ctr_mac, "\x02\0\0\0\0\x02", 6);
	if (bpf_map_update_elem(slim_bpf_map_fd(T.bpf, SLIM_MAP_CTR_IFS), &key, &ci, BPF_ANY)) {
		fail("ctr_ifs map: %s", strerror(errno));
		return -1;
	}
	pass("translation set up: tc programs on lo and the container's veth");
	return 0;
}

/* A client connecting to NAT_CTR_VIP:port: stamped as NAT_CLIENT_VIP's,
 * or else a plain one of this host (straight over the veth, as the host
 * namespace probes a pod). Returns the connect's errno (0: connected) and
 * the socket in *fd. */
static int nat_connect(int port, int stamped, int *fd)
{
	struct slim_owner o = {.container_id = htonl(CLIENT_ID)};
	struct timeval tv = {.tv_sec = 3};
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	int e;

	*fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (*fd < 0)
		return errno;
	setsockopt(*fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(*fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	inet_pton(AF_INET, NAT_CLIENT_VIP, &o.vip);
	inet_pton(AF_INET, NAT_CTR_VIP, &a.sin_addr);
	if (stamped && stamp(*fd, &o))
		return errno;
	e = connect(*fd, (struct sockaddr *)&a, sizeof(a)) ? errno : 0;
	return e;
}

/* Waits up to a second for a connection on lfd. */
static int nat_accept(int lfd)
{
	for (int i = 0; i < 100; i++) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
			return fd;
		usleep(10000);
	}
	return -1;
}

/* One translated connection to port: the plain listener lfd accepts it and
 * sees the client's vIP and port, the client sees the container's vIP as
 * its peer, and data flows both ways. */
static void nat_lands(int lfd, int port, const char *what)
{
	char got[64], want[64], cname[64];
	int cfd, afd, e = nat_connect(port, 1, &cfd);

	if (e) {
		fail("%s: connect to " NAT_CTR_VIP ":%d: %s", what, port, strerror(e));
		if (cfd >= 0)
			close(cfd);
		return;
	}
	afd = nat_accept(lfd);
	if (afd < 0) {
		fail("%s: the container's listener got no connection", what);
		close(cfd);
		return;
	}
	snprintf(want, sizeof(want), NAT_CTR_VIP ":%d", port);
	if (name_of(cfd, 0, cname, sizeof(cname)) || strncmp(cname, NAT_CLIENT_VIP ":", 11) != 0)
		fail("%s: client getsockname %s, want " NAT_CLIENT_VIP ":<port>", what, cname);
	else if (name_of(cfd, 1, got, sizeof(got)) || strcmp(got, want) != 0)
		fail("%s: client getpeername %s, want %s", what, got, want);
	else if (name_of(afd, 1, got, sizeof(got)) || strcmp(got, cname) != 0)
		fail("%s: the plain server's peer is %s, want the client's %s", what, got, cname);
	else
		printf("%s: ok: %s: the container's plain listener accepted %s -> %s\n", test_prog,
		       what, cname, want);
	check_data(cfd, afd);
	close(afd);
	close(cfd);
}

/* A plain client of this host connects to port, where the container's
 * listener lfd accepts it: plain-to-slim must grow by want (1 where a slim
 * listener is filed for the vIP and port: the container's SYN-ACK is its
 * container side's), slim-to-plain not at all. */
static void nat_plain(int lfd, int port, unsigned long long want, const char *what)
{
	unsigned long long before[SLIM_PATH_COUNT], after[SLIM_PATH_COUNT];
	int cfd, afd = -1, e;

	if (slim_bpf_path_counts(T.bpf, before)) {
		fail("%s: path_stats: %s", what, strerror(errno));
		return;
	}
	e = nat_connect(port, 0, &cfd);
	if (e == 0)
		afd = nat_accept(lfd);
	if (e || afd < 0)
		fail("%s: plain connect to " NAT_CTR_VIP ":%d: %s", what, port,
		     e ? strerror(e) : "the container's listener got no connection");
	else if (slim_bpf_path_counts(T.bpf, after) ||
		 after[SLIM_PATH_PLAIN_TO_SLIM] - before[SLIM_PATH_PLAIN_TO_SLIM] != want ||
		 after[SLIM_PATH_SLIM_TO_PLAIN] != before[SLIM_PATH_SLIM_TO_PLAIN])
		fail("%s: plain-to-slim %llu -> %llu (want +%llu), slim-to-plain %llu -> %llu",
		     what, before[SLIM_PATH_PLAIN_TO_SLIM], after[SLIM_PATH_PLAIN_TO_SLIM], want,
		     before[SLIM_PATH_SLIM_TO_PLAIN], after[SLIM_PATH_SLIM_TO_PLAIN]);
	else
		printf("%s: ok: %s: plain-to-slim +%llu\n", test_prog, what, want);
	if (afd >= 0)
		close(afd);
	if (cfd >= 0)
		close(cfd);
}

static void nat_teardown(void)
{
	slim_bpf_tc_detach(T.bpf, 1);
	slim_bpf_tc_detach(T.bpf, nat_vh);
	slim_bpf_unpin(T.bpf);
	if (nat_ns[0])
		sh("ip netns del %s", nat_ns);
	write_file("/proc/sys/net/ipv4/conf/lo/accept_local", "0");
}

static void check_nat(void)
{
	unsigned long long paths[SLIM_PATH_COUNT];
	struct slim_vaddr key = vaddr(NAT_CTR_VIP, 82);
	int l80, l82, slim_l, cfd, e;
	__u64 cookie, val;

	if (nat_setup())
		goto out;
	l80 = nat_listener(80);
	l82 = nat_listener(82);
	if (l80 < 0 || l82 < 0)
		goto out;
	nat_lands(l80, 80, "client of this host, plain server");
	/* The host side of the veth gets an address of the container's
	 * subnet, so that a plain client of this host reaches it directly. */
	if (sh("ip addr add 10.244.7.1/24 dev " NAT_VETH) == 0)
		nat_plain(l80, 80, 0, "plain client, no slim listener");
	/* The client repeats the option in its first ACK (for slim listeners
	 * under cookies): a plain server that checks a cookie ignores it. */
	if (sh("ip netns exec %s sysctl -qw net.ipv4.tcp_syncookies=2", nat_ns) == 0) {
		nat_lands(l80, 80, "plain server under SYN cookies");
		sh("ip netns exec %s sysctl -qw net.ipv4.tcp_syncookies=1", nat_ns);
	}

	e = nat_connect(81, 1, &cfd);
	if (e != ECONNREFUSED)
		fail("nothing listens on 81: connect gave %s, want ECONNREFUSED",
		     e ? strerror(e) : "success");
	else
		pass("nothing listens on 81: the container's own kernel refuses (ECONNREFUSED)");
	close(cfd);

	/* A slim listener filed for the vIP and port wins: the SYN goes on to
	 * the reserved port (where nothing listens on NAT_UL: refused). */
	slim_l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	val = (__u64)slim_l;
	if (slim_l < 0 || bind_to(slim_l, "127.0.0.1", 0) || listen(slim_l, 1) ||
	    bpf_map_update_elem(slim_bpf_map_fd(T.bpf, SLIM_MAP_LISTENERS), &key, &val,
				BPF_NOEXIST)) {
		fail("a listener filed for " NAT_CTR_VIP ":82: %s", strerror(errno));
	} else {
		e = nat_connect(82, 1, &cfd);
		if (e != ECONNREFUSED || nat_accept(l82) >= 0)
			fail("slim listener filed: connect gave %s, want ECONNREFUSED from the "
			     "reserved port and nothing at the plain listener",
			     e ? strerror(e) : "success");
		else
			pass("a filed slim listener keeps the SYN on the slim path");
		close(cfd);
		nat_plain(l82, 82, 1, "plain client of a filed slim listener (its container side)");
		close(slim_l);
		slim_l = -1;
		/* Its close takes it out of the map: the next SYN decides anew. */
		if (bpf_map_lookup_elem(slim_bpf_map_fd(T.bpf, SLIM_MAP_LISTENERS), &key,
					&cookie) == 0)
			fail("closed listener still filed");
		else
			nat_lands(l82, 82, "after the slim listener closed");
	}
	if (slim_l >= 0)
		close(slim_l);

	/* 80 twice, 81 (refused by the container) and 82 after the close;
	 * not the one the slim listener kept. The translated connections'
	 * SYN-ACKs are not plain-to-slim: only the plain client of the filed
	 * slim listener is. */
	if (slim_bpf_path_counts(T.bpf, paths) || paths[SLIM_PATH_SLIM_TO_PLAIN] != 4 ||
	    paths[SLIM_PATH_PLAIN_TO_SLIM] != 1)
		fail("path_stats: slim-to-plain %llu, plain-to-slim %llu, want 4 and 1",
		     paths[SLIM_PATH_SLIM_TO_PLAIN], paths[SLIM_PATH_PLAIN_TO_SLIM]);
	else
		pass("path_stats counts the translated SYNs (4) and the plain client of the slim "
		     "listener (1)");
	close(l80);
	close(l82);
out:
	nat_teardown();
}

/* Points subnet/24 at host underlay:PORT in the routes trie. */
static int set_route(const char *subnet, const char *underlay)
{
	struct slim_route_key k = {.prefixlen = 24};
	struct slim_route_val v = {.port = htons(PORT)};

	inet_pton(AF_INET, subnet, &k.subnet);
	inet_pton(AF_INET, underlay, &v.underlay_ip);
	if (bpf_map_update_elem(slim_bpf_map_fd(T.bpf, SLIM_MAP_ROUTES), &k, &v, BPF_ANY)) {
		fail("routes map: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* Adds (add) or removes the cluster host underlay in the hosts map. */
static int set_host(const char *underlay, int add)
{
	__u32 ip, one = 1;
	int fd = slim_bpf_map_fd(T.bpf, SLIM_MAP_HOSTS);

	inet_pton(AF_INET, underlay, &ip);
	if (add ? bpf_map_update_elem(fd, &ip, &one, BPF_ANY)
		: (bpf_map_delete_elem(fd, &ip) && errno != ENOENT)) {
		fail("hosts map: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* 10.244.1.0/24 (the listeners' containers) and 10.244.9.0/24 (the
 * clients', CLIENT_VIP) live on "this host": the reserved port on
 * loopback, where the clients' SYNs come from. */
static int add_route(void)
{
	if (set_route("10.244.1.0", "127.0.0.1") || set_route("10.244.9.0", "127.0.0.1") ||
	    set_host("127.0.0.1", 1))
		return -1;
	return 0;
}

/* A client whose SYN comes from 127.0.0.1 with CLIENT_VIP in its option,
 * to the filed listener 10.244.1.2:80, while the routes trie gives
 * CLIENT_VIP's subnet to host (NULL: no route) and 127.0.0.1 is (is_host)
 * or is not a cluster host: refused at once, nothing lands, and exactly
 * one refusal is counted under reason want. */
static void check_forged_one(const char *what, const char *host, int is_host, int want)
{
	unsigned long long before[SLIM_REFUSE_COUNT], after[SLIM_REFUSE_COUNT];
	struct slim_route_key k = {.prefixlen = 24};

	inet_pton(AF_INET, "10.244.9.0", &k.subnet);
	if (host ? set_route("10.244.9.0", host)
		 : (bpf_map_delete_elem(slim_bpf_map_fd(T.bpf, SLIM_MAP_ROUTES), &k) != 0 &&
		    errno != ENOENT))
		return;
	if (set_host("127.0.0.1", is_host))
		return;
	if (slim_bpf_refused_counts(T.bpf, before)) {
		fail("%s: read refused: %s", what, strerror(errno));
		return;
	}
	check_refused(what, 1, "10.244.1.2", ECONNREFUSED);
	if (slim_bpf_refused_counts(T.bpf, after)) {
		fail("%s: read refused: %s", what, strerror(errno));
		return;
	}
	for (int r = 0; r < SLIM_REFUSE_COUNT; r++)
		if (after[r] - before[r] != (r == want ? 1u : 0u)) {
			fail("%s: refused[%d] went %llu -> %llu, want +%d", what, r, before[r],
			     after[r], r == want);
			return;
		}
	printf("%s: ok: %s: counted once under reason %d\n", test_prog, what, want);
}

/* The reserved port believes an overlay option only from the host that
 * owns its source vIP (trust.bpf.h); the legitimate client lands again
 * once the routes say so. */
static void check_forged(void)
{
	check_forged_one("a cluster host claiming another host's subnet", "127.0.0.2", 1,
			 SLIM_REFUSE_FOREIGN_SUBNET);
	check_forged_one("not a cluster host, vIP of another host's subnet", "127.0.0.2", 0,
			 SLIM_REFUSE_NOT_A_HOST);
	check_forged_one("not a cluster host, vIP in no subnet", NULL, 0, SLIM_REFUSE_NOT_A_HOST);
	check_forged_one("a cluster host, vIP in no subnet", NULL, 1, SLIM_REFUSE_FOREIGN_SUBNET);
	if (add_route() == 0)
		check_lands("10.244.1.2", 0);
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
	check_forged();
	check_refused("client for 10.244.1.4:80 (nobody listens)", 1, "10.244.1.4", ECONNREFUSED);
	check_refused("unstamped client straight to the reserved port", 0, NULL, ECONNREFUSED);
	check_refused("stamped client to a non-overlay address", 1, NULL, EPERM);
	check_refused("stamped client to 10.9.9.9 (no route)", 1, "10.9.9.9", EPERM);
	check_closed_listener_leaves();
	check_bind_no_route();
	check_deleted_container();
	check_bind_unstamped();
	check_bind_vip();
	check_bind_any();
	check_listener_connect();
	check_bind_client_port(); /* lands on the vip:8080 listener: before a second one */
	check_bind_second();
	check_second_after_first();
	check_guards();
	check_app_opts();
	check_timewait();
	check_nat();
	return 0;
}

int main(int argc, char **argv)
{
	(void)argc;
	if (test_begin(argv, "bpf_path",
		       "creates a network namespace and a cgroup, and loads BPF programs"))
		return 1;
	run();
	cleanup();
	return test_verdict();
}
