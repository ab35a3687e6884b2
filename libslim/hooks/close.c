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

static int slim_close(int fd)
{
	switch (fdtable_kind(fd)) {
	case FD_LISTENER:
	case FD_CSIDE:
		merge_closing(fd);
		break;
	case FD_ACCEPTED:
		/* Nothing to do: whether it leaves a TIME_WAIT the BPF
		 * programs note as it happens (timewait.h). */
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
