#include "cni_env.h"
#include "ctl_client.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	const char *name;
	enum cni_cmd cmd;
} commands[] = {
    {"ADD", CNI_CMD_ADD},
    {"DEL", CNI_CMD_DEL},
    {"CHECK", CNI_CMD_CHECK},
    {"VERSION", CNI_CMD_VERSION},
};

int cni_env_command(struct cni_env *env, struct cni_error *e)
{
	const char *c = getenv("CNI_COMMAND");

	memset(env, 0, sizeof(*env));
	if (!c || !*c)
		return cni_fail(e, CNI_ERR_ENV, NULL,
				"CNI_COMMAND is not set: slim is a CNI plugin, run it from a "
				"container runtime (ADD, DEL, CHECK or VERSION)");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(c, commands[i].name) == 0) {
			env->cmd = commands[i].cmd;
			return 0;
		}
	}
	return cni_fail(e, CNI_ERR_ENV, NULL,
			"CNI_COMMAND \"%.32s\" is not supported: slim knows ADD, DEL, CHECK and "
			"VERSION",
			c);
}

/* getenv(name) if set and not empty, else NULL. */
static const char *env_value(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

int cni_env_read(struct cni_env *env, struct cni_error *e)
{
	bool full = env->cmd == CNI_CMD_ADD || env->cmd == CNI_CMD_CHECK;
	const char *netns;

	env->container_id = env_value("CNI_CONTAINERID");
	if (!env->container_id)
		return cni_fail(e, CNI_ERR_ENV, NULL,
				"CNI_CONTAINERID is not set: the runtime must name the container");
	if (!slim_container_name_ok(env->container_id))
		return cni_fail(e, CNI_ERR_ENV, NULL,
				"CNI_CONTAINERID \"%.*s\" is not a valid slim container name: it "
				"must be 1..%d characters of [A-Za-z0-9_.-]",
				SLIM_CONTAINER_NAME_MAX + 1, env->container_id,
				SLIM_CONTAINER_NAME_MAX);
	env->ifname = env_value("CNI_IFNAME");
	if (full && !env->ifname)
		return cni_fail(e, CNI_ERR_ENV, NULL,
				"CNI_IFNAME is not set: the runtime must name the container's "
				"interface");
	netns = env_value("CNI_NETNS");
	if (full && !netns)
		return cni_fail(e, CNI_ERR_ENV, NULL,
				"CNI_NETNS is not set: the runtime must give the container's "
				"network namespace path");
	if (netns) {
		/* The router opens the path itself, from its own directory. */
		env->netns = ctl_abs_path(netns, env->netns_buf);
		if (!env->netns && full)
			return cni_fail(e, CNI_ERR_ENV, NULL, "CNI_NETNS %.256s: %s", netns,
					strerror(errno));
	}
	return 0;
}
