/* Notices containers whose network namespace is gone without a `container
 * del` (a runtime that died, a namespace removed by hand) and deletes them
 * as `container del` would, revoking their sockets. A namespace is gone
 * when its registered path no longer names it (removed, or another
 * namespace or file there); it is checked every second, and at once when
 * the kernel reports a namespace with a netnsid here destroyed
 * (RTM_DELNSID). */
#ifndef SLIM_ROUTER_NETNS_WATCH_H
#define SLIM_ROUTER_NETNS_WATCH_H

#include <stddef.h>

struct ev_loop;
struct router;
struct netns_watch;

/* Opens the rtnetlink socket (before the sandbox: it makes a socket).
 * Returns the watch, or NULL with one line in why. */
struct netns_watch *netns_watch_open(char *why, size_t whylen);

/* Starts the timer and the socket's watcher on loop for router r. */
void netns_watch_start(struct netns_watch *w, struct ev_loop *loop, struct router *r);

/* Stops and frees w (NULL: nothing). */
void netns_watch_close(struct netns_watch *w);

#endif
