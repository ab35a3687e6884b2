/* The admin side of the router protocol, shared by slimctl and the CNI
 * plugin: one request per connection to the router's unix socket, a bounded
 * wait for the reply, and the reply checked against the request. Nothing is
 * printed: a failure comes back as a kind (what the caller may do about
 * it) and one line of text. */
#ifndef SLIM_TOOLS_CTL_CLIENT_H
#define SLIM_TOOLS_CTL_CLIENT_H

#include <limits.h>
#include <stdint.h>

#include "wire.h"

#define CTL_DEFAULT_SOCKET "/run/slim/slim.sock"
/* Bounds each of connect, send and receive. */
#define CTL_REPLY_TIMEOUT_S 10

enum ctl_fail {
	CTL_OK = 0,
	CTL_NO_ROUTER, /* connect() failed (no socket file, nobody listening): err */
	CTL_STUCK,     /* no connection accepted or no reply within the timeout */
	CTL_LOCAL,     /* a failure on this side (path too long, socket, send, recv): err */
	CTL_BAD_REPLY, /* malformed reply, or one that does not answer the request */
	CTL_REFUSED,   /* the router answered with an error: err is its errno */
};

struct ctl_error {
	enum ctl_fail kind;
	int err;       /* an errno value, or 0 */
	char msg[512]; /* one line without a program prefix; the router's own for CTL_REFUSED */
};

/* Sends req to the router at sock_path and waits for its reply. Returns the
 * decoded success reply (the caller frees it with slim__reply__free_unpacked),
 * or NULL with *e filled in. Any fds beside the reply are closed. */
Slim__Reply *ctl_request(const char *sock_path, const Slim__Request *req, struct ctl_error *e);

/* container add / del. vip in host byte order; netns_path must be absolute
 * (the router opens it itself). Return 0, or -1 with *e filled in. */
int ctl_container_add(const char *sock_path, const char *name, uint32_t vip, const char *netns_path,
		      struct ctl_error *e);
int ctl_container_del(const char *sock_path, const char *name, struct ctl_error *e);

/* container get: the router's record of one container. Returns the reply
 * (rep->container is set; free as for ctl_request) or NULL with *e filled in
 * (CTL_REFUSED with ENOENT: no container of that name). */
Slim__Reply *ctl_container_get(const char *sock_path, const char *name, struct ctl_error *e);

/* status. Returns the reply (rep->status is set; free as for ctl_request)
 * or NULL with *e filled in. */
Slim__Reply *ctl_status(const char *sock_path, struct ctl_error *e);

/* path itself when it is absolute, else its realpath() in buf. Returns NULL
 * with errno set when a relative path cannot be resolved. */
const char *ctl_abs_path(const char *path, char buf[PATH_MAX]);

#endif
