/* cgroup v2 handling. The mount point is looked up, never assumed: a
 * hybrid layout has cgroup2 at /sys/fs/cgroup/unified, a unified one at
 * /sys/fs/cgroup. */
#define _GNU_SOURCE
#include "cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Undoes mountinfo's octal escapes (\040 for space etc.) in place. */
static void unescape(char *s)
{
	char *w = s;

	for (char *r = s; *r; r++) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
		    r[3] >= '0' && r[3] <= '7') {
			*w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
			r += 3;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
}

int cg_find_mount(char *out, size_t outlen, char *err, size_t errlen)
{
	char *line = NULL;
	size_t cap = 0;
	int found = 0;
	FILE *fp = fopen("/proc/self/mountinfo", "re");

	if (!fp) {
		snprintf(err, errlen, "cannot read /proc/self/mountinfo: %s", strerror(errno));
		return -1;
	}
	/* Fields: id parent maj:min root mountpoint opts [optional...] - fstype src sopts */
	while (!found && getline(&line, &cap, fp) > 0) {
		char *save = NULL, *f[5] = {0};
		int i = 0;
		char *t = strtok_r(line, " \n", &save);
		for (; t && i < 5; t = strtok_r(NULL, " \n", &save))
			f[i++] = t;
		if (i < 5)
			continue;
		while (t && strcmp(t, "-") != 0)
			t = strtok_r(NULL, " \n", &save);
		if (!t)
			continue;
		t = strtok_r(NULL, " \n", &save);
		if (!t || strcmp(t, "cgroup2") != 0 || strcmp(f[3], "/") != 0)
			continue;
		unescape(f[4]);
		if (strlen(f[4]) >= outlen)
			continue;
		strcpy(out, f[4]);
		found = 1;
	}
	free(line);
	fclose(fp);
	if (!found) {
		snprintf(
		    err, errlen,
		    "no cgroup2 mount in /proc/self/mountinfo (mount one, e.g. mount -t cgroup2 "
		    "none /sys/fs/cgroup/unified)");
		return -1;
	}
	return 0;
}

/* The parent of pid from /proc/PID/stat, or 0. */
static pid_t parent_of(pid_t pid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd, ppid;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* "pid (comm) state ppid ...": comm may hold spaces and parentheses */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1, " %*c %d", &ppid) != 1)
		return 0;
	return (pid_t)ppid;
}

/* The nearest ancestor whose mount namespace is not ours and that we may
 * enter (its ns link is readable), or 0. */
static pid_t ancestor_in_other_mntns(void)
{
	struct stat self, st;
	char path[64];
	pid_t pid = getppid();

	if (stat("/proc/self/ns/mnt", &self) != 0)
		return 0;
	for (int i = 0; i < 64 && pid > 0; i++) {
		snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int)pid);
		if (stat(path, &st) == 0 && (st.st_dev != self.st_dev || st.st_ino != self.st_ino))
			return pid;
		if (pid == 1)
			break;
		pid = parent_of(pid);
	}
	return 0;
}

int cg_find_host_mount(char *out, size_t outlen, int *moved_to, char *err, size_t errlen)
{
	char cwd[PATH_MAX], path[64];
	pid_t pid;
	int fd;

	*moved_to = 0;
	if (cg_find_mount(out, outlen, err, errlen) == 0)
		return 0;
	pid = ancestor_in_other_mntns();
	if (!pid)
		return -1; /* err says why */
	/* setns resets the working directory to the namespace's root; the same
	 * path names it there (only /sys differs), and relative --state,
	 * --socket or --pin-dir paths must keep meaning what they meant. */
	if (!getcwd(cwd, sizeof(cwd)))
		cwd[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWNS) != 0) {
		int e = errno;

		if (fd >= 0)
			close(fd);
		snprintf(err, errlen,
			 "no cgroup2 mount in this mount namespace (`ip netns exec` remounts /sys, "
			 "which hides it) and cannot join that of pid %d: %s; start the router "
			 "with `nsenter --net=/run/netns/NAME slim-router ...` instead",
			 (int)pid, strerror(e));
		return -1;
	}
	close(fd);
	*moved_to = (int)pid;
	if (cwd[0] && chdir(cwd) != 0) {
		snprintf(err, errlen,
			 "joined the mount namespace of pid %d, where the working directory %s is "
			 "missing: %s (give absolute paths)",
			 (int)pid, cwd, strerror(errno));
		return -1;
	}
	return cg_find_mount(out, outlen, err, errlen);
}

/* Reads our cgroup v2 path ("0::/path") from /proc/self/cgroup into out. */
static int own_cgroup(char *out, size_t outlen)
{
	char line[4096 + 8];
	int rc = -1;
	FILE *fp = fopen("/proc/self/cgroup", "re");

	if (!fp)
		return -1;
	while (fgets(line, sizeof(line), fp)) {
		if (strncmp(line, "0::", 3) != 0)
			continue;
		line[strcspn(line, "\n")] = '\0';
		/* A cgroup that vanished reads "/path (deleted)": use the root then. */
		if (strlen(line + 3) < outlen && !strstr(line, " (deleted)")) {
			strcpy(out, line + 3);
			rc = 0;
		}
		break;
	}
	fclose(fp);
	return rc;
}

/* Writes our pid into DIR/cgroup.procs. Returns 0 or -1 with errno. */
static int join(const char *dir)
{
	char path[4096 + 32], pid[32];
	int n, fd, rc = 0;

	if (snprintf(path, sizeof(path), "%s/cgroup.procs", dir) >= (int)sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	if (write(fd, pid, (size_t)n) != n)
		rc = -1;
	int saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

/* Counts the pids in DIR/cgroup.procs other than ours; 0 if unreadable
 * (a cgroup we cannot read we cannot join either). */
static int count_others(const char *dir)
{
	char path[4096 + 32];
	long pid;
	int n = 0;
	FILE *fp;

	if (snprintf(path, sizeof(path), "%s/cgroup.procs", dir) >= (int)sizeof(path))
		return 0;
	fp = fopen(path, "re");
	if (!fp)
		return 0;
	while (fscanf(fp, "%ld", &pid) == 1)
		if (pid != (long)getpid())
			n++;
	fclose(fp);
	return n;
}

int cg_enter(struct cg *g, char *err, size_t errlen)
{
	g->fd = -1;
	g->created = false;
	g->joined = false;
	g->others = 0;
	if (own_cgroup(g->origin, sizeof(g->origin)) != 0)
		strcpy(g->origin, "/");
	if (mkdir(g->dir, 0755) == 0) {
		g->created = true;
	} else if (errno != EEXIST) {
		snprintf(err, errlen, "cannot create cgroup %s: %s", g->dir, strerror(errno));
		return -1;
	}
	if (!g->created)
		g->others = count_others(g->dir);
	if (join(g->dir) != 0) {
		int e = errno;
		size_t m = strlen(g->mount);
		bool under = strncmp(g->dir, g->mount, m) == 0 && g->dir[m] == '/';
		snprintf(err, errlen, "cannot join cgroup %s: %s%s%s%s", g->dir, strerror(e),
			 under ? "" : " (--cgroup must be a directory under the cgroup2 mount ",
			 under ? "" : g->mount, under ? "" : ")");
		return -1;
	}
	g->joined = true;
	g->fd = open(g->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (g->fd < 0) {
		snprintf(err, errlen, "cannot open cgroup %s: %s", g->dir, strerror(errno));
		return -1;
	}
	return 0;
}

int cg_leave(struct cg *g)
{
	char back[sizeof(g->mount) + sizeof(g->origin)];
	int rc = 0, saved = 0;

	if (g->fd >= 0) {
		close(g->fd);
		g->fd = -1;
	}
	if (g->joined) {
		snprintf(back, sizeof(back), "%s%s", g->mount, g->origin);
		/* The original cgroup may have gone meanwhile: the root always exists. */
		if (join(back) != 0 && join(g->mount) != 0) {
			rc = -1;
			saved = errno;
		}
		g->joined = false;
	}
	if (g->created && !g->keep) {
		if (rmdir(g->dir) != 0 && rc == 0) {
			rc = -1;
			saved = errno;
		}
		g->created = false;
	}
	errno = saved;
	return rc;
}
