/* tc programs of the slim-to-plain translation ("Mixed peers" in
 * docs/architecture.md). A slim client always connects to the destination
 * host's reserved port; when the virtual destination has no slim listener
 * there, this host answers for the container instead: the connection is
 * carried into the plain container network, where the container's own
 * kernel serves it (its plain server, or a RST when nothing listens).
 *
 * slim_nat_in: tcx ingress of the underlay device and of lo (a client of
 *   this very host connects to its own underlay address over lo). Decides
 *   each SYN that carries slim's option, and translates every packet of a
 *   translated connection (h1:e -> h2:R becomes vsrc:e -> vdst:vport) into
 *   the container (bpf_redirect_peer).
 * slim_nat_out: tcx ingress of a registered container's host-side veth.
 *   Translates the container's replies back (vdst:vport -> vsrc:e becomes
 *   h2:R -> h1:e) and sends them to the client host, or up this host's own
 *   stack for a client of this host. Every other SYN-ACK the container
 *   sends from a port of its vIP where a slim listener is filed answers a
 *   plain client of that listener (its container side): counted as
 *   plain-to-slim in path_stats, and let go.
 *
 * Everything else is left alone (TC_ACT_OK), untouched. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "slim_maps.h"
#include "storage.bpf.h"
#include "nat.bpf.h"
#include "tcp_opt.bpf.h"

/* uapi macros, not in vmlinux.h */
#define TC_ACT_OK 0
#define TC_ACT_SHOT 2
#define ETH_P_IP 0x0800
#define ETH_HLEN 14
#define IP_MF 0x2000
#define IP_OFFMASK 0x1fff
#define LOOPBACK_IFINDEX 1
#define TCPHDR_FIN 0x01
#define TCPHDR_SYN 0x02
#define TCPHDR_RST 0x04
#define TCPHDR_ACK 0x10

/* Offsets in the frame: Ethernet (lo has a zeroed Ethernet header too),
 * IPv4 without options, then TCP. */
#define IP_OFF ETH_HLEN
#define IP_CSUM_OFF (IP_OFF + offsetof(struct iphdr, check))
#define IP_ADDRS_OFF (IP_OFF + offsetof(struct iphdr, saddr))
#define TCP_OFF (IP_OFF + sizeof(struct iphdr))
#define TCP_SPORT_OFF (TCP_OFF + offsetof(struct tcphdr, source))
#define TCP_DPORT_OFF (TCP_OFF + offsetof(struct tcphdr, dest))
#define TCP_FLAGS_OFF (TCP_OFF + 13)
#define TCP_CSUM_OFF (TCP_OFF + offsetof(struct tcphdr, check))

/* What the programs need of one segment. */
struct seg {
	__u32 saddr, daddr; /* network order */
	__u16 sport, dport; /* network order */
	__u8 flags;	    /* TCP flags byte */
};

/* Reads the addresses, ports and flags of an IPv4 TCP segment in an
 * Ethernet frame. Returns 0, or -1 for anything else (other protocols, IP
 * options, fragments), which the programs leave alone. */
static __always_inline int parse(struct __sk_buff *skb, struct seg *s)
{
	void *data, *end;
	struct iphdr *ip;
	struct tcphdr *tcp;

	if (skb->protocol != bpf_htons(ETH_P_IP))
		return -1;
	data = (void *)(long)skb->data;
	end = (void *)(long)skb->data_end;
	if (data + TCP_OFF + sizeof(*tcp) > end) {
		/* Headers not in the linear part (rare): pull them once. */
		if (skb->len < TCP_OFF + sizeof(*tcp) ||
		    bpf_skb_pull_data(skb, TCP_OFF + sizeof(*tcp)))
			return -1;
		data = (void *)(long)skb->data;
		end = (void *)(long)skb->data_end;
		if (data + TCP_OFF + sizeof(*tcp) > end)
			return -1;
	}
	ip = data + IP_OFF;
	tcp = data + TCP_OFF;
	if (ip->version != 4 || ip->ihl != 5 || ip->protocol != IPPROTO_TCP ||
	    (ip->frag_off & bpf_htons(IP_MF | IP_OFFMASK)))
		return -1;
	s->saddr = ip->saddr;
	s->daddr = ip->daddr;
	s->sport = tcp->source;
	s->dport = tcp->dest;
	s->flags = ((__u8 *)tcp)[13];
	return 0;
}

/* Has client port port (network order) ever had a translated connection
 * (nat_ports)? An array lookup the verifier inlines: the cheap test that
 * lets every other segment go. */
static __always_inline int port_used(__u16 port)
{
	__u16 p = bpf_ntohs(port);
	__u32 word = p >> 6;
	__u64 *w = bpf_map_lookup_elem(&nat_ports, &word);

	return w && (*w & (1ULL << (p & 63)));
}

/* Marks client port port (network order) in nat_ports. */
static __always_inline void mark_port(__u16 port)
{
	__u16 p = bpf_ntohs(port);
	__u32 word = p >> 6;
	__u64 bit = 1ULL << (p & 63), *w = bpf_map_lookup_elem(&nat_ports, &word);

	if (w && !(*w & bit))
		__sync_fetch_and_or(w, bit);
}

/* The owning host of a virtual address (routes trie), or NULL. */
static __always_inline struct slim_route_val *route_of(__u32 vip)
{
	struct slim_route_key k = {.prefixlen = 32, .subnet = vip};

	return bpf_map_lookup_elem(&routes, &k);
}

/* Is a slim listener filed for vip:port, in any slot? The reuseport
 * program takes any filled slot (slot 0 first), so the same question
 * decides here. Each lookup takes a reference on the socket, released at
 * once: only its presence matters. */
static __always_inline int has_listener(__u32 vip, __u16 port)
{
	struct slim_vaddr k = {.ip = vip, .port = port};
	struct bpf_sock *sk;

	for (__u16 i = 0; i < SLIM_LISTENER_SLOTS; i++) {
		k.slot = i;
		sk = bpf_map_lookup_elem(&listeners, &k);
		if (sk) {
			bpf_sk_release(sk);
			return 1;
		}
	}
	return 0;
}

/* Rewrites the segment's addresses to (saddr, daddr) and the port at
 * port_off from old_port to new_port, keeping the IP and TCP checksums
 * right: the address change goes into the TCP checksum as a pseudo-header
 * change (BPF_F_PSEUDO_HDR), which is also right for CHECKSUM_PARTIAL
 * skbs (GSO, lo, veth: only the pseudo-header sum is in the field) and
 * keeps skb->csum right for CHECKSUM_COMPLETE ones. Returns 0 or -1. */
static __always_inline int rewrite(struct __sk_buff *skb, const struct seg *s, __u32 saddr,
				   __u32 daddr, __u32 port_off, __u16 old_port, __u16 new_port)
{
	__u32 old_addrs[2] = {s->saddr, s->daddr};
	__u32 new_addrs[2] = {saddr, daddr};
	__s64 diff;

	diff = bpf_csum_diff(old_addrs, sizeof(old_addrs), new_addrs, sizeof(new_addrs), 0);
	if (diff < 0)
		return -1;
	if (bpf_l3_csum_replace(skb, IP_CSUM_OFF, 0, (__u32)diff, 0) ||
	    bpf_l4_csum_replace(skb, TCP_CSUM_OFF, 0, (__u32)diff, BPF_F_PSEUDO_HDR) ||
	    bpf_l4_csum_replace(skb, TCP_CSUM_OFF, old_port, new_port, sizeof(new_port)) ||
	    bpf_skb_store_bytes(skb, IP_ADDRS_OFF, new_addrs, sizeof(new_addrs), 0) ||
	    bpf_skb_store_bytes(skb, port_off, &new_port, sizeof(new_port), 0))
		return -1;
	return 0;
}

/* Client -> container: (h1:e -> h2:R) becomes (vsrc:e -> vdst:vport), in
 * a frame from the container's host-side veth to the container, handed
 * straight to the container's interface (bpf_redirect_peer: no second pass
 * through this host's stack). */
static __always_inline int to_container(struct __sk_buff *skb, const struct seg *s,
					const struct slim_nat_val *v)
{
	__u8 macs[12];

	__builtin_memcpy(macs, v->ctr_mac, 6);
	__builtin_memcpy(macs + 6, v->host_mac, 6);
	if (rewrite(skb, s, v->vsrc, v->vdst, TCP_DPORT_OFF, s->dport, v->vport) ||
	    bpf_skb_store_bytes(skb, 0, macs, sizeof(macs), 0))
		return TC_ACT_SHOT;
	return bpf_redirect_peer(v->ctr_if, 0);
}

/* A SYN to this host's reserved port that no longer goes to the plain
 * network (or a SYN that does not carry the option) must not find an
 * entry a previous connection of the same client tuple left. Only an
 * entry for this very destination goes: the client's host may use the
 * same port towards another port of this host meanwhile. */
static __always_inline int forget(const struct seg *s, const struct slim_nat_key *k)
{
	struct slim_nat_val *v;

	if (!port_used(k->client_port))
		return TC_ACT_OK;
	v = bpf_map_lookup_elem(&nat, k);
	if (v && v->host_ip == s->daddr && v->host_port == s->dport)
		bpf_map_delete_elem(&nat, k);
	return TC_ACT_OK;
}

/* Decides a SYN: translated when it carries the option, is addressed to
 * this host's reserved port for a container registered here that has no
 * slim listener on that port, and comes from the host that owns the
 * client's subnet. Anything else goes on to the reserved port as before
 * (a slim listener, or the reuseport program's drop: a RST). The decision
 * is written (or the old one deleted) at every SYN, retransmissions too. */
static __always_inline int on_syn(struct __sk_buff *skb, const struct seg *s,
				  const struct slim_nat_key *k)
{
	struct slim_route_val *dst_rt, *src_rt;
	struct slim_ctr_if *ctr;
	struct slim_nat_val v = {};
	struct slim_tcp_opt opt;

	if (slim_opt_find(skb, TCP_OFF, &opt))
		return forget(s, k);
	dst_rt = route_of(opt.dst_ip);
	if (!dst_rt || dst_rt->underlay_ip != s->daddr || dst_rt->port != s->dport)
		return TC_ACT_OK; /* not this host's reserved port for that subnet */
	/* A client connecting to its own vIP: the container would answer
	 * itself, never through its veth. Left to the reserved port. */
	if (opt.src_ip == opt.dst_ip || has_listener(opt.dst_ip, opt.dst_port))
		return forget(s, k);
	ctr = bpf_map_lookup_elem(&ctr_ifs, &opt.dst_ip);
	src_rt = route_of(opt.src_ip);
	if (!ctr || !src_rt || src_rt->underlay_ip != s->saddr)
		return forget(s, k);
	v.vsrc = opt.src_ip;
	v.vdst = opt.dst_ip;
	v.vport = opt.dst_port;
	v.host_ip = s->daddr;
	v.host_port = s->dport;
	v.ctr_if = ctr->ifindex;
	v.client_if = skb->ingress_ifindex;
	__builtin_memcpy(v.host_mac, ctr->host_mac, 6);
	__builtin_memcpy(v.ctr_mac, ctr->ctr_mac, 6);
	if (bpf_map_update_elem(&nat, k, &v, BPF_ANY))
		return forget(s, k);
	mark_port(k->client_port);
	slim_count_path(SLIM_PATH_SLIM_TO_PLAIN);
	return to_container(skb, s, &v);
}

/* Notes the end of a connection in its entry: a FIN of this direction
 * (*fin) or a RST. Written only when it changes, so the usual segment
 * leaves the entry's cache line clean. */
static __always_inline void note_end(const struct seg *s, __u8 *fin, __u8 *reset)
{
	if ((s->flags & TCPHDR_FIN) && !*fin)
		*fin = 1;
	if ((s->flags & TCPHDR_RST) && !*reset)
		*reset = 1;
}

SEC("tc")
int slim_nat_in(struct __sk_buff *skb)
{
	struct slim_nat_key k = {};
	struct slim_nat_val *v;
	struct seg s;

	if (parse(skb, &s))
		return TC_ACT_OK;
	k.client_ip = s.saddr;
	k.client_port = s.sport;
	if ((s.flags & (TCPHDR_SYN | TCPHDR_ACK)) == TCPHDR_SYN)
		return on_syn(skb, &s, &k);
	if (!port_used(s.sport))
		return TC_ACT_OK;
	v = bpf_map_lookup_elem(&nat, &k);
	if (!v || v->host_ip != s.daddr || v->host_port != s.dport)
		return TC_ACT_OK;
	note_end(&s, &v->fin_client, &v->reset);
	return to_container(skb, &s, v);
}

/* A reply for a client of this very host: up this host's stack as if it
 * had come in on lo, where the client socket (connected to this host's
 * own underlay address) finds it. The frame gets lo's all-zero addresses
 * so that eth_type_trans makes it PACKET_HOST. It carries no route, so IP
 * input routes it and checks its source, a local address: the router sets
 * lo's accept_local for that (fib_validate_source; router/nat.c). */
static __always_inline int to_local_stack(struct __sk_buff *skb)
{
	__u8 zero[12] = {};

	if (bpf_skb_store_bytes(skb, 0, zero, sizeof(zero), 0))
		return TC_ACT_SHOT;
	return bpf_redirect(LOOPBACK_IFINDEX, BPF_F_INGRESS);
}

/* The entry of the translated connection a segment from the container
 * (ingress_ifindex: its veth) belongs to, or NULL: only a segment of a
 * translated connection, coming out of the very container it was
 * translated to, has one. k is filled with the entry's key. */
static __always_inline struct slim_nat_val *translated(const struct seg *s, __u32 ingress_ifindex,
						       struct slim_nat_key *k)
{
	struct slim_route_val *rt;
	struct slim_nat_val *v;

	if (!port_used(s->dport))
		return NULL;
	rt = route_of(s->daddr);
	if (!rt || !rt->underlay_ip)
		return NULL;
	k->client_ip = rt->underlay_ip;
	k->client_port = s->dport;
	v = bpf_map_lookup_elem(&nat, k);
	if (!v || v->vsrc != s->daddr || v->vdst != s->saddr || v->vport != s->sport ||
	    v->ctr_if != ingress_ifindex)
		return NULL;
	return v;
}

/* A plain client's connection to a slim listener (docs/architecture.md,
 * "Mixed peers"): the container's SYN-ACK from vIP:port where a slim
 * listener is filed, which only its container side sends. Counted once per
 * SYN-ACK: a retransmitted one counts again. A connection over the
 * container's own lo (127.0.0.1, its own vIP) never crosses the veth and
 * is not counted. Only SYN-ACKs look anything up. */
static __always_inline void count_plain_to_slim(const struct seg *s)
{
	if ((s->flags & (TCPHDR_SYN | TCPHDR_ACK)) == (TCPHDR_SYN | TCPHDR_ACK) &&
	    has_listener(s->saddr, s->sport))
		slim_count_path(SLIM_PATH_PLAIN_TO_SLIM);
}

/* Container -> client: (vdst:vport -> vsrc:e) becomes (h2:R -> h1:e) for
 * a translated connection; any other segment goes on untouched. */
SEC("tc")
int slim_nat_out(struct __sk_buff *skb)
{
	struct slim_nat_key k = {};
	struct slim_nat_val *v;
	struct seg s;

	if (parse(skb, &s))
		return TC_ACT_OK;
	v = translated(&s, skb->ingress_ifindex, &k);
	if (!v) {
		count_plain_to_slim(&s);
		return TC_ACT_OK;
	}
	note_end(&s, &v->fin_server, &v->reset);
	if (rewrite(skb, &s, v->host_ip, k.client_ip, TCP_SPORT_OFF, s.sport, v->host_port))
		return TC_ACT_SHOT;
	if (v->client_if == LOOPBACK_IFINDEX)
		return to_local_stack(skb);
	/* Another host: routed and resolved by the kernel, out of the
	 * interface the client's SYN came in by. */
	return bpf_redirect_neigh(v->client_if, NULL, 0, 0);
}

char LICENSE[] SEC("license") = "GPL";
