#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Membership at scale, simulated: a real etcd (in host h1's namespace of a
# fresh testbed) holding N synthetic host records beside the testbed's two
# real hosts. Measures, for 2 and for N+2 hosts: how long router h1 takes to
# join (etcd requests, parsing) and to publish the routes (trie and view),
# its memory, how long one change (a host joining or leaving) takes to apply
# inside the router and to show in its status, and libslim's route lookup
# cost (slim-view-bench: nanoseconds, and instructions counted by callgrind
# when valgrind is there). Prints a markdown table.
#
#   bench/etcd-scale.sh [N]          (root; N defaults to 1000)
#
# Programs: SLIM_BIN_DIR (a build tree) as for testbed/slim-env.sh, and
# slim-view-bench from the same tree.
set -euo pipefail
TB_PROG=etcd-scale.sh
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TBDIR=${SLIM_TESTBED:-$HERE/../testbed}
# shellcheck source=../testbed/lib.sh
. "$TBDIR/lib.sh"
N=${1:-1000}
[[ $(id -u) == 0 ]] || die "must run as root"
command -v etcd >/dev/null || die "needs etcd (scripts/deps.sh)"
need_bins SLIM_ROUTER=slim-router SLIMCTL=slimctl
VIEW_BENCH=${SLIM_VIEW_BENCH:-$(find_bin slim-view-bench)} || die "slim-view-bench not found"
export SLIM_ROUTER SLIMCTL

tb_vars "sc$(($$ % 10000))"
WORK=$(mktemp -d /tmp/slim-etcd-scale.XXXXXX)
ETCD_PID=""
URL=http://$TB_H1_IP:2379
cleanup() {
	set +e
	"$TBDIR/testbed.sh" down "$TB_PREFIX" >/dev/null 2>&1
	[[ -z $ETCD_PID ]] || { kill "$ETCD_PID"; wait "$ETCD_PID"; } 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT
"$TBDIR/testbed.sh" up "$TB_PREFIX" >/dev/null
nsenter --net="/run/netns/$TB_H1" -- etcd --name scale --data-dir "$WORK/etcd" \
	--listen-client-urls "$URL" --advertise-client-urls "$URL" \
	--listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
	--initial-cluster scale=http://127.0.0.1:2380 </dev/null >"$WORK/etcd.log" 2>&1 &
ETCD_PID=$!
wait_until 20 "etcd" in_ns "$TB_H1" curl -sf --max-time 1 "$URL/health" >/dev/null

# put FIRST COUNT [delete]: synthetic records sFIRST.. (underlay 10.200.x.y,
# subnet 172.16.0.0/12 in /24s), written (or deleted) over one connection.
put() {
	in_ns "$TB_H1" python3 - "$TB_H1_IP" "$1" "$2" "${3:-}" <<-'PY'
		import base64, http.client, json, sys
		host, first, count, delete = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
		b = lambda s: base64.b64encode(s.encode()).decode()
		c = http.client.HTTPConnection(host, 2379)
		for i in range(first, first + count):
		    key = "/slim/hosts/s%d" % i
		    if delete:
		        c.request("POST", "/v3/kv/deleterange", json.dumps({"key": b(key)}))
		    else:
		        val = json.dumps({"underlay": "10.200.%d.%d" % (i // 250, 1 + i % 250),
		                          "subnet": "172.%d.%d.0/24" % (16 + i // 256, i % 256),
		                          "port": 7771})
		        c.request("POST", "/v3/kv/put", json.dumps({"key": b(key), "value": b(val)}))
		    r = c.getresponse()
		    r.read()
		    assert r.status == 200, r.status
	PY
}

status_json() { in_ns "$TB_H1" "$SLIMCTL" --socket "$TB_SOCK1" --json status; }
jget() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

# measure LABEL: starts the routers, reads the numbers, stops them.
declare -A R
measure() {
	local label=$1 t0 t1 pid log=$TB_STATE_DIR/router-h1.log i k ms us
	: >"$log"
	t0=$(date +%s%N)
	SLIM_ETCD=$URL "$TBDIR/slim-env.sh" up "$TB_PREFIX" >/dev/null
	t1=$(date +%s%N)
	pid=$(<"$TB_STATE_DIR/router-h1.pid")
	R[$label,hosts]=$(status_json | jget hosts)
	R[$label,join]=$(sed -n 's/.*hosts in \([0-9]*\) ms$/\1/p' "$log" | head -n 1)
	R[$label,publish]=$(status_json | jget last_apply_us)
	R[$label,start]=$(((t1 - t0) / 1000000))
	R[$label,rss]=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
	R[$label,hwm]=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
	# One change at a time: a host joins, then leaves; 5 of each. The time
	# from etcd acknowledging the put (or delete) to router h1 logging the
	# join (or leave), and the router's own apply time; medians.
	local app=()
	R[$label,e2e]=$(in_ns "$TB_H1" python3 - "$TB_H1_IP" "$log" <<-'PY'
		import base64, http.client, json, sys, time
		host, log = sys.argv[1], sys.argv[2]
		b = lambda s: base64.b64encode(s.encode()).decode()
		c = http.client.HTTPConnection(host, 2379)
		key = b("/slim/hosts/s60000")
		val = b(json.dumps({"underlay": "10.201.0.1", "subnet": "172.30.0.0/24", "port": 7771}))
		seen = []
		for k in range(10):
		    want = "host s60000 joined" if k % 2 == 0 else "host s60000 left"
		    n = open(log).read().count(want)
		    if k % 2 == 0:
		        c.request("POST", "/v3/kv/put", json.dumps({"key": key, "value": val}))
		    else:
		        c.request("POST", "/v3/kv/deleterange", json.dumps({"key": key}))
		    r = c.getresponse()
		    r.read()
		    t0 = time.monotonic()
		    while open(log).read().count(want) == n:
		        if time.monotonic() - t0 > 5:
		            sys.exit("change %d never showed in the router's log" % k)
		        time.sleep(0.0002)
		    seen.append((time.monotonic() - t0) * 1000)
		    time.sleep(0.05)
		print("%.2f" % sorted(seen)[5])
	PY
	)
	for ((k = 0; k < 3; k++)); do
		put 60001 1
		app+=("$(status_json | jget last_apply_us)")
		put 60001 1 delete
		app+=("$(status_json | jget last_apply_us)")
	done
	R[$label,apply]=$(printf '%s\n' "${app[@]}" | sort -n | sed -n 3p)
	"$TBDIR/slim-env.sh" down "$TB_PREFIX" >/dev/null
}

lookup() {
	local n=$1 ns ir=""
	ns=$("$VIEW_BENCH" "$n" 2000000 | awk '{print $3}')
	if command -v valgrind >/dev/null; then
		valgrind --tool=callgrind --callgrind-out-file="$WORK/cg" --toggle-collect=slim_view_read \
			"$VIEW_BENCH" "$n" 100000 >/dev/null 2>&1
		ir=$(awk '/^summary:/ {printf "%.1f", $2 / 100000}' "$WORK/cg")
	fi
	echo "$ns ns, ${ir:-?} instructions"
}

measure small
put 0 "$N"
measure large
S=small L=large
cat <<EOF2
| | 2 hosts | $((N + 2)) hosts |
|---|---|---|
| live hosts router h1 serves | ${R[$S,hosts]} | ${R[$L,hosts]} |
| join etcd: lease, read all records, claim (router log) | ${R[$S,join]} ms | ${R[$L,join]} ms |
| first publish: membership, routes trie, view | ${R[$S,publish]} us | ${R[$L,publish]} us |
| router start to serving (both routers, slim-env.sh up) | ${R[$S,start]} ms | ${R[$L,start]} ms |
| one change applied in the router: membership, trie, view (median of 6) | ${R[$S,apply]} us | ${R[$L,apply]} us |
| one change, etcd's put acknowledged to the router's log line (median of 10) | ${R[$S,e2e]} ms | ${R[$L,e2e]} ms |
| router memory (VmRSS / VmHWM) | ${R[$S,rss]} / ${R[$S,hwm]} KiB | ${R[$L,rss]} / ${R[$L,hwm]} KiB |
| libslim lookup (slim_view_read, half hits half misses) | $(lookup 2) | $(lookup $((N + 2))) |
EOF2
