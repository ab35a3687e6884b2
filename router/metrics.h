/* The text of GET /metrics (slim-router --metrics): the Prometheus text
 * exposition format, version 0.0.4, rendered from the `slimctl status` reply
 * and the router's own counters. No I/O here (router/metrics_http.c serves
 * it). */
#ifndef SLIM_ROUTER_METRICS_H
#define SLIM_ROUTER_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "wire.h"

/* What the exposition takes from the router beyond the status reply. */
struct metrics_counters {
	uint64_t clients;	  /* connected to the router's socket now */
	uint64_t bad_requests;	  /* malformed, invalid, oversized, with fds */
	uint64_t failed_requests; /* valid, answered with an error */
	uint64_t socket_failures; /* host sockets that could not be made */
	uint64_t clients_refused; /* at the client cap or out of fds */
};

/* The Content-Type of what metrics_render produces. */
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Renders every metric of s and c. Returns a malloc'd NUL-terminated text
 * (the caller frees it) with its length (without the NUL) in *len, or NULL
 * with errno ENOMEM. */
char *metrics_render(const Slim__StatusReply *s, const struct metrics_counters *c, size_t *len);

#endif
