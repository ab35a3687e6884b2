#define _GNU_SOURCE
#include "highfd.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/resource.h>

#include "real.h"

int slim_high_base(void)
{
	struct rlimit rl;
	int saved = errno, r;

	r = getrlimit(RLIMIT_NOFILE, &rl);
	errno = saved;
	if (r != 0 || rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur <= 256)
		return -1;
	return (int)(rl.rlim_cur < 1024 ? rl.rlim_cur : 1024) - 64;
}

int slim_move_fd(int fd, int base)
{
	int nfd, saved = errno;

	if (base < 0 || fd >= base)
		return fd;
	nfd = fcntl(fd, F_DUPFD_CLOEXEC, base);
	if (nfd >= 0)
		real_close(fd);
	errno = saved;
	return nfd >= 0 ? nfd : fd;
}
