# shellcheck shell=bash source-path=SCRIPTDIR
# Sourced by every integration test. Each test builds its own testbed (unique
# prefix), starts its own routers, and removes everything in an EXIT trap,
# killing only the processes it started.
#
# Environment (set by ctest, see CMakeLists.txt): SLIM_TESTBED (the testbed/
# dir with testbed.sh and lib.sh), SLIM_ROUTER, SLIMCTL, SLIM_RUN, SLIM_ECHO,
# SLIM_SETUP_BENCH, SLIM_LIB. SLIM_KEEP=1 keeps the work dir (logs) afterwards.
# The programs under slim-run preload a copy of SLIM_LIB that every user can
# load (public_lib in lib.sh), so daemons that drop privileges (postgres,
# memcached -u nobody) work from any checkout location.
#
# A test reports each check with ok (or dies with fail) and ends with it_pass,
# which prints "PASS: NAME (N checks)". A test that exits 0 without it_pass,
# or with no check made, fails; so does one that leaves a namespace, cgroup,
# pin dir, router socket or router process behind.
set -euo pipefail

IT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TEST_NAME=$(basename "$0" .sh)
TB_PROG=$TEST_NAME
: "${SLIM_TESTBED:=$IT_DIR/../../testbed}"
# shellcheck source=../../testbed/lib.sh
. "$SLIM_TESTBED/lib.sh"

PIDS=()
WORK=""
IT_UP=0
IT_CHECKS=0
IT_PASSED=0

skip() {
	echo "SKIP: $TEST_NAME: $*"
	exit 77
}

ok() {
	IT_CHECKS=$((IT_CHECKS + 1))
	echo "ok: $*"
}

# it_pass: the last line of a passing test.
it_pass() {
	((IT_CHECKS > 0)) || fail "no check was made"
	IT_PASSED=1
	echo "PASS: $TEST_NAME ($IT_CHECKS checks)"
}

# fail MESSAGE: the one line that says what went wrong, then the logs.
fail() {
	echo "FAIL: $TEST_NAME: $*"
	dump_logs
	exit 1
}

dump_logs() {
	local f
	[[ -n $WORK && -d $WORK ]] || return 0
	for f in "$WORK"/*.out "$WORK"/*.err "${TB_STATE_DIR:-/nonexistent}"/router-*.log; do
		[[ -s $f ]] || continue
		echo "---- $f"
		tail -n 40 "$f"
	done
}

# leftovers: prints what of this testbed still exists (nothing if all is gone).
leftovers() {
	local p f
	for p in "$TB_H1" "$TB_H2" "$TB_C1" "$TB_C2" "$TB_C3"; do
		[[ ! -e /run/netns/$p ]] || echo "netns $p"
	done
	for p in "$TB_CG1" "$TB_CG2" "$TB_PIN1" "$TB_PIN2" "$TB_SOCK1" "$TB_SOCK2" "$TB_STATE_DIR"; do
		[[ ! -e $p ]] || echo "$p"
	done
	for f in "$WORK"/router-h*.pid; do
		[[ -f $f ]] || continue
		p=$(<"$f")
		! pid_alive "$p" || echo "router process $p"
	done
}

it_cleanup() {
	local rc=$? p left
	set +e
	if ((rc == 0 && !IT_PASSED)); then
		echo "FAIL: $TEST_NAME: exited without reaching it_pass"
		rc=1
	fi
	for p in "${PIDS[@]}"; do kill_tree "$p"; done
	wait 2>/dev/null
	if ((IT_UP)); then
		# Router pids, to prove below that they are gone.
		cp "$TB_STATE_DIR"/router-h*.pid "$WORK/" 2>/dev/null
		"$SLIM_TESTBED/testbed.sh" down "$TB_PREFIX" >/dev/null
		left=$(leftovers)
		if [[ -n $left ]]; then
			echo "FAIL: $TEST_NAME: left behind after testbed.sh down: $(oneline "$left")"
			rc=1
		fi
	fi
	if [[ -n $WORK ]]; then
		if [[ ${SLIM_KEEP:-0} == 1 ]]; then echo "logs kept in $WORK"; else rm -rf "$WORK"; fi
	fi
	public_lib_remove
	exit "$rc"
}

# it_start CODE [norouters]: checks prerequisites, builds testbed "tCODE<pid>"
# and starts the routers (unless norouters). CODE: 1-2 letters.
it_start() {
	local code=$1 what=${2:-routers} v
	[[ $(id -u) == 0 ]] || skip "needs root (network namespaces, BPF)"
	for v in SLIM_ROUTER SLIMCTL SLIM_RUN SLIM_ECHO; do
		[[ -n ${!v:-} && -x ${!v} ]] || skip "$v not set to an executable (run through ctest)"
	done
	for v in ip nsenter ss python3 timeout setpriv findmnt; do
		command -v "$v" >/dev/null || skip "needs $v"
	done
	tb_vars "t$code$(($$ % 10000))"
	WORK=$(mktemp -d "/tmp/slim-it-$TEST_NAME.XXXXXX")
	public_lib
	# testbed.sh up removes a half-built testbed itself, and refuses (touching
	# nothing) if one of these namespaces already exists: only a testbed it
	# made is ours to take down.
	"$SLIM_TESTBED/testbed.sh" up "$TB_PREFIX" || fail "testbed.sh up $TB_PREFIX failed"
	IT_UP=1
	if [[ $what == routers ]]; then
		"$SLIM_TESTBED/slim-env.sh" up "$TB_PREFIX" || fail "slim-env.sh up $TB_PREFIX failed"
	fi
}

trap it_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# sock_of NETNS: the router socket serving that container's host.
sock_of() {
	case $1 in
	"$TB_C2" | "$TB_H2") echo "$TB_SOCK2" ;;
	*) echo "$TB_SOCK1" ;;
	esac
}

# path_counts HOSTNS: "ACC S2P P2S", the "connections by path" counts
# (accelerated, slim-to-plain, plain-to-slim) of the router of HOSTNS.
path_counts() {
	in_ns "$1" "$SLIMCTL" --socket "$(sock_of "$1")" status | sed -n \
		's/^connections by path: accelerated \([0-9]*\), slim-to-plain \([0-9]*\), plain-to-slim \([0-9]*\)$/\1 \2 \3/p'
}

# path_count HOSTNS FIELD: one of those counts (FIELD as slimctl names it).
path_count() {
	local -A col=([accelerated]=1 [slim-to-plain]=2 [plain-to-slim]=3)
	path_counts "$1" | cut -d ' ' -f "${col[$2]}"
}

# cmd_for slim|plain NETNS: sets CMD to the prefix that runs a program in NETNS,
# under slim-run (with that host's router socket) for "slim".
cmd_for() {
	CMD=(nsenter --net="/run/netns/$2" --)
	if [[ $1 == slim ]]; then CMD+=("$SLIM_RUN" --socket "$(sock_of "$2")" --); fi
}

# bg NAME slim|plain NETNS PROG ARGS...: starts it in the background;
# stdout/stderr in $WORK/NAME.out/.err; its pid in BG[NAME] and PIDS.
declare -A BG
bg() {
	local name=$1 mode=$2 ns=$3
	shift 3
	cmd_for "$mode" "$ns"
	"${CMD[@]}" "$@" </dev/null >"$WORK/$name.out" 2>"$WORK/$name.err" &
	BG[$name]=$!
	PIDS+=($!)
}

# fg NAME slim|plain NETNS PROG ARGS...: runs it (at most 30 s); sets RC and
# MS (wall time in milliseconds); output in $WORK/NAME.out/.err.
fg() {
	local name=$1 mode=$2 ns=$3 t0 t1
	shift 3
	cmd_for "$mode" "$ns"
	t0=$(date +%s%N)
	RC=0
	timeout 30 "${CMD[@]}" "$@" </dev/null >"$WORK/$name.out" 2>"$WORK/$name.err" || RC=$?
	t1=$(date +%s%N)
	# shellcheck disable=SC2034 # read by the tests
	MS=$(((t1 - t0) / 1000000))
}

# wait_bg NAME: waits for a background job; sets RC.
wait_bg() {
	RC=0
	wait "${BG[$1]}" || RC=$?
}

# wait_line FILE REGEX [SECS]: waits until a line of FILE matches.
wait_line() {
	wait_until "${3:-10}" "'$2' in $(basename "$1")" grep -Eq -- "$2" "$1"
}

# count_ge FILE REGEX N: true if at least N lines of FILE match.
count_ge() {
	local c
	c=$(grep -Ec -- "$2" "$1" 2>/dev/null) || c=0
	((c >= $3))
}

# start_echo NAME slim|plain NETNS ARGS...: an echo server, waited for.
start_echo() {
	local name=$1
	bg "$@"
	wait_line "$WORK/$name.out" '^listen ' || fail "echo server $name did not start listening"
	ok "echo server $name: $(head -n 1 "$WORK/$name.out")"
}

# no_warning NAME: the process's stderr has no libslim warning (it stayed on slim).
no_warning() {
	if grep -q 'libslim' "$WORK/$1.err"; then
		fail "$1: libslim warned: $(cat "$WORK/$1.err")"
	fi
	ok "$1: no libslim warning"
}

# stop_daemon PID SIGNAL SECONDS WHAT: stops a daemon's main process the
# test started (from its EXIT trap, before it_cleanup), with the signal the
# daemon takes as "shut down cleanly" (its workers or helpers go with it);
# it_cleanup's kill_tree would signal those first, which a master answers by
# forking new ones or taking for a crash. After SECONDS: SIGKILL to it and
# its children.
stop_daemon() {
	local pid=$1 sig=$2 secs=$3 what=$4 i k
	[[ -n $pid ]] && pid_alive "$pid" || return 0
	kill "-$sig" "$pid" 2>/dev/null
	for ((i = 0; i < secs * 10; i++)); do
		pid_alive "$pid" || return 0
		sleep 0.1
	done
	echo "$what $pid still there $secs s after SIG$sig: SIGKILL to it and its children"
	for k in $(ps -o pid= --ppid "$pid" 2>/dev/null); do kill -KILL "$k" 2>/dev/null; done
	kill -KILL "$pid" 2>/dev/null
}

# own_listeners_only NS IP PORT: the container NS has no TCP socket of its
# own but listeners on PORT: the container side of a slim listener (which
# libslim merges into the app's listening fd, so that clients that are not
# slim are served too) and any IPv6-only "[::]:PORT" listener (servers that
# listen on every family, like memcached and PostgreSQL, open one; slim
# leaves it alone, as the IPv4 overlay cannot reach it anyway). No
# connection, and no TIME_WAIT.
own_listeners_only() {
	local ns=$1 ip=$2 port=$3 conn
	conn=$(in_ns "$ns" ss -Htan |
		grep -vE "^LISTEN +[0-9]+ +[0-9]+ +(\[::\]|0\.0\.0\.0|${ip//./\\.}):$port +" || true)
	[[ -z $conn ]] || fail "container $ns has TCP sockets of its own: $(oneline "$conn")"
	ok "no TCP socket in $ns but the listeners on port $port"
}

# field FILE KEY [N]: the value of the N-th (default 1st) line "KEY value".
field() {
	awk -v k="$2" -v n="${3:-1}" '$1 == k && ++c == n { print $2; exit }' "$1"
}

# expect_eq WHAT GOT WANT
expect_eq() {
	[[ $2 == "$3" ]] || fail "$1: got '$2', want '$3'"
	ok "$1 = $3"
}

# expect_match WHAT GOT REGEX
expect_match() {
	[[ $2 =~ $3 ]] || fail "$1: got '$2', want a match of /$3/"
	ok "$1 = $2"
}

# counters: prints the packet counters that prove which path carried traffic:
# vxlan0 rx/tx in both hosts and eth0 rx/tx in the three containers. Read with
# `ip -j -s link` inside each netns (/sys would show the caller's netns).
counters() {
	local ns dev
	for ns in "$TB_H1:vxlan0" "$TB_H2:vxlan0" "$TB_C1:eth0" "$TB_C2:eth0" "$TB_C3:eth0"; do
		dev=${ns#*:} ns=${ns%%:*}
		ip -n "$ns" -j -s link show "$dev" | python3 -c '
import json, sys
d = json.load(sys.stdin)[0]["stats64"]
print("%s:%s rx=%d tx=%d" % (sys.argv[1], sys.argv[2], d["rx"]["packets"], d["tx"]["packets"]))' "$ns" "$dev"
	done
}

# oneline TEXT: TEXT with runs of blanks and newlines squeezed to one space.
oneline() { tr -s ' \t\n' ' ' <<<"$1"; }

# expect_same_counters BEFORE AFTER WHAT: counters unchanged.
expect_same_counters() {
	if [[ $1 != "$2" ]]; then
		fail "$3: packets crossed the container network / VXLAN:" \
			"$(diff <(echo "$1") <(echo "$2") | grep '^[<>]' | tr '\n' ' ')"
	fi
	ok "$3: vxlan0 (h1, h2) and eth0 (c1, c2, c3) packet counters unchanged"
}

# pkt_counter VALUE_FROM_counters NS:DEV rx|tx
pkt_counter() {
	sed -n "s/^$2 .*$3=\([0-9]*\).*/\1/p" <<<"$1"
}

# pkts_moved BEFORE AFTER "NS:DEV DIR"...: each counter (of counters) grew:
# the traffic went over the container network (VXLAN, the bridge).
pkts_moved() {
	local before=$1 after=$2 nd dev dir a b
	shift 2
	for nd in "$@"; do
		read -r dev dir <<<"$nd"
		b=$(pkt_counter "$before" "$dev" "$dir") a=$(pkt_counter "$after" "$dev" "$dir")
		[[ -n $a && -n $b ]] || fail "no counter $dev $dir in: $(oneline "$after")"
		((a > b)) || fail "$dev $dir packets did not move ($b -> $a)"
		ok "$dev $dir packets moved: $b -> $a"
	done
}

# fallback_pkts: packets sent on vxlan0 (both hosts) and on c1's eth0. A slim
# client in c1 moves none of them, also when a plain server's host translates
# its connection (the server container's eth0 does carry the translated
# connection: that is the plain server's own network).
fallback_pkts() {
	counters | grep -E "^($TB_H1:vxlan0|$TB_H2:vxlan0|$TB_C1:eth0) "
}

# expect_no_fallback BEFORE AFTER WHAT: fallback_pkts unchanged.
expect_no_fallback() {
	[[ $1 == "$2" ]] || fail "$3: packets on vxlan0 or c1's eth0:" \
		"$(diff <(echo "$1") <(echo "$2") | grep '^[<>]' | tr '\n' ' ')"
	ok "$3: no packet on vxlan0 (h1, h2) or on c1's eth0"
}

# estab NETNS LOCAL_RE PEER_RE: prints matching ESTABLISHED TCP connections.
estab() {
	in_ns "$1" ss -Htn state established | awk -v l="$2" -v p="$3" '$3 ~ l && $4 ~ p'
}

# check_exchange N CLIENT_NS CLIENT_VIP CLIENT_HOSTNS CLIENT_UL SERVER_HOSTNS SERVER_UL
#                DST PORT MSG [client options...]
# One echo exchange from CLIENT_NS (under slim-run) to DST:PORT, where the echo
# server "srv" (under slim-run) serves its N-th connection. Checks the
# addresses both applications see, that a host TCP connection CLIENT_UL:P ->
# SERVER_UL:7771 carries it while it is held open (P = the client's reported
# port), that the container namespace holds no TCP socket of its own, and
# that no packet crossed vxlan0 or the containers' eth0.
check_exchange() {
	local n=$1 cns=$2 cvip=$3 chns=$4 cul=$5 shns=$6 sul=$7 dst=$8 port=$9 msg=${10}
	shift 10
	local before after local_addr lport conn
	before=$(counters)
	bg "cli$n" slim "$cns" "$SLIM_ECHO" client --hold 1500 "$@" "$dst" "$port" "$msg"
	if ! wait_line "$WORK/cli$n.out" '^echo ' 10; then
		wait_bg "cli$n"
		fail "client $n (${*:-blocking}) got no echo (exit $RC): $(cat "$WORK/cli$n.err")"
	fi
	local_addr=$(field "$WORK/cli$n.out" local)
	expect_match "client $n getsockname" "$local_addr" "^${cvip//./\\.}:[0-9]+$"
	lport=${local_addr##*:}
	expect_eq "client $n getpeername" "$(field "$WORK/cli$n.out" peer)" "$dst:$port"
	conn=$(estab "$chns" "^${cul//./\\.}:$lport\$" "^${sul//./\\.}:$TB_PORT\$")
	[[ -n $conn ]] || fail "client $n: no ESTABLISHED $cul:$lport -> $sul:$TB_PORT in $chns;" \
		"ss -tn there: $(in_ns "$chns" ss -Htn | tr '\n' ';')"
	ok "client $n: host connection in $chns: $(oneline "$conn")"
	conn=$(estab "$shns" "^${sul//./\\.}:$TB_PORT\$" "^${cul//./\\.}:$lport\$")
	[[ -n $conn ]] || fail "client $n: no ESTABLISHED $sul:$TB_PORT <- $cul:$lport in $shns"
	ok "client $n: host connection in $shns: $(oneline "$conn")"
	conn=$(in_ns "$cns" ss -Htn)
	[[ -z $conn ]] || fail "client $n: container $cns has TCP sockets of its own: $conn"
	ok "client $n: no TCP socket in the container namespace $cns"
	wait_bg "cli$n"
	expect_eq "client $n exit code" "$RC" 0
	expect_eq "client $n echo" "$(sed -n 's/^echo //p' "$WORK/cli$n.out")" "$msg"
	wait_until 5 "the server to finish connection $n" count_ge "$WORK/srv.out" '^closed' "$n" ||
		fail "server did not finish connection $n"
	expect_eq "server accept() address, connection $n" "$(field "$WORK/srv.out" accept "$n")" \
		"$cvip:$lport"
	expect_eq "server getpeername, connection $n" "$(field "$WORK/srv.out" peer "$n")" \
		"$cvip:$lport"
	expect_eq "server getsockname, connection $n" "$(field "$WORK/srv.out" local "$n")" \
		"$dst:$port"
	expect_eq "server received, connection $n" "$(field "$WORK/srv.out" got "$n")" "$msg"
	after=$(counters)
	expect_same_counters "$before" "$after" "connection $n"
}

# check_c1_exchanges SERVER_HOSTNS SERVER_UL DST PORT TAG: connections 1 and 2
# from c1 (host h1) to the echo server "srv" at DST:PORT, with all of
# check_exchange's checks: 1 with a blocking connect; 2 with a non-blocking
# connect and TCP_NODELAY set before it, which must return EINPROGRESS, keep
# O_NONBLOCK on the fd and keep TCP_NODELAY in force after the swap.
check_c1_exchanges() {
	local shns=$1 sul=$2 dst=$3 port=$4 tag=$5
	echo "-- blocking connect"
	check_exchange 1 "$TB_C1" "$TB_C1_IP" "$TB_H1" "$TB_H1_IP" "$shns" "$sul" "$dst" "$port" \
		"$tag-blocking"
	echo "-- non-blocking connect (EINPROGRESS + poll), TCP_NODELAY set before it"
	check_exchange 2 "$TB_C1" "$TB_C1_IP" "$TB_H1" "$TB_H1_IP" "$shns" "$sul" "$dst" "$port" \
		"$tag-nonblock" --nonblock --nodelay
	grep -qx 'connect EINPROGRESS' "$WORK/cli2.out" ||
		fail "non-blocking connect did not return EINPROGRESS: $(cat "$WORK/cli2.out")"
	ok "non-blocking connect returned EINPROGRESS"
	grep -qx 'flags O_NONBLOCK' "$WORK/cli2.out" ||
		fail "O_NONBLOCK lost on the client fd after connect: $(cat "$WORK/cli2.out")"
	ok "client fd still O_NONBLOCK after the swap"
	grep -qx 'nodelay 1' "$WORK/cli2.out" ||
		fail "TCP_NODELAY set before connect is not in force after it: $(cat "$WORK/cli2.out")"
	ok "TCP_NODELAY set before connect is in force on the host socket"
}

# expect_server_done N: the echo server "srv" (started with --count N) exited 0.
expect_server_done() {
	wait_bg srv
	expect_eq "server exit code after $1 connections" "$RC" 0
}
