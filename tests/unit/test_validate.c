/* Message validation (proto/validate.c): valid requests and replies pass,
 * each bad field is rejected with the right errno, and garbage bytes never
 * decode into something that crashes the validator. */
#include "check.h"
#include "wire.h"

#include <errno.h>

static char why[256];

static int vreq(const Slim__Request *r)
{
	why[0] = '\0';
	int e = slim_validate_request(r, why, sizeof(why));
	if (e && why[0] == '\0') {
		fprintf(stderr, "rejected without a reason\n");
		check_failures++;
	}
	return e;
}

static int vrep(const Slim__Reply *r, Slim__Request__BodyCase expected)
{
	why[0] = '\0';
	int e = slim_validate_reply(r, expected, why, sizeof(why));
	if (e && why[0] == '\0') {
		fprintf(stderr, "rejected without a reason\n");
		check_failures++;
	}
	return e;
}

static void requests(void)
{
	Slim__Request q = SLIM__REQUEST__INIT;
	Slim__HelloRequest hello = SLIM__HELLO_REQUEST__INIT;
	Slim__ConnectRequest conn = SLIM__CONNECT_REQUEST__INIT;
	Slim__ListenRequest lis = SLIM__LISTEN_REQUEST__INIT;
	Slim__ContainerAddRequest add = SLIM__CONTAINER_ADD_REQUEST__INIT;
	Slim__ContainerDelRequest del = SLIM__CONTAINER_DEL_REQUEST__INIT;
	Slim__ContainerGetRequest get = SLIM__CONTAINER_GET_REQUEST__INIT;
	Slim__StatusRequest st = SLIM__STATUS_REQUEST__INIT;

	/* No body. */
	CHECK_INT(vreq(&q), EPROTO);

	q.body_case = SLIM__REQUEST__BODY_HELLO;
	q.hello = &hello;
	hello.version = SLIM_PROTO_VERSION;
	CHECK_INT(vreq(&q), 0);
	hello.version = SLIM_PROTO_VERSION + 1;
	CHECK_INT(vreq(&q), EPROTO);
	hello.version = 0;
	CHECK_INT(vreq(&q), EPROTO);

	q.body_case = SLIM__REQUEST__BODY_CONNECT;
	q.connect = &conn;
	conn.vip = 0x0af40102;
	conn.port = 80;
	CHECK_INT(vreq(&q), 0);
	conn.port = 65535;
	CHECK_INT(vreq(&q), 0);
	conn.port = 1;
	CHECK_INT(vreq(&q), 0);
	conn.port = 0;
	CHECK_INT(vreq(&q), EINVAL);
	conn.port = 65536;
	CHECK_INT(vreq(&q), EINVAL);
	conn.port = 0xffffffffu;
	CHECK_INT(vreq(&q), EINVAL);
	conn.port = 80;
	conn.vip = 0;
	CHECK_INT(vreq(&q), EINVAL);

	q.body_case = SLIM__REQUEST__BODY_LISTEN;
	q.listen = &lis;
	lis.port = 8080;
	lis.backlog = 128;
	CHECK_INT(vreq(&q), 0);
	lis.backlog = -1; /* the router clamps the backlog, like listen(2) */
	CHECK_INT(vreq(&q), 0);
	lis.port = 0;
	CHECK_INT(vreq(&q), EINVAL);
	lis.port = 70000;
	CHECK_INT(vreq(&q), EINVAL);

	q.body_case = SLIM__REQUEST__BODY_CONTAINER_ADD;
	q.container_add = &add;
	add.name = "c1";
	add.vip = 0x0af40102;
	add.netns_path = "/run/netns/c1";
	CHECK_INT(vreq(&q), 0);
	const char *bad_names[] = {
	    "", "a b", "a/b", "c1\n", "x;rm", "\xc3\xa9",
	    /* 128 characters: one more than SLIM_CONTAINER_NAME_MAX */
	    "0123456789012345678901234567890123456789012345678901234567890123"
	    "0123456789012345678901234567890123456789012345678901234567890123"};
	for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
		add.name = (char *)bad_names[i];
		if (vreq(&q) != EINVAL) {
			fprintf(stderr, "container add accepted name '%s'\n", bad_names[i]);
			check_failures++;
		}
	}
	add.name = "012345678901234567890123456789012345678901234567890123456789012"; /* 63 */
	CHECK_INT(vreq(&q), 0);
	/* A container runtime's id (CNI_CONTAINERID): 64 hex digits. */
	add.name = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	CHECK_INT(vreq(&q), 0);
	add.name = "0123456789012345678901234567890123456789012345678901234567890123"
		   "012345678901234567890123456789012345678901234567890123456789012"; /* 127 */
	CHECK_INT(vreq(&q), 0);
	add.name = "c1";
	add.vip = 0;
	CHECK_INT(vreq(&q), EINVAL);
	add.vip = 0x0af40102;
	add.netns_path = "";
	CHECK_INT(vreq(&q), EINVAL);
	add.netns_path = "run/netns/c1";
	CHECK_INT(vreq(&q), EINVAL);

	q.body_case = SLIM__REQUEST__BODY_CONTAINER_DEL;
	q.container_del = &del;
	del.name = "c1";
	CHECK_INT(vreq(&q), 0);
	del.name = "";
	CHECK_INT(vreq(&q), EINVAL);
	del.name = "../c1";
	CHECK_INT(vreq(&q), EINVAL);

	q.body_case = SLIM__REQUEST__BODY_CONTAINER_GET;
	q.container_get = &get;
	get.name = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	CHECK_INT(vreq(&q), 0);
	get.name = "";
	CHECK_INT(vreq(&q), EINVAL);
	get.name = "a/b";
	CHECK_INT(vreq(&q), EINVAL);

	q.body_case = SLIM__REQUEST__BODY_STATUS;
	q.status = &st;
	CHECK_INT(vreq(&q), 0);
}

static void replies(void)
{
	Slim__Reply r = SLIM__REPLY__INIT;
	Slim__HelloReply hello = SLIM__HELLO_REPLY__INIT;
	Slim__ConnectReply conn = SLIM__CONNECT_REPLY__INIT;
	Slim__ListenReply lis = SLIM__LISTEN_REPLY__INIT;
	Slim__StatusReply st = SLIM__STATUS_REPLY__INIT;
	Slim__Route route = SLIM__ROUTE__INIT;
	Slim__Route *routes[] = {&route};

	route.subnet = 0x0af40100;
	route.prefix_len = 24;
	route.underlay_ip = 0xc0a84d01;
	route.port = 7771;

	/* Bare ok for container add/del; an error reply answers anything. */
	CHECK_INT(vrep(&r, SLIM__REQUEST__BODY_CONTAINER_ADD), 0);
	CHECK_INT(vrep(&r, SLIM__REQUEST__BODY_CONTAINER_DEL), 0);
	CHECK_INT(vrep(&r, SLIM__REQUEST__BODY_HELLO), EPROTO); /* ok without a body */
	r.error = EACCES;
	r.message = "not in a registered container";
	CHECK_INT(vrep(&r, SLIM__REQUEST__BODY_HELLO), 0);
	CHECK_INT(vrep(&r, SLIM__REQUEST__BODY_CONNECT), 0);
	r.error = -1;
	CHECK_INT(vrep(&r, SLIM__REQUEST__BODY_HELLO), EPROTO);
	r.error = 100000;
	CHECK_INT(vrep(&r, SLIM__REQUEST__BODY_HELLO), EPROTO);
	r.error = 0;
	r.message = NULL;

	r.body_case = SLIM__REPLY__BODY_HELLO;
	r.hello = &hello;
	hello.container = "c1";
	hello.vip = 0x0af40102;
	CHECK_INT(vrep(&r, SLIM__REQUEST__BODY_HELLO), 0);
	CHECK_INT(vrep(&r, SLIM__REQUEST__BODY_CONNECT), EPROTO); /* wrong body */
	CHECK_INT(vrep(&r, SLIM__REQUEST__BODY_CONTAINER_ADD), EPROTO);
	hello.vip = 0;
	CHECK_INT(vrep(&r, SLIM__REQUEST__BODY_HELLO), EPROTO);
	hello.vip = 0x0af40102;
	/* The container name is checked like the router checks it on add. */
	hello.container = "c 1";
	CHECK_INT(vrep(&r, SLIM__REQUEST__BODY_HELLO), EPROTO);
	hello.container = "";
	CHECK_INT(vrep(&r, SLIM__REQUEST__BODY_HELLO), EPROTO);
	hello.container = "c1";
	r.body_case = SLIM__REPLY__BODY_CONNECT;
	r.connect = &conn;
	conn.underlay_ip = 0xc0a84d02;
	conn.port = 7771;
	CHECK_INT(vrep(&r, SLIM__REQUEST__BODY_CONNECT), 0);
	conn.port = 0;
	CHECK_INT(vrep(&r, SLIM__REQUEST__BODY_CONNECT), EPROTO);
	conn.port = 7771;
	conn.underlay_ip = 0;
	CHECK_INT(vrep(&r, SLIM__REQUEST__BODY_CONNECT), EPROTO);

	r.body_case = SLIM__REPLY__BODY_LISTEN;
	r.listen = &lis;
	lis.vip = 0x0af40102;
	lis.port = 80;
	CHECK_INT(vrep(&r, SLIM__REQUEST__BODY_LISTEN), 0);
	lis.port = 0;
	CHECK_INT(vrep(&r, SLIM__REQUEST__BODY_LISTEN), EPROTO);
	lis.port = 80;
	lis.vip = 0;
	CHECK_INT(vrep(&r, SLIM__REQUEST__BODY_LISTEN), EPROTO);

	r.body_case = SLIM__REPLY__BODY_STATUS;
	r.status = &st;
	st.host = "h1";
	st.cgroup = "/sys/fs/cgroup/unified/slim-h1";
	st.pin_dir = "/sys/fs/bpf/slim-h1";
	st.n_routes = 1;
	st.routes = routes;
	CHECK_INT(vrep(&r, SLIM__REQUEST__BODY_STATUS), 0);
	route.prefix_len = 33;
	CHECK_INT(vrep(&r, SLIM__REQUEST__BODY_STATUS), EPROTO);
	route.prefix_len = 16; /* 10.244.1.0/16 has host bits set */
	CHECK_INT(vrep(&r, SLIM__REQUEST__BODY_STATUS), EPROTO);
	route.prefix_len = 24;
	route.port = 0;
	CHECK_INT(vrep(&r, SLIM__REQUEST__BODY_STATUS), EPROTO);
	route.port = 65536;
	CHECK_INT(vrep(&r, SLIM__REQUEST__BODY_STATUS), EPROTO);
	route.port = 7771;
	route.underlay_ip = 0;
	CHECK_INT(vrep(&r, SLIM__REQUEST__BODY_STATUS), EPROTO);
	route.underlay_ip = 0xc0a84d01;
	CHECK_INT(vrep(&r, SLIM__REQUEST__BODY_STATUS), 0);

	route.prefix_len = 40;
	CHECK_INT(vrep(&r, SLIM__REQUEST__BODY_STATUS), EPROTO);

	/* container_get: one container. */
	Slim__ContainerStatus cs = SLIM__CONTAINER_STATUS__INIT;
	r.body_case = SLIM__REPLY__BODY_CONTAINER;
	r.container = &cs;
	cs.name = "c1";
	cs.vip = 0x0af40102;
	cs.netns_path = "/run/netns/c1";
	CHECK_INT(vrep(&r, SLIM__REQUEST__BODY_CONTAINER_GET), 0);
	CHECK_INT(vrep(&r, SLIM__REQUEST__BODY_STATUS), EPROTO); /* wrong body */
	cs.name = "c/1";
	CHECK_INT(vrep(&r, SLIM__REQUEST__BODY_CONTAINER_GET), EPROTO);
	cs.name = "c1";
	cs.vip = 0;
	CHECK_INT(vrep(&r, SLIM__REQUEST__BODY_CONTAINER_GET), EPROTO);
	cs.vip = 0x0af40102;
	cs.netns_path = "run/netns/c1";
	CHECK_INT(vrep(&r, SLIM__REQUEST__BODY_CONTAINER_GET), EPROTO);
	r.body_case = SLIM__REPLY__BODY__NOT_SET;
	CHECK_INT(vrep(&r, SLIM__REQUEST__BODY_CONTAINER_GET), EPROTO); /* bare ok */
}

/* xorshift: a fixed sequence, so a failure reproduces. */
static uint32_t rnd(void)
{
	static uint32_t x = 2463534242u;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return x;
}

static void garbage(void)
{
	uint8_t buf[SLIM_WIRE_MAX];
	Slim__Request q = SLIM__REQUEST__INIT;
	Slim__ContainerAddRequest add = SLIM__CONTAINER_ADD_REQUEST__INIT;
	size_t len;

	/* A valid message round-trips... */
	add.name = "c1";
	add.vip = 0x0af40102;
	add.netns_path = "/run/netns/c1";
	q.body_case = SLIM__REQUEST__BODY_CONTAINER_ADD;
	q.container_add = &add;
	len = slim__request__pack(&q, buf);
	Slim__Request *d = slim__request__unpack(NULL, len, buf);
	REQUIRE(d);
	CHECK_INT(d->body_case, SLIM__REQUEST__BODY_CONTAINER_ADD);
	CHECK_STR(d->container_add->name, "c1");
	CHECK_INT(vreq(d), 0);
	slim__request__free_unpacked(d, NULL);

	/* ...and every truncation of it fails to decode. */
	for (size_t cut = 1; cut < len; cut++) {
		d = slim__request__unpack(NULL, cut, buf);
		if (d) {
			fprintf(stderr, "truncated request (%zu of %zu bytes) decoded\n", cut, len);
			check_failures++;
			slim__request__free_unpacked(d, NULL);
		}
	}
	/* Known-bad encodings: wrong wire type, length past the end, varint
	 * running off the end, a required field missing. */
	const uint8_t bad1[] = {0x22, 0x7f, 0x0a};
	const uint8_t bad2[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	const uint8_t bad3[] = {0x12, 0x02, 0x0d, 0x01}; /* connect with half a fixed32 */
	const uint8_t bad4[] = {0x12, 0x00};		 /* connect without its fields */
	const uint8_t *bads[] = {bad1, bad2, bad3, bad4};
	size_t lens[] = {sizeof(bad1), sizeof(bad2), sizeof(bad3), sizeof(bad4)};
	for (size_t i = 0; i < 4; i++) {
		d = slim__request__unpack(NULL, lens[i], bads[i]);
		if (d) {
			fprintf(stderr, "bad encoding %zu decoded\n", i);
			check_failures++;
			slim__request__free_unpacked(d, NULL);
		}
	}

	/* Random bytes and random mutations of a valid message: decoding may
	 * succeed by chance, but validation must then answer sanely. */
	for (int iter = 0; iter < 20000; iter++) {
		size_t n;
		if (iter % 2) {
			n = rnd() % 64;
			for (size_t i = 0; i < n; i++)
				buf[i] = (uint8_t)rnd();
		} else {
			n = slim__request__pack(&q, buf);
			for (int k = 0; k < 3; k++)
				buf[rnd() % n] = (uint8_t)rnd();
		}
		d = slim__request__unpack(NULL, n, buf);
		if (!d)
			continue;
		int e = slim_validate_request(d, why, sizeof(why));
		CHECK(e == 0 || e == EINVAL || e == EPROTO);
		slim__request__free_unpacked(d, NULL);

		Slim__Reply *rp = slim__reply__unpack(NULL, n, buf);
		if (rp) {
			e = slim_validate_reply(rp, SLIM__REQUEST__BODY_HELLO, why, sizeof(why));
			CHECK(e == 0 || e == EPROTO);
			slim__reply__free_unpacked(rp, NULL);
		}
	}
}

int main(void)
{
	requests();
	replies();
	garbage();
	CHECK_DONE();
}
