/* The Unix SOCK_SEQPACKET endpoint that libslim and slimctl talk to. */
#ifndef SLIM_ROUTER_SERVER_H
#define SLIM_ROUTER_SERVER_H

#include <stddef.h>

struct ev_loop;
struct router;
struct server;

/* Creates the parent directory, refuses if a live router answers on path,
 * removes a stale socket file, binds (mode 0666) and listens. Does not
 * serve yet. Returns NULL with a reason in err. */
struct server *server_open(const char *path, char *err, size_t errlen);

/* Starts accepting and answering on loop for router r. */
void server_start(struct server *s, struct ev_loop *loop, struct router *r);

/* Stops, closes every client and the listening socket, removes the socket
 * file. NULL is fine. */
void server_close(struct server *s);

#endif
