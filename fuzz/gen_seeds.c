/* Writes the seed inputs that are encoded protobuf messages: DIR/message/
 * (requests and replies as they travel, a few invalid ones) and DIR/wire/
 * (the same packets behind fuzz_wire's four knob bytes). Usage:
 *   fuzz_seeds DIR    (DIR is fuzz/corpus of the source tree) */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"

static const char *dir;

/* Writes head (hlen bytes) then body (blen bytes) to DIR/sub/name. */
static void put(const char *sub, const char *name, const void *head, size_t hlen, const void *body,
		size_t blen)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s/%s", dir, sub, name);
	f = fopen(path, "wb");
	if (!f || fwrite(head, 1, hlen, f) != hlen || fwrite(body, 1, blen, f) != blen ||
	    fclose(f) != 0) {
		fprintf(stderr, "fuzz_seeds: cannot write %s: %s\n", path, strerror(errno));
		exit(1);
	}
}

static size_t pack(const ProtobufCMessage *m, uint8_t *buf)
{
	size_t n = protobuf_c_message_get_packed_size(m);

	if (n > SLIM_WIRE_MAX_REPLY)
		abort();
	return protobuf_c_message_pack(m, buf);
}

static void request(const char *name, Slim__Request *req)
{
	static uint8_t buf[SLIM_WIRE_MAX_REPLY];
	size_t n = pack(&req->base, buf);

	put("message", name, "", 0, buf, n);
}

static void reply(const char *name, Slim__Reply *rep)
{
	static uint8_t buf[SLIM_WIRE_MAX_REPLY];
	size_t n = pack(&rep->base, buf);

	put("message", name, "", 0, buf, n);
}

/* One fuzz_wire input: knobs (fd count, flags, maxfds, byte 3), packet. */
static void wire(const char *name, uint8_t nfds, uint8_t flags, uint8_t maxfds, uint8_t b3,
		 const ProtobufCMessage *m, size_t extra)
{
	static uint8_t buf[SLIM_WIRE_MAX_REPLY];
	uint8_t head[4] = {nfds, flags, maxfds, b3};
	size_t n = m ? pack(m, buf) : 0;

	memset(buf + n, 'x', extra);
	put("wire", name, head, sizeof(head), buf, n + extra);
}

static uint32_t ip(const char *s)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		abort();
	return ntohl(a.s_addr);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: fuzz_seeds DIR (the source tree's fuzz/corpus)\n");
		return 2;
	}
	dir = argv[1];

	Slim__Request req;
	Slim__HelloRequest hello;
	Slim__ConnectRequest conn;
	Slim__ListenRequest lis;
	Slim__PoolRequest pool;
	Slim__ContainerAddRequest add;
	Slim__ContainerDelRequest del;
	Slim__StatusRequest st;

#define REQ(body_case_, field, msg, init)                                                          \
	do {                                                                                       \
		slim__request__init(&req);                                                         \
		init(&msg);                                                                        \
		req.body_case = body_case_;                                                        \
		req.field = &msg;                                                                  \
	} while (0)

	REQ(SLIM__REQUEST__BODY_HELLO, hello, hello, slim__hello_request__init);
	hello.version = SLIM_PROTO_VERSION;
	request("req-hello", &req);
	hello.version = 2;
	request("req-hello-old-version", &req);

	REQ(SLIM__REQUEST__BODY_CONNECT, connect, conn, slim__connect_request__init);
	conn.vip = ip("10.244.2.7");
	conn.port = 5432;
	request("req-connect", &req);
	conn.port = 70000;
	request("req-connect-bad-port", &req);

	REQ(SLIM__REQUEST__BODY_LISTEN, listen, lis, slim__listen_request__init);
	lis.port = 80;
	lis.backlog = -1;
	lis.has_bound_ip = 1;
	lis.bound_ip = ip("10.244.1.2");
	request("req-listen", &req);

	REQ(SLIM__REQUEST__BODY_POOL, pool, pool, slim__pool_request__init);
	pool.count = 16;
	pool.has_urgent = 1;
	pool.urgent = 1;
	request("req-pool", &req);
	pool.count = SLIM_POOL_MAX + 1;
	request("req-pool-too-many", &req);

	REQ(SLIM__REQUEST__BODY_CONTAINER_ADD, container_add, add,
	    slim__container_add_request__init);
	add.name = "web-1";
	add.vip = ip("10.244.1.2");
	add.netns_path = "/run/netns/web-1";
	request("req-container-add", &req);
	add.name = "bad name";
	add.netns_path = "relative/path";
	request("req-container-add-bad", &req);

	REQ(SLIM__REQUEST__BODY_CONTAINER_DEL, container_del, del,
	    slim__container_del_request__init);
	del.name = "web-1";
	request("req-container-del", &req);

	REQ(SLIM__REQUEST__BODY_STATUS, status, st, slim__status_request__init);
	request("req-status", &req);

	slim__request__init(&req);
	request("req-empty", &req);

	/* Replies, as libslim and slimctl receive them. */
	Slim__Reply rep;
	Slim__HelloReply hrep;
	Slim__ConnectReply crep;
	Slim__PoolReply prep;
	Slim__StatusReply srep;
	Slim__ContainerStatus cs, *csp = &cs;
	Slim__Route r[2], *rp[2] = {&r[0], &r[1]};

#define REP(body_case_, field, msg, init)                                                          \
	do {                                                                                       \
		slim__reply__init(&rep);                                                           \
		init(&msg);                                                                        \
		rep.body_case = body_case_;                                                        \
		rep.field = &msg;                                                                  \
	} while (0)

	REP(SLIM__REPLY__BODY_HELLO, hello, hrep, slim__hello_reply__init);
	hrep.container = "web-1";
	hrep.vip = ip("10.244.1.2");
	reply("rep-hello", &rep);

	REP(SLIM__REPLY__BODY_CONNECT, connect, crep, slim__connect_reply__init);
	crep.underlay_ip = ip("192.168.77.2");
	crep.port = 7771;
	reply("rep-connect", &rep);

	REP(SLIM__REPLY__BODY_POOL, pool, prep, slim__pool_reply__init);
	prep.count = 16;
	prep.epoch = 3;
	reply("rep-pool", &rep);

	REP(SLIM__REPLY__BODY_STATUS, status, srep, slim__status_reply__init);
	srep.host = "h1";
	srep.underlay_ip = ip("192.168.77.1");
	srep.subnet = ip("10.244.1.0");
	srep.prefix_len = 24;
	srep.port = 7771;
	srep.cgroup = "/sys/fs/cgroup/unified/slim";
	srep.pin_dir = "/sys/fs/bpf/slim";
	slim__container_status__init(&cs);
	cs.name = "web-1";
	cs.vip = ip("10.244.1.2");
	cs.netns_path = "/run/netns/web-1";
	cs.listeners = 1;
	srep.n_containers = 1;
	srep.containers = &csp;
	for (int i = 0; i < 2; i++) {
		slim__route__init(&r[i]);
		r[i].subnet = ip(i ? "10.244.2.0" : "10.244.1.0");
		r[i].prefix_len = 24;
		r[i].underlay_ip = ip(i ? "192.168.77.2" : "192.168.77.1");
		r[i].port = 7771;
		r[i].host = i ? "h2" : "h1";
		r[i].has_gone = i;
		r[i].gone = i;
	}
	srep.n_routes = 2;
	srep.routes = rp;
	srep.membership = "file /etc/slim/cluster";
	srep.has_n_hosts = srep.has_n_gone = 1;
	srep.n_hosts = 1;
	srep.n_gone = 1;
	reply("rep-status", &rep);

	slim__reply__init(&rep);
	rep.error = 13;
	rep.message = "not in a registered container";
	reply("rep-error", &rep);

	/* fuzz_wire: knobs 0x01 two control messages, 0x04 libslim, 0x08
	 * short fds ok, 0x10 fd limit, 0x20 sockets, 0x40 small buffer,
	 * 0x80 nothing sent. */
	REQ(SLIM__REQUEST__BODY_CONNECT, connect, conn, slim__connect_request__init);
	conn.vip = ip("10.244.2.7");
	conn.port = 5432;
	wire("router-request", 0, 0x00, 0, 0, &req.base, 0);
	wire("router-request-1fd", 1, 0x00, 0, 0, &req.base, 0);
	wire("router-request-64fds-2cmsg", 64, 0x21, 0, 0, &req.base, 0);
	wire("router-request-65fds", 65, 0x00, 0, 0, &req.base, 0);
	wire("router-oversized", 0, 0x00, 0, 0, &req.base, SLIM_WIRE_MAX);
	wire("router-small-buffer", 0, 0x40, 0, 4, &req.base, 0);
	wire("router-idle", 0, 0x80, 0, 0, NULL, 0);
	wire("router-peer-closed", 0, 0x80, 0, 1, NULL, 0);
	rep.body_case = SLIM__REPLY__BODY_POOL;
	rep.error = 0;
	rep.message = NULL;
	rep.pool = &prep;
	wire("libslim-pool-16", 16, 0x0c, 64, 0, &rep.base, 0);
	wire("libslim-pool-fd-limit", 16, 0x1c, 64, 3, &rep.base, 0);
	wire("libslim-pool-too-many", 16, 0x04, 8, 0, &rep.base, 0);
	rep.body_case = SLIM__REPLY__BODY_HELLO;
	rep.hello = &hrep;
	wire("libslim-hello-1fd", 1, 0x04, 64, 0, &rep.base, 0);
	return 0;
}
