#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Connection-setup benchmark on a testbed made by testbed.sh (and, for the
# slim paths, routers started by slim-env.sh).
#
#   setup-compare.sh PREFIX [--rounds R] [--seconds S] [--conns N] [--modes LIST]
#                   [--listeners N] [--report-all] [--pin same|split|none]
#
# Paths (LIST is comma separated; "all" = every path below, the routers must
# answer; default "auto": all if the routers answer, else without the slim ones):
#   host           client in h1 -> server in h2 bound to h2's underlay IP (no overlay)
#   vxlan          client in c1 -> server in c2 over the VXLAN fallback (no preload)
#   slim           client in c1 -> server in c2, both under slim-run
#   slim-ipc       as slim with SLIM_FASTPATH=0: a router request per connect
#   host-local     client in h1 -> server on 127.0.0.1 in h1
#   bridge-local   client in c1 -> server in c3 through h1's bridge (no preload)
#   slim-local     client in c1 -> server in c3, both under slim-run
#   slim-ipc-local as slim-local with SLIM_FASTPATH=0
#   slim-plain     client in c1 under slim-run -> plain server in c2 (ratio to vxlan)
#   slim-plain-local client in c1 under slim-run -> plain server in c3 (ratio to
#                  bridge-local)
#   plain-slim     plain client in c1 -> server in c2 under slim-run (ratio to vxlan)
#   plain-slim-local plain client in c1 -> server in c3 under slim-run (ratio to
#                  bridge-local)
# Rounds alternate the paths (round 1: all paths, round 2: all paths, ...), so
# slow drift of the machine hits every path alike. Each run is S seconds of
# slim-setup-bench (new connection, 1 byte each way, close). The table shows
# the median rate over the rounds, min-max, the ratio to the host path of the
# same kind (cross-host or same-host), median p50/p99 latency, failed
# transactions, and how many packets crossed vxlan0 (both hosts, tx) and c1's
# own eth0 (tx) during the path's runs. The slim paths must show 0 in both
# columns: a slim path that fell back to the container network measured
# VXLAN or the bridge, not slim. Then one "BENCH path=..." line per path.
# --listeners N: N listening sockets on the server side while measuring (the
# benchmark server and N-1 more from slim-listen-many on other ports, in the
# same namespace and, for the slim paths, registered with the same router).
# --report-all: print the BENCH lines even when the run is not a fair
# comparison (then valid=0 on the bad paths' lines; the exit status is still 1).
# --pin: CPU placement (bench-lib.sh): same = client, server and the routers
# on CPU 0 (the rate then shows the CPU cost of a connection directly),
# split = client on CPU 0 and server on CPU 1, none = no pinning. With --pin
# the table gains "cpu us": the busy time of all CPUs (/proc/stat) during
# the client's runs per transaction (median over the rounds; it includes
# whatever else the machine ran), and the BENCH lines cpu_us= and pin=.
# Without --pin nothing is pinned and the output is as before.
# Exit status: 0; or 1 if a client run failed outright, or (after the table,
# without BENCH lines unless --report-all) if any path had failed transactions
# or a slim path fell back: the table is then not a fair comparison.
# Programs: SLIM_SETUP_BENCH, SLIM_RUN, SLIMCTL, SLIM_LISTEN_MANY or
# SLIM_BIN_DIR (see lib.sh).
set -euo pipefail
TB_PROG=setup-compare.sh
# shellcheck source=../testbed/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../testbed/lib.sh"
# shellcheck source=bench-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/bench-lib.sh"

usage() {
	echo "usage: setup-compare.sh PREFIX [--rounds R] [--seconds S] [--conns N] [--modes LIST]" \
		"[--listeners N] [--report-all] [--pin same|split|none]" >&2
	exit 1
}

[[ $# -ge 1 ]] || usage
tb_vars "$1"
shift
ROUNDS=3 SECONDS_PER_RUN=3 CONNS=1 MODES=auto LISTENERS=1 REPORT_ALL=0 PIN=""
while [[ $# -gt 0 ]]; do
	if [[ $1 == --report-all ]]; then
		REPORT_ALL=1
		shift
		continue
	fi
	[[ $# -ge 2 ]] || usage
	case $1 in
	--listeners) LISTENERS=$2 ;;
	--rounds) ROUNDS=$2 ;;
	--seconds) SECONDS_PER_RUN=$2 ;;
	--conns) CONNS=$2 ;;
	--modes) MODES=$2 ;;
	--pin) PIN=$2 ;;
	*) usage ;;
	esac
	shift 2
done
[[ $ROUNDS =~ ^[1-9][0-9]*$ && $SECONDS_PER_RUN =~ ^[1-9][0-9]*$ && $CONNS =~ ^[1-9][0-9]*$ ]] ||
	die "--rounds, --seconds and --conns must be positive integers"
if ! [[ $LISTENERS =~ ^[1-9][0-9]*$ ]] || ((LISTENERS > 20000)); then
	die "--listeners must be an integer in 1..20000"
fi
[[ -z $PIN ]] || bl_pin_known "$PIN" || die "--pin must be one of: $BL_PINS"
need_root "enters network namespaces"
[[ -e /run/netns/$TB_H1 && -f $TB_CLUSTER ]] ||
	die "testbed $TB_PREFIX is not up (run: testbed.sh up $TB_PREFIX)"
need_bins SLIM_SETUP_BENCH=slim-setup-bench

slim_up() {
	[[ -n ${SLIMCTL:-} ]] || SLIMCTL=$(find_bin slimctl) || return 1
	in_ns "$TB_H1" "$SLIMCTL" --socket "$TB_SOCK1" status >/dev/null 2>&1 &&
		in_ns "$TB_H2" "$SLIMCTL" --socket "$TB_SOCK2" status >/dev/null 2>&1
}

ALL_MODES=host,vxlan,slim,slim-ipc,host-local,bridge-local,slim-local,slim-ipc-local
case $MODES in
auto)
	if slim_up; then
		MODES=$ALL_MODES
	else
		MODES=host,vxlan,host-local,bridge-local
		echo "setup-compare.sh: routers of $TB_PREFIX not answering: skipping the slim paths" >&2
	fi
	;;
all)
	slim_up || die "routers of $TB_PREFIX do not answer 'slimctl status' (run: slim-env.sh up $TB_PREFIX)"
	MODES=$ALL_MODES
	;;
esac
IFS=, read -r -a MODE_LIST <<<"$MODES"
for m in "${MODE_LIST[@]}"; do
	bl_known "$m" || die "unknown mode '$m' (one of: $BL_MODES)"
	bl_mode "$m"
	if [[ -n $SRV_SOCK$CLI_SOCK ]]; then need_bins SLIM_RUN=slim-run; fi
done
((LISTENERS == 1)) || need_bins SLIM_LISTEN_MANY=slim-listen-many
# The routers share CPU 0 with the programs only if a slim path needs them.
if [[ $PIN == same ]]; then
	for m in "${MODE_LIST[@]}"; do
		if bl_is_slim "$m" || [[ $m == plain-slim* ]]; then
			bl_pin_routers same
			break
		fi
	done
fi

# The setup benchmark's server port for MODE (after bl_mode): one per path.
port_of() { echo $((9101 + IDX)); }

WORK=$(mktemp -d /tmp/slim-bench.XXXXXX)
SERVER_PIDS=()
cleanup() {
	local p
	for p in "${SERVER_PIDS[@]}"; do kill_tree "$p"; done
	wait 2>/dev/null || true
	bl_unpin_routers
	rm -rf "$WORK"
}
trap cleanup EXIT

# The extra listeners: one slim-listen-many per server side (namespace and
# router), shared by the paths with the same server side (slim and slim-ipc
# register with the same router, so one set counts for both), each on its
# own port range so that two sets in one namespace never collide.
declare -A EXTRA
next_port=12000
for m in "${MODE_LIST[@]}"; do
	((LISTENERS > 1)) || break
	bl_mode "$m"
	key="$SRV_NS|$SRV_SOCK"
	[[ -z ${EXTRA[$key]:-} ]] || continue
	EXTRA[$key]=1
	n=$((LISTENERS - 1))
	((next_port + n - 1 <= 65535)) ||
		die "--listeners $LISTENERS: not enough free ports for every path's server side (measure fewer paths at once)"
	args=(--base "$next_port" --count "$n")
	[[ -n $SRV_BIND ]] && args+=(--bind "$SRV_BIND")
	bl_srv_cmd "$m"
	"${CMD[@]}" "$SLIM_LISTEN_MANY" "${args[@]}" </dev/null >"$WORK/extra-$m.out" 2>"$WORK/extra-$m.err" &
	SERVER_PIDS+=($!)
	next_port=$((next_port + n))
	if ! wait_until 120 "$n extra listeners of path $m" grep -q '^listening' "$WORK/extra-$m.out"; then
		cat "$WORK/extra-$m.err" >&2
		die "slim-listen-many for path $m did not get its $n listeners"
	fi
done

for m in "${MODE_LIST[@]}"; do
	bl_mode "$m"
	PORT=$(port_of)
	args=(server --threads 4)
	[[ -n $SRV_BIND ]] && args+=(--bind "$SRV_BIND")
	bl_srv_cmd "$m"
	bl_pin_cmd "${PIN:-none}" server
	"${PIN_CMD[@]}" "${CMD[@]}" "$SLIM_SETUP_BENCH" "${args[@]}" "$PORT" </dev/null >"$WORK/srv-$m.out" \
		2>"$WORK/srv-$m.err" &
	SERVER_PIDS+=($!)
	if ! wait_until 10 "the $m server to listen" grep -q '^listening' "$WORK/srv-$m.out"; then
		cat "$WORK/srv-$m.err" >&2
		die "server for path $m did not start"
	fi
done

echo "bench: testbed $TB_PREFIX, ${ROUNDS} rounds x ${SECONDS_PER_RUN}s, $CONNS connection(s) at a time," \
	"$LISTENERS listener(s) per server side, paths: ${MODE_LIST[*]}"
declare -A RATES P50S P99S VX C1 ERRS CPUS
HZ=$(getconf CLK_TCK)
# result_field LINE KEY: the number after " KEY=" in a RESULT line (dies if absent).
result_field() {
	local v
	v=$(sed -n "s/.* $2=\([0-9]*\).*/\1/p" <<<"$1")
	[[ -n $v ]] || die "no $2= in the client's RESULT line: $1"
	echo "$v"
}
for ((r = 1; r <= ROUNDS; r++)); do
	for m in "${MODE_LIST[@]}"; do
		read -r vx_before c1_before < <(bl_fallback_pkts)
		bl_cli_cmd "$m"
		bl_pin_cmd "${PIN:-none}" client
		PORT=$(port_of)
		# Exit 3: some transactions failed; counted and reported below.
		rc=0
		ticks0=$(bl_cpu_ticks "")
		out=$(timeout $((SECONDS_PER_RUN + 30)) "${PIN_CMD[@]}" "${CMD[@]}" "$SLIM_SETUP_BENCH" client \
			"$DST" "$PORT" --seconds "$SECONDS_PER_RUN" --conns "$CONNS" 2>"$WORK/cli.err") || rc=$?
		ticks1=$(bl_cpu_ticks "")
		if ((rc != 0 && rc != 3)); then
			cat "$WORK/cli.err" >&2
			die "client run failed on path $m (round $r, exit $rc)"
		fi
		read -r vx_after c1_after < <(bl_fallback_pkts)
		line=$(grep '^RESULT' <<<"$out") || die "no RESULT line from client on path $m (round $r)"
		[[ -s $WORK/cli.err ]] && sed "s/^/  [$m] /" "$WORK/cli.err" >&2
		rate=$(result_field "$line" rate)
		p50=$(result_field "$line" p50_us)
		p99=$(result_field "$line" p99_us)
		errs=$(result_field "$line" errors)
		RATES[$m]+="$rate " P50S[$m]+="$p50 " P99S[$m]+="$p99 "
		trans=$(result_field "$line" transactions)
		cpu=$(awk -v t="$((ticks1 - ticks0))" -v hz="$HZ" -v n="$trans" 'BEGIN { printf "%.1f", n ? t * 1e6 / hz / n : 0 }')
		CPUS[$m]+="$cpu "
		ERRS[$m]=$((${ERRS[$m]:-0} + errs))
		VX[$m]=$((${VX[$m]:-0} + vx_after - vx_before))
		C1[$m]=$((${C1[$m]:-0} + c1_after - c1_before))
		printf '  round %d %-12s rate %7s/s p50 %5s us p99 %6s us%s%s\n' "$r" "$m" "$rate" "$p50" "$p99" \
			"$([[ -z $PIN ]] || echo " cpu $cpu us/conn")" "$( ((errs == 0)) || echo " ERRORS $errs")"
		sleep 0.5
	done
done

median() { bl_median "$@"; }
minmax() { bl_minmax "$@"; }

echo
FMT='%-15s %9s %13s %8s %7s %7s %7s %10s %9s%s\n'
# cpu_col TEXT: TEXT as the table's last column with --pin, else nothing.
cpu_col() { [[ -z $PIN ]] || printf ' %9s' "$1"; }
# shellcheck disable=SC2059 # one format for header and rows
printf "$FMT" path "rate/s" "min-max" "vs host" "p50 us" "p99 us" errors "vxlan pkts" "c1 pkts" "$(cpu_col "cpu us")"
declare -A MED
for m in "${MODE_LIST[@]}"; do
	# shellcheck disable=SC2086 # word lists on purpose
	MED[$m]=$(median ${RATES[$m]})
done
# invalid MODE: the reason MODE's numbers are not a fair measurement, or nothing.
invalid() {
	((${ERRS[$1]} == 0)) || { echo "$1: ${ERRS[$1]} failed transactions (see the client's messages above)"; return; }
	if bl_is_slim "$1" && ((${VX[$1]} != 0 || ${C1[$1]} != 0)); then
		echo "$1: ${VX[$1]} packets on vxlan0 and ${C1[$1]} on c1's eth0: it fell back to the container network (is c1 registered with its router? see slim-env.sh status $TB_PREFIX)"
	fi
}
for m in "${MODE_LIST[@]}"; do
	bl_mode "$m"
	valid=1
	[[ -z $(invalid "$m") ]] || valid=0
	ratio="-"
	if [[ -n ${MED[$BASE]:-} && ${MED[$BASE]} -gt 0 ]]; then
		ratio=$(awk -v a="${MED[$m]}" -v b="${MED[$BASE]}" 'BEGIN { printf "%.2f", a / b }')
	fi
	# shellcheck disable=SC2086,SC2059
	printf "$FMT" "$m" "${MED[$m]}" "$(minmax ${RATES[$m]})" \
		"$ratio" "$(median ${P50S[$m]})" "$(median ${P99S[$m]})" "${ERRS[$m]}" "${VX[$m]}" "${C1[$m]}" \
		"$(cpu_col "$(median ${CPUS[$m]})")"
	pinned=""
	# shellcheck disable=SC2086
	[[ -z $PIN ]] || pinned=" pin=$PIN cpu_us=$(median ${CPUS[$m]}) cpu_uss=$(tr ' ' , <<<"${CPUS[$m]% }")"
	# shellcheck disable=SC2086
	echo "BENCH path=$m median_rate=${MED[$m]} minmax=$(minmax ${RATES[$m]}) ratio=$ratio" \
		"rates=$(tr ' ' , <<<"${RATES[$m]% }") p50s=$(tr ' ' , <<<"${P50S[$m]% }")" \
		"p99s=$(tr ' ' , <<<"${P99S[$m]% }")" \
		"p50_us=$(median ${P50S[$m]}) p99_us=$(median ${P99S[$m]}) errors=${ERRS[$m]}" \
		"vxlan_pkts=${VX[$m]} c1_pkts=${C1[$m]} listeners=$LISTENERS valid=$valid$pinned" >>"$WORK/summary"
done
echo "(vs host: ratio of median rates to 'host' for cross-host paths, to 'host-local' for same-host"
echo " paths; vxlan pkts: sent on vxlan0 by h1 and h2, c1 pkts: sent on c1's eth0, during the path's runs)"
[[ -z $PIN ]] || echo "(pinned: $PIN; cpu us: busy time of all CPUs per transaction during the client's runs)"

bad=()
for m in "${MODE_LIST[@]}"; do
	why=$(invalid "$m")
	[[ -z $why ]] || bad+=("$why")
done
if ((${#bad[@]})); then
	printf 'setup-compare.sh: FAILED: %s\n' "${bad[@]}" >&2
	if ((REPORT_ALL)); then
		cat "$WORK/summary"
		die "the table above is not a fair comparison (valid=0 on the BENCH lines of the paths named above)"
	fi
	die "the table above is not a fair comparison (no BENCH lines printed)"
fi
# Machine-readable results, only for a clean run.
cat "$WORK/summary"
