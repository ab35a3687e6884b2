/* Host records as the router reads them from etcd (router/host_record.c):
 * any process with write access to the cluster's etcd prefix can put any
 * bytes there. The input is KEY "\n" VALUE. A record that decodes must be a
 * well formed host (cluster_host_ok) that encodes and decodes back to
 * itself; one that does not must give one printable reason. */
#include "fuzz_common.h"

#include "host_record.h"

#define PREFIX "/slim/"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t klen = nl ? (size_t)(nl - data) : size;
	char *key = strndup((const char *)data, klen);
	char *value = nl ? strndup((const char *)nl + 1, size - klen - 1) : strdup("");
	struct cluster_host h, back;
	char why[256] = "";

	FUZZ_CHECK(key && value);
	int rc = host_record_decode(PREFIX, key, value, &h, why, sizeof(why));
	if (rc == 0) {
		FUZZ_CHECK(cluster_host_ok(&h, why, sizeof(why)) == 0);
		char *enc = host_record_encode(&h);
		FUZZ_CHECK(enc);
		FUZZ_CHECK(host_record_decode(PREFIX, key, enc, &back, why, sizeof(why)) == 0);
		FUZZ_CHECK(strcmp(back.name, h.name) == 0 && back.underlay_ip == h.underlay_ip &&
			   back.subnet == h.subnet && back.prefix_len == h.prefix_len &&
			   back.port == h.port);
		free(enc);
	} else if (rc < 0) {
		FUZZ_CHECK(why[0] != '\0' && one_printable_line(why));
	} else {
		FUZZ_CHECK(rc == 1);
	}
	free(key);
	free(value);
	return 0;
}
