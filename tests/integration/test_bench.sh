#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# bench: bench/setup-compare.sh (the demo's setup benchmark) runs every path on a
# testbed with routers, and its table is honest: every path completed
# transactions without errors, the VXLAN path moved vxlan0's counters (so the
# counters work), the slim paths (also slim-ipc, SLIM_FASTPATH=0) moved
# neither vxlan0 nor c1's eth0. With --listeners 100 the slim server side
# holds 99 more listeners registered with its router, and setup still works.
# Then the slim path with c1 unregistered, so its client falls back to the
# container network (and is refused there: the server's listener lives on
# the host): setup-compare.sh must fail naming the path, not print a row for it.
. "$(dirname "$0")/common.sh"
[[ -n ${SLIM_SETUP_BENCH:-} && -x $SLIM_SETUP_BENCH ]] || skip "SLIM_SETUP_BENCH not set (run through ctest)"
# Built next to slim-setup-bench (testbed/).
: "${SLIM_LISTEN_MANY:=$(dirname "$SLIM_SETUP_BENCH")/slim-listen-many}"
[[ -x $SLIM_LISTEN_MANY ]] || skip "no slim-listen-many next to $SLIM_SETUP_BENCH (build testbed/)"
export SLIM_LISTEN_MANY
SETUP_COMPARE=$IT_DIR/../../bench/setup-compare.sh
it_start bn

# bench_field PATH KEY: KEY's value in setup-compare.sh's "BENCH path=PATH ..." line.
bench_field() {
	awk -v p="path=$1" -v k="$2" '$1 == "BENCH" && $2 == p {
		for (i = 3; i <= NF; i++) if (index($i, k "=") == 1) print substr($i, length(k) + 2)
	}' "$WORK/bench.out"
}

echo "-- setup-compare.sh --modes all, 1 round of 1 s"
RC=0
timeout 100 "$SETUP_COMPARE" "$TB_PREFIX" --modes all --rounds 1 --seconds 1 \
	>"$WORK/bench.out" 2>"$WORK/bench.err" || RC=$?
sed 's/^/  /' "$WORK/bench.out"
((RC == 0)) || fail "setup-compare.sh failed (exit $RC): $(cat "$WORK/bench.err")"
ok "setup-compare.sh exit code 0"
for m in host vxlan slim slim-ipc host-local bridge-local slim-local slim-ipc-local; do
	expect_match "$m: median rate" "$(bench_field "$m" median_rate)" '^[1-9][0-9]*$'
	expect_eq "$m: failed transactions" "$(bench_field "$m" errors)" 0
done
expect_match "vxlan: packets on vxlan0 (control)" "$(bench_field vxlan vxlan_pkts)" '^[1-9][0-9]*$'
expect_match "bridge-local: packets on c1's eth0 (control)" "$(bench_field bridge-local c1_pkts)" \
	'^[1-9][0-9]*$'
for m in slim slim-ipc slim-local slim-ipc-local; do
	expect_eq "$m: packets on vxlan0" "$(bench_field "$m" vxlan_pkts)" 0
	expect_eq "$m: packets on c1's eth0" "$(bench_field "$m" c1_pkts)" 0
done

echo "-- setup-compare.sh --modes slim --listeners 100, 1 round of 1 s"
RC=0
timeout 60 "$SETUP_COMPARE" "$TB_PREFIX" --modes slim --rounds 1 --seconds 1 --listeners 100 \
	>"$WORK/bench.out" 2>"$WORK/bench.err" || RC=$?
((RC == 0)) || fail "setup-compare.sh --listeners 100 failed (exit $RC): $(cat "$WORK/bench.err")"
expect_eq "slim with 100 listeners: listeners field" "$(bench_field slim listeners)" 100
expect_match "slim with 100 listeners: median rate" "$(bench_field slim median_rate)" '^[1-9][0-9]*$'
expect_eq "slim with 100 listeners: packets on vxlan0" "$(bench_field slim vxlan_pkts)" 0

echo "-- c1 unregistered: its slim client falls back; setup-compare.sh must fail on that path"
fg del plain "$TB_H1" "$SLIMCTL" --socket "$TB_SOCK1" container del c1
expect_eq "slimctl container del c1 exit code" "$RC" 0
RC=0
timeout 60 "$SETUP_COMPARE" "$TB_PREFIX" --modes slim --rounds 1 --seconds 1 \
	>"$WORK/fallback.out" 2>"$WORK/fallback.err" || RC=$?
expect_eq "setup-compare.sh exit code with a fallen-back slim path" "$RC" 1
grep -Eq 'failed on path slim |^setup-compare.sh: FAILED: slim: ' "$WORK/fallback.err" ||
	fail "setup-compare.sh did not name the failing slim path: $(cat "$WORK/fallback.err")"
ok "setup-compare.sh: $(grep -Em1 'failed on path slim |FAILED: slim: ' "$WORK/fallback.err")"
! grep -q '^BENCH path=slim ' "$WORK/fallback.out" ||
	fail "setup-compare.sh printed a result for the fallen-back slim path: $(cat "$WORK/fallback.out")"
ok "no BENCH line for the fallen-back slim path"
it_pass
