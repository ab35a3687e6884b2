/* The view file the router publishes for libslim (mapped read-only by
 * every libslim, see struct slim_view). The routes trie the kernel reads is
 * routes_map.h. No BPF here, so tests can write a view as the router
 * does. */
#ifndef SLIM_ROUTER_VIEW_WRITER_H
#define SLIM_ROUTER_VIEW_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "routes.h"
#include "view_format.h"

struct view {
	struct slim_view *m; /* the file, mapped read-write; NULL if not open */
	char path[4096];
};

/* Opens (creating it 0644 if needed) and maps the view file at path. An
 * existing file keeps its contents (a previous router's) until
 * view_publish. Returns 0, or -1 with one line in err. */
int view_open(struct view *v, const char *path, char *err, size_t errlen);

/* A new read-only fd of the view file for a libslim (caller owns), or -1
 * with errno. */
int view_reader_fd(const struct view *v);

/* Writes the n routes (gone ones included) into the view, with state
 * RUNNING and epoch: into the table readers do not use, then makes it the
 * one they use. Returns 0, or -1 with one line in err (too many routes; the
 * view is then unchanged). */
int view_publish(struct view *v, const struct slim_route *routes, size_t n, uint32_t epoch,
		 char *err, size_t errlen);

/* Sets the view's state (enum slim_view_state). No-op if not open. */
void view_set_state(struct view *v, uint32_t state);

/* Unmaps. The file's contents stay as last written; with unlink the file
 * is removed too (the router retired: readers keep their mapping, which
 * says so). */
void view_close(struct view *v, bool unlink_it);

/* The default view path for a state file path: FOO.containers -> FOO.view,
 * anything else -> PATH.view. Returns 0, or -1 if it does not fit. */
int view_path_for(const char *state_path, char *out, size_t outlen);

#endif
