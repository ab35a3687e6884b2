/* The TIME_WAIT emulation's map (layout in slim_maps.h, struct
 * slim_tw_key) and its two uses: sockops notes a TIME_WAIT when an
 * accepted connection sends its FIN first, the getsockopt program tells a
 * listener how much of it is left (SLIM_TW_LEFT, abi.h). A weak
 * definition, as in storage.bpf.h, so the linker merges the two objects'
 * copies into one map. */
#ifndef SLIM_TW_BPF_H
#define SLIM_TW_BPF_H

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SLIM_TW_ENTRIES);
	__type(key, struct slim_tw_key);
	__type(value, __u64);
} tw SEC(".maps") __weak;

/* Notes that a TIME_WAIT on vip:port (network byte order) starts now. */
static __always_inline void slim_tw_note(__u32 vip, __u16 port)
{
	struct slim_tw_key k = {.ip = vip, .port = port};
	__u64 now = bpf_ktime_get_ns();

	bpf_map_update_elem(&tw, &k, &now, BPF_ANY);
}

/* Nanoseconds until the last TIME_WAIT noted on vip:port ends, 0 if there
 * is none or it has ended. */
static __always_inline __u64 slim_tw_left(__u32 vip, __u16 port)
{
	struct slim_tw_key k = {.ip = vip, .port = port};
	__u64 *start = bpf_map_lookup_elem(&tw, &k), end, now;

	if (!start)
		return 0;
	end = *start + SLIM_TW_LEN_NS;
	now = bpf_ktime_get_ns();
	return now < end ? end - now : 0;
}

#endif
