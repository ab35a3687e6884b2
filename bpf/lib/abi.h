/* What user-space programs and the BPF programs agree on beyond the map
 * layout: values user space passes through system calls that a BPF program
 * then reads. libslim includes this header alone (it has no business with
 * the maps); slim_maps.h includes it for everything else. */
#ifndef SLIM_ABI_H
#define SLIM_ABI_H

/* The address libslim binds a pool socket to when the app binds 0.0.0.0
 * (255.255.255.255, host byte order). A pool socket bound to its vip or to
 * this mark is taken by the bind4 program as an overlay listener and bound
 * to the reserved port instead; a real 0.0.0.0 bind is left alone. */
#define SLIM_BIND_ANY_MARK 0xffffffffu

#endif
