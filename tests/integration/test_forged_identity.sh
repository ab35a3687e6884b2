#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# forged_identity: the reserved port believes an overlay option only from
# the cluster host that owns the option's source vIP (bpf/lib/trust.bpf.h).
# Two more machines join the underlay, each with its own slim router and a
# container whose app runs under slim-run, so their connections carry the
# overlay option to h2's reserved port like any slim client's:
#   h3  192.168.77.3, not in h2's cluster file (its own file lists h1, h2
#       and itself with 10.244.3.0/24): an outsider.
#   h4  192.168.77.4, in h2's cluster file with 10.244.4.0/24, but its own
#       file gives it h1's subnet 10.244.1.0/24, and its container uses
#       10.244.1.9: a cluster host claiming another host's subnet.
# Each reaches h2 over a veth of its own (h2 routes its address there), as a
# machine on the underlay would. Both connect to a slim echo server in c2:
# refused at once (ECONNREFUSED, as a closed port), counted in h2's `slimctl
# status` under the right reason, and never accepted; with SYN cookies too.
# Then h4 leaves h2's cluster file (SIGHUP): it is counted as no cluster
# host from then on.
# c1 (h1) still reaches the same server, with and without SYN cookies.
. "$(dirname "$0")/common.sh"
it_start fy norouters

P=5031
NET=${UNDERLAY_NET:-192.168.77}
H3=$TB_PREFIX-h3 C5=$TB_PREFIX-c5 H4=$TB_PREFIX-h4 C6=$TB_PREFIX-c6
H3_IP=$NET.3 H4_IP=$NET.4
C5_IP=10.244.3.2 C6_IP=10.244.1.9
EXTRA_UP=0

# Paths of extra router N, next to those of the testbed's routers.
sock_n() { echo "${TB_SOCK1%-h1.sock}-h$1.sock"; }
cg_n() { echo "${TB_CG1%-h1}-h$1"; }
pin_n() { echo "${TB_PIN1%-h1}-h$1"; }

# stop_extra N: stops extra router hN (by its recorded pid) and removes what
# it left at the paths we gave it.
stop_extra() {
	local n=$1 pid i
	if [[ -f $WORK/xrouter-h$n.pid ]]; then
		pid=$(<"$WORK/xrouter-h$n.pid")
		kill -TERM "$pid" 2>/dev/null
		for ((i = 0; i < 50; i++)); do
			pid_alive "$pid" || break
			sleep 0.1
		done
		pid_alive "$pid" && kill -KILL "$pid" 2>/dev/null && sleep 0.2
		rm -f "$WORK/xrouter-h$n.pid"
	fi
	rm -f "$(sock_n "$n")"
	[[ ! -d $(cg_n "$n") ]] || rmdir "$(cg_n "$n")" 2>/dev/null
	[[ ! -d $(pin_n "$n") ]] || rm -rf "$(pin_n "$n")"
}

# The extra machines go before the testbed (whose bpffs may hold their pins).
fi_cleanup() {
	local rc=$? ns f left=""
	set +e
	if ((EXTRA_UP)); then
		stop_extra 3
		stop_extra 4
		for ns in "$C5" "$C6" "$H3" "$H4"; do
			[[ ! -e /run/netns/$ns ]] || ip netns del "$ns"
		done
		for ns in "$C5" "$C6" "$H3" "$H4"; do
			[[ ! -e /run/netns/$ns ]] || left+=" netns $ns"
		done
		for f in "$(sock_n 3)" "$(sock_n 4)" "$(cg_n 3)" "$(cg_n 4)" "$(pin_n 3)" \
			"$(pin_n 4)"; do
			[[ ! -e $f ]] || left+=" $f"
		done
		if [[ -n $left ]]; then
			echo "FAIL: $TEST_NAME: left behind:$left"
			((rc)) || rc=1
		fi
	fi
	(exit "$rc")
	it_cleanup
}
trap fi_cleanup EXIT

# add_machine HOSTNS HOST_IP CTRNS CTR_IP H2_DEV: a host on the underlay with
# a veth to h2 (h2 routes HOST_IP there) and a container behind a veth.
add_machine() {
	local h=$1 ip=$2 c=$3 cip=$4 dev=$5
	ip netns add "$h"
	ip netns add "$c"
	for ns in "$h" "$c"; do
		in_ns "$ns" sysctl -q -w net.ipv6.conf.all.disable_ipv6=1 \
			"net.ipv4.ip_local_port_range=10000 65000" >/dev/null
		ip -n "$ns" link set lo up
	done
	ip -n "$h" link add ul0 type veth peer name "$dev" netns "$TB_H2"
	ip -n "$h" addr add "$ip/24" dev ul0
	ip -n "$h" link set ul0 up
	ip -n "$TB_H2" link set "$dev" up
	ip -n "$TB_H2" route add "$ip/32" dev "$dev"
	ip -n "$TB_H2" neigh replace "$ip" lladdr \
		"$(ip -n "$h" -o link show ul0 | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')" \
		dev "$dev" nud permanent
	ip -n "$h" neigh replace "$TB_H2_IP" lladdr \
		"$(ip -n "$TB_H2" -o link show "$dev" | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')" \
		dev ul0 nud permanent
	ip -n "$h" link add vc type veth peer name eth0 netns "$c"
	ip -n "$h" link set vc up
	ip -n "$c" addr add "$cip/24" dev eth0
	ip -n "$c" link set eth0 up
}

# start_extra N HOSTNS CLUSTER_FILE CTR_NAME CTRNS VIP: a router for hN
# with its own cluster file, its container registered.
start_extra() {
	local n=$1 h=$2 file=$3 name=$4 c=$5 vip=$6 pid i
	nsenter --net="/run/netns/$h" -- "$SLIM_ROUTER" --cluster "$file" --host "h$n" \
		--socket "$(sock_n "$n")" --cgroup "$(cg_n "$n")" --pin-dir "$(pin_n "$n")" \
		--state "$WORK/xrouter-h$n.containers" </dev/null >>"$WORK/xrouter-h$n.err" 2>&1 &
	pid=$!
	echo "$pid" >"$WORK/xrouter-h$n.pid"
	for ((i = 0; i < 100; i++)); do
		pid_alive "$pid" || fail "router h$n exited at start: $(tail -n 5 "$WORK/xrouter-h$n.err")"
		in_ns "$h" "$SLIMCTL" --socket "$(sock_n "$n")" status >/dev/null 2>&1 && break
		sleep 0.1
	done
	in_ns "$h" "$SLIMCTL" --socket "$(sock_n "$n")" container add "$name" --ip "$vip" \
		--netns "/run/netns/$c" >"$WORK/xreg-h$n.out" 2>&1 ||
		fail "registering $name ($vip) with router h$n: $(cat "$WORK/xreg-h$n.out")"
	ok "router h$n up with its own cluster file, $name ($vip) registered"
}

# refused_counts: h2's "refused SYNs" counts, "NOT_A_HOST FOREIGN_SUBNET".
refused_counts() {
	in_ns "$TB_H2" "$SLIMCTL" --socket "$TB_SOCK2" status | sed -n \
		's/^refused SYNs: not-a-cluster-host \([0-9]*\), foreign-subnet \([0-9]*\)$/\1 \2/p'
}

# forged NAME CTRNS SOCK WANT: a slim client in CTRNS (its host's
# router at SOCK) connects to c2's server: refused at once, and h2 counts
# it, "+A +B" as WANT (not-a-cluster-host, foreign-subnet).
forged() {
	local name=$1 c=$2 sock=$3 want=$4 before after b1 b2 a1 a2 t0 t1
	before=$(refused_counts)
	[[ -n $before ]] || fail "no 'refused SYNs' line in h2's slimctl status"
	RC=0
	t0=$(date +%s%N)
	timeout 30 nsenter --net="/run/netns/$c" -- "$SLIM_RUN" --socket "$sock" -- \
		"$SLIM_ECHO" client --timeout 5 "$TB_C2_IP" "$P" "forged-$name" </dev/null \
		>"$WORK/$name.out" 2>"$WORK/$name.err" || RC=$?
	t1=$(date +%s%N)
	MS=$(((t1 - t0) / 1000000))
	expect_eq "$name: client exit code (2 = ECONNREFUSED)" "$RC" 2
	grep -q 'Connection refused' "$WORK/$name.err" ||
		fail "$name: no 'Connection refused' in: $(cat "$WORK/$name.err")"
	((MS < 2000)) || fail "$name: refused only after ${MS} ms, want < 2000 ms (a closed port)"
	ok "$name: refused in ${MS} ms: $(cat "$WORK/$name.err")"
	no_warning "$name"
	after=$(refused_counts)
	read -r b1 b2 <<<"$before"
	read -r a1 a2 <<<"$after"
	expect_eq "$name: h2's refused SYNs (not-a-cluster-host, foreign-subnet)" \
		"+$((a1 - b1)) +$((a2 - b2))" "$want"
}

# legit NAME: c1 (h1) -> c2's server, served.
legit() {
	local name=$1 n
	fg "$name" slim "$TB_C1" "$SLIM_ECHO" client --timeout 5 "$TB_C2_IP" "$P" "legit-$name"
	expect_eq "$name: c1 -> c2 exit code" "$RC" 0
	expect_eq "$name: echo" "$(sed -n 's/^echo //p' "$WORK/$name.out")" "legit-$name"
	n=$((++ACCEPTS))
	wait_until 5 "the server to serve connection $n" count_ge "$WORK/srv.out" '^closed' "$n" ||
		fail "$name: the server did not serve it"
	expect_eq "$name: server saw the client as" "$(field "$WORK/srv.out" accept "$n" | cut -d: -f1)" \
		"$TB_C1_IP"
}

# h4 is a cluster host for h1 and h2 (with a subnet of its own).
echo "host h4 $H4_IP 10.244.4.0/24 $TB_PORT" >>"$TB_CLUSTER"
"$SLIM_TESTBED/slim-env.sh" up "$TB_PREFIX" || fail "slim-env.sh up $TB_PREFIX failed"

EXTRA_UP=1
add_machine "$H3" "$H3_IP" "$C5" "$C5_IP" ul3
add_machine "$H4" "$H4_IP" "$C6" "$C6_IP" ul4
cat >"$WORK/cluster-h3.conf" <<EOF
host h1 $TB_H1_IP $TB_H1_SUBNET $TB_PORT
host h2 $TB_H2_IP $TB_H2_SUBNET $TB_PORT
host h3 $H3_IP 10.244.3.0/24 $TB_PORT
EOF
cat >"$WORK/cluster-h4.conf" <<EOF
host h2 $TB_H2_IP $TB_H2_SUBNET $TB_PORT
host h4 $H4_IP $TB_H1_SUBNET $TB_PORT
EOF
start_extra 3 "$H3" "$WORK/cluster-h3.conf" c5 "$C5" "$C5_IP"
start_extra 4 "$H4" "$WORK/cluster-h4.conf" c6 "$C6" "$C6_IP"
check_reach_tcp() { # HOSTNS IP: a RST from a closed port proves the round trip
	local out
	out=$(in_ns "$1" timeout 3 bash -c "echo >/dev/tcp/$2/9" 2>&1) && return 0
	[[ $out == *"Connection refused"* ]] || fail "$1 cannot reach $2 (${out:-timeout})"
}
check_reach_tcp "$H3" "$TB_H2_IP"
check_reach_tcp "$H4" "$TB_H2_IP"
ok "h3 and h4 reach h2 on the underlay"

ACCEPTS=0
start_echo srv slim "$TB_C2" "$SLIM_ECHO" server "$P"
expect_eq "h2's refused SYNs at start" "$(refused_counts)" "0 0"

echo "-- legitimate: c1 (h1) -> c2"
legit ok1
echo "-- h3, not a cluster host: c5 ($C5_IP) -> c2"
forged outsider "$C5" "$(sock_n 3)" "+1 +0"
echo "-- h4, a cluster host, with a vIP of h1's subnet: c6 ($C6_IP) -> c2"
forged claimer "$C6" "$(sock_n 4)" "+0 +1"

echo "-- with SYN cookies on every SYN in h2"
in_ns "$TB_H2" sysctl -q -w net.ipv4.tcp_syncookies=2 >/dev/null
legit ok2
forged outsider-cookies "$C5" "$(sock_n 3)" "+1 +0"
forged claimer-cookies "$C6" "$(sock_n 4)" "+0 +1"
in_ns "$TB_H2" sysctl -q -w net.ipv4.tcp_syncookies=1 >/dev/null

echo "-- h4 leaves h2's cluster file (SIGHUP): now not a cluster host at all"
grep -v '^host h4 ' "$TB_CLUSTER" >"$WORK/cluster.new"
cp "$WORK/cluster.new" "$TB_CLUSTER"
kill -HUP "$(<"$TB_STATE_DIR/router-h2.pid")"
h2_hosts() { in_ns "$TB_H2" "$SLIMCTL" --socket "$TB_SOCK2" status | grep -q '^hosts: *2 live'; }
wait_until 10 "h2 to apply the reload" h2_hosts || fail "h2 did not drop h4 after SIGHUP"
ok "h2 reloaded its cluster file without h4"
forged claimer-left "$C6" "$(sock_n 4)" "+1 +0"

legit ok3
expect_eq "connections the c2 server accepted (only c1's)" "$(grep -c '^accept' "$WORK/srv.out")" \
	"$ACCEPTS"
expect_eq "h2's refused SYNs at the end" "$(refused_counts)" "3 2"
expect_eq "h2's refused SYNs in slimctl --json status" \
	"$(in_ns "$TB_H2" "$SLIMCTL" --socket "$TB_SOCK2" --json status | python3 -c '
import json, sys
r = json.load(sys.stdin)["refused"]
print(r["not_a_cluster_host"], r["foreign_subnet"])')" "3 2"
it_pass
