#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# mixed_server: a server under slim-run is reached by every client the
# plain container network would let reach it, not only by slim clients
# (libslim merges its listener's container side into the app's listening
# fd: docs/architecture.md, "Mixed peers"). Slim echo servers in c2 (h2)
# and c3 (h1); plain clients from c1 across the hosts (VXLAN) and on the
# same host (the bridge), the statically linked client, plain clients in c2
# itself to 127.0.0.1 and to its own vIP, and the host namespace h2 to c2's
# vIP (a kubelet probe). Each is served: the bytes come back, and the
# server's accept() and getpeername() name the client's real address. A
# slim client to the same server still goes over the reserved port with no
# VXLAN packet. A port nobody listens on, and a server that has exited,
# refuse at once. The servers wait in a blocking accept, epoll (registered
# after listen, and between bind and listen), poll and select; a threaded
# python server, four threads blocking in accept on one listener, serves a
# burst of plain and slim clients at once. Each step also checks the
# server host's "connections by path" in slimctl status: plain-to-slim
# grows by the plain connections that crossed the server container's veth
# (not those over its own lo), accelerated by the slim ones, and
# slim-to-plain (no plain server here) not at all.
. "$(dirname "$0")/common.sh"
[[ -n ${SLIM_STATIC_CLIENT:-} && -x $SLIM_STATIC_CLIENT ]] ||
	skip "SLIM_STATIC_CLIENT not set to an executable (run through ctest)"
it_start ms

P=5401   # c2, blocking accept ("srv": check_exchange's name)
P3=5402  # c3, epoll
PE=5403  # c2, epoll registered before listen
PP=5404  # c2, poll
PS=5405  # c2, select
PC=5406  # c2, one connection, then the server exits
PT=5407  # c2, python, 4 threads blocking in accept
PX=5499  # nobody

# vxlan_same BEFORE AFTER WHAT: h1's and h2's vxlan0 counters unchanged.
vxlan_same() {
	[[ $(grep vxlan0 <<<"$1") == $(grep vxlan0 <<<"$2") ]] ||
		fail "$3: VXLAN carried packets: $(oneline "$(diff <(echo "$1") <(echo "$2") | grep '^[<>]')")"
	ok "$3: no VXLAN packet"
}

# syn_retrans NETNS: TcpExt TCPSynRetrans of NETNS, the SYNs and SYN-ACKs
# its kernel sent again.
syn_retrans() {
	in_ns "$1" cat /proc/net/netstat | awk '$1 == "TcpExt:" {
		if (!c) { for (i = 2; i <= NF; i++) if ($i == "TCPSynRetrans") c = i }
		else { print $c; exit } }'
}

# path_snap: "ACC S2P P2S RTX" of h1, then of h2: the connections by path
# of the host's router, and the SYN retransmissions of its server container
# (c3 on h1, c2 on h2).
path_snap() {
	echo "$(path_counts "$TB_H1") $(syn_retrans "$TB_C3") $(path_counts "$TB_H2") $(syn_retrans "$TB_C2")"
}

# with_paths WHAT H1_ACC H1_P2S H2_ACC H2_P2S CMD...: runs CMD; then each
# host's accelerated count must have grown by its ACC, slim-to-plain not at
# all, and plain-to-slim by its P2S: exactly, but for the SYN-ACKs its
# server container sent again (a retransmitted SYN-ACK is counted again),
# which the container's TCPSynRetrans bounds.
with_paths() {
	local what=$1 want=("$2" "$3" "$4" "$5") b a h o acc s2p p2s rtx
	shift 5
	read -ra b <<<"$(path_snap)"
	"$@"
	read -ra a <<<"$(path_snap)"
	for h in 0 1; do
		o=$((h * 4))
		[[ -n ${b[o + 3]:-} && -n ${a[o + 3]:-} ]] || fail "$what: no path counts: ${b[*]} / ${a[*]}"
		acc=$((a[o] - b[o])) s2p=$((a[o + 1] - b[o + 1])) p2s=$((a[o + 2] - b[o + 2]))
		rtx=$((a[o + 3] - b[o + 3]))
		((acc == want[h * 2] && s2p == 0 && p2s >= want[h * 2 + 1] &&
			p2s <= want[h * 2 + 1] + rtx)) ||
			fail "$what: h$((h + 1)) accelerated +$acc, slim-to-plain +$s2p, plain-to-slim" \
				"+$p2s ($rtx SYNs sent again); want +${want[h * 2]}, +0, +${want[h * 2 + 1]}"
		ok "$what: h$((h + 1)) accelerated +$acc, slim-to-plain +0, plain-to-slim +$p2s" \
			"(want +${want[h * 2 + 1]}, $rtx SYNs sent again)"
	done
}

# served NAME SRV N WANT_IP MODE NETNS DST PORT PROG [OPTIONS]: a client run
# (slim-echo client or the static client) that must be served as the
# server SRV's N-th connection: exit 0, the message echoed, the client's
# own address on WANT_IP, and the server's accept(), getpeername() and
# getsockname() naming the client and DST:PORT.
served() {
	local name=$1 srv=$2 n=$3 want_ip=$4 mode=$5 ns=$6 dst=$7 port=$8 msg local_addr
	shift 8
	msg="$name-$$"
	fg "$name" "$mode" "$ns" "$@" "$dst" "$port" "$msg"
	expect_eq "$name: exit code" "$RC" 0
	expect_eq "$name: echo" "$(sed -n 's/^echo //p' "$WORK/$name.out")" "$msg"
	local_addr=$(field "$WORK/$name.out" local)
	expect_match "$name: its own address" "$local_addr" "^${want_ip//./\\.}:[0-9]+$"
	wait_until 5 "$srv to finish connection $n" count_ge "$WORK/$srv.out" '^closed' "$n" ||
		fail "$srv did not finish connection $n"
	expect_eq "$name: $srv's accept() address" "$(field "$WORK/$srv.out" accept "$n")" "$local_addr"
	expect_eq "$name: $srv's getpeername" "$(field "$WORK/$srv.out" peer "$n")" "$local_addr"
	expect_eq "$name: $srv's getsockname" "$(field "$WORK/$srv.out" local "$n")" "$dst:$port"
	expect_eq "$name: $srv received" "$(field "$WORK/$srv.out" got "$n")" "$msg"
}

# refused NAME NETNS DST PORT: a plain client is refused within 1 s.
refused() {
	local name=$1 ns=$2 dst=$3 port=$4
	fg "$name" plain "$ns" "$SLIM_ECHO" client --timeout 5 "$dst" "$port" "nobody-home"
	expect_eq "$name: exit code (2 = ECONNREFUSED)" "$RC" 2
	((MS < 1000)) || fail "$name: refused after ${MS} ms, want < 1000 ms"
	ok "$name: ECONNREFUSED in ${MS} ms"
}

start_echo srv slim "$TB_C2" "$SLIM_ECHO" server "$P"
start_echo srv3 slim "$TB_C3" "$SLIM_ECHO" server --wait epoll "$P3"
start_echo srve slim "$TB_C2" "$SLIM_ECHO" server --wait epoll-before "$PE"
start_echo srvp slim "$TB_C2" "$SLIM_ECHO" server --wait poll "$PP"
start_echo srvs slim "$TB_C2" "$SLIM_ECHO" server --wait select "$PS"
start_echo srvc slim "$TB_C2" "$SLIM_ECHO" server --count 1 "$PC"

echo "-- a slim client first: the reserved port, no VXLAN (before c1 has TCP sockets of its own)"
with_paths "slim client c1 -> c2" 0 0 1 0 \
	check_exchange 1 "$TB_C1" "$TB_C1_IP" "$TB_H1" "$TB_H1_IP" "$TB_H2" "$TB_H2_IP" "$TB_C2_IP" "$P" \
	mixed-slim

echo "-- a plain client in c1 -> c2 (another host: VXLAN)"
before=$(counters)
with_paths "plain client c1 -> c2" 0 0 0 1 \
	served plain-x srv 2 "$TB_C1_IP" plain "$TB_C1" "$TB_C2_IP" "$P" "$SLIM_ECHO" client
after=$(counters)
pkts_moved "$before" "$after" "$TB_H1:vxlan0 tx" "$TB_H2:vxlan0 rx" "$TB_C2:eth0 rx"

echo "-- the statically linked client in c1 (under slim-run, which cannot reach it) -> c2"
with_paths "static client c1 -> c2" 0 0 0 1 \
	served static srv 3 "$TB_C1_IP" slim "$TB_C1" "$TB_C2_IP" "$P" "$SLIM_STATIC_CLIENT" --timeout 5000

echo "-- inside c2: 127.0.0.1 and its own vIP (its own lo: no veth, not counted)"
with_paths "c2 -> 127.0.0.1" 0 0 0 0 \
	served loop srv 4 127.0.0.1 plain "$TB_C2" 127.0.0.1 "$P" "$SLIM_ECHO" client
with_paths "c2 -> its own vIP" 0 0 0 0 \
	served own srv 5 "$TB_C2_IP" plain "$TB_C2" "$TB_C2_IP" "$P" "$SLIM_ECHO" client

echo "-- the host namespace h2 -> c2's vIP (how kubelet probes a pod)"
with_paths "h2 -> c2" 0 0 0 1 \
	served host srv 6 "${TB_C2_IP%.*}.1" plain "$TB_H2" "$TB_C2_IP" "$P" "$SLIM_ECHO" client

echo "-- a plain client in c1 -> c3 (same host: the bridge, no VXLAN); c3 waits in epoll"
before=$(counters)
with_paths "plain client c1 -> c3" 0 1 0 0 \
	served plain-same srv3 1 "$TB_C1_IP" plain "$TB_C1" "$TB_C3_IP" "$P3" "$SLIM_ECHO" client
after=$(counters)
vxlan_same "$before" "$after" "c1 -> c3"
pkts_moved "$before" "$after" "$TB_C1:eth0 tx" "$TB_C3:eth0 rx"
before=$(counters)
with_paths "slim client c1 -> c3" 1 0 0 0 \
	served slim-same srv3 2 "$TB_C1_IP" slim "$TB_C1" "$TB_C3_IP" "$P3" "$SLIM_ECHO" client
after=$(counters)
expect_same_counters "$before" "$after" "slim client c1 -> c3"

n=0
for s in srve:"$PE" srvp:"$PP" srvs:"$PS"; do
	name=${s%%:*} port=${s#*:} n=$((n + 1))
	echo "-- $(head -n 1 "$WORK/$name.out") ($name): a plain and a slim client, both served"
	with_paths "plain client -> $name" 0 0 0 1 \
		served "plain-$name" "$name" 1 "$TB_C1_IP" plain "$TB_C1" "$TB_C2_IP" "$port" "$SLIM_ECHO" client
	before=$(counters)
	with_paths "slim client -> $name" 0 0 1 0 \
		served "slim-$name" "$name" 2 "$TB_C1_IP" slim "$TB_C1" "$TB_C2_IP" "$port" "$SLIM_ECHO" client --nonblock
	after=$(counters)
	expect_same_counters "$before" "$after" "slim client to $name"
done

echo "-- 4 threads blocking in accept on one listener: 16 plain and 16 slim clients at once"
cat >"$WORK/threaded.py" <<'PY'
import socket, sys, threading
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("0.0.0.0", int(sys.argv[1])))
l.listen(64)
print("listen %s:%d" % l.getsockname(), flush=True)
lock = threading.Lock()
def serve():
    while True:
        c, peer = l.accept()
        data = b""
        while True:
            d = c.recv(4096)
            if not d:
                break
            data += d
            c.sendall(d)
        c.close()
        with lock:
            print("served %s:%d %s" % (peer[0], peer[1], data.decode()), flush=True)
for _ in range(4):
    threading.Thread(target=serve, daemon=True).start()
threading.Event().wait()
PY
start_echo srvt slim "$TB_C2" python3 "$WORK/threaded.py" "$PT"
# burst: the 32 clients, all served.
burst() {
	local pids=() failed=0 i mode p
	for i in $(seq 1 16); do
		for mode in plain slim; do
			cmd_for "$mode" "$TB_C1"
			timeout 20 "${CMD[@]}" "$SLIM_ECHO" client "$TB_C2_IP" "$PT" "$mode-$i" \
				</dev/null >"$WORK/burst-$mode-$i.out" 2>&1 &
			pids+=($!)
		done
	done
	for p in "${pids[@]}"; do wait "$p" || failed=$((failed + 1)); done
	expect_eq "burst clients that failed" "$failed" 0
	wait_until 5 "32 connections served" count_ge "$WORK/srvt.out" '^served ' 32 ||
		fail "the threaded server served $(grep -c '^served ' "$WORK/srvt.out") of 32"
	for mode in plain slim; do
		expect_eq "$mode clients served" \
			"$(grep -cE "^served ${TB_C1_IP//./\\.}:[0-9]+ $mode-[0-9]+$" "$WORK/srvt.out")" 16
	done
}
with_paths "16 plain and 16 slim clients -> c2" 0 0 16 16 burst

echo "-- refused at once: a port nobody listens on, and a server that has exited"
with_paths "refused c1 -> c2" 0 0 0 0 refused refused-x "$TB_C1" "$TB_C2_IP" "$PX"
refused refused-loop "$TB_C2" 127.0.0.1 "$PX"
with_paths "plain client c1 -> c2, one-connection server" 0 0 0 1 \
	served last srvc 1 "$TB_C1_IP" plain "$TB_C1" "$TB_C2_IP" "$PC" "$SLIM_ECHO" client
wait_bg srvc
expect_eq "srvc exit code after its one connection" "$RC" 0
with_paths "refused by the closed server" 0 0 0 0 \
	refused refused-closed "$TB_C1" "$TB_C2_IP" "$PC"
refused refused-closed-loop "$TB_C2" 127.0.0.1 "$PC"

for s in srv srv3 srve srvp srvs srvc srvt; do no_warning "$s"; done
it_pass
