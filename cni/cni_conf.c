#include "cni_conf.h"
#include "ctl_client.h"

#include <ctype.h>
#include <string.h>

const char *const cni_supported_versions[] = {"0.4.0", "1.0.0"};
const size_t cni_n_supported_versions =
    sizeof(cni_supported_versions) / sizeof(cni_supported_versions[0]);

bool cni_version_supported(const char *v)
{
	for (size_t i = 0; i < cni_n_supported_versions; i++)
		if (v && strcmp(v, cni_supported_versions[i]) == 0)
			return true;
	return false;
}

json_object *cni_json_parse(const char *text, size_t len, struct cni_error *e)
{
	json_tokener *tok = json_tokener_new();
	json_object *o;
	size_t end;

	if (!tok) {
		cni_fail(e, CNI_ERR_IO, NULL, "out of memory parsing the network configuration");
		return NULL;
	}
	o = json_tokener_parse_ex(tok, text, (int)len);
	if (!o) {
		enum json_tokener_error je = json_tokener_get_error(tok);
		cni_fail(e, CNI_ERR_DECODE, NULL,
			 "the network configuration on stdin is not valid JSON (%s): fix the "
			 "configuration file",
			 je == json_tokener_continue ? "unexpected end of input"
						     : json_tokener_error_desc(je));
		json_tokener_free(tok);
		return NULL;
	}
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	while (end < len && isspace((unsigned char)text[end]))
		end++;
	if (end < len) {
		json_object_put(o);
		cni_fail(
		    e, CNI_ERR_DECODE, NULL,
		    "the network configuration on stdin has data after its JSON value (at byte "
		    "%zu): fix the configuration file",
		    end);
		return NULL;
	}
	return o;
}

/* The string value of key in o: 0 with *out set (NULL when absent and
 * optional), or -1 with *e set (CNI_ERR_CONFIG). */
static int string_key(json_object *o, const char *key, bool required, const char **out,
		      struct cni_error *e)
{
	json_object *v;

	*out = NULL;
	if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null)) {
		if (!required)
			return 0;
		return cni_fail(e, CNI_ERR_CONFIG, NULL,
				"the network configuration has no \"%s\": add it", key);
	}
	if (!json_object_is_type(v, json_type_string) || json_object_get_string_len(v) == 0)
		return cni_fail(e, CNI_ERR_CONFIG, NULL,
				"\"%s\" in the network configuration must be a non-empty string",
				key);
	*out = json_object_get_string(v);
	return 0;
}

int cni_conf_parse(const char *text, size_t len, struct cni_conf *c, struct cni_error *e)
{
	const char *v;
	json_object *p;

	memset(c, 0, sizeof(*c));
	if (!(c->root = cni_json_parse(text, len, e)))
		return -1;
	if (!json_object_is_type(c->root, json_type_object))
		return cni_fail(e, CNI_ERR_DECODE, NULL,
				"the network configuration on stdin is not a JSON object: fix the "
				"configuration file");
	if (string_key(c->root, "cniVersion", true, &v, e) != 0)
		return -1;
	if (!cni_version_supported(v))
		return cni_fail(e, CNI_ERR_VERSION, NULL,
				"cniVersion \"%.64s\" is not supported: use 1.0.0 or 0.4.0", v);
	c->version = v;
	if (string_key(c->root, "name", true, &c->name, e) != 0 ||
	    string_key(c->root, "type", true, &v, e) != 0 ||
	    string_key(c->root, "socket", false, &c->socket, e) != 0)
		return -1;
	if (!c->socket)
		c->socket = CTL_DEFAULT_SOCKET;
	if (json_object_object_get_ex(c->root, "prevResult", &p) &&
	    !json_object_is_type(p, json_type_null)) {
		if (!json_object_is_type(p, json_type_object))
			return cni_fail(e, CNI_ERR_CONFIG, NULL,
					"\"prevResult\" in the network configuration must be a "
					"JSON object (the result of the plugin before slim)");
		c->prev = p;
	}
	return 0;
}

void cni_conf_free(struct cni_conf *c)
{
	if (c->root)
		json_object_put(c->root);
	memset(c, 0, sizeof(*c));
}
