/* slim-hostile: a hostile app under slim-run (test_hostile_container.sh).
 * It takes host sockets the normal way (libc socket(), which libslim
 * serves from the pool) and then makes raw system calls on them, which
 * libslim never sees: every attempt to use one as a door into the host
 * must fail with EPERM (or the kernel's own answer where noted), and the
 * options apps legitimately set must still work.
 *
 * Usage: slim-hostile UNDERLAY_DEV UNDERLAY_IFINDEX HOST_IP RESERVED_PORT
 *        LISTEN_PORT OWN_VIP LSM
 * LSM is 1 where the router loaded its BPF LSM guards (listen, socket
 * ioctls), 0 where the kernel does not load BPF LSM programs: then each
 * listen succeeds (sockops confines it to lo, which the caller checks)
 * and the socket ioctls are not made ("gap: ...").
 * Prints "ok: ..." or "FAIL: ..." per check, then "ready checks=N
 * failed=M" and waits (holding every socket, for the caller's ss) until
 * SIGTERM or 60 s. Exit status: 0 if every check held, 1 if not, 2 on bad
 * usage or setup. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif
#ifndef SO_BINDTOIFINDEX
#define SO_BINDTOIFINDEX 62
#endif
#ifndef SO_DETACH_REUSEPORT_BPF
#define SO_DETACH_REUSEPORT_BPF 68
#endif
#ifndef SO_RESERVE_MEM
#define SO_RESERVE_MEM 73
#endif
#ifndef TCP_TX_DELAY
#define TCP_TX_DELAY 37
#endif

static int checks, failed, lsm;
static const char *dev;
static int ifindex, rport, lport;
static struct in_addr host_ip;

/* Raw system calls: libslim intercepts the libc functions, not these. */
static int raw_setsockopt(int fd, int level, int name, const void *v, socklen_t len)
{
	return (int)syscall(SYS_setsockopt, fd, level, name, v, len);
}

static int raw_bind(int fd, int family, in_addr_t ip, int port)
{
	struct sockaddr_in a = {.sin_family = (sa_family_t)family,
				.sin_port = htons((uint16_t)port)};

	a.sin_addr.s_addr = ip;
	return (int)syscall(SYS_bind, fd, &a, sizeof(a));
}

static int raw_listen(int fd)
{
	return (int)syscall(SYS_listen, fd, 16);
}

/* Records one check: call returned r (with errno e); want_errno 0 means
 * success is expected. */
static void expect(const char *what, int r, int e, int want_errno)
{
	checks++;
	if ((want_errno == 0 && r == 0) || (want_errno && r < 0 && e == want_errno)) {
		printf("ok: %s: %s\n", what, want_errno ? strerror(want_errno) : "allowed");
		return;
	}
	failed++;
	printf("FAIL: %s: got %s, want %s\n", what, r == 0 ? "success" : strerror(e),
	       want_errno ? strerror(want_errno) : "success");
}

#define EXPECT(what, call, want)                                                                   \
	do {                                                                                       \
		errno = 0;                                                                         \
		int r_ = (call);                                                                   \
		expect(what, r_ < 0 ? -1 : 0, errno, want);                                        \
	} while (0)

/* A listen() only the BPF LSM guard refuses: where the kernel has none, it
 * succeeds, and sockops binds the listener to lo (the test checks that
 * the underlay cannot reach it). */
#define EXPECT_LISTEN(what, call)                                                                  \
	do {                                                                                       \
		if (lsm)                                                                           \
			EXPECT(what, call, EPERM);                                                 \
		else                                                                               \
			EXPECT(what " (no BPF LSM: it listens, confined to lo)", call, 0);         \
	} while (0)

/* An attempt only the BPF LSM guards judge: made where they run. */
#define EXPECT_LSM(what, call, want)                                                               \
	do {                                                                                       \
		if (lsm)                                                                           \
			EXPECT(what, call, want);                                                  \
		else                                                                               \
			printf("gap: %s: not made (no BPF LSM guard on this kernel)\n", what);     \
	} while (0)

static unsigned long long netns_cookie(int fd)
{
	unsigned long long c = 0;
	socklen_t len = sizeof(c);

	if (getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, &c, &len) != 0)
		return 0;
	return c;
}

/* A host socket from libslim's pool: a libc socket() whose network
 * namespace is not ours. Retries while the pool fills (at most ~2 s). */
static int pool_socket(void)
{
	int probe = (int)syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
	unsigned long long here = probe >= 0 ? netns_cookie(probe) : 0;

	if (probe >= 0)
		close(probe);
	for (int i = 0; here && i < 100; i++) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);

		if (fd >= 0 && netns_cookie(fd) && netns_cookie(fd) != here)
			return fd;
		if (fd >= 0)
			close(fd);
		nanosleep(&(struct timespec){0, 20 * 1000 * 1000}, NULL);
	}
	printf("FAIL: setup: no host socket from the pool (is this under slim-run?)\n");
	exit(2);
}

/* One raw setsockopt to try: the option and a value for it. */
struct opt_case {
	const char *name;
	int level, opt;
	const void *val;
	socklen_t len;
};

/* Sets each of the n options on fd with a raw setsockopt; each must give
 * want (0: success, else the errno). */
static void try_options(int fd, const struct opt_case *o, size_t n, int want)
{
	char what[96];

	for (size_t i = 0; i < n; i++) {
		snprintf(what, sizeof(what), "raw setsockopt %s on a pool socket", o[i].name);
		EXPECT(what, raw_setsockopt(fd, o[i].level, o[i].opt, o[i].val, o[i].len), want);
	}
}

/* The options outside the allow-list, each with a value the kernel would
 * take from root on a host socket. */
static void forbidden_options(int fd)
{
	static const struct sock_filter accept_all[] = {{BPF_RET | BPF_K, 0, 0, 0xffffffff}};
	const struct sock_fprog prog = {.len = 1, .filter = (struct sock_filter *)accept_all};
	struct tcp_md5sig md5 = {.tcpm_keylen = 4};
	int one = 1, minus1 = -1, ipopt = 0x01010101; /* four NOPs */
	const struct opt_case o[] = {
	    {"SO_MARK", SOL_SOCKET, SO_MARK, &one, sizeof(one)},
	    {"IP_TRANSPARENT", IPPROTO_IP, IP_TRANSPARENT, &one, sizeof(one)},
	    {"SO_BINDTODEVICE (underlay)", SOL_SOCKET, SO_BINDTODEVICE, dev,
	     (socklen_t)strlen(dev)},
	    {"SO_BINDTOIFINDEX (underlay)", SOL_SOCKET, SO_BINDTOIFINDEX, &ifindex,
	     sizeof(ifindex)},
	    {"TCP_REPAIR", IPPROTO_TCP, TCP_REPAIR, &one, sizeof(one)},
	    {"IP_FREEBIND", IPPROTO_IP, IP_FREEBIND, &one, sizeof(one)},
	    {"IP_BIND_ADDRESS_NO_PORT", IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one)},
	    {"IP_OPTIONS", IPPROTO_IP, IP_OPTIONS, &ipopt, sizeof(ipopt)},
	    {"SO_DEBUG", SOL_SOCKET, SO_DEBUG, &one, sizeof(one)},
	    {"SO_DONTROUTE", SOL_SOCKET, SO_DONTROUTE, &one, sizeof(one)},
	    {"SO_RCVBUFFORCE", SOL_SOCKET, SO_RCVBUFFORCE, &one, sizeof(one)},
	    {"SO_SNDBUFFORCE", SOL_SOCKET, SO_SNDBUFFORCE, &one, sizeof(one)},
	    {"SO_BUSY_POLL", SOL_SOCKET, SO_BUSY_POLL, &one, sizeof(one)},
	    {"SO_INCOMING_CPU", SOL_SOCKET, SO_INCOMING_CPU, &one, sizeof(one)},
	    {"SO_RESERVE_MEM", SOL_SOCKET, SO_RESERVE_MEM, &one, sizeof(one)},
	    {"SO_ATTACH_FILTER", SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)},
	    {"SO_ATTACH_REUSEPORT_CBPF", SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &prog, sizeof(prog)},
	    {"SO_ATTACH_REUSEPORT_EBPF", SOL_SOCKET, SO_ATTACH_REUSEPORT_EBPF, &minus1,
	     sizeof(minus1)},
	    {"SO_DETACH_REUSEPORT_BPF", SOL_SOCKET, SO_DETACH_REUSEPORT_BPF, &one, sizeof(one)},
	    {"TCP_MD5SIG", IPPROTO_TCP, TCP_MD5SIG, &md5, sizeof(md5)},
	    {"TCP_ULP tls", IPPROTO_TCP, TCP_ULP, "tls", 3},
	    {"TCP_TX_DELAY", IPPROTO_TCP, TCP_TX_DELAY, &one, sizeof(one)},
	};

	try_options(fd, o, sizeof(o) / sizeof(o[0]), EPERM);
}

/* Options apps set for their own connections: still allowed. */
static void allowed_options(int fd)
{
	int one = 1, buf = 65536, tos = 0x10, idle = 30, ut = 5000, prio = 3;
	struct linger lg = {.l_onoff = 1, .l_linger = 5};
	struct timeval tv = {.tv_sec = 1};
	const struct opt_case o[] = {
	    {"SO_KEEPALIVE", SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)},
	    {"TCP_NODELAY", IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)},
	    {"SO_RCVBUF", SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf)},
	    {"SO_SNDBUF", SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf)},
	    {"IP_TOS", IPPROTO_IP, IP_TOS, &tos, sizeof(tos)},
	    {"SO_PRIORITY", SOL_SOCKET, SO_PRIORITY, &prio, sizeof(prio)},
	    {"SO_LINGER", SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)},
	    {"SO_RCVTIMEO", SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)},
	    {"SO_SNDTIMEO", SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)},
	    {"TCP_KEEPIDLE", IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle)},
	    {"TCP_USER_TIMEOUT", IPPROTO_TCP, TCP_USER_TIMEOUT, &ut, sizeof(ut)},
	    {"TCP_CONGESTION reno", IPPROTO_TCP, TCP_CONGESTION, "reno", 4},
	    {"SO_REUSEADDR", SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)},
	};

	try_options(fd, o, sizeof(o) / sizeof(o[0]), 0);
	/* An unknown option stays the kernel's to refuse, as in a container. */
	EXPECT("raw setsockopt SOL_SOCKET 12345", raw_setsockopt(fd, SOL_SOCKET, 12345, &one, 4),
	       ENOPROTOOPT);
}

/* Socket ioctls act on the socket's network namespace: the host's
 * interfaces for a host socket. Those about the socket itself stay. */
static void ioctls(int fd)
{
	char buf[1024];
	struct ifconf ifc = {.ifc_len = sizeof(buf), .ifc_buf = buf};
	struct ifreq ifr;
	int n = 0, on = 1;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", dev);
	EXPECT_LSM("raw ioctl SIOCGIFCONF (the host's interfaces)",
		   (int)syscall(SYS_ioctl, fd, SIOCGIFCONF, &ifc), EPERM);
	EXPECT_LSM("raw ioctl SIOCGIFINDEX of the underlay device",
		   (int)syscall(SYS_ioctl, fd, SIOCGIFINDEX, &ifr), EPERM);
	ifr.ifr_mtu = 1400;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "slimnone0");
	EXPECT_LSM("raw ioctl SIOCSIFMTU", (int)syscall(SYS_ioctl, fd, SIOCSIFMTU, &ifr), EPERM);
	EXPECT("raw ioctl FIONREAD", (int)syscall(SYS_ioctl, fd, FIONREAD, &n), 0);
	EXPECT("raw ioctl TIOCOUTQ (SIOCOUTQ)", (int)syscall(SYS_ioctl, fd, TIOCOUTQ, &n), 0);
	EXPECT("raw ioctl FIONBIO", (int)syscall(SYS_ioctl, fd, FIONBIO, &on), 0);
	on = 0;
	(void)syscall(SYS_ioctl, fd, FIONBIO, &on);
}

/* The same doors through a dup of the fd and from a forked child. */
static void copies(void)
{
	int fd = pool_socket(), c = pool_socket(), d, one = 1, st = 0;
	pid_t pid;

	d = (int)syscall(SYS_dup, fd);
	EXPECT("raw setsockopt SO_MARK on a dup", raw_setsockopt(d, SOL_SOCKET, SO_MARK, &one, 4),
	       EPERM);
	EXPECT("raw bind 0.0.0.0:2225 on a dup (a source port)", raw_bind(d, AF_INET, 0, 2225), 0);
	EXPECT_LISTEN("raw listen on the dup bound to 2225", raw_listen(d));
	EXPECT_LISTEN("raw listen on the original fd bound to 2225", raw_listen(fd));
	pid = fork();
	if (pid == 0) {
		int bad = 0;

		errno = 0;
		bad |= raw_setsockopt(fd, SOL_SOCKET, SO_MARK, &one, 4) == 0 || errno != EPERM;
		bad |= raw_bind(c, AF_INET, 0, 2226) != 0;
		errno = 0;
		bad |= lsm ? raw_listen(c) == 0 || errno != EPERM : raw_listen(c) != 0;
		errno = 0;
		bad |=
		    raw_setsockopt(c, IPPROTO_IP, IP_TRANSPARENT, &one, 4) == 0 || errno != EPERM;
		_exit(bad);
	}
	checks++;
	if (pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0) {
		printf("ok: a forked child's raw SO_MARK, IP_TRANSPARENT%s: EPERM%s\n",
		       lsm ? ", listen (bound to 2226)" : "",
		       lsm ? "" : " (its listen on 2226: confined to lo)");
	} else {
		failed++;
		printf("FAIL: a forked child got through (status %#x)\n", st);
	}
}

/* A socket accepted on the overlay listener l (a connection from this very
 * container to vip:lport), disconnected with connect(AF_UNSPEC): it keeps
 * the reserved port, and must not listen there or connect anywhere. */
static void accepted(int l, struct in_addr vip)
{
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)lport)};
	struct sockaddr unspec = {.sa_family = AF_UNSPEC};
	struct pollfd p = {.fd = l, .events = POLLIN};
	int c = socket(AF_INET, SOCK_STREAM, 0), a = -1, one = 1;

	to.sin_addr = vip;
	EXPECT("libc connect to own vip:LISTEN_PORT",
	       connect(c, (struct sockaddr *)&to, sizeof(to)), 0);
	if (poll(&p, 1, 5000) == 1)
		a = accept(l, NULL, NULL);
	checks++;
	if (a < 0) {
		failed++;
		printf("FAIL: no connection accepted on the overlay listener\n");
		return;
	}
	printf("ok: accepted a connection on the overlay listener\n");
	EXPECT("raw setsockopt SO_MARK on an accepted socket",
	       raw_setsockopt(a, SOL_SOCKET, SO_MARK, &one, sizeof(one)), EPERM);
	EXPECT("raw connect AF_UNSPEC (disconnect) of the accepted socket",
	       (int)syscall(SYS_connect, a, &unspec, sizeof(unspec)), 0);
	/* The kernel itself refuses it (and so does the guard where it runs). */
	EXPECT("raw listen on the disconnected accepted socket", raw_listen(a), EINVAL);
	to.sin_addr = host_ip;
	to.sin_port = htons(22);
	EXPECT("raw connect of the disconnected accepted socket to HOST_IP:22",
	       (int)syscall(SYS_connect, a, &to, sizeof(to)), EPERM);
	EXPECT("raw bind of the disconnected accepted socket to 0.0.0.0:2227",
	       raw_bind(a, AF_INET, 0, 2227), EINVAL);
}

static volatile sig_atomic_t stop;
static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(22)};
	struct in_addr vip;
	int fd, one = 1, l;

	if (argc != 8 || inet_pton(AF_INET, argv[3], &host_ip) != 1 ||
	    inet_pton(AF_INET, argv[6], &vip) != 1) {
		fprintf(stderr,
			"usage: slim-hostile UNDERLAY_DEV UNDERLAY_IFINDEX HOST_IP RESERVED_PORT "
			"LISTEN_PORT OWN_VIP LSM\n");
		return 2;
	}
	dev = argv[1];
	ifindex = atoi(argv[2]);
	rport = atoi(argv[4]);
	lport = atoi(argv[5]);
	lsm = atoi(argv[7]) != 0;
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGTERM, on_term);

	fd = pool_socket();
	EXPECT("raw bind 0.0.0.0:2222", raw_bind(fd, AF_INET, 0, 2222), 0);
	EXPECT_LISTEN("raw listen after bind 0.0.0.0:2222", raw_listen(fd));

	fd = pool_socket();
	EXPECT_LISTEN("raw listen without bind", raw_listen(fd));

	fd = pool_socket();
	EXPECT("raw setsockopt SO_REUSEPORT 1 (recorded)",
	       raw_setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)), 0);
	EXPECT("raw bind 0.0.0.0:RESERVED", raw_bind(fd, AF_INET, 0, rport), EPERM);
	EXPECT("raw bind HOST_IP:RESERVED", raw_bind(fd, AF_INET, host_ip.s_addr, rport), EPERM);
	EXPECT_LISTEN("raw listen after the refused binds", raw_listen(fd));

	fd = pool_socket();
	EXPECT("raw bind AF_UNSPEC 0.0.0.0:2223", raw_bind(fd, AF_UNSPEC, 0, 2223), EPERM);
	EXPECT("raw bind 127.0.0.1:2224", raw_bind(fd, AF_INET, htonl(INADDR_LOOPBACK), 2224),
	       EPERM);
	EXPECT("raw bind HOST_IP:2224", raw_bind(fd, AF_INET, host_ip.s_addr, 2224), EPERM);
	EXPECT("raw bind 0.0.0.0:0", raw_bind(fd, AF_INET, 0, 0), EPERM);

	fd = pool_socket();
	forbidden_options(fd);
	fd = pool_socket();
	allowed_options(fd);
	ioctls(fd);

	/* A legitimate overlay listener (libc: libslim binds and files it
	 * on the reserved port): listen again is fine, its reuseport group
	 * cannot be reprogrammed. */
	l = pool_socket();
	struct sockaddr_in la = {.sin_family = AF_INET, .sin_port = htons((uint16_t)lport)};
	EXPECT("libc bind 0.0.0.0:LISTEN_PORT (an overlay listener)",
	       bind(l, (struct sockaddr *)&la, sizeof(la)), 0);
	EXPECT("libc listen on it", listen(l, 16), 0);
	EXPECT("raw listen again on the overlay listener", raw_listen(l), 0);
	forbidden_options(l);
	accepted(l, vip);

	fd = pool_socket();
	to.sin_addr = host_ip;
	EXPECT("raw connect to HOST_IP:22", (int)syscall(SYS_connect, fd, &to, sizeof(to)), EPERM);
	EXPECT("raw sendto MSG_FASTOPEN to HOST_IP:22",
	       (int)syscall(SYS_sendto, fd, "x", 1, MSG_FASTOPEN, &to, sizeof(to)), EPERM);

	copies();

	printf("ready checks=%d failed=%d\n", checks, failed);
	for (int i = 0; i < 600 && !stop; i++)
		nanosleep(&(struct timespec){0, 100 * 1000 * 1000}, NULL);
	return failed ? 1 : 0;
}
