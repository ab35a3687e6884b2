/* no_uring PROGRAM [ARG...]: runs PROGRAM where io_uring is refused, as a
 * container's seccomp profile refuses it: io_uring_setup, io_uring_enter
 * and io_uring_register fail with EPERM, everything else is allowed. For
 * the tests of libslim's fallback (its pool sockets then stay in the fd
 * table). Exits 126 if the filter cannot be installed, 127 if PROGRAM
 * cannot be run. */
#define _GNU_SOURCE
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	static const char *const calls[] = {"io_uring_setup", "io_uring_enter",
					    "io_uring_register"};
	scmp_filter_ctx ctx;
	int r = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: no_uring PROGRAM [ARG...]\n");
		return 2;
	}
	ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx)
		return 126;
	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]) && r == 0; i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM),
				     seccomp_syscall_resolve_name(calls[i]), 0);
	if (r == 0)
		r = seccomp_load(ctx);
	seccomp_release(ctx);
	if (r != 0) {
		fprintf(stderr, "no_uring: seccomp: %s\n", strerror(-r));
		return 126;
	}
	execvp(argv[1], argv + 1);
	fprintf(stderr, "no_uring: %s: %s\n", argv[1], strerror(errno));
	return 127;
}
