#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# slim demo: brings up a testbed (prefix "demo"), starts the two routers, runs
# an echo exchange between containers on different hosts under slim-run, shows
# what each side saw and the host connection that carried it, runs the setup
# benchmark, and tears everything down on exit (also on failure or Ctrl-C).
#
#   demo-run.sh [BIN_DIR] [-- setup-compare.sh options...]
#
# BIN_DIR (or $SLIM_BIN_DIR): a build tree or install bin dir holding
# slim-router, slimctl, slim-run, slim-echo and slim-setup-bench.
set -euo pipefail
TB_PROG=demo-run.sh
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [[ $# -ge 1 && $1 != -- ]]; then
	SLIM_BIN_DIR=$(cd "$1" && pwd) || die "no such directory: $1"
	export SLIM_BIN_DIR
	shift
fi
[[ ${1:-} == -- ]] && shift
BENCH_ARGS=("$@")
# Every path unless the caller chose: setup-compare.sh then fails if a router is down
# instead of quietly leaving the slim rows out.
[[ " ${BENCH_ARGS[*]} " == *" --modes "* ]] || BENCH_ARGS=(--modes all "${BENCH_ARGS[@]}")

need_root "creates network namespaces"
need_bins SLIM_ROUTER=slim-router SLIMCTL=slimctl SLIM_RUN=slim-run SLIM_ECHO=slim-echo \
	SLIM_SETUP_BENCH=slim-setup-bench
export SLIM_ROUTER SLIMCTL SLIM_RUN SLIM_ECHO SLIM_SETUP_BENCH

PREFIX=demo
tb_vars "$PREFIX"
WORK=$(mktemp -d /tmp/slim-demo.XXXXXX)
PIDS=()
TB_MADE=0
cleanup() {
	local rc=$? p
	set +e
	for p in "${PIDS[@]}"; do kill_tree "$p"; done
	wait 2>/dev/null
	# Only a testbed this run made (testbed.sh up undoes its own half-built one).
	if ((TB_MADE)); then
		echo "== tearing down"
		"$TB_LIB_DIR/testbed.sh" down "$PREFIX"
	fi
	rm -rf "$WORK"
	if ((rc == 0)); then echo "demo done"; else echo "demo FAILED (exit $rc)" >&2; fi
	exit "$rc"
}
trap cleanup EXIT
# A signal exits through cleanup with the conventional status.
trap 'exit 130' INT
trap 'exit 143' TERM

step() { printf '\n== %s\n' "$*"; }

# conns NETNS: the host's TCP connections to or from the reserved port, one a line.
conns() {
	in_ns "$1" ss -Htn | awk -v p=":$TB_PORT" '$4 ~ p"$" || $5 ~ p"$" { printf "   %s %s -> %s\n", $1, $4, $5 }'
}

step "testbed (hosts and containers are network namespaces)"
"$TB_LIB_DIR/testbed.sh" up "$PREFIX"
TB_MADE=1
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
echo "-- TCP connections of host h1 to the reserved port $TB_PORT (ss -tn in $TB_H1):"
conns "$TB_H1"
echo "-- the same connection seen from host h2 (ss -tn in $TB_H2):"
conns "$TB_H2"
echo "-- TCP sockets in the containers' own namespaces (ss -tn in $TB_C1, $TB_C2):"
ctr=$(in_ns "$TB_C1" ss -Htn; in_ns "$TB_C2" ss -Htn)
echo "   ${ctr:-none: the connection of the apps is the host connection above}"
rc=0
wait "$CLIENT" || rc=$?
echo "-- the client saw (getsockname / getpeername / echo):"
sed 's/^/   /' "$WORK/client.out" "$WORK/client.err"
echo "-- the server saw (accept / getpeername / getsockname / data):"
sed 's/^/   /' "$WORK/server.out" "$WORK/server.err"
((rc == 0)) || die "the echo client failed (exit $rc)"

step "connection-setup benchmark (new TCP connection + 1 byte each way + close, in a loop)"
"$TB_LIB_DIR/../bench/setup-compare.sh" "$PREFIX" "${BENCH_ARGS[@]}"
