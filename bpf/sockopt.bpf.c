/* cgroup sockopt programs, attached to the router's cgroup: they run for
 * every getsockopt/setsockopt system call on a socket the router created
 * (and on the sockets accepted from those), whoever makes the call.
 *
 * slim sets options on its own sockets for its own use: SO_REUSEADDR and
 * SO_REUSEPORT (bind4 on a listener, so that it joins the reserved port's
 * reuseport group; SO_REUSEADDR on a client's chosen source port), and
 * TCP_SAVE_SYN (sockops on every listener: the overlay option is read from
 * the saved SYN); the router sets all three on the listeners it makes. An
 * app must see these options as it set them itself, as it would on its own
 * socket, and must not undo what slim needs by setting them.
 *
 * setsockopt: on a stamped (owner) or accepted (peer) socket, the app's
 * value of one of these options is recorded in its app_opts storage. A
 * value that turns the option on goes on to the kernel; one that turns it
 * off does not (optlen -1: the kernel handler is skipped and the call
 * succeeds), since slim may need it on: the kernel's value is always the
 * higher of the app's and slim's. Turning one off has no effect the app
 * could see on these sockets: libslim binds a container socket (with the
 * recorded values) whenever the app's own bind decides anything.
 * getsockopt: on those sockets, these options report the recorded value,
 * or 0 (the default) when the app never set one.
 *
 * setsockopt is also the guard of these sockets' options: on a stamped
 * or accepted socket, an option outside the allow-list of
 * lib/opt_allow.bpf.h (SO_MARK, SO_BINDTODEVICE, SO_ATTACH_REUSEPORT_*BPF,
 * IP_TRANSPARENT, TCP_REPAIR...) is refused with EPERM (docs/architecture.md,
 * "Guards"). The kernel runs these programs for every 64-bit setsockopt;
 * the BPF LSM guard (guard.bpf.c), where the kernel has it, judges the
 * 32-bit ones too.
 *
 * getsockopt also answers slim's private level (SLIM_SOL, lib/abi.h): on a
 * slim listener's host socket, SLIM_TW_LEFT is how long the last TIME_WAIT
 * on its virtual address has still to run (lib/tw.bpf.h). The kernel knows
 * no such level and has failed the call (EOPNOTSUPP, ip_getsockopt's answer
 * for a level it does not know), which stands on any other socket.
 *
 * Everything else returns at once, with ctx->optlen 0: the kernel's answer
 * stands as it is, without being copied back (getsockopt) or copied into a
 * new buffer for the handler (setsockopt). These programs run on every
 * getsockopt of these sockets, libslim's own TCP_INFO reads included. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "slim_maps.h"
#include "storage.bpf.h"
#include "sockopt.bpf.h"
#include "opt_allow.bpf.h"
#include "tw.bpf.h"

enum app_opt { OPT_NONE, OPT_REUSEADDR, OPT_REUSEPORT, OPT_SAVE_SYN };

static __always_inline enum app_opt which(const struct bpf_sockopt *ctx)
{
	int level = ctx->level, name = ctx->optname;

	if (level == SOL_SOCKET)
		return name == SO_REUSEADDR   ? OPT_REUSEADDR
		       : name == SO_REUSEPORT ? OPT_REUSEPORT
					      : OPT_NONE;
	if (level == SOL_TCP && name == TCP_SAVE_SYN)
		return OPT_SAVE_SYN;
	return OPT_NONE;
}

/* A socket slim set options on: stamped by the router, or accepted on one
 * of its listeners. */
static __always_inline int slim_socket(struct bpf_sock *sk)
{
	return bpf_sk_storage_get(&owner, sk, 0, 0) || bpf_sk_storage_get(&peer, sk, 0, 0);
}

/* getsockopt(SLIM_SOL, SLIM_TW_LEFT) (abi.h). A slim listener: a host
 * socket stamped for a container (owner storage), listening; its virtual
 * address is the container's vip and the port the app bound (a listener
 * bound to 0.0.0.0 gets the connections for its vip). Returns 1, the
 * program's verdict. */
static __always_inline int tw_left(struct bpf_sockopt *ctx)
{
	struct bpf_sock *sk = ctx->sk;
	struct slim_owner *o;
	__u8 *p = ctx->optval;
	__u64 left;

	if (ctx->optname != SLIM_TW_LEFT || !sk || sk->state != BPF_TCP_LISTEN ||
	    ctx->optlen < (int)sizeof(left) || p + sizeof(left) > (__u8 *)ctx->optval_end)
		goto refuse;
	o = bpf_sk_storage_get(&owner, sk, 0, 0);
	if (!o || !o->dst_port)
		goto refuse;
	left = slim_tw_left(o->vip, o->dst_port);
	__builtin_memcpy(p, &left, sizeof(left));
	ctx->optlen = sizeof(left);
	ctx->retval = 0;
	return 1;
refuse:
	ctx->optlen = 0; /* the kernel's error stands */
	return 1;
}

SEC("cgroup/getsockopt")
int slim_getsockopt(struct bpf_sockopt *ctx)
{
	enum app_opt opt = which(ctx);
	struct bpf_sock *sk = ctx->sk;
	struct slim_app_opts *a;
	__u8 *p, *end;
	int v = 0;

	if (ctx->level == SLIM_SOL)
		return tw_left(ctx);
	/* A kernel error (EINVAL for a negative optlen...) stands. */
	if (opt == OPT_NONE || !sk || ctx->retval != 0 || ctx->optlen <= 0) {
		ctx->optlen = 0;
		return 1;
	}
	a = bpf_sk_storage_get(&app_opts, sk, 0, 0);
	if (a)
		v = opt == OPT_REUSEADDR   ? a->reuseaddr
		    : opt == OPT_REUSEPORT ? a->reuseport
					   : a->save_syn;
	else if (!slim_socket(sk)) {
		ctx->optlen = 0;
		return 1;
	}
	/* The kernel wrote min(optlen, 4) bytes of an int that is 0, 1 or 2
	 * (little-endian): a short buffer holds its low bytes, of which only
	 * the first can be non-zero. ctx->optlen stays the kernel's. */
	p = ctx->optval;
	end = ctx->optval_end;
	if (ctx->optlen >= 4 && p + 4 <= end)
		*(int *)p = v;
	else if (p + 1 <= end)
		*p = (__u8)v;
	return 1;
}

SEC("cgroup/setsockopt")
int slim_setsockopt(struct bpf_sockopt *ctx)
{
	enum app_opt opt = which(ctx);
	struct bpf_sock *sk = ctx->sk;
	struct slim_app_opts *a;
	__u8 *p = ctx->optval, *end = ctx->optval_end;
	int v;

	/* The guard: on a stamped or accepted socket, only the options of
	 * the allow-list (lib/opt_allow.bpf.h); any other is EPERM, the
	 * socket untouched. The options on it cost no lookup. */
	if (sk && !slim_opt_allowed(ctx->level, ctx->optname) && slim_socket(sk)) {
		ctx->optlen = 0;
		return 0;
	}
	/* A value the kernel refuses (optlen < 4: EINVAL; TCP_SAVE_SYN
	 * outside 0..2: EINVAL) goes to the kernel unrecorded. */
	if (opt == OPT_NONE || !sk || ctx->optlen < 4 || p + 4 > end)
		goto kernel;
	v = *(int *)p;
	if (opt == OPT_SAVE_SYN && (v < 0 || v > 2))
		goto kernel;
	a = bpf_sk_storage_get(&app_opts, sk, 0, 0);
	if (!a) {
		if (!slim_socket(sk))
			goto kernel;
		a = bpf_sk_storage_get(&app_opts, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
		if (!a)
			goto kernel; /* no memory: as if slim were not there */
	}
	if (opt == OPT_REUSEADDR)
		a->reuseaddr = v != 0;
	else if (opt == OPT_REUSEPORT)
		a->reuseport = v != 0;
	else
		a->save_syn = (__u8)v;
	/* On: the kernel applies it (slim's own value is on already, or
	 * not needed). Off: recorded only. */
	ctx->optlen = v ? 0 : -1;
	return 1;
kernel:
	ctx->optlen = 0;
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
