/* Every socket here is created by the router, so it belongs to the router's
 * cgroup and the sockops program sees it wherever it is used later. */
#include "hostsock.h"
#include "log.h"
#include "slim_maps.h"
#include "stamp_arm.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const int one = 1;

static struct sockaddr_in sin_of(uint32_t ip, uint16_t port)
{
	struct sockaddr_in a;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(ip);
	a.sin_port = htons(port);
	return a;
}

/* Closes fd keeping errno; returns errno for "return fail_close(fd)". */
static int fail_close(int fd)
{
	int e = errno;

	close(fd);
	errno = e;
	return e;
}

/* Joins the reuseport group of the listeners left on ip:port by a previous
 * router and makes prog the group's program. Kernel facts this relies on
 * (checked on 6.18, see tests/integration/test_router_restart.sh):
 * - bind() with SO_REUSEPORT succeeds next to listening SO_REUSEPORT sockets
 *   of the same uid (the old router's listeners, created as root); listen()
 *   then adds the socket to their group (inet_reuseport_add_sock).
 * - SO_ATTACH_REUSEPORT_EBPF sets the program of the socket's group, i.e.
 *   for every socket in it, releasing the old program. It must come AFTER
 *   listen(): on a bound but unhashed socket it creates a private group
 *   holding the program, and listen() then moves the socket into the
 *   existing group and frees the private one with our program, leaving the
 *   old router's program in charge. (This ordering point is from reading
 *   reuseport_attach_prog/reuseport_add_sock in net/core/sock_reuseport.c;
 *   the rest was observed: the killed router's program id vanished from
 *   `bpftool prog show` once the new anchor attached, and connections kept
 *   reaching the old listener.)
 * - The old program keeps running meanwhile (the group holds a reference),
 *   and with the pinned maps reused both select from the same listeners
 *   SOCKHASH, whose entries stay valid as long as the apps hold the
 *   listening sockets, whoever created them. */
static int anchor_join(uint32_t ip, uint16_t port, int prog_fd, char *err, size_t errlen)
{
	struct sockaddr_in a = sin_of(ip, port);
	const char *step = "socket";
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		goto fail;
	step = "SO_REUSEPORT";
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0)
		goto fail;
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		int e = errno;
		snprintf(err, errlen,
			 "reserved port %s:%u is taken by something that is not a slim listener "
			 "group (%s); find it with ss -ltnp and stop it",
			 ip_str(ip), port, strerror(e));
		close(fd);
		return -1;
	}
	step = "listen";
	if (listen(fd, 1) != 0)
		goto fail;
	step = "SO_ATTACH_REUSEPORT_EBPF";
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_EBPF, &prog_fd, sizeof(prog_fd)) != 0)
		goto fail;
	return fd;
fail:
	snprintf(err, errlen, "cannot join the listeners on %s:%u: %s: %s", ip_str(ip), port, step,
		 strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

int hostsock_anchor(uint32_t ip, uint16_t port, int prog_fd, bool may_join, bool *joined, char *err,
		    size_t errlen)
{
	struct sockaddr_in a = sin_of(ip, port);
	int fd;

	*joined = false;
	/* Probe without SO_REUSEPORT: binding fails only if someone holds the
	 * port (SO_REUSEADDR ignores our own leftover TIME_WAIT connections). */
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create the anchor socket: %s", strerror(errno));
		return -1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		int e = errno;
		close(fd);
		if (e == EADDRINUSE && may_join) {
			fd = anchor_join(ip, port, prog_fd, err, errlen);
			*joined = fd >= 0;
			return fd;
		}
		if (e == EADDRINUSE)
			snprintf(err, errlen,
				 "reserved port %s:%u is taken (another slim-router for this host? "
				 "stop it or change the port in the cluster file)",
				 ip_str(ip), port);
		else if (e == EADDRNOTAVAIL)
			snprintf(
			    err, errlen,
			    "cannot bind the anchor to %s:%u: %s (run the router in the host's "
			    "network namespace, e.g. nsenter --net=/run/netns/HOST)",
			    ip_str(ip), port, strerror(e));
		else
			snprintf(err, errlen, "cannot bind the anchor to %s:%u: %s", ip_str(ip),
				 port, strerror(e));
		return -1;
	}
	close(fd);

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create the anchor socket: %s", strerror(errno));
		return -1;
	}
	const char *step = "SO_REUSEPORT";
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0)
		goto fail;
	step = "bind";
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0)
		goto fail;
	step = "SO_ATTACH_REUSEPORT_EBPF";
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_EBPF, &prog_fd, sizeof(prog_fd)) != 0)
		goto fail;
	step = "listen";
	if (listen(fd, 1) != 0)
		goto fail;
	return fd;
fail:
	snprintf(err, errlen, "cannot set up the anchor on %s:%u: %s: %s", ip_str(ip), port, step,
		 strerror(errno));
	close(fd);
	return -1;
}

int hostsock_stamp_owner(int owner_map, int sock, uint32_t vip, uint32_t id, uint32_t dst_ip,
			 uint16_t dst_port)
{
	struct slim_owner o = {.vip = htonl(vip),
			       .container_id = htonl(id),
			       .dst_ip = htonl(dst_ip),
			       .dst_port = htons(dst_port)};

	if (bpf_map_update_elem(owner_map, &sock, &o, BPF_ANY) != 0)
		return errno;
	return 0;
}

int hostsock_client(int owner_map, uint32_t vip, uint32_t id, int *out, const char **what)
{
	int fd, e;

	*what = "socket";
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno;
	*what = "owner storage";
	if ((e = hostsock_stamp_owner(owner_map, fd, vip, id, 0, 0)) != 0) {
		close(fd);
		return e;
	}
	*out = fd;
	return 0;
}

int hostsock_client_batch(const struct stamp_arm *arm, uint32_t vip, uint32_t id, int *fds,
			  size_t count, size_t *made, const char **what)
{
	int e = 0, d;

	*made = 0;
	*what = "arming the stamp";
	if (count == 0)
		return EINVAL;
	if ((e = stamp_arm(arm, vip, id, (uint32_t)count)) != 0)
		return e;
	*what = "socket";
	while (*made < count) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (fd < 0) {
			e = errno;
			break;
		}
		fds[(*made)++] = fd;
	}
	/* The sockets are stamped already; a failed disarm only leaves the
	 * thread armed for the rest of the count, so it is an error too. */
	if ((d = stamp_disarm(arm)) != 0) {
		while (*made > 0)
			close(fds[--*made]);
		*what = "disarming the stamp";
		return d;
	}
	return *made > 0 ? 0 : e;
}

int hostsock_listener(uint32_t ip, uint16_t port, int backlog, int owner_map, uint32_t vip,
		      uint32_t id, uint32_t bound_ip, uint16_t vport, int *out, const char **what)
{
	struct sockaddr_in a = sin_of(ip, port);
	int fd, e;

	*what = "socket";
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno;
	*what = "SO_REUSEPORT";
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0)
		return fail_close(fd);
	/* The sockops program reads the virtual peer from the saved SYN. */
	*what = "TCP_SAVE_SYN";
	if (setsockopt(fd, IPPROTO_TCP, TCP_SAVE_SYN, &one, sizeof(one)) != 0)
		return fail_close(fd);
	*what = "bind";
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0)
		return fail_close(fd);
	*what = "owner storage";
	if ((e = hostsock_stamp_owner(owner_map, fd, vip, id, bound_ip, vport)) != 0) {
		close(fd);
		return e;
	}
	*what = "listen";
	if (listen(fd, backlog) != 0)
		return fail_close(fd);
	*out = fd;
	return 0;
}
