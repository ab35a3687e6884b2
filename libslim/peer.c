/* Peer lookups with the raw bpf(2) system call: no libbpf inside apps. */
#define _GNU_SOURCE
#include "peer.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/bpf.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "router.h"
#include "slim_maps.h"

static int lookup(int mapfd, int fd, struct slim_peer *val)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.map_fd = (__u32)mapfd;
	attr.key = (__u64)(unsigned long)&fd;
	attr.value = (__u64)(unsigned long)val;
	return (int)syscall(SYS_bpf, BPF_MAP_LOOKUP_ELEM, &attr, sizeof(attr));
}

int slim_peer_lookup(int fd, uint32_t *peer_ip, struct slim_ep *local)
{
	struct slim_peer val;
	int saved = errno, mapfd = slim_peer_map_fd(), r = -1;

	if (mapfd < 0)
		mapfd = slim_peer_map_refresh(mapfd);
	if (mapfd >= 0) {
		r = lookup(mapfd, fd, &val);
		/* EBADF/EINVAL: our map fd was closed or replaced behind our
		 * back (ENOENT is a plain miss). */
		if (r < 0 && (errno == EBADF || errno == EINVAL)) {
			mapfd = slim_peer_map_refresh(mapfd);
			if (mapfd >= 0)
				r = lookup(mapfd, fd, &val);
		}
	}
	errno = saved;
	if (r < 0)
		return -1;
	*peer_ip = ntohl(val.peer_ip);
	local->ip = ntohl(val.local_ip);
	local->port = ntohs(val.local_port);
	return 0;
}
