/* bpf_test: the scaffolding of a BPF test that runs in a cgroup of its own:
 * the program name and the failure count behind fail/pass, the start and
 * the verdict of main, and the test cgroup (made under the cgroup2 mount,
 * joined, left and removed, with a watchdog that leaves and removes it if
 * the test hangs). One test cgroup per process. */
#ifndef SLIM_TESTS_BPF_TEST_H
#define SLIM_TESTS_BPF_TEST_H

/* The name in every message: argv[0]'s last component after test_begin. */
extern const char *test_prog;

/* Reports a failed check on stderr ("PROG: FAIL: ...") and counts it. */
void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Reports a passed check on stdout ("PROG: ok: WHAT"). */
void pass(const char *what);

/* Writes s to the existing file path. Returns 0, or -1 with errno (a short
 * write is -1 with the write's errno). */
int write_file(const char *path, const char *s);

/* Takes the program name from argv[0] (default_name if there is none),
 * makes stdout line-buffered and checks we are root. Returns 0, or -1
 * after saying on stderr that the test must run as root because it
 * `needs` (e.g. "creates a cgroup and loads BPF programs"). */
int test_begin(char **argv, const char *default_name, const char *needs);

/* The exit code of main: 1 after saying how many checks failed, else 0
 * after saying all passed. */
int test_verdict(void);

/* Makes the cgroup "<cgroup2 mount>/<name>-<pid>", moves this process into
 * it and arms a watchdog: after timeout_s seconds the process moves back,
 * removes the cgroup and exits 1. Returns an O_RDONLY fd of the cgroup
 * (owned by the helper, closed by test_cgroup_leave), or -1 after a
 * fail(). Call test_cgroup_leave whatever it returned. */
int test_cgroup_enter(const char *name, unsigned timeout_s);

/* Undoes test_cgroup_enter as far as it got: closes the cgroup fd, moves
 * this process back to the cgroup it started in and removes the test
 * cgroup (waiting up to 2 s for exited tasks to leave it). A failure is
 * reported with fail(). Processes this test forked into the cgroup must
 * have exited. */
void test_cgroup_leave(void);

#endif
