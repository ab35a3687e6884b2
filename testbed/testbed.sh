#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Emulated two-host testbed for slim, built with iproute2 only.
#
#   testbed.sh up PREFIX     create it (fails if any piece already exists)
#   testbed.sh down PREFIX   remove everything it (and slim-env.sh) made; idempotent
#   testbed.sh env PREFIX    print the names and addresses as shell variables:
#                              eval "$(testbed.sh env PREFIX)"
#
# Layout (every box is a network namespace named PREFIX-NAME):
#
#   c1 10.244.1.2 ─┐                                   ┌─ c2 10.244.2.2
#   c3 10.244.1.3 ─┤ br0 10.244.1.1   underlay ul0      │ br0 10.244.2.1
#                 h1 ── 192.168.77.1 ─────── 192.168.77.2 ── h2
#                  vxlan0 10.245.0.1/30 (id 42, udp 4789) vxlan0 10.245.0.2/30
#
# Containers reach the other host's subnet through vxlan0 (the fallback path,
# no slim involved). Containers use MTU 1450 so VXLAN needs no fragmentation.
# IPv6 is disabled and ARP entries are static everywhere, so nothing but test
# traffic crosses vxlan0 or the container links (tests compare their packet
# counters). The hosts get ip_forward=1, and every
# namespace gets tcp_tw_reuse=1 and ip_local_port_range 10000-65000 so the
# setup benchmark does not run out of ports (and never picks the reserved 7771).
#
# Knobs: UNDERLAY_NET (default 192.168.77), SLIM_TESTBED_DIR (state, default
# /run/slim-testbed). Cluster file: $SLIM_TESTBED_DIR/PREFIX/cluster.conf.
set -euo pipefail
TB_PROG=testbed.sh
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
	echo "usage: testbed.sh up|down|env PREFIX" >&2
	exit 1
}

# sysctls NETNS KEY=VALUE...: sets them inside NETNS (/proc/sys/net is per netns).
sysctls() {
	local ns=$1
	shift
	in_ns "$ns" sysctl -q -w "$@" >/dev/null || die "sysctl $* in $ns failed"
}

# add_container NETNS HOSTNS BRIDGE_PORT IP GATEWAY
add_container() {
	local c=$1 h=$2 port=$3 ip=$4 gw=$5
	ip -n "$h" link add "$port" type veth peer name eth0 netns "$c"
	ip -n "$h" link set "$port" mtu 1450 master br0 up
	ip -n "$c" link set eth0 mtu 1450 up
	ip -n "$c" addr add "$ip/24" dev eth0
	ip -n "$c" route add default via "$gw"
}

# add_vxlan HOSTNS LOCAL REMOTE OWN_P2P PEER_P2P OTHER_SUBNET
add_vxlan() {
	local h=$1 local_ip=$2 remote_ip=$3 own=$4 peer=$5 subnet=$6
	ip -n "$h" link add vxlan0 type vxlan id 42 dstport 4789 \
		local "$local_ip" remote "$remote_ip" dev ul0
	ip -n "$h" addr add "$own/30" dev vxlan0
	ip -n "$h" link set vxlan0 up
	ip -n "$h" route add "$subnet" via "$peer" dev vxlan0
}

# mac NETNS DEV: prints DEV's MAC address.
mac() {
	ip -n "$1" -o link show "$2" | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p'
}

# static_neigh NETNS DEV IP PEER_NETNS PEER_DEV: a permanent ARP entry, so no
# ARP request or reachability probe ever appears on the wire by itself (tests
# compare packet counters of the container links and of vxlan0).
static_neigh() {
	ip -n "$1" neigh replace "$3" lladdr "$(mac "$4" "$5")" dev "$2" nud permanent
}

# check_reach FROM_NS TO_IP: proves a round trip FROM_NS -> TO_IP without
# needing ping: a TCP connect to a closed port must come back refused (RST)
# quickly; a timeout means the path is broken.
check_reach() {
	local from=$1 to=$2 out
	out=$(in_ns "$from" timeout 3 bash -c "echo >/dev/tcp/$to/9" 2>&1) && return 0
	[[ $out == *"Connection refused"* ]] && return 0
	die "testbed check failed: $from cannot reach $to (${out:-timeout})"
}

tb_up() {
	local ns
	need_root "creates network namespaces"
	if ! command -v ip >/dev/null || ! command -v nsenter >/dev/null; then
		die "needs iproute2 (ip) and util-linux (nsenter)"
	fi
	for ns in "$TB_H1" "$TB_H2" "$TB_C1" "$TB_C2" "$TB_C3"; do
		[[ ! -e /run/netns/$ns ]] ||
			die "netns $ns already exists (run: testbed.sh down $TB_PREFIX)"
	done
	# Undo a half-built testbed if any step fails.
	TB_UP_OK=0
	trap 'if ((TB_UP_OK == 0)); then echo "testbed.sh: up failed, cleaning up" >&2; tb_down; fi' EXIT

	mkdir -p "$TB_STATE_DIR"
	for ns in "$TB_H1" "$TB_H2" "$TB_C1" "$TB_C2" "$TB_C3"; do
		ip netns add "$ns"
		sysctls "$ns" net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 \
			net.ipv4.tcp_tw_reuse=1 "net.ipv4.ip_local_port_range=10000 65000"
		ip -n "$ns" link set lo up
	done
	sysctls "$TB_H1" net.ipv4.ip_forward=1
	sysctls "$TB_H2" net.ipv4.ip_forward=1

	# Underlay: one veth between the two hosts.
	ip -n "$TB_H1" link add ul0 type veth peer name ul0 netns "$TB_H2"
	ip -n "$TB_H1" addr add "$TB_H1_IP/24" dev ul0
	ip -n "$TB_H2" addr add "$TB_H2_IP/24" dev ul0
	ip -n "$TB_H1" link set ul0 up
	ip -n "$TB_H2" link set ul0 up

	# Container bridges.
	ip -n "$TB_H1" link add br0 type bridge mcast_snooping 0
	ip -n "$TB_H1" addr add 10.244.1.1/24 dev br0
	ip -n "$TB_H1" link set br0 up
	ip -n "$TB_H2" link add br0 type bridge mcast_snooping 0
	ip -n "$TB_H2" addr add 10.244.2.1/24 dev br0
	ip -n "$TB_H2" link set br0 up
	add_container "$TB_C1" "$TB_H1" vc1 "$TB_C1_IP" 10.244.1.1
	add_container "$TB_C3" "$TB_H1" vc3 "$TB_C3_IP" 10.244.1.1
	add_container "$TB_C2" "$TB_H2" vc2 "$TB_C2_IP" 10.244.2.1

	# The fallback overlay: VXLAN between the hosts. Then permanent neighbour
	# entries everywhere, so no ARP traffic ever appears on its own.
	add_vxlan "$TB_H1" "$TB_H1_IP" "$TB_H2_IP" 10.245.0.1 10.245.0.2 "$TB_H2_SUBNET"
	add_vxlan "$TB_H2" "$TB_H2_IP" "$TB_H1_IP" 10.245.0.2 10.245.0.1 "$TB_H1_SUBNET"
	static_neigh "$TB_H1" vxlan0 10.245.0.2 "$TB_H2" vxlan0
	static_neigh "$TB_H2" vxlan0 10.245.0.1 "$TB_H1" vxlan0
	static_neigh "$TB_H1" ul0 "$TB_H2_IP" "$TB_H2" ul0
	static_neigh "$TB_H2" ul0 "$TB_H1_IP" "$TB_H1" ul0
	static_neigh "$TB_C1" eth0 10.244.1.1 "$TB_H1" br0
	static_neigh "$TB_C1" eth0 "$TB_C3_IP" "$TB_C3" eth0
	static_neigh "$TB_C3" eth0 10.244.1.1 "$TB_H1" br0
	static_neigh "$TB_C3" eth0 "$TB_C1_IP" "$TB_C1" eth0
	static_neigh "$TB_C2" eth0 10.244.2.1 "$TB_H2" br0
	static_neigh "$TB_H1" br0 "$TB_C1_IP" "$TB_C1" eth0
	static_neigh "$TB_H1" br0 "$TB_C3_IP" "$TB_C3" eth0
	static_neigh "$TB_H2" br0 "$TB_C2_IP" "$TB_C2" eth0

	cat >"$TB_CLUSTER" <<-EOF
		# slim cluster file written by testbed.sh for testbed $TB_PREFIX
		# host NAME UNDERLAY_IP VIRTUAL_SUBNET RESERVED_PORT
		host h1 $TB_H1_IP $TB_H1_SUBNET $TB_PORT
		host h2 $TB_H2_IP $TB_H2_SUBNET $TB_PORT
	EOF

	check_reach "$TB_H1" "$TB_H2_IP"
	check_reach "$TB_C1" "$TB_C3_IP"
	check_reach "$TB_C1" "$TB_C2_IP"
	check_reach "$TB_C2" "$TB_C3_IP"
	# shellcheck disable=SC2034 # read by the EXIT trap
	TB_UP_OK=1
	trap - EXIT
	echo "testbed $TB_PREFIX up: hosts $TB_H1 $TB_H2, containers $TB_C1 $TB_C2 $TB_C3," \
		"cluster file $TB_CLUSTER"
}

tb_down() {
	local ns
	need_root "removes network namespaces"
	# Routers first (they live in the host namespaces); tolerant of nothing running.
	"$TB_LIB_DIR/slim-env.sh" down "$TB_PREFIX" || true
	for ns in "$TB_C1" "$TB_C2" "$TB_C3" "$TB_H1" "$TB_H2"; do
		[[ -e /run/netns/$ns ]] && { ip netns del "$ns" || echo "testbed.sh: could not delete netns $ns" >&2; }
	done
	rm -rf "$TB_STATE_DIR"
	return 0
}

[[ $# == 2 ]] || usage
tb_vars "$2"
case $1 in
up) tb_up ;;
down) tb_down ;;
env) tb_print_vars ;;
*) usage ;;
esac
