#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# The benchmark suite: the same work over host networking, the
# VXLAN overlay and slim, on a testbed of its own, alternated in one run with
# repetitions; writes a Markdown table and an SVG plot.
#
#   bench-suite.sh [--prefix P] [--rounds R] [--seconds S] [--parts LIST] [--out DIR]
#
#   --prefix P    testbed prefix (default bnsuite); the suite brings the testbed
#                 up and takes it down at exit, also on failure; it refuses to
#                 touch a testbed that already exists
#   --rounds R    repetitions of every measurement (default 3)
#   --seconds S   length of one measured run (default 3 for connection setup,
#                 the other parts use S-1, at least 1)
#   --parts LIST  comma separated, default all of:
#                   setup      connection setup rate and p50/p99 (setup-compare.sh), all paths
#                   listeners  setup rate with 1 / 100 / 10,000 listeners on the server host
#                   rr         request/response latency on one connection (slim-rr-bench)
#                   stream     single-stream throughput (slim-rr-bench)
#                   nginx      nginx, wrk with "Connection: close"
#                   pgbench    PostgreSQL, pgbench -C (a new connection per transaction);
#                              also a slim client of a plain server and a plain client
#                              of a slim server, against plain peers over VXLAN
#                   memory     memory libslim adds to a process; slim-router with 10,000 listeners
#                   mixed      a slim client of a plain server (the destination host translates)
#                              and a plain client of a slim server: setup rate and
#                              single-stream throughput against plain peers over the
#                              container network (VXLAN; the bridge on one host)
#   --out DIR     where latest.md and latest.svg go (default docs/benchmarks of this
#                 repository)
#
# Every slim run is checked for packets on vxlan0 (both hosts) and on c1's
# eth0: a slim path that fell back to the container network is reported as
# FELL BACK, never as a slim number. Programs: SLIM_BIN_DIR (see lib.sh);
# nginx, wrk, PostgreSQL 15 and pgbench from Debian (scripts/bench.sh installs
# them). Exit status 0 when the report was written (misses of the targets
# are in the report, they are not failures); 1 with one line naming what went
# wrong otherwise.
set -euo pipefail
TB_PROG=bench-suite.sh
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../testbed/lib.sh
. "$BENCH_DIR/../testbed/lib.sh"
# shellcheck source=bench-lib.sh
. "$BENCH_DIR/bench-lib.sh"

usage() {
	echo "usage: bench-suite.sh [--prefix P] [--rounds R] [--seconds S] [--parts LIST] [--out DIR]" >&2
	exit 1
}

PREFIX=bnsuite ROUNDS=3 SECS=3 OUT="$BENCH_DIR/../docs/benchmarks"
ALL_PARTS=setup,listeners,rr,stream,nginx,pgbench,memory,mixed
PARTS=$ALL_PARTS
while [[ $# -gt 0 ]]; do
	[[ $# -ge 2 ]] || usage
	case $1 in
	--prefix) PREFIX=$2 ;;
	--rounds) ROUNDS=$2 ;;
	--seconds) SECS=$2 ;;
	--parts) PARTS=$2 ;;
	--out) OUT=$2 ;;
	*) usage ;;
	esac
	shift 2
done
[[ $ROUNDS =~ ^[1-9][0-9]?$ && $SECS =~ ^[1-9][0-9]?$ ]] ||
	die "--rounds and --seconds must be integers in 1..99"
SECS2=$((SECS > 1 ? SECS - 1 : 1))
IFS=, read -r -a PART_LIST <<<"$PARTS"
for p in "${PART_LIST[@]}"; do
	[[ ,$ALL_PARTS, == *",$p,"* ]] || die "unknown part '$p' (one of: $ALL_PARTS)"
done
# has_part NAME: true if NAME was asked for.
has_part() { [[ ,$PARTS, == *",$1,"* ]]; }

need_root "creates network namespaces"
mkdir -p "$OUT" || die "cannot create the output dir $OUT"
OUT=$(cd "$OUT" && pwd)
need_bins SLIM_ROUTER=slim-router SLIMCTL=slimctl SLIM_RUN=slim-run \
	SLIM_SETUP_BENCH=slim-setup-bench SLIM_RR_BENCH=slim-rr-bench SLIM_LISTEN_MANY=slim-listen-many
export SLIM_ROUTER SLIMCTL SLIM_RUN SLIM_SETUP_BENCH SLIM_LISTEN_MANY
for c in ip nsenter python3 timeout setpriv findmnt; do
	command -v "$c" >/dev/null || die "needs $c (run scripts/bench.sh, which installs the packages)"
done
if has_part nginx; then
	NGINX=$(command -v nginx || echo /usr/sbin/nginx)
	[[ -x $NGINX ]] || die "nginx not found (apt-get install nginx, or run scripts/bench.sh)"
	command -v wrk >/dev/null || die "wrk not found (apt-get install wrk, or run scripts/bench.sh)"
fi
if has_part pgbench; then
	PG_BIN=$(find /usr/lib/postgresql -maxdepth 3 -name postgres -path '*/bin/*' 2>/dev/null | sort -V | tail -n1)
	[[ -n $PG_BIN ]] || die "PostgreSQL server not found (apt-get install postgresql, or run scripts/bench.sh)"
	PG_BIN=$(dirname "$PG_BIN")
	PGBENCH=$PG_BIN/pgbench
	[[ -x $PGBENCH ]] || PGBENCH=$(command -v pgbench) ||
		die "pgbench not found (apt-get install postgresql-client, or run scripts/bench.sh)"
	id postgres >/dev/null 2>&1 || die "no 'postgres' user (apt-get install postgresql creates it)"
fi

tb_vars "$PREFIX"
WORK=$(mktemp -d /tmp/slim-bench-suite.XXXXXX)
RESULTS=$WORK/results.tsv
: >"$RESULTS"
PIDS=()
FG_PID=""
TB_MADE=0
PGROOT=""
cleanup() {
	local rc=$? p
	set +e
	kill_tree "$FG_PID"
	for p in "${PIDS[@]}"; do kill_tree "$p"; done
	wait 2>/dev/null
	[[ -z $PGROOT ]] || rm -rf "$PGROOT"
	if ((TB_MADE)); then
		"$TB_LIB_DIR/testbed.sh" down "$PREFIX" >/dev/null
	fi
	if [[ ${SLIM_KEEP:-0} == 1 ]]; then echo "work dir kept: $WORK"; else rm -rf "$WORK"; fi
	public_lib_remove
	if ((rc != 0)); then
		echo "bench-suite.sh: FAILED (exit $rc)$( ((TB_MADE)) && echo ", testbed $PREFIX removed")" >&2
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
# postgres runs as its own user and loads libslim as that user.
public_lib

# fg CMD...: runs CMD and returns its status, in the background plus wait,
# so that a SIGTERM/SIGINT to the suite runs the cleanup at once instead of
# after CMD (bash runs traps only between commands, but wait is interrupted).
fg() {
	local rc=0
	"$@" &
	FG_PID=$!
	wait "$FG_PID" || rc=$?
	FG_PID=""
	return "$rc"
}

step() { printf '\n== %s (%s)\n' "$*" "$(date +%T)"; }

# record PART METRIC PATH VALUE: one measured value (one round) for the report.
record() { printf 'R\t%s\t%s\t%s\t%s\n' "$@" >>"$RESULTS"; }
# flag PART PATH REASON: PATH's numbers in PART are not what they claim.
flag() {
	printf 'F\t%s\t%s\t%s\n' "$@" >>"$RESULTS"
	echo "bench-suite.sh: $1/$2: $3" >&2
}
# meta KEY VALUE
meta() { printf 'M\t%s\t%s\n' "$1" "$2" >>"$RESULTS"; }

# start_bg NAME CMD...: starts CMD in the background, output in WORK/NAME.out
# and .err; remembers its pid (to kill at exit) in BG_PID.
start_bg() {
	local name=$1
	shift
	"$@" </dev/null >"$WORK/$name.out" 2>"$WORK/$name.err" &
	BG_PID=$!
	PIDS+=("$BG_PID")
}

# stop_bg PID: stops a process started by start_bg (and its children).
stop_bg() {
	local p keep=()
	kill_tree "$1"
	wait "$1" 2>/dev/null || true
	for p in "${PIDS[@]}"; do [[ $p == "$1" ]] || keep+=("$p"); done
	PIDS=("${keep[@]}")
}

# wait_line NAME SECONDS REGEX WHAT: waits for REGEX in WORK/NAME.out; dies
# with NAME's stderr if it does not come.
wait_line() {
	wait_until "$2" "$4" grep -Eq "$3" "$WORK/$1.out" && return 0
	tail -n 5 "$WORK/$1.err" >&2 || true
	die "$4: not ready after $2 s (its messages are above)"
}

# guarded PART MODE CMD...: runs CMD (output in OUTPUT), and if MODE is a slim
# path flags it when packets went over vxlan0 or c1's eth0 meanwhile. Returns
# CMD's status.
guarded() {
	local part=$1 mode=$2 vb cb va ca rc=0
	shift 2
	read -r vb cb < <(bl_fallback_pkts)
	fg "$@" >"$WORK/client.out" 2>"$WORK/client.err" || rc=$?
	OUTPUT=$(<"$WORK/client.out")
	read -r va ca < <(bl_fallback_pkts)
	if bl_is_slim "$mode" && ((va != vb || ca != cb)); then
		flag "$part" "$mode" "fell back: $((va - vb)) packets on vxlan0, $((ca - cb)) on c1's eth0"
	fi
	return "$rc"
}

# field LINE KEY: the value after " KEY=" in LINE (dies if absent).
field() {
	local v
	v=$(sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<" $1")
	[[ -n $v ]] || die "no $2= in: $1"
	echo "$v"
}

SUITE_START=$(date +%s)
step "testbed $PREFIX and routers"
"$TB_LIB_DIR/testbed.sh" up "$PREFIX"
TB_MADE=1
"$TB_LIB_DIR/slim-env.sh" up "$PREFIX"
meta date "$(date -u '+%Y-%m-%d %H:%M UTC')"
meta kernel "$(uname -r)"
meta machine "$(nproc) CPUs, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)"
meta os "$(. /etc/os-release && echo "$PRETTY_NAME")"
meta rounds "$ROUNDS"
meta seconds "$SECS"
meta seconds2 "$SECS2"
meta parts "$PARTS"
meta commit "$(git -C "$BENCH_DIR/.." rev-parse --short HEAD 2>/dev/null || echo unknown)"

# ---- connection setup: setup-compare.sh, every path -----------------------

# bench_pipe ARGS...: setup-compare.sh --report-all ARGS; its output in WORK/bench.out
# and, without the BENCH lines, indented on stdout as it comes.
bench_pipe() {
	"$BENCH_DIR/setup-compare.sh" "$PREFIX" --report-all "$@" 2>"$WORK/bench.err" | tee "$WORK/bench.out" |
		grep --line-buffered -v '^BENCH' | sed -u 's/^/  /'
}

# bench_into PART SUFFIX ARGS...: runs setup-compare.sh --report-all with ARGS and
# records each path's per-round rates, p50 and p99 as PART metrics
# setup_rate SUFFIX, setup_p50_us SUFFIX, setup_p99_us SUFFIX; flags the paths
# setup-compare.sh found unfair.
bench_into() {
	local part=$1 sfx=$2 line path v
	shift 2
	# Shown as it runs (without the BENCH lines); its exit status is 1 when
	# a path was not fair, which the valid= fields below say path by path.
	fg bench_pipe "$@" || true
	grep -q '^BENCH' "$WORK/bench.out" || {
		cat "$WORK/bench.err" >&2
		die "setup-compare.sh $* failed before measuring; its messages are above"
	}
	while read -r line; do
		path=$(field "$line" path)
		for v in $(field "$line" rates | tr , ' '); do record "$part" "setup_rate$sfx" "$path" "$v"; done
		for v in $(field "$line" p50s | tr , ' '); do record "$part" "setup_p50_us$sfx" "$path" "$v"; done
		for v in $(field "$line" p99s | tr , ' '); do record "$part" "setup_p99_us$sfx" "$path" "$v"; done
		if [[ $(field "$line" valid) != 1 ]]; then
			flag "$part" "$path" "$(grep -m1 "FAILED: $path:" "$WORK/bench.err" | sed 's/.*FAILED: //' || echo "not a fair run")"
		fi
	done < <(grep '^BENCH' "$WORK/bench.out")
}

if has_part setup; then
	step "connection setup: $ROUNDS rounds x ${SECS}s, every path"
	bench_into setup "" --modes all --rounds "$ROUNDS" --seconds "$SECS"
fi

if has_part listeners; then
	step "connection setup with 1 / 100 / 10000 listeners on the server host: $ROUNDS rounds x ${SECS2}s"
	for ((r = 1; r <= ROUNDS; r++)); do
		for n in 1 100 10000; do
			echo "-- round $r, $n listener(s)"
			bench_into listeners "_l$n" --modes host,slim --rounds 1 --seconds "$SECS2" --listeners "$n"
		done
	done
fi

# ---- one long connection: rr latency and throughput ------------------------

RR_MODES="host vxlan slim host-local bridge-local slim-local"
# The mixed-peers part: plain peers, slim clients of plain servers and
# plain clients of slim servers.
MIXED_MODES="vxlan slim-plain plain-slim bridge-local slim-plain-local plain-slim-local"
declare -A RR_SRV
# rr_servers MODES...: a slim-rr-bench server for each path not served yet.
rr_servers() {
	local m args
	for m in "$@"; do
		[[ -z ${RR_SRV[$m]:-} ]] || continue
		bl_srv_cmd "$m"
		args=(server)
		[[ -n $SRV_BIND ]] && args+=(--bind "$SRV_BIND")
		start_bg "rr-srv-$m" "${CMD[@]}" "$SLIM_RR_BENCH" "${args[@]}" $((9201 + IDX))
		RR_SRV[$m]=$BG_PID
		wait_line "rr-srv-$m" 10 '^listening' "slim-rr-bench server of path $m"
	done
}
if has_part rr || has_part stream; then
	step "slim-rr-bench servers"
	# shellcheck disable=SC2086 # a word list
	rr_servers $RR_MODES
fi

# rr_runs PART CLIENT_MODE MODES...: ROUNDS x every path of MODES with
# slim-rr-bench client --mode CLIENT_MODE; records the RESULT fields under
# PART (rr_p50_us and rr_p99_us, or stream_mbit).
rr_runs() {
	local part=$1 cm=$2 r m line
	shift 2
	for ((r = 1; r <= ROUNDS; r++)); do
		for m in "$@"; do
			bl_cli_cmd "$m"
			guarded "$part" "$m" timeout $((SECS2 + 30)) "${CMD[@]}" "$SLIM_RR_BENCH" client "$DST" \
				$((9201 + IDX)) --mode "$cm" --seconds "$SECS2" ||
				die "slim-rr-bench --mode $cm failed on path $m (round $r): $(tail -n1 "$WORK/client.err")"
			line=$(grep '^RESULT' <<<"$OUTPUT") || die "no RESULT line from slim-rr-bench on path $m"
			if [[ $cm == rr ]]; then
				record "$part" rr_p50_us "$m" "$(awk -v v="$(field "$line" p50_ns)" 'BEGIN { printf "%.1f", v / 1000 }')"
				record "$part" rr_p99_us "$m" "$(awk -v v="$(field "$line" p99_ns)" 'BEGIN { printf "%.1f", v / 1000 }')"
				printf '  round %d %-12s p50 %6.1f us p99 %6.1f us (%s round trips)\n' "$r" "$m" \
					"$(awk -v v="$(field "$line" p50_ns)" 'BEGIN { print v / 1000 }')" \
					"$(awk -v v="$(field "$line" p99_ns)" 'BEGIN { print v / 1000 }')" "$(field "$line" count)"
			else
				record "$part" stream_mbit "$m" "$(field "$line" mbit_s)"
				printf '  round %d %-16s %8s Mbit/s\n' "$r" "$m" "$(field "$line" mbit_s)"
			fi
			sleep 0.3
		done
	done
}

if has_part rr; then
	step "request/response latency, one connection, 1 byte each way: $ROUNDS rounds x ${SECS2}s"
	# shellcheck disable=SC2086 # a word list
	rr_runs rr rr $RR_MODES
fi
if has_part stream; then
	step "single-stream throughput: $ROUNDS rounds x ${SECS2}s"
	# shellcheck disable=SC2086 # a word list
	rr_runs stream stream $RR_MODES
fi

# ---- mixed peers: slim and plain clients and servers -------------------------

if has_part mixed; then
	step "mixed peers, connection setup: $ROUNDS rounds x ${SECS}s, plain and slim clients of plain and slim servers"
	bench_into mixed "" --modes "${MIXED_MODES// /,}" --rounds "$ROUNDS" --seconds "$SECS"
	step "mixed peers, single-stream throughput: $ROUNDS rounds x ${SECS2}s"
	# shellcheck disable=SC2086 # a word list
	rr_servers $MIXED_MODES
	# shellcheck disable=SC2086 # a word list
	rr_runs mixed stream $MIXED_MODES
fi

# ---- applications: nginx + wrk, PostgreSQL + pgbench -C ----------------------

APP_MODES="host vxlan slim"
# pgbench also runs a slim client of a plain server and a plain client of a
# slim server (their ratio is to vxlan: the mixed-peers table).
PG_MODES="$APP_MODES slim-plain plain-slim"

if has_part nginx; then
	step "nginx (wrk, Connection: close): $ROUNDS rounds x ${SECS}s"
	for m in $APP_MODES; do
		bl_srv_cmd "$m"
		d=$WORK/nginx-$m
		mkdir -p "$d"
		port=$((8081 + IDX))
		cat >"$d/nginx.conf" <<-EOF
			daemon off;
			master_process on;
			worker_processes 1;
			pid $d/nginx.pid;
			error_log $d/error.log warn;
			events { worker_connections 1024; }
			http {
				access_log off;
				client_body_temp_path $d/body;
				proxy_temp_path $d/proxy;
				fastcgi_temp_path $d/fastcgi;
				uwsgi_temp_path $d/uwsgi;
				scgi_temp_path $d/scgi;
				server {
					listen ${SRV_BIND:-0.0.0.0}:$port;
					location / { return 200 "slim bench\n"; }
				}
			}
		EOF
		start_bg "nginx-$m" "${CMD[@]}" "$NGINX" -p "$d" -e "$d/error.log" -c "$d/nginx.conf"
		NGINX_PID[IDX]=$BG_PID
		bl_cli_cmd "$m"
		wait_until 10 "nginx of path $m to answer" "${CMD[@]}" curl -fsS -m 2 -o /dev/null \
			"http://$DST:$port/" || {
			cat "$d/error.log" "$WORK/nginx-$m.err" >&2 2>/dev/null || true
			die "nginx of path $m does not answer on $DST:$port (its log is above)"
		}
	done
	for ((r = 1; r <= ROUNDS; r++)); do
		for m in $APP_MODES; do
			bl_cli_cmd "$m"
			guarded nginx "$m" timeout $((SECS + 30)) "${CMD[@]}" wrk -t1 -c4 -d"${SECS}s" \
				-H 'Connection: close' "http://$DST:$((8081 + IDX))/" ||
				die "wrk failed on path $m (round $r): $(tail -n1 "$WORK/client.err")"
			rps=$(sed -n 's/^Requests\/sec:[[:space:]]*\([0-9.]*\).*/\1/p' <<<"$OUTPUT")
			[[ -n $rps ]] || die "no Requests/sec from wrk on path $m: $OUTPUT"
			if grep -Eq '^[[:space:]]*(Socket errors|Non-2xx)' <<<"$OUTPUT"; then
				flag nginx "$m" "wrk reported errors: $(grep -E 'Socket errors|Non-2xx' <<<"$OUTPUT" | tr -s ' \n' ' ')"
			fi
			record nginx nginx_rps "$m" "$rps"
			printf '  round %d %-6s %9s requests/s\n' "$r" "$m" "$rps"
			sleep 0.3
		done
	done
	for m in $APP_MODES; do
		bl_mode "$m"
		stop_bg "${NGINX_PID[$IDX]}"
	done
fi

if has_part pgbench; then
	step "PostgreSQL (pgbench -C, SELECT 1 per connection): $ROUNDS rounds x ${SECS}s, paths $PG_MODES"
	# The data dirs must be reachable for the postgres user: a dir of its own.
	PGROOT=$(mktemp -d /tmp/slim-bench-pg.XXXXXX)
	chown postgres: "$PGROOT"
	setpriv --reuid=postgres --regid=postgres --init-groups -- "$PG_BIN/initdb" -D "$PGROOT/template" \
		--auth=trust -U postgres -N >"$WORK/initdb.out" 2>&1 ||
		die "initdb failed: $(tail -n 3 "$WORK/initdb.out")"
	echo "host all all 0.0.0.0/0 trust" >>"$PGROOT/template/pg_hba.conf"
	echo "SELECT 1;" >"$WORK/select1.sql"
	chmod 644 "$WORK/select1.sql"
	for m in $PG_MODES; do
		bl_srv_cmd "$m"
		cp -a "$PGROOT/template" "$PGROOT/$m"
		port=$((5441 + IDX))
		start_bg "pg-$m" "${CMD[@]}" setpriv --reuid=postgres --regid=postgres --init-groups -- \
			"$PG_BIN/postgres" -D "$PGROOT/$m" -c "listen_addresses=${SRV_BIND:-0.0.0.0}" -c "port=$port" \
			-c "unix_socket_directories=$PGROOT/$m" -c fsync=off -c max_connections=40 \
			-c logging_collector=off
		PG_PID[IDX]=$BG_PID
		bl_cli_cmd "$m"
		wait_until 20 "postgres of path $m to accept connections" "${CMD[@]}" "$PG_BIN/psql" \
			-h "$DST" -p "$port" -U postgres -d postgres -Atc 'SELECT 1' || {
			tail -n 5 "$WORK/pg-$m.err" >&2
			die "postgres of path $m does not answer on $DST:$port (its log is above)"
		}
	done
	for ((r = 1; r <= ROUNDS; r++)); do
		for m in $PG_MODES; do
			bl_cli_cmd "$m"
			guarded pgbench "$m" timeout $((SECS + 30)) "${CMD[@]}" "$PGBENCH" -n -C -c 2 -j 1 \
				-T "$SECS" -f "$WORK/select1.sql" -h "$DST" -p $((5441 + IDX)) -U postgres postgres ||
				die "pgbench failed on path $m (round $r): $(tail -n1 "$WORK/client.err")"
			tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' <<<"$OUTPUT" | head -n1)
			[[ -n $tps ]] || die "no tps from pgbench on path $m: $OUTPUT"
			failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' <<<"$OUTPUT")
			((${failed:-0} == 0)) || flag pgbench "$m" "$failed failed transactions"
			record pgbench pgbench_tps "$m" "$tps"
			printf '  round %d %-10s %9s transactions/s\n' "$r" "$m" "$tps"
			sleep 0.3
		done
	done
	for m in $PG_MODES; do
		bl_mode "$m"
		stop_bg "${PG_PID[$IDX]}"
	done
	rm -rf "$PGROOT"
	PGROOT=""
fi

# ---- memory -----------------------------------------------------------------

# smaps PID: "RSS PSS PRIVATE" in KiB from /proc/PID/smaps_rollup.
smaps() {
	awk '/^Rss:/ { r = $2 } /^Pss:/ { p = $2 } /^Private_(Clean|Dirty):/ { v += $2 }
		END { print r + 0, p + 0, v + 0 }' "/proc/$1/smaps_rollup" ||
		die "cannot read /proc/$1/smaps_rollup"
}

if has_part memory; then
	step "memory: an idle process after one connection, with and without libslim; slim-router with 10000 listeners"
	rr_servers vxlan slim
	for ((r = 1; r <= ROUNDS; r++)); do
		for m in vxlan slim; do
			bl_cli_cmd "$m"
			read -r vb cb < <(bl_fallback_pkts)
			start_bg "hold-$m" "${CMD[@]}" "$SLIM_RR_BENCH" client "$DST" $((9201 + IDX)) --mode hold
			hold=$BG_PID
			wait_line "hold-$m" 10 '^held' "the idle client of path $m"
			sleep 0.2
			read -r rss pss priv < <(smaps "$hold")
			nfds=$(find "/proc/$hold/fd" -mindepth 1 -maxdepth 1 | wc -l)
			stop_bg "$hold"
			read -r va ca < <(bl_fallback_pkts)
			if [[ $m == slim ]] && ((va != vb || ca != cb)); then
				flag memory slim "fell back: $((va - vb)) packets on vxlan0, $((ca - cb)) on c1's eth0"
			fi
			record memory proc_rss_kib "$m" "$rss"
			record memory proc_pss_kib "$m" "$pss"
			record memory proc_private_kib "$m" "$priv"
			record memory proc_fds "$m" "$nfds"
			printf '  round %d %-6s idle client: Rss %6s KiB, Pss %6s KiB, Private %6s KiB, %s fds\n' \
				"$r" "$m" "$rss" "$pss" "$priv" "$nfds"
		done
	done
	rpid=$(<"$TB_STATE_DIR/router-h2.pid")
	pid_alive "$rpid" || die "router h2 (pid $rpid) is not running"
	read -r rss pss priv < <(smaps "$rpid")
	record memory router_rss_kib_l0 slim "$rss"
	record memory router_pss_kib_l0 slim "$pss"
	printf '  router h2, no listeners: Rss %s KiB, Pss %s KiB\n' "$rss" "$pss"
	bl_srv_cmd slim
	start_bg listen-many "${CMD[@]}" "$SLIM_LISTEN_MANY" --base 30000 --count 10000
	lm=$BG_PID
	wait_line listen-many 120 '^listening' "10000 listeners registered with router h2"
	sed 's/^/  /' "$WORK/listen-many.out"
	ms=$(sed -n 's/.* in \([0-9]*\) ms.*/\1/p' "$WORK/listen-many.out")
	record memory listen_10k_ms slim "$ms"
	nlis=$(in_ns "$TB_H2" "$SLIMCTL" --socket "$TB_SOCK2" status 2>/dev/null |
		awk '$1 == "c2" && $2 == "'"$TB_C2_IP"'" { print $3 }')
	read -r rss pss priv < <(smaps "$rpid")
	record memory router_rss_kib_l10k slim "$rss"
	record memory router_pss_kib_l10k slim "$pss"
	printf '  router h2, 10000 listeners (slimctl status: %s): Rss %s KiB, Pss %s KiB\n' "${nlis:-?}" "$rss" "$pss"
	stop_bg "$lm"
fi

meta elapsed_s $(($(date +%s) - SUITE_START))
step "report"
python3 "$BENCH_DIR/bench_report.py" "$RESULTS" "$OUT/latest.md" "$OUT/latest.svg" ||
	die "bench_report.py could not write the report (results kept in $RESULTS with SLIM_KEEP=1)"
cp "$RESULTS" "$OUT/latest.tsv"
echo "wrote $OUT/latest.md, $OUT/latest.svg and $OUT/latest.tsv (raw values)"
