/* The router's view (struct slim_view), mapped read-only: libslim resolves
 * virtual IPs and learns the router's state from it without a system call,
 * and always sees the router's current routes. */
#ifndef LIBSLIM_VIEW_READER_H
#define LIBSLIM_VIEW_READER_H

#include <stdbool.h>
#include <stdint.h>

struct view_snap {
	uint32_t state; /* enum slim_view_state; SLIM_VIEW_EMPTY if nothing is mapped */
	uint32_t epoch;
	bool overlay; /* the address asked about lies in an overlay subnet */
};

/* True if fd looks like a view file (a regular file big enough). Preserves
 * errno. */
bool slim_view_fd_ok(int fd);

/* Maps the view file behind fd read-only, unless that very file is mapped
 * already. The mapping holds the file, so fd is not needed after this and
 * is always closed. Returns 0, or -1 (errno) keeping the old view.
 * Callers serialise (the router lock); readers never wait. */
int slim_view_attach(int fd);

/* Reads the state, epoch and whether *ip (host byte order) is an overlay
 * address, consistently; with ip NULL only the state and epoch (no route
 * scan: socket() asks this). Lock-free; no system call. If there is no view
 * or the router keeps rewriting it, reports SLIM_VIEW_EMPTY (plain path). */
void slim_view_read(const uint32_t *ip, struct view_snap *s);

#endif
