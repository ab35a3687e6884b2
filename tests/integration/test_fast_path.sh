#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# fast_path: connections take pre-stamped host sockets from the process's
# pool, with no router request per connect. The router's counters
# (slimctl status) show pool sockets handed out and no connect requests for
# a run of slim-setup-bench; with SLIM_FASTPATH=0 every connect asks the
# router. A forked child gets its own pool (never its parent's sockets). A
# program exec'd with an empty environment is still under slim.
. "$(dirname "$0")/common.sh"
it_start fp
[[ -n ${SLIM_SETUP_BENCH:-} && -x $SLIM_SETUP_BENCH ]] || skip "SLIM_SETUP_BENCH not set (run through ctest)"

PORT=5003
bg srv slim "$TB_C2" "$SLIM_SETUP_BENCH" server "$PORT"
wait_line "$WORK/srv.out" '^listening' || fail "setup-bench server did not start: $(oneline "$(cat "$WORK/srv.err")")"

# counter NAME: a counter of router h1 from `slimctl --json status`.
counter() {
	in_ns "$TB_H1" "$SLIMCTL" --socket "$TB_SOCK1" --json status |
		python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"
}

# run_client NAME [ENV...]: one second of slim-setup-bench in c1; sets TX.
run_client() {
	local name=$1
	shift
	fg "$name" slim "$TB_C1" env "$@" "$SLIM_SETUP_BENCH" client "$TB_C2_IP" "$PORT" --seconds 1
	[[ $RC == 0 ]] || fail "$name: exit $RC: $(oneline "$(cat "$WORK/$name.err")")"
	TX=$(sed -n 's/.*transactions=\([0-9]*\) errors=0 .*/\1/p' "$WORK/$name.out")
	[[ -n $TX && $TX -gt 50 ]] || fail "$name: no error-free run: $(oneline "$(cat "$WORK/$name.out")")"
}

echo "-- fast path (default)"
c0=$(counter connect_requests) s0=$(counter pool_sockets)
run_client fast
c1=$(counter connect_requests) s1=$(counter pool_sockets)
expect_eq "connect requests during $TX fast-path connections" $((c1 - c0)) 0
((s1 - s0 >= TX)) || fail "pool sockets handed out: $((s1 - s0)), want >= $TX"
ok "$TX connections, $((s1 - s0)) pool sockets, no connect request"
no_warning fast

echo "-- SLIM_FASTPATH=0"
run_client ipc SLIM_FASTPATH=0
c2=$(counter connect_requests) s2=$(counter pool_sockets)
expect_eq "connect requests during $TX per-connect connections" $((c2 - c1)) "$TX"
expect_eq "pool sockets during the per-connect run" $((s2 - s1)) 0
no_warning ipc

echo "-- fork: parent and child each use their own pool"
# (fg runs programs with stdin from /dev/null: the script goes in a file)
cat >"$WORK/fork.py" <<'PY'
import os, socket, sys
dst, port = sys.argv[1], int(sys.argv[2])
def once():
    s = socket.create_connection((dst, port), timeout=5)
    s.sendall(b"x")
    ok = s.recv(1) == b"x"
    name = s.getsockname()[0]
    s.close()
    return ok and name == os.environ.get("WANT_IP", name)
if not once():
    sys.exit(2)
pid = os.fork()
ok = all(once() for _ in range(20))
if pid == 0:
    os._exit(0 if ok else 3)
_, st = os.waitpid(pid, 0)
print("parent", ok, "child", os.waitstatus_to_exitcode(st))
sys.exit(0 if ok and os.waitstatus_to_exitcode(st) == 0 else 4)
PY
fg fork slim "$TB_C1" python3 "$WORK/fork.py" "$TB_C2_IP" "$PORT"
expect_match "fork test output" "$(cat "$WORK/fork.out")" "^parent True child 0$"
expect_eq "fork test exit code ($(oneline "$(cat "$WORK/fork.out" "$WORK/fork.err")"))" "$RC" 0
no_warning fork

echo "-- exec with an empty environment stays on slim"
# The server is a slim listener: over the container network nothing listens
# on that port, so only a slim connection gets the echo.
cat >"$WORK/exec.py" <<'PY'
import os, sys
child = r"""
import os, socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
s.sendall(b"x")
ok = s.recv(1) == b"x"
print("child env", sorted(k for k in os.environ if k.startswith(("LD_PRELOAD", "SLIM_"))), "echo", ok)
sys.exit(0 if ok else 3)
"""
# Nothing of slim's in the new environment. (ASAN_OPTIONS only stays for
# the sanitizer build, whose libslim needs it in every process.)
env = {k: v for k, v in os.environ.items() if k == "ASAN_OPTIONS"}
os.execve(sys.executable, [sys.executable, "-c", child, sys.argv[1], sys.argv[2]], env)
PY
fg exec slim "$TB_C1" python3 "$WORK/exec.py" "$TB_C2_IP" "$PORT"
expect_eq "exec'd child ($(oneline "$(cat "$WORK/exec.out" "$WORK/exec.err")"))" "$RC" 0
expect_match "exec'd child environment" "$(cat "$WORK/exec.out")" "LD_PRELOAD.*SLIM_SOCKET.*echo True"
no_warning exec
it_pass
