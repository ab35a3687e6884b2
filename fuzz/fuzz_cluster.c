/* The cluster file parser (router/cluster.c over router/linefile.c), fed
 * through cluster_load exactly as the router reads --cluster: the input is
 * the file's bytes, read by path from a memory file. A file that loads
 * must describe a cluster that obeys every rule (each host well formed, no
 * duplicate name, no overlapping subnets, no shared underlay ip:port); a
 * file that does not (one with a NUL byte, say) must give one printable
 * "FILE:LINE: reason" line. No descriptor may be left open either way. */
#include "fuzz_common.h"

#include "cluster.h"

static void check_loaded(const struct cluster *c)
{
	struct cluster again = {0};
	char why[256];

	FUZZ_CHECK(c->n >= 1 && c->n <= CLUSTER_MAX_HOSTS && c->n <= c->cap);
	for (size_t i = 0; i < c->n; i++) {
		const struct cluster_host *h = &c->hosts[i];
		FUZZ_CHECK(cluster_host_ok(h, why, sizeof(why)) == 0);
		FUZZ_CHECK(i == 0 || h->line > c->hosts[i - 1].line);
		FUZZ_CHECK(cluster_find(c, h->name) == h);
		/* The same hosts, added again one by one, meet every rule. */
		FUZZ_CHECK(cluster_add(&again, h, why, sizeof(why)) == 0);
		/* ... and a second copy of any of them breaks one. */
		FUZZ_CHECK(cluster_add(&again, h, why, sizeof(why)) == -1);
		FUZZ_CHECK(one_printable_line(why));
	}
	FUZZ_CHECK(again.n == c->n);
	cluster_free(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mem_file mf;
	struct fd_window before;
	struct cluster c;
	char err[512] = "";

	mem_file_set(&mf, data, size);
	fd_window_take(&before, 64);
	if (cluster_load(mf.path, &c, err, sizeof(err)) == 0) {
		FUZZ_CHECK(err[0] == '\0');
		check_loaded(&c);
		/* A NUL byte is no text: whatever follows it on its line would
		 * be read as not there. Such a file must be refused. */
		FUZZ_CHECK(memchr(data, '\0', size) == NULL);
	} else {
		FUZZ_CHECK(strncmp(err, mf.path, strlen(mf.path)) == 0);
		FUZZ_CHECK(strlen(err) > strlen(mf.path) + 2);
		FUZZ_CHECK(one_printable_line(err));
	}
	cluster_free(&c);
	fd_window_check(&before);
	return 0;
}
