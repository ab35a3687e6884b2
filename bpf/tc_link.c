/* The tcx links of the slim-to-plain translation: one per interface,
 * pinned in the pin dir as "tcx-IFINDEX" so that the translation outlives
 * the router, and taken over in place by the next one. */
#include "slim_bpf.h"
#include "slim_bpf_priv.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

/* Linux 6.6 uapi values the installed headers (older) lack. */
#define SLIM_BPF_TCX_INGRESS 46
#define SLIM_BPF_LINK_TYPE_TCX 11

/* struct bpf_link_info as the kernel fills it for a tcx link: the common
 * part, then (8-byte aligned, as the union is) the tcx member. */
struct tcx_link_info {
	__u32 type;
	__u32 id;
	__u32 prog_id;
	__u32 pad;
	__u32 ifindex;
	__u32 attach_type;
};

#define TCX_PIN_PREFIX "tcx-"

static int tcx_pin_path(const struct slim_bpf *b, int ifindex, char *out, size_t outlen)
{
	const char *dir = slim_bpf__pin_dir(b);
	int n;

	if (!dir[0]) {
		errno = EINVAL;
		return -1;
	}
	n = snprintf(out, outlen, "%s/" TCX_PIN_PREFIX "%d", dir, ifindex);
	if (n < 0 || (size_t)n >= outlen) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* Is fd a tcx ingress link of ifindex? */
static bool is_tcx_ingress_of(int fd, int ifindex)
{
	struct tcx_link_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	return bpf_obj_get_info_by_fd(fd, &info, &len) == 0 &&
	       info.type == SLIM_BPF_LINK_TYPE_TCX && info.ifindex == (__u32)ifindex &&
	       info.attach_type == SLIM_BPF_TCX_INGRESS;
}

int slim_bpf_tc_attach(struct slim_bpf *b, int ifindex, enum slim_tc_prog p, char *err,
		       size_t errlen)
{
	char path[PATH_MAX];
	int prog = slim_bpf__tc_prog_fd(b, p), fd;

	if (prog < 0 || ifindex <= 0 || tcx_pin_path(b, ifindex, path, sizeof(path))) {
		snprintf(err, errlen, "cannot attach the tc program to interface %d: %s", ifindex,
			 strerror(errno ? errno : EINVAL));
		return -1;
	}
	fd = bpf_obj_get(path);
	if (fd >= 0) {
		if (is_tcx_ingress_of(fd, ifindex) && bpf_link_update(fd, prog, NULL) == 0) {
			close(fd);
			return 0;
		}
		/* Not ours to keep (another interface that had this
		 * number, a link whose device is gone): replaced. */
		close(fd);
		unlink(path);
	}
	/* libbpf 1.1 has no tcx attach call, but its bpf_link_create passes
	 * any attach type through with a zeroed rest: append to the
	 * interface's tcx ingress programs. */
	fd = bpf_link_create(prog, ifindex, SLIM_BPF_TCX_INGRESS, NULL);
	if (fd < 0) {
		int e = errno;
		snprintf(err, errlen,
			 "cannot attach the tc program to the ingress of interface %d: %s%s",
			 ifindex, strerror(e),
			 e == EINVAL ? " (tcx links need Linux 6.6 or later)" : "");
		return -1;
	}
	if (bpf_obj_pin(fd, path) != 0) {
		int e = errno;
		close(fd);
		snprintf(err, errlen, "cannot pin the tc link at %s: %s", path, strerror(e));
		return -1;
	}
	/* The pin holds the link now. */
	close(fd);
	return 0;
}

void slim_bpf_tc_detach(struct slim_bpf *b, int ifindex)
{
	char path[PATH_MAX];

	if (ifindex > 0 && tcx_pin_path(b, ifindex, path, sizeof(path)) == 0)
		unlink(path);
}

void slim_bpf_tc_prune(struct slim_bpf *b, const int *keep, size_t n)
{
	const char *dir = slim_bpf__pin_dir(b);
	struct dirent *de;
	DIR *d;

	if (!dir[0] || !(d = opendir(dir)))
		return;
	while ((de = readdir(d)) != NULL) {
		char *end;
		long ifindex;
		bool kept = false;

		if (strncmp(de->d_name, TCX_PIN_PREFIX, strlen(TCX_PIN_PREFIX)) != 0)
			continue;
		errno = 0;
		ifindex = strtol(de->d_name + strlen(TCX_PIN_PREFIX), &end, 10);
		if (errno || *end || ifindex <= 0 || ifindex > INT_MAX)
			continue; /* not a name we make */
		for (size_t i = 0; i < n && !kept; i++)
			kept = keep[i] == (int)ifindex;
		if (!kept)
			unlinkat(dirfd(d), de->d_name, 0);
	}
	closedir(d);
}
