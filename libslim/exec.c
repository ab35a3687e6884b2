/* The exec family and posix_spawn: a program exec'd with an environment
 * that lost LD_PRELOAD or SLIM_SOCKET (a cleared environment, a sanitising
 * wrapper) would lose slim for its own new sockets, while the host sockets
 * it inherits keep working. The variables as this process started with
 * them are put back, so the new program stays on slim. Nothing else in the
 * environment changes, and nothing is added to a process that was not set
 * up for slim or has given slim up. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "real.h"
#include "router.h"

extern char **environ;

static char lib_path[PATH_MAX];	     /* this library, absolute */
static char sock_var[PATH_MAX + 16]; /* SLIM_SOCKET=... as we started */
static char fast_var[32];	     /* SLIM_FASTPATH=... if it was set */
#if defined(__SANITIZE_ADDRESS__)
/* A sanitizer build of libslim preloaded into an uninstrumented program
 * needs ASAN_OPTIONS (verify_asan_link_order=0) to start at all: a cleared
 * environment gets it back too. Test builds only. */
static char asan_var[512];
#endif

__attribute__((constructor)) static void exec_ctor(void)
{
	Dl_info di;
	const char *s = getenv("SLIM_SOCKET"), *f = getenv("SLIM_FASTPATH");

	if (dladdr((void *)exec_ctor, &di) && di.dli_fname && di.dli_fname[0] == '/' &&
	    strlen(di.dli_fname) < sizeof(lib_path))
		memcpy(lib_path, di.dli_fname, strlen(di.dli_fname) + 1);
	if (s && *s &&
	    snprintf(sock_var, sizeof(sock_var), "SLIM_SOCKET=%s", s) >= (int)sizeof(sock_var))
		sock_var[0] = '\0';
	if (f &&
	    snprintf(fast_var, sizeof(fast_var), "SLIM_FASTPATH=%s", f) >= (int)sizeof(fast_var))
		fast_var[0] = '\0';
#if defined(__SANITIZE_ADDRESS__)
	f = getenv("ASAN_OPTIONS");
	if (f &&
	    snprintf(asan_var, sizeof(asan_var), "ASAN_OPTIONS=%s", f) >= (int)sizeof(asan_var))
		asan_var[0] = '\0';
#endif
}

/* The entry of envp named name (with its '='), or NULL. */
static const char *find_var(char *const envp[], const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; envp && envp[i]; i++)
		if (strncmp(envp[i], name, n) == 0 && envp[i][n] == '=')
			return envp[i];
	return NULL;
}

/* The room fix_env needs: pointer slots for the new array, and bytes for
 * a new LD_PRELOAD entry. The callers put both on their own stack: an exec
 * may run in a vfork child, where malloc is not safe. */
static size_t env_slots(char *const envp[])
{
	size_t n = 0;

	while (envp && envp[n])
		n++;
	return n + 5;
}

static size_t preload_size(char *const envp[])
{
	const char *pre = find_var(envp, "LD_PRELOAD");

	return strlen("LD_PRELOAD=") + strlen(lib_path) + 1 + (pre ? strlen(pre) : 0) + 1;
}

/* envp plus what slim needs, built in arr (env_slots entries) and pre
 * (preload_size bytes); or envp itself when nothing is missing or slim is
 * not in use by this process. */
static char **fix_env(char *const envp[], char **arr, char *pre, size_t pre_size)
{
	const char *old = find_var(envp, "LD_PRELOAD");
	bool need_pre = !old || !strstr(old, lib_path);
	bool need_sock = !find_var(envp, "SLIM_SOCKET");
	bool need_fast = fast_var[0] && !find_var(envp, "SLIM_FASTPATH");
#if defined(__SANITIZE_ADDRESS__)
	bool need_asan = asan_var[0] && !find_var(envp, "ASAN_OPTIONS");
#else
	bool need_asan = false;
#endif
	size_t k = 0;

	if (!lib_path[0] || !sock_var[0] || slim_disabled() ||
	    (!need_pre && !need_sock && !need_fast && !need_asan))
		return (char **)envp;
	for (size_t i = 0; envp && envp[i]; i++)
		if (!(need_pre && envp[i] == old))
			arr[k++] = envp[i];
	if (need_pre) {
		const char *v = old ? old + strlen("LD_PRELOAD=") : "";

		snprintf(pre, pre_size, "LD_PRELOAD=%s%s%s", lib_path, *v ? ":" : "", v);
		arr[k++] = pre;
	}
	if (need_sock)
		arr[k++] = sock_var;
	if (need_fast)
		arr[k++] = fast_var;
#if defined(__SANITIZE_ADDRESS__)
	if (need_asan)
		arr[k++] = asan_var;
#endif
	arr[k] = NULL;
	return arr;
}

/* Declares the stack room for fix_env and the fixed environment `fixed`. */
#define FIXED_ENV(envp)                                                                            \
	char *fx_arr[env_slots(envp)], fx_pre[preload_size(envp)];                                 \
	char **fixed = fix_env((envp), fx_arr, fx_pre, sizeof(fx_pre))

typedef int (*execve_fn)(const char *, char *const[], char *const[]);
typedef int (*fexecve_fn)(int, char *const[], char *const[]);
typedef int (*spawn_fn)(pid_t *, const char *, const posix_spawn_file_actions_t *,
			const posix_spawnattr_t *, char *const[], char *const[]);

/* The real function called name, or NULL with errno ENOSYS. */
static void *next(const char *name)
{
	void *p = real_sym(name);

	if (!p)
		errno = ENOSYS;
	return p;
}

SLIM_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
	execve_fn f = (execve_fn)next("execve");

	if (!f)
		return -1;
	FIXED_ENV(envp);
	return f(path, argv, fixed);
}

SLIM_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
	execve_fn f = (execve_fn)next("execvpe");

	if (!f)
		return -1;
	FIXED_ENV(envp);
	return f(file, argv, fixed);
}

SLIM_EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
	fexecve_fn f = (fexecve_fn)next("fexecve");

	if (!f)
		return -1;
	FIXED_ENV(envp);
	return f(fd, argv, fixed);
}

/* libc's execv and execvp use the environment without going through
 * execve's symbol: route them through the hooks above. */
SLIM_EXPORT int execv(const char *path, char *const argv[])
{
	return execve(path, argv, environ);
}

SLIM_EXPORT int execvp(const char *file, char *const argv[])
{
	return execvpe(file, argv, environ);
}

/* The execl family: the variadic arguments into an array on the stack
 * (ARG_MAX bounds what any exec accepts anyway; no malloc, as above), then
 * the vector call. */
static size_t count_args(va_list ap)
{
	va_list cp;
	size_t n = 1;

	va_copy(cp, ap);
	while (va_arg(cp, char *))
		n++;
	va_end(cp);
	return n;
}

enum list_exec { L_EXECL, L_EXECLP, L_EXECLE };

/* The body of execl, execlp and execle: arg0 and ap (the rest of the
 * list, NULL-terminated, then execle's envp) into an argv on this stack
 * frame, then the vector call. */
static int list_exec(enum list_exec how, const char *file, const char *arg0, va_list ap)
{
	size_t n = count_args(ap);
	char *argv[n + 1];
	char **envp = environ;

	argv[0] = (char *)arg0;
	for (size_t i = 1; i <= n; i++)
		argv[i] = va_arg(ap, char *); /* the last is the NULL */
	if (how == L_EXECLE)
		envp = va_arg(ap, char **);
	return how == L_EXECLP ? execvpe(file, argv, envp) : execve(file, argv, envp);
}

SLIM_EXPORT int execl(const char *path, const char *arg, ...)
{
	va_list ap;
	int r;

	va_start(ap, arg);
	r = list_exec(L_EXECL, path, arg, ap);
	va_end(ap);
	return r;
}

SLIM_EXPORT int execlp(const char *file, const char *arg, ...)
{
	va_list ap;
	int r;

	va_start(ap, arg);
	r = list_exec(L_EXECLP, file, arg, ap);
	va_end(ap);
	return r;
}

SLIM_EXPORT int execle(const char *path, const char *arg, ...)
{
	va_list ap;
	int r;

	va_start(ap, arg);
	r = list_exec(L_EXECLE, path, arg, ap);
	va_end(ap);
	return r;
}

/* posix_spawn returns an error number instead of setting errno. */
static int spawn(const char *name, pid_t *pid, const char *path,
		 const posix_spawn_file_actions_t *fa, const posix_spawnattr_t *at,
		 char *const argv[], char *const envp[])
{
	spawn_fn f = (spawn_fn)real_sym(name);

	if (!f)
		return ENOSYS;
	FIXED_ENV(envp);
	return f(pid, path, fa, at, argv, fixed);
}

SLIM_EXPORT int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
			    const posix_spawnattr_t *at, char *const argv[], char *const envp[])
{
	return spawn("posix_spawn", pid, path, fa, at, argv, envp);
}

SLIM_EXPORT int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa,
			     const posix_spawnattr_t *at, char *const argv[], char *const envp[])
{
	return spawn("posix_spawnp", pid, file, fa, at, argv, envp);
}
