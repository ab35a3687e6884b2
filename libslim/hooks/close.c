/* close(): forgets what the app closes, releases a listener's container
 * side (or keeps its port bound while a TIME_WAIT would hold it: merge.h,
 * timewait.h), a bound socket's reservation, and notices when the app
 * closes libslim's own channel fds. Async-signal-safe: atomic
 * stores only, no lock, no allocation. */
#define _GNU_SOURCE
#include <sys/syscall.h>
#include <unistd.h>

#include "channel.h"
#include "common.h"
#include "fdtable.h"
#include "init.h"
#include "merge.h"
#include "real.h"
#include "reservation.h"
#include "timewait.h"

static int slim_close(int fd)
{
	struct fd_state st;

	switch (fdtable_kind(fd)) {
	case FD_LISTENER:
	case FD_CSIDE:
		merge_closing(fd);
		break;
	case FD_ACCEPTED:
		fdtable_get(fd, &st);
		if (st.kind == FD_ACCEPTED && (st.ino == 0 || fd_inode(fd) == st.ino))
			slim_tw_closing(fd, &st, (struct slim_resv){.fd = -1, .ino = 0});
		break;
	default:
		/* A bound pool socket's reservation (HOST_BOUND), or one a
		 * stale record left behind. */
		slim_resv_close(fdtable_take_resv(fd));
		break;
	}
	fdtable_clear(fd);
	channel_fd_closed(fd);
	return real_close(fd);
}

/* Before libslim's constructor ran nothing of ours can be recorded yet,
 * so that close is the kernel's alone (and must not touch ASan-instrumented
 * code). */
SLIM_EXPORT SLIM_NO_ASAN int close(int fd)
{
	if (!slim_ready())
		return (int)syscall(SYS_close, fd);
	return slim_close(fd);
}
