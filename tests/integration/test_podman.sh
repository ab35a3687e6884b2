#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# podman: containers started the plain podman way get slim through the CNI
# plugin and the OCI hook, with no change to their command line.
#
# Each emulated host runs its own podman (storage, run and CNI directories
# under the test's work dir, runtime runc) with the network "slimnet": the
# CNI bridge plugin on the testbed's br0 with host-local addresses .100-.150
# of the host's subnet, then slim's plugin, registering each container with
# the host's router; and the hooks directory holding slim's hooks.d file for
# containers annotated io.slim.enable=true. The containers run from a root
# filesystem the test builds (symlinks to the host's /usr, mounted read-only).
#
#   a2 (h2, annotated): a server that switches to uid 65534 before it opens
#      its socket, so libslim (loaded by /etc/ld.so.preload) serves it as nobody
#   a1 (h1, annotated): a server too; `podman exec` in it runs a slim client
#   p1 (h1, no annotation): plain, untouched by the hook
#   a3 (h2, annotated): slim-echo, for a statically linked client in a1
#
# a1 -> a2 is accelerated: one host connection to h2's reserved port, vIPs in
# every name. p1 -> a2 (cross host) and p1 -> a1 (same host) go the plain
# way and are answered by the slim servers; so does a static binary in a1,
# which no preload reaches, to a3. `podman rm` runs the plugin's DEL:
# the container is gone from `slimctl status`. Everything podman made is
# removed at exit, and the netns files of the containers must be gone.
. "$(dirname "$0")/common.sh"
[[ -n ${SLIM_CNI:-} && -x $SLIM_CNI ]] || skip "SLIM_CNI not set to the CNI plugin (run through ctest)"
[[ -n ${SLIM_OCI_HOOK:-} && -x $SLIM_OCI_HOOK ]] || skip "SLIM_OCI_HOOK not set (run through ctest)"
[[ -n ${SLIM_STATIC_CLIENT:-} && -x $SLIM_STATIC_CLIENT ]] || skip "SLIM_STATIC_CLIENT not set (run through ctest)"
for v in podman runc conmon; do command -v "$v" >/dev/null || skip "needs $v (scripts/deps.sh)"; done
[[ -x /usr/lib/cni/bridge && -x /usr/lib/cni/host-local ]] ||
	skip "needs the CNI plugins in /usr/lib/cni (containernetworking-plugins)"

PORT=8080
ECHO_PORT=8081
NETNS_SEEN=()

# pm N ARGS...: podman of host hN (in its network namespace, its own dirs).
pm() {
	local n=$1 ns
	shift
	ns=TB_H$n
	CONTAINERS_CONF=$WORK/h$n/containers.conf CONTAINERS_STORAGE_CONF=$WORK/h$n/storage.conf \
		timeout 60 nsenter --net="/run/netns/${!ns}" -- podman "$@"
}

# pm_cleanup: removes every container of both podmans, then what podman
# left mounted under the work dir.
pm_cleanup() {
	local n m
	for n in 1 2; do
		[[ -f $WORK/h$n/containers.conf ]] || continue
		pm "$n" rm -af -t 0 >/dev/null 2>&1
	done
	awk -v w="$WORK/" 'index($5, w) == 1 { print $5 }' /proc/self/mountinfo | sort -r |
		while read -r m; do umount -l "$m" 2>/dev/null; done
}

# cap4096 LIMIT: the limit, at most 4096 ("unlimited" included).
cap4096() {
	if [[ $1 == unlimited ]] || (($1 > 4096)); then echo 4096; else echo "$1"; fi
}

# host_setup N: the configuration of host hN's podman.
host_setup() {
	local n=$1 d=$WORK/h$1 sock subnet nofile nproc
	sock=TB_SOCK$n subnet=TB_H${n}_SUBNET
	mkdir -p "$d"/{cni,hooks,storage,run,tmp,ipam}
	nofile=$(cap4096 "$(ulimit -Hn)") nproc=$(cap4096 "$(ulimit -Hu)")
	# runc: crun refuses hosts with cgroup v1 and v2 both mounted (hybrid).
	# The rlimits: podman's defaults are above what this shell may set.
	cat >"$d/containers.conf" <<-EOF
		[containers]
		default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]
		[engine]
		runtime = "runc"
		cgroup_manager = "cgroupfs"
		events_logger = "file"
		hooks_dir = ["$d/hooks"]
		tmp_dir = "$d/tmp"
		[network]
		network_backend = "cni"
		cni_plugin_dirs = ["$WORK/cni-bin", "/usr/lib/cni"]
		network_config_dir = "$d/cni"
	EOF
	cat >"$d/storage.conf" <<-EOF
		[storage]
		driver = "vfs"
		runroot = "$d/run"
		graphroot = "$d/storage"
	EOF
	cat >"$d/cni/slimnet.conflist" <<-EOF
		{"cniVersion": "1.0.0", "name": "slimnet", "plugins": [
		  {"type": "bridge", "bridge": "br0", "isGateway": true, "mtu": 1450,
		   "ipam": {"type": "host-local", "dataDir": "$d/ipam", "ranges": [[{
		     "subnet": "${!subnet}", "gateway": "${!subnet%.0/24}.1",
		     "rangeStart": "${!subnet%.0/24}.100", "rangeEnd": "${!subnet%.0/24}.150"}]],
		   "routes": [{"dst": "0.0.0.0/0"}]}},
		  {"type": "slim", "socket": "${!sock}"}]}
	EOF
	# The installed hooks.d file, with this build's hook, library and socket.
	sed -e "s|\"path\": \"[^\"]*\"|\"path\": \"$SLIM_OCI_HOOK\"|" \
		-e "s|\"--socket\", \"[^\"]*\"|\"--socket\", \"${!sock}\", \"--lib\", \"$SLIM_LIB\"|" \
		"$SLIM_OCI_HOOK_JSON" >"$d/hooks/slim.json"
	if ! grep -qF "\"$SLIM_OCI_HOOK\"" "$d/hooks/slim.json" ||
		! grep -qF "\"$SLIM_LIB\"" "$d/hooks/slim.json"; then
		fail "cannot adapt $SLIM_OCI_HOOK_JSON: $(cat "$d/hooks/slim.json")"
	fi
	# A root filesystem of symlinks into /usr, which each container mounts.
	mkdir -p "$d/rootfs"/{usr,etc,run,tmp,proc,sys,dev,t,share}
	for l in bin lib lib64 sbin; do ln -s "usr/$l" "$d/rootfs/$l"; done
	printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n' \
		>"$d/rootfs/etc/passwd"
	printf 'root:x:0:\nnogroup:x:65534:\n' >"$d/rootfs/etc/group"
}

# run N NAME ANNOTATE(yes|no) CMD...: a detached container on hN.
run() {
	local n=$1 name=$2 ann=()
	[[ $3 == yes ]] && ann=(--annotation io.slim.enable=true)
	shift 3
	pm "$n" run -d --name "$name" --network slimnet "${ann[@]}" -v /usr:/usr:ro \
		-v "$IT_DIR:/t:ro" -v "$WORK/share:/share" -v "$SLIM_ECHO:/b/slim-echo:ro" \
		-v "$SLIM_STATIC_CLIENT:/b/static-client:ro" --rootfs "$WORK/h$n/rootfs" "$@" \
		>"$WORK/run-$name.out" 2>&1 || fail "podman run $name: $(cat "$WORK/run-$name.out")"
	NETNS_SEEN+=("$(pm "$n" inspect --format '{{.NetworkSettings.SandboxKey}}' "$name")")
}

# vip N NAME: the container's address on slimnet.
vip() {
	pm "$1" inspect --format '{{(index .NetworkSettings.Networks "slimnet").IPAddress}}' "$2"
}

# exchange N CONTAINER OUT IP [--hold FILE]: a client in CONTAINER (podman
# exec) to IP:PORT, in the background, output in $WORK/OUT.out.
exchange() {
	local n=$1 c=$2 out=$3 ip=$4
	shift 4
	pm "$n" exec "$c" python3 /t/podman_peer.py client "$ip" "$PORT" "$@" \
		>"$WORK/$out.out" 2>"$WORK/$out.err" &
	BG[$out]=$!
	PIDS+=($!)
}

# reserved_conns HOSTNS: established host connections to or from the
# reserved port in HOSTNS.
reserved_conns() {
	in_ns "$1" ss -Htn state established "( sport = :$TB_PORT or dport = :$TB_PORT )" | grep -c . || true
}

trap 'IT_RC=$?; set +e; pm_cleanup; (exit "$IT_RC"); it_cleanup' EXIT
it_start pm
mkdir -p "$WORK/cni-bin" "$WORK/share"
ln -s "$SLIM_CNI" "$WORK/cni-bin/slim"
host_setup 1
host_setup 2

# Servers: a2 drops to nobody before its socket; a1 stays root.
run 2 a2 yes python3 /t/podman_peer.py server "$PORT" --drop 65534
run 1 a1 yes python3 /t/podman_peer.py server "$PORT"
run 1 p1 no python3 /t/podman_peer.py server "$PORT"
run 2 a3 yes /b/slim-echo server "$ECHO_PORT"
A1=$(vip 1 a1) A2=$(vip 2 a2) P1=$(vip 1 p1) A3=$(vip 2 a3)
# logs_have N NAME REGEX: a line of the container's output matches.
logs_have() { pm "$1" logs "$2" 2>&1 | grep -Eq -- "$3"; }
for c in "2 a2" "1 a1" "1 p1" "2 a3"; do
	read -r n name <<<"$c"
	wait_until 15 "$name listening" logs_have "$n" "$name" '^listen' ||
		fail "$name did not listen: $(pm "$n" logs "$name" 2>&1 | tail -n 5)"
done
expect_eq "a2 listens as nobody" "$(pm 2 logs a2 2>&1 | grep '^listening')" "listening uid 65534"
a2_id=$(pm 2 inspect --format '{{.Id}}' a2)
status2=$(in_ns "$TB_H2" "$SLIMCTL" --socket "$TB_SOCK2" status)
expect_match "h2 router lists a2 (the CNI plugin's ADD)" "$status2" "$a2_id +${A2//./\\.}"
expect_match "a1 loads libslim from /run/slim" "$(pm 1 exec a1 grep -c /run/slim/libslim.so /proc/self/maps)" '^[1-9]'
[[ $(pm 1 exec p1 cat /proc/self/maps) != *libslim* ]] || fail "p1 (no annotation) loads libslim"
# a1 and p1 share a root filesystem: the mount points the hook made for a1
# (/run/slim, an empty /etc/ld.so.preload) are in it, but nothing is mounted.
[[ $(pm 1 exec p1 cat /proc/self/mountinfo) != *" /run/slim "* ]] || fail "p1 (no annotation) has /run/slim mounted"
[[ -z $(pm 1 exec p1 cat /etc/ld.so.preload 2>/dev/null) ]] || fail "p1 (no annotation) has a preload list"
ok "p1 (no annotation): no libslim, nothing mounted at /run/slim, no preload list"

# a1 -> a2: accelerated, one host connection on the reserved port.
read -r acc1 _ _ <<<"$(path_counts "$TB_H1")"
read -r acc2 _ _ <<<"$(path_counts "$TB_H2")"
before=$(reserved_conns "$TB_H2")
exchange 1 a1 a1a2 "$A2" --hold /share/go-a1a2
wait_line "$WORK/a1a2.out" '^got ' 15 || fail "a1 -> a2: $(cat "$WORK/a1a2.out" "$WORK/a1a2.err")"
after=$(reserved_conns "$TB_H2")
((after - before == 1)) || fail "h2: $((after - before)) more host connections on the reserved port, want 1: $(oneline "$(in_ns "$TB_H2" ss -Htan)")"
ok "h2: one more host connection on the reserved port"
touch "$WORK/share/go-a1a2"
wait_bg a1a2
expect_match "a1 -> a2: names on a1" "$(grep '^client ' "$WORK/a1a2.out")" \
	"^client ${A1//./\\.}:[0-9]+ ${A2//./\\.}:$PORT$"
cport=$(sed -n "s/^client ${A1//./\\.}:\([0-9]*\) .*/\1/p" "$WORK/a1a2.out")
expect_eq "a1 -> a2: a2 saw a1" "$(grep '^got ' "$WORK/a1a2.out")" "got hello $A1:$cport"
expect_match "a2's log" "$(pm 2 logs a2 2>&1)" "accepted ${A1//./\\.}:$cport"
expect_eq "h2 accelerated +1" "$(($(path_count "$TB_H2" accelerated) - acc2))" 1
expect_eq "h1 accelerated +0" "$(($(path_count "$TB_H1" accelerated) - acc1))" 0

# p1 (plain) -> a2 (cross host) and -> a1 (same host): plain path, slim servers.
for t in "a2 $A2 $TB_H2" "a1 $A1 $TB_H1"; do
	read -r name ip hns <<<"$t"
	p2s=$(path_count "$hns" plain-to-slim)
	exchange 1 p1 "p1$name" "$ip"
	wait_bg "p1$name"
	expect_match "p1 -> $name: names on p1" "$(grep '^client ' "$WORK/p1$name.out")" \
		"^client ${P1//./\\.}:[0-9]+ ${ip//./\\.}:$PORT$"
	expect_match "p1 -> $name: $name saw p1" "$(grep '^got ' "$WORK/p1$name.out")" "^got hello ${P1//./\\.}:"
	(($(path_count "$hns" plain-to-slim) > p2s)) || fail "p1 -> $name: plain-to-slim did not move"
	ok "p1 -> $name: plain-to-slim moved"
done

# A static binary in an annotated container: no preload reaches it, so it
# goes the plain way, and the slim server a3 answers it.
read -r acc2 _ p2s <<<"$(path_counts "$TB_H2")"
pm 1 exec a1 /b/static-client --timeout 5000 "$A3" "$ECHO_PORT" static-hi >"$WORK/static.out" 2>&1 ||
	fail "static client in a1 -> a3: $(cat "$WORK/static.out")"
expect_match "static client in a1 -> a3" "$(oneline "$(cat "$WORK/static.out")")" \
	"^local ${A1//./\\.}:[0-9]+ peer ${A3//./\\.}:$ECHO_PORT echo static-hi ?$"
read -r acc2b _ p2sb <<<"$(path_counts "$TB_H2")"
((acc2b == acc2 && p2sb > p2s)) ||
	fail "static client: h2 accelerated +$((acc2b - acc2)), plain-to-slim +$((p2sb - p2s)); want +0 and more"
ok "static client: the plain path (h2 plain-to-slim +$((p2sb - p2s)), accelerated +0)"

# podman rm: the plugin's DEL unregisters a2.
pm 2 rm -f -t 0 a2 >"$WORK/rm.out" 2>&1 || fail "podman rm a2: $(cat "$WORK/rm.out")"
status2=$(in_ns "$TB_H2" "$SLIMCTL" --socket "$TB_SOCK2" status)
[[ $status2 != *"$a2_id"* && $status2 != *" $A2 "* ]] || fail "a2 still registered: $status2"
ok "podman rm a2: gone from h2's slimctl status"

pm_cleanup
for ns in "${NETNS_SEEN[@]}"; do
	[[ ! -e $ns ]] || fail "podman left the netns $ns"
done
ok "no container netns left (${#NETNS_SEEN[@]} made)"
it_pass
