#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Connection-setup benchmark on a testbed made by testbed.sh (and, for the
# slim paths, routers started by slim-env.sh).
#
#   bench.sh PREFIX [--rounds R] [--seconds S] [--conns N] [--modes LIST]
#
# Paths (LIST is comma separated; "all" = every path below, the routers must
# answer; default "auto": all if the routers answer, else without the slim ones):
#   host         client in h1 -> server in h2 bound to h2's underlay IP (no overlay)
#   vxlan        client in c1 -> server in c2 over the VXLAN fallback (no preload)
#   slim         client in c1 -> server in c2, both under slim-run
#   host-local   client in h1 -> server on 127.0.0.1 in h1
#   bridge-local client in c1 -> server in c3 through h1's bridge (no preload)
#   slim-local   client in c1 -> server in c3, both under slim-run
# Rounds alternate the paths (round 1: all paths, round 2: all paths, ...), so
# slow drift of the machine hits every path alike. Each run is S seconds of
# slim-setup-bench (new connection, 1 byte each way, close). The table shows
# the median rate over the rounds, min-max, the ratio to the host path of the
# same kind (cross-host or same-host), median p50/p99 latency, failed
# transactions, and how many packets crossed vxlan0 (both hosts, tx) and c1's
# own eth0 (tx) during the path's runs. The slim paths must show 0 in both
# columns: a slim path that fell back to the container network measured
# VXLAN or the bridge, not slim. Then one "BENCH path=..." line per path.
# Exit status: 0; or 1 if a client run failed outright, or (after the table,
# without BENCH lines) if any path had failed transactions or a slim path fell
# back: the table is then not a fair comparison.
# Programs: SLIM_SETUP_BENCH, SLIM_RUN, SLIMCTL or SLIM_BIN_DIR (see lib.sh).
set -euo pipefail
TB_PROG=bench.sh
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
	echo "usage: bench.sh PREFIX [--rounds R] [--seconds S] [--conns N] [--modes LIST]" >&2
	exit 1
}

[[ $# -ge 1 ]] || usage
tb_vars "$1"
shift
ROUNDS=3 SECONDS_PER_RUN=3 CONNS=1 MODES=auto
while [[ $# -gt 0 ]]; do
	[[ $# -ge 2 ]] || usage
	case $1 in
	--rounds) ROUNDS=$2 ;;
	--seconds) SECONDS_PER_RUN=$2 ;;
	--conns) CONNS=$2 ;;
	--modes) MODES=$2 ;;
	*) usage ;;
	esac
	shift 2
done
[[ $ROUNDS =~ ^[1-9][0-9]*$ && $SECONDS_PER_RUN =~ ^[1-9][0-9]*$ && $CONNS =~ ^[1-9][0-9]*$ ]] ||
	die "--rounds, --seconds and --conns must be positive integers"
[[ $(id -u) == 0 ]] || die "must run as root (enters network namespaces)"
[[ -e /run/netns/$TB_H1 && -f $TB_CLUSTER ]] ||
	die "testbed $TB_PREFIX is not up (run: testbed.sh up $TB_PREFIX)"
need_bins SLIM_SETUP_BENCH=slim-setup-bench

slim_up() {
	[[ -n ${SLIMCTL:-} ]] || SLIMCTL=$(find_bin slimctl) || return 1
	in_ns "$TB_H1" "$SLIMCTL" --socket "$TB_SOCK1" status >/dev/null 2>&1 &&
		in_ns "$TB_H2" "$SLIMCTL" --socket "$TB_SOCK2" status >/dev/null 2>&1
}

ALL_MODES=host,vxlan,slim,host-local,bridge-local,slim-local
case $MODES in
auto)
	if slim_up; then
		MODES=$ALL_MODES
	else
		MODES=host,vxlan,host-local,bridge-local
		echo "bench.sh: routers of $TB_PREFIX not answering: skipping the slim paths" >&2
	fi
	;;
all)
	slim_up || die "routers of $TB_PREFIX do not answer 'slimctl status' (run: slim-env.sh up $TB_PREFIX)"
	MODES=$ALL_MODES
	;;
esac
IFS=, read -r -a MODE_LIST <<<"$MODES"
for m in "${MODE_LIST[@]}"; do
	case $m in
	slim | slim-local) need_bins SLIM_RUN=slim-run ;;
	host | vxlan | host-local | bridge-local) ;;
	*) die "unknown mode '$m' (host vxlan slim host-local bridge-local slim-local)" ;;
	esac
done

# mode_info MODE: sets SRV_NS SRV_SOCK SRV_BIND CLI_NS CLI_SOCK DST PORT BASE
# (SOCK empty = no slim-run).
mode_info() {
	SRV_SOCK="" CLI_SOCK="" SRV_BIND=""
	case $1 in
	host) SRV_NS=$TB_H2 SRV_BIND=$TB_H2_IP CLI_NS=$TB_H1 DST=$TB_H2_IP PORT=9101 BASE=host ;;
	vxlan) SRV_NS=$TB_C2 CLI_NS=$TB_C1 DST=$TB_C2_IP PORT=9102 BASE=host ;;
	slim) SRV_NS=$TB_C2 SRV_SOCK=$TB_SOCK2 CLI_NS=$TB_C1 CLI_SOCK=$TB_SOCK1 DST=$TB_C2_IP \
		PORT=9103 BASE=host ;;
	host-local) SRV_NS=$TB_H1 SRV_BIND=127.0.0.1 CLI_NS=$TB_H1 DST=127.0.0.1 PORT=9104 \
		BASE=host-local ;;
	bridge-local) SRV_NS=$TB_C3 CLI_NS=$TB_C1 DST=$TB_C3_IP PORT=9105 BASE=host-local ;;
	slim-local) SRV_NS=$TB_C3 SRV_SOCK=$TB_SOCK1 CLI_NS=$TB_C1 CLI_SOCK=$TB_SOCK1 DST=$TB_C3_IP \
		PORT=9106 BASE=host-local ;;
	esac
}

# ns_cmd NETNS SOCK: sets CMD to the command prefix that runs a program in
# NETNS, under slim-run if SOCK is set (nsenter and slim-run exec, no shell).
ns_cmd() {
	CMD=(nsenter --net="/run/netns/$1" --)
	if [[ -n $2 ]]; then CMD+=("$SLIM_RUN" --socket "$2" --); fi
}

# tx_pkts NETNS:DEV...: the sum of the devices' transmitted packets.
tx_pkts() {
	local total=0 nd n
	for nd in "$@"; do
		n=$(ip -n "${nd%%:*}" -j -s link show "${nd#*:}" |
			python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["stats64"]["tx"]["packets"])') ||
			die "cannot read the packet counters of ${nd#*:} in ${nd%%:*}"
		total=$((total + n))
	done
	echo "$total"
}
vxlan_tx() { tx_pkts "$TB_H1:vxlan0" "$TB_H2:vxlan0"; }
c1_tx() { tx_pkts "$TB_C1:eth0"; }

WORK=$(mktemp -d /tmp/slim-bench.XXXXXX)
SERVER_PIDS=()
cleanup() {
	local p
	for p in "${SERVER_PIDS[@]}"; do kill_tree "$p"; done
	wait 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT

for m in "${MODE_LIST[@]}"; do
	mode_info "$m"
	args=(server --threads 4)
	[[ -n $SRV_BIND ]] && args+=(--bind "$SRV_BIND")
	ns_cmd "$SRV_NS" "$SRV_SOCK"
	"${CMD[@]}" "$SLIM_SETUP_BENCH" "${args[@]}" "$PORT" </dev/null >"$WORK/srv-$m.out" 2>"$WORK/srv-$m.err" &
	SERVER_PIDS+=($!)
	if ! wait_until 10 "the $m server to listen" grep -q '^listening' "$WORK/srv-$m.out"; then
		cat "$WORK/srv-$m.err" >&2
		die "server for path $m did not start"
	fi
done

echo "bench: testbed $TB_PREFIX, ${ROUNDS} rounds x ${SECONDS_PER_RUN}s, $CONNS connection(s) at a time," \
	"paths: ${MODE_LIST[*]}"
declare -A RATES P50S P99S VX C1 ERRS
# result_field LINE KEY: the number after " KEY=" in a RESULT line (dies if absent).
result_field() {
	local v
	v=$(sed -n "s/.* $2=\([0-9]*\).*/\1/p" <<<"$1")
	[[ -n $v ]] || die "no $2= in the client's RESULT line: $1"
	echo "$v"
}
for ((r = 1; r <= ROUNDS; r++)); do
	for m in "${MODE_LIST[@]}"; do
		mode_info "$m"
		vx_before=$(vxlan_tx)
		c1_before=$(c1_tx)
		ns_cmd "$CLI_NS" "$CLI_SOCK"
		# Exit 3: some transactions failed; counted and reported below.
		rc=0
		out=$(timeout $((SECONDS_PER_RUN + 30)) "${CMD[@]}" "$SLIM_SETUP_BENCH" client \
			"$DST" "$PORT" --seconds "$SECONDS_PER_RUN" --conns "$CONNS" 2>"$WORK/cli.err") || rc=$?
		if ((rc != 0 && rc != 3)); then
			cat "$WORK/cli.err" >&2
			die "client run failed on path $m (round $r, exit $rc)"
		fi
		vx_after=$(vxlan_tx)
		c1_after=$(c1_tx)
		line=$(grep '^RESULT' <<<"$out") || die "no RESULT line from client on path $m (round $r)"
		[[ -s $WORK/cli.err ]] && sed "s/^/  [$m] /" "$WORK/cli.err" >&2
		rate=$(result_field "$line" rate)
		p50=$(result_field "$line" p50_us)
		p99=$(result_field "$line" p99_us)
		errs=$(result_field "$line" errors)
		RATES[$m]+="$rate " P50S[$m]+="$p50 " P99S[$m]+="$p99 "
		ERRS[$m]=$((${ERRS[$m]:-0} + errs))
		VX[$m]=$((${VX[$m]:-0} + vx_after - vx_before))
		C1[$m]=$((${C1[$m]:-0} + c1_after - c1_before))
		printf '  round %d %-12s rate %7s/s p50 %5s us p99 %6s us%s\n' "$r" "$m" "$rate" "$p50" "$p99" \
			"$( ((errs == 0)) || echo " ERRORS $errs")"
		sleep 0.5
	done
done

# median WORDS...: median of the numbers (lower middle for an even count).
median() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
minmax() { printf '%s\n' "$@" | sort -n | awk 'NR == 1 { lo = $1 } { hi = $1 } END { print lo "-" hi }'; }

echo
FMT='%-13s %9s %13s %8s %7s %7s %7s %10s %9s\n'
# shellcheck disable=SC2059 # one format for header and rows
printf "$FMT" path "rate/s" "min-max" "vs host" "p50 us" "p99 us" errors "vxlan pkts" "c1 pkts"
declare -A MED
for m in "${MODE_LIST[@]}"; do
	# shellcheck disable=SC2086 # word lists on purpose
	MED[$m]=$(median ${RATES[$m]})
done
for m in "${MODE_LIST[@]}"; do
	mode_info "$m"
	ratio="-"
	if [[ -n ${MED[$BASE]:-} && ${MED[$BASE]} -gt 0 ]]; then
		ratio=$(awk -v a="${MED[$m]}" -v b="${MED[$BASE]}" 'BEGIN { printf "%.2f", a / b }')
	fi
	# shellcheck disable=SC2086,SC2059
	printf "$FMT" "$m" "${MED[$m]}" "$(minmax ${RATES[$m]})" \
		"$ratio" "$(median ${P50S[$m]})" "$(median ${P99S[$m]})" "${ERRS[$m]}" "${VX[$m]}" "${C1[$m]}"
	# shellcheck disable=SC2086
	echo "BENCH path=$m median_rate=${MED[$m]} minmax=$(minmax ${RATES[$m]}) ratio=$ratio" \
		"p50_us=$(median ${P50S[$m]}) p99_us=$(median ${P99S[$m]}) errors=${ERRS[$m]}" \
		"vxlan_pkts=${VX[$m]} c1_pkts=${C1[$m]}" >>"$WORK/summary"
done
echo "(vs host: ratio of median rates to 'host' for cross-host paths, to 'host-local' for same-host"
echo " paths; vxlan pkts: sent on vxlan0 by h1 and h2, c1 pkts: sent on c1's eth0, during the path's runs)"

bad=()
for m in "${MODE_LIST[@]}"; do
	((${ERRS[$m]} == 0)) || bad+=("$m: ${ERRS[$m]} failed transactions (see the client's messages above)")
	if [[ $m == slim* ]] && ((${VX[$m]} != 0 || ${C1[$m]} != 0)); then
		bad+=("$m: ${VX[$m]} packets on vxlan0 and ${C1[$m]} on c1's eth0: it fell back to the container network (is c1 registered with its router? see slim-env.sh status $TB_PREFIX)")
	fi
done
if ((${#bad[@]})); then
	printf 'bench.sh: FAILED: %s\n' "${bad[@]}" >&2
	die "the table above is not a fair comparison (no BENCH lines printed)"
fi
# Machine-readable results, only for a clean run.
cat "$WORK/summary"
