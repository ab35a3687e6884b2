/* FIXED_ENV(envp, path, fd) declares `fixed`, the environment an exec hook
 * passes on (exec_env.h), with its room on the caller's stack: an exec may
 * run in a vfork child, where malloc is not safe. The merged listeners the
 * new program (path, or fd for fexecve; NULL, -1: not known; path is only
 * evaluated when a merged listener exists) inherits are named in it
 * (listener_env.h); FIXED_ENV_DONE() undoes what that changed,
 * for an exec that returned or a posix_spawn. */
#ifndef LIBSLIM_FIXED_ENV_H
#define LIBSLIM_FIXED_ENV_H

#include "config.h"
#include "exec_env.h"
#include "listener_env.h"
#include "merge.h"
#include "session.h"

#define FIXED_ENV(envp, path, fd)                                                                  \
	char *fx_arr[exec_env_slots(envp)], fx_pre[exec_env_preload_size(slim_config(), envp)];    \
	char fx_lst[LISTENER_ENV_MAX];                                                             \
	char **fixed = exec_env_fix(slim_config(), slim_disabled(), (envp), fx_arr, fx_pre,        \
				    sizeof(fx_pre), "");                                           \
	listener_env_prepare(fx_lst, sizeof(fx_lst),                                               \
			     merge_any() && exec_env_preloads(slim_config(), fixed) &&             \
				 listener_env_target_dynamic((path), (fd)));                       \
	if (fx_lst[0])                                                                             \
	fixed = exec_env_fix(slim_config(), slim_disabled(), (envp), fx_arr, fx_pre,               \
			     sizeof(fx_pre), fx_lst)

#define FIXED_ENV_DONE() listener_env_restore(fx_lst)

#endif
