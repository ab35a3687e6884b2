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
check_c1_exchanges "$TB_H2" "$TB_H2_IP" "$TB_C2_IP" "$PORT" cross

echo "-- with vxlan0 down in both hosts"
ip -n "$TB_H1" link set vxlan0 down
ip -n "$TB_H2" link set vxlan0 down
check_exchange 3 "$TB_C1" "$TB_C1_IP" "$TB_H1" "$TB_H1_IP" "$TB_H2" "$TB_H2_IP" \
	"$TB_C2_IP" "$PORT" "cross-no-vxlan"

expect_server_done 3
it_pass
