/* libslim's configuration: what the process's environment said when it
 * started, read once (the app may change or clear its environment later). */
#ifndef LIBSLIM_CONFIG_H
#define LIBSLIM_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <sys/un.h>

#define SLIM_DEFAULT_SOCKET "/run/slim/slim.sock"

struct slim_config {
	/* SLIM_SOCKET: the router's socket. path_set: it fits a sockaddr_un
	 * (path_too_long: it was given but does not). Unset, the router's
	 * default socket SLIM_DEFAULT_SOCKET is used (path_default), which is
	 * where a container started by a runtime with slim's OCI hook finds
	 * it: /etc/ld.so.preload loads the library with no environment. */
	char sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	bool path_set, path_too_long, path_default;
	char path_shown[256]; /* for messages, possibly truncated */
	/* SLIM_FASTPATH=0: every connect asks the router (the per-connect
	 * request path, for comparison and as an escape hatch). */
	bool fastpath;
	/* SLIM_URING: 0 keeps the pool in the fd table (no io_uring); 1 tries
	 * io_uring even under a seccomp filter (fdstash.h); unset: io_uring
	 * where it is allowed. */
	enum slim_uring { SLIM_URING_AUTO, SLIM_URING_OFF, SLIM_URING_FORCE } uring;
	/* What an exec'd program needs to stay on slim (exec_env.h): this
	 * library's absolute path, and the variables as they were set, as
	 * NAME=value entries ("" if unset or too long). */
	char lib_path[PATH_MAX];
	char sock_var[PATH_MAX + 16];
	char fast_var[32];
	/* A sanitizer build of libslim preloaded into an uninstrumented
	 * program needs ASAN_OPTIONS (verify_asan_link_order=0) to start at
	 * all; only such builds keep it. */
	char asan_var[512];
};

/* Fills c from the environment envp (NULL-terminated, may be NULL) and
 * lib_path (this library's file, or NULL). keep_asan: keep ASAN_OPTIONS.
 * Pure: no system call, no allocation. */
void slim_config_parse(struct slim_config *c, char *const envp[], const char *lib_path,
		       bool keep_asan);

/* The process's configuration, read at the first need (libslim's
 * constructor, or a hook called from an earlier constructor). Never NULL. */
const struct slim_config *slim_config(void);

#endif
