#include "client_recv.h"
#include "wire.h"

#include <errno.h>

enum client_packet client_recv(int fd, uint8_t *buf, size_t cap, size_t *len)
{
	int fds[SLIM_WIRE_MAX_FDS];
	size_t nfds = 0;
	ssize_t n;

	*len = 0;
	n = slim_wire_recv(fd, buf, cap, fds, &nfds, SLIM_WIRE_MAX_FDS);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return CLIENT_IDLE;
	if (n == 0 || (n < 0 && errno != EMSGSIZE))
		return CLIENT_GONE;
	for (size_t i = 0; i < nfds; i++)
		slim_wire_drop_fd(fds[i]);
	if (n < 0)
		return CLIENT_OVERSIZED;
	if (nfds > 0)
		return CLIENT_WITH_FDS;
	*len = (size_t)n;
	return CLIENT_REQUEST;
}
