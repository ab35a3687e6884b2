/* Files found relative to the running program, so that an installed tree
 * works under whatever prefix it was installed to (slim-run and the OCI hook
 * find libslim.so this way). */
#ifndef SLIM_TOOLS_SELF_PATH_H
#define SLIM_TOOLS_SELF_PATH_H

/* The canonical path of rel (a relative path) taken from the directory of
 * this program's executable (/proc/self/exe), if it exists. Returns a
 * malloc'ed path (the caller frees it), or NULL. */
char *self_relative_path(const char *rel);

#endif
