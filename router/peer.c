/* Caller identity. The pid from SO_PEERCRED is read once at accept time;
 * /proc/PID/ns/net is stat'ed right away so that a later pid reuse cannot
 * change what the connection is. */
#define _GNU_SOURCE /* SO_PEERCRED, struct ucred, CLONE_NEWNET */
#include "peer.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

int peer_identify(int sock, struct peer_id *id)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	char path[64];
	struct stat st;

	memset(id, 0, sizeof(*id));
	if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
		return -1;
	id->pid = cred.pid;
	id->uid = cred.uid;
	if (cred.pid <= 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)cred.pid);
	if (stat(path, &st) == 0) {
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
