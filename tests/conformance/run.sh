#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# The differential conformance suite's runner (docs/conformance.md).
#
#   run.sh [--keep] [--prefix P] [--no-fortify] [--self-check] [CASE|AREA. ...]
#
# Builds its own testbed (testbed/testbed.sh, prefix cfNNNN unless --prefix)
# and runs every case of slim-conf-client (or only those named, or whose
# name starts with AREA.) in a fresh process, with slim-conf-server as the
# peer, in these runs:
#   slim        client in c1, servers in c2 (far) and c3 (near), all under
#               slim-run, routers up
#   fortify     the _FORTIFY_SOURCE=2 client under slim-run (servers as in
#               slim)
#   plainclient servers under slim-run, routers up, the client without
#               preload: a plain peer of slim listeners (the servers'
#               connect-backs are made plainly: --plain-connect-back)
#   plainback   the client under slim-run against the same servers, only
#               the cases that ask for connect-backs: plain peers of the
#               client's slim listeners
#   plainserver the client under slim-run, routers up, the servers without
#               preload: a slim client of plain servers (served by their
#               hosts' tc translation; the connect-backs are plain peers of
#               the client's slim listeners)
#   plain       the same programs without preload, routers stopped, over
#               the container network (VXLAN between the hosts)
# and compares each output with the plain one, byte for byte.
# Prints every differing case with both outputs (a unified diff with full
# context), then a summary. --self-check instead runs the plain path twice
# and compares the two: a case must agree with itself before it can say
# anything about slim (no router is started). Exit status: 0 all agree, 1 some case differs,
# 2 the suite could not run, 77 skipped (not root).
#
# Programs: SLIM_CONF_CLIENT, SLIM_CONF_CLIENT_FORTIFY, SLIM_CONF_SERVER,
# SLIM_RUN, SLIM_ROUTER, SLIMCTL (ctest sets them), or SLIM_BUILD_DIR=a cmake
# build tree to find them all in. SLIM_KEEP=1 or --keep keeps the work dir.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${SLIM_TESTBED:=$HERE/../../testbed}"
TB_PROG=conformance # read by lib.sh (messages)
export TB_PROG
# shellcheck source=../../testbed/lib.sh
. "$SLIM_TESTBED/lib.sh"

CASE_TIMEOUT=40 # the client's own alarm is 20 s per case
KEEP=${SLIM_KEEP:-0}
FORTIFY=1
SELF_CHECK=0
PREFIX=""
SELECT=()

usage() {
	echo "usage: run.sh [--keep] [--prefix P] [--no-fortify] [--self-check] [CASE|AREA. ...]" >&2
	exit 2
}

while (($#)); do
	case $1 in
	--keep) KEEP=1 ;;
	--no-fortify) FORTIFY=0 ;;
	--self-check) SELF_CHECK=1 ;;
	--prefix)
		(($# >= 2)) || usage
		PREFIX=$2
		shift
		;;
	-h | --help) usage ;;
	-*) usage ;;
	*) SELECT+=("$1") ;;
	esac
	shift
done

if [[ $(id -u) != 0 ]]; then
	echo "SKIP: conformance: needs root (network namespaces, BPF)"
	exit 77
fi

# bin VAR RELATIVE_PATH: VAR from the environment, else from SLIM_BUILD_DIR.
bin() {
	local var=$1 rel=$2
	if [[ -z ${!var:-} && -n ${SLIM_BUILD_DIR:-} ]]; then
		printf -v "$var" '%s' "$SLIM_BUILD_DIR/$rel"
	fi
	[[ -n ${!var:-} && -x ${!var} ]] || {
		echo "conformance: $var not set to an executable (set it, or SLIM_BUILD_DIR)" >&2
		exit 2
	}
}
bin SLIM_CONF_CLIENT tests/conformance/slim-conf-client
bin SLIM_CONF_CLIENT_FORTIFY tests/conformance/slim-conf-client-fortify
bin SLIM_CONF_SERVER tests/conformance/slim-conf-server
bin SLIM_RUN tools/slim-run
bin SLIM_ROUTER router/slim-router
bin SLIMCTL tools/slimctl
if [[ -z ${SLIM_LIB:-} && -n ${SLIM_BUILD_DIR:-} ]]; then
	SLIM_LIB=$SLIM_BUILD_DIR/libslim/libslim.so
fi
export SLIM_ROUTER SLIMCTL SLIM_RUN
[[ -n ${SLIM_LIB:-} ]] && export SLIM_LIB
for v in ip nsenter timeout diff; do
	command -v "$v" >/dev/null || {
		echo "SKIP: conformance: needs $v"
		exit 77
	}
done

tb_vars "${PREFIX:-cf$(($$ % 10000))}"
WORK=$(mktemp -d /tmp/slim-conf.XXXXXX)
UP=0
SERVERS=()

cleanup() {
	local rc=$? p
	set +e
	for p in "${SERVERS[@]}"; do kill_tree "$p"; done
	wait 2>/dev/null
	if ((UP)); then
		"$SLIM_TESTBED/testbed.sh" down "$TB_PREFIX" >/dev/null
	fi
	if ((KEEP)); then echo "work dir kept: $WORK"; else rm -rf "$WORK"; fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The cases to run, in --list order.
mapfile -t ALL < <("$SLIM_CONF_CLIENT" --list | cut -f1)
CASES=()
for c in "${ALL[@]}"; do
	if ((${#SELECT[@]} == 0)); then
		CASES+=("$c")
		continue
	fi
	for s in "${SELECT[@]}"; do
		if [[ $c == "$s" || ($s == *. && $c == "$s"*) ]]; then
			CASES+=("$c")
			break
		fi
	done
done
((${#CASES[@]})) || {
	echo "conformance: no case matches ${SELECT[*]} (see slim-conf-client --list)" >&2
	exit 2
}

# Cases that may differ, by "MODE:CASE", with why. Each is run and
# compared like any other; a difference listed here is printed and counted
# apart, and does not fail the suite (nor does it pass silently: the
# summary names it, and one that agrees again is reported too).
declare -A KNOWN_DIFF=()

# uses_slim MODE ROLE: true if a program of ROLE (client or server) runs
# under slim-run in MODE: all but the plain modes' (plain, and the
# self-check's plain-again and plain-fortify), plainclient's client and
# plainserver's servers.
uses_slim() {
	case $1:$2 in
	plain:* | plain-*:* | plainclient:client | plainserver:server) return 1 ;;
	*) return 0 ;;
	esac
}

# prefix_for MODE NETNS ROLE: sets CMD to what runs a program of ROLE
# (client or server) in NETNS in MODE.
prefix_for() {
	CMD=(nsenter --net="/run/netns/$2" --)
	if uses_slim "$1" "$3"; then
		local sock=$TB_SOCK1
		[[ $2 == "$TB_C2" ]] && sock=$TB_SOCK2
		CMD+=("$SLIM_RUN" --socket "$sock" --)
	fi
}

# start_servers MODE [SERVER_OPTION]: the far (c2) and near (c3) servers,
# waited for.
start_servers() {
	local mode=$1 ns ip name
	shift
	for ns in "$TB_C2:$TB_C2_IP:far" "$TB_C3:$TB_C3_IP:near"; do
		IFS=: read -r ns ip name <<<"$ns"
		prefix_for "$mode" "$ns" server
		"${CMD[@]}" "$SLIM_CONF_SERVER" --self "$ip" "$@" </dev/null \
			>"$WORK/server-$mode-$name.out" 2>"$WORK/server-$mode-$name.err" &
		SERVERS+=($!)
		if ! wait_until 10 "the $mode $name server" grep -qx ready "$WORK/server-$mode-$name.out"; then
			echo "conformance: the $mode $name server did not start:" >&2
			cat "$WORK/server-$mode-$name.err" >&2
			exit 2
		fi
	done
}

stop_servers() {
	local p
	for p in "${SERVERS[@]}"; do kill_tree "$p"; done
	SERVERS=()
}

# vxlan_packets: tx+rx packets of h1's vxlan0 (from its /proc/net/dev).
vxlan_packets() {
	in_ns "$TB_H1" cat /proc/net/dev | awk '$1 == "vxlan0:" { print $3 + $11 }'
}

# flush_timewait: no TIME_WAIT connection left in the containers'
# namespaces (ss -K; nothing where the kernel cannot destroy sockets). A
# run must not meet what an earlier one left behind: a case that binds a
# port without SO_REUSEADDR would fail on another run's TIME_WAIT (up to
# 60 s old), and the runs that put plain connections in the containers
# (plainclient, plainback, plain) cannot all come last.
flush_timewait() {
	local ns
	for ns in "$TB_C1" "$TB_C2" "$TB_C3"; do
		in_ns "$ns" ss -K state time-wait >/dev/null 2>&1 || true
	done
}

# control_count MODE: the connect-back commands the MODE far server took.
control_count() {
	grep -c '^control$' "$WORK/server-$1-far.out" || true
}

# run_cases MODE CLIENT [CASE...]: every case (or those given) in its own
# process; output in $WORK/MODE/CASE.out (plus an "[exit N]" line), stderr
# in .err. Under slim, the cases during which VXLAN carried packets are
# listed in $WORK/MODE.vxlan (information only: the fallback is legitimate
# for some), and those that asked the far server for connect-backs in
# $WORK/connect-back.cases (for plainback).
run_cases() {
	local mode=$1 client=$2 c rc before after t0 cb
	shift 2
	local cases=("$@")
	((${#cases[@]})) || cases=("${CASES[@]}")
	mkdir -p "$WORK/$mode"
	: >"$WORK/$mode.vxlan"
	[[ $mode != slim ]] || : >"$WORK/connect-back.cases"
	prefix_for "$mode" "$TB_C1" client
	flush_timewait
	t0=$SECONDS
	for c in "${cases[@]}"; do
		before=$(vxlan_packets)
		[[ $mode != slim ]] || cb=$(control_count slim)
		rc=0
		timeout -k 2 "$CASE_TIMEOUT" "${CMD[@]}" "$client" --far "$TB_C2_IP" --near "$TB_C3_IP" "$c" \
			</dev/null >"$WORK/$mode/$c.out" 2>"$WORK/$mode/$c.err" || rc=$?
		echo "[exit $rc]" >>"$WORK/$mode/$c.out"
		after=$(vxlan_packets)
		if uses_slim "$mode" client && [[ $before != "$after" ]]; then
			echo "$c $((after - before))" >>"$WORK/$mode.vxlan"
		fi
		if [[ $mode == slim && $cb != "$(control_count slim)" ]]; then
			echo "$c" >>"$WORK/connect-back.cases"
		fi
	done
	echo "conformance: $mode run: ${#cases[@]} cases in $((SECONDS - t0))s"
}

"$SLIM_TESTBED/testbed.sh" up "$TB_PREFIX" >/dev/null || {
	echo "conformance: testbed.sh up $TB_PREFIX failed" >&2
	exit 2
}
UP=1

# The slim runs first: the plain run leaves TIME_WAIT connections in the
# containers' namespaces (on the servers' ports), the slim runs leave theirs
# in the hosts' namespaces, so neither disturbs the other's servers. The
# plain run then has no router at all.
if ((SELF_CHECK)); then
	start_servers plain
	run_cases plain "$SLIM_CONF_CLIENT"
	run_cases plain-again "$SLIM_CONF_CLIENT"
	MODES=(plain-again)
	if ((FORTIFY)); then
		run_cases plain-fortify "$SLIM_CONF_CLIENT_FORTIFY"
		MODES+=(plain-fortify)
	fi
	stop_servers
else
	"$SLIM_TESTBED/slim-env.sh" up "$TB_PREFIX" >/dev/null || {
		echo "conformance: slim-env.sh up $TB_PREFIX failed" >&2
		exit 2
	}
	start_servers slim
	run_cases slim "$SLIM_CONF_CLIENT"
	MODES=(slim)
	if ((FORTIFY)); then
		run_cases fortify "$SLIM_CONF_CLIENT_FORTIFY"
		MODES+=(fortify)
	fi
	stop_servers
	# Plain peers of slim listeners: the servers' (plainclient) and the
	# client's (plainback). The servers' listeners are merged ones; their
	# connect-backs are plain, so the client's listeners meet plain peers.
	start_servers plainclient --plain-connect-back
	run_cases plainclient "$SLIM_CONF_CLIENT"
	MODES+=(plainclient)
	mapfile -t CB_CASES <"$WORK/connect-back.cases"
	if ((${#CB_CASES[@]})); then
		run_cases plainback "$SLIM_CONF_CLIENT" "${CB_CASES[@]}"
		MODES+=(plainback)
	fi
	stop_servers
	# A slim client of plain servers: their hosts' tc programs carry its
	# connections into the containers (docs/architecture.md, "Mixed
	# peers: a slim client and a plain server").
	start_servers plainserver
	run_cases plainserver "$SLIM_CONF_CLIENT"
	MODES+=(plainserver)
	stop_servers
	cp "$TB_STATE_DIR"/router-h*.log "$WORK/" 2>/dev/null || true
	"$SLIM_TESTBED/slim-env.sh" down "$TB_PREFIX" >/dev/null
	start_servers plain
	run_cases plain "$SLIM_CONF_CLIENT"
	stop_servers
fi

# Comparison (plainback ran only the connect-back cases).
declare -A DIFFER=()
agree=0 differ=0 known=0
KNOWN_LINES=()
for mode in "${MODES[@]}"; do
	for c in "${CASES[@]}"; do
		[[ -f $WORK/$mode/$c.out ]] || continue
		if cmp -s "$WORK/plain/$c.out" "$WORK/$mode/$c.out"; then
			agree=$((agree + 1))
			if [[ -n ${KNOWN_DIFF[$mode:$c]:-} ]]; then
				KNOWN_LINES+=("known difference $mode:$c agrees now: take it off the list")
			fi
			continue
		fi
		if [[ -n ${KNOWN_DIFF[$mode:$c]:-} ]]; then
			known=$((known + 1))
			KNOWN_LINES+=("known difference $mode:$c: ${KNOWN_DIFF[$mode:$c]}")
		else
			differ=$((differ + 1))
			DIFFER[$c]+="$mode "
		fi
		echo
		echo "==== DIFFERS: $c ($mode vs plain)"
		diff -U 1000 --label "plain/$c" --label "$mode/$c" "$WORK/plain/$c.out" "$WORK/$mode/$c.out" |
			tail -n +3 || true
		if [[ -s $WORK/$mode/$c.err ]]; then
			echo "---- $mode stderr (last 5 lines):"
			tail -n 5 "$WORK/$mode/$c.err"
		fi
	done
done

echo
echo "==== conformance summary"
for c in "${CASES[@]}"; do
	if [[ -n ${DIFFER[$c]:-} ]]; then
		printf 'DIFF  %-40s (%s)\n' "$c" "${DIFFER[$c]% }"
	else
		printf 'same  %s\n' "$c"
	fi
done
for mode in "${MODES[@]}"; do
	if [[ -s $WORK/$mode.vxlan ]]; then
		echo "note: under $mode, VXLAN (the fallback path) carried packets during:" \
			"$(awk '{ printf "%s%s(%d)", sep, $1, $2; sep = ", " }' "$WORK/$mode.vxlan")"
	fi
done
for l in "${KNOWN_LINES[@]}"; do echo "note: $l"; done
echo "cases: ${#CASES[@]}; comparisons: $((agree + differ + known)) (${MODES[*]} vs plain);" \
	"agree: $agree; differ: $differ ($(printf '%s\n' "${!DIFFER[@]}" | grep -c . || true) cases);" \
	"known differences: $known"
if ((differ)); then
	echo "FAIL: conformance: $differ comparisons differ"
	exit 1
fi
echo "PASS: conformance"
