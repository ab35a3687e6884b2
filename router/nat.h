/* The router's side of the slim-to-plain translation ("Mixed peers" in
 * docs/architecture.md): it attaches the tc programs (bpf/tc_nat.bpf.c) to
 * this host's underlay device, to lo and to each registered container's
 * host-side veth, and tells them which veth is whose (the ctr_ifs map).
 * The decisions are the kernel's, per SYN; the router is never on the
 * path of a packet.
 *
 * A failure here is logged and never stops the router or a `container
 * add`: without the translation, a slim client of a plain server gets
 * ECONNREFUSED, as before it existed. */
#ifndef SLIM_ROUTER_NAT_H
#define SLIM_ROUTER_NAT_H

#include <stdbool.h>

#include "daemon.h"

/* Before the sandbox, once the BPF objects are loaded and pinned and the
 * routes written: attaches slim_nat_in to the underlay device and lo, and
 * serves every registered container (nat_container_added), then removes
 * the ctr_ifs entries and tc pins a previous router left for what is no
 * longer served. Keeps an rtnetlink socket open for later container adds
 * (the sandbox allows no new netlink socket). */
void nat_start(struct router *r);

/* A container was registered: finds its host-side veth (the peer of the
 * interface that holds its vIP in its netns), attaches slim_nat_out there
 * and files it in ctr_ifs; sets c->veth. Logs what it could not do. A
 * no-op before nat_start. */
void nat_container_added(struct router *r, struct container *c);

/* A container was deleted (c is its last copy): its veth's program is
 * detached and its ctr_ifs entry removed. */
void nat_container_deleted(struct router *r, const struct container *c);

/* How many translated connections may still be open: entries of the nat
 * map that have seen neither a FIN each way nor a RST. Like listeners,
 * they keep the pins (and so the tc programs) when the router stops, so
 * that a restart does not break them. 0 when the translation is off. */
size_t nat_live(struct router *r);

/* The router stops. retire (no listener left, everything unpinned): the
 * tc programs are detached too; otherwise they stay, pinned, for the next
 * router. Closes the rtnetlink socket. */
void nat_stop(struct router *r, bool retire);

#endif
