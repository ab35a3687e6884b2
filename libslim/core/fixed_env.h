/* FIXED_ENV(envp) declares `fixed`, the environment an exec hook passes on
 * (exec_env.h), with its room on the caller's stack: an exec may run in a
 * vfork child, where malloc is not safe. */
#ifndef LIBSLIM_FIXED_ENV_H
#define LIBSLIM_FIXED_ENV_H

#include "config.h"
#include "exec_env.h"
#include "session.h"

#define FIXED_ENV(envp)                                                                            \
	char *fx_arr[exec_env_slots(envp)], fx_pre[exec_env_preload_size(slim_config(), envp)];    \
	char **fixed =                                                                             \
	    exec_env_fix(slim_config(), slim_disabled(), (envp), fx_arr, fx_pre, sizeof(fx_pre))

#endif
