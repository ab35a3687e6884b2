/* What slim's OCI hook needs to know about the container it is called for:
 * read from the state the runtime writes on the hook's stdin and from the
 * bundle's config.json (OCI runtime spec, "State" and "Root"). */
#ifndef SLIM_OCI_STATE_H
#define SLIM_OCI_STATE_H

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>

struct oci_container {
	char id[256];
	char bundle[PATH_MAX];
	char rootfs[PATH_MAX]; /* absolute: root.path resolved against bundle */
	bool rootfs_readonly;  /* root.readonly */
	bool enabled;	       /* the selecting annotation is "true" */
};

/* Reads the state JSON from f (at most 1 MiB), then the bundle's
 * config.json, into c; enabled is set when annotation `annotation` of the
 * state (or, if the state has none, of config.json) is "true". Returns 0,
 * or -1 with a one-line reason in why. */
int oci_container_read(FILE *f, const char *annotation, struct oci_container *c, char *why,
		       size_t whylen);

#endif
