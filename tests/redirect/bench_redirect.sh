#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Same-host benchmark for the sockmap redirect (not a test): single-stream
# throughput and 1-byte request/response latency between two containers of
# one emulated host, for plain host TCP on that host's underlay address
# (no slim), slim without the redirect and slim with --redirect, alternated
# ROUNDS times. Prints one line per run; docs/benchmarks/redirect.md has the
# numbers. Needs root and a build tree:
#   SLIM_BIN_DIR=build/install/bin SLIM_RD_PEER=build/tests/redirect/slim-rd-peer \
#     bash tests/redirect/bench_redirect.sh [ROUNDS] [TPUT_SECS] [RR_COUNT]
set -euo pipefail
ROUNDS=${1:-3} SECS=${2:-3} COUNT=${3:-20000}
TBD=$(cd "$(dirname "$0")/../../testbed" && pwd)
# shellcheck disable=SC2034 # read by lib.sh
TB_PROG=bench_redirect
# shellcheck source=../../testbed/lib.sh
. "$TBD/lib.sh"
need_bins SLIM_ROUTER=slim-router SLIMCTL=slimctl SLIM_RUN=slim-run
[[ -x ${SLIM_RD_PEER:-} ]] || die "set SLIM_RD_PEER to the slim-rd-peer binary"
tb_vars "rdb$$"
PLAIN_ROUTER=$SLIM_ROUTER
WRAP=$(mktemp /tmp/rd-router.XXXXXX)
printf '#!/bin/sh\nexec %q "$@" --redirect\n' "$PLAIN_ROUTER" >"$WRAP"
chmod +x "$WRAP"
cleanup() {
	"$TBD/testbed.sh" down "$TB_PREFIX" >/dev/null 2>&1 || true
	rm -f "$WRAP"
}
trap cleanup EXIT
"$TBD/testbed.sh" up "$TB_PREFIX" >/dev/null
SLIM_ROUTER=$PLAIN_ROUTER "$TBD/slim-env.sh" up "$TB_PREFIX" >/dev/null
PORT=6500
# one MODE WHAT ARG: a server in c3 and a client in c1 (host: both plain in
# h1, through 192.168.77.1); prints the client's result line.
one() {
	local mode=$1 what=$2 arg=$3 srv dst pre=()
	PORT=$((PORT + 1))
	if [[ $mode == host ]]; then
		srv=$TB_H1 cli=$TB_H1 dst=$TB_H1_IP
	else
		srv=$TB_C3 cli=$TB_C1 dst=$TB_C3_IP pre=("$SLIM_RUN" --socket "$TB_SOCK1" --)
	fi
	nsenter --net="/run/netns/$srv" -- "${pre[@]}" "$SLIM_RD_PEER" server "$PORT" "$what" \
		>/tmp/rd-srv.$$ 2>&1 &
	local spid=$!
	wait_until 5 "server" grep -q '^listen' /tmp/rd-srv.$$
	nsenter --net="/run/netns/$cli" -- "${pre[@]}" "$SLIM_RD_PEER" client "$dst" "$PORT" "$what" "$arg" |
		grep -E '^(tput|rr)'
	wait "$spid" || true
	rm -f /tmp/rd-srv.$$
}
# router MODE: router h1 without (off) or with (on) --redirect.
router() {
	SLIM_ROUTER=$([[ $1 == on ]] && echo "$WRAP" || echo "$PLAIN_ROUTER") \
		"$TBD/slim-env.sh" restart "$TB_PREFIX" 1 >/dev/null
}
for ((r = 1; r <= ROUNDS; r++)); do
	for mode in host slim-off slim-on; do
		case $mode in slim-off) router off ;; slim-on) router on ;; esac
		echo "round $r $mode $(one "$mode" tput "$SECS") | $(one "$mode" rr "$COUNT")"
	done
done
