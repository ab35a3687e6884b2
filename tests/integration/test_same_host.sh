#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# same_host: c1 -> c3, both on h1 and under slim-run. Same assertions as
# cross_host, the host connection being h1 -> h1's own 192.168.77.1:7771.
. "$(dirname "$0")/common.sh"
it_start sh

PORT=5002
start_echo srv slim "$TB_C3" "$SLIM_ECHO" server --count 2 "$PORT"
check_c1_exchanges "$TB_H1" "$TB_H1_IP" "$TB_C3_IP" "$PORT" same
expect_server_done 2
it_pass
