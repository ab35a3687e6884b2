/* TIME_WAIT as the container would see it. */
#ifndef LIBSLIM_TIMEWAIT_H
#define LIBSLIM_TIMEWAIT_H

#include <stdint.h>

#include "common.h"
#include "fdtable.h"

/* close() of listener fd, whose record was st (taken before it was
 * cleared) and whose container side, if any, is resv (fdtable_take_resv),
 * called before fd is closed. If a TIME_WAIT of a connection accepted for
 * its virtual address (by any process) is still running, as the BPF
 * getsockopt answers it on fd (one system call), the container side goes
 * and the port stays bound by a socket that does not listen (as a
 * TIME_WAIT would: SO_REUSEADDR as the app's listener had it) until it
 * ends; else the container side is released (merge_release). Any other st
 * only closes resv. Preserves errno. Async-signal-safe. */
void slim_tw_closing(int fd, const struct fd_state *st, struct slim_resv resv);

/* Closes the kept reservations whose TIME_WAIT ended. Cheap when there is
 * nothing to do. For bind and listen. */
void slim_tw_sweep(void);

#endif
