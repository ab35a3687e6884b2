/* Caller identity. The pid from SO_PEERCRED is read once at accept time;
 * /proc/PID/ns/net is stat'ed right away so that a later pid reuse cannot
 * change what the connection is, and SO_PEERPIDFD proves that the pid still
 * named the connecting process when it was stat'ed. */
#define _GNU_SOURCE /* SO_PEERCRED, struct ucred, CLONE_NEWNET */
#include "peer.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77 /* Linux >= 6.5 */
#endif

/* A pidfd for the process that connected sock: >= 0; -1 when the kernel
 * has no SO_PEERPIDFD (nothing to check with); -2 when that process is
 * gone, so its pid may already name another process. */
static int peer_pidfd(int sock)
{
	int pidfd = -1;
	socklen_t len = sizeof(pidfd);

	if (getsockopt(sock, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &len) == 0)
		return pidfd;
	return errno == ENOPROTOOPT ? -1 : -2;
}

int peer_identify(int sock, struct peer_id *id)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	char path[64];
	struct stat st;
	int pidfd;

	memset(id, 0, sizeof(*id));
	if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
		return -1;
	id->pid = cred.pid;
	id->uid = cred.uid;
	if (cred.pid <= 0)
		return 0;
	pidfd = peer_pidfd(sock);
	if (pidfd == -2)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)cred.pid);
	bool found = stat(path, &st) == 0;
	/* The connecting process could have exited and its pid been reused by
	 * a process elsewhere (a root shell in the host netns: admin) between
	 * connect() and the stat. If it is still alive now, the pid was its
	 * own all along (EPERM also means alive: only ESRCH means gone). */
	if (found && pidfd >= 0 && syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) != 0 &&
	    errno == ESRCH)
		found = false;
	if (pidfd >= 0)
		close(pidfd);
	if (found) {
		id->ns_ok = true;
		id->ns_dev = st.st_dev;
		id->ns_ino = st.st_ino;
	}
	return 0;
}

int netns_identify(const char *path, dev_t *dev, ino_t *ino, char *why, size_t whylen)
{
	struct stat st;
	int fd, type, err;

	/* stat first: opening a FIFO or a device could block or have effects. */
	if (stat(path, &st) != 0) {
		err = errno;
		snprintf(why, whylen, "netns %s: %s", path, strerror(err));
		return err;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, whylen, "%s is not a network namespace", path);
		return EINVAL;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		err = errno;
		snprintf(why, whylen, "netns %s: %s", path, strerror(err));
		return err;
	}
	type = ioctl(fd, NS_GET_NSTYPE);
	if (type != CLONE_NEWNET || fstat(fd, &st) != 0) {
		close(fd);
		snprintf(why, whylen, "%s is not a network namespace", path);
		return EINVAL;
	}
	close(fd);
	*dev = st.st_dev;
	*ino = st.st_ino;
	return 0;
}
