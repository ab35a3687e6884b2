#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# router_away: while a router is away (killed, then restarted), the slim apps
# of its host keep making connections: from the pool while it lasts, then
# over the container network (a plain socket, which a slim server's
# container side also accepts), then on slim again once the router is back.
# A run of slim-setup-bench from c1 to a slim server in c2 must finish with
# no failed transaction while router h1 is killed (SIGKILL) 1 s into it and
# started again 1 s later; the same with router h2 (the server's host).
. "$(dirname "$0")/common.sh"
it_start ra
[[ -n ${SLIM_SETUP_BENCH:-} && -x $SLIM_SETUP_BENCH ]] || skip "SLIM_SETUP_BENCH not set (run through ctest)"

PORT=5004
bg srv slim "$TB_C2" "$SLIM_SETUP_BENCH" server "$PORT"
wait_line "$WORK/srv.out" '^listening' || fail "setup-bench server did not start: $(oneline "$(cat "$WORK/srv.err")")"

# away_run N: a 5 s client run in c1 during which router hN is killed at 1 s
# and started again at 2 s; every transaction must succeed.
away_run() {
	local n=$1 name=away$1 tx
	bg "$name" slim "$TB_C1" "$SLIM_SETUP_BENCH" client "$TB_C2_IP" "$PORT" --seconds 5
	sleep 1
	"$SLIM_TESTBED/slim-env.sh" stop-one "$TB_PREFIX" "$n" --kill || fail "killing router h$n failed"
	ok "router h$n killed (SIGKILL) during the run"
	sleep 1
	"$SLIM_TESTBED/slim-env.sh" start-one "$TB_PREFIX" "$n" || fail "restarting router h$n failed"
	ok "router h$n started again"
	wait_bg "$name"
	[[ $RC == 0 ]] || fail "$name: exit $RC: $(oneline "$(cat "$WORK/$name.err")")"
	tx=$(sed -n 's/.*transactions=\([0-9]*\) errors=0 .*/\1/p' "$WORK/$name.out")
	[[ -n $tx && $tx -gt 100 ]] || fail "$name: failed transactions: $(oneline "$(cat "$WORK/$name.out" "$WORK/$name.err")")"
	ok "router h$n away for 1 s: $tx transactions, none failed"
}

echo "-- the client's router (h1) away"
away_run 1
echo "-- the server's router (h2) away"
away_run 2

echo "-- after both restarts, a new client is on slim again"
before=$(counters)
fg back slim "$TB_C1" "$SLIM_SETUP_BENCH" client "$TB_C2_IP" "$PORT" --seconds 1
[[ $RC == 0 ]] || fail "back: exit $RC: $(oneline "$(cat "$WORK/back.err")")"
after=$(counters)
expect_same_counters "$before" "$after" "connections after the restarts went through slim"
no_warning back
it_pass
