/* After start-up the router only serves its socket (and the --metrics
 * endpoint, whose listener is opened before): accept, read and answer
 * requests, make TCP sockets, update its own maps, log, rewrite its state
 * file, and at the end remove its pins, socket and cgroup. Everything else
 * (exec, ptrace, mount, loading new BPF programs is still bpf(2) but module
 * loading, keyctl...) is refused, so a bug in request handling cannot be
 * turned into much. */
#include "sandbox.h"

#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/nsfs.h>
#include <sys/socket.h>

static const int allowed[] = {
    /* event loop and clients */
    SCMP_SYS(epoll_wait),
    SCMP_SYS(epoll_pwait),
    SCMP_SYS(epoll_ctl),
    SCMP_SYS(accept4),
    SCMP_SYS(shutdown), /* --metrics: our side done, before the client closes */
    SCMP_SYS(recvmsg),
    SCMP_SYS(sendmsg),
    SCMP_SYS(getsockopt),
    SCMP_SYS(read),
    SCMP_SYS(write),
    SCMP_SYS(close),
    SCMP_SYS(close_range), /* a pool reply's fds after sending */
    SCMP_SYS(fcntl),
    SCMP_SYS(eventfd2),
    /* host sockets (socket itself is limited to AF_INET below) */
    SCMP_SYS(setsockopt),
    SCMP_SYS(bind),
    SCMP_SYS(listen),
    SCMP_SYS(bpf),
    /* caller identity and netns checks */
    SCMP_SYS(newfstatat),
    SCMP_SYS(fstat),
    SCMP_SYS(stat),
    SCMP_SYS(statx),
    SCMP_SYS(lstat),
    SCMP_SYS(openat),
    SCMP_SYS(lseek),
    SCMP_SYS(getpid),
    SCMP_SYS(sched_setscheduler), /* pool batches at idle priority */
    SCMP_SYS(getuid),
    SCMP_SYS(geteuid),
    /* memory, time, signals, threads of libc */
    SCMP_SYS(mmap),
    SCMP_SYS(munmap),
    SCMP_SYS(mremap),
    SCMP_SYS(mprotect),
    SCMP_SYS(brk),
    SCMP_SYS(madvise),
    SCMP_SYS(clock_gettime),
    SCMP_SYS(gettimeofday),
    SCMP_SYS(futex),
    SCMP_SYS(rt_sigaction),
    SCMP_SYS(rt_sigprocmask),
    SCMP_SYS(rt_sigreturn),
    SCMP_SYS(restart_syscall),
    SCMP_SYS(getrandom),
    SCMP_SYS(tgkill),
    SCMP_SYS(gettid),
    SCMP_SYS(exit),
    SCMP_SYS(exit_group),
    /* the state file after every container add/del: open(O_CREAT|O_WRONLY|
     * O_TRUNC) is openat above, then write, close, rename (glibc may use any
     * of the three), and unlink of FILE.tmp on error */
    SCMP_SYS(rename),
    SCMP_SYS(renameat),
    SCMP_SYS(renameat2),
    /* shutdown: socket file, pins, cgroup */
    SCMP_SYS(unlink),
    SCMP_SYS(unlinkat),
    SCMP_SYS(rmdir),
};

/* libcurl's calls on its TCP connections to etcd (multi interface: the
 * sockets are polled by our event loop, but curl checks them with a
 * zero-timeout poll itself; shutdown is in the list above). */
static const int etcd_allowed[] = {
    SCMP_SYS(connect), SCMP_SYS(sendto),      SCMP_SYS(recvfrom),    SCMP_SYS(poll),
    SCMP_SYS(ppoll),   SCMP_SYS(getsockname), SCMP_SYS(getpeername),
};

int sandbox_enter(bool etcd_client, char *err, size_t errlen)
{
	const char *mode = getenv("SLIM_SECCOMP");
	uint32_t deny = SCMP_ACT_ERRNO(EPERM);
	scmp_filter_ctx ctx;
	int rc;

	if (mode && strcmp(mode, "kill") == 0)
		deny = SCMP_ACT_KILL_PROCESS;
	ctx = seccomp_init(deny);
	if (!ctx) {
		snprintf(err, errlen, "cannot set up the seccomp filter (libseccomp)");
		return -1;
	}
	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allowed[i], 0);
		if (rc < 0)
			goto fail;
	}
	for (size_t i = 0; etcd_client && i < sizeof(etcd_allowed) / sizeof(etcd_allowed[0]); i++) {
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, etcd_allowed[i], 0);
		if (rc < 0)
			goto fail;
	}
	rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
			      SCMP_A0(SCMP_CMP_EQ, AF_INET));
	if (rc < 0)
		goto fail;
	/* peer_identify checks that a caller is still alive (signal 0 only). */
	rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(pidfd_send_signal), 1,
			      SCMP_A1(SCMP_CMP_EQ, 0));
	if (rc < 0)
		goto fail;
	/* `container add` checks that the path really is a network namespace. */
	rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
			      SCMP_A1(SCMP_CMP_EQ, NS_GET_NSTYPE));
	if (rc < 0)
		goto fail;
	rc = seccomp_load(ctx);
	if (rc < 0)
		goto fail;
	seccomp_release(ctx);
	return 0;
fail:
	snprintf(err, errlen, "cannot install the seccomp filter: %s", strerror(-rc));
	seccomp_release(ctx);
	return -1;
}
