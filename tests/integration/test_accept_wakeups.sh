#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# accept_wakeups: threads blocking in accept on one slim listener are woken
# one per connection, as the kernel wakes one thread blocked in a plain
# accept, whichever queue the connection comes to (the host socket for a
# slim client, the container side for a plain one: docs/architecture.md,
# "Mixed peers"). A python server in c2 under slim-run with 4 threads in
# accept (accept_herd.py) counts, per connection, the other threads whose
# voluntary context switches moved while it was taken: a thread woken for
# a connection another one took sleeps again and is seen only there. A
# level-triggered wait set may wake one more thread when the connection is
# still queued as the first returns; a wait that wakes every thread (3 of
# the 3 others, each time) fails.
. "$(dirname "$0")/common.sh"
it_start aw

PORT=5501
THREADS=4
ROUNDS=6 # connections, plain and slim clients in turn
MAX_WOKEN=0

start_echo herd slim "$TB_C2" python3 "$IT_DIR/accept_herd.py" "$PORT" "$THREADS"
total=0
for ((i = 1; i <= ROUNDS; i++)); do
	if ((i % 2)); then mode=plain; else mode=slim; fi
	wait_line "$WORK/herd.out" "^ready $i\$" 15 || fail "the herd's threads did not all block in accept (round $i)"
	fg "client-$i" "$mode" "$TB_C1" "$SLIM_ECHO" client "$TB_C2_IP" "$PORT" "round-$i"
	expect_eq "$mode client $i: exit code" "$RC" 0
	expect_eq "$mode client $i: echo" "$(sed -n 's/^echo //p' "$WORK/client-$i.out")" "round-$i"
	wait_until 5 "connection $i reported" count_ge "$WORK/herd.out" '^accepted ' "$i" ||
		fail "the herd did not report connection $i"
	line=$(grep '^accepted ' "$WORK/herd.out" | sed -n "${i}p")
	expect_match "$mode client $i: accepted from c1's vIP" "$line" "^accepted ${TB_C1_IP//./\\.}:[0-9]+ woken [0-9]+$"
	woken=${line##* }
	((woken <= MAX_WOKEN)) ||
		fail "$mode client $i woke $woken of the $((THREADS - 1)) other threads blocking in accept (at most $MAX_WOKEN)"
	ok "$mode client $i woke $woken of the $((THREADS - 1)) other threads"
	total=$((total + woken))
done
echo "other threads woken in $ROUNDS connections: $total"
no_warning herd
it_pass
