/* slim-rd-peer: both ends of the stream-semantics checks and the small
 * benchmark for the same-host sockmap redirect (tests/redirect/).
 *
 *   slim-rd-peer server PORT CASE
 *   slim-rd-peer client IP PORT CASE [ARG]
 *
 * CASE: bulk, sendfile, splice_rx, halfclose, halfclose_lag, peerclose,
 * backpressure (checks: the server and the client each exit 0 only if their
 * half of the case held), tput SECONDS and rr COUNT (benchmarks: the client
 * prints one result line). Every byte on the wire is pattern_byte(offset), so
 * any loss, duplication or reordering shows up as a mismatch at a known
 * offset. Each process ends itself after TIME_LIMIT seconds (SIGALRM): a hang
 * is a failure, never a stuck test. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PROG "slim-rd-peer"
#define TIME_LIMIT 25
#define MIB (1024u * 1024u)
#define CHUNK_MAX (256u * 1024u)

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs(PROG ": ", stdout);
	vfprintf(stdout, fmt, ap);
	fputc('\n', stdout);
	va_end(ap);
	fflush(stdout);
	exit(1);
}

static void on_alarm(int sig)
{
	static const char msg[] = PROG ": FAIL: time limit reached (hang)\n";

	(void)sig;
	if (write(1, msg, sizeof(msg) - 1) < 0)
		_exit(3);
	_exit(3);
}

static uint8_t pattern_byte(uint64_t off)
{
	return (uint8_t)(((off * 0x9E3779B1u) >> 24) ^ (off >> 16));
}

static void fill(uint8_t *buf, uint64_t off, size_t n)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = pattern_byte(off + i);
}

/* Dies naming the first offset where buf differs from the pattern. */
static void verify(const uint8_t *buf, uint64_t off, size_t n, const char *what)
{
	for (size_t i = 0; i < n; i++)
		if (buf[i] != pattern_byte(off + i))
			die("FAIL: %s: byte %llu is %#x, want %#x", what,
			    (unsigned long long)(off + i), buf[i], pattern_byte(off + i));
}

/* Blocking reads that returned EAGAIN. A blocking socket must never do
 * that; tcp_bpf_recvmsg does after a wake-up without data (e.g. the ACK of
 * our own FIN). Counted and retried so the data checks still run, then
 * reported as a failure at exit. */
static unsigned spurious_eagain;

/* xorshift: deterministic "random" chunk sizes in 1..max. */
static uint64_t rng = 88172645463325252ull;
static size_t rand_size(size_t max)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return 1 + (size_t)(rng % max);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Writes `total` pattern bytes starting at stream offset `off` in random
 * sizes. Returns 0, or the errno of the failed write. */
static int send_pattern(int fd, uint64_t off, uint64_t total)
{
	static uint8_t buf[CHUNK_MAX];
	uint64_t end = off + total;

	while (off < end) {
		size_t n = rand_size(CHUNK_MAX);
		ssize_t w;

		if (n > end - off)
			n = (size_t)(end - off);
		fill(buf, off, n);
		w = write(fd, buf, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return errno;
		}
		off += (uint64_t)w;
	}
	return 0;
}

/* Reads until EOF (or `limit` bytes if limit > 0) in random sizes, checking
 * the pattern from offset `off`. Returns the byte count; dies on errors. */
static uint64_t recv_pattern(int fd, uint64_t off, uint64_t limit, const char *what)
{
	static uint8_t buf[CHUNK_MAX];
	uint64_t got = 0;

	for (;;) {
		size_t n = rand_size(CHUNK_MAX);
		ssize_t r;

		if (limit && n > limit - got)
			n = (size_t)(limit - got);
		if (limit && n == 0)
			break;
		r = read(fd, buf, n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				spurious_eagain++;
				continue;
			}
			die("FAIL: %s: read after %llu bytes: %s", what, (unsigned long long)got,
			    strerror(errno));
		}
		if (r == 0)
			break;
		verify(buf, off + got, (size_t)r, what);
		got += (uint64_t)r;
	}
	return got;
}

static void expect_bytes(uint64_t got, uint64_t want, const char *what)
{
	if (got != want)
		die("FAIL: %s: %llu bytes, want %llu", what, (unsigned long long)got,
		    (unsigned long long)want);
	printf("ok %s %llu bytes\n", what, (unsigned long long)got);
}

/* Reads exactly n bytes (the benchmark's small messages). Returns 0 or -1. */
static int read_full(int fd, void *p, size_t n)
{
	while (n > 0) {
		ssize_t r = read(fd, p, n);

		if (r <= 0) {
			if (r < 0 && errno == EAGAIN)
				spurious_eagain++;
			if (r < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			return -1;
		}
		p = (char *)p + r;
		n -= (size_t)r;
	}
	return 0;
}

/* A memfd holding `total` pattern bytes, for sendfile and splice. */
static int pattern_file(uint64_t total)
{
	static uint8_t buf[CHUNK_MAX];
	int fd = memfd_create("rd-pattern", MFD_CLOEXEC);
	uint64_t off = 0;

	if (fd < 0)
		die("memfd_create: %s", strerror(errno));
	while (off < total) {
		size_t n = total - off < CHUNK_MAX ? (size_t)(total - off) : CHUNK_MAX;

		fill(buf, off, n);
		if (write(fd, buf, n) != (ssize_t)n)
			die("memfd write: %s", strerror(errno));
		off += n;
	}
	return fd;
}

#define SENDFILE_BYTES (8ull * MIB)

/* First half with sendfile(2), second half file -> pipe -> socket with
 * splice(2), both in random sizes. */
static void client_sendfile(int s)
{
	int f = pattern_file(SENDFILE_BYTES), p[2];
	uint64_t half = SENDFILE_BYTES / 2;
	off_t off = 0;
	loff_t loff;

	while ((uint64_t)off < half) {
		size_t n = rand_size(CHUNK_MAX);
		ssize_t w;

		if (n > half - (uint64_t)off)
			n = (size_t)(half - (uint64_t)off);
		w = sendfile(s, f, &off, n);
		if (w <= 0)
			die("FAIL: sendfile at %lld: %s", (long long)off,
			    w < 0 ? strerror(errno) : "returned 0");
	}
	if (pipe(p))
		die("pipe: %s", strerror(errno));
	loff = off;
	while ((uint64_t)loff < SENDFILE_BYTES) {
		size_t n = rand_size(64 * 1024);
		ssize_t in, out;

		if (n > SENDFILE_BYTES - (uint64_t)loff)
			n = (size_t)(SENDFILE_BYTES - (uint64_t)loff);
		in = splice(f, &loff, p[1], NULL, n, SPLICE_F_MOVE);
		if (in <= 0)
			die("FAIL: splice file->pipe: %s", in < 0 ? strerror(errno) : "0");
		while (in > 0) {
			out = splice(p[0], NULL, s, NULL, (size_t)in, SPLICE_F_MOVE);
			if (out <= 0)
				die("FAIL: splice pipe->socket: %s",
				    out < 0 ? strerror(errno) : "0");
			in -= out;
		}
	}
	printf("ok sent %llu bytes (sendfile + splice)\n", (unsigned long long)SENDFILE_BYTES);
	close(p[0]);
	close(p[1]);
	close(f);
}

/* Receives through socket -> pipe splices, checking what comes out. */
static uint64_t server_splice_rx(int s)
{
	static uint8_t buf[CHUNK_MAX];
	uint64_t got = 0;
	int p[2];

	if (pipe(p))
		die("pipe: %s", strerror(errno));
	for (;;) {
		ssize_t in = splice(s, NULL, p[1], NULL, rand_size(64 * 1024), SPLICE_F_MOVE);

		if (in < 0 && errno == EAGAIN) {
			spurious_eagain++;
			continue;
		}
		if (in < 0)
			die("FAIL: splice socket->pipe after %llu bytes: %s",
			    (unsigned long long)got, strerror(errno));
		if (in == 0)
			break;
		if (read_full(p[0], buf, (size_t)in))
			die("pipe read: %s", strerror(errno));
		verify(buf, got, (size_t)in, "splice rx");
		got += (uint64_t)in;
	}
	close(p[0]);
	close(p[1]);
	return got;
}

static int do_connect(const char *ip, int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int s = socket(AF_INET, SOCK_STREAM, 0);

	if (s < 0 || inet_pton(AF_INET, ip, &a.sin_addr) != 1)
		die("bad address %s", ip);
	if (connect(s, (struct sockaddr *)&a, sizeof(a)))
		die("connect %s:%d: %s", ip, port, strerror(errno));
	return s;
}

static int do_accept(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int one = 1, l = socket(AF_INET, SOCK_STREAM, 0), s;

	if (l < 0 || setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, 8))
		die("listen on %d: %s", port, strerror(errno));
	printf("listen %d\n", port);
	fflush(stdout);
	s = accept(l, NULL, NULL);
	if (s < 0)
		die("accept: %s", strerror(errno));
	close(l);
	return s;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void client(const char *ip, int port, const char *c, const char *arg)
{
	int s = do_connect(ip, port), e;

	if (!strcmp(c, "bulk")) {
		/* 24 MiB up, then 8 MiB back. */
		if ((e = send_pattern(s, 0, 24ull * MIB)))
			die("FAIL: bulk write: %s", strerror(e));
		shutdown(s, SHUT_WR);
		expect_bytes(recv_pattern(s, 0, 0, "bulk down"), 8ull * MIB, "bulk down");
	} else if (!strcmp(c, "sendfile")) {
		client_sendfile(s);
	} else if (!strcmp(c, "splice_rx")) {
		if ((e = send_pattern(s, 0, 8ull * MIB)))
			die("FAIL: write: %s", strerror(e));
	} else if (!strcmp(c, "halfclose")) {
		/* Request, shutdown(SHUT_WR), and only then the answer: the
		 * server's FIN is here before we read. */
		if ((e = send_pattern(s, 0, MIB)))
			die("FAIL: write: %s", strerror(e));
		if (shutdown(s, SHUT_WR))
			die("FAIL: shutdown: %s", strerror(errno));
		usleep(300 * 1000);
		expect_bytes(recv_pattern(s, 0, 0, "halfclose answer"), 2ull * MIB,
			     "halfclose answer");
	} else if (!strcmp(c, "halfclose_lag")) {
		/* The server streams at us while we send and half-close without
		 * having read anything yet; it closes once it saw our EOF. */
		if ((e = send_pattern(s, 0, MIB)))
			die("FAIL: write: %s", strerror(e));
		if (shutdown(s, SHUT_WR))
			die("FAIL: shutdown: %s", strerror(errno));
		usleep(500 * 1000);
		expect_bytes(recv_pattern(s, 0, 0, "halfclose_lag data"), MIB,
			     "halfclose_lag data");
	} else if (!strcmp(c, "peerclose")) {
		double t0 = now_s();

		e = send_pattern(s, 0, 1ull << 40);
		if (e != EPIPE && e != ECONNRESET)
			die("FAIL: peerclose: write ended with %s, want EPIPE or ECONNRESET",
			    strerror(e));
		printf("ok peerclose: write failed with %s after %.2f s\n",
		       e == EPIPE ? "EPIPE" : "ECONNRESET", now_s() - t0);
	} else if (!strcmp(c, "backpressure")) {
		/* How much does a sender get rid of while its peer does not read?
		 * TCP: its send + receive buffers. */
		int fl = fcntl(s, F_GETFL);
		uint64_t n = 0, cap = 64ull * MIB;
		static uint8_t buf[64 * 1024];

		fcntl(s, F_SETFL, fl | O_NONBLOCK);
		while (n < cap) {
			ssize_t w;

			fill(buf, n, sizeof(buf));
			w = write(s, buf, sizeof(buf));
			if (w < 0 && errno == EAGAIN) {
				/* Buffers fill in steps; make sure they are full. */
				usleep(50 * 1000);
				fill(buf, n, sizeof(buf));
				w = write(s, buf, sizeof(buf));
				if (w < 0 && errno == EAGAIN)
					break;
			}
			if (w < 0)
				die("FAIL: backpressure write: %s", strerror(errno));
			n += (uint64_t)w;
		}
		printf("backpressure: %.1f MiB written before the sender blocked%s\n",
		       (double)n / MIB, n >= cap ? " (never blocked)" : "");
		fcntl(s, F_SETFL, fl);
		if ((e = send_pattern(s, n, 4ull * MIB)))
			die("FAIL: write: %s", strerror(e));
		shutdown(s, SHUT_WR);
		if (n > 32ull * MIB)
			die("FAIL: backpressure: %.1f MiB left the sender while the peer read "
			    "nothing (TCP: a few MiB)",
			    (double)n / MIB);
		printf("ok backpressure: sender blocked after %.1f MiB\n", (double)n / MIB);
		if (read(s, buf, 1) != 0)
			die("FAIL: backpressure: no EOF from the server");
	} else if (!strcmp(c, "tput")) {
		static uint8_t buf[128 * 1024];
		double secs = arg ? atof(arg) : 3, t0 = now_s(), t1;
		uint64_t n = 0, total;

		while ((t1 = now_s()) - t0 < secs) {
			ssize_t w = write(s, buf, sizeof(buf));

			if (w < 0)
				die("write: %s", strerror(errno));
			n += (uint64_t)w;
		}
		shutdown(s, SHUT_WR);
		if (read_full(s, &total, sizeof(total)) || total != n)
			die("tput: server counted a different total");
		t1 = now_s();
		printf("tput %.3f Gbit/s\n", (double)n * 8 / (t1 - t0) / 1e9);
	} else if (!strcmp(c, "rr")) {
		int count = arg ? atoi(arg) : 20000, one = 1;
		double *lat = calloc((size_t)count, sizeof(double));
		char b = 'x';

		if (!lat || count <= 0)
			die("rr: bad count");
		setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		for (int i = 0; i < count; i++) {
			double t0 = now_s();

			if (write(s, &b, 1) != 1 || read_full(s, &b, 1))
				die("rr: exchange %d: %s", i, strerror(errno));
			lat[i] = (now_s() - t0) * 1e6;
		}
		qsort(lat, (size_t)count, sizeof(double), cmp_double);
		printf("rr p50 %.1f us p99 %.1f us\n", lat[count / 2], lat[count * 99 / 100]);
		spurious_eagain = 0; /* benchmark: retried, not judged */
		free(lat);
	} else {
		die("unknown case %s", c);
	}
	close(s);
	if (spurious_eagain)
		die("FAIL: %u blocking reads returned EAGAIN (retried; data otherwise intact)",
		    spurious_eagain);
}

static void server(int port, const char *c)
{
	int s = do_accept(port), e;

	if (!strcmp(c, "bulk")) {
		expect_bytes(recv_pattern(s, 0, 0, "bulk up"), 24ull * MIB, "bulk up");
		if ((e = send_pattern(s, 0, 8ull * MIB)))
			die("FAIL: bulk write: %s", strerror(e));
	} else if (!strcmp(c, "sendfile")) {
		expect_bytes(recv_pattern(s, 0, 0, "sendfile rx"), SENDFILE_BYTES, "sendfile rx");
	} else if (!strcmp(c, "splice_rx")) {
		expect_bytes(server_splice_rx(s), 8ull * MIB, "splice rx");
	} else if (!strcmp(c, "halfclose")) {
		expect_bytes(recv_pattern(s, 0, 0, "halfclose request"), MIB, "halfclose request");
		/* EOF seen; our direction must still work. */
		if ((e = send_pattern(s, 0, 2ull * MIB)))
			die("FAIL: answer after EOF: %s", strerror(e));
		printf("ok answered after EOF\n");
	} else if (!strcmp(c, "halfclose_lag")) {
		if ((e = send_pattern(s, 0, MIB)))
			die("FAIL: write: %s", strerror(e));
		expect_bytes(recv_pattern(s, 0, 0, "halfclose_lag request"), MIB,
			     "halfclose_lag request");
	} else if (!strcmp(c, "peerclose")) {
		expect_bytes(recv_pattern(s, 0, MIB, "peerclose head"), MIB, "peerclose head");
		printf("ok closing mid-stream\n");
	} else if (!strcmp(c, "backpressure")) {
		sleep(2);
		printf("ok reading now\n");
		fflush(stdout);
		printf("ok backpressure rx %llu bytes intact\n",
		       (unsigned long long)recv_pattern(s, 0, 0, "backpressure rx"));
	} else if (!strcmp(c, "tput")) {
		static uint8_t buf[128 * 1024];
		uint64_t n = 0;
		ssize_t r;

		while ((r = read(s, buf, sizeof(buf))) > 0)
			n += (uint64_t)r;
		if (write(s, &n, sizeof(n)) != sizeof(n))
			die("tput: reply: %s", strerror(errno));
	} else if (!strcmp(c, "rr")) {
		char b;
		int one = 1;

		setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		while (read(s, &b, 1) == 1)
			if (write(s, &b, 1) != 1)
				break;
	} else {
		die("unknown case %s", c);
	}
	close(s);
	if (spurious_eagain)
		die("FAIL: %u blocking reads returned EAGAIN (retried; data otherwise intact)",
		    spurious_eagain);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGALRM, on_alarm);
	if (argc == 4 && !strcmp(argv[1], "server")) {
		alarm(strcmp(argv[3], "rr") && strcmp(argv[3], "tput") ? TIME_LIMIT : 120);
		server(atoi(argv[2]), argv[3]);
	} else if ((argc == 5 || argc == 6) && !strcmp(argv[1], "client")) {
		alarm(strcmp(argv[4], "rr") && strcmp(argv[4], "tput") ? TIME_LIMIT : 120);
		client(argv[2], atoi(argv[3]), argv[4], argc == 6 ? argv[5] : NULL);
	} else {
		fprintf(stderr, "usage: " PROG " server PORT CASE | client IP PORT CASE [ARG]\n");
		return 2;
	}
	return 0;
}
