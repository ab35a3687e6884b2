/* The router's side of the sock_create program (bpf/sock_create.bpf.c):
 * arming it for the calling thread around a pool batch, so the batch's
 * sockets are stamped by the kernel as they are created. */
#ifndef SLIM_ROUTER_STAMP_ARM_H
#define SLIM_ROUTER_STAMP_ARM_H

#include <stddef.h>
#include <stdint.h>

struct stamp_arm {
	int fd;		    /* the stamp_arm map, owned by the slim_bpf that loaded it */
	uint64_t pidns_dev; /* the router's pid namespace (/proc/self/ns/pid) */
	uint64_t pidns_ino;
};

/* Sets a up for the arming map map_fd (slim_bpf_stamp_arm_fd) and proves
 * that the program stamps: it arms, creates one socket, reads its owner
 * storage back from owner_fd (it must be there, and only for this thread:
 * a second thread's socket must come out bare), and disarms. Call once,
 * after the programs are attached to the caller's cgroup and before the
 * sandbox (it reads /proc and makes a thread). Returns 0, or -1 with one
 * line in err. */
int stamp_arm_init(struct stamp_arm *a, int map_fd, int owner_fd, char *err, size_t errlen);

/* Arms the program for the calling thread: its next count AF_INET TCP
 * sockets get owner storage {vip, id, dst 0:0, flags 0} (host byte order
 * here, stored in network order), as hostsock_stamp_owner writes it. One
 * bpf(2) call. Returns 0 or a positive errno. */
int stamp_arm(const struct stamp_arm *a, uint32_t vip, uint32_t id, uint32_t count);

/* Disarms it (one bpf(2) call). Returns 0 or a positive errno; after a
 * failure the thread stays armed for what was left of the count. */
int stamp_disarm(const struct stamp_arm *a);

#endif
