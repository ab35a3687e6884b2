/* Finding slim's TCP option (struct slim_tcp_opt) in a segment, for the
 * programs that see the segment as bytes: the reserved port's sk_reuseport
 * program and the tc programs of the slim-to-plain translation. */
#ifndef SLIM_TCP_OPT_BPF_H
#define SLIM_TCP_OPT_BPF_H

#define SLIM_TCPOPT_EOL 0
#define SLIM_TCPOPT_NOP 1
#define SLIM_TCP_BASE_HDR_LEN 20
#define SLIM_TCP_MAX_OPT_BYTES 40

/* Walks the options of the TCP header that starts at byte tcp_off of ctx
 * (an sk_reuseport_md or a __sk_buff: both read with bpf_skb_load_bytes)
 * and copies slim's option into *opt. Returns 0 if it is there and well
 * formed (exact length), else -1 (none, or a malformed option list).
 * Options are read with bpf_skb_load_bytes at a variable offset: the
 * verifier rejects variable-offset reads from a stack copy. */
static __always_inline int slim_opt_find(void *ctx, __u32 tcp_off, struct slim_tcp_opt *opt)
{
	__u32 off = SLIM_TCP_BASE_HDR_LEN;
	__u32 hdr_len;
	__u8 doff, kind, len;
	__u16 exid;
	int i;

	if (bpf_skb_load_bytes(ctx, tcp_off + 12, &doff, 1))
		return -1;
	hdr_len = (__u32)(doff >> 4) * 4;
	if (hdr_len < SLIM_TCP_BASE_HDR_LEN + SLIM_OPT_LEN)
		return -1;

	/* Every step consumes at least one byte: 40 steps cover 40 bytes. */
	for (i = 0; i < SLIM_TCP_MAX_OPT_BYTES; i++) {
		if (off >= hdr_len)
			return -1;
		if (bpf_skb_load_bytes(ctx, tcp_off + off, &kind, 1))
			return -1;
		if (kind == SLIM_TCPOPT_EOL)
			return -1;
		if (kind == SLIM_TCPOPT_NOP) {
			off++;
			continue;
		}
		if (off + 2 > hdr_len || bpf_skb_load_bytes(ctx, tcp_off + off + 1, &len, 1))
			return -1;
		if (len < 2 || off + len > hdr_len)
			return -1; /* malformed option list */
		if (kind == SLIM_OPT_KIND && len >= 4) {
			if (bpf_skb_load_bytes(ctx, tcp_off + off + 2, &exid, sizeof(exid)))
				return -1;
			if (exid == bpf_htons(SLIM_OPT_EXID)) {
				/* Ours: the length must be exact. */
				if (len != SLIM_OPT_LEN ||
				    bpf_skb_load_bytes(ctx, tcp_off + off, opt, sizeof(*opt)))
					return -1;
				return 0;
			}
		}
		off += len;
	}
	return -1;
}

#endif
