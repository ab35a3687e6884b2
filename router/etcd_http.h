/* HTTP POST requests driven by the router's libev loop: libcurl's multi
 * interface, told about sockets and timeouts through libev watchers, so a
 * request never blocks the loop (no curl_easy_perform, no poll of its own).
 * One job: move bytes; what they mean is etcd_client.c's. */
#ifndef SLIM_ROUTER_ETCD_HTTP_H
#define SLIM_ROUTER_ETCD_HTTP_H

#include <stddef.h>

struct ev_loop;
struct ehttp;
struct ehttp_req;

/* Largest response body kept (or stream line): a bigger one fails the
 * request. Room for tens of thousands of host records. */
#define EHTTP_MAX_BODY (32u << 20)

/* A stream request calls this for every complete line of the body (without
 * the newline; NUL-terminated); the buffer is only valid during the call. */
typedef void (*ehttp_line_fn)(void *ctx, const char *line, size_t len);

/* Called once when a request ends, unless it was cancelled. ok is 1 when
 * the transfer completed with HTTP 200, else 0 with a one-line reason in
 * why. body is the whole response (NUL-terminated; empty for a stream),
 * only valid during the call. The request is freed after the call. */
typedef void (*ehttp_done_fn)(void *ctx, int ok, const char *why, const char *body, size_t len);

/* A client on loop. Returns NULL with a reason in err. */
struct ehttp *ehttp_new(struct ev_loop *loop, char *err, size_t errlen);

/* Starts POST url with the JSON body (copied). timeout_ms bounds the
 * whole request (0: none, for a stream; the connect is always bounded).
 * With on_line, the body is delivered line by line as it arrives. Returns
 * the request (owned by the client until done or cancelled), or NULL with
 * errno (done is then never called). */
struct ehttp_req *ehttp_post(struct ehttp *h, const char *url, const char *body, long timeout_ms,
			     ehttp_line_fn on_line, ehttp_done_fn done, void *ctx);

/* Ends a request without calling its done callback; NULL is fine. Safe
 * from inside that request's own callbacks. */
void ehttp_cancel(struct ehttp_req *r);

/* Cancels every request and frees the client. NULL is fine. */
void ehttp_free(struct ehttp *h);

#endif
