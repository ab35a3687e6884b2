/* Loader of the same-host sockmap redirect (redirect.bpf.c): loads it,
 * attaches its sockops program to a cgroup through its own bpf_link (next to
 * whatever else is attached there) and its sk_msg program to its SOCKHASH.
 * Owns the bpftool-generated skeleton (redirect.skel.h). */
#ifndef SLIM_REDIRECT_H
#define SLIM_REDIRECT_H

#include <stddef.h>

#include "redirect_maps.h"

struct slim_redirect;

/* Loads the programs for a host whose reserved port is `reserved_port` (host
 * byte order, 1..65535), attaches the sk_msg program to the SOCKHASH, then
 * the sockops program to the cgroup v2 directory `cgroup_fd`. Sockets made
 * before this call are never redirected. Returns the handle, or NULL with a
 * one-line reason in err. */
struct slim_redirect *slim_redirect_start(int cgroup_fd, unsigned reserved_port, char *err,
					  size_t errlen);

/* Sums the per-CPU counters into *out. Returns 0, or -1 with errno. */
int slim_redirect_stats(const struct slim_redirect *rd, struct slim_rd_stats *out);

/* Detaches from the cgroup (no new socket enters the map) and frees the
 * handle. Connections already redirected keep working: their sockets hold
 * the sk_msg program until they close. NULL is fine. */
void slim_redirect_destroy(struct slim_redirect *rd);

#endif
