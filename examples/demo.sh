#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# slim demo: brings up a testbed (prefix "demo"), starts the two routers, runs
# an echo exchange between containers on different hosts under slim-run, shows
# what each side saw and the host connection that carried it, runs the setup
# benchmark, and tears everything down on exit (also on failure or Ctrl-C).
#
#   demo.sh [BIN_DIR] [-- bench.sh options...]
#
# BIN_DIR (or $SLIM_BIN_DIR): a build tree or install bin dir holding
# slim-router, slimctl, slim-run, slim-echo and slim-setup-bench.
set -euo pipefail
TB_PROG=demo.sh
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [[ $# -ge 1 && $1 != -- ]]; then
	SLIM_BIN_DIR=$(cd "$1" && pwd) || die "no such directory: $1"
	export SLIM_BIN_DIR
	shift
fi
[[ ${1:-} == -- ]] && shift
BENCH_ARGS=("$@")

[[ $(id -u) == 0 ]] || die "must run as root (creates network namespaces)"
need_bins SLIM_ROUTER=slim-router SLIMCTL=slimctl SLIM_RUN=slim-run SLIM_ECHO=slim-echo \
	SLIM_SETUP_BENCH=slim-setup-bench
export SLIM_ROUTER SLIMCTL SLIM_RUN SLIM_ECHO SLIM_SETUP_BENCH

PREFIX=demo
tb_vars "$PREFIX"
WORK=$(mktemp -d /tmp/slim-demo.XXXXXX)
PIDS=()
cleanup() {
	local p
	set +e
	for p in "${PIDS[@]}"; do kill_tree "$p"; done
	wait 2>/dev/null
	echo "== tearing down"
	"$TB_LIB_DIR/testbed.sh" down "$PREFIX"
	rm -rf "$WORK"
}

step() { printf '\n== %s\n' "$*"; }

step "testbed (hosts and containers are network namespaces)"
"$TB_LIB_DIR/testbed.sh" up "$PREFIX"
trap cleanup EXIT
cat "$TB_CLUSTER"

step "routers"
"$TB_LIB_DIR/slim-env.sh" up "$PREFIX"

PORT=8080
step "echo server in c2 ($TB_C2_IP:$PORT, host h2) under slim-run"
nsenter --net="/run/netns/$TB_C2" -- "$SLIM_RUN" --socket "$TB_SOCK2" -- \
	"$SLIM_ECHO" server --count 1 "$PORT" </dev/null >"$WORK/server.out" 2>"$WORK/server.err" &
PIDS+=($!)
wait_until 10 "the echo server to listen" grep -q '^listen' "$WORK/server.out" ||
	die "echo server did not start: $(cat "$WORK/server.err")"

step "echo client in c1 ($TB_C1_IP, host h1) under slim-run, holding the connection 2 s"
nsenter --net="/run/netns/$TB_C1" -- "$SLIM_RUN" --socket "$TB_SOCK1" -- \
	"$SLIM_ECHO" client --hold 2000 "$TB_C2_IP" "$PORT" "hello over slim" \
	</dev/null >"$WORK/client.out" 2>"$WORK/client.err" &
CLIENT=$!
PIDS+=("$CLIENT")
wait_until 10 "the client to get its echo" grep -q '^echo' "$WORK/client.out" || true
echo "-- host connections in h1 (ss -tn, to the reserved port $TB_PORT):"
in_ns "$TB_H1" ss -tn | awk -v p=":$TB_PORT" 'NR == 1 || $5 ~ p"$"'
echo "-- host connections in h2:"
in_ns "$TB_H2" ss -tn | awk -v p=":$TB_PORT" 'NR == 1 || $4 ~ p"$"'
echo "-- TCP sockets inside the containers' own namespaces (c1, c2): none expected"
in_ns "$TB_C1" ss -Htn
in_ns "$TB_C2" ss -Htn
rc=0
wait "$CLIENT" || rc=$?
echo "-- the client saw (getsockname / getpeername / echo):"
sed 's/^/   /' "$WORK/client.out" "$WORK/client.err"
echo "-- the server saw (accept / getpeername / getsockname / data):"
sed 's/^/   /' "$WORK/server.out" "$WORK/server.err"
((rc == 0)) || die "the echo client failed (exit $rc)"

step "connection-setup benchmark"
"$TB_LIB_DIR/bench.sh" "$PREFIX" "${BENCH_ARGS[@]}"
