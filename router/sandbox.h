/* The router's seccomp allow-list, entered once start-up is done. */
#ifndef SLIM_ROUTER_SANDBOX_H
#define SLIM_ROUTER_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>

/* Restricts the process to the system calls serving and shutting down need.
 * Anything else fails with EPERM (so an unforeseen call shows up as an error
 * reply or log line, not a dead router); with SLIM_SECCOMP=kill in the
 * environment it kills the process instead, which is what the tests use to
 * prove the list complete. etcd_client: also what an HTTP client on
 * non-blocking TCP sockets needs (connect, send, receive, poll), for the
 * etcd membership. Returns 0, or -1 with a reason in err. */
int sandbox_enter(bool etcd_client, char *err, size_t errlen);

#endif
