/* slim-router --metrics ADDR:PORT: GET /metrics over HTTP/1.0 or 1.1 on a
 * TCP listener served by the router's event loop (router/metrics.h has the
 * text). One request per connection, then close; bounded in request size,
 * time and clients, so a scraper cannot hold the loop or the router's fds. */
#ifndef SLIM_ROUTER_METRICS_HTTP_H
#define SLIM_ROUTER_METRICS_HTTP_H

#include <netinet/in.h>
#include <stddef.h>

struct ev_loop;
struct router;
struct metrics_http;

/* Parses ADDR:PORT (a dotted IPv4 address, a port 1..65535) into *sa.
 * Returns 0, or -1 with one line in err naming --metrics. */
int metrics_addr_parse(const char *spec, struct sockaddr_in *sa, char *err, size_t errlen);

/* Binds and listens on sa (SO_REUSEADDR) without serving yet; at start-up,
 * before the sandbox. Returns NULL with one line in err naming --metrics
 * and the address. */
struct metrics_http *metrics_http_open(const struct sockaddr_in *sa, char *err, size_t errlen);

/* Starts answering on loop, from router r's status and counters. */
void metrics_http_start(struct metrics_http *m, struct ev_loop *loop, struct router *r);

/* Stops, closes every connection and the listener. NULL is fine. */
void metrics_http_close(struct metrics_http *m);

#endif
