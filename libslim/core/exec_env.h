/* The environment an exec'd program gets: one that lost LD_PRELOAD or
 * SLIM_SOCKET (a cleared environment, a sanitising wrapper) would lose slim
 * for the program's own new sockets, while the host sockets it inherits
 * keep working. The variables as this process started with them are put
 * back, so the new program stays on slim. Nothing else in the environment
 * changes, and nothing is added for a process that was not set up for slim
 * or has given slim up. No allocation: an exec may run in a vfork child. */
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

/* envp plus what slim needs, built in arr (exec_env_slots entries) and pre
 * (pre_size >= exec_env_preload_size bytes); or envp itself when nothing is
 * missing, or slim is not in use (no library path or SLIM_SOCKET in c, or
 * disabled). */
char **exec_env_fix(const struct slim_config *c, bool disabled, char *const envp[], char **arr,
		    char *pre, size_t pre_size);

#endif
