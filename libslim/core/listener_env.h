/* Merged listeners across exec. A listener the app leaves open across exec
 * (FD_CLOEXEC clear) is still the host listener in the new program; its
 * container side is libslim's own fd, O_CLOEXEC. The exec hooks name each
 * such pair in the new program's environment, SLIM_LISTENERS=FD:INO:CFD:
 * CINO,... (INO, CINO: the low 32 bits of each socket's inode), with
 * FD_CLOEXEC cleared on exactly those container sides, and only when the
 * new program preloads libslim and is not statically linked (otherwise a
 * container side would listen in a program that never accepts from it).
 * libslim's constructor in the new program checks each pair (both fds
 * still those sockets, both listening, on the same port), adopts it (or
 * closes a container side whose listener did not come along) and drops
 * the variable from the environment the app sees. */
#ifndef LIBSLIM_LISTENER_ENV_H
#define LIBSLIM_LISTENER_ENV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Room for the whole entry on an exec hook's stack: about 60 pairs. A
 * listener that does not fit is passed without its container side. */
#define LISTENER_ENV_MAX 2048

struct listener_pair {
	int fd;
	uint32_t ino;
	int cfd;
	uint32_t cino;
};

/* "SLIM_LISTENERS=FD:INO:CFD:CINO,..." for pairs p[0..n) into buf (cap
 * bytes), or "" for none; the pairs that do not fit are left out. Returns
 * how many went in. Pure. */
size_t listener_env_format(char *buf, size_t cap, const struct listener_pair *p, size_t n);

/* The pairs of a SLIM_LISTENERS value (after the '='), at most max: a
 * malformed pair ends the list. Returns how many. Pure. */
size_t listener_env_parse(const char *val, struct listener_pair *out, size_t max);

/* True unless the program an exec will run (path, or fd for fexecve; NULL
 * and -1: unknown) is an ELF file without an interpreter: statically
 * linked, libslim cannot be in it, and a container side it inherited
 * would listen with nobody accepting from it. Anything unreadable, or not
 * a 64-bit ELF file (a script: its interpreter is a program of its own),
 * counts as dynamic. Async-signal-safe. */
bool listener_env_target_dynamic(const char *path, int fd);

/* The file execvp and posix_spawnp would run for file: file itself when it
 * has a slash, else the first executable PATH entry/file (built in buf, cap
 * bytes), or NULL. Async-signal-safe. */
const char *listener_env_which(const char *file, char *buf, size_t cap);

/* For an exec about to run: the entry naming this process's merged
 * listeners that the new program inherits, with FD_CLOEXEC cleared on
 * their container sides ("" when preloads is false or there is none).
 * Async-signal-safe (an exec may run in a vfork child). */
void listener_env_prepare(char *entry, size_t cap, bool preloads);

/* After an exec that returned (it failed) or a posix_spawn: the container
 * sides named in entry are FD_CLOEXEC again. Preserves errno. */
void listener_env_restore(const char *entry);

/* libslim's constructor: adopts the pairs named in SLIM_LISTENERS that
 * check out, and removes the variable from the process's environment. */
void listener_env_adopt(void);

#endif
