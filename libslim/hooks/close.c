/* close(): forgets what the app closes, releases a listener's reservation
 * (or keeps it while a TIME_WAIT would hold its port), and notices when
 * the app closes libslim's own channel fds. Async-signal-safe: atomic
 * stores only, no lock, no allocation. */
#define _GNU_SOURCE
#include <sys/syscall.h>
#include <unistd.h>

#include "channel.h"
#include "common.h"
#include "fdtable.h"
#include "init.h"
#include "real.h"
#include "reservation.h"
#include "timewait.h"

static int slim_close(int fd)
{
	struct slim_resv resv = fdtable_take_resv(fd);
	struct fd_state st;

	fdtable_get(fd, &st);
	switch (st.kind) {
	case FD_ACCEPTED:
	case FD_LISTENER:
		if (fd_inode(fd) == st.ino) {
			slim_tw_closing(fd, &st, resv);
			break;
		}
		slim_resv_close(resv);
		break;
	default:
		slim_resv_close(resv);
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
