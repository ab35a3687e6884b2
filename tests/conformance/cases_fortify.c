/* Calls that a _FORTIFY_SOURCE=2 build routes through glibc's __*_chk entry
 * points (the buffer size is known to the compiler, the length is not), on
 * overlay sockets. Built into both clients: in slim-conf-client-fortify they
 * are the fortified variants, so the runner compares them too. */
#define _GNU_SOURCE
#include "conf.h"

#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/select.h>
#include <unistd.h>

/* Lengths the compiler cannot see through, so the _chk variants are used. */
static volatile size_t v5 = 5, v64 = 64;
static volatile nfds_t v1 = 1;

static void chk_io(void)
{
	int fd = dial("dial", conf.far, PORT_ECHO, 0);
	struct pollfd p[2];
	struct sockaddr_in from;
	socklen_t fl = sizeof(from);
	char buf[64];
	fd_set rs;
	struct timeval tv = {.tv_sec = 3};

	if (fd < 0)
		return;
	RET("write", write(fd, "abcdefghijklmno", 15));
	p[0] = (struct pollfd){.fd = fd, .events = POLLIN};
	RET("poll (__poll_chk)", poll(p, v1, CONF_WAIT_MS));
	usleep(50000);
	RET("recv 5 (__recv_chk)", recv(fd, buf, v5, 0));
	say("data: %.5s", buf);
	RET("read 5 (__read_chk)", read(fd, buf, v5));
	say("data: %.5s", buf);
	RET("recvfrom 5 (__recvfrom_chk)", recvfrom(fd, buf, v5, 0, (struct sockaddr *)&from, &fl));
	say("data: %.5s addrlen %u", buf, (unsigned)fl);
	RET("write", write(fd, "pqrst", 5));
	FD_ZERO(&rs);
	FD_SET(fd, &rs); /* __fdelt_chk */
	RET("select (FD_SET via __fdelt_chk)", select(fd + 1, &rs, NULL, NULL, &tv));
	p[0].revents = 0;
	RET("ppoll (__ppoll_chk)", ppoll(p, v1, &(struct timespec){.tv_sec = 3}, NULL));
	usleep(50000);
	RET("recv up to 64 (__recv_chk)", recv(fd, buf, v64, MSG_DONTWAIT));
	RET("shutdown WR", shutdown(fd, SHUT_WR));
	(void)wait_ready(fd, POLLIN, CONF_WAIT_MS);
	RET("read EOF (__read_chk)", read(fd, buf, v64));
	close(fd);
}

const struct conf_case conf_cases_fortify[] = {
    {"fortify.chk_io",
     "recv/read/recvfrom/poll/ppoll/FD_SET with the __*_chk entry points when fortified", chk_io},
    {0},
};
