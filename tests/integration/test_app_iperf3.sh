#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# app_iperf3: unmodified iperf3 (a control connection plus a data stream)
# with the server (-s -1) under slim-run in c2 (host h2) and the client
# under slim-run in c1 (host h1) for 2 s. Bytes arrive, both ends report the
# virtual addresses, the data stream is a host TCP connection h1 -> h2:7771
# while it runs, and not one packet crosses VXLAN or the containers'
# interfaces (gigabytes would show).
. "$(dirname "$0")/common.sh"
command -v iperf3 >/dev/null || skip "needs iperf3 (scripts/deps.sh installs it)"
it_start ip

PORT=5201
# iperf3 -s listens on a dual-stack [::] socket by default (libslim carries
# it over IPv4, names v4-mapped).
BIND=()
bg srv slim "$TB_C2" iperf3 -s -1 -p "$PORT" --forceflush "${BIND[@]}"
wait_line "$WORK/srv.out" '^Server listening on' 10 || fail "iperf3 -s did not start: $(cat "$WORK/srv.out" "$WORK/srv.err")"
ok "iperf3 server: $(grep -m1 'Server listening' "$WORK/srv.out")"

before=$(counters)
bg cli slim "$TB_C1" iperf3 -c "$TB_C2_IP" -p "$PORT" -t 2 -J
# While the test runs: the control connection and the data stream, each a
# host connection from h1 to h2's reserved port, the container holding none.
h1_conn() { estab "$TB_H1" "^${TB_H1_IP//./\\.}:[0-9]+\$" "^${TB_H2_IP//./\\.}:$TB_PORT\$"; }
two_conns() { (($(h1_conn | wc -l) >= 2)); }
wait_until 5 "two host connections h1 -> h2:$TB_PORT" two_conns ||
	fail "no two ESTABLISHED host connections to $TB_H2_IP:$TB_PORT in $TB_H1:" \
		"$(in_ns "$TB_H1" ss -Htn | tr '\n' ';')"
h1_seen=$(h1_conn)
ok "host connections in $TB_H1: $(oneline "$h1_seen")"
conn=$(estab "$TB_H2" "^${TB_H2_IP//./\\.}:$TB_PORT\$" "^${TB_H1_IP//./\\.}:[0-9]+\$")
(($(wc -l <<<"$conn") >= 2)) || fail "no two ESTABLISHED host connections at $TB_H2_IP:$TB_PORT in $TB_H2: $conn"
ok "host connections in $TB_H2: $(oneline "$conn")"
conn=$(in_ns "$TB_C1" ss -Htn)
[[ -z $conn ]] || fail "container $TB_C1 has TCP sockets of its own: $conn"
ok "no TCP socket in the container namespace $TB_C1"

wait_bg cli
expect_eq "iperf3 client exit code" "$RC" 0
# One line per fact, from the client's JSON report.
python3 - "$WORK/cli.out" >"$WORK/report" <<'EOF' || fail "iperf3 -J output is not the report expected: $(head -c 600 "$WORK/cli.out")"
import json, sys
d = json.load(open(sys.argv[1]))
if "error" in d:
    raise SystemExit("iperf3 error: " + d["error"])
c = d["start"]["connected"][0]
print("streams", len(d["start"]["connected"]))
print("local_host", c["local_host"])
print("remote_host", c["remote_host"])
print("remote_port", c["remote_port"])
print("local_port", c["local_port"])
print("connecting_to", d["start"]["connecting_to"]["host"])
print("received", d["end"]["sum_received"]["bytes"])
print("sent", d["end"]["sum_sent"]["bytes"])
EOF
expect_eq "client streams" "$(field "$WORK/report" streams)" 1
expect_eq "client local_host" "$(field "$WORK/report" local_host)" "$TB_C1_IP"
expect_eq "client remote_host" "$(field "$WORK/report" remote_host)" "$TB_C2_IP"
expect_eq "client remote_port" "$(field "$WORK/report" remote_port)" "$PORT"
expect_eq "client connecting_to" "$(field "$WORK/report" connecting_to)" "$TB_C2_IP"
# The data stream is one of the host connections seen while it ran.
dport=$(field "$WORK/report" local_port)
grep -Eq "^[0-9]+ +[0-9]+ +${TB_H1_IP//./\\.}:$dport " <<<"$h1_seen" ||
	fail "the data stream's port $dport is not among the host connections seen in $TB_H1: $(oneline "$h1_seen")"
ok "data stream $TB_C1_IP:$dport was host connection $TB_H1_IP:$dport -> $TB_H2_IP:$TB_PORT"
recv=$(field "$WORK/report" received)
((recv > 0)) || fail "iperf3 received $recv bytes"
ok "iperf3: $recv bytes received in 2 s (sent $(field "$WORK/report" sent))"

wait_bg srv
expect_eq "iperf3 server exit code (-1: one test)" "$RC" 0
expect_match "server: accepted from" "$(grep -m1 '^Accepted connection' "$WORK/srv.out")" \
	"^Accepted connection from ${TB_C1_IP//./\\.}, port [0-9]+$"
expect_match "server: data stream" "$(grep -m1 'connected to' "$WORK/srv.out")" \
	"local ${TB_C2_IP//./\\.} port $PORT connected to ${TB_C1_IP//./\\.} port [0-9]+$"
after=$(counters)
expect_same_counters "$before" "$after" "iperf3 run"
no_warning srv
no_warning cli
it_pass
