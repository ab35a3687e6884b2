/* The router's own cgroup v2 directory: the sockops program is attached to
 * it, and every host socket the router creates belongs to it. */
#ifndef SLIM_ROUTER_CGROUP_H
#define SLIM_ROUTER_CGROUP_H

#include <stdbool.h>
#include <stddef.h>

struct cg {
	char mount[4096];  /* cgroup2 mount point */
	char dir[4096];	   /* the router's cgroup directory */
	char origin[4096]; /* the cgroup we came from, to go back on exit */
	bool created;	   /* we made dir, so we remove it */
	bool joined;
	bool keep;  /* cg_leave leaves dir in place (sockets of it outlive us) */
	int others; /* processes other than us in dir when we joined it */
	int fd;	    /* O_DIRECTORY fd of dir, or -1 */
};

/* Finds the first cgroup2 mount in /proc/self/mountinfo. Returns 0, or -1
 * with a reason in err. */
int cg_find_mount(char *out, size_t outlen, char *err, size_t errlen);

/* cg_find_mount, for a router started in a mount namespace of its own that
 * lacks cgroup2, as `ip netns exec` makes (it remounts /sys, hiding cgroup2
 * and the bpffs at /sys/fs/bpf): the process first joins the mount
 * namespace of its nearest ancestor in another one (the shell that ran
 * `ip netns exec`), keeping its network namespace, so it sees the host's
 * cgroup2, pins and paths like every other process, and sets *moved_to to
 * that ancestor's pid (else 0). Call while single-threaded (setns).
 * Returns 0, or -1 with a reason in err that says how to start the router
 * instead. */
int cg_find_host_mount(char *out, size_t outlen, int *moved_to, char *err, size_t errlen);

/* Creates dir if missing, counts the processes already in it (g->others:
 * a live router of this host would be one), moves this process into it and
 * opens it. The
 * mount must already be in g->mount and the dir in g->dir. Returns 0, or -1
 * with a reason in err (partial progress is recorded in g for cg_leave). */
int cg_enter(struct cg *g, char *err, size_t errlen);

/* Moves back to the original cgroup, closes the fd and removes the
 * directory if g->created and not g->keep. Logs nothing; best effort. Returns 0, or
 * -1 with errno from the step that failed. */
int cg_leave(struct cg *g);

#endif
