/* posix_spawn, posix_spawnp: the new program gets the environment fixed up
 * by exec_env.h, so it stays on slim. */
#define _GNU_SOURCE
#include <errno.h>
#include <spawn.h>
#include <limits.h>
#include <stdbool.h>

#include "common.h"
#include "exec_env.h"
#include "fixed_env.h"
#include "real.h"

typedef int (*spawn_fn)(pid_t *, const char *, const posix_spawn_file_actions_t *,
			const posix_spawnattr_t *, char *const[], char *const[]);

/* posix_spawn returns an error number instead of setting errno. */
static int spawn(const char *name, bool search, pid_t *pid, const char *path,
		 const posix_spawn_file_actions_t *fa, const posix_spawnattr_t *at,
		 char *const argv[], char *const envp[])
{
	spawn_fn f = (spawn_fn)real_sym(name);
	int r;

	if (!f)
		return ENOSYS;
	char which[PATH_MAX];

	FIXED_ENV(envp, search ? listener_env_which(path, which, sizeof(which)) : path, -1);
	r = f(pid, path, fa, at, argv, fixed);
	FIXED_ENV_DONE();
	return r;
}

SLIM_EXPORT int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
			    const posix_spawnattr_t *at, char *const argv[], char *const envp[])
{
	return spawn("posix_spawn", false, pid, path, fa, at, argv, envp);
}

SLIM_EXPORT int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa,
			     const posix_spawnattr_t *at, char *const argv[], char *const envp[])
{
	return spawn("posix_spawnp", true, pid, file, fa, at, argv, envp);
}
