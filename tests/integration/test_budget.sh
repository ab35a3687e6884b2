#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# budget: bench/setup-budget.sh (the itemised CPU cost of one connection)
# runs every path in both placements on a testbed with routers and reports
# numbers: a RUN line per path and placement whose CPU figures are numbers,
# BPF lines for the slim paths with runs per connection above zero and time
# not zero (connect4, sockops and sk_reuseport among them: the statistics
# were on),
# system-call counts per connection (the host client's connect exactly 1),
# the itemised difference table; and it puts back what it changed:
# kernel.bpf_stats_enabled and the routers' CPU lists.
. "$(dirname "$0")/common.sh"
[[ -n ${SLIM_SETUP_BENCH:-} && -x $SLIM_SETUP_BENCH ]] || skip "SLIM_SETUP_BENCH not set (run through ctest)"
BUDGET=$IT_DIR/../../bench/setup-budget.sh
it_start sb

NUM='^-?[0-9]+(\.[0-9]+)?$'
stats_before=$(sysctl -n kernel.bpf_stats_enabled)
cpus_before=$(cat /proc/"$(<"$TB_STATE_DIR/router-h1.pid")"/task/*/status | awk '$1 == "Cpus_allowed_list:"' | sort -u)

echo "-- setup-budget.sh --conns 200 --rounds 1"
RC=0
timeout 150 "$BUDGET" "$TB_PREFIX" --conns 200 --rounds 1 --seconds 20 >"$WORK/budget.out" 2>"$WORK/budget.err" || RC=$?
sed 's/^/  /' "$WORK/budget.out" | grep -E '^  (RUN|\| slim)' || true
((RC == 0)) || fail "setup-budget.sh failed (exit $RC): $(tail -n 3 "$WORK/budget.err" | tr "\n" " ")"
ok "setup-budget.sh exit code 0"

for pin in same split; do
	for m in host slim host-local slim-local; do
		line=$(grep "^RUN $m $pin " "$WORK/budget.out") || fail "no RUN line for $m ($pin)"
		read -r _ _ _ n rate all cpu0 cli srv r1 r2 <<<"$line"
		expect_match "$m $pin: connections" "$n" '^[1-9][0-9]*$'
		expect_match "$m $pin: rate" "$rate" '^[1-9][0-9]*$'
		for v in "$all" "$cpu0" "$cli" "$srv" "$r1" "$r2"; do
			[[ $v =~ $NUM ]] || fail "$m $pin: a CPU figure is not a number: $line"
		done
		# Not their sign: with 200 connections the difference of two runs
		# is within the noise of a loaded machine.
		ok "$m $pin: CPU figures are numbers, client $cli us, server $srv us"
	done
	for m in slim slim-local; do
		for prog in slim_connect4 slim_sockops slim_reuseport; do
			line=$(grep -E "^BPF $m $pin h[12] $prog " "$WORK/budget.out" | head -n 1) ||
				fail "$m $pin: no BPF line for $prog (were the BPF statistics on?)"
			read -r _ _ _ _ _ _ _ runs ns us <<<"$line"
			# The kernel counts runs and time only while the statistics
			# are on. Runs are exact (a difference of counts); the time
			# is a difference of two sums of clock reads, which one slow
			# run in the short first run of a loaded machine can turn
			# negative: it must not be zero, its sign is not checked.
			awk -v r="$runs" -v n="$ns" -v u="$us" 'BEGIN { exit !(r > 0 && n != 0 && u != 0) }' ||
				fail "$m $pin: $prog has zero runs or time: $line"
			ok "$m $pin: $prog $runs runs/conn, $ns ns/run"
		done
	done
done
expect_eq "host client: connect calls per connection" \
	"$(awk '$1 == "SYS" && $2 == "host" && $3 == "client" && $4 == "connect" { print $5 }' "$WORK/budget.out")" 1.00
grep -Eq '^SYS slim server [a-z_0-9]+ [0-9.]+ [0-9.]+$' "$WORK/budget.out" ||
	fail "no system-call counts for the slim server"
ok "system calls counted for the slim server"
for pair in "slim - host" "slim-local - host-local"; do
	n=$(grep -cE "^\| $pair \| (same|split) (\| [-+]?[0-9]+\.[0-9]+ ){9}\|$" "$WORK/budget.out" || true)
	expect_eq "itemised rows of $pair with numbers" "$n" 2
done
expect_eq "kernel.bpf_stats_enabled put back" "$(sysctl -n kernel.bpf_stats_enabled)" "$stats_before"
expect_eq "router h1's CPU lists put back" \
	"$(cat /proc/"$(<"$TB_STATE_DIR/router-h1.pid")"/task/*/status | awk '$1 == "Cpus_allowed_list:"' | sort -u)" \
	"$cpus_before"
it_pass
