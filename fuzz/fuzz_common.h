/* Helpers the harnesses share: a property check that fails the run the way
 * a crash does, a leak check for file descriptors, and a memory file that
 * the path-taking parsers can read like a real file. */
#ifndef SLIM_FUZZ_COMMON_H
#define SLIM_FUZZ_COMMON_H

#define _GNU_SOURCE /* memfd_create */
#include <dirent.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* A broken property is a finding like a crash: libFuzzer saves the input
 * as a crash-* artifact when the process aborts. */
#define FUZZ_CHECK(cond)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: property broken: %s\n", __FILE__, __LINE__,        \
				#cond);                                                            \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* The largest window fd_window_* can compare. */
#define FUZZ_FD_WINDOW 1024

/* Which fds in [0, limit) are open, one bit each. */
struct fd_window {
	int limit;
	uint64_t open[FUZZ_FD_WINDOW / 64];
};

/* Records which fds below limit (at most FUZZ_FD_WINDOW) are open, from
 * /proc/self/fd: one directory read costs less than a system call per
 * number on a machine where system calls are slow. The directory's own fd
 * is in the list, on the same number each time unless something leaked. */
static inline void fd_window_take(struct fd_window *w, int limit)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;

	if (!d) {
		perror("opendir /proc/self/fd");
		abort();
	}
	memset(w, 0, sizeof(*w));
	w->limit = limit < FUZZ_FD_WINDOW ? limit : FUZZ_FD_WINDOW;
	while ((e = readdir(d))) {
		int fd = atoi(e->d_name);
		if (e->d_name[0] >= '0' && e->d_name[0] <= '9' && fd < w->limit)
			w->open[fd / 64] |= 1ull << (fd % 64);
	}
	closedir(d);
}

/* Aborts, naming the first fd that differs, when the set of open fds is not
 * what it was at fd_window_take: the code under test leaked one (or closed
 * one it did not own). */
static inline void fd_window_check(const struct fd_window *before)
{
	struct fd_window now;

	fd_window_take(&now, before->limit);
	for (int fd = 0; fd < before->limit; fd++) {
		bool a = before->open[fd / 64] >> (fd % 64) & 1,
		     b = now.open[fd / 64] >> (fd % 64) & 1;
		if (a != b) {
			fprintf(stderr, "fd %d was %s before this input and is %s after it\n", fd,
				a ? "open" : "closed", b ? "open" : "closed");
			abort();
		}
	}
}

/* A memory file holding one input, reachable by a path (/proc/self/fd/N)
 * so that parsers which open a path read exactly these bytes. */
struct mem_file {
	int fd;
	char path[64];
};

/* Puts data into mf, creating it on first use. Aborts if the kernel cannot
 * (that is the harness's problem, not a finding). */
static inline void mem_file_set(struct mem_file *mf, const uint8_t *data, size_t size)
{
	if (mf->path[0] == '\0') {
		mf->fd = memfd_create("fuzz-input", MFD_CLOEXEC);
		if (mf->fd < 0) {
			perror("memfd_create");
			abort();
		}
		snprintf(mf->path, sizeof(mf->path), "/proc/self/fd/%d", mf->fd);
	}
	if (ftruncate(mf->fd, 0) != 0 ||
	    (size > 0 && pwrite(mf->fd, data, size, 0) != (ssize_t)size)) {
		perror("memfd write");
		abort();
	}
}

/* True when s is one printable line: what every user-facing error must be
 * ("one clear line"), whatever bytes the input held. */
static inline bool one_printable_line(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

#endif
