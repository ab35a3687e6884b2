#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# router_restart: restarting a router keeps the overlay. An echo server in c2
# (h2) under slim-run listens once and keeps running throughout. Router h2 is
# restarted with SIGTERM: it reloads c2 from its state file, reuses the pinned
# maps and rejoins the listener's reuseport group, and a new client in c1
# still reaches the same server over slim. Router h1 is then killed (a crash)
# and restarted: new processes in c1 are still on slim (registry reloaded). A
# long-lived python client in c1 connects before and after another restart of
# h1, both times over slim. A client that connects while router h1 is down
# uses the container network, where the slim server's listener (its
# container side) serves it too, and is back on slim after the router
# returns. Finally slim-env.sh down leaves nothing behind.
. "$(dirname "$0")/common.sh"
it_start rr

PORT=5002

# c1_exchange N TAG: one checked exchange from c1 to the server (connection N).
c1_exchange() {
	check_exchange "$1" "$TB_C1" "$TB_C1_IP" "$TB_H1" "$TB_H1_IP" "$TB_H2" "$TB_H2_IP" \
		"$TB_C2_IP" "$PORT" "$2"
	no_warning "cli$1"
}

# listeners_of N CONTAINER: the LISTENERS column of `slimctl status` on router hN.
listeners_of() {
	local hns=TB_H$1 sock=TB_SOCK$1
	in_ns "${!hns}" "$SLIMCTL" --socket "${!sock}" status | awk -v c="$2" '$1 == c { print $3 }'
}

start_echo srv slim "$TB_C2" "$SLIM_ECHO" server --count 9 "$PORT"
echo "-- before any restart"
c1_exchange 1 before

echo "-- stop router h2 (SIGTERM); its listener keeps working while no router runs"
"$SLIM_TESTBED/slim-env.sh" stop-one "$TB_PREFIX" 2 || fail "slim-env.sh stop-one 2 failed"
LOG2=$TB_STATE_DIR/router-h2.log
grep -q 'keeping maps pinned in .*: 1 listener still open' "$LOG2" ||
	fail "stopping router h2 did not keep its maps for the open listener"
ok "old router h2 kept its pinned maps (1 listener open)"
# The kept sockops link still stamps the virtual peer on new connections.
c1_exchange 2 while-h2-down

echo "-- start router h2 again"
"$SLIM_TESTBED/slim-env.sh" start-one "$TB_PREFIX" 2 || fail "slim-env.sh start-one 2 failed"
grep -q '1 container restored from' "$LOG2" || fail "router h2 did not restore c2 from its state file"
ok "new router h2 restored c2 from its state file"
grep -q 'reusing maps pinned in .* (1 listeners)' "$LOG2" || fail "router h2 did not reuse the pinned maps"
ok "new router h2 reused the pinned maps"
grep -q 'rejoined the listeners on ' "$LOG2" || fail "router h2 did not rejoin the reserved port"
ok "new router h2 rejoined the listeners' reuseport group"
expect_eq "c2 listeners in slimctl status on h2" "$(listeners_of 2 c2)" 1
c1_exchange 3 after-h2-restart

echo "-- restart router h1 with SIGKILL (a crash)"
"$SLIM_TESTBED/slim-env.sh" restart "$TB_PREFIX" 1 --kill || fail "slim-env.sh restart 1 --kill failed"
grep -q '2 containers restored from' "$TB_STATE_DIR/router-h1.log" ||
	fail "router h1 did not restore c1 and c3 from its state file"
ok "router h1 restored c1 and c3 from its state file"
c1_exchange 4 after-h1-crash

echo "-- a long-lived client in c1 across a restart of router h1"
FLAG=$WORK/go-on
before=$(counters)
bg long slim "$TB_C1" python3 "$IT_DIR/long_client.py" "$TB_C2_IP" "$PORT" "$FLAG" long-1 long-2
wait_line "$WORK/long.out" '^waiting' 15 || fail "long client: no first echo: $(cat "$WORK/long.err")"
ok "long client: first connection done"
"$SLIM_TESTBED/slim-env.sh" restart "$TB_PREFIX" 1 || fail "slim-env.sh restart 1 failed"
touch "$FLAG.2"
wait_bg long
expect_eq "long client exit code" "$RC" 0
no_warning long
expect_eq "long client echoes" "$(sed -n 's/^echo //p' "$WORK/long.out" | tr '\n' ' ')" "long-1 long-2 "
for n in 1 2; do
	local_addr=$(field "$WORK/long.out" local "$n")
	expect_match "long client getsockname, connection $n" "$local_addr" "^${TB_C1_IP//./\\.}:[0-9]+$"
	expect_eq "server accept() address, connection $((n + 4))" \
		"$(field "$WORK/srv.out" accept $((n + 4)))" "$local_addr"
done
expect_same_counters "$before" "$(counters)" "long client"

echo "-- a client in c1 that connects while router h1 is down, then after it is back"
GAP=$WORK/gap
bg gap slim "$TB_C1" python3 "$IT_DIR/long_client.py" "$TB_C2_IP" "$PORT" "$GAP" gap gap gap
wait_line "$WORK/gap.out" '^waiting 2' 15 || fail "gap client: no first echo: $(cat "$WORK/gap.err")"
"$SLIM_TESTBED/slim-env.sh" stop-one "$TB_PREFIX" 1 || fail "slim-env.sh stop-one 1 failed"
before=$(counters)
touch "$GAP.2"
wait_line "$WORK/gap.out" '^waiting 3' 15 || fail "gap client: stuck while the router is down"
# With no router, libslim falls back to the container network, where the
# slim server's listener (its container side) serves it as well.
[[ $(grep -c '^echo gap$' "$WORK/gap.out") == 2 ]] ||
	fail "gap client: connect during the outage: $(cat "$WORK/gap.out")"
ok "gap client: served during the outage (container network)"
local_addr=$(field "$WORK/gap.out" local 2)
expect_match "gap client getsockname during the outage" "$local_addr" "^${TB_C1_IP//./\\.}:[0-9]+$"
expect_eq "server accept() address, connection 8 (during the outage)" \
	"$(field "$WORK/srv.out" accept 8)" "$local_addr"
after=$(counters)
[[ $(grep "^$TB_H1:vxlan0 " <<<"$before") != $(grep "^$TB_H1:vxlan0 " <<<"$after") ]] ||
	fail "gap client during the outage: no VXLAN packet (not the container network?)"
ok "gap client during the outage: over VXLAN (the container network)"
"$SLIM_TESTBED/slim-env.sh" start-one "$TB_PREFIX" 1 || fail "slim-env.sh start-one 1 failed"
sleep 1.1 # libslim retries an absent router at most once a second
before=$(counters)
touch "$GAP.3"
wait_bg gap
expect_eq "gap client exit code" "$RC" 0
expect_eq "gap client stderr (one libslim warning)" "$(grep -c . "$WORK/gap.err")" 1
expect_match "gap client warning" "$(cat "$WORK/gap.err")" '^libslim: router at .* until it is back\)$'
local_addr=$(field "$WORK/gap.out" local 3)
expect_match "gap client getsockname after the outage" "$local_addr" "^${TB_C1_IP//./\\.}:[0-9]+$"
expect_eq "server accept() address, connection 9 (after the outage)" \
	"$(field "$WORK/srv.out" accept 9)" "$local_addr"
expect_same_counters "$before" "$(counters)" "gap client after the outage"

expect_server_done 9

echo "-- slim-env.sh down"
"$SLIM_TESTBED/slim-env.sh" down "$TB_PREFIX" >/dev/null || fail "slim-env.sh down failed"
for p in "$TB_PIN1" "$TB_PIN2" "$TB_CG1" "$TB_CG2" "$TB_SOCK1" "$TB_SOCK2" \
	"$TB_STATE_DIR/router-h1.containers" "$TB_STATE_DIR/router-h2.containers"; do
	[[ ! -e $p ]] || fail "left behind after slim-env.sh down: $p"
done
ok "slim-env.sh down removed pins, cgroups, sockets and state files"
it_pass
