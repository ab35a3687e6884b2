/* The socket-storage maps and the routes trie, shared by the BPF objects
 * that bpftool links into one. Each object that includes this header
 * declares them; the definitions are weak so the linker merges them into
 * one map each instead of refusing duplicate symbols. */
#ifndef SLIM_STORAGE_BPF_H
#define SLIM_STORAGE_BPF_H

/* owner: the container a host socket was created for, and its virtual
 * destination or bound address (struct slim_owner). */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct slim_owner);
} owner SEC(".maps") __weak;

/* peer: an accepted socket's virtual peer and local address (sockops). */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct slim_peer);
} peer SEC(".maps") __weak;

/* app_opts: the app's own values of the options slim sets for its own use
 * (struct slim_app_opts), on stamped and accepted sockets (sockopt.bpf.c).
 * BPF_F_CLONE: the kernel copies a listener's record to every socket it
 * accepts (sk_clone_lock), as it copies the options themselves. */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC | BPF_F_CLONE);
	__type(key, int);
	__type(value, struct slim_app_opts);
} app_opts SEC(".maps") __weak;

/* routes: virtual subnet -> owning host (router writes, connect4 reads). */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, SLIM_MAX_ROUTES);
	__type(key, struct slim_route_key);
	__type(value, struct slim_route_val);
} routes SEC(".maps") __weak;

/* listeners: virtual ip:port -> listening host socket. The router files
 * the listeners it creates; sockops files a pool socket the app listens on;
 * the reuseport program selects from it. */
struct {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__uint(max_entries, SLIM_MAX_LISTENERS);
	__type(key, struct slim_vaddr);
	__type(value, __u64);
} listeners SEC(".maps") __weak;

/* live: the vips of this host's containers (router writes, sock_addr
 * reads). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SLIM_MAX_CONTAINERS);
	__type(key, __u32);
	__type(value, __u32);
} live SEC(".maps") __weak;

#endif
