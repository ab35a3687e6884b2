/* Loader of the same-host sockmap redirect: wraps redirect.skel.h. */
#include "redirect.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "redirect.skel.h"

struct slim_redirect {
	struct slim_redirect_skel *skel;
};

static const char *hint(int e)
{
	if (e == EPERM)
		return geteuid() ? "run as root" : "needs CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON";
	if (e == EBADF || e == ENOTDIR)
		return "pass an fd of a cgroup v2 directory";
	return "see the libbpf messages above";
}

struct slim_redirect *slim_redirect_start(int cgroup_fd, unsigned reserved_port, char *err,
					  size_t errlen)
{
	struct slim_redirect *rd;
	struct bpf_link *link;
	int e;

	if (reserved_port == 0 || reserved_port > 65535) {
		snprintf(err, errlen, "cannot start the redirect: %s (reserved port %u)",
			 strerror(EINVAL), reserved_port);
		return NULL;
	}
	rd = calloc(1, sizeof(*rd));
	if (!rd) {
		snprintf(err, errlen, "cannot start the redirect: %s", strerror(errno));
		return NULL;
	}
	rd->skel = slim_redirect_skel__open();
	if (!rd->skel) {
		e = errno;
		snprintf(err, errlen, "cannot open the redirect BPF object: %s (%s)", strerror(e),
			 hint(e));
		goto fail;
	}
	rd->skel->rodata->reserved_port = (__u16)reserved_port;
	e = slim_redirect_skel__load(rd->skel);
	if (e) {
		e = e < 0 ? -e : EINVAL;
		snprintf(err, errlen, "cannot load the redirect BPF programs: %s (%s)", strerror(e),
			 hint(e));
		goto fail;
	}
	/* The sk_msg program first: a socket takes the map's programs when it
	 * enters the map, so one inserted before this would never redirect. */
	if (bpf_prog_attach(bpf_program__fd(rd->skel->progs.slim_redirect_msg),
			    bpf_map__fd(rd->skel->maps.socks), BPF_SK_MSG_VERDICT, 0)) {
		e = errno;
		snprintf(err, errlen, "cannot attach the redirect sk_msg program: %s (%s)",
			 strerror(e), hint(e));
		goto fail;
	}
	/* A link of its own: the cgroup keeps every other program attached to
	 * it (links always have BPF_F_ALLOW_MULTI semantics). */
	link = bpf_program__attach_cgroup(rd->skel->progs.slim_redirect_sockops, cgroup_fd);
	if (!link) {
		e = errno;
		snprintf(err, errlen,
			 "cannot attach the redirect sockops program to the cgroup: %s (%s)",
			 strerror(e), hint(e));
		goto fail;
	}
	rd->skel->links.slim_redirect_sockops = link;
	return rd;
fail:
	slim_redirect_destroy(rd);
	return NULL;
}

int slim_redirect_stats(const struct slim_redirect *rd, struct slim_rd_stats *out)
{
	struct slim_rd_stats *per;
	__u32 zero = 0;
	int ncpu, i;

	if (!rd || !rd->skel || !out) {
		errno = EINVAL;
		return -1;
	}
	ncpu = libbpf_num_possible_cpus();
	if (ncpu <= 0) {
		errno = ncpu < 0 ? -ncpu : EINVAL;
		return -1;
	}
	per = calloc((size_t)ncpu, sizeof(*per));
	if (!per)
		return -1;
	if (bpf_map_lookup_elem(bpf_map__fd(rd->skel->maps.rd_stats), &zero, per)) {
		int e = errno;
		free(per);
		errno = e;
		return -1;
	}
	memset(out, 0, sizeof(*out));
	for (i = 0; i < ncpu; i++) {
		out->inserted += per[i].inserted;
		out->insert_failed += per[i].insert_failed;
		out->redirected_msgs += per[i].redirected_msgs;
		out->redirected_bytes += per[i].redirected_bytes;
		out->tcp_msgs += per[i].tcp_msgs;
		out->fallbacks += per[i].fallbacks;
	}
	free(per);
	return 0;
}

/* No bpf_prog_detach of the sk_msg program: closing the last user fd of the
 * SOCKHASH releases the map's programs (map_release_uref), and sockets still
 * in the map keep their own references until they close, which is what lets
 * their connections go on working after the router stops. */
void slim_redirect_destroy(struct slim_redirect *rd)
{
	if (!rd)
		return;
	slim_redirect_skel__destroy(rd->skel);
	free(rd);
}
