/* Field-by-field checks of decoded messages. protobuf-c already enforces
 * types and required fields; this enforces the ranges slim.proto states. */
#include "wire.h"
#include "routes.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int slim_fail(int err, char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (whylen > 0) {
		va_start(ap, fmt);
		vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return err;
}

static int valid_port(uint32_t port)
{
	return port >= 1 && port <= 65535;
}

static bool name_ok(const char *name, size_t max)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		/* Explicit ranges: isalnum() would follow the locale. */
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '-'))
			return false;
	}
	return true;
}

bool slim_name_ok(const char *name)
{
	return name_ok(name, 63);
}

bool slim_container_name_ok(const char *name)
{
	return name_ok(name, SLIM_CONTAINER_NAME_MAX);
}

static int valid_route(const Slim__Route *r)
{
	return r && r->prefix_len <= 32 &&
	       (r->subnet & slim_prefix_mask(r->prefix_len)) == r->subnet && r->underlay_ip != 0 &&
	       valid_port(r->port) && (!r->host || slim_name_ok(r->host));
}

int slim_validate_request(const Slim__Request *req, char *why, size_t whylen)
{
	switch (req->body_case) {
	case SLIM__REQUEST__BODY_HELLO:
		if (req->hello->version != SLIM_PROTO_VERSION)
			return slim_fail(EPROTO, why, whylen,
					 "unsupported protocol version %u (router speaks %d)",
					 req->hello->version, SLIM_PROTO_VERSION);
		return 0;
	case SLIM__REQUEST__BODY_CONNECT:
		if (req->connect->vip == 0)
			return slim_fail(EINVAL, why, whylen,
					 "connect: destination address 0.0.0.0");
		if (!valid_port(req->connect->port))
			return slim_fail(EINVAL, why, whylen,
					 "connect: port %u out of range 1..65535",
					 req->connect->port);
		return 0;
	case SLIM__REQUEST__BODY_LISTEN:
		if (!valid_port(req->listen->port))
			return slim_fail(EINVAL, why, whylen,
					 "listen: port %u out of range 1..65535",
					 req->listen->port);
		return 0;
	case SLIM__REQUEST__BODY_POOL:
		if (req->pool->count < 1 || req->pool->count > SLIM_POOL_MAX)
			return slim_fail(EINVAL, why, whylen, "pool: count %u out of range 1..%d",
					 req->pool->count, SLIM_POOL_MAX);
		return 0;
	case SLIM__REQUEST__BODY_CONTAINER_ADD: {
		const Slim__ContainerAddRequest *a = req->container_add;
		if (!slim_container_name_ok(a->name))
			return slim_fail(EINVAL, why, whylen,
					 "container add: name must be 1..%d characters of "
					 "[A-Za-z0-9_.-]",
					 SLIM_CONTAINER_NAME_MAX);
		if (a->vip == 0)
			return slim_fail(EINVAL, why, whylen, "container add: address 0.0.0.0");
		size_t n = a->netns_path ? strlen(a->netns_path) : 0;
		if (n == 0 || a->netns_path[0] != '/' || n >= PATH_MAX)
			return slim_fail(EINVAL, why, whylen,
					 "container add: netns path must be an absolute path");
		return 0;
	}
	case SLIM__REQUEST__BODY_CONTAINER_DEL:
		if (!slim_container_name_ok(req->container_del->name))
			return slim_fail(EINVAL, why, whylen,
					 "container del: name must be 1..%d characters of "
					 "[A-Za-z0-9_.-]",
					 SLIM_CONTAINER_NAME_MAX);
		return 0;
	case SLIM__REQUEST__BODY_CONTAINER_GET:
		if (!slim_container_name_ok(req->container_get->name))
			return slim_fail(EINVAL, why, whylen,
					 "container get: name must be 1..%d characters of "
					 "[A-Za-z0-9_.-]",
					 SLIM_CONTAINER_NAME_MAX);
		return 0;
	case SLIM__REQUEST__BODY_STATUS:
		return 0;
	default:
		return slim_fail(EPROTO, why, whylen, "request has no known body");
	}
}

/* The reply body that answers each request body (NOT_SET: a bare ok). */
static Slim__Reply__BodyCase answer_to(Slim__Request__BodyCase req)
{
	switch (req) {
	case SLIM__REQUEST__BODY_HELLO:
		return SLIM__REPLY__BODY_HELLO;
	case SLIM__REQUEST__BODY_CONNECT:
		return SLIM__REPLY__BODY_CONNECT;
	case SLIM__REQUEST__BODY_LISTEN:
		return SLIM__REPLY__BODY_LISTEN;
	case SLIM__REQUEST__BODY_STATUS:
		return SLIM__REPLY__BODY_STATUS;
	case SLIM__REQUEST__BODY_POOL:
		return SLIM__REPLY__BODY_POOL;
	case SLIM__REQUEST__BODY_CONTAINER_GET:
		return SLIM__REPLY__BODY_CONTAINER;
	default:
		return SLIM__REPLY__BODY__NOT_SET;
	}
}

int slim_validate_reply(const Slim__Reply *rep, Slim__Request__BodyCase expected, char *why,
			size_t whylen)
{
	if (rep->error < 0 || rep->error > 4095)
		return slim_fail(EPROTO, why, whylen, "reply error %d is not an errno value",
				 rep->error);
	if (rep->error != 0)
		return 0;
	if (rep->body_case != answer_to(expected))
		return slim_fail(EPROTO, why, whylen, "reply body %d does not answer request %d",
				 (int)rep->body_case, (int)expected);
	switch (rep->body_case) {
	case SLIM__REPLY__BODY_HELLO:
		if (!slim_container_name_ok(rep->hello->container))
			return slim_fail(EPROTO, why, whylen, "hello reply: bad container name");
		if (rep->hello->vip == 0)
			return slim_fail(EPROTO, why, whylen, "hello reply: no virtual address");
		return 0;
	case SLIM__REPLY__BODY_CONNECT:
		if (rep->connect->underlay_ip == 0 || !valid_port(rep->connect->port))
			return slim_fail(EPROTO, why, whylen,
					 "connect reply: bad underlay endpoint");
		return 0;
	case SLIM__REPLY__BODY_LISTEN:
		if (rep->listen->vip == 0 || !valid_port(rep->listen->port))
			return slim_fail(EPROTO, why, whylen, "listen reply: bad virtual endpoint");
		return 0;
	case SLIM__REPLY__BODY_POOL:
		if (rep->pool->count < 1 || rep->pool->count > SLIM_POOL_MAX)
			return slim_fail(EPROTO, why, whylen, "pool reply: count %u out of range",
					 rep->pool->count);
		return 0;
	case SLIM__REPLY__BODY_CONTAINER:
		if (!slim_container_name_ok(rep->container->name) || rep->container->vip == 0 ||
		    !rep->container->netns_path || rep->container->netns_path[0] != '/')
			return slim_fail(EPROTO, why, whylen, "container reply: bad container");
		return 0;
	case SLIM__REPLY__BODY_STATUS:
		for (size_t i = 0; i < rep->status->n_routes; i++)
			if (!valid_route(rep->status->routes[i]))
				return slim_fail(EPROTO, why, whylen,
						 "status reply: route %zu invalid", i);
		return 0;
	default:
		return 0;
	}
}
