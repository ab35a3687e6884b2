/* The environment an exec'd program gets (libslim's exec hooks): the
 * configuration is read once from the environment, and an environment that
 * lost LD_PRELOAD, SLIM_SOCKET or SLIM_FASTPATH gets them back as the
 * process started with them, while one that has them, or a process not on
 * slim, passes unchanged. No root needed. */
#include "check.h"
#include "config.h"
#include "exec_env.h"

#define LIB "/usr/lib/slim/libslim.so"

/* The fixed environment of envp under c, with the listeners entry lst, as
 * one string "A B C". */
static const char *fixed_lst(const struct slim_config *c, bool disabled, char *const envp[],
			     const char *lst)
{
	static char out[1024];
	char *arr[exec_env_slots(envp)], pre[exec_env_preload_size(c, envp)];
	char **env = exec_env_fix(c, disabled, envp, arr, pre, sizeof(pre), lst);
	size_t n = 0;

	out[0] = '\0';
	for (size_t i = 0; env && env[i]; i++)
		n += (size_t)snprintf(out + n, sizeof(out) - n, "%s%s", i ? " " : "", env[i]);
	return out;
}

static const char *fixed(const struct slim_config *c, bool disabled, char *const envp[])
{
	return fixed_lst(c, disabled, envp, "");
}

int main(void)
{
	char *start[] = {"PATH=/bin", "SLIM_SOCKET=/run/slim/h1.sock", "SLIM_FASTPATH=0",
			 "LD_PRELOAD=" LIB, NULL};
	char *cleared[] = {"PATH=/bin", NULL};
	char *other_preload[] = {"LD_PRELOAD=/lib/other.so", "HOME=/root", NULL};
	char *complete[] = {"LD_PRELOAD=/lib/a.so:" LIB, "SLIM_SOCKET=/x", "SLIM_FASTPATH=1", NULL};
	char long_path[200];
	char *too_long[] = {long_path, NULL};
	struct slim_config c;

	slim_config_parse(&c, start, LIB, false);
	CHECK(c.path_set);
	CHECK(!c.path_too_long);
	CHECK_STR(c.sock_path, "/run/slim/h1.sock");
	CHECK(!c.fastpath);
	CHECK_STR(c.sock_var, "SLIM_SOCKET=/run/slim/h1.sock");
	CHECK_STR(c.fast_var, "SLIM_FASTPATH=0");
	CHECK_STR(c.asan_var, "");
	CHECK_STR(c.lib_path, LIB);

	/* Put back, in a fixed order, after what the app kept. */
	CHECK_STR(fixed(&c, false, cleared),
		  "PATH=/bin LD_PRELOAD=" LIB " SLIM_SOCKET=/run/slim/h1.sock SLIM_FASTPATH=0");
	/* The app's own preload stays, after libslim. */
	CHECK_STR(fixed(&c, false, other_preload),
		  "HOME=/root LD_PRELOAD=" LIB ":/lib/other.so SLIM_SOCKET=/run/slim/h1.sock "
		  "SLIM_FASTPATH=0");
	CHECK(!c.path_default);
	/* Nothing missing: the app's own values win, the array is its own. */
	CHECK_STR(fixed(&c, false, complete),
		  "LD_PRELOAD=/lib/a.so:" LIB " SLIM_SOCKET=/x SLIM_FASTPATH=1");
	/* A process that gave slim up adds nothing. */
	CHECK_STR(fixed(&c, true, cleared), "PATH=/bin");
	/* NULL environment: only what slim needs. */
	CHECK_STR(fixed(&c, false, NULL),
		  "LD_PRELOAD=" LIB " SLIM_SOCKET=/run/slim/h1.sock SLIM_FASTPATH=0");

	/* Not started by slim-run: the router's default socket (whether it is
	 * there is the constructor's business), never passed on as if set:
	 * nothing is added, the fast path is on. */
	slim_config_parse(&c, cleared, LIB, false);
	CHECK(c.path_set && c.path_default);
	CHECK_STR(c.sock_path, "/run/slim/slim.sock");
	CHECK_STR(c.sock_var, "");
	CHECK(c.fastpath);
	CHECK_STR(fixed(&c, false, cleared), "PATH=/bin");
	/* A relative library path (no dladdr answer) is not trusted. */
	slim_config_parse(&c, start, "libslim.so", false);
	CHECK_STR(c.lib_path, "");
	CHECK_STR(fixed(&c, false, cleared), "PATH=/bin");

	/* A socket path longer than sockaddr_un holds. */
	memcpy(long_path, "SLIM_SOCKET=", 12);
	memset(long_path + 12, 'a', sizeof(long_path) - 13);
	long_path[sizeof(long_path) - 1] = '\0';
	slim_config_parse(&c, too_long, LIB, true);
	CHECK(!c.path_set);
	CHECK(c.path_too_long);
	CHECK_INT(strlen(c.path_shown), sizeof(long_path) - 13);

	/* Merged listeners: the entry is added last; one the environment
	 * already had (a stale one) is dropped, with or without a new one. */
	slim_config_parse(&c, start, LIB, false);
	{
		char *stale[] = {"PATH=/bin",	   "SLIM_LISTENERS=3:1:962:2", "LD_PRELOAD=" LIB,
				 "SLIM_SOCKET=/x", "SLIM_FASTPATH=0",	       NULL};

		CHECK_STR(fixed_lst(&c, false, complete, "SLIM_LISTENERS=5:10:963:11"),
			  "LD_PRELOAD=/lib/a.so:" LIB
			  " SLIM_SOCKET=/x SLIM_FASTPATH=1 SLIM_LISTENERS=5:10:963:11");
		CHECK_STR(fixed_lst(&c, false, cleared, "SLIM_LISTENERS=5:10:963:11"),
			  "PATH=/bin LD_PRELOAD=" LIB " SLIM_SOCKET=/run/slim/h1.sock "
			  "SLIM_FASTPATH=0 SLIM_LISTENERS=5:10:963:11");
		CHECK_STR(fixed(&c, false, stale),
			  "PATH=/bin LD_PRELOAD=" LIB " SLIM_SOCKET=/x SLIM_FASTPATH=0");
		CHECK_STR(fixed(&c, true, stale),
			  "PATH=/bin LD_PRELOAD=" LIB " SLIM_SOCKET=/x SLIM_FASTPATH=0");
		/* Whether the new program preloads libslim. */
		CHECK(exec_env_preloads(&c, complete));
		CHECK(exec_env_preloads(&c, stale));
		CHECK(!exec_env_preloads(&c, cleared));
		CHECK(!exec_env_preloads(&c, other_preload));
	}
	CHECK_DONE();
}
