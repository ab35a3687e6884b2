/* Loader and runner of the revocation iterators: wraps revoke.skel.h. */
#include "revoke.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "revoke.skel.h"

struct slim_revoke {
	struct slim_revoke_skel *skel;
};

struct slim_revoke *slim_revoke_load(int owner_fd, int peer_fd, char *err, size_t errlen)
{
	struct slim_revoke *rv = calloc(1, sizeof(*rv));
	int e;

	if (!rv) {
		snprintf(err, errlen, "cannot load the revocation iterators: %s", strerror(errno));
		return NULL;
	}
	rv->skel = slim_revoke_skel__open();
	if (!rv->skel) {
		e = errno;
		snprintf(err, errlen, "cannot open the revocation BPF object: %s", strerror(e));
		goto fail;
	}
	/* The iterators read this router's storages; the object's other
	 * shared maps (storage.bpf.h) are not used here: not created. */
	if (bpf_map__reuse_fd(rv->skel->maps.owner, owner_fd) ||
	    bpf_map__reuse_fd(rv->skel->maps.peer, peer_fd) ||
	    bpf_map__set_autocreate(rv->skel->maps.listeners, false) ||
	    bpf_map__set_autocreate(rv->skel->maps.routes, false) ||
	    bpf_map__set_autocreate(rv->skel->maps.app_opts, false) ||
	    bpf_map__set_autocreate(rv->skel->maps.live, false)) {
		e = errno;
		snprintf(err, errlen,
			 "cannot share the owner and peer maps with the revocation"
			 " iterators: %s",
			 strerror(e));
		goto fail;
	}
	e = slim_revoke_skel__load(rv->skel);
	if (e) {
		e = e < 0 ? -e : EINVAL;
		snprintf(err, errlen,
			 "cannot load the revocation iterators: %s (they need bpf_sock_destroy, "
			 "Linux 6.5 or later, and the kernel's BTF; see the libbpf messages above)",
			 strerror(e));
		goto fail;
	}
	return rv;
fail:
	slim_revoke_destroy(rv);
	return NULL;
}

/* Runs iterator link `link` to its end (every element the program is
 * called for). Returns 0, or -1 with errno. */
static int run_iter(struct bpf_link *link)
{
	char buf[64];
	ssize_t n;
	int fd = bpf_iter_create(bpf_link__fd(link)), e;

	if (fd < 0)
		return -1;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		;
	e = errno;
	close(fd);
	errno = e;
	return n < 0 ? -1 : 0;
}

long long slim_revoke_container(struct slim_revoke *rv, uint32_t vip, char *err, size_t errlen)
{
	struct bpf_link *link;
	int e;

	rv->skel->bss->revoke_vip = htonl(vip);
	rv->skel->bss->revoke_destroyed = 0;
	link = bpf_program__attach_iter(rv->skel->progs.revoke_destroy, NULL);
	if (!link || run_iter(link) != 0) {
		e = errno;
		snprintf(err, errlen, "cannot destroy the container's sockets: %s", strerror(e));
		bpf_link__destroy(link);
		errno = e;
		return -1;
	}
	bpf_link__destroy(link);
	return (long long)rv->skel->bss->revoke_destroyed;
}

void slim_revoke_destroy(struct slim_revoke *rv)
{
	if (!rv)
		return;
	slim_revoke_skel__destroy(rv->skel);
	free(rv);
}
