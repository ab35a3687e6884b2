#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# mixed_client: a slim client (c1, under slim-run) reaches plain servers (not
# under slim) as the plain container network would: c2 on the other host,
# c3 on the same host. The destination host translates the connection into
# the container network (tc programs): the client's data leaves as a host
# connection to the reserved port, never over VXLAN (also with vxlan0 down),
# both ends see the addresses the plain network shows, bulk data, half-close
# and reset behave as over the plain network, a port nothing listens on is
# refused at once, and a server that moves between plain and slim on one
# port is reached by the next connect, wherever it listens. A translated
# connection outlives a restart of the destination host's router.
. "$(dirname "$0")/common.sh"
it_start mc

P=5301	# plain echo servers (slim-echo), c2 and c3
B=5302	# mixed_peer.py servers (plain), c2 and c3
Q=5303	# nobody listens
M=5304	# a server moving between plain and slim, c2
H=5305	# a held connection across a router restart, c2
PEER=(python3 "$IT_DIR/mixed_peer.py")

start_echo e2 plain "$TB_C2" "$SLIM_ECHO" server "$P"
start_echo e3 plain "$TB_C3" "$SLIM_ECHO" server "$P"
start_echo b2 plain "$TB_C2" "${PEER[@]}" server "$B"
start_echo b3 plain "$TB_C3" "${PEER[@]}" server "$B"

# exchange N SRV_NAME SRV_NS DST SRV_HOSTNS SRV_UL [client options]: one echo
# from a slim client in c1 to the plain slim-echo server SRV_NAME at DST:P,
# held open while the host sockets are looked at.
exchange() {
	local n=$1 srv=$2 sns=$3 dst=$4 shns=$5 sul=$6 before after local_addr lport conn
	shift 6
	before=$(fallback_pkts)
	bg "cli$n" slim "$TB_C1" "$SLIM_ECHO" client --hold 1500 "$@" "$dst" "$P" "mixed-$n"
	if ! wait_line "$WORK/cli$n.out" '^echo ' 10; then
		wait_bg "cli$n"
		fail "client $n got no echo from plain $dst:$P (exit $RC): $(cat "$WORK/cli$n.err")"
	fi
	local_addr=$(field "$WORK/cli$n.out" local)
	expect_match "client $n getsockname" "$local_addr" "^${TB_C1_IP//./\\.}:[0-9]+$"
	lport=${local_addr##*:}
	expect_eq "client $n getpeername" "$(field "$WORK/cli$n.out" peer)" "$dst:$P"
	conn=$(estab "$TB_H1" "^${TB_H1_IP//./\\.}:$lport\$" "^${sul//./\\.}:$TB_PORT\$")
	[[ -n $conn ]] || fail "client $n: no ESTABLISHED $TB_H1_IP:$lport -> $sul:$TB_PORT in h1;" \
		"ss -tn there: $(in_ns "$TB_H1" ss -Htn | tr '\n' ';')"
	ok "client $n: a host connection to the reserved port carries it: $(oneline "$conn")"
	conn=$(estab "$shns" "^${sul//./\\.}:$TB_PORT\$" ".*:$lport\$")
	[[ -z $conn ]] || fail "client $n: the server host holds the connection itself: $conn"
	ok "client $n: no socket of the server host on $TB_PORT for it (translated into $sns)"
	conn=$(estab "$sns" "^${dst//./\\.}:$P\$" "^${TB_C1_IP//./\\.}:$lport\$")
	[[ -n $conn ]] || fail "client $n: no ESTABLISHED $dst:$P <- $TB_C1_IP:$lport in $sns"
	ok "client $n: the plain server's connection: $(oneline "$conn")"
	conn=$(in_ns "$TB_C1" ss -Htn)
	[[ -z $conn ]] || fail "client $n: the client container has TCP sockets of its own: $conn"
	ok "client $n: no TCP socket in the client's container namespace"
	wait_bg "cli$n"
	expect_eq "client $n exit code" "$RC" 0
	expect_eq "client $n echo" "$(sed -n 's/^echo //p' "$WORK/cli$n.out")" "mixed-$n"
	wait_until 5 "server $srv to finish" grep -q "^got mixed-$n" "$WORK/$srv.out" ||
		fail "server $srv did not get client $n's message"
	expect_eq "plain server's accept() address, client $n" \
		"$(grep -B4 "^got mixed-$n" "$WORK/$srv.out" | sed -n 's/^accept //p')" "$TB_C1_IP:$lport"
	expect_eq "plain server's getpeername, client $n" \
		"$(grep -B4 "^got mixed-$n" "$WORK/$srv.out" | sed -n 's/^peer //p')" "$TB_C1_IP:$lport"
	after=$(fallback_pkts)
	expect_no_fallback "$before" "$after" "client $n"
}

n0=$(path_count "$TB_H2" slim-to-plain)
echo "-- cross host: c1 (slim) -> c2 (plain)"
exchange 1 e2 "$TB_C2" "$TB_C2_IP" "$TB_H2" "$TB_H2_IP"
exchange 2 e2 "$TB_C2" "$TB_C2_IP" "$TB_H2" "$TB_H2_IP" --nonblock
grep -qx 'connect EINPROGRESS' "$WORK/cli2.out" ||
	fail "non-blocking connect did not return EINPROGRESS: $(cat "$WORK/cli2.out")"
ok "non-blocking connect returned EINPROGRESS"
echo "-- same host: c1 (slim) -> c3 (plain)"
exchange 3 e3 "$TB_C3" "$TB_C3_IP" "$TB_H1" "$TB_H1_IP"
exchange 4 e3 "$TB_C3" "$TB_C3_IP" "$TB_H1" "$TB_H1_IP" --nonblock
n1=$(path_count "$TB_H2" slim-to-plain)
((n1 >= n0 + 2)) || fail "h2's slim-to-plain count went from $n0 to $n1, want at least 2 more"
ok "slimctl status of h2: slim-to-plain $n0 -> $n1"
expect_match "slimctl status of h1: slim-to-plain" "$(path_count "$TB_H1" slim-to-plain)" '^[1-9][0-9]*$'
# The plain servers' SYN-ACKs of translated connections are no plain
# client of a slim listener.
expect_eq "slimctl status of h1: plain-to-slim" "$(path_count "$TB_H1" plain-to-slim)" 0
expect_eq "slimctl status of h2: plain-to-slim" "$(path_count "$TB_H2" plain-to-slim)" 0

echo "-- bulk data, half-close and reset: a slim client against the plain network's own client"
# behave NAME DST WHAT...: the same exchange from a plain client and from a
# slim one in c1; their outputs must be the same.
behave() {
	local name=$1 dst=$2
	shift 2
	fg "$name-plain" plain "$TB_C1" "${PEER[@]}" client "$dst" "$B" "$@"
	expect_eq "$name over the plain network: exit code" "$RC" 0
	fg "$name-slim" slim "$TB_C1" "${PEER[@]}" client "$dst" "$B" "$@"
	expect_eq "$name from a slim client: exit code" "$RC" 0
	[[ -s $WORK/$name-plain.out ]] || fail "$name: no output over the plain network"
	expect_eq "$name: a slim client sees what a plain one sees" \
		"$(oneline "$(cat "$WORK/$name-slim.out")")" "$(oneline "$(cat "$WORK/$name-plain.out")")"
}
for dst in "$TB_C2_IP" "$TB_C3_IP"; do
	behave "bulk-$dst" "$dst" bulk 4000000
	grep -q 'received 4000000 intact' "$WORK/bulk-$dst-slim.out" ||
		fail "bulk to $dst: $(cat "$WORK/bulk-$dst-slim.out")"
	behave "halfclose-$dst" "$dst" halfclose
	grep -q 'reply after-eof [1-9]' "$WORK/halfclose-$dst-slim.out" ||
		fail "half-close to $dst: $(cat "$WORK/halfclose-$dst-slim.out")"
	behave "reset-$dst" "$dst" reset
	grep -q 'recv failed Connection reset by peer' "$WORK/reset-$dst-slim.out" ||
		fail "reset from $dst: $(cat "$WORK/reset-$dst-slim.out")"
done

echo "-- nothing listens: refused at once"
refused() { # NAME DST [client options]
	local name=$1 dst=$2
	shift 2
	fg "$name" slim "$TB_C1" "$SLIM_ECHO" client --timeout 5 "$@" "$dst" "$Q" "nobody"
	expect_eq "$name: exit code (2 = ECONNREFUSED)" "$RC" 2
	grep -q 'Connection refused' "$WORK/$name.err" ||
		fail "$name: no 'Connection refused' in: $(cat "$WORK/$name.err")"
	((MS < 1000)) || fail "$name: took ${MS} ms, want < 1000 ms"
	ok "$name: refused in ${MS} ms"
}
refused r1 "$TB_C2_IP"
refused r2 "$TB_C2_IP" --nonblock
refused r3 "$TB_C3_IP"
refused r4 "$TB_C3_IP" --nonblock

echo "-- a server that moves between plain and slim on $TB_C2_IP:$M"
# moving N MODE: a server of MODE on M serves the next slim connect from c1.
moving() {
	local n=$1 mode=$2 acc0 acc1 s2p0 s2p1
	acc0=$(path_count "$TB_H2" accelerated)
	s2p0=$(path_count "$TB_H2" slim-to-plain)
	start_echo "mv$n" "$mode" "$TB_C2" "$SLIM_ECHO" server --count 1 "$M"
	fg "mvc$n" slim "$TB_C1" "$SLIM_ECHO" client --timeout 5 "$TB_C2_IP" "$M" "moving-$n"
	expect_eq "connect $n to the $mode server: exit code" "$RC" 0
	wait_bg "mv$n"
	expect_eq "the $mode server served connect $n" "$(field "$WORK/mv$n.out" got)" "moving-$n"
	expect_eq "the $mode server saw the client as" "$(field "$WORK/mv$n.out" peer)" \
		"$(field "$WORK/mvc$n.out" local)"
	acc1=$(path_count "$TB_H2" accelerated)
	s2p1=$(path_count "$TB_H2" slim-to-plain)
	if [[ $mode == slim ]]; then
		((acc1 == acc0 + 1 && s2p1 == s2p0)) ||
			fail "slim server: accelerated $acc0 -> $acc1, slim-to-plain $s2p0 -> $s2p1"
	else
		((acc1 == acc0 && s2p1 == s2p0 + 1)) ||
			fail "plain server: accelerated $acc0 -> $acc1, slim-to-plain $s2p0 -> $s2p1"
	fi
	ok "connect $n went the $mode way (accelerated $acc0 -> $acc1, slim-to-plain $s2p0 -> $s2p1)"
}
moving 1 plain
moving 2 slim
moving 3 plain
moving 4 slim

echo "-- router h2 (no slim listener) stops and starts again: a held translated connection goes on"
# hold_step N WHAT: one more echo over the held connection.
hold_step() {
	touch "$WORK/hold/$1"
	wait_line "$WORK/hold.out" "^(echo hold-$1|failed)" 10 ||
		fail "held connection, $2: no echo: $(cat "$WORK/hold.out" "$WORK/hold.err")"
	grep -q "^echo hold-$1\$" "$WORK/hold.out" ||
		fail "held connection broke $2: $(grep failed "$WORK/hold.out")"
	ok "held connection: echo $1 $2"
}
start_echo hs plain "$TB_C2" python3 "$IT_DIR/conn_tool.py" server "$H"
mkdir "$WORK/hold"
bg hold slim "$TB_C1" python3 "$IT_DIR/conn_tool.py" hold "$TB_C2_IP" "$H" "$WORK/hold"
wait_line "$WORK/hold.out" '^echo hold-0' 10 || fail "held connection: $(cat "$WORK/hold.err")"
"$SLIM_TESTBED/slim-env.sh" stop-one "$TB_PREFIX" 2 >/dev/null
grep -q 'keeping maps pinned in .*: 0 listeners still open, 1 translated connection$' \
	"$TB_STATE_DIR/router-h2.log" ||
	fail "router h2 did not keep its pins for the held connection: $(tail -n 3 "$TB_STATE_DIR/router-h2.log")"
ok "router h2 stopped, keeping its pins for the one translated connection still open"
hold_step 1 "while router h2 is stopped"
"$SLIM_TESTBED/slim-env.sh" start-one "$TB_PREFIX" 2 >/dev/null
hold_step 2 "after router h2 started again"
exchange 6 e2 "$TB_C2" "$TB_C2_IP" "$TB_H2" "$TB_H2_IP"
touch "$WORK/hold/end"
wait_bg hold
expect_eq "held connection's client exit code" "$RC" 0

echo "-- with vxlan0 down in both hosts"
ip -n "$TB_H1" link set vxlan0 down
ip -n "$TB_H2" link set vxlan0 down
exchange 7 e2 "$TB_C2" "$TB_C2_IP" "$TB_H2" "$TB_H2_IP"
it_pass
