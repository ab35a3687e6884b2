/* Who is on the other end of a Unix socket, and which network namespace a
 * path names. Identity always comes from the kernel (SO_PEERCRED), never
 * from what a client says. */
#ifndef SLIM_ROUTER_PEER_H
#define SLIM_ROUTER_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct peer_id {
	pid_t pid;
	uid_t uid;
	bool ns_ok; /* ns_dev/ns_ino valid (the process's netns could be read) */
	dev_t ns_dev;
	ino_t ns_ino;
};

/* Fills id from SO_PEERCRED and /proc/PID/ns/net. Returns 0, or -1 with
 * errno when SO_PEERCRED fails; an unreadable netns, or a connecting
 * process that has exited (its pid may name someone else by now), only
 * clears ns_ok: such a caller matches no container and is not an admin. */
int peer_identify(int sock, struct peer_id *id);

/* Identity of the network namespace file at path (e.g. /run/netns/c1 or
 * /proc/PID/ns/net). Returns 0, or a positive errno with one line in why:
 * ENOENT (missing), EINVAL (not a network namespace), or what open failed
 * with. */
int netns_identify(const char *path, dev_t *dev, ino_t *ino, char *why, size_t whylen);

#endif
