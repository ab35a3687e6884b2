/* socket(): AF_INET TCP sockets become overlay candidates. */
#define _GNU_SOURCE
#include <netinet/in.h>
#include <sys/socket.h>

#include "common.h"
#include "fdtable.h"
#include "real.h"
#include "router.h"

SLIM_EXPORT int socket(int domain, int type, int protocol)
{
	int fd = real_socket(domain, type, protocol);
	struct fd_state st = {.kind = FD_PLAIN};

	if (fd < 0)
		return fd;
	if (domain == AF_INET && (type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) == SOCK_STREAM &&
	    (protocol == 0 || protocol == IPPROTO_TCP) && !slim_disabled()) {
		st.kind = FD_CANDIDATE;
		st.ino = fd_inode(fd);
	}
	/* Also overwrites whatever a previous fd with this number left. */
	fdtable_set(fd, &st);
	return fd;
}
