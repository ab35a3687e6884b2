/* slim-oci-hook: the OCI hook (createContainer stage) that puts slim into
 * a container selected by an annotation, with no change to its image or
 * command (rootfs_mounts.h says what it mounts).
 *
 *   slim-oci-hook [--socket PATH] [--lib PATH] [--annotation NAME]
 *
 * Reads the container's state on stdin, as the runtime passes it. Exit 0
 * (also for a container without the annotation, left untouched); 1 with
 * one line on stderr if the container cannot get slim (the runtime then
 * fails the container: no silent start without it); 2 for usage errors. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "oci_state.h"
#include "rootfs_mounts.h"
#include "self_path.h"

#define PROG "slim-oci-hook"

struct hook_opts {
	const char *socket, *lib, *annotation;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: " PROG " [--socket PATH] [--lib PATH] [--annotation NAME]\n"
		   "  An OCI hook for the createContainer stage: reads the container's state on\n"
		   "  stdin and, if annotation NAME is \"true\", mounts libslim and the router's\n"
		   "  socket into the container and lists libslim in its /etc/ld.so.preload.\n"
		   "  --socket PATH      the slim router's socket (default " SLIM_HOOK_SOCKET ")\n"
		   "  --lib PATH         libslim.so (default: " SLIM_HOOK_LIB_REL " from this\n"
		   "                     program's directory, where the install puts it)\n"
		   "  --annotation NAME  the selecting annotation (default " SLIM_HOOK_ANNOTATION
		   ")\n");
}

/* Returns 0 to go on, 1 after --help, or 2 after a usage error. */
static int parse_args(int argc, char **argv, struct hook_opts *o)
{
	static const struct option longopts[] = {{"socket", required_argument, NULL, 's'},
						 {"lib", required_argument, NULL, 'l'},
						 {"annotation", required_argument, NULL, 'a'},
						 {"help", no_argument, NULL, 'h'},
						 {NULL, 0, NULL, 0}};
	int c;

	*o = (struct hook_opts){SLIM_HOOK_SOCKET, NULL, SLIM_HOOK_ANNOTATION};
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			o->socket = optarg;
			break;
		case 'l':
			o->lib = optarg;
			break;
		case 'a':
			o->annotation = optarg;
			break;
		case 'h':
			usage(stdout);
			return 1;
		default:
			fprintf(stderr, PROG ": unknown option or missing value: %s (see --help)\n",
				argv[optind - 1]);
			return 2;
		}
	}
	/* Runtimes pass the stage name or nothing; other arguments are ignored
	 * so that a hooks.d file may name the stage for the reader. */
	return 0;
}

/* Checks the host-side paths. Returns 0, or -1 after printing one line. */
static int check_paths(const struct hook_opts *o, const char *id)
{
	struct stat sb;

	if (o->lib[0] != '/' || stat(o->lib, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		fprintf(stderr,
			PROG ": container %.12s: no libslim.so at %s (install slim, or fix --lib "
			     "in the hook's config)\n",
			id, o->lib);
		return -1;
	}
	if (o->socket[0] != '/' ||
	    strlen(o->socket) >= sizeof(((struct sockaddr_un *)0)->sun_path) ||
	    stat(o->socket, &sb) != 0 || !S_ISSOCK(sb.st_mode)) {
		fprintf(stderr,
			PROG ": container %.12s: no slim router socket at %s (start slim-router, "
			     "or fix --socket in the hook's config)\n",
			id, o->socket);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct oci_container c;
	struct hook_opts o;
	struct slim_mounts m;
	char why[512], dir[PATH_MAX], base[PATH_MAX], *lib_found = NULL;
	int r = parse_args(argc, argv, &o);

	if (r != 0)
		return r == 1 ? 0 : 2;
	if (oci_container_read(stdin, o.annotation, &c, why, sizeof(why)) != 0) {
		fprintf(stderr, PROG ": %s\n", why);
		return 1;
	}
	if (!c.enabled)
		return 0;
	if (!o.lib) {
		o.lib = lib_found = self_relative_path(SLIM_HOOK_LIB_REL);
		if (!o.lib)
			o.lib = SLIM_HOOK_LIB_REL;
	}
	r = check_paths(&o, c.id);
	if (r != 0) {
		free(lib_found);
		return 1;
	}
	snprintf(dir, sizeof(dir), "%s", o.socket);
	snprintf(base, sizeof(base), "%s", o.socket);
	m = (struct slim_mounts){
	    .rootfs = c.rootfs, .lib = o.lib, .sockdir = dirname(dir), .sockname = basename(base)};
	if (slim_mounts_check_namespace(c.rootfs, why, sizeof(why)) != 0 ||
	    slim_mounts_make(&m, why, sizeof(why)) != 0) {
		fprintf(stderr, PROG ": container %.12s: %s\n", c.id, why);
		r = 1;
	}
	free(lib_found);
	return r;
}
