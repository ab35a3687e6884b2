#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# etcd: cluster membership from a real etcd (Debian's etcd-server, started
# here in host h1's namespace on h1's underlay address, data in the test's
# work dir). A router pointed at no etcd exits at once with one line. Two
# routers come up from etcd alone and containers talk across them. A third
# host (h3, made here: a namespace routed through h1, container c4, no
# VXLAN) joins while a connection c1 -> c2 is held open, and c4 becomes
# reachable from c1 over slim (there is no other path to it). Conflicting
# routers (a live name, an overlapping subnet) are refused with one line.
# h3's router stops cleanly (it leaves at once), comes back, is killed (it
# leaves when its 2 s lease expires); each time a connect from c1 to c4
# then fails at once with EHOSTUNREACH. etcd is stopped and restarted under
# the running cluster: the routers say so once, serve on, resynchronise; no
# connection is lost, and the held connection echoes after every step.
. "$(dirname "$0")/common.sh"

command -v etcd >/dev/null || skip "needs etcd (Debian package etcd-server, scripts/deps.sh)"
command -v curl >/dev/null || skip "needs curl"
it_start E norouters

PORT=6000
TTL=2
ETCD_URL=http://$TB_H1_IP:2379
H3=$TB_PREFIX-h3 C4=$TB_PREFIX-c4
H3_IP=192.168.79.3 C4_IP=10.244.3.2
SOCK3=/run/slim/$TB_PREFIX-h3.sock
CG3=${TB_CG1%h1}h3
PIN3=${TB_PIN1%h1}h3
LOG1=$TB_STATE_DIR/router-h1.log
LOG3=$WORK/router-h3.log
ETCD_PID="" R3_PID=""

# h3: its own namespace, an underlay link to h1 (which routes for it), a
# bridge and container c4. Only the overlay can reach c4 from elsewhere.
h3_up() {
	ip netns add "$H3"
	ip netns add "$C4"
	ip -n "$H3" link set lo up
	ip -n "$C4" link set lo up
	ip -n "$TB_H1" link add ul3 type veth peer name ul0 netns "$H3"
	ip -n "$TB_H1" addr add 192.168.79.1/24 dev ul3
	ip -n "$TB_H1" link set ul3 up
	# h1 speaks to h3 from its cluster address, as every host must (h3's
	# reserved port takes an overlay option only from the address h1 is
	# listed with), not from its address on this link.
	ip -n "$TB_H1" route replace 192.168.79.0/24 dev ul3 src "$TB_H1_IP"
	ip -n "$H3" addr add "$H3_IP/24" dev ul0
	ip -n "$H3" link set ul0 up
	ip -n "$H3" route add default via 192.168.79.1
	ip -n "$TB_H2" route add 192.168.79.0/24 via "$TB_H1_IP"
	ip -n "$H3" link add br0 type bridge
	ip -n "$H3" addr add 10.244.3.1/24 dev br0
	ip -n "$H3" link set br0 up
	ip -n "$H3" link add vc4 type veth peer name eth0 netns "$C4"
	ip -n "$H3" link set vc4 master br0 up
	ip -n "$C4" link set eth0 up
	ip -n "$C4" addr add "$C4_IP/24" dev eth0
	ip -n "$C4" route add default via 10.244.3.1
}

etcd_start() {
	nsenter --net="/run/netns/$TB_H1" -- etcd --name slimtest --data-dir "$WORK/etcd" \
		--listen-client-urls "$ETCD_URL" --advertise-client-urls "$ETCD_URL" \
		--listen-peer-urls http://127.0.0.1:2380 \
		--initial-advertise-peer-urls http://127.0.0.1:2380 \
		--initial-cluster slimtest=http://127.0.0.1:2380 </dev/null >>"$WORK/etcd.log" 2>&1 &
	ETCD_PID=$!
	wait_until 20 "etcd to answer on $ETCD_URL" \
		in_ns "$TB_H1" curl -sf --max-time 1 "$ETCD_URL/health" ||
		fail "etcd did not start: $(tail -n 5 "$WORK/etcd.log")"
}

etcd_stop() {
	[[ -n $ETCD_PID ]] || return 0
	kill -TERM "$ETCD_PID" 2>/dev/null
	wait_until 10 "etcd to stop" bash -c "! kill -0 $ETCD_PID 2>/dev/null" ||
		kill -KILL "$ETCD_PID" 2>/dev/null
	wait "$ETCD_PID" 2>/dev/null || true
	ETCD_PID=""
}

# router3_start: router h3 from etcd, waited for.
router3_start() {
	nsenter --net="/run/netns/$H3" -- "$SLIM_ROUTER" --etcd "$ETCD_URL" --host h3 \
		--underlay "$H3_IP" --subnet 10.244.3.0/24 --port "$TB_PORT" --etcd-ttl "$TTL" \
		--socket "$SOCK3" --cgroup "$CG3" --pin-dir "$PIN3" \
		--state "$WORK/router-h3.containers" </dev/null >>"$LOG3" 2>&1 &
	R3_PID=$!
	wait_until 10 "router h3 to answer" in_ns "$H3" "$SLIMCTL" --socket "$SOCK3" status ||
		fail "router h3 did not start: $(tail -n 5 "$LOG3")"
}

# router3_stop SIGNAL: stops it and waits.
router3_stop() {
	[[ -n $R3_PID ]] || return 0
	kill "-$1" "$R3_PID" 2>/dev/null
	wait_until 10 "router h3 to exit" bash -c "! kill -0 $R3_PID 2>/dev/null" ||
		kill -KILL "$R3_PID" 2>/dev/null
	wait "$R3_PID" 2>/dev/null || true
	R3_PID=""
}

etcd_cleanup() {
	local rc=$?
	set +e
	router3_stop TERM
	etcd_stop
	ip netns del "$C4" 2>/dev/null
	ip netns del "$H3" 2>/dev/null
	rm -rf "$PIN3"
	rmdir "$CG3" 2>/dev/null
	rm -f "$SOCK3"
	(exit "$rc")
	it_cleanup
}
trap etcd_cleanup EXIT

# c1_connect DST NAME: one connection from c1 (under slim) to DST:PORT;
# sets RES to "ok MS" or "error ERRNO MS".
c1_connect() {
	fg "$2" slim "$TB_C1" python3 "$IT_DIR/conn_tool.py" connect "$1" "$PORT"
	RES=$(cat "$WORK/$2.out")
}

expect_connect_ok() {
	c1_connect "$1" "$2"
	[[ $RES == ok* ]] || fail "$2: c1 -> $1:$PORT: $RES $(cat "$WORK/$2.err")"
	no_warning "$2"
	ok "$2: c1 -> $1:$PORT connects and echoes"
}

# expect_unreachable DST NAME: the connect fails with EHOSTUNREACH within 1 s.
expect_unreachable() {
	local ms
	c1_connect "$1" "$2"
	[[ $RES == "error EHOSTUNREACH "* ]] || fail "$2: c1 -> $1:$PORT: want EHOSTUNREACH, got: $RES"
	ms=${RES##* }
	((ms < 1000)) || fail "$2: EHOSTUNREACH took $ms ms"
	ok "$2: c1 -> $1:$PORT fails at once with EHOSTUNREACH ($ms ms)"
}

HOLD_N=0
# hold_step: the held connection c1 -> c2 echoes once more.
hold_step() {
	HOLD_N=$((HOLD_N + 1))
	touch "$WORK/hold/$HOLD_N"
	wait_line "$WORK/hold.out" "^(echo hold-$HOLD_N|failed)" 10 ||
		fail "held connection: no echo $HOLD_N: $(cat "$WORK/hold.out" "$WORK/hold.err")"
	grep -q "^echo hold-$HOLD_N\$" "$WORK/hold.out" ||
		fail "held connection broke: $(grep failed "$WORK/hold.out")"
	ok "held connection c1 -> c2 echoes ($1)"
}

h3_up
echo "-- no etcd: a router exits at once with one line"
RC=0
timeout 10 nsenter --net="/run/netns/$TB_H1" -- "$SLIM_ROUTER" --etcd "http://$TB_H1_IP:2399" \
	--host h1 --underlay "$TB_H1_IP" --subnet "$TB_H1_SUBNET" --socket "$TB_SOCK1" \
	--state "$WORK/nope.containers" --cgroup "$TB_CG1" --pin-dir "$TB_PIN1" \
	>"$WORK/nope.out" 2>"$WORK/nope.err" || RC=$?
expect_eq "router without etcd: exit code" "$RC" 1
expect_eq "router without etcd: stderr lines" "$(wc -l <"$WORK/nope.err")" 1
expect_match "router without etcd: the line" "$(cat "$WORK/nope.err")" \
	"^slim-router: cannot reach etcd at http://$TB_H1_IP:2399: .*\(start etcd or fix --etcd\)$"

echo "-- two hosts from etcd alone"
etcd_start
ok "etcd up on $ETCD_URL (data in the work dir)"
SLIM_ETCD=$ETCD_URL SLIM_ETCD_TTL=$TTL "$SLIM_TESTBED/slim-env.sh" up "$TB_PREFIX" ||
	fail "slim-env.sh up with SLIM_ETCD failed"
wait_line "$LOG1" 'host h2 joined: 10\.244\.2\.0/24 via 192\.168\.77\.2:7771' 10 ||
	fail "router h1 never saw h2 join"
ok "router h1 learnt h2 from etcd"
status1=$(in_ns "$TB_H1" "$SLIMCTL" --socket "$TB_SOCK1" status)
expect_match "h1 status membership" "$(grep '^membership:' <<<"$status1")" \
	"^membership: etcd http://$TB_H1_IP:2379 \(prefix /slim/\): 2 hosts$"
bg srv2 slim "$TB_C2" python3 "$IT_DIR/conn_tool.py" server "$PORT"
wait_line "$WORK/srv2.out" '^listen' 10 || fail "server in c2 did not start: $(cat "$WORK/srv2.err")"
mkdir "$WORK/hold"
before=$(counters)
bg hold slim "$TB_C1" python3 "$IT_DIR/conn_tool.py" hold "$TB_C2_IP" "$PORT" "$WORK/hold"
wait_line "$WORK/hold.out" '^echo hold-0' 10 || fail "held connection: $(cat "$WORK/hold.err")"
ok "held connection c1 -> c2 open"
expect_connect_ok "$TB_C2_IP" c1-c2-a
expect_same_counters "$before" "$(counters)" "c1 -> c2 over slim"

echo "-- h3 joins while the connection is open"
router3_start
out=$(in_ns "$H3" "$SLIMCTL" --socket "$SOCK3" container add c4 --ip "$C4_IP" \
	--netns "/run/netns/$C4" 2>&1) || fail "container add c4: $out"
# c4 is served by router h3 (sock_of knows only h1 and h2).
nsenter --net="/run/netns/$C4" -- "$SLIM_RUN" --socket "$SOCK3" -- python3 "$IT_DIR/conn_tool.py" \
	server "$PORT" </dev/null >"$WORK/srv4.out" 2>"$WORK/srv4.err" &
PIDS+=($!)
wait_line "$WORK/srv4.out" '^listen' 10 || fail "server in c4 did not start: $(cat "$WORK/srv4.err")"
wait_line "$LOG1" 'host h3 joined: 10\.244\.3\.0/24 via 192\.168\.79\.3:7771' 10 ||
	fail "router h1 never saw h3 join"
ok "router h1 saw h3 join"
expect_connect_ok "$C4_IP" c1-c4-a
hold_step "after h3 joined"

echo "-- conflicting routers are refused"
RC=0
nsenter --net="/run/netns/$H3" -- "$SLIM_ROUTER" --etcd "$ETCD_URL" --host h3 \
	--underlay "$H3_IP" --subnet 10.244.33.0/24 --port 7772 --socket "$WORK/x.sock" \
	--state "$WORK/x.containers" >/dev/null 2>"$WORK/dup.err" || RC=$?
expect_eq "second router for live h3: exit code" "$RC" 1
expect_eq "second router for live h3: stderr lines" "$(wc -l <"$WORK/dup.err")" 1
expect_match "second router for live h3" "$(cat "$WORK/dup.err")" \
	'^slim-router: host h3 is already registered in etcd by a live router \(underlay 192\.168\.79\.3, subnet 10\.244\.3\.0/24\); stop that router or pick another --host$'
RC=0
nsenter --net="/run/netns/$H3" -- "$SLIM_ROUTER" --etcd "$ETCD_URL" --host h9 \
	--underlay "$H3_IP" --subnet 10.244.3.128/25 --port 7772 --socket "$WORK/x.sock" \
	--state "$WORK/x.containers" >/dev/null 2>"$WORK/overlap.err" || RC=$?
expect_eq "overlapping router: exit code" "$RC" 1
expect_eq "overlapping router: stderr lines" "$(wc -l <"$WORK/overlap.err")" 1
expect_match "overlapping router" "$(cat "$WORK/overlap.err")" \
	'^slim-router: cannot join as host h9: virtual subnet 10\.244\.3\.128/25 overlaps 10\.244\.3\.0/24 of host h3, registered in etcd$'
! grep -q 'host h9' "$LOG1" || fail "router h1 saw the refused h9"
ok "router h1 never routed to the refused routers"

echo "-- h3 stops cleanly: it leaves at once"
router3_stop TERM
grep -q 'left the cluster in etcd (lease revoked)' "$LOG3" || fail "router h3 did not revoke its lease"
wait_line "$LOG1" 'host h3 left: connects to 10\.244\.3\.0/24 now fail \(EHOSTUNREACH\)' 3 ||
	fail "router h1 did not drop h3 after its clean stop"
ok "router h1 dropped h3 at once"
expect_unreachable "$C4_IP" c1-c4-b
hold_step "after h3 left"

echo "-- h3 comes back, then is killed: it leaves when its lease expires"
router3_start
wait_until 10 "h3 to join again" count_ge "$LOG1" 'host h3 joined' 2 || fail "h3 did not join again"
ok "h3 joined again"
expect_connect_ok "$C4_IP" c1-c4-c
router3_stop KILL
t0=$(date +%s%N)
wait_until $((TTL + 6)) "h3 to leave after its lease" count_ge "$LOG1" 'host h3 left' 2 ||
	fail "router h1 did not drop the killed h3"
ok "router h1 dropped the killed h3 after $((($(date +%s%N) - t0) / 1000000)) ms (lease ${TTL} s)"
expect_unreachable "$C4_IP" c1-c4-d
hold_step "after h3 was killed"

echo "-- etcd stops and comes back under the running cluster"
etcd_stop
wait_line "$LOG1" 'etcd unreachable at ' 10 || fail "router h1 did not notice etcd going away"
ok "router h1: $(grep 'etcd unreachable at ' "$LOG1" | head -n 1 | cut -c1-120)"
expect_match "h1 status while etcd is away" \
	"$(in_ns "$TB_H1" "$SLIMCTL" --socket "$TB_SOCK1" status | grep '^membership:')" \
	'unreachable since .*: serving the last known 2 hosts$'
expect_connect_ok "$TB_C2_IP" c1-c2-b
hold_step "while etcd is away"
sleep 2 # the routers retry meanwhile: still said only once
etcd_start
wait_line "$LOG1" 'etcd reachable again at ' 15 || fail "router h1 did not resynchronise"
ok "router h1 resynchronised"
wait_line "$TB_STATE_DIR/router-h2.log" 'etcd reachable again at ' 15 ||
	fail "router h2 did not resynchronise"
expect_eq "'etcd unreachable' lines in h1's log" "$(grep -c 'etcd unreachable at ' "$LOG1")" 1
expect_match "h1 status after etcd is back" \
	"$(in_ns "$TB_H1" "$SLIMCTL" --socket "$TB_SOCK1" status | grep '^membership:')" \
	': 2 hosts$'
! grep -q 'host h2 left' "$LOG1" || fail "router h1 dropped h2 during the etcd outage"
ok "h2 stayed a member throughout"
expect_connect_ok "$TB_C2_IP" c1-c2-c
hold_step "after etcd came back"
touch "$WORK/hold/end"
wait_bg hold
expect_eq "held connection exit code" "$RC" 0
no_warning hold
it_pass
