/* The maps of the slim-to-plain translation (layouts in slim_maps.h),
 * shared by the tc programs (tc_nat.bpf.c) and sockops (path_stats). Weak
 * definitions, as in storage.bpf.h, so the linker merges them. */
#ifndef SLIM_NAT_BPF_H
#define SLIM_NAT_BPF_H

/* nat: the host connections translated to the plain network. LRU: an
 * entry is never deleted when its connection ends (nothing on the path
 * sees the end for sure); the oldest make room, and every packet of a
 * connection refreshes its entry. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SLIM_NAT_ENTRIES);
	__type(key, struct slim_nat_key);
	__type(value, struct slim_nat_val);
} nat SEC(".maps") __weak;

/* nat_ports: client ports that ever had a translated connection. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SLIM_NAT_PORT_WORDS);
	__type(key, __u32);
	__type(value, __u64);
} nat_ports SEC(".maps") __weak;

/* ctr_ifs: registered containers' host-side veths (router writes). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, SLIM_MAX_CONTAINERS);
	__type(key, __u32);
	__type(value, struct slim_ctr_if);
} ctr_ifs SEC(".maps") __weak;

/* path_stats: connections by path (enum slim_path), per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SLIM_PATH_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} path_stats SEC(".maps") __weak;

/* Adds one to path_stats[path]. */
static __always_inline void slim_count_path(__u32 path)
{
	__u64 *n = bpf_map_lookup_elem(&path_stats, &path);

	if (n)
		*n += 1;
}

#endif
