/* getpeername(): as getsockname.c, for the peer's name. */
#define _GNU_SOURCE
#include <sys/socket.h>

#include "common.h"
#include "real.h"
#include "v4mapped.h"

SLIM_EXPORT int getpeername(int fd, struct sockaddr *addr, socklen_t *len)
{
	if (!slim_fd_mapped(fd))
		return real_getpeername(fd, addr, len);
	return slim_mapped_name(real_getpeername, fd, addr, len);
}
