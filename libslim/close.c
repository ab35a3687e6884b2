/* close(): forget the fd, then really close it. Async-signal-safe: atomic
 * stores only, no lock, no allocation. */
#include "common.h"
#include "fdtable.h"
#include "real.h"
#include "router.h"

SLIM_EXPORT int close(int fd)
{
	fdtable_clear(fd);
	slim_router_fd_closed(fd);
	return real_close(fd);
}
