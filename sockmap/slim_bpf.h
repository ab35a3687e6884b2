/* User-space side of the BPF objects: load, attach to a cgroup, pin, and
 * hand out map fds. Owns the bpftool-generated skeleton. */
#ifndef SLIM_BPF_H
#define SLIM_BPF_H

#include <stddef.h>

struct slim_bpf;

enum slim_map {
	SLIM_MAP_LISTENERS, /* SOCKHASH slim_vaddr -> listening socket */
	SLIM_MAP_OWNER,     /* sk_storage slim_owner */
	SLIM_MAP_INTENT,    /* sk_storage slim_vaddr */
	SLIM_MAP_PEER,      /* sk_storage slim_peer */
	SLIM_MAP_COUNT
};

/* Opens and loads the programs and maps. Returns NULL and writes a one-line
 * reason into err on failure. */
struct slim_bpf *slim_bpf_load(char *err, size_t errlen);

/* Attaches the sockops program to the cgroup (a bpf_link: it goes away when
 * the process exits). Returns 0, or -1 with a reason in err. */
int slim_bpf_attach_cgroup(struct slim_bpf *b, int cgroup_fd, char *err, size_t errlen);

/* Pins every map under dir (created if missing; stale pins of the same
 * names replaced). Returns 0, or -1 with a reason in err. */
int slim_bpf_pin(struct slim_bpf *b, const char *dir, char *err, size_t errlen);

/* Removes the pins made by slim_bpf_pin and the directory if empty. */
void slim_bpf_unpin(struct slim_bpf *b);

/* The map's fd, owned by b. */
int slim_bpf_map_fd(const struct slim_bpf *b, enum slim_map m);

/* A new read-only fd for the map (caller closes), or -1 with errno. */
int slim_bpf_map_fd_rdonly(const struct slim_bpf *b, enum slim_map m);

/* The sk_reuseport program's fd, owned by b, for SO_ATTACH_REUSEPORT_EBPF. */
int slim_bpf_reuseport_prog_fd(const struct slim_bpf *b);

/* Detaches, unloads and frees. NULL is fine. */
void slim_bpf_destroy(struct slim_bpf *b);

#endif
