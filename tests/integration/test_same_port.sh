#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# same_port: c1 and c3 (both on h1) listen on the same virtual port 80 under
# slim-run; clients in c2 reach each virtual IP and get only that server. A
# second listener on the same virtual ip:port is refused with EADDRINUSE.
. "$(dirname "$0")/common.sh"
it_start sp

P=80
start_echo s1 slim "$TB_C1" "$SLIM_ECHO" server "$P"
start_echo s3 slim "$TB_C3" "$SLIM_ECHO" server "$P"

before=$(counters)
for i in 1 2 3; do
	fg "to1-$i" slim "$TB_C2" "$SLIM_ECHO" client "$TB_C1_IP" "$P" "for-c1-$i"
	expect_eq "c2 -> $TB_C1_IP:$P #$i exit code" "$RC" 0
	expect_eq "c2 -> $TB_C1_IP:$P #$i echo" "$(sed -n 's/^echo //p' "$WORK/to1-$i.out")" "for-c1-$i"
	fg "to3-$i" slim "$TB_C2" "$SLIM_ECHO" client "$TB_C3_IP" "$P" "for-c3-$i"
	expect_eq "c2 -> $TB_C3_IP:$P #$i exit code" "$RC" 0
	expect_eq "c2 -> $TB_C3_IP:$P #$i echo" "$(sed -n 's/^echo //p' "$WORK/to3-$i.out")" "for-c3-$i"
done
after=$(counters)
expect_same_counters "$before" "$after" "six connections through slim"
wait_until 5 "c1's server to finish 3 connections" count_ge "$WORK/s1.out" '^closed' 3 ||
	fail "c1's server did not serve 3 connections"
wait_until 5 "c3's server to finish 3 connections" count_ge "$WORK/s3.out" '^closed' 3 ||
	fail "c3's server did not serve 3 connections"
expect_eq "what c1's server got" "$(sed -n 's/^got //p' "$WORK/s1.out" | tr '\n' ' ')" \
	"for-c1-1 for-c1-2 for-c1-3 "
expect_eq "what c3's server got" "$(sed -n 's/^got //p' "$WORK/s3.out" | tr '\n' ' ')" \
	"for-c3-1 for-c3-2 for-c3-3 "
expect_eq "c1's server getsockname" "$(field "$WORK/s1.out" local)" "$TB_C1_IP:$P"
expect_eq "c3's server getsockname" "$(field "$WORK/s3.out" local)" "$TB_C3_IP:$P"
expect_match "c1's server peer" "$(field "$WORK/s1.out" peer)" "^${TB_C2_IP//./\\.}:[0-9]+$"
expect_match "c3's server peer" "$(field "$WORK/s3.out" peer)" "^${TB_C2_IP//./\\.}:[0-9]+$"

echo "-- a second listener on $TB_C1_IP:$P"
fg dup slim "$TB_C1" "$SLIM_ECHO" server --count 1 "$P"
expect_eq "second listener exit code" "$RC" 1
grep -q 'Address already in use' "$WORK/dup.err" ||
	fail "second listener on the same virtual ip:port: want EADDRINUSE, got: $(cat "$WORK/dup.err" "$WORK/dup.out")"
ok "second listener refused: $(cat "$WORK/dup.err")"
fg after slim "$TB_C2" "$SLIM_ECHO" client "$TB_C1_IP" "$P" "still-c1"
expect_eq "c2 -> c1:$P after the refused duplicate" "$RC" 0
it_pass
