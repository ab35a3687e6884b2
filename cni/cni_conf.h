/* The network configuration the runtime writes on stdin:
 *   {"cniVersion":"1.0.0","name":"NET","type":"slim",
 *    "socket":"/run/slim/slim.sock","prevResult":{...}}
 * socket and prevResult are optional; other keys are ignored. */
#ifndef SLIM_CNI_CONF_H
#define SLIM_CNI_CONF_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "cni_error.h"

/* The versions this plugin speaks, newest first. */
#define CNI_VERSION_LATEST "1.0.0"
extern const char *const cni_supported_versions[];
extern const size_t cni_n_supported_versions;

struct cni_conf {
	json_object *root;   /* owned; everything below points into it */
	const char *version; /* cniVersion, one of cni_supported_versions */
	const char *name;
	const char *socket; /* the router's socket (default CTL_DEFAULT_SOCKET) */
	json_object *prev;  /* prevResult, or NULL */
};

/* True if v is one of cni_supported_versions. */
bool cni_version_supported(const char *v);

/* Parses text (len bytes, JSON) into a JSON value. Returns it (the caller
 * puts it) or NULL with *e set: CNI_ERR_DECODE for anything but exactly one
 * JSON value (surrounding blanks allowed). */
json_object *cni_json_parse(const char *text, size_t len, struct cni_error *e);

/* Parses and checks a network configuration. Returns 0, or -1 with *e
 * set; either way the caller frees *c with cni_conf_free. Errors: CNI_ERR_DECODE (not JSON),
 * CNI_ERR_VERSION (cniVersion not supported), CNI_ERR_CONFIG (a key
 * missing or of the wrong type). c->version is set as soon as it is
 * known to be supported, so that an error can be reported in it. */
int cni_conf_parse(const char *text, size_t len, struct cni_conf *c, struct cni_error *e);

void cni_conf_free(struct cni_conf *c);

#endif
