#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# app_memcached: unmodified memcached (libevent, worker threads, started as
# root and switching to the user nobody) under slim-run in c2 (host h2); a
# python3 client under slim-run in c1 (host h1). set/get round-trip, stats
# counts the client's connections, memcached's own connection events name
# c1's virtual IP, a held connection is one host TCP connection
# h1 -> h2:7771, and nothing crosses VXLAN or the containers' interfaces.
# Then a plain client (no preload) in c1 is served too, over VXLAN.
. "$(dirname "$0")/common.sh"
command -v memcached >/dev/null || skip "needs memcached (scripts/deps.sh installs it)"
it_start mc

# The real interpreter (not a pyenv shim script), so the preload meets python itself.
PY=$(python3 -c 'import sys; print(sys.executable)')
PORT=11211
# memcached listens on every address of every family by default.
BIND=()
bg mc slim "$TB_C2" memcached -u nobody -p "$PORT" -U 0 -vv "${BIND[@]}"
wait_line "$WORK/mc.err" 'server listening' 10 || fail "memcached did not start: $(cat "$WORK/mc.err")"
ok "memcached: $(grep -m1 'server listening' "$WORK/mc.err")"

# The client, as a file: fg gives programs /dev/null as stdin. It prints one
# fact per line (flushed) for the checks below; "hold" marks the moment it
# keeps its connection open for the host-connection check.
cat >"$WORK/mc_client.py" <<'EOF'
import socket, sys, time

host, port, value = sys.argv[1], int(sys.argv[2]), sys.argv[3]

def out(*a):
    print(*a, flush=True)

def conn():
    return socket.create_connection((host, port), timeout=10)

def cmd(f, line, until):
    f.write(line.encode() + b"\r\n")
    f.flush()
    got = []
    while True:
        l = f.readline().decode().rstrip("\r\n")
        if not l:
            raise SystemExit("connection closed after " + repr(got))
        got.append(l)
        if l in until:
            return got

# memcached's own view of its connections: it reports each new one with the
# peer address accept() gave it.
w = conn()
wf = w.makefile("rwb")
out("watch", cmd(wf, "watch connevents", ("OK",))[-1])
s = conn()
out("local %s:%d" % s.getsockname())
out("peer %s:%d" % s.getpeername())
out("event", wf.readline().decode().strip())
f = s.makefile("rwb")
f.write(b"set slim:key 0 0 %d\r\n%s\r\n" % (len(value), value.encode()))
f.flush()
out("set", f.readline().decode().strip())
got = cmd(f, "get slim:key", ("END",))
out("get", got[1] if len(got) == 3 else repr(got))
for l in cmd(f, "stats", ("END",)):
    k = l.split()
    if len(k) == 3 and k[1] in ("curr_connections", "total_connections"):
        out(k[1], k[2])
out("hold")
time.sleep(2)
# Short connections, one set/get each.
ok = 0
for i in range(20):
    c = conn()
    cf = c.makefile("rwb")
    v = "%s-%d" % (value, i)
    cf.write(b"set slim:k%d 0 0 %d\r\n%s\r\n" % (i, len(v), v.encode()))
    cf.flush()
    if cf.readline().strip() == b"STORED" and cmd(cf, "get slim:k%d" % i, ("END",))[1:2] == [v]:
        ok += 1
    c.close()
out("short", ok)
s.close()
w.close()
EOF

before=$(counters)
VALUE="slim-mc-$$-$(date +%s%N)"
bg cli slim "$TB_C1" "$PY" "$WORK/mc_client.py" "$TB_C2_IP" "$PORT" "$VALUE"
if ! wait_line "$WORK/cli.out" '^hold' 15; then
	wait_bg cli
	fail "the client did not get to hold its connection (exit $RC): $(cat "$WORK/cli.out" "$WORK/cli.err")"
fi
local_addr=$(field "$WORK/cli.out" local)
expect_match "client getsockname" "$local_addr" "^${TB_C1_IP//./\\.}:[0-9]+$"
lport=${local_addr##*:}
expect_eq "client getpeername" "$(field "$WORK/cli.out" peer)" "$TB_C2_IP:$PORT"
expect_match "memcached connection event" "$(sed -n 's/^event //p' "$WORK/cli.out")" \
	"type=conn_new rip=${TB_C1_IP//./\\.} rport=$lport transport=tcp"
conn=$(estab "$TB_H1" "^${TB_H1_IP//./\\.}:$lport\$" "^${TB_H2_IP//./\\.}:$TB_PORT\$")
[[ -n $conn ]] || fail "no ESTABLISHED $TB_H1_IP:$lport -> $TB_H2_IP:$TB_PORT in $TB_H1:" \
	"$(in_ns "$TB_H1" ss -Htn | tr '\n' ';')"
ok "client: host connection in $TB_H1: $(oneline "$conn")"
conn=$(estab "$TB_H2" "^${TB_H2_IP//./\\.}:$TB_PORT\$" "^${TB_H1_IP//./\\.}:$lport\$")
[[ -n $conn ]] || fail "no ESTABLISHED $TB_H2_IP:$TB_PORT <- $TB_H1_IP:$lport in $TB_H2"
ok "client: host connection in $TB_H2: $(oneline "$conn")"
conn=$(in_ns "$TB_C1" ss -Htn)
[[ -z $conn ]] || fail "container $TB_C1 has TCP sockets of its own: $conn"
ok "no TCP socket in the container namespace $TB_C1"

wait_bg cli
expect_eq "client exit code" "$RC" 0
expect_eq "set reply" "$(field "$WORK/cli.out" set)" STORED
expect_eq "get value" "$(field "$WORK/cli.out" get)" "$VALUE"
# The watcher and the main connection, plus memcached's second listener: it
# counts its listening sockets but the first in curr_connections, and by
# default it listens on 0.0.0.0 and on an IPv6-only [::].
expect_eq "stats curr_connections" "$(field "$WORK/cli.out" curr_connections)" 3
expect_eq "20 short connections, set+get each" "$(field "$WORK/cli.out" short)" 20
after=$(counters)
expect_same_counters "$before" "$after" "memcached exchanges"
# -vv logs every connection memcached accepted and closed.
n=$(grep -c 'new auto-negotiating client connection' "$WORK/mc.err" || true)
((n >= 22)) || fail "memcached logged $n new connections, want at least 22"
ok "memcached logged $n new connections"
no_warning mc
no_warning cli
own_listeners_only "$TB_C2" "$TB_C2_IP" "$PORT"
# Last: a plain client (no preload) crosses the container network, and
# memcached under slim-run serves it too.
fg plain plain "$TB_C1" timeout 5 bash -c \
	"exec 3<>/dev/tcp/$TB_C2_IP/$PORT && printf 'version\\r\\nquit\\r\\n' >&3 && head -n 1 <&3"
expect_eq "plain client exit code" "$RC" 0
expect_match "plain client: memcached's answer" "$(cat "$WORK/plain.out")" '^VERSION [0-9.]+'
it_pass
