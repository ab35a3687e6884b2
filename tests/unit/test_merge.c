/* Merged listeners, the pure parts: the pollfd array a poll or select over
 * a merged listener becomes and the answer folded back (waitfold.h), the
 * SLIM_LISTENERS pairs an exec hands on and whether the exec'd program can
 * take them (listener_env.h), and the epoll registrations read from /proc
 * fdinfo (merge_epoll.h). No root needed. */
#define _GNU_SOURCE
#include <elf.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sys/select.h>

#include "check.h"
#include "listener_env.h"
#include "merge_epoll.h"
#include "waitfold.h"

/* Listeners 5 and 9 have container sides 905 and 909. */
static bool fake_side(int fd, int *cfd)
{
	if (fd != 5 && fd != 9)
		return false;
	*cfd = 900 + fd;
	return true;
}

static void check_poll_fold(void)
{
	struct pollfd app[4] = {
	    {.fd = 5, .events = POLLIN},
	    {.fd = 7, .events = POLLIN | POLLOUT},
	    {.fd = -1, .events = POLLIN},
	    {.fd = 9, .events = POLLIN | POLLPRI, .revents = 0x7f},
	};
	struct pollfd out[6];
	nfds_t from[2], total;

	CHECK_INT(waitfold_count(app, 4, fake_side), 2);
	total = waitfold_expand(app, 4, out, from, fake_side);
	CHECK_INT(total, 6);
	CHECK_INT(out[3].revents, 0); /* cleared: the kernel writes it */
	CHECK_INT(out[4].fd, 905);
	CHECK_INT(out[4].events, POLLIN);
	CHECK_INT(from[0], 0);
	CHECK_INT(out[5].fd, 909);
	CHECK_INT(out[5].events, POLLIN | POLLPRI);
	CHECK_INT(from[1], 3);

	/* Only the container side of 5 has a connection; 7 is writable. */
	out[0].revents = 0;
	out[1].revents = POLLOUT;
	out[2].revents = 0;
	out[3].revents = 0;
	out[4].revents = POLLIN;
	out[5].revents = 0;
	CHECK_INT(waitfold_fold(app, 4, out, total, from), 2);
	CHECK_INT(app[0].revents, POLLIN);
	CHECK_INT(app[1].revents, POLLOUT);
	CHECK_INT(app[3].revents, 0);

	/* Both queues of 9 ready; a container side's POLLNVAL (closed
	 * behind libslim's back), its POLLHUP (no longer listening) and what
	 * the app did not ask for stay out. */
	out[0].revents = 0;
	out[1].revents = 0;
	out[3].revents = POLLIN;
	out[4].revents = POLLNVAL;
	out[5].revents = POLLIN | POLLOUT | POLLHUP;
	CHECK_INT(waitfold_fold(app, 4, out, total, from), 1);
	CHECK_INT(app[0].revents, 0);
	CHECK_INT(app[3].revents, POLLIN);
	/* The listener's own POLLHUP (shut down) is the app's. */
	out[3].revents = POLLHUP;
	out[5].revents = POLLHUP;
	CHECK_INT(waitfold_fold(app, 4, out, total, from), 1);
	CHECK_INT(app[3].revents, POLLHUP);

	/* No merged listener: nothing added. */
	CHECK_INT(waitfold_count(&app[1], 2, fake_side), 0);
	CHECK_INT(waitfold_expand(&app[1], 2, out, from, fake_side), 2);
}

static void check_select_fold(void)
{
	/* fd 1100 is beyond FD_SETSIZE: an app may allocate larger sets. */
	unsigned long r[1200 / (8 * sizeof(unsigned long)) + 1] = {0};
	unsigned long w[sizeof(r) / sizeof(r[0])] = {0};
	fd_set *rs = (fd_set *)(void *)r, *ws = (fd_set *)(void *)w;
	struct pollfd p[8];
	nfds_t n;
	int nfds = 1101;

	r[5 / 64] |= 1UL << 5;
	r[9 / 64] |= 1UL << 9;
	w[9 / 64] |= 1UL << 9;
	r[1100 / 64] |= 1UL << (1100 % 64);
	CHECK(waitfold_isset(rs, 1100));
	CHECK(!waitfold_isset(rs, 1099));
	n = waitfold_from_sets(nfds, rs, ws, NULL, p);
	CHECK_INT(n, 3);
	CHECK_INT(p[0].fd, 5);
	CHECK_INT(p[0].events, POLLIN);
	CHECK_INT(p[1].fd, 9);
	CHECK_INT(p[1].events, POLLIN | POLLOUT);
	CHECK_INT(p[2].fd, 1100);

	/* 5 readable (a folded container side), 9 writable and hung up
	 * (readable too, as select counts POLLHUP), 1100 nothing. */
	p[0].revents = POLLIN;
	p[1].revents = POLLOUT | POLLHUP;
	p[2].revents = 0;
	CHECK_INT(waitfold_to_sets(nfds, p, n, rs, ws, NULL), 3);
	CHECK(waitfold_isset(rs, 5));
	CHECK(waitfold_isset(rs, 9));
	CHECK(waitfold_isset(ws, 9));
	CHECK(!waitfold_isset(rs, 1100));

	/* A closed fd: select's EBADF, the sets untouched. */
	p[1].revents = POLLNVAL;
	CHECK_INT(waitfold_to_sets(nfds, p, n, rs, ws, NULL), -1);
	CHECK(waitfold_isset(ws, 9));
}

static void check_listener_env(void)
{
	struct listener_pair in[3] = {{5, 123456, 962, 123457},
				      {8, 4294967295u, 963, 1},
				      {-1, 1, 2, 3}},
			     out[4];
	char buf[LISTENER_ENV_MAX], tiny[40];

	CHECK_INT(listener_env_format(buf, sizeof(buf), in, 3), 2);
	CHECK_STR(buf, "SLIM_LISTENERS=5:123456:962:123457,8:4294967295:963:1");
	CHECK_INT(listener_env_parse(buf + strlen("SLIM_LISTENERS="), out, 4), 2);
	CHECK_INT(out[0].fd, 5);
	CHECK_INT(out[0].ino, 123456);
	CHECK_INT(out[0].cfd, 962);
	CHECK_INT(out[0].cino, 123457);
	CHECK_INT(out[1].ino, 4294967295u);
	CHECK_INT(out[1].cfd, 963);
	/* What does not fit is left out whole; nothing at all is "". */
	CHECK_INT(listener_env_format(tiny, sizeof(tiny), in, 3), 1);
	CHECK_STR(tiny, "SLIM_LISTENERS=5:123456:962:123457");
	CHECK_INT(listener_env_format(tiny, sizeof(tiny), &in[2], 1), 0);
	CHECK_STR(tiny, "");
	/* A malformed pair ends the list; at most max. */
	CHECK_INT(listener_env_parse("5:1:962:2,x:1:2:3,7:1:2:3", out, 4), 1);
	CHECK_INT(listener_env_parse("5:1:962", out, 4), 0);
	CHECK_INT(listener_env_parse("5:1:962:2junk", out, 4), 0);
	CHECK_INT(listener_env_parse("5:4294967296:962:2", out, 4), 0);
	CHECK_INT(listener_env_parse("1:1:1:1,2:2:2:2,3:3:3:3", out, 2), 2);
	CHECK_INT(listener_env_parse("", out, 4), 0);
}

/* A minimal ELF file: a header and one program header of type pt. */
static void write_elf(const char *path, uint32_t pt)
{
	Elf64_Ehdr eh = {.e_phoff = sizeof(Elf64_Ehdr),
			 .e_phentsize = sizeof(Elf64_Phdr),
			 .e_phnum = 1,
			 .e_ehsize = sizeof(Elf64_Ehdr)};
	Elf64_Phdr ph = {.p_type = pt};
	FILE *f = fopen(path, "wb");

	REQUIRE(f != NULL);
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	REQUIRE(fwrite(&eh, sizeof(eh), 1, f) == 1 && fwrite(&ph, sizeof(ph), 1, f) == 1);
	fclose(f);
}

static void check_target_dynamic(void)
{
	char dir[] = "/tmp/slim-test-merge.XXXXXX", st[64], dy[64], sh[64];
	FILE *f;
	int fd;

	REQUIRE(mkdtemp(dir) != NULL);
	snprintf(st, sizeof(st), "%s/static", dir);
	snprintf(dy, sizeof(dy), "%s/dynamic", dir);
	snprintf(sh, sizeof(sh), "%s/slim-script", dir);
	write_elf(st, PT_LOAD);
	write_elf(dy, PT_INTERP);
	f = fopen(sh, "w");
	REQUIRE(f != NULL);
	fputs("#!/bin/sh\n", f);
	fclose(f);
	CHECK(!listener_env_target_dynamic(st, -1));
	CHECK(listener_env_target_dynamic(dy, -1));
	CHECK(listener_env_target_dynamic(sh, -1));
	CHECK(listener_env_target_dynamic("/proc/self/exe", -1)); /* this test */
	CHECK(listener_env_target_dynamic(NULL, -1));		  /* not known */
	CHECK(listener_env_target_dynamic("/nonexistent/x", -1));
	{
		char buf[128], path[128];

		/* execvp's lookup: the first executable file in PATH. */
		chmod(st, 0755);
		snprintf(path, sizeof(path), "/nonexistent:%s:/bin", dir);
		setenv("PATH", path, 1);
		CHECK_STR(listener_env_which("static", buf, sizeof(buf)), st);
		/* not executable (and in no other PATH entry) */
		CHECK(listener_env_which("slim-script", buf, sizeof(buf)) == NULL);
		CHECK_STR(listener_env_which("./static", buf, sizeof(buf)), "./static");
		CHECK(listener_env_which("static", buf, 8) == NULL); /* no room */
	}
	fd = open(st, O_RDONLY);
	CHECK(!listener_env_target_dynamic(NULL, fd)); /* fexecve's fd */
	CHECK(fcntl(fd, F_GETFD) >= 0);		       /* left open */
	close(fd);
	unlink(st);
	unlink(dy);
	unlink(sh);
	rmdir(dir);
}

static void check_epoll_parse(void)
{
	struct merge_ep_reg r = {0, 0};

	CHECK(merge_epoll_parse("tfd:        5 events: 80000019 data: 1234567890abcdef  pos:0 "
				"ino:2437f0a sdev:9",
				0x2437f0a, &r));
	CHECK_INT(r.events, 0x80000019u);
	CHECK(r.data == 0x1234567890abcdefULL);
	CHECK(!merge_epoll_parse("tfd:        5 events: 19 data: 5  pos:0 ino:2437f0b sdev:9",
				 0x2437f0a, &r));
	CHECK(!merge_epoll_parse("pos:\t0", 0, &r));
	CHECK(!merge_epoll_parse("flags:\t02", 0, &r));
	CHECK(!merge_epoll_parse("tfd: 5 events: zz data: 5 pos:0 ino:1 sdev:9", 1, &r));
}

int main(void)
{
	check_poll_fold();
	check_select_fold();
	check_listener_env();
	check_epoll_parse();
	check_target_dynamic();
	CHECK_DONE();
}
