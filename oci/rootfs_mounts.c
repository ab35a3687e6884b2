/* The mounts are made with the new mount API (fsopen, open_tree,
 * mount_setattr, move_mount): each mount is made read-only before it is
 * attached, and targets inside the root filesystem are reached through
 * descriptors opened without following symlinks. */
#define _GNU_SOURCE
#include "rootfs_mounts.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#define SLIM_DIR_IN_CONTAINER "/run/slim"
#define PRELOAD_MAX (64 * 1024)
#define WRONG_NS                                                                                   \
	"not in the container's mount namespace (no /proc mounted in its root filesystem): the "   \
	"hook belongs to the createContainer stage (fix \"stages\" in its hooks.d file)"

static int fail(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	errno = saved;
	return -1;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Undoes mountinfo's octal escapes (\040 for a blank...) in place. */
static void unescape(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*w++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*w++ = *s;
		}
	}
	*w = 0;
}

/* Whether mount point mp holds path (is it or one of its parents). */
static bool covers(const char *mp, const char *path)
{
	size_t n = strlen(mp);

	if (strcmp(mp, "/") == 0)
		return true;
	return strncmp(mp, path, n) == 0 && (path[n] == '/' || path[n] == 0);
}

int slim_mounts_check_namespace(const char *rootfs, char *why, size_t whylen)
{
	char *line = NULL, best[4096] = "", best_opt[512] = "", proc[4096];
	bool proc_seen = false;
	size_t cap = 0;
	FILE *f;

	snprintf(proc, sizeof(proc), "%s/proc", strcmp(rootfs, "/") == 0 ? "" : rootfs);
	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return fail(why, whylen, "cannot read /proc/self/mountinfo: %s", strerror(errno));
	while (getline(&line, &cap, f) > 0) {
		/* ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE ... */
		char mp[4096], opt[512] = "", fstype[32] = "";
		char *p, *sep;
		int skip = 0;

		if (sscanf(line, "%*s %*s %*s %*s %4095s %*s%n", mp, &skip) != 1 || skip <= 0)
			continue;
		p = line + skip;
		sep = strstr(p, " - ");
		if (!sep)
			continue;
		if (sep - p < (long)sizeof(opt)) {
			memcpy(opt, p, (size_t)(sep - p));
			opt[sep - p] = 0;
		}
		sscanf(sep + 3, "%31s", fstype);
		unescape(mp);
		if (strcmp(mp, proc) == 0 && strcmp(fstype, "proc") == 0)
			proc_seen = true;
		if (covers(mp, rootfs) && strlen(mp) >= strlen(best)) {
			snprintf(best, sizeof(best), "%s", mp);
			snprintf(best_opt, sizeof(best_opt), "%s", opt);
		}
	}
	free(line);
	fclose(f);
	if (!best[0])
		return fail(why, whylen, "no mount holds the root filesystem %s", rootfs);
	if (strstr(best_opt, "shared:"))
		return fail(why, whylen,
			    "the root filesystem's mount %s is shared with other mount namespaces: "
			    "mounts made in it would reach the host (set rootfsPropagation to "
			    "private or slave)",
			    best);
	/* The runtime mounts the container's /proc before createContainer,
	 * in the container's mount namespace only: without it this is not
	 * that namespace, and mounts made here would stay on the host. */
	if (!proc_seen)
		return fail(why, whylen, "%s", WRONG_NS);
	return 0;
}

/* Opens directory name under dirfd without following a symlink, creating
 * it (0755) if missing. Returns an O_PATH fd, or -1 with errno set. */
static int open_dir(int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0 && errno == ENOENT) {
		if (mkdirat(dirfd, name, 0755) != 0 && errno != EEXIST)
			return -1;
		fd = openat(dirfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	}
	return fd;
}

/* Opens regular file name under dirfd without following a symlink,
 * creating it empty (0644) if missing. Returns an O_PATH fd, or -1 with
 * errno set (EINVAL: not a regular file). */
static int open_file(int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	struct stat sb;

	if (fd < 0 && errno == ENOENT) {
		fd =
		    openat(dirfd, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd < 0)
			return -1;
		close(fd);
		fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd >= 0 && (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode))) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	return fd;
}

/* A read-only, nosuid, nodev clone of src (relative to srcdir, a symlink
 * in its last component not followed), attached onto target (an O_PATH
 * fd). Returns 0, or -1 with errno set. */
static int bind_ro(int srcdir, const char *src, int target, unsigned long long extra)
{
	struct mount_attr attr = {.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID |
					      MOUNT_ATTR_NODEV | extra};
	int tree =
	    open_tree(srcdir, src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_SYMLINK_NOFOLLOW);
	int ret = -1;

	if (tree < 0)
		return -1;
	if (mount_setattr(tree, "", AT_EMPTY_PATH, &attr, sizeof(attr)) == 0 &&
	    move_mount(tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) ==
		0)
		ret = 0;
	close_fd(&tree);
	return ret;
}

/* Writes the preload list into the tmpfs (mnt): libslim first, then the
 * image's own /etc/ld.so.preload lines (etc: its /etc), ours left out. */
static int write_preload(int mnt, int etc, char *why, size_t whylen)
{
	static const char ours[] = SLIM_DIR_IN_CONTAINER "/libslim.so";
	char *old = NULL;
	ssize_t n = 0;
	FILE *out;
	int fd, ok;

	fd = openat(etc, "ld.so.preload", O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd >= 0) {
		struct stat sb;

		old = malloc(PRELOAD_MAX + 1);
		if (old && fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode))
			n = read(fd, old, PRELOAD_MAX);
		if (n < 0)
			n = 0;
		close(fd);
	}
	fd = openat(mnt, "ld.so.preload", O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
	out = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!out) {
		if (fd >= 0)
			close(fd);
		free(old);
		return fail(why, whylen, "cannot write the preload list: %s", strerror(errno));
	}
	fprintf(out, "%s\n", ours);
	if (old) {
		old[n] = 0;
		for (char *save, *w = strtok_r(old, " \t\n:", &save); w;
		     w = strtok_r(NULL, " \t\n:", &save))
			if (strcmp(w, ours) != 0)
				fprintf(out, "%s\n", w);
	}
	free(old);
	ok = fclose(out) == 0;
	return ok ? 0 : fail(why, whylen, "cannot write the preload list: %s", strerror(errno));
}

/* A new tmpfs, detached, filled with the symlink to the router's socket,
 * the preload list and the mount points. Returns its mount fd, or -1. */
static int make_tmpfs(const struct slim_mounts *m, int etc, char *why, size_t whylen)
{
	char link[512];
	int fs, mnt = -1, fd;

	fs = fsopen("tmpfs", FSOPEN_CLOEXEC);
	if (fs < 0 || fsconfig(fs, FSCONFIG_SET_STRING, "mode", "0755", 0) != 0 ||
	    fsconfig(fs, FSCONFIG_SET_STRING, "size", "1m", 0) != 0 ||
	    fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) != 0 ||
	    (mnt = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV)) < 0) {
		fail(why, whylen, "cannot make a tmpfs for " SLIM_DIR_IN_CONTAINER ": %s",
		     strerror(errno));
		close_fd(&fs);
		return -1;
	}
	close_fd(&fs);
	if (snprintf(link, sizeof(link), "router/%s", m->sockname) >= (int)sizeof(link)) {
		fail(why, whylen, "router socket name too long: %s", m->sockname);
		goto bad;
	}
	fd = openat(mnt, "libslim.so", O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
	if (fd < 0 || close(fd) != 0 || mkdirat(mnt, "router", 0755) != 0 ||
	    symlinkat(link, mnt, "slim.sock") != 0) {
		fail(why, whylen, "cannot fill " SLIM_DIR_IN_CONTAINER ": %s", strerror(errno));
		goto bad;
	}
	if (write_preload(mnt, etc, why, whylen) != 0)
		goto bad;
	return mnt;
bad:
	close_fd(&mnt);
	return -1;
}

/* Attaches the tmpfs at /run/slim, binds the library and the socket's
 * directory into it and makes it read-only. Returns an O_PATH fd of the
 * attached tmpfs (the caller closes it), or -1. */
static int attach_slim_dir(const struct slim_mounts *m, int root, int mnt, char *why, size_t whylen)
{
	struct mount_attr ro = {.attr_set = MOUNT_ATTR_RDONLY};
	int run = -1, dir = -1, at = -1, ret = -1;

	run = open_dir(root, "run");
	dir = run >= 0 ? open_dir(run, "slim") : -1;
	if (dir < 0) {
		fail(why, whylen,
		     "cannot make " SLIM_DIR_IN_CONTAINER " in the root filesystem: %s",
		     strerror(errno));
		goto out;
	}
	if (move_mount(mnt, "", dir, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) != 0) {
		fail(why, whylen, "cannot mount " SLIM_DIR_IN_CONTAINER ": %s", strerror(errno));
		goto out;
	}
	/* dir is the covered directory; the tmpfs is reached by name again. */
	close_fd(&dir);
	dir = openat(run, "slim", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	at = dir >= 0 ? openat(dir, "libslim.so", O_PATH | O_NOFOLLOW | O_CLOEXEC) : -1;
	if (at < 0 || bind_ro(AT_FDCWD, m->lib, at, 0) != 0) {
		fail(why, whylen, "cannot mount %s into the container: %s", m->lib,
		     strerror(errno));
		goto out;
	}
	close_fd(&at);
	at = openat(dir, "router", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (at < 0 || bind_ro(AT_FDCWD, m->sockdir, at, MOUNT_ATTR_NOEXEC) != 0) {
		fail(why, whylen, "cannot mount the router's directory %s into the container: %s",
		     m->sockdir, strerror(errno));
		goto out;
	}
	if (mount_setattr(dir, "", AT_EMPTY_PATH, &ro, sizeof(ro)) != 0) {
		fail(why, whylen, "cannot make " SLIM_DIR_IN_CONTAINER " read-only: %s",
		     strerror(errno));
		goto out;
	}
	ret = dir;
	dir = -1;
out:
	close_fd(&at);
	close_fd(&dir);
	close_fd(&run);
	return ret;
}

int slim_mounts_make(const struct slim_mounts *m, char *why, size_t whylen)
{
	int root = -1, etc = -1, mnt = -1, target = -1, dir = -1, ret = -1;

	root = open(m->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0) {
		fail(why, whylen, "cannot open the root filesystem %s: %s", m->rootfs,
		     strerror(errno));
		goto out;
	}
	etc = open_dir(root, "etc");
	if (etc < 0) {
		fail(why, whylen, "the root filesystem has no usable /etc: %s", strerror(errno));
		goto out;
	}
	mnt = make_tmpfs(m, etc, why, whylen);
	if (mnt < 0 || (dir = attach_slim_dir(m, root, mnt, why, whylen)) < 0)
		goto out;
	target = open_file(etc, "ld.so.preload");
	if (target < 0) {
		fail(why, whylen, "cannot make /etc/ld.so.preload in the root filesystem: %s%s",
		     strerror(errno),
		     errno == EROFS ? " (a read-only image needs an /etc/ld.so.preload, "
				      "even empty, to mount over)"
				    : "");
		goto out;
	}
	if (bind_ro(dir, "ld.so.preload", target, MOUNT_ATTR_NOEXEC) != 0) {
		fail(why, whylen, "cannot mount /etc/ld.so.preload: %s", strerror(errno));
		goto out;
	}
	ret = 0;
out:
	close_fd(&dir);
	close_fd(&target);
	close_fd(&mnt);
	close_fd(&etc);
	close_fd(&root);
	return ret;
}
