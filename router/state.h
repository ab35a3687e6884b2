/* The state file: the container registry on disk, so that a restarted
 * router (systemctl restart, or a crash) serves the same containers again.
 *   container NAME VIP NETNS_PATH ID
 * one line per container (ID: the container's id, decimal; a line without
 * one is read as a container with no known id), '#' comments and blank lines allowed. The router
 * rewrites it after every successful container add/del and loads it at
 * start-up, where every entry goes through the checks of `container add`. */
#ifndef SLIM_ROUTER_STATE_H
#define SLIM_ROUTER_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "containers.h"

struct state_entry {
	char name[SLIM_CONTAINER_NAME_MAX + 1];
	uint32_t vip; /* host byte order */
	char netns[REG_NETNS_MAX + 1];
	uint32_t id;   /* 0: the line had none */
	unsigned line; /* where it was read, for messages */
};

/* True if path can be written as one field of a state line: absolute, at
 * most REG_NETNS_MAX characters, no blank, '#' or control character. */
bool state_netns_ok(const char *path);

/* Parses the file at path into out[0..max), the count in *n. A missing file
 * is no previous state: 0 entries, success. Only the syntax is checked here
 * (keyword, field count, name, address, path); the registry rules are the
 * caller's. Returns 0, or -1 with one line in err: "PATH:LINE: reason" for a
 * bad line, "PATH: reason" for a whole-file problem. */
int state_load(const char *path, struct state_entry *out, size_t max, size_t *n, char *err,
	       size_t errlen);

/* Writes every container of reg to path atomically: PATH.tmp is written and
 * renamed over path (no fsync: the file only has to survive a router
 * restart, not a machine crash). Uses only open/write/close/rename/unlink,
 * which the router's seccomp allow-list permits after start-up. Returns 0,
 * or -1 with one line in err (PATH.tmp removed). */
int state_save(const char *path, const struct registry *reg, char *err, size_t errlen);

#endif
