/* The environment an exec'd program gets: one that lost LD_PRELOAD or
 * SLIM_SOCKET (a cleared environment, a sanitising wrapper) would lose slim
 * for the program's own new sockets, while the host sockets it inherits
 * keep working. The variables as this process started with them are put
 * back, so the new program stays on slim. Nothing else in the environment
 * changes, and nothing is added for a process that was not set up for slim
 * or has given slim up. The merged listeners the program inherits are
 * named in SLIM_LISTENERS (listener_env.h). No allocation: an exec may run in a vfork child. */
#ifndef LIBSLIM_EXEC_ENV_H
#define LIBSLIM_EXEC_ENV_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

/* The pointer slots exec_env_fix needs for envp (NULL-terminated, may be
 * NULL). */
size_t exec_env_slots(char *const envp[]);

/* The bytes exec_env_fix needs for a new LD_PRELOAD entry. */
size_t exec_env_preload_size(const struct slim_config *c, char *const envp[]);

/* The variable that hands merged listeners to an exec'd program
 * (listener_env.h). */
#define LISTENERS_VAR "SLIM_LISTENERS"

/* envp plus what slim needs, built in arr (exec_env_slots entries) and pre
 * (pre_size >= exec_env_preload_size bytes): the missing variables (none
 * when slim is not in use: no library path or SLIM_SOCKET in c, or
 * disabled), any SLIM_LISTENERS entry of envp dropped, and listeners (a
 * whole "SLIM_LISTENERS=..." entry, or "" for none) added. envp itself
 * when nothing changes. */
char **exec_env_fix(const struct slim_config *c, bool disabled, char *const envp[], char **arr,
		    char *pre, size_t pre_size, const char *listeners);

/* True if envp preloads this library (c->lib_path). */
bool exec_env_preloads(const struct slim_config *c, char *const envp[]);

#endif
