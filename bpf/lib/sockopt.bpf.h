/* Socket option numbers (uapi macros, so not in vmlinux.h) of the options
 * slim sets on its own sockets for its own use: bind4 (SO_REUSEADDR,
 * SO_REUSEPORT), sockops (TCP_SAVE_SYN), and the cgroup sockopt programs
 * that make them read back as the app set them (sockopt.bpf.c). */
#ifndef SLIM_SOCKOPT_BPF_H
#define SLIM_SOCKOPT_BPF_H

#define SOL_SOCKET 1
#define SO_REUSEADDR 2
#define SO_REUSEPORT 15

#define SOL_TCP 6
#define TCP_SAVE_SYN 27

#endif
