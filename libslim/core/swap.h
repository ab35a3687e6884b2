/* Putting a host socket in place of the app's fd. */
#ifndef LIBSLIM_SWAP_H
#define LIBSLIM_SWAP_H

#include <stdbool.h>
#include <stdint.h>

/* Makes app_fd refer to host_fd's socket, as the app set app_fd up: file
 * status flags (O_NONBLOCK, O_ASYNC with its owner and signal), FD_CLOEXEC,
 * and the socket options in opt_mask (bits from slim_opt_bit: the ones the
 * app set). The socket that app_fd referred to is closed by the swap.
 * host_fd is consumed in every case. Returns 0, or -1 with errno (app_fd is
 * then unchanged). */
int slim_swap(int app_fd, int host_fd, uint32_t opt_mask);

/* The bit that records option (level, name) in fd_state.opts, or 0 for an
 * option a swap does not carry. */
uint32_t slim_opt_bit(int level, int name);

/* Copies the options in mask (slim_opt_bit bits) from socket `from` to
 * `to`, as a swap carries them. Best effort. */
void slim_copy_opts(int from, int to, uint32_t mask);

/* Sets SO_REUSEADDR, SO_REUSEPORT and TCP_SAVE_SYN on `to` where `from`
 * has them. */
void slim_copy_reuse(int from, int to);

struct fd_state;

/* The reverse: a fresh container socket takes the place of fd's host
 * socket (POOLED, HOST_BOUND, or a CLIENT that starts over outside the
 * overlay), with the app's flags, its SO_REUSEADDR/SO_REUSEPORT and the
 * options it set. *st becomes FD_CONTAINER (a HOST_BOUND one keeps the
 * address the app bound, for the source port of a later connect) and is
 * recorded. Returns 0, or -1 with errno (fd unchanged). */
int slim_unswap(int fd, struct fd_state *st);

#endif
