/* The framing: one SOCK_SEQPACKET packet, descriptors beside it as
 * SCM_RIGHTS. Each input is one packet sent over a fresh socketpair with a
 * chosen number of fds (split over several control messages), received
 * either the way the router reads a client (client_recv, router/client_recv.c)
 * or the way libslim reads the router (slim_wire_recv_flags, with its
 * fd limit and flags). The checks: what arrives is what was sent, the
 * outcome is the documented one, and no descriptor is leaked or closed
 * twice, whatever the packet held or the receiver's fd limit allowed.
 *
 * Input: byte 0 the fd count (at most SCM_MAX_FD), byte 1 the knobs below,
 * byte 2 libslim's maxfds, byte 3 a small receive buffer size or the
 * receiver's free fd numbers, the rest the packet. */
#include "fuzz_common.h"

#include <errno.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "client_recv.h"
#include "wire.h"

#define SCM_MAX_FD 253 /* the kernel's limit per sendmsg */

#define K_CMSGS 0x03	 /* 1..4 SCM_RIGHTS control messages */
#define K_LIBSLIM 0x04	 /* receive as libslim, not as the router */
#define K_SHORT_OK 0x08	 /* libslim: SLIM_WIRE_SHORT_FDS_OK (pool replies) */
#define K_FD_LIMIT 0x10	 /* lower RLIMIT_NOFILE while receiving */
#define K_SOCKETS 0x20	 /* pass sockets rather than files */
#define K_SMALL_CAP 0x40 /* receive into a buffer of byte 3's size */
#define K_NO_SEND 0x80	 /* send nothing: then byte 3 odd closes the peer */

/* A file whose copies the packets carry (opened on first use). */
static int file_fd = -1;

/* Sends len bytes of payload with nfds copies of fd over sock in ncmsg
 * control messages. Returns what sendmsg returned. */
static ssize_t send_packet(int sock, const uint8_t *payload, size_t len, int fd, size_t nfds,
			   size_t ncmsg)
{
	static union {
		struct cmsghdr align;
		char b[CMSG_SPACE(sizeof(int) * SCM_MAX_FD) * 4];
	} ctl;
	int dups[SCM_MAX_FD];
	struct iovec iov = {.iov_base = (void *)payload, .iov_len = len};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
	size_t made = 0, put = 0;
	ssize_t r = -1;

	for (; made < nfds; made++)
		if ((dups[made] = fcntl(fd, F_DUPFD_CLOEXEC, 0)) < 0)
			goto out;
	if (nfds > 0) {
		if (ncmsg > nfds)
			ncmsg = nfds;
		memset(&ctl, 0, sizeof(ctl));
		m.msg_control = ctl.b;
		m.msg_controllen = sizeof(ctl.b);
		size_t used = 0;
		struct cmsghdr *c = CMSG_FIRSTHDR(&m);
		for (size_t i = 0; i < ncmsg; i++) {
			size_t k = i + 1 == ncmsg ? nfds - put : nfds / ncmsg;
			c->cmsg_level = SOL_SOCKET;
			c->cmsg_type = SCM_RIGHTS;
			c->cmsg_len = CMSG_LEN(sizeof(int) * k);
			memcpy(CMSG_DATA(c), dups + put, sizeof(int) * k);
			put += k;
			used += CMSG_SPACE(sizeof(int) * k);
			c = (struct cmsghdr *)((char *)c + CMSG_SPACE(sizeof(int) * k));
		}
		m.msg_controllen = used;
	}
	r = sendmsg(sock, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
out:
	for (size_t i = 0; i < made; i++)
		close(dups[i]);
	return r;
}

/* How many fd numbers the receiver may use: all (< 0), or only `room`
 * more than are open now. */
struct fd_limit {
	int room;
	struct rlimit saved;
};

/* Lowers RLIMIT_NOFILE for the receive, so that the kernel can install only
 * some of the passed descriptors (the receiver's MSG_CTRUNC path). */
static void limit_lower(struct fd_limit *l)
{
	if (l->room < 0)
		return;
	int lowest = fcntl(file_fd, F_DUPFD_CLOEXEC, 0);
	if (lowest >= 0)
		close(lowest);
	getrlimit(RLIMIT_NOFILE, &l->saved);
	struct rlimit low = l->saved;
	low.rlim_cur = (rlim_t)(lowest < 0 ? 0 : lowest) + (rlim_t)l->room;
	setrlimit(RLIMIT_NOFILE, &low);
}

/* Restores the limit before anything is checked: a crash report needs fds. */
static void limit_restore(struct fd_limit *l)
{
	int e = errno;

	if (l->room >= 0)
		setrlimit(RLIMIT_NOFILE, &l->saved);
	errno = e;
}

/* The router's read of one client packet. */
static void as_router(int sock, const uint8_t *payload, size_t len, size_t nfds, size_t cap,
		      struct fd_limit *lim)
{
	uint8_t buf[SLIM_WIRE_MAX];
	size_t got_len = 99;
	bool limited = lim->room >= 0;

	limit_lower(lim);
	enum client_packet got = client_recv(sock, buf, cap, &got_len);
	limit_restore(lim);

	if (got == CLIENT_REQUEST) {
		FUZZ_CHECK(got_len == len && got_len <= cap);
		FUZZ_CHECK(memcmp(buf, payload, len) == 0);
		FUZZ_CHECK(nfds == 0 || limited);
	} else {
		FUZZ_CHECK(got_len == 0);
	}
	if (limited)
		return;
	if (len > cap)
		FUZZ_CHECK(got == CLIENT_OVERSIZED);
	else if (len == 0)
		FUZZ_CHECK(got == CLIENT_GONE); /* an empty packet reads as end of stream */
	else if (nfds == 0)
		FUZZ_CHECK(got == CLIENT_REQUEST);
	else if (nfds <= SLIM_WIRE_MAX_FDS)
		FUZZ_CHECK(got == CLIENT_WITH_FDS);
}

/* libslim's read of one reply; the descriptors it returns are closed here,
 * as the caller would. */
static void as_libslim(int sock, const uint8_t *payload, size_t len, size_t nfds, size_t cap,
		       size_t maxfds, int flags, struct fd_limit *lim)
{
	uint8_t buf[SLIM_WIRE_MAX];
	int fds[SLIM_WIRE_MAX_FDS];
	size_t got = 12345;
	size_t most = maxfds < SLIM_WIRE_MAX_FDS ? maxfds : SLIM_WIRE_MAX_FDS;

	bool limited = lim->room >= 0;

	errno = 0;
	limit_lower(lim);
	ssize_t n = slim_wire_recv_flags(sock, buf, cap, fds, &got, maxfds, flags);
	limit_restore(lim);
	if (n >= 0) {
		FUZZ_CHECK((size_t)n == len && (size_t)n <= cap);
		FUZZ_CHECK(memcmp(buf, payload, len) == 0);
		FUZZ_CHECK(got <= most && got <= nfds);
		for (size_t i = 0; i < got; i++) {
			int fl = fcntl(fds[i], F_GETFD);
			FUZZ_CHECK(fl >= 0 && (fl & FD_CLOEXEC));
			close(fds[i]);
		}
		/* 0 reads as the peer's close: no fds with it. */
		FUZZ_CHECK(n > 0 || got == 0);
	} else {
		FUZZ_CHECK(errno == EMSGSIZE || errno == EMFILE);
		FUZZ_CHECK(got == 0);
	}
	if (limited)
		return;
	if (len > cap)
		FUZZ_CHECK(n < 0 && errno == EMSGSIZE);
	else if (nfds <= most)
		FUZZ_CHECK(n == (ssize_t)len && got == (len == 0 ? 0 : nfds));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fd_window before;
	int sv[2], pass[2] = {-1, -1};

	if (size < 4)
		return 0;
	if (file_fd < 0 && (file_fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0)
		abort();
	size_t nfds = data[0] > SCM_MAX_FD ? SCM_MAX_FD : data[0];
	uint8_t k = data[1];
	size_t maxfds = data[2];
	uint8_t b3 = data[3];
	const uint8_t *payload = data + 4;
	size_t len = size - 4;
	size_t cap = k & K_SMALL_CAP ? b3 : SLIM_WIRE_MAX;
	struct fd_limit lim = {.room = k & K_FD_LIMIT ? b3 % 8 : -1};

	fd_window_take(&before, 512);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
		abort();
	if (k & K_NO_SEND) {
		/* Nothing to read: wait; the peer gone: drop the client. */
		if (b3 & 1)
			close(sv[0]), sv[0] = -1;
		else
			fcntl(sv[1], F_SETFL, O_NONBLOCK);
		uint8_t buf[16];
		size_t got_len;
		enum client_packet got = client_recv(sv[1], buf, sizeof(buf), &got_len);
		FUZZ_CHECK(got == (b3 & 1 ? CLIENT_GONE : CLIENT_IDLE));
		goto out;
	}
	if (k & K_SOCKETS && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pass) != 0)
		abort();
	if (send_packet(sv[0], payload, len, k & K_SOCKETS ? pass[0] : file_fd, nfds,
			(size_t)(k & K_CMSGS) + 1) != (ssize_t)len)
		goto out; /* the kernel refused it (too big for the buffer): nothing to read */
	if (pass[0] >= 0)
		close(pass[0]), close(pass[1]), pass[0] = -1;

	if (k & K_LIBSLIM)
		as_libslim(sv[1], payload, len, nfds, cap, maxfds,
			   k & K_SHORT_OK ? SLIM_WIRE_SHORT_FDS_OK : 0, &lim);
	else
		as_router(sv[1], payload, len, nfds, cap, &lim);
out:
	if (pass[0] >= 0)
		close(pass[0]), close(pass[1]);
	if (sv[0] >= 0)
		close(sv[0]);
	close(sv[1]);
	fd_window_check(&before);
	return 0;
}
