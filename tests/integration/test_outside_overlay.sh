#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# outside_overlay: under slim-run, sockets that have nothing to do with the
# overlay stay plain: a server bound to 127.0.0.1 in c1 and a client to
# 127.0.0.1 work unchanged, inside the container's own namespace, and no host
# connection to the reserved port appears.
. "$(dirname "$0")/common.sh"
it_start oo

P=6100
start_echo lo slim "$TB_C1" "$SLIM_ECHO" server --bind 127.0.0.1 --count 1 "$P"
expect_eq "server getsockname after listen" "$(field "$WORK/lo.out" listen)" "127.0.0.1:$P"

bg cli slim "$TB_C1" "$SLIM_ECHO" client --hold 1000 127.0.0.1 "$P" "loopback"
wait_line "$WORK/cli.out" '^echo ' 10 || fail "client got no echo: $(cat "$WORK/cli.err")"
local_addr=$(field "$WORK/cli.out" local)
expect_match "client getsockname" "$local_addr" '^127\.0\.0\.1:[0-9]+$'
expect_eq "client getpeername" "$(field "$WORK/cli.out" peer)" "127.0.0.1:$P"
conn=$(estab "$TB_C1" "^127\\.0\\.0\\.1:${local_addr##*:}\$" "^127\\.0\\.0\\.1:$P\$")
[[ -n $conn ]] || fail "no ESTABLISHED loopback connection in c1's own namespace"
ok "connection lives in c1's namespace: $(oneline "$conn")"
conn=$(in_ns "$TB_H1" ss -Htn | grep ":$TB_PORT\b" || true)
[[ -z $conn ]] || fail "host connections to the reserved port appeared in h1: $conn"
ok "no host connection to :$TB_PORT in h1"
wait_bg cli
expect_eq "client exit code" "$RC" 0
expect_eq "client echo" "$(sed -n 's/^echo //p' "$WORK/cli.out")" "loopback"
wait_bg lo
expect_eq "server exit code" "$RC" 0
expect_eq "server accept() address" "$(field "$WORK/lo.out" accept)" "$local_addr"
expect_eq "server getpeername" "$(field "$WORK/lo.out" peer)" "$local_addr"
expect_eq "server getsockname" "$(field "$WORK/lo.out" local)" "127.0.0.1:$P"
it_pass
