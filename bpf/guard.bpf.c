/* BPF LSM programs: the guard of the host sockets slim hands to apps.
 *
 * Every TCP socket an app under slim holds is a socket of the host's
 * network namespace. libslim only makes libc calls on it; an app can make
 * raw system calls (on the fd, a dup of it, in a child). These programs
 * judge those calls where the kernel itself asks the LSMs, whoever makes
 * them and with whatever capabilities, so a host socket can do no more
 * than a container socket could:
 *
 *   socket_listen: a stamped socket (owner storage) listens only where
 *     slim put it, on this host's reserved port (the bind4 program moved
 *     it there for an overlay listener, or the router bound it there).
 *     Anything else, an unbound socket's autobind included, is EPERM; an
 *     accepted socket (peer storage) never listens.
 *   socket_setsockopt: on a stamped or accepted (peer storage) socket,
 *     only the options of the allow-list (lib/opt_allow.bpf.h); and from
 *     a 32-bit (compat) system call none of the three slim records
 *     (SO_REUSEADDR, SO_REUSEPORT, TCP_SAVE_SYN): the kernel runs no
 *     cgroup sockopt program for those calls, and turning one off would
 *     take the socket out of what slim relies on (a listener without
 *     SO_REUSEPORT on the reserved port blocks every later listener of
 *     the host).
 *
 *   file_ioctl, file_ioctl_compat: on a stamped or accepted socket, none
 *     of the socket ioctls that reach the network namespace's devices,
 *     routes or ARP table (judge_ioctl).
 *
 * bind and connect are judged by the cgroup sock_addr programs
 * (sock_addr.bpf.c), which see the address before the kernel uses it.
 *
 * LSM programs run for every socket of the machine: they judge only the
 * sockets stamped in this router's own maps and return at once for all
 * others (another router's sockets are that router's guard's to judge).
 * They return 0 or a negative errno; a verdict already made by another LSM
 * (ret) stands. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "slim_maps.h"
#include "storage.bpf.h"
#include "opt_allow.bpf.h"

/* uapi errno values (macros, not in vmlinux.h). */
#define EPERM 1
#define EINVAL 22

#define TS_COMPAT 0x0002 /* x86 thread_info.status: a 32-bit system call */

/* This host's reserved port (host byte order) as the routes map has it for
 * the container of o, or 0 when the router has no route for it now. */
static __always_inline __u16 reserved_port(const struct slim_owner *o)
{
	struct slim_route_key key = {.prefixlen = 32, .subnet = o->vip};
	struct slim_route_val *rv = bpf_map_lookup_elem(&routes, &key);

	return rv ? bpf_ntohs(rv->port) : 0;
}

SEC("lsm/socket_listen")
int BPF_PROG(slim_guard_listen, struct socket *sock, int backlog, int ret)
{
	struct sock *sk;
	struct slim_owner *o;
	__u16 port;

	if (ret)
		return ret;
	sk = sock->sk;
	if (!sk)
		return 0;
	o = bpf_sk_storage_get(&owner, sk, 0, 0);
	if (o) {
		port = reserved_port(o);
		if (port && sk->__sk_common.skc_num == port)
			return 0;
	} else if (!bpf_sk_storage_get(&peer, sk, 0, 0)) {
		return 0;
	}
	/* Refused: a stamped socket anywhere else, and an accepted socket
	 * always (one disconnected with connect(AF_UNSPEC) keeps the reserved
	 * port it inherited, and would join the reserved port's reuseport
	 * group). Where the kernel would refuse anyway (a connected socket),
	 * with its own answer, EINVAL, as in the container; still decided
	 * here, so a state that changes meanwhile lets nothing through. */
	if (sock->state != SS_UNCONNECTED ||
	    !((1 << sk->__sk_common.skc_state) & ((1 << TCP_CLOSE) | (1 << TCP_LISTEN))))
		return -EINVAL;
	return -EPERM;
}

/* True when the calling thread is in a 32-bit system call. */
static __always_inline int compat_call(void)
{
	struct task_struct *t = bpf_get_current_task_btf();

	if (!bpf_core_field_exists(t->thread_info.status))
		return 0;
	return (BPF_CORE_READ(t, thread_info.status) & TS_COMPAT) != 0;
}

SEC("lsm/socket_setsockopt")
int BPF_PROG(slim_guard_setsockopt, struct socket *sock, int level, int optname, int ret)
{
	struct sock *sk;

	if (ret)
		return ret;
	sk = sock->sk;
	if (!sk)
		return 0;
	if (!bpf_sk_storage_get(&owner, sk, 0, 0) && !bpf_sk_storage_get(&peer, sk, 0, 0))
		return 0;
	if (!slim_opt_allowed(level, optname))
		return -EPERM;
	if (((level == SOL_SOCKET && (optname == SO_REUSEADDR || optname == SO_REUSEPORT)) ||
	     (level == SOL_TCP && optname == TCP_SAVE_SYN)) &&
	    compat_call())
		return -EPERM;
	return 0;
}

/* Socket ioctls (type 0x89, SOCK_IOC_TYPE) act on the socket's network
 * namespace: on a host socket the host's interfaces, routes and ARP table
 * (SIOCGIFCONF lists them, SIOCSIF* changes them, with CAP_NET_ADMIN). The
 * kernel hands no other ioctl type of a socket to a device or to the
 * routing code (is_socket_ioctl_cmd): FIONREAD, FIONBIO and the rest go on
 * as they are. Of the socket ioctls, a stamped or accepted socket keeps
 * those about itself alone. */
#define SOCK_IOC_TYPE 0x89

static __always_inline int own_socket_ioctl(unsigned int cmd)
{
	switch (cmd) {
	case 0x8901:	 /* FIOSETOWN */
	case 0x8902:	 /* SIOCSPGRP */
	case 0x8903:	 /* FIOGETOWN */
	case 0x8904:	 /* SIOCGPGRP */
	case 0x8905:	 /* SIOCATMARK */
	case 0x8906:	 /* SIOCGSTAMP_OLD */
	case 0x8907:	 /* SIOCGSTAMPNS_OLD */
	case 0x80108906: /* SIOCGSTAMP_NEW */
	case 0x80108907: /* SIOCGSTAMPNS_NEW */
	case 0x894B:	 /* SIOCOUTQNSD */
		return 1;
	}
	return 0;
}

/* 0, or -EPERM for a socket ioctl outside own_socket_ioctl on a socket
 * stamped in this router's maps. */
static __always_inline int judge_ioctl(struct file *file, unsigned int cmd)
{
	struct socket *sock;
	struct sock *sk;

	if (((cmd >> 8) & 0xff) != SOCK_IOC_TYPE || own_socket_ioctl(cmd))
		return 0;
	sock = bpf_sock_from_file(file);
	if (!sock)
		return 0;
	sk = sock->sk;
	if (!sk)
		return 0;
	if (!bpf_sk_storage_get(&owner, sk, 0, 0) && !bpf_sk_storage_get(&peer, sk, 0, 0))
		return 0;
	return -EPERM;
}

SEC("lsm/file_ioctl")
int BPF_PROG(slim_guard_ioctl, struct file *file, unsigned int cmd, unsigned long arg, int ret)
{
	return ret ? ret : judge_ioctl(file, cmd);
}

/* The 32-bit ioctl path has a hook of its own. */
SEC("lsm/file_ioctl_compat")
int BPF_PROG(slim_guard_ioctl_compat, struct file *file, unsigned int cmd, unsigned long arg,
	     int ret)
{
	return ret ? ret : judge_ioctl(file, cmd);
}

char LICENSE[] SEC("license") = "GPL";
