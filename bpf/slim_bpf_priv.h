/* What the loader's own files (slim_bpf.c, tc_link.c) share beyond
 * slim_bpf.h: the skeleton stays inside slim_bpf.c. */
#ifndef SLIM_BPF_PRIV_H
#define SLIM_BPF_PRIV_H

#include "slim_bpf.h"

/* The fd of tc program p, or -1 with errno (not loaded). */
int slim_bpf__tc_prog_fd(const struct slim_bpf *b, enum slim_tc_prog p);

/* The directory slim_bpf_pin pinned the maps in, "" before (or after
 * slim_bpf_unpin). */
const char *slim_bpf__pin_dir(const struct slim_bpf *b);

#endif
