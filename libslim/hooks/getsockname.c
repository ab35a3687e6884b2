/* getsockname(): an AF_INET6 app socket carried by an AF_INET host socket
 * reads its name v4-mapped; every other fd goes straight through after one
 * table read (the kernel's getsockname4 program already reports virtual
 * addresses for host sockets). */
#define _GNU_SOURCE
#include <sys/socket.h>

#include "common.h"
#include "real.h"
#include "v4mapped.h"

SLIM_EXPORT int getsockname(int fd, struct sockaddr *addr, socklen_t *len)
{
	if (!slim_fd_mapped(fd))
		return real_getsockname(fd, addr, len);
	return slim_mapped_name(real_getsockname, fd, addr, len);
}
