/* Loader and runner of the revocation iterators (revoke.bpf.c): destroys
 * the host sockets of a deleted container. Owns the bpftool-generated
 * skeleton (revoke.skel.h); shares the owner and peer maps of slim_bpf. */
#ifndef SLIM_REVOKE_H
#define SLIM_REVOKE_H

#include <stddef.h>
#include <stdint.h>

struct slim_revoke;

/* Loads the iterators against the owner and peer sk_storage maps (fds
 * owned by the caller, which must outlive the handle). Needs a kernel with
 * bpf_sock_destroy (Linux 6.5+). Returns the handle, or NULL with a one-line
 * reason in err. */
struct slim_revoke *slim_revoke_load(int owner_fd, int peer_fd, char *err, size_t errlen);

/* Destroys every socket stamped for the container whose vip is `vip` (host
 * byte order) and every socket accepted for that vip, in the TCP tables of
 * the caller's network namespace. Take the vip out of the live map first,
 * so that nothing new connects or binds meanwhile. Returns the number of
 * sockets destroyed, or -1 with errno and one line in err. */
long long slim_revoke_container(struct slim_revoke *rv, uint32_t vip, char *err, size_t errlen);

/* Frees the handle. NULL is fine. */
void slim_revoke_destroy(struct slim_revoke *rv);

#endif
