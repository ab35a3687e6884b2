/* The exec family: execve, execvpe, fexecve, and execv, execvp, execl,
 * execlp, execle through them. Each execs with the environment fixed up by
 * exec_env.h, so the new program stays on slim, and keeps the container
 * sides of the merged listeners it inherits (listener_env.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <limits.h>
#include <stddef.h>
#include <unistd.h>

#include "common.h"
#include "exec_env.h"
#include "fixed_env.h"
#include "real.h"

extern char **environ;

typedef int (*execve_fn)(const char *, char *const[], char *const[]);
typedef int (*fexecve_fn)(int, char *const[], char *const[]);

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
	int r;

	if (!f)
		return -1;
	FIXED_ENV(envp, path, -1);
	r = f(path, argv, fixed);
	FIXED_ENV_DONE();
	return r;
}

SLIM_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
	execve_fn f = (execve_fn)next("execvpe");
	int r;

	if (!f)
		return -1;
	char which[PATH_MAX];

	FIXED_ENV(envp, listener_env_which(file, which, sizeof(which)), -1);
	r = f(file, argv, fixed);
	FIXED_ENV_DONE();
	return r;
}

SLIM_EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
	fexecve_fn f = (fexecve_fn)next("fexecve");
	int r;

	if (!f)
		return -1;
	FIXED_ENV(envp, NULL, fd);
	r = f(fd, argv, fixed);
	FIXED_ENV_DONE();
	return r;
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
