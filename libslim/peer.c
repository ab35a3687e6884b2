/* Peer lookups with the raw bpf(2) system call: no libbpf inside apps. */
#define _GNU_SOURCE
#include "peer.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/bpf.h>
#include <stddef.h>
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

uint32_t slim_bpf_map_id(int fd)
{
	struct bpf_map_info info;
	union bpf_attr attr;
	int saved = errno;
	long r;

	memset(&info, 0, sizeof(info));
	memset(&attr, 0, sizeof(attr));
	attr.info.bpf_fd = (__u32)fd;
	attr.info.info_len = sizeof(info);
	attr.info.info = (__u64)(unsigned long)&info;
	r = syscall(SYS_bpf, BPF_OBJ_GET_INFO_BY_FD, &attr, sizeof(attr));
	errno = saved;
	/* A prog or link fd answers too (ids of another space): harmless for
	 * the callers, whose map lookups through such an fd fail with EINVAL
	 * and write nothing. What matters is that no other live map has our
	 * map's id. */
	return r == 0 && attr.info.info_len >= offsetof(struct bpf_map_info, id) + sizeof(info.id)
		   ? info.id
		   : 0;
}

int slim_peer_lookup(int fd, uint32_t *peer_ip, struct slim_ep *local)
{
	struct slim_peer val;
	int saved = errno, mapfd = slim_peer_map_fd(), r = -1;

	/* The map fd is checked by id first: a lookup through a number the
	 * app reused for its own map would write that map's value size into
	 * val. */
	if (mapfd < 0)
		mapfd = slim_peer_map_refresh();
	if (mapfd >= 0) {
		r = lookup(mapfd, fd, &val);
		/* EBADF/EINVAL: our map fd was closed or replaced since the
		 * check (ENOENT is a plain miss). */
		if (r < 0 && (errno == EBADF || errno == EINVAL)) {
			mapfd = slim_peer_map_refresh();
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
