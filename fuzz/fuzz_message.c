/* What a local process sends the router, decoded and checked the way
 * handle_packet does (router/handlers.c): protobuf-c unpacks the packet, a
 * request with no known body is refused, slim_validate_request checks every
 * field. A request that passes must satisfy what the handlers rely on
 * without checking again (the contract stated above the do_* handlers), and
 * must survive a pack/unpack round trip. The same bytes are also decoded as
 * a reply and checked the way libslim and slimctl check what the router
 * sends (slim_validate_reply, for every kind of request). */
#include "fuzz_common.h"

#include <limits.h>

#include "state.h"
#include "wire.h"

static void check_valid_request(const Slim__Request *req)
{
	switch (req->body_case) {
	case SLIM__REQUEST__BODY_HELLO:
		FUZZ_CHECK(req->hello->version == SLIM_PROTO_VERSION);
		break;
	case SLIM__REQUEST__BODY_CONNECT:
		FUZZ_CHECK(req->connect->vip != 0);
		FUZZ_CHECK(req->connect->port >= 1 && req->connect->port <= 65535);
		break;
	case SLIM__REQUEST__BODY_LISTEN:
		/* do_listen casts the port to uint16_t. */
		FUZZ_CHECK(req->listen->port >= 1 && req->listen->port <= 65535);
		break;
	case SLIM__REQUEST__BODY_POOL:
		/* do_pool puts count fds into reply_ctx.fds[SLIM_POOL_MAX]. */
		FUZZ_CHECK(req->pool->count >= 1 && req->pool->count <= SLIM_POOL_MAX);
		break;
	case SLIM__REQUEST__BODY_CONTAINER_ADD: {
		const Slim__ContainerAddRequest *a = req->container_add;
		/* reg_add copies the name into a field of
		 * SLIM_CONTAINER_NAME_MAX + 1 bytes; the path goes through
		 * state_netns_ok before it is used. */
		FUZZ_CHECK(a->name && strlen(a->name) <= SLIM_CONTAINER_NAME_MAX &&
			   slim_container_name_ok(a->name));
		FUZZ_CHECK(a->vip != 0);
		FUZZ_CHECK(a->netns_path && a->netns_path[0] == '/' &&
			   strlen(a->netns_path) < PATH_MAX);
		if (state_netns_ok(a->netns_path))
			FUZZ_CHECK(strlen(a->netns_path) <= REG_NETNS_MAX);
		break;
	}
	case SLIM__REQUEST__BODY_CONTAINER_DEL:
		FUZZ_CHECK(req->container_del->name &&
			   strlen(req->container_del->name) <= SLIM_CONTAINER_NAME_MAX);
		break;
	case SLIM__REQUEST__BODY_CONTAINER_GET:
		FUZZ_CHECK(slim_container_name_ok(req->container_get->name));
		break;
	case SLIM__REQUEST__BODY_STATUS:
		break;
	default:
		FUZZ_CHECK(!"slim_validate_request passed a request with no known body");
	}
}

/* Packs req and unpacks it again: the copy must decode and pass the same
 * checks with the same body (what the router would see if the request were
 * relayed). Unknown fields are left out: protobuf-c takes field number 0
 * when its tag is spelled in two bytes (80 00), keeps it as an unknown
 * field and packs it back as the one byte 00, which it then refuses
 * (docs/fuzzing.md). The router ignores unknown fields. */
static void round_trip(Slim__Request *req)
{
	/* Every body is one submessage; the union's members share a pointer. */
	ProtobufCMessage *parts[2] = {&req->base, &req->hello->base};
	unsigned unknown[2];
	char why[256];

	for (int i = 0; i < 2; i++) {
		unknown[i] = parts[i]->n_unknown_fields;
		parts[i]->n_unknown_fields = 0;
	}
	size_t len = slim__request__get_packed_size(req);
	uint8_t *buf = malloc(len ? len : 1);
	FUZZ_CHECK(buf);
	FUZZ_CHECK(slim__request__pack(req, buf) == len);
	for (int i = 0; i < 2; i++)
		parts[i]->n_unknown_fields = unknown[i];
	Slim__Request *again = slim__request__unpack(NULL, len, buf);
	FUZZ_CHECK(again);
	FUZZ_CHECK(again->body_case == req->body_case);
	FUZZ_CHECK(slim_validate_request(again, why, sizeof(why)) == 0);
	slim__request__free_unpacked(again, NULL);
	free(buf);
}

/* The router's side: handle_packet up to dispatch. */
static void as_request(const uint8_t *data, size_t size)
{
	char why[256] = "";
	Slim__Request *req = slim__request__unpack(NULL, size, data);
	int e;

	if (!req)
		return;
	if (req->body_case == SLIM__REQUEST__BODY__NOT_SET) {
		slim__request__free_unpacked(req, NULL);
		return;
	}
	e = slim_validate_request(req, why, sizeof(why));
	if (e == 0) {
		check_valid_request(req);
		round_trip(req);
	} else {
		/* The reason goes into the error reply and the log. */
		FUZZ_CHECK(e > 0 && e < 4096);
		FUZZ_CHECK(why[0] != '\0' && strlen(why) < sizeof(why));
		FUZZ_CHECK(one_printable_line(why));
	}
	slim__request__free_unpacked(req, NULL);
}

static void check_valid_reply(const Slim__Reply *rep)
{
	if (rep->error != 0)
		return;
	switch (rep->body_case) {
	case SLIM__REPLY__BODY_HELLO:
		FUZZ_CHECK(slim_container_name_ok(rep->hello->container) && rep->hello->vip != 0);
		break;
	case SLIM__REPLY__BODY_POOL:
		/* libslim takes up to SLIM_POOL_MAX sockets per reply. */
		FUZZ_CHECK(rep->pool->count >= 1 && rep->pool->count <= SLIM_POOL_MAX);
		break;
	case SLIM__REPLY__BODY_STATUS:
		for (size_t i = 0; i < rep->status->n_routes; i++)
			FUZZ_CHECK(rep->status->routes[i]->prefix_len <= 32);
		break;
	case SLIM__REPLY__BODY_CONTAINER:
		FUZZ_CHECK(slim_container_name_ok(rep->container->name) &&
			   rep->container->netns_path && rep->container->netns_path[0] == '/');
		break;
	default:
		break;
	}
}

/* libslim's and slimctl's side: a reply to each kind of request. */
static void as_reply(const uint8_t *data, size_t size)
{
	static const Slim__Request__BodyCase asked[] = {
	    SLIM__REQUEST__BODY_HELLO,	       SLIM__REQUEST__BODY_CONNECT,
	    SLIM__REQUEST__BODY_LISTEN,	       SLIM__REQUEST__BODY_CONTAINER_ADD,
	    SLIM__REQUEST__BODY_CONTAINER_DEL, SLIM__REQUEST__BODY_STATUS,
	    SLIM__REQUEST__BODY_POOL,	       SLIM__REQUEST__BODY_CONTAINER_GET,
	};
	Slim__Reply *rep = slim__reply__unpack(NULL, size, data);
	char why[256];

	if (!rep)
		return;
	for (size_t i = 0; i < sizeof(asked) / sizeof(asked[0]); i++) {
		why[0] = '\0';
		int e = slim_validate_reply(rep, asked[i], why, sizeof(why));
		if (e == 0)
			check_valid_reply(rep);
		else
			FUZZ_CHECK(why[0] != '\0' && one_printable_line(why));
	}
	slim__reply__free_unpacked(rep, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	as_request(data, size);
	as_reply(data, size);
	return 0;
}
