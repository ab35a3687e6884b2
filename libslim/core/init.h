/* libslim's start: one constructor reads the configuration once and
 * registers one chain of fork handlers in a defined order. */
#ifndef LIBSLIM_INIT_H
#define LIBSLIM_INIT_H

#include <stdbool.h>

/* True once libslim's constructor has run: the libraries it depends on (the
 * ASan runtime in a sanitizer build) are initialised by then. Another
 * library's constructor may call a hook before that (libcap-ng closes fds
 * under postgres). Lock-free; async-signal-safe. */
bool slim_ready(void);

#endif
