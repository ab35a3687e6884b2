#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# cluster_reload: the cluster file is reloaded live on SIGHUP, with the same
# join/leave semantics as etcd. While a connection c1 -> c2 is held open,
# router h1 is sent SIGHUP after each edit of the file: a new host line
# joins; h2's line removed makes h2 leave (a connect from c1 to c2 then
# fails at once with EHOSTUNREACH, the held connection is untouched); h2's
# line back makes it reachable again. A malformed file, or one that changes
# h1's own line, is refused with one log line and changes nothing.
. "$(dirname "$0")/common.sh"
it_start R

PORT=6001
LOG1=$TB_STATE_DIR/router-h1.log
PID1=$(<"$TB_STATE_DIR/router-h1.pid")
ORIG=$(cat "$TB_CLUSTER")

hup() {
	local n
	n=$(grep -c 'SIGHUP\|reloaded ' "$LOG1" || true)
	kill -HUP "$PID1"
	wait_until 5 "router h1 to answer SIGHUP" count_ge "$LOG1" 'SIGHUP|reloaded ' $((n + 1)) ||
		fail "router h1 did not react to SIGHUP"
	pid_alive "$PID1" || fail "router h1 died on SIGHUP"
}

c1_connect() {
	fg "$2" slim "$TB_C1" python3 "$IT_DIR/conn_tool.py" connect "$1" "$PORT"
	RES=$(cat "$WORK/$2.out")
}

HOLD_N=0
hold_step() {
	HOLD_N=$((HOLD_N + 1))
	touch "$WORK/hold/$HOLD_N"
	wait_line "$WORK/hold.out" "^(echo hold-$HOLD_N|failed)" 10 ||
		fail "held connection: no echo $HOLD_N: $(cat "$WORK/hold.out" "$WORK/hold.err")"
	grep -q "^echo hold-$HOLD_N\$" "$WORK/hold.out" ||
		fail "held connection broke: $(grep failed "$WORK/hold.out")"
	ok "held connection c1 -> c2 echoes ($1)"
}

expect_match "h1 status membership" \
	"$(in_ns "$TB_H1" "$SLIMCTL" --socket "$TB_SOCK1" status | grep '^membership:')" \
	"^membership: file $TB_CLUSTER\$"
bg srv slim "$TB_C2" python3 "$IT_DIR/conn_tool.py" server "$PORT"
wait_line "$WORK/srv.out" '^listen' 10 || fail "server in c2 did not start: $(cat "$WORK/srv.err")"
mkdir "$WORK/hold"
bg hold slim "$TB_C1" python3 "$IT_DIR/conn_tool.py" hold "$TB_C2_IP" "$PORT" "$WORK/hold"
wait_line "$WORK/hold.out" '^echo hold-0' 10 || fail "held connection: $(cat "$WORK/hold.err")"
ok "held connection c1 -> c2 open"

echo "-- a host joins"
printf '%s\nhost h9 192.168.77.9 10.244.9.0/24 7771\n' "$ORIG" >"$TB_CLUSTER"
hup
grep -q 'host h9 joined: 10\.244\.9\.0/24 via 192\.168\.77\.9:7771' "$LOG1" || fail "h9 did not join"
grep -q "reloaded $TB_CLUSTER: 3 hosts" "$LOG1" || fail "no 'reloaded' line"
ok "SIGHUP: h9 joined"
expect_match "h1 status hosts" \
	"$(in_ns "$TB_H1" "$SLIMCTL" --socket "$TB_SOCK1" status | grep '^hosts:')" '^hosts: +3 live, 0 gone'
hold_step "after h9 joined"

echo "-- h2 leaves"
grep -v '^host h2 ' <<<"$ORIG" >"$TB_CLUSTER"
hup
grep -q 'host h2 left: connects to 10\.244\.2\.0/24 now fail (EHOSTUNREACH)' "$LOG1" ||
	fail "h2 did not leave"
grep -q 'host h9 left' "$LOG1" || fail "h9 did not leave"
ok "SIGHUP: h2 and h9 left"
c1_connect "$TB_C2_IP" gone
[[ $RES == "error EHOSTUNREACH "* ]] || fail "c1 -> c2 after h2 left: want EHOSTUNREACH, got $RES"
ms=${RES##* }
((ms < 1000)) || fail "EHOSTUNREACH took $ms ms"
ok "c1 -> c2 fails at once with EHOSTUNREACH ($ms ms)"
hold_step "after h2 left"

echo "-- h2 comes back"
printf '%s\n' "$ORIG" >"$TB_CLUSTER"
hup
grep -q 'host h2 joined' "$LOG1" || fail "h2 did not join again"
c1_connect "$TB_C2_IP" back
[[ $RES == ok* ]] || fail "c1 -> c2 after h2 came back: $RES"
no_warning back
ok "c1 -> c2 works again"

echo "-- bad files change nothing"
printf '%s\nhost h7 192.168.77.7 10.244.2.128/25\n' "$ORIG" >"$TB_CLUSTER"
hup
expect_match "overlap refused" "$(grep 'SIGHUP' "$LOG1" | tail -n 1)" \
	"SIGHUP: $TB_CLUSTER:[0-9]+: virtual subnet 10\\.244\\.2\\.128/25 overlaps 10\\.244\\.2\\.0/24 of host h2 \\(line [0-9]+\\) \\(fix the file; keeping the current 2 hosts\\)\$"
sed 's/^host h1 .*/host h1 192.168.77.1 10.244.11.0\/24 7771/' <<<"$ORIG" >"$TB_CLUSTER"
hup
expect_match "own line change refused" "$(grep 'SIGHUP' "$LOG1" | tail -n 1)" \
	"this host's line changed \\(this host's line cannot change while its router runs; keeping the current 2 hosts\\)\$"
! grep -q 'host h7\|host h1 ' "$LOG1" || fail "a refused file changed the hosts"
ok "no host changed"
hold_step "at the end"
touch "$WORK/hold/end"
wait_bg hold
expect_eq "held connection exit code" "$RC" 0
no_warning hold
it_pass
