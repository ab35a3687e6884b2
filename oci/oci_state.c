#define _GNU_SOURCE
#include "oci_state.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define STATE_MAX (1 << 20)

static int fail(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	return -1;
}

/* The string member key of object o, or NULL if absent or not a string. */
static const char *str_member(json_object *o, const char *key)
{
	json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* Parses a whole JSON document of at most STATE_MAX bytes from f. Returns a
 * new reference (the caller puts it), or NULL with why filled. */
static json_object *parse_stream(FILE *f, const char *what, char *why, size_t whylen)
{
	char *buf = malloc(STATE_MAX + 1);
	size_t n;
	json_object *o;
	json_tokener *tok;
	enum json_tokener_error err;

	if (!buf) {
		fail(why, whylen, "%s: out of memory", what);
		return NULL;
	}
	n = fread(buf, 1, STATE_MAX + 1, f);
	if (ferror(f) || n > STATE_MAX) {
		fail(why, whylen, "%s: %s", what,
		     ferror(f) ? strerror(errno) : "larger than 1 MiB");
		free(buf);
		return NULL;
	}
	tok = json_tokener_new();
	if (!tok) {
		fail(why, whylen, "%s: out of memory", what);
		free(buf);
		return NULL;
	}
	o = json_tokener_parse_ex(tok, buf, (int)n);
	err = json_tokener_get_error(tok);
	if (o && (err != json_tokener_success || !json_object_is_type(o, json_type_object))) {
		json_object_put(o);
		o = NULL;
		if (err == json_tokener_success)
			err = json_tokener_error_parse_unexpected;
	}
	if (!o)
		fail(why, whylen, "%s: not a JSON object (%s)", what,
		     err == json_tokener_continue ? "truncated" : json_tokener_error_desc(err));
	json_tokener_free(tok);
	free(buf);
	return o;
}

/* Whether annotation key of the annotations object of o is "true". */
static bool annotated(json_object *o, const char *key, bool *present)
{
	json_object *ann;
	const char *v;

	*present = o && json_object_object_get_ex(o, "annotations", &ann) &&
		   json_object_is_type(ann, json_type_object);
	if (!*present)
		return false;
	v = str_member(ann, key);
	return v && strcmp(v, "true") == 0;
}

static int copy(char *dst, size_t size, const char *src)
{
	return snprintf(dst, size, "%s", src) < (int)size ? 0 : -1;
}

/* Fills rootfs and rootfs_readonly of c from config.json in c->bundle. */
static int read_config(struct oci_container *c, const char *annotation, bool state_has_ann,
		       char *why, size_t whylen)
{
	char path[PATH_MAX + 16], *real;
	json_object *cfg, *root, *ro;
	const char *rp;
	bool present;
	FILE *f;
	int ret = -1;

	snprintf(path, sizeof(path), "%s/config.json", c->bundle);
	f = fopen(path, "re");
	if (!f)
		return fail(why, whylen, "cannot open %s: %s", path, strerror(errno));
	cfg = parse_stream(f, path, why, whylen);
	fclose(f);
	if (!cfg)
		return -1;
	if (!state_has_ann)
		c->enabled = annotated(cfg, annotation, &present);
	if (!c->enabled) {
		ret = 0;
		goto out;
	}
	if (!json_object_object_get_ex(cfg, "root", &root) || !(rp = str_member(root, "path"))) {
		fail(why, whylen, "%s has no root.path", path);
		goto out;
	}
	c->rootfs_readonly =
	    json_object_object_get_ex(root, "readonly", &ro) && json_object_get_boolean(ro);
	if (rp[0] == '/')
		snprintf(path, sizeof(path), "%s", rp);
	else
		snprintf(path, sizeof(path), "%s/%s", c->bundle, rp);
	real = realpath(path, NULL);
	if (!real) {
		fail(why, whylen, "root filesystem %s: %s", path, strerror(errno));
		goto out;
	}
	if (copy(c->rootfs, sizeof(c->rootfs), real) == 0)
		ret = 0;
	else
		fail(why, whylen, "root filesystem path too long");
	free(real);
out:
	json_object_put(cfg);
	return ret;
}

int oci_container_read(FILE *f, const char *annotation, struct oci_container *c, char *why,
		       size_t whylen)
{
	json_object *st = parse_stream(f, "container state on stdin", why, whylen);
	const char *id, *bundle;
	bool has_ann;
	int ret = -1;

	memset(c, 0, sizeof(*c));
	if (!st)
		return -1;
	id = str_member(st, "id");
	bundle = str_member(st, "bundle");
	if (!id || !bundle || bundle[0] != '/') {
		fail(why, whylen,
		     "container state on stdin lacks \"id\" or an absolute \"bundle\" "
		     "(run me as an OCI hook)");
		goto out;
	}
	if (copy(c->id, sizeof(c->id), id) != 0 ||
	    copy(c->bundle, sizeof(c->bundle), bundle) != 0) {
		fail(why, whylen, "container id or bundle path too long");
		goto out;
	}
	c->enabled = annotated(st, annotation, &has_ann);
	if (has_ann && !c->enabled) {
		ret = 0; /* not ours: the bundle need not even be read */
		goto out;
	}
	ret = read_config(c, annotation, has_ann, why, whylen);
out:
	json_object_put(st);
	return ret;
}
