/* sk_reuseport program, attached to the reuseport group of the reserved
 * port. It selects the listener filed under the virtual destination of the
 * SYN's overlay option. Anything else is dropped (the client gets a RST):
 * returning SK_PASS without a selection would let the kernel pick a listener
 * by hash, i.e. hand the connection to some other container. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "slim_maps.h"
#include "storage.bpf.h"

#define IPPROTO_TCP 6
#define TCPOPT_EOL 0
#define TCPOPT_NOP 1
#define TCP_BASE_HDR_LEN 20
#define TCP_MAX_OPT_BYTES 40

/* Walks the TCP options (md data starts at the TCP header) and fills key
 * from the slim option. Returns 0 if found and well formed, else -1.
 * Options are read with bpf_skb_load_bytes at a variable offset: the
 * verifier rejects variable-offset reads from a stack copy. */
static __always_inline int find_slim_opt(struct sk_reuseport_md *md, struct slim_vaddr *key)
{
	struct slim_tcp_opt opt;
	__u32 off = TCP_BASE_HDR_LEN;
	__u32 hdr_len;
	__u8 doff, kind, len;
	int i;

	if (bpf_skb_load_bytes(md, 12, &doff, 1))
		return -1;
	hdr_len = (__u32)(doff >> 4) * 4;
	if (hdr_len < TCP_BASE_HDR_LEN + SLIM_OPT_LEN)
		return -1;

	/* Every step consumes at least one byte: 40 steps cover 40 bytes. */
	for (i = 0; i < TCP_MAX_OPT_BYTES; i++) {
		if (off >= hdr_len)
			return -1;
		if (bpf_skb_load_bytes(md, off, &kind, 1))
			return -1;
		if (kind == TCPOPT_EOL)
			return -1;
		if (kind == TCPOPT_NOP) {
			off++;
			continue;
		}
		if (off + 2 > hdr_len || bpf_skb_load_bytes(md, off + 1, &len, 1))
			return -1;
		if (len < 2 || off + len > hdr_len)
			return -1; /* malformed option list */
		if (kind == SLIM_OPT_KIND && len >= 4) {
			if (bpf_skb_load_bytes(md, off + 2, &opt.exid, sizeof(opt.exid)))
				return -1;
			if (opt.exid == bpf_htons(SLIM_OPT_EXID)) {
				/* Ours: the length must be exact. */
				if (len != SLIM_OPT_LEN ||
				    bpf_skb_load_bytes(md, off, &opt, sizeof(opt)))
					return -1;
				key->ip = opt.dst_ip;
				key->port = opt.dst_port;
				key->slot = 0;
				return 0;
			}
		}
		off += len;
	}
	return -1;
}

SEC("sk_reuseport")
int slim_reuseport(struct sk_reuseport_md *md)
{
	struct slim_vaddr key = {};
	__u32 n;

	if (md->ip_protocol != IPPROTO_TCP)
		return SK_DROP;
	if (find_slim_opt(md, &key))
		return SK_DROP;
	/* One listener per virtual address is the rule (slot 0); an
	 * SO_REUSEPORT group of the app has one per slot, filled from 0 up.
	 * Count the filled run from slot 0 (each try that succeeds selects,
	 * the last success stands), then let the flow hash pick among them,
	 * as the kernel spreads a reuseport group's connections. The usual
	 * single listener costs two tries more than one. */
	for (n = 0; n < SLIM_LISTENER_SLOTS; n++) {
		key.slot = (__u16)n;
		if (bpf_sk_select_reuseport(md, &listeners, &key, 0))
			break;
	}
	if (n > 1) {
		key.slot = (__u16)(md->hash % n);
		(void)bpf_sk_select_reuseport(md, &listeners, &key, 0);
		return SK_PASS;
	}
	if (n == 1)
		return SK_PASS;
	/* Slot 0 closed while others of its group listen: any of them. */
	for (n = 1; n < SLIM_LISTENER_SLOTS; n++) {
		key.slot = (__u16)n;
		if (bpf_sk_select_reuseport(md, &listeners, &key, 0) == 0)
			return SK_PASS;
	}
	return SK_DROP;
}
