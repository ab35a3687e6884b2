/* bpf_test: see bpf_test.h. */
#define _GNU_SOURCE
#include "bpf_test.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *test_prog = "bpf_test";
static int failures;

static struct {
	char orig[4096]; /* the cgroup we started in */
	char test[4096]; /* the cgroup we created ("" if none) */
	int fd;
} cg = {.fd = -1};

/* What the watchdog writes where: prepared in advance, as a signal
 * handler may only make async-signal-safe calls. */
static char wd_procs[4200], wd_pid[32], wd_msg[256];

static void on_alarm(int sig)
{
	int fd;

	(void)sig;
	if (write(STDERR_FILENO, wd_msg, strlen(wd_msg)) < 0) {
		/* nothing more to do */
	}
	fd = open(wd_procs, O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (write(fd, wd_pid, strlen(wd_pid)) > 0)
			rmdir(cg.test);
		close(fd);
	}
	_exit(1);
}

void fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "%s: FAIL: ", test_prog);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	failures++;
}

void pass(const char *what)
{
	printf("%s: ok: %s\n", test_prog, what);
}

int write_file(const char *path, const char *s)
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

int test_begin(char **argv, const char *default_name, const char *needs)
{
	test_prog = default_name;
	if (argv[0] && strrchr(argv[0], '/'))
		test_prog = strrchr(argv[0], '/') + 1;
	else if (argv[0])
		test_prog = argv[0];
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (geteuid() != 0) {
		fprintf(stderr, "%s: FAIL: must run as root (it %s)\n", test_prog, needs);
		return -1;
	}
	return 0;
}

int test_verdict(void)
{
	if (failures) {
		fprintf(stderr, "%s: %d check(s) FAILED\n", test_prog, failures);
		return 1;
	}
	printf("%s: all checks passed\n", test_prog);
	return 0;
}

/* The cgroup2 mount point from /proc/self/mountinfo into root. Returns 0
 * or -1. */
static int find_cgroup2(char *root, size_t rootlen)
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
		if (strcmp(fstype, "cgroup2") == 0 && strlen(mnt) < rootlen) {
			/* octal escapes (\040) are not expected here */
			snprintf(root, rootlen, "%s", mnt);
			found = 0;
		}
	}
	fclose(f);
	return found;
}

/* Our cgroup v2 path ("0::/path" in /proc/self/cgroup) joined to root,
 * into out. Returns 0 or -1. */
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

/* Writes our pid into dir's cgroup.procs. Returns 0, or -1 with errno. */
static int move_to(const char *dir)
{
	char procs[4200], pid[32];

	snprintf(procs, sizeof(procs), "%s/cgroup.procs", dir);
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	return write_file(procs, pid);
}

int test_cgroup_enter(const char *name, unsigned timeout_s)
{
	char root[4096];

	if (find_cgroup2(root, sizeof(root))) {
		fail("no cgroup2 mount in /proc/self/mountinfo (mount cgroup v2)");
		return -1;
	}
	if (current_cgroup(root, cg.orig, sizeof(cg.orig))) {
		fail("cannot find our cgroup v2 in /proc/self/cgroup");
		return -1;
	}
	if (snprintf(cg.test, sizeof(cg.test), "%s/%s-%d", root, name, (int)getpid()) >=
	    (int)sizeof(cg.test)) {
		fail("cgroup path too long under %s", root);
		cg.test[0] = '\0';
		return -1;
	}
	if (mkdir(cg.test, 0755)) {
		fail("mkdir %s: %s", cg.test, strerror(errno));
		cg.test[0] = '\0';
		return -1;
	}
	snprintf(wd_procs, sizeof(wd_procs), "%s/cgroup.procs", cg.orig);
	snprintf(wd_pid, sizeof(wd_pid), "%d", (int)getpid());
	snprintf(wd_msg, sizeof(wd_msg), "%s: FAIL: timed out, giving up\n", test_prog);
	signal(SIGALRM, on_alarm);
	alarm(timeout_s);
	if (move_to(cg.test)) {
		fail("move into %s: %s", cg.test, strerror(errno));
		return -1;
	}
	cg.fd = open(cg.test, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg.fd < 0)
		fail("open %s: %s", cg.test, strerror(errno));
	return cg.fd;
}

/* rmdir of a cgroup whose last tasks just exited: they may still be
 * leaving it (EBUSY), so try again for up to 2 s. Returns 0 or -1 with
 * errno. */
static int rmdir_settled(const char *dir)
{
	for (int i = 0; i < 100; i++) {
		if (rmdir(dir) == 0)
			return 0;
		if (errno != EBUSY)
			return -1;
		usleep(20000);
	}
	errno = EBUSY;
	return -1;
}

void test_cgroup_leave(void)
{
	if (cg.fd >= 0)
		close(cg.fd);
	cg.fd = -1;
	if (!cg.test[0])
		return;
	if (move_to(cg.orig))
		fail("move back to %s: %s", cg.orig, strerror(errno));
	else if (rmdir_settled(cg.test))
		fail("rmdir %s: %s (remove it by hand)", cg.test, strerror(errno));
	cg.test[0] = '\0';
}
