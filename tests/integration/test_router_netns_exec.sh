#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# router_netns_exec: a router started the usual way to run a command in a
# network namespace, `ip netns exec HOST slim-router ...`, works. ip netns
# exec gives the command a mount namespace of its own with /sys remounted,
# which hides cgroup2 and the bpffs; the router then joins the mount
# namespace it was started from (keeping HOST's network namespace), says so
# in its log, takes its cgroup and pins as usual, and carries a cross-host
# connection. A router that cannot join (no CAP_SYS_ADMIN) exits with one
# line saying how to start it instead.
. "$(dirname "$0")/common.sh"
command -v setpriv >/dev/null || skip "needs setpriv (util-linux)"
it_start ne

PORT=5003
LOG1=$TB_STATE_DIR/router-h1.log
start_echo srv slim "$TB_C2" "$SLIM_ECHO" server --count 1 "$PORT"

echo "-- stop router h1, start it again with ip netns exec"
"$SLIM_TESTBED/slim-env.sh" stop-one "$TB_PREFIX" 1 || fail "slim-env.sh stop-one 1 failed"
ROUTER_ARGS=(--cluster "$TB_CLUSTER" --host h1 --socket "$TB_SOCK1" --cgroup "$TB_CG1"
	--pin-dir "$TB_PIN1" --state "$TB_STATE_DIR/router-h1.containers")
# ip netns exec execs the command, so $! is the router. Recorded where
# slim-env.sh keeps it, so that testbed.sh down stops it like its own.
ip netns exec "$TB_H1" "$SLIM_ROUTER" "${ROUTER_ARGS[@]}" </dev/null >>"$LOG1" 2>&1 &
R1=$!
PIDS+=("$R1")
echo "$R1" >"$TB_STATE_DIR/router-h1.pid"
answers() { pid_alive "$R1" && in_ns "$TB_H1" "$SLIMCTL" --socket "$TB_SOCK1" status; }
wait_until 10 "router h1 (ip netns exec) to answer" answers ||
	fail "router h1 started with ip netns exec does not answer: $(tail -n 3 "$LOG1" | tr '\n' ' ')"
ok "router h1 started with ip netns exec answers slimctl status (pid $R1)"
grep -q 'started in a mount namespace without cgroup2 (ip netns exec?): joined the mount namespace of pid' \
	"$LOG1" || fail "router h1 did not log joining its starter's mount namespace"
ok "router h1: $(grep -m1 'started in a mount namespace' "$LOG1" | sed 's/^[^:]*: //')"
expect_eq "router h1 mount namespace (the test's own)" "$(readlink "/proc/$R1/ns/mnt")" \
	"$(readlink /proc/self/ns/mnt)"
expect_eq "router h1 network namespace inode (that of $TB_H1)" \
	"$(stat -L -c %i "/proc/$R1/ns/net")" "$(stat -L -c %i "/run/netns/$TB_H1")"
grep -qx "$R1" "$TB_CG1/cgroup.procs" || fail "router h1 is not in its cgroup $TB_CG1"
ok "router h1 is in its cgroup $TB_CG1"
[[ -e $TB_PIN1/link-connect4 ]] || fail "no pinned link in $TB_PIN1"
ok "router h1 pinned its links in $TB_PIN1"

echo "-- a cross-host connection from c1 through it"
check_exchange 1 "$TB_C1" "$TB_C1_IP" "$TB_H1" "$TB_H1_IP" "$TB_H2" "$TB_H2_IP" \
	"$TB_C2_IP" "$PORT" via-ip-netns-exec
no_warning cli1

echo "-- without CAP_SYS_ADMIN it cannot join: one line that says how to start it"
RC=0
timeout 10 ip netns exec "$TB_H1" setpriv --bounding-set -sys_admin --inh-caps -sys_admin -- \
	"$SLIM_ROUTER" --cluster "$TB_CLUSTER" --host h1 --socket "$WORK/nocap.sock" \
	--cgroup "$TB_CG1" --pin-dir "$TB_PIN1" --state "$WORK/nocap.containers" \
	</dev/null >"$WORK/nocap.out" 2>"$WORK/nocap.err" || RC=$?
expect_eq "router without CAP_SYS_ADMIN: exit code" "$RC" 1
expect_eq "router without CAP_SYS_ADMIN: stderr lines" "$(wc -l <"$WORK/nocap.err")" 1
# shellcheck disable=SC2016 # the backquotes are part of the message
expect_match "router without CAP_SYS_ADMIN: message" "$(cat "$WORK/nocap.err")" \
	'^slim-router: no cgroup2 mount in this mount namespace .* start the router with `nsenter --net=/run/netns/NAME slim-router \.\.\.` instead$'
it_pass
