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

/* A getsockopt level of slim's own: no kernel protocol has it (the SOL_*
 * numbers stay below 300), so the kernel fails it (EOPNOTSUPP) and only the
 * cgroup getsockopt program (bpf/sockopt.bpf.c) gives it a meaning. */
#define SLIM_SOL 0x534c /* "SL" */

/* getsockopt(fd, SLIM_SOL, SLIM_TW_LEFT, &left, &len), left a uint64_t
 * and len at least 8: on a slim listener's host socket, the nanoseconds
 * until the last TIME_WAIT on its virtual address ends (0: none), len set
 * to 8. A TIME_WAIT is noted when a connection accepted for that address,
 * by any process, sends its FIN first (sockops, the tw map); it lasts
 * SLIM_TW_LEN_NS from then, measured by the BPF program on the kernel's
 * clock, so the caller never compares clocks (a time namespace cannot
 * skew it). Anything else (another socket, a shorter buffer, no program
 * attached) fails with the kernel's EOPNOTSUPP. */
#define SLIM_TW_LEFT 1
#define SLIM_TW_LEN_NS (60ULL * 1000000000ULL) /* TCP_TIMEWAIT_LEN */

#endif
