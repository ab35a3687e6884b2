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

/* Sets SO_REUSEADDR/SO_REUSEPORT on `to` where `from` has them. */
void slim_copy_reuse(int from, int to);

/* True if fd still is the listener port reservation whose inode's low 32
 * bits are ino (fd_state.resv, resv_ino; ino 0: none). */
bool slim_resv_ours(int fd, uint32_t ino);

/* Closes that reservation if fd still is it. Async-signal-safe. */
void slim_resv_close(int fd, uint32_t ino);

/* slim_resv_close of fdtable_take_resv's packed value (0: none). */
void slim_resv_release(uint64_t packed);

struct fd_state;

/* The reverse: a fresh container socket takes the place of fd's host
 * socket, with the app's flags and the options in st->opts; *st and the fd
 * table are updated (host false, the new inode). For a candidate that got a
 * host socket at socket() but is used for something else than an overlay
 * connect (bind, a plain connect, listen), and for a client that starts
 * over outside the overlay. Returns 0, or -1 with errno (fd unchanged). */
int slim_unswap(int fd, struct fd_state *st);

/* For a bound pool socket (bind_listen.c) that the app uses for something
 * else than listening (connect with a chosen source port): its reservation,
 * the container socket bound as the app asked, takes the fd's place (as
 * slim_unswap; a fresh socket if the reservation is gone). Returns 0, or -1
 * with errno. */
int slim_resv_swap_in(int fd, struct fd_state *st);

#endif
