#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# no_uring: libslim where io_uring is refused, as container seccomp
# profiles refuse it: the client runs under tests/libslim's no_uring
# wrapper (io_uring_setup, _enter, _register fail with EPERM). Its
# connections still take pool sockets, with no router request per connect
# and no packet on the container network; the pool keeps its sockets in the
# client's fd table then (the fallback), so a burst of connections changes
# the client's fd count, where the same client without the wrapper keeps
# them in its io_uring and its fd count does not move. With SLIM_URING=1
# libslim tries io_uring anyway, gets EPERM and falls back the same way.
. "$(dirname "$0")/common.sh"
it_start nu
[[ -n ${SLIM_SETUP_BENCH:-} && -x $SLIM_SETUP_BENCH ]] || skip "SLIM_SETUP_BENCH not set (run through ctest)"
[[ -n ${SLIM_NO_URING:-} && -x $SLIM_NO_URING ]] || skip "SLIM_NO_URING not set (run through ctest)"

PORT=5004
bg srv slim "$TB_C2" "$SLIM_SETUP_BENCH" server "$PORT"
wait_line "$WORK/srv.out" '^listening' || fail "setup-bench server did not start: $(oneline "$(cat "$WORK/srv.err")")"

# counter NAME: a counter of router h1 from `slimctl --json status`.
counter() {
	in_ns "$TB_H1" "$SLIMCTL" --socket "$TB_SOCK1" --json status |
		python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"
}

# 50 connections (1 byte each way, as slim-setup-bench's server wants);
# prints the change of the process's fd count after them, whether it holds
# an io_uring, and the largest change between two connections. (fg runs
# programs with stdin from /dev/null: a file.)
cat >"$WORK/burst.py" <<'PY'
import os, socket, sys
dst, port = sys.argv[1], int(sys.argv[2])
def links():
    out = []
    for f in os.listdir("/proc/self/fd"):
        try:
            out.append(os.readlink("/proc/self/fd/" + f))
        except OSError:
            pass  # the listing's own fd, gone by now
    return out
before = len(links())
most = 0
for _ in range(50):
    s = socket.create_connection((dst, port), timeout=5)
    s.sendall(b"x")
    if s.recv(1) != b"x":
        sys.exit(3)
    s.close()
    most = max(most, abs(len(links()) - before))
after = links()
print("fd-change", len(after) - before, "io_uring", "anon_inode:[io_uring]" in after,
      "most", most)
PY

# burst NAME [ENV...] [--wrap]: the burst in c1 under slim-run (through
# no_uring with --wrap); checks the host path (router counters: pool
# sockets, no connect request; no packet on VXLAN or the containers'
# eth0); sets CHANGE, RING and MOST.
burst() {
	local name=$1 wrap=() before after c0 s0 c1 s1 out
	shift
	if [[ ${1:-} == --wrap ]]; then
		wrap=("$SLIM_NO_URING")
		shift
	fi
	before=$(counters)
	c0=$(counter connect_requests) s0=$(counter pool_sockets)
	fg "$name" slim "$TB_C1" env "$@" "${wrap[@]}" python3 "$WORK/burst.py" "$TB_C2_IP" "$PORT"
	[[ $RC == 0 ]] || fail "$name: exit $RC: $(oneline "$(cat "$WORK/$name.out" "$WORK/$name.err")")"
	after=$(counters)
	c1=$(counter connect_requests) s1=$(counter pool_sockets)
	expect_eq "$name: connect requests during 50 connections" $((c1 - c0)) 0
	((s1 - s0 >= 50)) || fail "$name: pool sockets handed out: $((s1 - s0)), want >= 50"
	ok "$name: $((s1 - s0)) pool sockets for 50 connections"
	expect_same_counters "$before" "$after" "$name"
	no_warning "$name"
	out=$(cat "$WORK/$name.out")
	CHANGE=$(awk '$1 == "fd-change" { print $2 }' <<<"$out")
	RING=$(awk '$1 == "fd-change" { print $4 }' <<<"$out")
	MOST=$(awk '$1 == "fd-change" { print $6 }' <<<"$out")
	[[ -n $CHANGE && -n $RING && -n $MOST ]] || fail "$name: no result line: $(oneline "$out")"
}

echo "-- io_uring available: pool sockets outside the fd table"
burst stash
expect_eq "stash: holds an io_uring" "$RING" True
expect_eq "stash: fd count change after 50 connections" "$CHANGE" 0
expect_eq "stash: largest fd count change between connections" "$MOST" 0

echo "-- io_uring refused by seccomp: pool sockets in the fd table"
burst seccomp --wrap
expect_eq "seccomp: holds an io_uring" "$RING" False
((MOST > 0 && MOST <= 64 && CHANGE >= 0 && CHANGE <= 64)) ||
	fail "seccomp: fd count change $CHANGE (at most $MOST), want the pool's 1..64"
ok "seccomp: fd count change $CHANGE, at most $MOST (the pool's sockets, as documented)"

echo "-- io_uring tried anyway (SLIM_URING=1): EPERM, the same fallback"
burst eperm --wrap SLIM_URING=1
expect_eq "eperm: holds an io_uring" "$RING" False
((MOST > 0 && MOST <= 64 && CHANGE >= 0 && CHANGE <= 64)) ||
	fail "eperm: fd count change $CHANGE (at most $MOST), want the pool's 1..64"
ok "eperm: fd count change $CHANGE, at most $MOST"

echo "-- slim-setup-bench under the wrapper"
c0=$(counter connect_requests)
fg bench slim "$TB_C1" "$SLIM_NO_URING" "$SLIM_SETUP_BENCH" client "$TB_C2_IP" "$PORT" --seconds 1
[[ $RC == 0 ]] || fail "bench: exit $RC: $(oneline "$(cat "$WORK/bench.err")")"
TX=$(sed -n 's/.*transactions=\([0-9]*\) errors=0 .*/\1/p' "$WORK/bench.out")
[[ -n $TX && $TX -gt 50 ]] || fail "bench: no error-free run: $(oneline "$(cat "$WORK/bench.out")")"
expect_eq "bench: connect requests during $TX connections" $(($(counter connect_requests) - c0)) 0
no_warning bench
it_pass
