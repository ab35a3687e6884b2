#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# accept_calls: a merged listener's blocking accept, as the app sees it
# (docs/architecture.md, "Mixed peers"). libslim keeps the listener's
# SO_RCVTIMEO in its fd-table record rather than reading it on every
# accept, so: a timeout set after the first accept bounds the next one
# (EAGAIN after it), turning it off makes accept wait again, a timeout set
# through a dup of the listener holds on the original fd and on the dup,
# and one set before an exec holds in the new program (which still takes
# plain clients through the container side). And threads blocking in
# accept on one listener take connections that arrive two at a time, both
# at once (none left waiting for a later connection), without waking the
# other threads for nothing. Python servers (accept_calls.py) under slim-run
# in c2; clients in c1, plain (the container side) and slim (the host
# socket).
. "$(dirname "$0")/common.sh"
it_start ac

PT=5511      # the SO_RCVTIMEO steps
PP=5512      # pairs
THREADS=4
ROUNDS=8     # pairs of connections, plain and slim in turn
# Other threads woken, over all pairs: a herd wakes both of the 2 others in
# every pair (16); the wait set as a rule none, now and then one or two
# (its hand-off fires while the pair's other thread has not yet taken its
# connection: the one woken finds the queue empty and sleeps again; 0-3 in
# all, measured).
MAX_WOKEN_TOTAL=$ROUNDS

# client N slim|plain: one echo exchange with the timeo server.
client() {
	fg "client-$1" "$2" "$TB_C1" "$SLIM_ECHO" client "$TB_C2_IP" "$PT" "round-$1"
	expect_eq "$2 client $1: exit code" "$RC" 0
	expect_eq "$2 client $1: echo" "$(sed -n 's/^echo //p' "$WORK/client-$1.out")" "round-$1"
}

# timed STEP MIN MAX: the server reported "timeout STEP MS" with MIN <= MS <= MAX.
timed() {
	local ms
	wait_line "$WORK/timeo.out" "^(timeout $1 |error )" 5 ||
		fail "accept with SO_RCVTIMEO ($1) did not return within 5 s"
	grep -q '^error ' "$WORK/timeo.out" && fail "timeo server: $(grep '^error ' "$WORK/timeo.out")"
	ms=$(sed -n "s/^timeout $1 //p" "$WORK/timeo.out")
	((ms >= $2 && ms <= $3)) || fail "accept with SO_RCVTIMEO ($1) gave EAGAIN after $ms ms, not $2..$3"
	ok "accept with SO_RCVTIMEO ($1): EAGAIN after $ms ms"
}

start_echo timeo slim "$TB_C2" python3 "$IT_DIR/accept_calls.py" timeo "$PT"
client 1 plain
wait_line "$WORK/timeo.out" '^accepted 1$' 5 || fail "the first blocking accept did not take client 1"
ok "blocking accept without a timeout took client 1"
timed fd 250 2000
wait_line "$WORK/timeo.out" '^blocking$' 5 || fail "the server did not turn SO_RCVTIMEO off"
sleep 1 # longer than the timeout that was on: accept must still be waiting
grep -q '^error ' "$WORK/timeo.out" && fail "SO_RCVTIMEO off, accept failed: $(grep '^error ' "$WORK/timeo.out")"
client 2 slim
wait_line "$WORK/timeo.out" '^accepted 2$' 5 || fail "accept with SO_RCVTIMEO off did not take client 2"
ok "SO_RCVTIMEO off again: accept waited 1 s and took client 2"
timed dup 350 2000
timed copy 350 2000
timed exec 350 2000
client 3 plain
wait_line "$WORK/timeo.out" '^accepted 3$' 5 || fail "after exec, accept did not take plain client 3"
ok "after exec: the merged listener took plain client 3"
wait_bg timeo
expect_eq "timeo server: exit code" "$RC" 0
no_warning timeo

start_echo pairs slim "$TB_C2" python3 "$IT_DIR/accept_calls.py" pairs "$PP" "$THREADS"
total=0
for ((i = 1; i <= ROUNDS; i++)); do
	if ((i % 2)); then mode=plain; else mode=slim; fi
	wait_line "$WORK/pairs.out" "^ready $i\$" 15 || fail "the threads did not all block in accept (round $i)"
	fg "pair-$i" "$mode" "$TB_C1" python3 "$IT_DIR/accept_calls.py" pair "$TB_C2_IP" "$PP"
	wait_line "$WORK/pairs.out" "^(pair|lost) $i( |\$)" 10 || fail "the server did not report pair $i"
	grep -q "^lost $i\$" "$WORK/pairs.out" &&
		fail "$mode pair $i: the second connection was left waiting (5 s) while threads blocked in accept"
	expect_match "$mode pair $i: both echoed" "$(cat "$WORK/pair-$i.out")" '^ok [0-9]+$'
	line=$(grep "^pair $i " "$WORK/pairs.out")
	woken=${line##* }
	ok "$mode pair $i: both taken ($line)"
	total=$((total + woken))
done
((total <= MAX_WOKEN_TOTAL)) ||
	fail "$ROUNDS pairs woke $total of the $((THREADS - 2)) other threads blocking in accept each (at most $MAX_WOKEN_TOTAL in all)"
ok "$ROUNDS pairs woke $total other threads (at most $MAX_WOKEN_TOTAL)"
no_warning pairs
it_pass
