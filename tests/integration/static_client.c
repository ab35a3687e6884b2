/* slim-static-client: a TCP echo client linked statically, so that no
 * LD_PRELOAD can reach it. test_static_client.sh runs it under slim-run to
 * show what happens to such a program: slim-run warns once, and the program
 * uses the container network as if slim were not there.
 *
 *   slim-static-client [--timeout MS] IP PORT MESSAGE
 *
 * Prints "local IP:PORT", "peer IP:PORT" and "echo MESSAGE" (what came
 * back), or "error STEP ERRNO_NAME". Exit: 0 echo matched, 2 connection
 * refused, 3 timed out, 1 anything else.
 *
 * Only plain system calls and inet_pton/ntop: getaddrinfo and friends in a
 * static glibc want the shared NSS modules at run time. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PROG "slim-static-client"

static int timeout_ms = 5000;
static struct timespec deadline;

static void usage(void)
{
	fprintf(stderr, "usage: " PROG " [--timeout MS] IP PORT MESSAGE\n");
}

static const char *errno_name(int err)
{
	switch (err) {
	case ECONNREFUSED:
		return "ECONNREFUSED";
	case ETIMEDOUT:
		return "ETIMEDOUT";
	case ECONNRESET:
		return "ECONNRESET";
	case EHOSTUNREACH:
		return "EHOSTUNREACH";
	case ENETUNREACH:
		return "ENETUNREACH";
	case EPIPE:
		return "EPIPE";
	default:
		return strerror(err);
	}
}

/* Prints the error line and maps it to the exit code the test reads. */
static int fail(const char *step, int err)
{
	printf("error %s %s\n", step, errno_name(err));
	fflush(stdout);
	if (err == ECONNREFUSED)
		return 2;
	return err == ETIMEDOUT ? 3 : 1;
}

/* Milliseconds left until the deadline, at least 0. One deadline for the
 * whole run (not one per poll), so that a peer trickling bytes cannot
 * stretch it: the test needs a hard bound on how long this takes. */
static int ms_left(void)
{
	struct timespec now;
	long long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (long long)(deadline.tv_sec - now.tv_sec) * 1000 +
	     (deadline.tv_nsec - now.tv_nsec) / 1000000;
	return ms < 0 ? 0 : (int)ms;
}

/* Waits for events on fd until the deadline: 0, or -1 with errno
 * (ETIMEDOUT when the deadline passed). */
static int wait_fd(int fd, short events)
{
	struct pollfd p = {.fd = fd, .events = events};
	int rc;

	do
		rc = poll(&p, 1, ms_left());
	while (rc < 0 && errno == EINTR);
	if (rc == 0)
		errno = ETIMEDOUT;
	return rc > 0 ? 0 : -1;
}

static void print_name(int fd, const char *tag, int peer)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	char ip[INET_ADDRSTRLEN];
	int rc;

	memset(&sin, 0, sizeof(sin));
	rc = peer ? getpeername(fd, (struct sockaddr *)&sin, &len)
		  : getsockname(fd, (struct sockaddr *)&sin, &len);
	if (rc < 0 || sin.sin_family != AF_INET) {
		printf("%s ?\n", tag);
		return;
	}
	inet_ntop(AF_INET, &sin.sin_addr, ip, sizeof(ip));
	printf("%s %s:%u\n", tag, ip, ntohs(sin.sin_port));
}

/* A non-blocking connect bounded by the deadline: a SYN that nobody
 * answers must end in ETIMEDOUT here, not after the kernel's minutes of
 * retries. */
static int connect_bounded(int fd, const struct sockaddr_in *sin)
{
	socklen_t len = sizeof(int);
	int err = 0;

	if (connect(fd, (const struct sockaddr *)sin, sizeof(*sin)) == 0)
		return 0;
	if (errno != EINPROGRESS)
		return -1;
	if (wait_fd(fd, POLLOUT) < 0)
		return -1;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		return -1;
	if (err) {
		errno = err;
		return -1;
	}
	return 0;
}

static int send_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EAGAIN) {
			if (wait_fd(fd, POLLOUT) < 0)
				return -1;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads exactly len bytes; a peer that closes early is ECONNRESET. */
static int recv_all(int fd, char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = recv(fd, p, len, 0);

		if (n < 0 && errno == EAGAIN) {
			if (wait_fd(fd, POLLIN) < 0)
				return -1;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0) {
			errno = ECONNRESET;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	const char *msg;
	char *end, *back;
	long v;
	size_t len;
	int fd, rc, i = 1;

	if (argc > 2 && !strcmp(argv[1], "--timeout")) {
		v = strtol(argv[2], &end, 10);
		if (*end || v < 1 || v > 600000) {
			usage();
			return 1;
		}
		timeout_ms = (int)v;
		i = 3;
	}
	if (argc - i != 3 || inet_pton(AF_INET, argv[i], &sin.sin_addr) != 1) {
		usage();
		return 1;
	}
	v = strtol(argv[i + 1], &end, 10);
	if (*end || v < 1 || v > 65535) {
		usage();
		return 1;
	}
	sin.sin_port = htons((unsigned short)v);
	msg = argv[i + 2];
	len = strlen(msg);

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += timeout_ms / 1000;
	deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail("socket", errno);
	if (connect_bounded(fd, &sin) < 0) {
		rc = fail("connect", errno);
		close(fd);
		return rc;
	}
	print_name(fd, "local", 0);
	print_name(fd, "peer", 1);
	fflush(stdout);
	back = calloc(1, len + 1);
	if (!back) {
		close(fd);
		return fail("calloc", ENOMEM);
	}
	if (send_all(fd, msg, len) < 0) {
		rc = fail("send", errno);
	} else if (recv_all(fd, back, len) < 0) {
		rc = fail("recv", errno);
	} else {
		printf("echo %s\n", back);
		rc = strcmp(back, msg) ? 1 : 0;
	}
	free(back);
	close(fd);
	return rc;
}
