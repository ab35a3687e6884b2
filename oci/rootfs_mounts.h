/* The mounts that put slim into a container, made by the OCI hook in the
 * container's mount namespace before the runtime pivots into its root:
 *
 *   /run/slim/               a small tmpfs, read-only once filled
 *   /run/slim/libslim.so     the host's library (bind, read-only)
 *   /run/slim/router/        the directory of the host router's socket (bind,
 *                            read-only: a restarted router's new socket shows)
 *   /run/slim/slim.sock   -> router/SOCKET_NAME (libslim's default socket)
 *   /run/slim/ld.so.preload  "/run/slim/libslim.so" and the image's own lines
 *   /etc/ld.so.preload       bind of the file above, read-only
 *
 * so every dynamically linked program of the container loads libslim, as
 * root or after dropping privileges, with no change to the image or the
 * command line. Path components inside the root filesystem are opened
 * without following symlinks: an image cannot redirect a mount to the host. */
#ifndef SLIM_ROOTFS_MOUNTS_H
#define SLIM_ROOTFS_MOUNTS_H

#include <stddef.h>

struct slim_mounts {
	const char *rootfs;  /* absolute, the container's root before pivot */
	const char *lib;     /* absolute path of libslim.so on the host */
	const char *sockdir; /* directory of the router's socket on the host */
	const char *sockname;
};

/* Checks that this process runs in the container's mount namespace before
 * the pivot (the runtime's /proc is mounted inside rootfs: a hook configured
 * at another stage would mount onto the host) and that the root
 * filesystem's mount does not propagate to other namespaces.
 * Returns 0, or -1 with a one-line reason in why. */
int slim_mounts_check_namespace(const char *rootfs, char *why, size_t whylen);

/* Makes the mounts above. Returns 0, or -1 with a one-line reason in why
 * (the mounts made so far stay: the runtime fails the container, and they
 * go with its mount namespace). */
int slim_mounts_make(const struct slim_mounts *m, char *why, size_t whylen);

#endif
