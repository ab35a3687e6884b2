#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# metrics: slim-router --metrics serves GET /metrics in the Prometheus text
# format. promtool check metrics finds no problem in a scrape (and does find
# one in a scrape with a HELP line removed, so the check is live); the values
# move with what happens (containers added and deleted, connections through
# slim, pool sockets, per-connect requests) and agree with slimctl status;
# other paths are 404, other methods 405; garbage, NUL bytes, silent clients
# and too many clients neither block nor hurt the router; a bad --metrics
# value or an address in use stops start-up with one line.
. "$(dirname "$0")/common.sh"
for v in curl promtool; do
	command -v "$v" >/dev/null || fail "needs $v (scripts/deps.sh installs it)"
done
MADDR=127.0.0.1
MPORT=9771
URL=http://$MADDR:$MPORT
export SLIM_ROUTER_ARGS="--metrics $MADDR:$MPORT"
it_start mt
CX=$TB_PREFIX-cx
# mt_cleanup: removes the extra netns, then it_cleanup, which judges the
# exit status it finds in $?: the test's.
mt_cleanup() {
	local rc=$?
	set +e
	ip netns del "$CX" 2>/dev/null
	(exit "$rc")
	it_cleanup
}
trap mt_cleanup EXIT

# scrape NAME [CURL ARGS...] [PATH]: curl in h1's namespace; the body in
# $WORK/NAME.out, the headers in $WORK/NAME.hdr; sets CODE (000: no answer).
scrape() {
	local name=$1
	shift
	CODE=$(in_ns "$TB_H1" curl -sS --max-time 10 -o "$WORK/$name.out" -D "$WORK/$name.hdr" \
		-w '%{http_code}' "$@" 2>"$WORK/$name.err") || true
}

# metrics NAME: a scrape of /metrics that must answer 200 and pass promtool.
metrics() {
	local name=$1 out rc=0
	scrape "$name" "$URL/metrics"
	expect_eq "GET /metrics ($name) status" "$CODE" 200
	out=$(promtool check metrics <"$WORK/$name.out" 2>&1) || rc=$?
	[[ $rc == 0 && -z $out ]] ||
		fail "promtool check metrics ($name): exit $rc: $(oneline "$out")"
	ok "promtool check metrics ($name): no problem"
}

# value NAME SERIES: the value of SERIES (name and labels, as in the text) in
# scrape NAME; fails if it is not there exactly once.
value() {
	local v
	v=$(awk -v k="$2" '$1 == k { print $2 }' "$WORK/$1.out")
	[[ $v =~ ^[0-9]+(\.[0-9]+)?$ ]] || fail "$1: no single value for $2: '$(oneline "$v")'"
	echo "$v"
}

# ctl NAME ARGS...: slimctl against router h1, as its admin.
ctl() {
	local name=$1
	shift
	fg "$name" plain "$TB_H1" "$SLIMCTL" --socket "$TB_SOCK1" "$@"
	[[ $RC == 0 ]] || fail "slimctl $*: exit $RC: $(oneline "$(cat "$WORK/$name.err")")"
}

echo "-- the first scrape"
metrics m0
expect_match "Content-Type" "$(tr -d '\r' <"$WORK/m0.hdr" | sed -n 's/^[Cc]ontent-[Tt]ype: //p')" \
	'^text/plain; version=0\.0\.4; charset=utf-8$'
for f in slim_router_info slim_containers slim_listeners slim_clients slim_cluster_hosts \
	slim_pool_sockets_total slim_pool_requests_total slim_connect_requests_total \
	slim_connections_total slim_refused_syns_total slim_errors_total; do
	grep -q "^# HELP $f " "$WORK/m0.out" || fail "no HELP line for $f"
	grep -q "^# TYPE $f \(gauge\|counter\)$" "$WORK/m0.out" || fail "no TYPE line for $f"
done
ok "HELP and TYPE lines for every family"
expect_eq "slim_router_info" \
	"$(value m0 "slim_router_info{host=\"h1\",underlay=\"$TB_H1_IP:$TB_PORT\",subnet=\"$TB_H1_SUBNET\"}")" 1
expect_eq "slim_containers (c1, c3)" "$(value m0 slim_containers)" 2
expect_eq "slim_cluster_hosts" "$(value m0 slim_cluster_hosts)" 2
for r in not_a_cluster_host foreign_subnet; do
	value m0 "slim_refused_syns_total{reason=\"$r\"}" >/dev/null
done
ok "refused SYNs by both reasons present"

echo "-- promtool does see a broken exposition"
sed '/^# HELP slim_containers /d' "$WORK/m0.out" >"$WORK/broken.txt"
rc=0
out=$(promtool check metrics <"$WORK/broken.txt" 2>&1) || rc=$?
[[ $rc != 0 && $out == *slim_containers* ]] ||
	fail "promtool did not report the missing HELP line: exit $rc: $(oneline "$out")"
ok "promtool check metrics reports a missing HELP line: $(oneline "$out")"

echo "-- a container added and deleted"
ip netns add "$CX" || fail "cannot create netns $CX"
ctl add container add cx --ip 10.244.1.9 --netns "/run/netns/$CX"
metrics m1
expect_eq "slim_containers after add" "$(value m1 slim_containers)" 3
ctl del container del cx
ip netns del "$CX" || fail "cannot remove netns $CX"
metrics m2
expect_eq "slim_containers after del" "$(value m2 slim_containers)" 2

echo "-- connections through slim (c1 -> c3, same host)"
N=3
PORT=5007
acc0=$(value m2 'slim_connections_total{path="accelerated"}')
conn0=$(value m2 slim_connect_requests_total)
start_echo srv slim "$TB_C3" "$SLIM_ECHO" server --count $((N + 1)) "$PORT"
for ((i = 1; i <= N; i++)); do
	fg "cli$i" slim "$TB_C1" "$SLIM_ECHO" client "$TB_C3_IP" "$PORT" "m$i"
	expect_eq "client $i exit code ($(oneline "$(cat "$WORK/cli$i.err")"))" "$RC" 0
	expect_eq "client $i echo" "$(sed -n 's/^echo //p' "$WORK/cli$i.out")" "m$i"
done
# One more with the pool off: one per-connect request.
fg cli0 slim "$TB_C1" env SLIM_FASTPATH=0 "$SLIM_ECHO" client "$TB_C3_IP" "$PORT" m0
expect_eq "per-connect client exit code ($(oneline "$(cat "$WORK/cli0.err")"))" "$RC" 0
wait_until 5 "the server to finish $((N + 1)) connections" count_ge "$WORK/srv.out" '^closed' $((N + 1)) ||
	fail "server did not finish $((N + 1)) connections"
metrics m3
expect_eq "slim_connections_total{path=\"accelerated\"} - before" \
	$(($(value m3 'slim_connections_total{path="accelerated"}') - acc0)) $((N + 1))
expect_eq "slim_connect_requests_total - before" $(($(value m3 slim_connect_requests_total) - conn0)) 1
ps=$(value m3 slim_pool_sockets_total)
((ps > 0)) || fail "slim_pool_sockets_total is $ps after $N pooled connections"
ok "slim_pool_sockets_total = $ps"
(($(value m3 slim_pool_requests_total) > 0)) || fail "slim_pool_requests_total is 0"
ok "slim_pool_requests_total = $(value m3 slim_pool_requests_total)"
expect_eq "accelerated: metrics and slimctl status agree" \
	"$(value m3 'slim_connections_total{path="accelerated"}')" "$(path_count "$TB_H1" accelerated)"
expect_eq "slim_errors_total{kind=\"socket_creation\"}" \
	"$(value m3 'slim_errors_total{kind="socket_creation"}')" 0

echo "-- other paths and methods"
scrape p404 "$URL/other"
expect_eq "GET /other status" "$CODE" 404
scrape p405 -X POST -d 'x=1' "$URL/metrics"
expect_eq "POST /metrics status" "$CODE" 405
grep -qi '^Allow: GET' "$WORK/p405.hdr" || fail "405 without Allow: GET: $(oneline "$(cat "$WORK/p405.hdr")")"
ok "405 says Allow: GET"
scrape p10 --http1.0 "$URL/metrics"
expect_eq "GET /metrics over HTTP/1.0 status" "$CODE" 200

echo "-- hostile clients"
probe() {
	timeout 20 nsenter --net="/run/netns/$TB_H1" -- python3 "$IT_DIR/metrics_probe.py" "$@"
}
got=$(probe garbage "$MADDR" "$MPORT") || fail "garbage probe failed: $got"
expect_match "64 KiB of garbage: answer" "$got" '^HTTP/1\.1 431 '
got=$(probe nul "$MADDR" "$MPORT") || fail "NUL probe failed: $got"
expect_match "a request line with a NUL: answer" "$got" '^HTTP/1\.1 400 '
# Silent clients up to the cap (8): a scrape meanwhile is turned away at
# once; the router drops them after its 5 s timeout and answers again.
bg hold plain "$TB_H1" python3 "$IT_DIR/metrics_probe.py" hold "$MADDR" "$MPORT" 12 30
wait_line "$WORK/hold.out" '^held 12' || fail "could not open 12 idle connections: $(cat "$WORK/hold.err")"
t0=$(date +%s%N)
scrape busy "$URL/metrics"
ms=$((($(date +%s%N) - t0) / 1000000))
[[ $CODE == 000 ]] || fail "a scrape beside 8 silent clients got $CODE, want it refused"
((ms < 3000)) || fail "a scrape beside 8 silent clients took $ms ms to be refused"
ok "a scrape beside 8 silent clients is refused at once ($ms ms)"
ctl st status
ok "slimctl status answers while the metrics clients are full"
wait_until 10 "the silent metrics clients to time out" \
	bash -c "[[ \$(nsenter --net=/run/netns/$TB_H1 -- curl -s -o /dev/null -w '%{http_code}' --max-time 2 $URL/metrics) == 200 ]]" ||
	fail "/metrics did not answer again after the silent clients' timeout"
ok "/metrics answers again once the silent clients timed out"
metrics m4
ctl st2 status
ok "slimctl status still answers"

echo "-- bad --metrics values and an address in use"
# router_fails NAME REGEX ARGS...: slim-router ARGS in NS exits 1 with one line.
router_fails() {
	local name=$1 ns=$2 re=$3
	shift 3
	fg "$name" plain "$ns" "$SLIM_ROUTER" --cluster "$TB_CLUSTER" --host h2 \
		--socket "/run/slim/$TB_PREFIX-x.sock" --cgroup "$TB_CG2-x" --pin-dir "$TB_PIN2-x" \
		--state "$WORK/x.containers" "$@"
	expect_eq "slim-router ($name) exit code" "$RC" 1
	expect_eq "slim-router ($name) stderr lines" "$(wc -l <"$WORK/$name.err")" 1
	expect_match "slim-router ($name) message" "$(cat "$WORK/$name.err")" "^slim-router: $re"
}
router_fails badport "$TB_H2" "bad --metrics '127\\.0\\.0\\.1:99999'" --metrics 127.0.0.1:99999
router_fails badaddr "$TB_H2" "bad --metrics 'localhost:9771'" --metrics localhost:9771
router_fails noport "$TB_H2" "bad --metrics '127\\.0\\.0\\.1'" --metrics 127.0.0.1
router_fails inuse "$TB_H1" "--metrics $MADDR:$MPORT: cannot bind: .*in use" --metrics "$MADDR:$MPORT"
router_fails notlocal "$TB_H2" "--metrics 192\\.0\\.2\\.1:$MPORT: cannot bind: " --metrics "192.0.2.1:$MPORT"
[[ ! -e /run/slim/$TB_PREFIX-x.sock && ! -e $TB_CG2-x && ! -e $TB_PIN2-x ]] ||
	fail "a failed slim-router start left its socket, cgroup or pin dir behind"
ok "failed starts left no socket, cgroup or pin dir"
metrics m5
it_pass
