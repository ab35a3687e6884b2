/* slim: a chained CNI plugin (spec 1.0.0, also 0.4.0) that registers a
 * container with the local slim-router. The runtime runs it in the host's
 * network namespace with CNI_COMMAND and the other CNI_* variables set and
 * the network configuration on stdin:
 *   ADD     register CNI_CONTAINERID with its IPv4 address from prevResult
 *           and CNI_NETNS; print prevResult (in the configuration's version)
 *   DEL     unregister it (nothing registered, or no router: success)
 *   CHECK   fail unless the router has it with that address and netns
 *   VERSION print the supported versions
 * Exit 0 on success; otherwise a CNI error object on stdout, exit 1. */
#include "cni_conf.h"
#include "cni_env.h"
#include "cni_error.h"
#include "cni_output.h"
#include "cni_result.h"
#include "cni_router.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A network configuration is a few KiB; refuse anything absurd. */
#define CONF_MAX (1024 * 1024)

/* Reads all of stdin into a new NUL-terminated buffer (*len bytes, the
 * caller frees it). Returns it, or NULL with *e set (CNI_ERR_IO). */
static char *read_stdin(size_t *len, struct cni_error *e)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap + 1), *bigger;
	ssize_t r;

	if (!buf) {
		cni_fail(e, CNI_ERR_IO, NULL, "out of memory reading the network configuration");
		return NULL;
	}
	for (;;) {
		if (n == cap) {
			if (cap >= CONF_MAX) {
				cni_fail(e, CNI_ERR_IO, NULL,
					 "the network configuration on stdin is larger than %d "
					 "bytes",
					 CONF_MAX);
				break;
			}
			cap *= 2;
			if (!(bigger = realloc(buf, cap + 1))) {
				cni_fail(e, CNI_ERR_IO, NULL,
					 "out of memory reading the network configuration");
				break;
			}
			buf = bigger;
		}
		r = read(STDIN_FILENO, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			cni_fail(e, CNI_ERR_IO, NULL,
				 "cannot read the network configuration from stdin: %s",
				 strerror(errno));
			break;
		}
		if (r == 0) {
			buf[n] = '\0';
			*len = n;
			return buf;
		}
		n += (size_t)r;
	}
	free(buf);
	return NULL;
}

/* VERSION: the versions this plugin speaks. The reply is in the request's
 * cniVersion when stdin names one. Returns 0 or -1 with *e set. */
static int do_version(const char *text, size_t len, const char **version, struct cni_error *e)
{
	json_object *req = NULL, *v, *out, *list;
	const char *asked = NULL;
	int rc;

	if (strspn(text, " \t\r\n") < len) {
		if (!(req = cni_json_parse(text, len, e)))
			return -1;
		if (json_object_is_type(req, json_type_object) &&
		    json_object_object_get_ex(req, "cniVersion", &v) &&
		    json_object_is_type(v, json_type_string) && json_object_get_string_len(v) > 0)
			asked = json_object_get_string(v);
	}
	out = json_object_new_object();
	list = json_object_new_array();
	json_object_object_add(out, "cniVersion",
			       json_object_new_string(asked ? asked : CNI_VERSION_LATEST));
	for (size_t i = 0; i < cni_n_supported_versions; i++)
		json_object_array_add(list, json_object_new_string(cni_supported_versions[i]));
	json_object_object_add(out, "supportedVersions", list);
	rc = cni_print_json(out);
	json_object_put(out);
	if (req)
		json_object_put(req);
	*version = NULL;
	return rc == 0 ? 0 : cni_fail(e, CNI_ERR_IO, NULL, "cannot write to stdout");
}

/* ADD: register, then hand prevResult back. */
static int do_add(const struct cni_env *env, const struct cni_conf *c, struct cni_error *e)
{
	json_object *out;
	uint32_t vip;
	int rc;

	if (!c->prev)
		return cni_fail(e, CNI_ERR_CONFIG, NULL,
				"no prevResult: slim is a chained plugin; list it after the "
				"plugins that give the container its address (e.g. bridge with "
				"host-local) in a conflist");
	if (cni_result_ipv4(c->prev, env->ifname, &vip, e) != 0)
		return -1;
	/* Convert before registering: a result that cannot be handed back
	 * must not leave a registration behind. */
	if (!(out = cni_result_convert(c->prev, c->version, e)))
		return -1;
	if (cni_router_add(c->socket, env->container_id, vip, env->netns, e) != 0) {
		json_object_put(out);
		return -1;
	}
	rc = cni_print_json(out);
	json_object_put(out);
	if (rc != 0) {
		/* The runtime will not know it succeeded: undo it. */
		struct cni_error ignored;
		cni_router_del(c->socket, env->container_id, &ignored);
		return cni_fail(e, CNI_ERR_IO, NULL, "cannot write the result to stdout");
	}
	return 0;
}

static int do_check(const struct cni_env *env, const struct cni_conf *c, struct cni_error *e)
{
	uint32_t vip;

	if (!c->prev)
		return cni_fail(e, CNI_ERR_CONFIG, NULL,
				"no prevResult: the runtime must pass the result of ADD to CHECK");
	if (cni_result_ipv4(c->prev, env->ifname, &vip, e) != 0)
		return -1;
	return cni_router_check(c->socket, env->container_id, vip, env->netns, e);
}

int main(void)
{
	struct cni_error e = {0};
	struct cni_conf conf = {0};
	struct cni_env env;
	const char *version = CNI_VERSION_LATEST;
	char *text = NULL;
	size_t len = 0;
	int rc = -1;

	if (cni_env_command(&env, &e) != 0 || !(text = read_stdin(&len, &e)))
		goto out;
	if (env.cmd == CNI_CMD_VERSION) {
		rc = do_version(text, len, &version, &e);
		goto out;
	}
	if (cni_conf_parse(text, len, &conf, &e) != 0) {
		if (conf.version)
			version = conf.version;
		goto out;
	}
	version = conf.version;
	if (cni_env_read(&env, &e) != 0)
		goto out;
	switch (env.cmd) {
	case CNI_CMD_ADD:
		rc = do_add(&env, &conf, &e);
		break;
	case CNI_CMD_DEL:
		rc = cni_router_del(conf.socket, env.container_id, &e);
		break;
	case CNI_CMD_CHECK:
		rc = do_check(&env, &conf, &e);
		break;
	default:
		break;
	}
out:
	if (rc != 0 && e.code != 0 && version)
		cni_print_error(&e, version);
	free(text);
	cni_conf_free(&conf);
	return rc == 0 ? 0 : 1;
}
