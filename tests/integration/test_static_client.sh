#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# static_client: a statically linked program under slim-run (libslim cannot
# be preloaded into it). slim-run says so, once, and runs it anyway; the
# program then uses the container network: against a plain echo server in c2
# it works over VXLAN (the counters move, by design), and a server under
# slim-run serves it just the same (its listener's container side, which
# libslim merges into the app's listening fd: the server sees the client's
# own address).
. "$(dirname "$0")/common.sh"
[[ -n ${SLIM_STATIC_CLIENT:-} && -x $SLIM_STATIC_CLIENT ]] ||
	skip "SLIM_STATIC_CLIENT not set to an executable (run through ctest)"
it_start st

WARN="slim-run: $SLIM_STATIC_CLIENT is statically linked: libslim cannot intercept it; it will use the container network"
# expect_warned_once NAME: slim-run's stderr for that run is exactly its one line.
expect_warned_once() {
	local n
	n=$(grep -cxF -- "$WARN" "$WORK/$1.err" || true)
	expect_eq "$1: slim-run's static-binary warning lines" "$n" 1
	expect_eq "$1: stderr besides that line" "$(grep -vxF -- "$WARN" "$WORK/$1.err" || true)" ""
}

# expect_server_done_of NAME: the echo server NAME (--count 1) exited 0.
expect_server_done_of() {
	wait_bg "$1"
	expect_eq "$1 exit code after its connection" "$RC" 0
}

echo "-- a plain echo server in c2: the static client works over the container network"
PORT=5301
start_echo srv plain "$TB_C2" "$SLIM_ECHO" server --count 1 "$PORT"
before=$(counters)
MSG="static-$$-$(date +%s%N)"
fg cli slim "$TB_C1" "$SLIM_STATIC_CLIENT" --timeout 5000 "$TB_C2_IP" "$PORT" "$MSG"
expect_eq "static client exit code" "$RC" 0
expect_eq "static client echo" "$(sed -n 's/^echo //p' "$WORK/cli.out")" "$MSG"
expect_warned_once cli
# The container's own socket: its real address is c1's, the same as the
# virtual one in this testbed, and the server sees it from over VXLAN.
local_addr=$(field "$WORK/cli.out" local)
expect_match "static client getsockname" "$local_addr" "^${TB_C1_IP//./\\.}:[0-9]+$"
expect_eq "static client getpeername" "$(field "$WORK/cli.out" peer)" "$TB_C2_IP:$PORT"
wait_until 5 "the echo server to finish" count_ge "$WORK/srv.out" '^closed' 1 ||
	fail "echo server did not finish the connection"
expect_eq "server accept() address" "$(field "$WORK/srv.out" accept)" "$local_addr"
after=$(counters)
# The static client used the container network.
pkts_moved "$before" "$after" "$TB_H1:vxlan0 tx" "$TB_H2:vxlan0 rx" "$TB_C1:eth0 tx" "$TB_C2:eth0 rx"
conn=$(in_ns "$TB_H1" ss -Htan | awk -v p=":$TB_PORT\$" '$5 ~ p' || true)
[[ -z $conn ]] || fail "a host connection to the reserved port appeared in $TB_H1: $(oneline "$conn")"
ok "no host connection to the reserved port in $TB_H1"
expect_server_done 1

echo "-- an echo server under slim-run in c2: it serves the static client too"
PORT2=5302
start_echo srv2 slim "$TB_C2" "$SLIM_ECHO" server --count 1 "$PORT2"
before=$(counters)
fg cli2 slim "$TB_C1" "$SLIM_STATIC_CLIENT" --timeout 5000 "$TB_C2_IP" "$PORT2" "$MSG-2"
expect_eq "static client exit code (slim server)" "$RC" 0
expect_eq "static client echo from the slim server" "$(sed -n 's/^echo //p' "$WORK/cli2.out")" "$MSG-2"
local_addr=$(field "$WORK/cli2.out" local)
expect_match "static client getsockname (slim server)" "$local_addr" "^${TB_C1_IP//./\\.}:[0-9]+$"
wait_until 5 "the slim echo server to finish" count_ge "$WORK/srv2.out" '^closed' 1 ||
	fail "the slim echo server did not finish the connection"
expect_eq "slim server accept() address" "$(field "$WORK/srv2.out" accept)" "$local_addr"
expect_eq "slim server getpeername" "$(field "$WORK/srv2.out" peer)" "$local_addr"
expect_eq "slim server received" "$(field "$WORK/srv2.out" got)" "$MSG-2"
after=$(counters)
pkts_moved "$before" "$after" "$TB_H1:vxlan0 tx" "$TB_H2:vxlan0 rx"
expect_server_done_of srv2
expect_warned_once cli2
no_warning srv2
it_pass
