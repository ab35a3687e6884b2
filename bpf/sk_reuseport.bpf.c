/* sk_reuseport program, attached to the reuseport group of the reserved
 * port. It selects the listener filed under the virtual destination of the
 * SYN's overlay option, once the option's sender is known to speak for its
 * source vIP (trust.bpf.h). Anything else is dropped: SK_DROP makes the
 * kernel's listener lookup find no socket (bpf_run_sk_reuseport returns
 * -ECONNREFUSED, __inet_lookup_listener turns it into no listener), so
 * tcp_v4_rcv answers the SYN with a RST, exactly as for a closed port, and
 * the client gets ECONNREFUSED at once. Returning SK_PASS without a
 * selection would let the kernel pick a listener by hash, i.e. hand the
 * connection to some other container. The program also runs on the first
 * ACK of a SYN-cookie connection (no request socket to find), which repeats
 * the option: the same checks apply to it. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "slim_maps.h"
#include "storage.bpf.h"
#include "tcp_opt.bpf.h"
#include "trust.bpf.h"

SEC("sk_reuseport")
int slim_reuseport(struct sk_reuseport_md *md)
{
	struct slim_vaddr key = {};
	struct slim_tcp_opt opt;
	__u32 n;

	if (md->ip_protocol != IPPROTO_TCP)
		return SK_DROP;
	/* md's data starts at the TCP header. */
	if (slim_opt_find(md, 0, &opt))
		return SK_DROP;
	if (!slim_sender_trusted(md, &opt))
		return SK_DROP;
	key.ip = opt.dst_ip;
	key.port = opt.dst_port;
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
