/* The one start-up path. The configuration is read on first need, which is
 * the constructor unless another library's constructor calls a hook first;
 * then the fork handlers are registered, once, in this order:
 *   prepare: the channel's lock is taken (no round trip is cut in half);
 *   parent:  it is released;
 *   child:   torn fd-table entries are forgotten, the cached pid, the
 *            pool's sockets (the parent's) and its refill size reset, and
 *            the channel dropped last (it releases the lock). */
#define _GNU_SOURCE
#include "init.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>

#include "channel.h"
#include "common.h"
#include "config.h"
#include "fdstash.h"
#include "fdtable.h"
#include "listener_env.h"
#include "pool.h"
#include "pool_refill.h"
#include "session.h"
#include "uaddr.h"

extern char **environ;

static struct slim_config cfg;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static _Atomic bool ready;

static void fork_child(void)
{
	fdtable_fork_child();
	slim_uaddr_fork_child();
	pool_forget_in_child();
	pool_refill_fork_child();
	channel_fork_child();
}

static bool is_socket(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 && S_ISSOCK(sb.st_mode);
}

static void read_config(void)
{
	Dl_info di;
	const char *lib = dladdr((void *)read_config, &di) ? di.dli_fname : NULL;

#if defined(__SANITIZE_ADDRESS__)
	slim_config_parse(&cfg, environ, lib, true);
#else
	slim_config_parse(&cfg, environ, lib, false);
#endif
	/* A default socket that is not there means no router for this
	 * process, as an unset SLIM_SOCKET always did: no warm-up, no pool,
	 * and one message at the first socket. Checked once, here, so that a
	 * program that never opens a socket costs one stat. */
	if (cfg.path_default && !is_socket(cfg.sock_path))
		cfg.path_set = false;
	pthread_atfork(channel_fork_prepare, channel_fork_parent, fork_child);
}

const struct slim_config *slim_config(void)
{
	pthread_once(&once, read_config);
	return &cfg;
}

/* Not instrumented: it runs before the ASan runtime is set up. */
SLIM_NO_ASAN bool slim_ready(void)
{
	return atomic_load_explicit(&ready, memory_order_relaxed);
}

__attribute__((constructor)) static void slim_init(void)
{
	const struct slim_config *c = slim_config();

	atomic_store(&ready, true);
	listener_env_adopt();
	session_warm_up();
	if (c->path_set && c->fastpath && c->uring != SLIM_URING_OFF)
		fdstash_start(c->uring == SLIM_URING_FORCE);
}
