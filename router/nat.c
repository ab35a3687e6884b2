/* Attaching the slim-to-plain translation: rtnetlink to find interfaces,
 * slim_bpf_tc_* to attach and pin, the ctr_ifs map for the tc programs. */
#include "nat.h"
#include "log.h"
#include "rtnl.h"
#include "slim_bpf.h"
#include "slim_maps.h"
#include "wire.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if_arp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LOOPBACK_IFINDEX 1

/* The host-side veth of the container: the peer of the interface that
 * holds its vIP in its netns, checked from both ends (the link found in
 * this netns must be a veth whose peer is that very interface of that very
 * netns). Fills host (the veth) and ctr (the container's interface).
 * Returns 0, or a positive errno with one line in why. */
static int find_veth(struct router *r, const struct container *c, struct rtnl_link *host,
		     struct rtnl_link *ctr, char *why, size_t whylen)
{
	int ns_fd, nsid, cif, e;

	ns_fd = open(c->netns, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (ns_fd < 0)
		return slim_fail(errno, why, whylen, "netns %s: %s", c->netns, strerror(errno));
	e = rtnl_nsid(r->nat_nl, ns_fd, &nsid);
	close(ns_fd);
	if (e)
		return slim_fail(e, why, whylen, "no netnsid for %s: %s", c->netns, strerror(e));
	e = rtnl_addr_ifindex(r->nat_nl, nsid, htonl(c->vip), &cif);
	if (e)
		return slim_fail(e, why, whylen, "no interface holds %s in %s: %s", ip_str(c->vip),
				 c->netns, strerror(e));
	e = rtnl_link_get(r->nat_nl, nsid, cif, ctr);
	if (e)
		return slim_fail(e, why, whylen, "interface %d of %s: %s", cif, c->netns,
				 strerror(e));
	if (strcmp(ctr->kind, "veth") != 0 || ctr->peer_ifindex <= 0)
		return slim_fail(ENODEV, why, whylen, "%s in %s is not a veth", ctr->name,
				 c->netns);
	e = rtnl_link_get(r->nat_nl, RTNL_SELF, ctr->peer_ifindex, host);
	if (e || strcmp(host->kind, "veth") != 0 || host->peer_ifindex != cif ||
	    host->peer_nsid != nsid || host->type != ARPHRD_ETHER)
		return slim_fail(ENODEV, why, whylen,
				 "the peer of %s (%s) is not a veth of this network namespace",
				 ctr->name, c->netns);
	return 0;
}

void nat_container_added(struct router *r, struct container *c)
{
	struct rtnl_link host, ctr;
	struct slim_ctr_if v = {0};
	uint32_t key = htonl(c->vip);
	char why[256];

	c->veth = 0;
	if (r->nat_nl < 0)
		return;
	if (find_veth(r, c, &host, &ctr, why, sizeof(why)) != 0) {
		rlog("container %s: %s: slim clients will not reach its plain servers", c->name,
		     why);
		return;
	}
	if (slim_bpf_tc_attach(r->bpf, host.ifindex, SLIM_TC_OUT, why, sizeof(why)) != 0) {
		rlog("container %s: %s: slim clients will not reach its plain servers", c->name,
		     why);
		return;
	}
	v.ifindex = (uint32_t)host.ifindex;
	memcpy(v.host_mac, host.mac, sizeof(v.host_mac));
	memcpy(v.ctr_mac, ctr.mac, sizeof(v.ctr_mac));
	if (bpf_map_update_elem(slim_bpf_map_fd(r->bpf, SLIM_MAP_CTR_IFS), &key, &v, BPF_ANY)) {
		rlog("container %s: ctr_ifs map: %s: slim clients will not reach its plain servers",
		     c->name, strerror(errno));
		slim_bpf_tc_detach(r->bpf, host.ifindex);
		return;
	}
	c->veth = host.ifindex;
}

void nat_container_deleted(struct router *r, const struct container *c)
{
	uint32_t key = htonl(c->vip);

	if (r->nat_nl < 0)
		return;
	bpf_map_delete_elem(slim_bpf_map_fd(r->bpf, SLIM_MAP_CTR_IFS), &key);
	if (c->veth)
		slim_bpf_tc_detach(r->bpf, c->veth);
}

/* Attaches slim_nat_in to the interface that holds this host's underlay
 * address (and records it), unless that is lo, which is served anyway.
 * Returns 0, or -1 after logging. */
static int attach_underlay(struct router *r)
{
	struct rtnl_link l;
	char why[256];
	int ifindex, e;

	e = rtnl_addr_ifindex(r->nat_nl, RTNL_SELF, htonl(r->self.underlay_ip), &ifindex);
	if (!e)
		e = rtnl_link_get(r->nat_nl, RTNL_SELF, ifindex, &l);
	if (e) {
		rlog(
		    "slim-to-plain translation off: no interface holds the underlay address %s: %s",
		    ip_str(r->self.underlay_ip), strerror(e));
		return -1;
	}
	if (ifindex == LOOPBACK_IFINDEX)
		return 0;
	/* The tc programs read an Ethernet header (lo has one too). */
	if (l.type != ARPHRD_ETHER) {
		rlog("slim-to-plain translation off: the underlay interface %s is not Ethernet",
		     l.name);
		return -1;
	}
	if (slim_bpf_tc_attach(r->bpf, ifindex, SLIM_TC_IN, why, sizeof(why)) != 0) {
		rlog("slim-to-plain translation off: %s", why);
		return -1;
	}
	r->nat_underlay_if = ifindex;
	return 0;
}

/* Removes the ctr_ifs entries of vIPs that are not registered containers
 * with a veth (a previous router's). Deleting restarts the walk. */
static void prune_ctr_ifs(struct router *r)
{
	int fd = slim_bpf_map_fd(r->bpf, SLIM_MAP_CTR_IFS);
	uint32_t k, next, *prev = NULL;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		const struct container *c = reg_by_vip(&r->reg, ntohl(next));
		if (c && c->veth) {
			k = next;
			prev = &k;
			continue;
		}
		if (bpf_map_delete_elem(fd, &next) != 0)
			break;
		prev = NULL;
	}
}

/* Replies for clients of this host are handed to lo's ingress without a
 * route attached (bpf/tc_nat.bpf.c, to_local_stack); their source is this
 * host's own underlay address, which IP input refuses as a martian unless
 * the interface accepts local sources (fib_validate_source). Only packets
 * that arrive on lo without a route (redirected by a BPF program, or
 * injected by root with a packet socket) are concerned: everything the
 * host sends itself over lo keeps its route and is never checked. Returns
 * 0, or a positive errno. */
static int lo_accept_local(void)
{
	const char *path = "/proc/sys/net/ipv4/conf/lo/accept_local";
	int fd = open(path, O_WRONLY | O_CLOEXEC), e = 0;

	if (fd < 0)
		return errno;
	if (write(fd, "1\n", 2) != 2)
		e = errno ? errno : EIO;
	close(fd);
	return e;
}

void nat_start(struct router *r)
{
	char why[256];
	size_t n = 0, veths = 0;
	int *keep, e;

	r->nat_nl = rtnl_open();
	if (r->nat_nl < 0) {
		rlog("slim-to-plain translation off: rtnetlink: %s", strerror(errno));
		return;
	}
	if (attach_underlay(r) != 0) {
		nat_stop(r, true);
		return;
	}
	e = lo_accept_local();
	if (e) {
		rlog("slim-to-plain translation off: cannot set net.ipv4.conf.lo.accept_local: %s",
		     strerror(e));
		nat_stop(r, true);
		return;
	}
	if (slim_bpf_tc_attach(r->bpf, LOOPBACK_IFINDEX, SLIM_TC_IN, why, sizeof(why)) != 0) {
		rlog("slim-to-plain translation off: %s", why);
		nat_stop(r, true);
		return;
	}
	for (size_t i = 0; i < r->reg.n; i++) {
		nat_container_added(r, &r->reg.c[i]);
		veths += r->reg.c[i].veth != 0;
	}
	prune_ctr_ifs(r);
	/* What a previous router pinned for interfaces no longer served. */
	keep = calloc(r->reg.n + 2, sizeof(*keep));
	if (keep) {
		keep[n++] = LOOPBACK_IFINDEX;
		if (r->nat_underlay_if)
			keep[n++] = r->nat_underlay_if;
		for (size_t i = 0; i < r->reg.n; i++)
			if (r->reg.c[i].veth)
				keep[n++] = r->reg.c[i].veth;
		slim_bpf_tc_prune(r->bpf, keep, n);
		free(keep);
	}
	rlog("slim-to-plain translation on: %s%s, %zu container veth%s",
	     r->nat_underlay_if ? "the underlay interface and " : "", "lo", veths,
	     veths == 1 ? "" : "s");
}

size_t nat_live(struct router *r)
{
	struct slim_nat_key k, next, *prev = NULL;
	struct slim_nat_val v;
	size_t n = 0;
	int fd;

	if (!r->bpf)
		return 0;
	fd = slim_bpf_map_fd(r->bpf, SLIM_MAP_NAT);
	while (fd >= 0 && bpf_map_get_next_key(fd, prev, &next) == 0) {
		if (bpf_map_lookup_elem(fd, &next, &v) == 0 && !v.reset &&
		    !(v.fin_client && v.fin_server))
			n++;
		k = next;
		prev = &k;
	}
	return n;
}

void nat_stop(struct router *r, bool retire)
{
	if (r->nat_nl < 0)
		return;
	if (retire) {
		for (size_t i = 0; i < r->reg.n; i++)
			if (r->reg.c[i].veth)
				slim_bpf_tc_detach(r->bpf, r->reg.c[i].veth);
		slim_bpf_tc_detach(r->bpf, LOOPBACK_IFINDEX);
		if (r->nat_underlay_if)
			slim_bpf_tc_detach(r->bpf, r->nat_underlay_if);
	}
	close(r->nat_nl);
	r->nat_nl = -1;
	r->nat_underlay_if = 0;
}
