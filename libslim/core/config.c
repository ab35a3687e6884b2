#define _GNU_SOURCE
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "init.h"

/* The value of variable name in envp, or NULL. */
static const char *env_get(char *const envp[], const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; envp && envp[i]; i++)
		if (strncmp(envp[i], name, n) == 0 && envp[i][n] == '=')
			return envp[i] + n + 1;
	return NULL;
}

/* NAME=value into buf, or "" if value is NULL or it does not fit. */
static void keep_var(char *buf, size_t size, const char *name, const char *value)
{
	buf[0] = '\0';
	if (value && snprintf(buf, size, "%s=%s", name, value) >= (int)size)
		buf[0] = '\0';
}

void slim_config_parse(struct slim_config *c, char *const envp[], const char *lib_path,
		       bool keep_asan)
{
	const char *sock = env_get(envp, "SLIM_SOCKET"), *fast = env_get(envp, "SLIM_FASTPATH");

	memset(c, 0, sizeof(*c));
	const char *uring = env_get(envp, "SLIM_URING");

	c->fastpath = !(fast && strcmp(fast, "0") == 0);
	c->uring = !uring		     ? SLIM_URING_AUTO
		   : strcmp(uring, "0") == 0 ? SLIM_URING_OFF
		   : strcmp(uring, "1") == 0 ? SLIM_URING_FORCE
					     : SLIM_URING_AUTO;
	if (sock && *sock) {
		snprintf(c->path_shown, sizeof(c->path_shown), "%s", sock);
		if (strlen(sock) < sizeof(c->sock_path)) {
			memcpy(c->sock_path, sock, strlen(sock) + 1);
			c->path_set = true;
		} else {
			c->path_too_long = true;
		}
		keep_var(c->sock_var, sizeof(c->sock_var), "SLIM_SOCKET", sock);
	} else {
		/* No SLIM_SOCKET in sock_var: an exec'd program finds the
		 * default the same way, and must not be handed it as if set. */
		memcpy(c->sock_path, SLIM_DEFAULT_SOCKET, sizeof(SLIM_DEFAULT_SOCKET));
		snprintf(c->path_shown, sizeof(c->path_shown), "%s", SLIM_DEFAULT_SOCKET);
		c->path_set = c->path_default = true;
	}
	keep_var(c->fast_var, sizeof(c->fast_var), "SLIM_FASTPATH", fast);
	if (keep_asan)
		keep_var(c->asan_var, sizeof(c->asan_var), "ASAN_OPTIONS",
			 env_get(envp, "ASAN_OPTIONS"));
	if (lib_path && lib_path[0] == '/' && strlen(lib_path) < sizeof(c->lib_path))
		memcpy(c->lib_path, lib_path, strlen(lib_path) + 1);
}
