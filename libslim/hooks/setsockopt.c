/* setsockopt(): remembers which options the app set on a socket that may
 * still be swapped (CONTAINER, POOLED, HOST_BOUND, CLIENT), so that a swap
 * carries exactly those to the socket that takes the fd's place. On a
 * listener-to-be (HOST_BOUND) and a merged listener, an option the kernel
 * took is set on the reservation, the container side, as well: the
 * sockets accepted there inherit the listener's options as the app set
 * them. A new SO_RCVTIMEO on a listener is written into its records
 * (listener_timeo.h): a blocking merged accept reads it there. */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/socket.h>

#include "common.h"
#include "fdtable.h"
#include "listener_timeo.h"
#include "real.h"
#include "reservation.h"
#include "swap.h"

/* The same option on the container side (best effort: its answer is not
 * the app's), if its fd still is it: listeners set few options, an fstat
 * each is cheap there. */
static void mirror(struct slim_resv c, int level, int name, const void *val, socklen_t len)
{
	int saved = errno;

	if (slim_resv_ours(c))
		(void)real_setsockopt(c.fd, level, name, val, len);
	errno = saved;
}

SLIM_EXPORT int setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	int r = real_setsockopt(fd, level, name, val, len);
	struct slim_resv *resv;
	struct fd_state st;
	uint32_t bit, *opts;

	if (r != 0)
		return r;
	fdtable_get(fd, &st);
	resv = fd_state_resv(&st);
	if (resv)
		mirror(*resv, level, name, val, len);
	if (st.kind == FD_LISTENER && listener_timeo_option(level, name))
		listener_timeo_follow(fd, st.ino);
	opts = fd_state_opts(&st);
	if (!opts)
		return r;
	bit = slim_opt_bit(level, name);
	if (bit && !(*opts & bit)) {
		*opts |= bit;
		fdtable_set(fd, &st);
	}
	return r;
}
