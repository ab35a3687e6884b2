#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# cni_plugin: the CNI plugin (cni/, SLIM_CNI) run as a runtime runs it, in
# h1's network namespace, against h1's router, for a container cx (a netns
# with a veth on h1's bridge, as the bridge plugin would make it). ADD with a
# bridge/host-local style prevResult (1.0.0, and 0.4.0) prints prevResult
# back in the configuration's version and registers the container under its
# 64-hex-digit id (slimctl status lists it); CHECK passes, and fails for
# another address; a second ADD, an address already taken and one outside
# h1's subnet are CNI errors; a slim app in cx reaches c2 while it is
# registered; DEL twice exits 0 with no output, the container is gone and
# CHECK fails. Every error is a CNI error object with the expected code and
# a non-empty msg, and a non-zero exit.
. "$(dirname "$0")/common.sh"
[[ -n ${SLIM_CNI:-} && -x $SLIM_CNI ]] || fail "SLIM_CNI is not set to an executable (run through ctest)"
it_start cn

CX=$TB_PREFIX-cx
CY=$TB_PREFIX-cy
CX_IP=10.244.1.20
CY_IP=10.244.1.21
ID=4f3a9c0b1d2e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5061728394a5b6c7d8e
ID2=${ID:0:60}beef
PORT=5701

cni_cleanup() {
	local ns
	for ns in "$CX" "$CY"; do
		[[ ! -e /run/netns/$ns ]] || ip netns del "$ns"
	done
	it_cleanup
}
trap cni_cleanup EXIT

# make_container NETNS IP HOSTVETH: a netns with eth0 on h1's bridge.
make_container() {
	ip netns add "$1" || fail "cannot create netns $1"
	# No IPv6: its router solicitations would move the eth0 counters.
	in_ns "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	ip -n "$1" link set lo up
	ip -n "$TB_H1" link add "$3" type veth peer name eth0 netns "$1"
	ip -n "$TB_H1" link set "$3" master br0 up
	ip -n "$1" addr add "$2/24" dev eth0
	ip -n "$1" link set eth0 up
	ip -n "$1" route add default via 10.244.1.1
}
make_container "$CX" "$CX_IP" "${TB_PREFIX}vx"
make_container "$CY" "$CY_IP" "${TB_PREFIX}vy"
ok "containers $CX ($CX_IP) and $CY ($CY_IP) made"

# prev VERSION IP NETNS: a bridge + host-local result for that container.
prev() {
	python3 - "$@" <<'PY'
import json, sys
version, ip, netns = sys.argv[1:4]
ips = [{"address": ip + "/24", "gateway": "10.244.1.1", "interface": 2}]
if version != "1.0.0":
    ips[0]["version"] = "4"
print(json.dumps({
    "cniVersion": version,
    "interfaces": [{"name": "cni0", "mac": "0a:58:0a:f4:01:01"},
                   {"name": "veth0c1e2f3a", "mac": "de:ad:be:ef:00:01"},
                   {"name": "eth0", "mac": "0a:58:0a:f4:01:14", "sandbox": netns}],
    "ips": ips,
    "routes": [{"dst": "0.0.0.0/0"}],
    "dns": {},
}))
PY
}

# conf FILE VERSION [PREVRESULT_JSON]: writes the network configuration.
conf() {
	python3 - "$TB_SOCK1" "$2" "${3:-}" >"$1" <<'PY'
import json, sys
sock, version, prev = sys.argv[1:4]
c = {"cniVersion": version, "name": "slimnet", "type": "slim", "socket": sock}
if prev:
    c["prevResult"] = json.loads(prev)
print(json.dumps(c))
PY
}

# cni NAME COMMAND ID NETNS CONF: the plugin in h1's namespace, as a runtime
# runs it; RC, and stdout/stderr in $WORK/NAME.out/.err.
cni() {
	local name=$1 cmd=$2 id=$3 ns=$4 conf=$5
	RC=0
	CNI_COMMAND=$cmd CNI_CONTAINERID=$id CNI_NETNS=/run/netns/$ns CNI_IFNAME=eth0 \
		CNI_PATH=/usr/lib/cni CNI_ARGS="" \
		timeout 30 nsenter --net="/run/netns/$TB_H1" -- "$SLIM_CNI" <"$conf" \
		>"$WORK/$name.out" 2>"$WORK/$name.err" || RC=$?
}

# cni_ok NAME ...: cni, which must exit 0.
cni_ok() {
	cni "$@"
	[[ $RC == 0 ]] || fail "$2 ($1) exit $RC: $(cat "$WORK/$1.out" "$WORK/$1.err")"
	ok "$2 ($1) exit 0"
}

# cni_error NAME CODE VERSION COMMAND ID NETNS CONF: the plugin fails with a
# CNI error object of CODE (in VERSION) with a non-empty msg.
cni_error() {
	local name=$1 code=$2 version=$3 got
	shift 3
	cni "$name" "$@"
	[[ $RC != 0 ]] || fail "$1 ($name) exited 0: $(cat "$WORK/$name.out")"
	ok "$1 ($name) exit $RC"
	got=$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert set(d) <= {"cniVersion", "code", "msg", "details"}, d
assert isinstance(d["msg"], str) and d["msg"], "empty msg"
print(d["cniVersion"], d["code"])
' "$WORK/$name.out" 2>&1) || fail "$name: stdout is not a CNI error: $got: $(cat "$WORK/$name.out")"
	expect_eq "$name: cniVersion and code" "$got" "$version $code"
	echo "   msg: $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["msg"])' "$WORK/$name.out")"
}

# same_json FILE JSON WHAT: FILE holds exactly that JSON value.
same_json() {
	local got
	got=$(python3 -c '
import json, sys
a = json.load(open(sys.argv[1]))
b = json.loads(sys.argv[2])
print("same" if a == b else "differs: %s" % json.dumps(a))
' "$1" "$2" 2>&1) || got="not JSON: $got: $(cat "$1")"
	expect_eq "$3" "$got" same
}

# registered ID: prints "VIP NETNS" of ID in h1's router, or nothing.
registered() {
	in_ns "$TB_H1" "$SLIMCTL" --socket "$TB_SOCK1" --json status | python3 -c '
import json, sys
for c in json.load(sys.stdin)["containers"]:
    if c["name"] == sys.argv[1]:
        print(c["vip"], c["netns"])
' "$1"
}

echo "-- ADD (1.0.0)"
P10=$(prev 1.0.0 "$CX_IP" "/run/netns/$CX")
conf "$WORK/add.json" 1.0.0 "$P10"
cni_ok add ADD "$ID" "$CX" "$WORK/add.json"
same_json "$WORK/add.out" "$P10" "ADD stdout is prevResult"
expect_eq "status lists the container" "$(registered "$ID")" "$CX_IP /run/netns/$CX"

echo "-- CHECK"
cni_ok check CHECK "$ID" "$CX" "$WORK/add.json"
expect_eq "CHECK stdout" "$(cat "$WORK/check.out")" ""
conf "$WORK/other.json" 1.0.0 "$(prev 1.0.0 10.244.1.30 "/run/netns/$CX")"
cni_error check_other 103 1.0.0 CHECK "$ID" "$CX" "$WORK/other.json"
cni_error check_netns 103 1.0.0 CHECK "$ID" "$CY" "$WORK/add.json"

echo "-- refused ADDs"
cni_error add_again 101 1.0.0 ADD "$ID" "$CX" "$WORK/add.json"
cni_error add_same_ip 101 1.0.0 ADD "$ID2" "$CY" "$WORK/add.json"
conf "$WORK/outside.json" 1.0.0 "$(prev 1.0.0 10.244.2.50 "/run/netns/$CY")"
cni_error add_outside 100 1.0.0 ADD "$ID2" "$CY" "$WORK/outside.json"
expect_eq "nothing registered for the refused id" "$(registered "$ID2")" ""

echo "-- ADD (0.4.0, and a 0.4.0 prevResult under a 1.0.0 configuration)"
P04=$(prev 0.4.0 "$CY_IP" "/run/netns/$CY")
conf "$WORK/add04.json" 0.4.0 "$P04"
cni_ok add04 ADD "$ID2" "$CY" "$WORK/add04.json"
same_json "$WORK/add04.out" "$P04" "ADD (0.4.0) stdout is prevResult"
cni_ok check04 CHECK "$ID2" "$CY" "$WORK/add04.json"
conf "$WORK/other04.json" 0.4.0 "$(prev 0.4.0 10.244.1.30 "/run/netns/$CY")"
cni_error check04_other 103 0.4.0 CHECK "$ID2" "$CY" "$WORK/other04.json"
cni_ok del04 DEL "$ID2" "$CY" "$WORK/add04.json"
conf "$WORK/add_mixed.json" 1.0.0 "$P04"
cni_ok add_mixed ADD "$ID2" "$CY" "$WORK/add_mixed.json"
same_json "$WORK/add_mixed.out" "$(prev 1.0.0 "$CY_IP" "/run/netns/$CY")" \
	"ADD stdout is prevResult converted to 1.0.0"
cni_ok del_mixed DEL "$ID2" "$CY" "$WORK/add_mixed.json"

echo "-- a slim app in the registered container"
# eth0_tx NETNS: packets sent on the container's own eth0.
eth0_tx() {
	ip -n "$1" -j -s link show eth0 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["stats64"]["tx"]["packets"])'
}
start_echo srv slim "$TB_C2" "$SLIM_ECHO" server --count 1 "$PORT"
tx_before=$(eth0_tx "$CX")
fg cli slim "$CX" "$SLIM_ECHO" client "$TB_C2_IP" "$PORT" cni-hello
expect_eq "client in $CX exit code" "$RC" 0
expect_eq "client in $CX echo" "$(sed -n 's/^echo //p' "$WORK/cli.out")" cni-hello
wait_until 5 "the server to finish" count_ge "$WORK/srv.out" '^closed' 1 ||
	fail "server did not finish the connection"
expect_match "server saw the client's registered address" "$(field "$WORK/srv.out" accept)" \
	"^${CX_IP//./\\.}:[0-9]+$"
expect_server_done 1
no_warning cli
expect_eq "packets sent on $CX's eth0 (the host sockets carried it)" "$(eth0_tx "$CX")" "$tx_before"

echo "-- DEL"
conf "$WORK/del.json" 1.0.0
cni_ok del DEL "$ID" "$CX" "$WORK/del.json"
expect_eq "DEL stdout" "$(cat "$WORK/del.out")" ""
expect_eq "status no longer lists the container" "$(registered "$ID")" ""
cni_ok del2 DEL "$ID" "$CX" "$WORK/add.json"
expect_eq "second DEL stdout" "$(cat "$WORK/del2.out")" ""
cni_ok del_unknown DEL never-seen-0123 "$CX" "$WORK/del.json"
expect_eq "DEL of a container the router never saw: stdout" "$(cat "$WORK/del_unknown.out")" ""
cni_error check_gone 102 1.0.0 CHECK "$ID" "$CX" "$WORK/add.json"
it_pass
