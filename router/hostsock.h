/* Host sockets: TCP sockets in the host network namespace that the router
 * creates, stamps with their owner and hands to containers, and the anchor
 * listener that holds the reserved port's reuseport group. */
#ifndef SLIM_ROUTER_HOSTSOCK_H
#define SLIM_ROUTER_HOSTSOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Opens the anchor: SO_REUSEPORT, bound to ip:port, the sk_reuseport program
 * attached, listening. If something already listens on ip:port it refuses
 * (EADDRINUSE: joining a foreign reuseport group would replace its
 * program), unless may_join: then the port is taken to be held by the
 * listeners of a previous router of this host (the caller checked that it
 * reused that router's pinned maps and that no live router is in its
 * cgroup), the anchor joins their group and our program replaces the
 * group's. *joined tells which happened. Returns the fd, or -1 with a
 * reason in err. */
int hostsock_anchor(uint32_t ip, uint16_t port, int prog_fd, bool may_join, bool *joined, char *err,
		    size_t errlen);

/* Stamps owner storage {vip, id, dst_ip:dst_port} on sock (arguments in host
 * byte order, stored in network order). Returns 0 or a positive errno. */
int hostsock_stamp_owner(int owner_map, int sock, uint32_t vip, uint32_t id, uint32_t dst_ip,
			 uint16_t dst_port);

/* A fresh client socket stamped with its owner; its destination is stamped
 * later by the connect4 program, from the app's own connect(). One socket
 * at a time (a connect request) stamps it with a map update: arming the
 * sock_create program for one socket would cost one bpf() call more. Returns 0 and
 * the fd in *out (caller owns), or a positive errno with the failed step in
 * *what. */
int hostsock_client(int owner_map, uint32_t vip, uint32_t id, int *out, const char **what);

struct stamp_arm;

/* count (1..) fresh client sockets for container {vip, id}, each stamped
 * exactly as hostsock_client stamps one, but by the sock_create program as
 * they are created: the program is armed for the calling thread once
 * before and disarmed once after (stamp_arm.h), so the batch costs
 * count socket() calls and two bpf() calls. Returns 0 with the fds in
 * fds[0..*made) (caller owns; *made may be short of count when socket()
 * failed part way: the error of that failure is then dropped), or a
 * positive errno with the failed step in *what and *made 0. */
int hostsock_client_batch(const struct stamp_arm *arm, uint32_t vip, uint32_t id, int *fds,
			  size_t count, size_t *made, const char **what);

/* A listening socket on ip:port (the reserved port, joining the anchor's
 * reuseport group) with TCP_SAVE_SYN, stamped with its owner and the
 * virtual address bound_ip:vport it stands for. Returns 0 and the fd in
 * *out, or a positive errno with the failed step in *what. */
int hostsock_listener(uint32_t ip, uint16_t port, int backlog, int owner_map, uint32_t vip,
		      uint32_t id, uint32_t bound_ip, uint16_t vport, int *out, const char **what);

#endif
