/* Host records: cluster_host <-> the JSON value kept in etcd. */
#include "host_record.h"

#include <arpa/inet.h>
#include <json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HOSTS_DIR "hosts/"

int host_record_key(const char *prefix, const char *name, char *out, size_t outlen)
{
	int n = snprintf(out, outlen, "%s" HOSTS_DIR "%s", prefix, name);

	return n > 0 && (size_t)n < outlen ? 0 : -1;
}

char *host_record_encode(const struct cluster_host *h)
{
	char ip[INET_ADDRSTRLEN], sub[INET_ADDRSTRLEN], buf[160];
	struct in_addr a = {.s_addr = htonl(h->underlay_ip)}, s = {.s_addr = htonl(h->subnet)};

	inet_ntop(AF_INET, &a, ip, sizeof(ip));
	inet_ntop(AF_INET, &s, sub, sizeof(sub));
	snprintf(buf, sizeof(buf), "{\"underlay\":\"%s\",\"subnet\":\"%s/%u\",\"port\":%u}", ip,
		 sub, h->prefix_len, h->port);
	return strdup(buf);
}

/* A string member of o, or NULL. */
static const char *str(json_object *o, const char *k)
{
	json_object *v = NULL;

	if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

int host_record_decode(const char *prefix, const char *key, const char *value,
		       struct cluster_host *h, char *why, size_t whylen)
{
	size_t pl = strlen(prefix), dl = strlen(HOSTS_DIR);
	struct json_tokener *t;
	json_object *o, *port = NULL;
	const char *u, *s;
	struct in_addr a;
	int rc = -1;

	if (strncmp(key, prefix, pl) != 0 || strncmp(key + pl, HOSTS_DIR, dl) != 0)
		return 1;
	memset(h, 0, sizeof(*h));
	if (!slim_name_ok(key + pl + dl)) {
		snprintf(why, whylen, "bad host name in the key");
		return -1;
	}
	snprintf(h->name, sizeof(h->name), "%s", key + pl + dl);
	t = json_tokener_new_ex(4);
	if (!t) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	o = json_tokener_parse_ex(t, value, (int)strlen(value));
	if (!o || json_tokener_get_error(t) != json_tokener_success ||
	    !json_object_is_type(o, json_type_object)) {
		snprintf(why, whylen, "value is not a JSON object");
		goto out;
	}
	u = str(o, "underlay");
	s = str(o, "subnet");
	if (!u || inet_pton(AF_INET, u, &a) != 1) {
		snprintf(why, whylen, "bad or missing \"underlay\" address");
		goto out;
	}
	h->underlay_ip = ntohl(a.s_addr);
	if (!s || slim_parse_cidr(s, &h->subnet, &h->prefix_len) != 0) {
		snprintf(why, whylen, "bad or missing \"subnet\" (A.B.C.D/N, no host bits)");
		goto out;
	}
	if (!json_object_object_get_ex(o, "port", &port) ||
	    !json_object_is_type(port, json_type_int) || json_object_get_int64(port) < 1 ||
	    json_object_get_int64(port) > 65535) {
		snprintf(why, whylen, "bad or missing \"port\" (1..65535)");
		goto out;
	}
	h->port = (uint16_t)json_object_get_int64(port);
	rc = cluster_host_ok(h, why, whylen);
out:
	json_object_put(o);
	json_tokener_free(t);
	return rc;
}
