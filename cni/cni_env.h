/* The CNI_* environment variables the runtime passes, checked for the
 * command they came with. */
#ifndef SLIM_CNI_ENV_H
#define SLIM_CNI_ENV_H

#include <limits.h>

#include "cni_error.h"

enum cni_cmd { CNI_CMD_ADD, CNI_CMD_DEL, CNI_CMD_CHECK, CNI_CMD_VERSION };

struct cni_env {
	enum cni_cmd cmd;
	const char *container_id; /* CNI_CONTAINERID: the router's name for it */
	const char *netns;	  /* CNI_NETNS made absolute; NULL if unset (DEL) */
	const char *ifname;	  /* CNI_IFNAME; NULL if unset (DEL) */
	char netns_buf[PATH_MAX];
};

/* Reads CNI_COMMAND into env->cmd. Returns 0, or -1 with *e set
 * (CNI_ERR_ENV: unset or unknown). */
int cni_env_command(struct cni_env *env, struct cni_error *e);

/* Reads and checks the variables env->cmd needs: CNI_CONTAINERID always (a
 * valid slim container name), CNI_NETNS and CNI_IFNAME for ADD and CHECK
 * (DEL works without them). Returns 0, or -1 with *e set (CNI_ERR_ENV,
 * naming the variable). */
int cni_env_read(struct cni_env *env, struct cni_error *e);

#endif
