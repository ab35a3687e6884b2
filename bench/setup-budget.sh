#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# The CPU budget of one connection (connect + 1-byte request + 1-byte
# response + close): host networking vs slim, itemised, as a Markdown report
# on stdout. Needs a testbed made by testbed.sh with its routers up
# (slim-env.sh up PREFIX), as setup-compare.sh.
#
#   setup-budget.sh PREFIX [--seconds S] [--conns N] [--rounds R]
#
# Paths (see bench-lib.sh): host (h1 -> h2 underlay) vs slim (c1 -> c2), and
# host-local (h1 -> 127.0.0.1) vs slim-local (c1 -> c3). Each path runs N
# connections (default 20000; at most S seconds a run, default 30) one at a
# time with slim-setup-bench in two placements: "same" (client, server and
# routers on CPU 0) and "split" (client on CPU 0, server on CPU 1, routers
# unpinned), in R rounds (default 3; the report shows the median of each
# figure). After a warm-up of 200 connections it runs N/10 and then N
# connections and takes every count as the difference of the two runs per
# connection more, so start-up costs cancel. Around each run it reads:
#   - busy time of every CPU (/proc/stat): all work, wherever it runs;
#   - the client's CPU time (bash's times), the server's and each
#     router's (/proc/PID/task/*/schedstat);
#   - run_cnt / run_time_ns of every BPF program either router holds
#     (kernel.bpf_stats_enabled is switched on for the run and restored).
# Then a short separate run per path under strace -f -c (client, server and
# both routers) counts system calls per connection: the difference of a run
# of 10 + K connections and one of 10 (K = min(N, 1000)), so start-up cancels.
# strace's times are inflated by the tracing; they are reported as such.
# Output: the report; exit 0, or 1 (one line on stderr) if a run failed or
# any transaction failed.
# Programs: SLIM_SETUP_BENCH, SLIM_RUN, SLIMCTL or SLIM_BIN_DIR (see lib.sh);
# strace, bpftool, taskset, python3.
set -euo pipefail
TB_PROG=setup-budget.sh
# shellcheck source=../testbed/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../testbed/lib.sh"
# shellcheck source=bench-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/bench-lib.sh"

usage() {
	echo "usage: setup-budget.sh PREFIX [--seconds S] [--conns N] [--rounds R]" >&2
	exit 1
}

[[ $# -ge 1 ]] || usage
tb_vars "$1"
shift
MAX_SECONDS=30 CONNS=20000 ROUNDS=3
while [[ $# -gt 0 ]]; do
	[[ $# -ge 2 ]] || usage
	case $1 in
	--seconds) MAX_SECONDS=$2 ;;
	--conns) CONNS=$2 ;;
	--rounds) ROUNDS=$2 ;;
	*) usage ;;
	esac
	shift 2
done
[[ $MAX_SECONDS =~ ^[1-9][0-9]{0,3}$ ]] || die "--seconds must be an integer in 1..9999"
[[ $CONNS =~ ^[1-9][0-9]{0,8}$ && $CONNS -ge 100 ]] || die "--conns must be an integer >= 100"
[[ $ROUNDS =~ ^[1-9][0-9]?$ ]] || die "--rounds must be an integer in 1..99"
need_root "enters network namespaces, reads BPF statistics"
[[ -e /run/netns/$TB_H1 && -f $TB_CLUSTER ]] ||
	die "testbed $TB_PREFIX is not up (run: testbed.sh up $TB_PREFIX)"
need_bins SLIM_SETUP_BENCH=slim-setup-bench SLIM_RUN=slim-run SLIMCTL=slimctl
for t in strace bpftool taskset python3 sysctl timeout; do
	command -v "$t" >/dev/null || die "needs $t (bash scripts/deps.sh installs it)"
done
(($(nproc) >= 2)) || die "needs 2 CPUs for the split placement (this machine has $(nproc))"
if ! in_ns "$TB_H1" "$SLIMCTL" --socket "$TB_SOCK1" status >/dev/null 2>&1 ||
	! in_ns "$TB_H2" "$SLIMCTL" --socket "$TB_SOCK2" status >/dev/null 2>&1; then
	die "routers of $TB_PREFIX do not answer 'slimctl status' (run: slim-env.sh up $TB_PREFIX)"
fi
mapfile -t ROUTER_PIDS < <(bl_router_pids)

PATHS=(host slim host-local slim-local)
PINS=(same split)
STRACE_K=$((CONNS < 1000 ? CONNS : 1000))
HZ=$(getconf CLK_TCK)

WORK=$(mktemp -d /tmp/slim-budget.XXXXXX)
BG_PIDS=()
STATS_WAS=""
cleanup() {
	local p
	for p in "${BG_PIDS[@]}"; do kill_tree "$p"; done
	wait 2>/dev/null || true
	bl_unpin_routers
	[[ -z $STATS_WAS ]] || sysctl -qw kernel.bpf_stats_enabled="$STATS_WAS" || true
	if [[ ${SLIM_KEEP:-0} == 1 ]]; then echo "setup-budget.sh: work dir kept: $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

# The BPF programs of this testbed: "ID hN" for each program a router holds
# an fd of (fdinfo prog_id), so other testbeds' programs are never counted.
for n in 1 2; do
	grep -h '^prog_id:' /proc/"${ROUTER_PIDS[n - 1]}"/fdinfo/* 2>/dev/null |
		awk -v h="h$n" '{ print $2, h }'
done | sort -u >"$WORK/prog-ids"
[[ -s $WORK/prog-ids ]] || die "the routers hold no BPF program fds (is this slim-router?)"

STATS_WAS=$(sysctl -n kernel.bpf_stats_enabled)
sysctl -qw kernel.bpf_stats_enabled=1 || die "cannot switch on kernel.bpf_stats_enabled"

# bpf_snap OUT: "ID HOST NAME TYPE RUN_CNT RUN_TIME_NS" of this testbed's programs.
bpf_snap() {
	bpftool -j prog show | python3 -c '
import json, sys
hosts = dict(l.split() for l in open(sys.argv[1]))
for p in json.load(sys.stdin):
    i = str(p["id"])
    if i in hosts:
        print(i, hosts[i], p.get("name", "?"), p.get("type", "?"),
              p.get("run_cnt", 0), p.get("run_time_ns", 0))
' "$WORK/prog-ids" >"$1" || die "cannot read BPF program statistics (bpftool prog show)"
}

# start_server MODE PORT PIN [WRAP...]: starts MODE's benchmark server on
# PORT, placed for PIN, under WRAP (e.g. strace); sets SRV_PID (the server,
# or WRAP's pid) and waits until it listens.
start_server() {
	local m=$1 port=$2 pin=$3 out args
	shift 3
	bl_mode "$m"
	args=(server --threads 4)
	[[ -n $SRV_BIND ]] && args+=(--bind "$SRV_BIND")
	bl_srv_cmd "$m"
	bl_pin_cmd "$pin" server
	out=$WORK/srv-$m-$port.out
	"$@" "${PIN_CMD[@]}" "${CMD[@]}" "$SLIM_SETUP_BENCH" "${args[@]}" "$port" </dev/null \
		>"$out" 2>"$WORK/srv-$m-$port.err" &
	SRV_PID=$!
	BG_PIDS+=("$SRV_PID")
	if ! wait_until 10 "the $m server to listen" grep -q '^listening' "$out"; then
		cat "$WORK/srv-$m-$port.err" >&2
		die "server for path $m did not start"
	fi
}

# stop_pid PID: stops a background program of ours and waits for it.
stop_pid() {
	kill_tree "$1"
	wait "$1" 2>/dev/null || true
}

# run_client MODE PORT PIN COUNT OUT [WRAP...]: COUNT transactions (at most
# MAX_SECONDS) from MODE's client, placed for PIN; its output in OUT, its CPU
# time in us (bash's times: the child's user + system) in OUT.cpu. Dies if it fails or any
# transaction fails.
run_client() {
	local m=$1 port=$2 pin=$3 count=$4 out=$5 rc=0
	shift 5
	bl_mode "$m"
	bl_cli_cmd "$m"
	bl_pin_cmd "$pin" client
	# A subshell, so that `times` shows the client's CPU time alone (timeout
	# waits for it, so its children's time holds the client's).
	(
		rc=0
		timeout $((MAX_SECONDS + 60)) "$@" "${PIN_CMD[@]}" "${CMD[@]}" "$SLIM_SETUP_BENCH" client \
			"$DST" "$port" --count "$count" --seconds "$MAX_SECONDS" >"$out" 2>"$out.err" </dev/null ||
			rc=$?
		times >"$out.times"
		exit "$rc"
	) || rc=$?
	# us: the children's user + system time, the second line of `times`.
	sed -n '2s/\([0-9]*\)m\([0-9.]*\)s \([0-9]*\)m\([0-9.]*\)s/\1 \2 \3 \4/p' "$out.times" |
		awk '{ printf "%.0f\n", (($1 + $3) * 60 + $2 + $4) * 1e6 }' >"$out.cpu"
	((rc == 0)) || die "client on path $m ($pin) failed (exit $rc): $(tail -n 3 "$out.err" | tr '\n' ' ')"
}

# field LINE KEY: the number after " KEY=" in a RESULT line.
field() { sed -n "s/.* $2=\([0-9.]*\).*/\1/p" <<<"$1"; }

# snap TAG SRV: counters now into $WORK/snap-TAG ("ALL CPU0 SERVER R1 R2":
# ticks, ticks, ns, ns, ns) and $WORK/bpf-TAG.
snap() {
	echo "$(bl_cpu_ticks) $(bl_cpu_ticks 0) $(bl_proc_ns "$2") $(bl_proc_ns "${ROUTER_PIDS[0]}")" \
		"$(bl_proc_ns "${ROUTER_PIDS[1]}")" >"$WORK/snap-$1"
	bpf_snap "$WORK/bpf-$1"
}

# measure MODE PIN: appends "RUN ..." to $WORK/runs-raw and "BPF ..." lines
# to $WORK/bpf-raw. Two counted runs, of N/10 and N connections; every count is the
# difference between them divided by the difference in connections, so what
# a run costs whatever its length (starting the client, libslim's start-up,
# the wrapper) cancels.
measure() {
	local m=$1 pin=$2 port srv line na nb secs
	bl_mode "$m"
	port=$((9201 + IDX))
	bl_unpin_routers
	bl_pin_routers "$pin"
	start_server "$m" "$port" "$pin"
	srv=$SRV_PID
	# Warm-up: fills libslim's pool and the caches; not counted.
	run_client "$m" "$port" "$pin" 200 "$WORK/warm"
	snap 0 "$srv"
	run_client "$m" "$port" "$pin" $((CONNS / 10)) "$WORK/run-a"
	snap 1 "$srv"
	run_client "$m" "$port" "$pin" "$CONNS" "$WORK/run-b"
	snap 2 "$srv"
	stop_pid "$srv"
	na=$(result_ok "$m" "$pin" "$WORK/run-a")
	line=$(grep '^RESULT' "$WORK/run-b")
	nb=$(result_ok "$m" "$pin" "$WORK/run-b")
	secs=$(field "$line" seconds)
	# us per connection: all CPUs, CPU 0, client, server, router h1, router h2.
	paste -d ' ' "$WORK"/snap-{0,1,2} | awk -v m="$m" -v p="$pin" -v n="$((nb - na))" -v r="$nb" \
		-v s="$secs" -v hz="$HZ" -v ca="$(<"$WORK/run-a.cpu")" -v cb="$(<"$WORK/run-b.cpu")" '{
		# d(i): field i of (snap2 - snap1) - (snap1 - snap0).
		for (i = 1; i <= 5; i++) d[i] = ($(i + 10) - $(i + 5)) - ($(i + 5) - $i)
		printf "RUN %s %s %d %.0f %.2f %.2f %.2f %.2f %.2f %.2f\n", m, p, n, r / s,
			d[1] * 1e6 / hz / n, d[2] * 1e6 / hz / n, (cb - ca) / n, d[3] / 1000 / n,
			d[4] / 1000 / n, d[5] / 1000 / n
	}' >>"$WORK/runs-raw"
	join <(sort "$WORK/bpf-0") <(sort "$WORK/bpf-1") | join - <(sort "$WORK/bpf-2") |
		awk -v m="$m" -v p="$pin" -v n="$((nb - na))" '{
		runs = ($15 - $10) - ($10 - $5); ns = ($16 - $11) - ($11 - $6)
		if (runs > 0) printf "BPF %s %s %s %s %s %s %.2f %.0f %.3f\n", m, p, $2, $3, $4, $1,
			runs / n, ns / runs, ns / 1000 / n
	}' >"$WORK/bpf-run"
	cat "$WORK/bpf-run" >>"$WORK/bpf-raw"
	# A slim connection always runs connect4: no count means the statistics
	# were off (someone switched them off meanwhile) and the report would lie.
	if bl_is_slim "$m" && ! grep -q "^BPF $m $pin .* slim_connect4 " "$WORK/bpf-run"; then
		die "no run of slim_connect4 counted on path $m ($pin): is kernel.bpf_stats_enabled on?"
	fi
}

# result_ok MODE PIN OUT: the transactions of client output OUT; dies if
# there is no RESULT line or a transaction failed.
result_ok() {
	local line
	line=$(grep '^RESULT' "$3") || die "no RESULT line from the client on path $1 ($2)"
	[[ $(field "$line" errors) == 0 && $(field "$line" transactions) -gt 0 ]] ||
		die "path $1 ($2): failed transactions: $line"
	field "$line" transactions
}

# strace_table FILE: "SYSCALL CALLS SECONDS" rows of an strace -c summary.
strace_table() {
	awk '$NF != "total" && $NF != "syscall" && $1 ~ /^[0-9.]+$/ && NF >= 5 { print $NF, $4, $2 }' "$1"
}

# strace_run MODE COUNT TAG: one run of COUNT connections with client, server
# and both routers under strace -f -c; the summaries in $WORK/st-TAG-*.
strace_run() {
	local m=$1 count=$2 tag=$3 port i srv kid
	local -a tracers=()
	bl_mode "$m"
	port=$((9301 + IDX))
	start_server "$m" "$port" none strace -f -c -o "$WORK/st-$tag-server"
	srv=$SRV_PID
	for i in 0 1; do
		strace -f -c -o "$WORK/st-$tag-router$((i + 1))" -p "${ROUTER_PIDS[i]}" 2>"$WORK/st-$tag-r$i.err" &
		tracers+=($!)
		BG_PIDS+=($!)
		wait_until 10 "strace to attach to router h$((i + 1))" grep -q attached "$WORK/st-$tag-r$i.err" ||
			die "strace cannot attach to router h$((i + 1)) (pid ${ROUTER_PIDS[i]})"
	done
	run_client "$m" "$port" none "$count" "$WORK/st-$tag.out" strace -f -c -o "$WORK/st-$tag-client"
	for i in "${tracers[@]}"; do
		kill -INT "$i"
		wait "$i" 2>/dev/null || true
	done
	# The server exits on SIGTERM; strace then writes its summary and exits.
	for kid in $(ps -o pid= --ppid "$srv"); do kill -TERM "$kid" 2>/dev/null || true; done
	wait_until 10 "strace of the $m server to finish" test ! -d "/proc/$srv" ||
		die "strace of the $m server did not finish"
	wait "$srv" 2>/dev/null || true
}

# syscalls MODE: "SYSCALL PROC CALLS/CONN US/CALL" lines for MODE into
# $WORK/sys: the difference of a run of 10 + K and one of 10 connections.
syscalls() {
	local m=$1 proc
	strace_run "$m" 10 "$m-a"
	strace_run "$m" $((10 + STRACE_K)) "$m-b"
	for proc in client server router1 router2; do
		join -a 2 -e 0 -o 0,1.2,2.2,2.3 <(strace_table "$WORK/st-$m-a-$proc" | sort) \
			<(strace_table "$WORK/st-$m-b-$proc" | sort) |
			awk -v m="$m" -v p="$proc" -v k="$STRACE_K" '{
				per = ($3 - $2) / k
				if (per >= 0.005) printf "SYS %s %s %s %.2f %.1f\n", m, p, $1, per, $4 * 1e6 / $3
			}' >>"$WORK/sys"
	done
}

# medians KEYS FILE: FILE's lines grouped by their first KEYS fields, each
# other field the median (lower middle) of the group's values; first-seen order.
medians() {
	python3 -c '
import sys
k = int(sys.argv[1])
groups = {}
for line in open(sys.argv[2]):
    f = line.split()
    groups.setdefault(tuple(f[:k]), []).append([float(x) for x in f[k:]])
for key, rows in groups.items():
    cols = [sorted(c)[(len(c) - 1) // 2] for c in zip(*rows)]
    print(" ".join(key), " ".join(("%.3f" % c).rstrip("0").rstrip(".") for c in cols))
' "$1" "$2"
}

LOAD0=$(cut -d ' ' -f 1-3 /proc/loadavg)
DATE=$(date -u '+%Y-%m-%d %H:%M UTC')
: >"$WORK/runs-raw"
: >"$WORK/bpf-raw"
: >"$WORK/sys"
# Rounds alternate paths and placements, so that slow drift of the machine
# hits all alike; the report shows medians over the rounds.
for ((r = 1; r <= ROUNDS; r++)); do
	for pin in "${PINS[@]}"; do
		for m in "${PATHS[@]}"; do
			echo "setup-budget.sh: round $r, $m, $pin: $CONNS connections" >&2
			measure "$m" "$pin"
		done
	done
done
bl_unpin_routers
medians 3 "$WORK/runs-raw" >"$WORK/runs"
medians 7 "$WORK/bpf-raw" >"$WORK/bpf"
for m in "${PATHS[@]}"; do
	echo "setup-budget.sh: $m: system calls (strace)" >&2
	syscalls "$m"
done
LOAD1=$(cut -d ' ' -f 1-3 /proc/loadavg)

# ---- report ----
cat <<EOF
# CPU budget of one connection: host networking vs slim

$DATE, kernel $(uname -r), $(nproc) CPUs, load average $LOAD0 before, $LOAD1 after.
One connection at a time (connect, 1 byte each way, close). Per path and
placement: a warm-up of 200 connections, a run of $((CONNS / 10)), a run of
$CONNS; every figure is (second run - first run) / (connections more), so the
cost of starting a client cancels. Rates are of the second run. Every
figure is the median over $ROUNDS round(s), each round going through every
path and placement in turn.
Placement **same**: client, server and both routers on CPU 0; **split**:
client on CPU 0, server on CPU 1, routers unpinned. CPU times in
microseconds per connection. *all CPUs*: busy time of every CPU from
/proc/stat (user+nice+system+irq+softirq, ${HZ} Hz ticks: includes anything
else the machine ran meanwhile); *CPU 0*: the same for CPU 0 alone (in the
same placement every process of the test is there); client: bash's times
(its children); server, routers: /proc/PID/task/*/schedstat; *processes*:
their sum; *outside*: all CPUs minus the processes (softirq on other CPUs,
kernel threads, RCU, and other load). *1/rate*: wall time per connection;
in the same placement every process of a connection shares CPU 0, so on an
otherwise idle CPU it is the CPU cost of a connection.

## CPU per connection

| path | placement | conns | rate/s | 1/rate | all CPUs | CPU 0 | client | server | router h1 | router h2 | processes | outside |
|---|---|---|---|---|---|---|---|---|---|---|---|---|
EOF
awk '{ p = $8 + $9 + $10 + $11
	printf "| %s | %s | %s | %s | %.1f | %s | %s | %s | %s | %s | %s | %.2f | %.2f |\n", $2, $3, $4, $5, 1e6 / $5,
		$6, $7, $8, $9, $10, $11, p, $6 - p }' "$WORK/runs"

cat <<EOF

## BPF programs (kernel.bpf_stats_enabled)

| path | placement | host | program | type | id | runs/conn | ns/run | us/conn |
|---|---|---|---|---|---|---|---|---|
EOF
awk '{ printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", $2, $3, $4, $5, $6, $7, $8, $9, $10 }' \
	"$WORK/bpf"
echo
awk '{ s[$2 " " $3] += $10; r[$2 " " $3] += $8 } END {
	for (k in s) { split(k, a, " "); printf "BPFSUM %s %s %.2f %.3f\n", a[1], a[2], r[k], s[k] } }' \
	"$WORK/bpf" | sort >"$WORK/bpfsum"
echo "Sum per connection (all programs, both hosts):"
echo
awk '{ printf "- %s, %s: %s runs, %s us\n", $2, $3, $4, $5 }' "$WORK/bpfsum"

cat <<EOF

## System calls per connection (strace -f -c)

Counts: (run of $((10 + STRACE_K)) connections - run of 10) / $STRACE_K, unpinned.
us/call: strace's system time per call, inflated by the tracing (use the
counts; the times only rank the calls).

| path | process | system call | calls/conn | us/call (strace) |
|---|---|---|---|---|
EOF
awk '{ printf "| %s | %s | %s | %s | %s |\n", $2, $3, $4, $5, $6 }' "$WORK/sys"
echo
echo "Calls per connection, all system calls:"
echo
awk '{ s[$2 " " $3] += $5 } END { for (k in s) { split(k, a, " "); printf "- %s %s: %.2f\n", a[1], a[2], s[k] } }' \
	"$WORK/sys" | sort

cat <<'EOF'

## slim - host, itemised

Per placement, the cross-host pair (slim - host) and the same-host pair
(slim-local - host-local), us per connection. By process: the differences of
the client, the server and the routers; the remainder is what the difference
of all CPUs' busy time holds beyond them (kernel work outside the processes'
time and noise). Of which: the BPF programs' own time (bpf_stats; it runs
inside the processes' time or in softirq) and the change in system calls
per connection of client and server (strace counts). 1/rate: the
difference in wall time per connection (in the same placement, CPU time
of CPU 0 when nothing else runs there).

| pair | placement | 1/rate | total (all CPUs) | client | server | routers | remainder | of which BPF | syscalls client | syscalls server |
|---|---|---|---|---|---|---|---|---|---|---|
EOF
for pin in "${PINS[@]}"; do
	for pair in "slim host" "slim-local host-local"; do
		read -r s h <<<"$pair"
		awk -v s="$s" -v h="$h" -v p="$pin" '
			FILENAME ~ /runs$/ && $3 == p { w[$2] = 1e6 / $5; tot[$2] = $6; cl[$2] = $8; sv[$2] = $9; rt[$2] = $10 + $11 }
			FILENAME ~ /bpfsum$/ && $3 == p { bpf[$2] = $5 }
			FILENAME ~ /sys$/ { n[$2 " " $3] += $5 }
			END {
				dt = tot[s] - tot[h]; dc = cl[s] - cl[h]; ds = sv[s] - sv[h]; dr = rt[s] - rt[h]
				printf "| %s - %s | %s | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %+.2f | %+.2f |\n",
					s, h, p, w[s] - w[h], dt, dc, ds, dr, dt - dc - ds - dr, bpf[s] - bpf[h],
					n[s " client"] - n[h " client"], n[s " server"] - n[h " server"]
			}' "$WORK/runs" "$WORK/bpfsum" "$WORK/sys"
	done
done
# Machine-readable lines for tests and tools.
echo
echo '```'
cat "$WORK/runs" "$WORK/bpf" "$WORK/sys"
echo '```'
