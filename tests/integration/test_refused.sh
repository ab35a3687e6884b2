#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# refused: a virtual destination with no slim listener on that port must fail
# fast with ECONNREFUSED (the sk_reuseport program drops the SYN -> RST),
# never hang and never be handed to another container's listener on the same
# host and port number.
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

before=$(counters)
echo "-- c1 -> $TB_C2_IP:$P (nobody listens on $P in c2; c3 does on h1)"
check_refused r1 "$TB_C1" "$TB_C2_IP"
check_refused r2 "$TB_C1" "$TB_C2_IP" --nonblock
echo "-- c2 -> $TB_C1_IP:$P (nobody listens in c1; c3 on the same host h1 does)"
check_refused r3 "$TB_C2" "$TB_C1_IP"
check_refused r4 "$TB_C2" "$TB_C1_IP" --nonblock
sleep 0.5
after=$(counters)
# Otherwise a plain connect over VXLAN would have been refused just as well.
expect_same_counters "$before" "$after" "refused connects went through slim"
expect_eq "accepts by the c3 listener on port $P" "$(grep -c '^accept' "$WORK/l3.out" || true)" 0
expect_eq "accepts by the c2 listener on port $((P + 1))" "$(grep -c '^accept' "$WORK/l2.out" || true)" 0

echo "-- positive control: the same listeners do accept what is theirs"
fg good slim "$TB_C2" "$SLIM_ECHO" client "$TB_C3_IP" "$P" "for-c3"
expect_eq "c2 -> c3:$P exit code" "$RC" 0
wait_line "$WORK/l3.out" '^closed' 5 || fail "c3 listener did not serve the control connection"
expect_eq "c3 listener accepts after the control" "$(grep -c '^accept' "$WORK/l3.out")" 1
expect_eq "c3 listener received" "$(field "$WORK/l3.out" got)" "for-c3"
it_pass
