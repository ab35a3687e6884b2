/* Who may speak for which virtual addresses (layouts and reasons in
 * slim_maps.h): the sender check of the reserved port's reuseport program.
 * Weak map definitions, as in storage.bpf.h, so the linker merges them.
 * Include after storage.bpf.h (the routes trie). */
#ifndef SLIM_TRUST_BPF_H
#define SLIM_TRUST_BPF_H

#define SLIM_ETH_P_IP 0x0800

/* hosts: live cluster hosts' underlay addresses (router writes). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, SLIM_MAX_HOSTS);
	__type(key, __u32);
	__type(value, __u32);
} hosts SEC(".maps") __weak;

/* refused: refused SYNs by reason (enum slim_refuse), per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SLIM_REFUSE_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} refused SEC(".maps") __weak;

/* Is the sender of md's segment the host that owns the option's source
 * vIP? The IPv4 source of the segment must be the underlay address the
 * routes trie gives for opt->src_ip (a host that left has underlay 0,
 * which no packet comes from). Same-host connections pass the same way:
 * a client of this host connects to this host's own underlay address, so
 * the kernel sends the SYN from that address, which owns the local
 * subnet. Returns 1, or 0 after counting the reason in `refused`. */
static __always_inline int slim_sender_trusted(struct sk_reuseport_md *md,
					       const struct slim_tcp_opt *opt)
{
	struct slim_route_key k = {.prefixlen = 32, .subnet = opt->src_ip};
	struct slim_route_val *rt;
	__u32 saddr = 0, why;
	__u64 *n;

	if (md->eth_protocol != bpf_htons(SLIM_ETH_P_IP) ||
	    bpf_skb_load_bytes_relative(md, offsetof(struct iphdr, saddr), &saddr, sizeof(saddr),
					BPF_HDR_START_NET))
		saddr = 0;
	rt = bpf_map_lookup_elem(&routes, &k);
	if (saddr && rt && rt->underlay_ip == saddr)
		return 1;
	why = saddr && bpf_map_lookup_elem(&hosts, &saddr) ? SLIM_REFUSE_FOREIGN_SUBNET
							   : SLIM_REFUSE_NOT_A_HOST;
	n = bpf_map_lookup_elem(&refused, &why);
	if (n)
		*n += 1;
	return 0;
}

#endif
