#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# refused: a virtual destination with no slim listener on that port must fail
# fast with ECONNREFUSED, never hang and never be handed to another
# container's listener on the same host and port number. The destination
# host hands such a SYN to the container itself (the slim-to-plain
# translation), whose kernel answers with a RST, as over the plain network:
# the SYN still travels as a host connection to the reserved port, never over
# VXLAN, and only the destination container's own interface carries it.
. "$(dirname "$0")/common.sh"
it_start rf

P=5999
# c3 (on h1) listens on P; nobody else does. c2 listens on another port, so
# h2's reuseport group holds more than the router's anchor.
start_echo l3 slim "$TB_C3" "$SLIM_ECHO" server "$P"
start_echo l2 slim "$TB_C2" "$SLIM_ECHO" server $((P + 1))

check_refused() { # NAME NETNS DST [client options]
	local name=$1 ns=$2 dst=$3
	shift 3
	fg "$name" slim "$ns" "$SLIM_ECHO" client --timeout 5 "$@" "$dst" "$P" "nobody-home"
	expect_eq "$name: exit code (2 = ECONNREFUSED)" "$RC" 2
	grep -q 'Connection refused' "$WORK/$name.err" ||
		fail "$name: no 'Connection refused' in: $(cat "$WORK/$name.err")"
	ok "$name: $(cat "$WORK/$name.err")"
	((MS < 2000)) || fail "$name: took ${MS} ms, want < 2000 ms (fail fast)"
	ok "$name: failed in ${MS} ms"
}

# pkts NETNS:DEV: "rx=N tx=N" of that line of counters.
pkts() { counters | sed -n "s/^$1 //p"; }
# moved BEFORE AFTER: "rx+A tx+B" between two "rx=N tx=N".
moved() {
	local rb tb ra ta
	read -r rb tb <<<"${1//[a-z=]/}"
	read -r ra ta <<<"${2//[a-z=]/}"
	echo "rx+$((ra - rb)) tx+$((ta - tb))"
}
# refused_pair CLIENT_NS CLIENT_DEV SERVER_DEV DST: the two refused connects
# (blocking, non-blocking) from CLIENT_NS to DST:P. Otherwise a plain connect
# over VXLAN would have been refused just as well: vxlan0 and the client's
# own eth0 must not move; the destination container's eth0 carries each SYN
# in and its RST out (the container's own kernel refused).
refused_pair() {
	local cns=$1 cdev=$2 sdev=$3 dst=$4 name=$5 vx cl sv
	vx=$(counters | grep vxlan0)
	cl=$(pkts "$cdev")
	sv=$(pkts "$sdev")
	check_refused "${name}a" "$cns" "$dst"
	check_refused "${name}b" "$cns" "$dst" --nonblock
	sleep 0.5
	expect_eq "vxlan0 counters (h1, h2) after refused connects to $dst" \
		"$(oneline "$(counters | grep vxlan0)")" "$(oneline "$vx")"
	expect_eq "the client's own interface $cdev" "$(pkts "$cdev")" "$cl"
	expect_eq "the refusing container's interface $sdev" "$(moved "$sv" "$(pkts "$sdev")")" \
		"rx+2 tx+2"
}
echo "-- c1 -> $TB_C2_IP:$P (nobody listens on $P in c2; c3 does on h1)"
refused_pair "$TB_C1" "$TB_C1:eth0" "$TB_C2:eth0" "$TB_C2_IP" r1
echo "-- c2 -> $TB_C1_IP:$P (nobody listens in c1; c3 on the same host h1 does)"
refused_pair "$TB_C2" "$TB_C2:eth0" "$TB_C1:eth0" "$TB_C1_IP" r3
expect_eq "accepts by the c3 listener on port $P" "$(grep -c '^accept' "$WORK/l3.out" || true)" 0
expect_eq "accepts by the c2 listener on port $((P + 1))" "$(grep -c '^accept' "$WORK/l2.out" || true)" 0

echo "-- positive control: the same listeners do accept what is theirs"
fg good slim "$TB_C2" "$SLIM_ECHO" client "$TB_C3_IP" "$P" "for-c3"
expect_eq "c2 -> c3:$P exit code" "$RC" 0
wait_line "$WORK/l3.out" '^closed' 5 || fail "c3 listener did not serve the control connection"
expect_eq "c3 listener accepts after the control" "$(grep -c '^accept' "$WORK/l3.out")" 1
expect_eq "c3 listener received" "$(field "$WORK/l3.out" got)" "for-c3"
it_pass
