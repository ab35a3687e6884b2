#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# cross_host: c1 (h1) -> c2 (h2), both under slim-run, by virtual IP. The apps
# see virtual addresses, a host TCP connection h1 -> h2:7771 carries the data,
# and nothing crosses VXLAN. Blocking and non-blocking connect; then once more
# with vxlan0 down in both hosts, so the fallback path cannot be what works.
. "$(dirname "$0")/common.sh"
it_start ch

PORT=5001
start_echo srv slim "$TB_C2" "$SLIM_ECHO" server --count 3 "$PORT"

echo "-- blocking connect"
check_exchange 1 "$TB_C1" "$TB_C1_IP" "$TB_H1" "$TB_H1_IP" "$TB_H2" "$TB_H2_IP" \
	"$TB_C2_IP" "$PORT" "cross-blocking"

echo "-- non-blocking connect (EINPROGRESS + poll)"
check_exchange 2 "$TB_C1" "$TB_C1_IP" "$TB_H1" "$TB_H1_IP" "$TB_H2" "$TB_H2_IP" \
	"$TB_C2_IP" "$PORT" "cross-nonblock" --nonblock --nodelay
grep -qx 'connect EINPROGRESS' "$WORK/cli2.out" ||
	fail "non-blocking connect did not return EINPROGRESS: $(cat "$WORK/cli2.out")"
ok "non-blocking connect returned EINPROGRESS"
grep -qx 'flags O_NONBLOCK' "$WORK/cli2.out" ||
	fail "O_NONBLOCK lost on the client fd after connect: $(cat "$WORK/cli2.out")"
ok "client fd still O_NONBLOCK after the swap"
grep -qx 'nodelay 1' "$WORK/cli2.out" ||
	fail "TCP_NODELAY set before connect is not in force after it: $(cat "$WORK/cli2.out")"
ok "TCP_NODELAY set before connect is in force on the host socket"

echo "-- with vxlan0 down in both hosts"
ip -n "$TB_H1" link set vxlan0 down
ip -n "$TB_H2" link set vxlan0 down
check_exchange 3 "$TB_C1" "$TB_C1_IP" "$TB_H1" "$TB_H1_IP" "$TB_H2" "$TB_H2_IP" \
	"$TB_C2_IP" "$PORT" "cross-no-vxlan"

wait_bg srv
expect_eq "server exit code after 3 connections" "$RC" 0
echo "PASS: $TEST_NAME"
