/* etcd's JSON gateway, both ways, without an etcd: base64; the bodies the
 * router sends (checked against what etcd 3.4 accepts: keys base64,
 * int64 as strings, range_end of a prefix); replies as etcd sends them
 * (taken from a real etcd 3.4.23) and replies that are nonsense, which
 * must be errors, never crashes; host records (good and bad). */
#include "check.h"
#include "etcd_client.h"
#include "host_record.h"

#include <stdlib.h>
#include <string.h>

static void base64(void)
{
	char out[64];
	unsigned char back[64];

	etcd_b64_encode((const unsigned char *)"/slim/", 6, out);
	CHECK_STR(out, "L3NsaW0v");
	etcd_b64_encode((const unsigned char *)"/slim0", 6, out);
	CHECK_STR(out, "L3NsaW0w");
	etcd_b64_encode((const unsigned char *)"ab", 2, out);
	CHECK_STR(out, "YWI=");
	etcd_b64_encode((const unsigned char *)"a", 1, out);
	CHECK_STR(out, "YQ==");
	CHECK_INT(etcd_b64_decode("L3NsaW0vaG9zdHMvYQ==", back, sizeof(back)), 13);
	CHECK_STR((char *)back, "/slim/hosts/a");
	CHECK_INT(etcd_b64_decode("YWI=", back, sizeof(back)), 2);
	CHECK_INT(etcd_b64_decode("", back, sizeof(back)), 0);
	CHECK_INT(etcd_b64_decode("YWI", back, sizeof(back)), -1);	/* length */
	CHECK_INT(etcd_b64_decode("Y=I=", back, sizeof(back)), -1);	/* padding inside */
	CHECK_INT(etcd_b64_decode("YW!=", back, sizeof(back)), -1);	/* alphabet */
	CHECK_INT(etcd_b64_decode("YQ==YQ==", back, sizeof(back)), -1); /* padding then more */
	CHECK_INT(etcd_b64_decode("L3NsaW0v", back, 5), -1);		/* no room */
}

static void bodies(void)
{
	char *s;

	s = etcd_req_grant(5);
	CHECK_STR(s, "{\"TTL\":\"5\"}");
	free(s);
	s = etcd_req_keepalive(7587899381795909893LL);
	CHECK_STR(s, "{\"ID\":\"7587899381795909893\"}");
	free(s);
	s = etcd_req_range_prefix("/slim/");
	CHECK_STR(s, "{\"key\":\"L3NsaW0v\",\"range_end\":\"L3NsaW0w\"}");
	free(s);
	s = etcd_req_watch_prefix("/slim/", 12);
	CHECK_STR(s, "{\"create_request\":{\"key\":\"L3NsaW0v\",\"range_end\":\"L3NsaW0w\","
		     "\"start_revision\":\"12\",\"prev_kv\":true}}");
	free(s);
	s = etcd_req_claim("/slim/hosts/a", "x", 9, 0);
	CHECK_STR(s,
		  "{\"compare\":[{\"key\":\"L3NsaW0vaG9zdHMvYQ==\",\"target\":\"MOD\",\"result\":"
		  "\"EQUAL\",\"mod_revision\":\"0\"}],\"success\":[{\"request_put\":{\"key\":"
		  "\"L3NsaW0vaG9zdHMvYQ==\",\"value\":\"eA==\",\"lease\":\"9\"}}],\"failure\":[{"
		  "\"request_range\":{\"key\":\"L3NsaW0vaG9zdHMvYQ==\"}}]}");
	free(s);
}

#define HDR                                                                                        \
	"\"header\":{\"cluster_id\":\"1\",\"member_id\":\"2\",\"revision\":\"7\",\"raft_term\":"   \
	"\"2\"}"

static void replies(void)
{
	int64_t lease, ttl, rev;
	struct etcd_kv *kvs, cur;
	struct etcd_event *ev;
	enum etcd_watch_kind kind;
	size_t n, skipped;
	char why[256];
	bool ok;

	CHECK_INT(etcd_parse_grant("{" HDR ",\"ID\":\"7587899381795909893\",\"TTL\":\"3\"}", &lease,
				   &ttl, why, sizeof(why)),
		  0);
	CHECK(lease == 7587899381795909893LL);
	CHECK_INT(ttl, 3);
	CHECK_INT(etcd_parse_grant("{" HDR ",\"ID\":\"x\",\"TTL\":\"3\"}", &lease, &ttl, why,
				   sizeof(why)),
		  -1);
	CHECK_STR(why, "etcd sent a malformed lease grant reply");
	CHECK_INT(etcd_parse_grant("{\"error\":\"etcdserver: too many requests\",\"code\":14,"
				   "\"message\":\"etcdserver: too many requests\"}",
				   &lease, &ttl, why, sizeof(why)),
		  -1);
	CHECK_STR(why, "etcd: etcdserver: too many requests");
	CHECK_INT(etcd_parse_grant("<html>", &lease, &ttl, why, sizeof(why)), -1);
	CHECK_INT(etcd_parse_grant("[1,2]", &lease, &ttl, why, sizeof(why)), -1);
	CHECK_INT(
	    etcd_parse_grant("{\"a\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}",
			     &lease, &ttl, why, sizeof(why)),
	    -1);

	/* Keepalive: alive, then expired (no TTL). */
	CHECK_INT(etcd_parse_keepalive("{\"result\":{" HDR ",\"ID\":\"5\",\"TTL\":\"3\"}}", &ttl,
				       why, sizeof(why)),
		  0);
	CHECK_INT(ttl, 3);
	CHECK_INT(
	    etcd_parse_keepalive("{\"result\":{" HDR ",\"ID\":\"5\"}}", &ttl, why, sizeof(why)), 0);
	CHECK_INT(ttl, 0);
	CHECK_INT(etcd_parse_keepalive("{\"result\":3}", &ttl, why, sizeof(why)), -1);

	/* Range: one good kv, one too long, one missing value (empty). */
	static char body[8192];
	char longkey[1200];
	memset(longkey, 'Q', sizeof(longkey) - 1);
	longkey[sizeof(longkey) - 1] = '\0';
	snprintf(body, sizeof(body),
		 "{" HDR ",\"kvs\":[{\"key\":\"L3NsaW0vaG9zdHMvYQ==\",\"create_revision\":\"2\","
		 "\"mod_revision\":\"3\",\"version\":\"1\",\"value\":\"eA==\",\"lease\":\"9\"},"
		 "{\"key\":\"%s\",\"value\":\"eA==\"},{\"key\":\"YQ==\"}],\"count\":\"3\"}",
		 longkey);
	CHECK_INT(etcd_parse_range(body, &kvs, &n, &skipped, &rev, why, sizeof(why)), 0);
	CHECK_INT(n, 2);
	CHECK_INT(skipped, 1);
	CHECK_INT(rev, 7);
	CHECK_STR(kvs[0].key, "/slim/hosts/a");
	CHECK_STR(kvs[0].value, "x");
	CHECK_INT(kvs[0].create_revision, 2);
	CHECK_INT(kvs[0].mod_revision, 3);
	CHECK_INT(kvs[0].lease, 9);
	CHECK_STR(kvs[1].value, "");
	free(kvs);
	/* No keys: etcd leaves kvs out. */
	CHECK_INT(etcd_parse_range("{" HDR "}", &kvs, &n, &skipped, &rev, why, sizeof(why)), 0);
	CHECK_INT(n, 0);
	CHECK_INT(etcd_parse_range("{\"kvs\":[]}", &kvs, &n, &skipped, &rev, why, sizeof(why)),
		  -1); /* no header */
	CHECK_INT(etcd_parse_range("{" HDR ",\"kvs\":[{\"key\":7}]}", &kvs, &n, &skipped, &rev, why,
				   sizeof(why)),
		  -1);
	CHECK_INT(etcd_parse_range("{" HDR ",\"kvs\":[{\"key\":\"YQ\"}]}", &kvs, &n, &skipped, &rev,
				   why, sizeof(why)),
		  0); /* undecodable base64: skipped */
	CHECK_INT(skipped, 1);
	free(kvs);
	/* A value with a NUL in it is not text: skipped. */
	CHECK_INT(etcd_parse_range("{" HDR ",\"kvs\":[{\"key\":\"YQ==\",\"value\":\"AA==\"}]}",
				   &kvs, &n, &skipped, &rev, why, sizeof(why)),
		  0);
	CHECK_INT(n, 0);
	free(kvs);

	/* Claim: done; refused with the current kv. */
	CHECK_INT(etcd_parse_claim("{" HDR ",\"succeeded\":true,\"responses\":[{\"response_put\":{"
				   "\"header\":{\"revision\":\"7\"}}}]}",
				   &ok, &rev, &cur, why, sizeof(why)),
		  0);
	CHECK(ok);
	CHECK_INT(etcd_parse_claim(
		      "{" HDR ",\"responses\":[{\"response_range\":{\"header\":{"
		      "\"revision\":\"7\"},\"kvs\":[{\"key\":\"YQ==\",\"create_revision\":"
		      "\"2\",\"mod_revision\":\"6\",\"value\":\"eA==\"}],\"count\":\"1\"}}]}",
		      &ok, &rev, &cur, why, sizeof(why)),
		  0);
	CHECK(!ok);
	CHECK_INT(cur.mod_revision, 6);
	CHECK_INT(etcd_parse_claim("{" HDR ",\"responses\":7}", &ok, &rev, &cur, why, sizeof(why)),
		  -1);

	/* Watch lines. */
	CHECK_INT(etcd_parse_watch("{\"result\":{" HDR ",\"created\":true}}", &kind, &ev, &n, &rev,
				   why, sizeof(why)),
		  0);
	CHECK_INT(kind, ETCD_WATCH_CREATED);
	CHECK_INT(
	    etcd_parse_watch(
		"{\"result\":{" HDR ",\"events\":[{\"kv\":{\"key\":\"L3NsaW0vaG9zdHMvYg==\","
		"\"create_revision\":\"3\",\"mod_revision\":\"3\",\"version\":\"1\",\"value\":"
		"\"eA==\"}},{\"type\":\"DELETE\",\"kv\":{\"key\":\"L3NsaW0vaG9zdHMvYg==\","
		"\"mod_revision\":\"4\"},\"prev_kv\":{\"key\":\"L3NsaW0vaG9zdHMvYg==\"}},"
		"{\"type\":\"NEWKIND\",\"kv\":{}}]}}",
		&kind, &ev, &n, &rev, why, sizeof(why)),
	    0);
	CHECK_INT(kind, ETCD_WATCH_EVENTS);
	CHECK_INT(n, 2);
	CHECK(!ev[0].deleted);
	CHECK_STR(ev[0].kv.key, "/slim/hosts/b");
	CHECK(ev[1].deleted);
	CHECK_INT(ev[1].kv.mod_revision, 4);
	free(ev);
	CHECK_INT(etcd_parse_watch("{\"result\":{" HDR ",\"canceled\":true,\"compact_revision\":"
				   "\"5\"}}",
				   &kind, &ev, &n, &rev, why, sizeof(why)),
		  0);
	CHECK_INT(kind, ETCD_WATCH_CANCELED);
	CHECK_INT(etcd_parse_watch("{\"error\":{\"grpc_code\":14,\"http_code\":503,\"message\":"
				   "\"transport is closing\"}}",
				   &kind, &ev, &n, &rev, why, sizeof(why)),
		  -1);
	CHECK_STR(why, "etcd: transport is closing");
	CHECK_INT(etcd_parse_watch("{\"result\":{\"events\":[7]}}", &kind, &ev, &n, &rev, why,
				   sizeof(why)),
		  -1);
	CHECK_INT(etcd_parse_watch("{\"result\":{\"events\":[{\"kv\":5}]}}", &kind, &ev, &n, &rev,
				   why, sizeof(why)),
		  -1);
	CHECK_INT(etcd_parse_watch("", &kind, &ev, &n, &rev, why, sizeof(why)), -1);
}

static void records(void)
{
	struct cluster_host h = {.name = "h1",
				 .underlay_ip = 0xc0a84d01,
				 .subnet = 0x0af40100,
				 .prefix_len = 24,
				 .port = 7771};
	struct cluster_host back;
	char key[128], why[256];
	char *v = host_record_encode(&h);

	CHECK_STR(v, "{\"underlay\":\"192.168.77.1\",\"subnet\":\"10.244.1.0/24\",\"port\":7771}");
	CHECK_INT(host_record_key("/slim/", "h1", key, sizeof(key)), 0);
	CHECK_STR(key, "/slim/hosts/h1");
	CHECK_INT(host_record_decode("/slim/", key, v, &back, why, sizeof(why)), 0);
	CHECK_STR(back.name, "h1");
	CHECK_INT(back.underlay_ip, h.underlay_ip);
	CHECK_INT(back.subnet, h.subnet);
	CHECK_INT(back.prefix_len, 24);
	CHECK_INT(back.port, 7771);
	free(v);

#define BADREC(key, value, want)                                                                   \
	do {                                                                                       \
		CHECK_INT(host_record_decode("/slim/", key, value, &back, why, sizeof(why)), -1);  \
		CHECK_STR(why, want);                                                              \
	} while (0)
	CHECK_INT(host_record_decode("/slim/", "/slim/other/x", "{}", &back, why, sizeof(why)), 1);
	CHECK_INT(host_record_decode("/slim/", "/elsewhere/hosts/x", "{}", &back, why, sizeof(why)),
		  1);
	BADREC("/slim/hosts/a b", "{}", "bad host name in the key");
	BADREC("/slim/hosts/", "{}", "bad host name in the key");
	BADREC("/slim/hosts/h", "nonsense", "value is not a JSON object");
	BADREC("/slim/hosts/h", "[]", "value is not a JSON object");
	BADREC("/slim/hosts/h", "{\"subnet\":\"10.244.1.0/24\",\"port\":1}",
	       "bad or missing \"underlay\" address");
	BADREC("/slim/hosts/h", "{\"underlay\":\"1.2.3\",\"subnet\":\"10.244.1.0/24\",\"port\":1}",
	       "bad or missing \"underlay\" address");
	BADREC("/slim/hosts/h",
	       "{\"underlay\":\"0.0.0.0\",\"subnet\":\"10.244.1.0/24\",\"port\":1}",
	       "bad underlay address");
	BADREC("/slim/hosts/h",
	       "{\"underlay\":\"1.2.3.4\",\"subnet\":\"10.244.1.1/24\",\"port\":1}",
	       "bad or missing \"subnet\" (A.B.C.D/N, no host bits)");
	BADREC("/slim/hosts/h", "{\"underlay\":\"1.2.3.4\",\"subnet\":\"0.0.0.0/0\",\"port\":1}",
	       "virtual subnet covers every address");
	BADREC("/slim/hosts/h", "{\"underlay\":\"1.2.3.4\",\"subnet\":\"10.0.0.0/8\",\"port\":0}",
	       "bad or missing \"port\" (1..65535)");
	BADREC("/slim/hosts/h",
	       "{\"underlay\":\"1.2.3.4\",\"subnet\":\"10.0.0.0/8\",\"port\":\"80\"}",
	       "bad or missing \"port\" (1..65535)");
	BADREC("/slim/hosts/h",
	       "{\"underlay\":\"1.2.3.4\",\"subnet\":\"10.0.0.0/8\",\"port\":70000}",
	       "bad or missing \"port\" (1..65535)");
}

int main(void)
{
	base64();
	bodies();
	replies();
	records();
	CHECK_DONE();
}
