#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# same_host: c1 -> c3, both on h1 and under slim-run. Same assertions as
# cross_host, the host connection being h1 -> h1's own 192.168.77.1:7771.
. "$(dirname "$0")/common.sh"
it_start sh

PORT=5002
start_echo srv slim "$TB_C3" "$SLIM_ECHO" server --count 2 "$PORT"

echo "-- blocking connect"
check_exchange 1 "$TB_C1" "$TB_C1_IP" "$TB_H1" "$TB_H1_IP" "$TB_H1" "$TB_H1_IP" \
	"$TB_C3_IP" "$PORT" "same-blocking"

echo "-- non-blocking connect (EINPROGRESS + poll)"
check_exchange 2 "$TB_C1" "$TB_C1_IP" "$TB_H1" "$TB_H1_IP" "$TB_H1" "$TB_H1_IP" \
	"$TB_C3_IP" "$PORT" "same-nonblock" --nonblock
grep -qx 'connect EINPROGRESS' "$WORK/cli2.out" ||
	fail "non-blocking connect did not return EINPROGRESS: $(cat "$WORK/cli2.out")"
ok "non-blocking connect returned EINPROGRESS"
grep -qx 'flags O_NONBLOCK' "$WORK/cli2.out" ||
	fail "O_NONBLOCK lost on the client fd after connect: $(cat "$WORK/cli2.out")"
ok "client fd still O_NONBLOCK after the swap"

wait_bg srv
expect_eq "server exit code after 2 connections" "$RC" 0
echo "PASS: $TEST_NAME"
