#define _GNU_SOURCE
#include "exec_env.h"

#include <stdio.h>
#include <string.h>

/* The entry of envp named name (with its '='), or NULL. */
static const char *find_var(char *const envp[], const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; envp && envp[i]; i++)
		if (strncmp(envp[i], name, n) == 0 && envp[i][n] == '=')
			return envp[i];
	return NULL;
}

size_t exec_env_slots(char *const envp[])
{
	size_t n = 0;

	while (envp && envp[n])
		n++;
	/* LD_PRELOAD, SLIM_SOCKET, SLIM_FASTPATH, ASAN_OPTIONS, SLIM_LISTENERS,
	 * NULL */
	return n + 6;
}

size_t exec_env_preload_size(const struct slim_config *c, char *const envp[])
{
	const char *pre = find_var(envp, "LD_PRELOAD");

	return strlen("LD_PRELOAD=") + strlen(c->lib_path) + 1 + (pre ? strlen(pre) : 0) + 1;
}

/* True if envp lacks the variable that entry (NAME=value) sets; false for
 * an entry that is "" (nothing to put back). */
static bool missing(char *const envp[], const char *entry)
{
	char name[32];
	const char *eq = strchr(entry, '=');

	if (!entry[0] || !eq || (size_t)(eq - entry) >= sizeof(name))
		return false;
	memcpy(name, entry, (size_t)(eq - entry));
	name[eq - entry] = '\0';
	return !find_var(envp, name);
}

/* True if entry is a SLIM_LISTENERS one: only the exec hooks write it. */
static bool listeners_entry(const char *entry)
{
	return strncmp(entry, LISTENERS_VAR "=", strlen(LISTENERS_VAR "=")) == 0;
}

char **exec_env_fix(const struct slim_config *c, bool disabled, char *const envp[], char **arr,
		    char *pre, size_t pre_size, const char *listeners)
{
	const char *old = find_var(envp, "LD_PRELOAD");
	const char *const extra[] = {c->sock_var, c->fast_var, c->asan_var};
	bool need_pre = !old || !strstr(old, c->lib_path), need_extra = false;
	bool add_slim, stale = find_var(envp, LISTENERS_VAR) != NULL;
	size_t k = 0;

	for (size_t i = 0; i < sizeof(extra) / sizeof(extra[0]); i++)
		need_extra = need_extra || missing(envp, extra[i]);
	add_slim = c->lib_path[0] && c->sock_var[0] && !disabled && (need_pre || need_extra);
	if (!add_slim && !stale && !listeners[0])
		return (char **)envp;
	for (size_t i = 0; envp && envp[i]; i++)
		if (!(add_slim && need_pre && envp[i] == old) && !listeners_entry(envp[i]))
			arr[k++] = envp[i];
	if (add_slim && need_pre) {
		const char *v = old ? old + strlen("LD_PRELOAD=") : "";

		snprintf(pre, pre_size, "LD_PRELOAD=%s%s%s", c->lib_path, *v ? ":" : "", v);
		arr[k++] = pre;
	}
	for (size_t i = 0; add_slim && i < sizeof(extra) / sizeof(extra[0]); i++)
		if (missing(envp, extra[i]))
			arr[k++] = (char *)extra[i];
	if (listeners[0])
		arr[k++] = (char *)listeners;
	arr[k] = NULL;
	return arr;
}

bool exec_env_preloads(const struct slim_config *c, char *const envp[])
{
	const char *pre = find_var(envp, "LD_PRELOAD");

	return c->lib_path[0] && pre && strstr(pre, c->lib_path);
}
