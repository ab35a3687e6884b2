/* What the plugin writes on stdout: a result (JSON object) on success, a
 * CNI error object on failure. Nothing else goes to stdout. */
#ifndef SLIM_CNI_OUTPUT_H
#define SLIM_CNI_OUTPUT_H

#include <json-c/json.h>

#include "cni_error.h"

/* Prints obj as one line of JSON. Returns 0, or -1 (with one line on stderr)
 * when stdout cannot be written. */
int cni_print_json(json_object *obj);

/* Prints {"cniVersion":version,"code":...,"msg":...,"details":...}
 * ("details" left out when empty). Returns as cni_print_json. */
int cni_print_error(const struct cni_error *e, const char *version);

#endif
