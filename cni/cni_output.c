#include "cni_output.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int cni_print_json(json_object *obj)
{
	const char *s = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN |
								JSON_C_TO_STRING_NOSLASHESCAPE);

	if (!s || fputs(s, stdout) == EOF || putchar('\n') == EOF || fflush(stdout) != 0) {
		fprintf(stderr, "slim: cannot write the result to stdout: %s\n",
			s ? strerror(errno) : "out of memory");
		return -1;
	}
	return 0;
}

int cni_print_error(const struct cni_error *e, const char *version)
{
	json_object *o = json_object_new_object();
	int rc;

	if (!o) {
		fprintf(stderr, "slim: %s\n", e->msg);
		return -1;
	}
	json_object_object_add(o, "cniVersion", json_object_new_string(version));
	json_object_object_add(o, "code", json_object_new_int(e->code));
	json_object_object_add(o, "msg", json_object_new_string(e->msg));
	if (e->details[0])
		json_object_object_add(o, "details", json_object_new_string(e->details));
	rc = cni_print_json(o);
	json_object_put(o);
	return rc;
}
