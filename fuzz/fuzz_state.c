/* The state file parser (router/state.c over router/linefile.c), fed
 * through state_load exactly as the router reads --state at start-up: the
 * input is the file's bytes, read by path from a memory file. Every entry
 * of a file that loads must be well formed (name, address, a netns path
 * state_save can write back), and what the registry accepts of them must
 * survive a state_save/state_load round trip unchanged; no file with a NUL
 * byte loads. A file that does not load must give one printable
 * "FILE:LINE: reason" line. No descriptor may be left open either way. */
#include "fuzz_common.h"

#include <limits.h>
#include <sys/stat.h>

#include "containers.h"
#include "state.h"
#include "wire.h"

/* A private directory for state_save (it writes PATH.tmp and renames). */
static char save_dir[PATH_MAX];

static void remove_save_dir(void)
{
	char p[PATH_MAX + 32];

	snprintf(p, sizeof(p), "%s/state", save_dir);
	unlink(p);
	rmdir(save_dir);
}

static const char *save_path(void)
{
	static char p[PATH_MAX + 32];

	if (save_dir[0] == '\0') {
		const char *t = getenv("TMPDIR");
		snprintf(save_dir, sizeof(save_dir), "%s/slim-fuzz-state.XXXXXX", t ? t : "/tmp");
		if (!mkdtemp(save_dir)) {
			perror("mkdtemp");
			abort();
		}
		atexit(remove_save_dir);
		snprintf(p, sizeof(p), "%s/state", save_dir);
	}
	return p;
}

/* Saves what a registry accepts of e[0..n) and loads it back. */
static void round_trip(const struct state_entry *e, size_t n)
{
	static struct registry reg;
	static struct state_entry back[REG_MAX];
	char why[256], err[512];
	size_t nb;

	reg_init(&reg, 0, 0);
	for (size_t i = 0; i < n; i++)
		(void)reg_add(&reg, e[i].name, e[i].vip, e[i].netns, 1, (ino_t)i + 1, e[i].id, why,
			      sizeof(why));
	FUZZ_CHECK(state_save(save_path(), &reg, err, sizeof(err)) == 0);
	FUZZ_CHECK(state_load(save_path(), back, REG_MAX, &nb, err, sizeof(err)) == 0);
	FUZZ_CHECK(nb == reg.n);
	for (size_t i = 0; i < nb; i++) {
		FUZZ_CHECK(strcmp(back[i].name, reg.c[i].name) == 0);
		FUZZ_CHECK(back[i].vip == reg.c[i].vip);
		FUZZ_CHECK(strcmp(back[i].netns, reg.c[i].netns) == 0);
		FUZZ_CHECK(back[i].id == reg.c[i].id && back[i].id != 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mem_file mf;
	static struct state_entry e[REG_MAX];
	struct fd_window before;
	char err[512] = "";
	size_t n = 99999;

	mem_file_set(&mf, data, size);
	fd_window_take(&before, 64);
	if (state_load(mf.path, e, REG_MAX, &n, err, sizeof(err)) == 0) {
		FUZZ_CHECK(err[0] == '\0' && n <= REG_MAX);
		/* A NUL byte is no text: whatever follows it on its line would
		 * be read as not there. Such a file must be refused. */
		FUZZ_CHECK(memchr(data, '\0', size) == NULL);
		for (size_t i = 0; i < n; i++) {
			FUZZ_CHECK(slim_container_name_ok(e[i].name));
			FUZZ_CHECK(e[i].vip != 0);
			FUZZ_CHECK(state_netns_ok(e[i].netns));
			FUZZ_CHECK(i == 0 || e[i].line > e[i - 1].line);
		}
		round_trip(e, n);
	} else {
		FUZZ_CHECK(n == 0);
		FUZZ_CHECK(strncmp(err, mf.path, strlen(mf.path)) == 0);
		FUZZ_CHECK(strlen(err) > strlen(mf.path) + 2);
		FUZZ_CHECK(one_printable_line(err));
	}
	fd_window_check(&before);
	return 0;
}
