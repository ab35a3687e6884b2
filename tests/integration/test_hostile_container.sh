#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# hostile_container: a host socket slim hands to an app is no door into the
# host. slim-hostile (hostile.c) runs as root in c1 under slim-run, takes
# host sockets from the pool the normal way and then makes raw system calls
# on them, on a dup, from a forked child and on an accepted socket: binds anywhere but where slim
# puts them, listens outside the overlay, joins or reprograms the reserved
# port's reuseport group, sets options beyond its own connection
# (SO_MARK, IP_TRANSPARENT, SO_BINDTODEVICE to the underlay device, ...),
# connects to a host address. Each must fail with EPERM (the guards of
# bpf/guard.bpf.c and bpf/sock_addr.bpf.c), the options of the allow-list
# must still work, and afterwards nothing new listens in h1's network
# namespace but the one overlay listener the app made through libc.
. "$(dirname "$0")/common.sh"
[[ -n ${SLIM_HOSTILE:-} && -x $SLIM_HOSTILE ]] ||
	skip "SLIM_HOSTILE not set to an executable (run through ctest)"
it_start hx

LP=5401 # the hostile app's one legitimate overlay listener
EP=5402 # a well-behaved echo server, for the control exchange

DEV=$(in_ns "$TB_H1" ip -o route get "$TB_H2_IP" | sed -n 's/.* dev \([^ ]*\).*/\1/p')
[[ -n $DEV ]] || fail "no underlay device in $TB_H1 (ip route get $TB_H2_IP)"
IFX=$(ip -n "$TB_H1" -o link show dev "$DEV" | cut -d: -f1)
ok "h1's underlay device: $DEV (ifindex $IFX), reserved port $TB_PORT"

# The BPF LSM guards (listen, socket ioctls) load only where the kernel loads
# BPF LSM programs; the router says when it cannot. Those attempts are then
# not made (slim-hostile prints them as "gap:"), and the test says so.
if grep -q 'does not load BPF LSM programs' "$TB_STATE_DIR/router-h1.log"; then
	LSM=0
	echo "NOTE: this kernel loads no BPF LSM programs: listen() and socket ioctls on host"
	echo "NOTE: sockets are not refused here; each listen is confined to lo (checked below)"
	echo "NOTE: and the socket ioctls are left out"
else
	LSM=1
fi
ok "BPF LSM guards loaded by the router: $LSM"

# listeners_but_reserved: h1's listening sockets, the reserved port's aside.
# Listeners bound to lo (sockops confines there what listens outside the
# overlay where no BPF LSM guard refuses it) are counted apart.
listeners_but_reserved() {
	in_ns "$TB_H1" ss -Htln | awk -v p=":$TB_PORT" '$4 !~ p"$" && $4 !~ /%lo:/' | sort
}
reserved_listeners() { in_ns "$TB_H1" ss -Htln "sport = :$TB_PORT" | grep -vc '%lo:' || true; }
lo_listeners() { in_ns "$TB_H1" ss -Htln | grep -c '%lo:' || true; }
before=$(listeners_but_reserved)
rbefore=$(reserved_listeners)
lobefore=$(lo_listeners)

bg hostile slim "$TB_C1" "$SLIM_HOSTILE" "$DEV" "$IFX" "$TB_H1_IP" "$TB_PORT" "$LP" "$TB_C1_IP" "$LSM"
wait_line "$WORK/hostile.out" '^ready ' 20 || fail "slim-hostile did not get through its attempts"
grep -E '^(ok|gap): ' "$WORK/hostile.out" | sed 's/^/  /'
if grep -q '^FAIL' "$WORK/hostile.out"; then
	fail "the guards let through: $(grep '^FAIL' "$WORK/hostile.out" | tr '\n' ';')"
fi
n=$(sed -n 's/^ready checks=\([0-9]*\) failed=0$/\1/p' "$WORK/hostile.out")
min=$((LSM ? 85 : 75))
((${n:-0} >= min)) || fail "slim-hostile made ${n:-no} checks, want at least $min: $(tail -n 1 "$WORK/hostile.out")"
ok "slim-hostile: all $n attempts got the expected answer (EPERM for each door)"

# While slim-hostile still holds every socket: h1 has no new listener, and
# none of the ports it tried listens or is bound there in any state.
expect_eq "h1's listeners (the reserved port's aside)" "$(oneline "$(listeners_but_reserved)")" \
	"$(oneline "$before")"
expect_eq "listeners on h1's reserved port (+1: the app's overlay listener)" \
	"$(reserved_listeners)" "$((rbefore + 1))"
if ((LSM)); then
	tried=$(in_ns "$TB_H1" ss -Htln '( sport >= :2222 and sport <= :2226 ) or sport = :22')
	expect_eq "h1 listeners on the ports slim-hostile tried" "$tried" ""
	expect_eq "h1 listeners bound to lo" "$(lo_listeners)" "$lobefore"
else
	# 2222, two autobound ones, 2225 (a dup), 2226 (the child).
	expect_eq "h1 listeners confined to lo (no BPF LSM guard)" "$(lo_listeners)" \
		"$((lobefore + 5))"
	for port in 2222 2225 2226; do
		if in_ns "$TB_H2" timeout 3 bash -c "exec 3<>/dev/tcp/$TB_H1_IP/$port" 2>/dev/null; then
			fail "h2 reached slim-hostile's listener on $TB_H1_IP:$port over the underlay"
		fi
		ok "h2 cannot reach slim-hostile's listener on $TB_H1_IP:$port (confined to lo)"
	done
fi
refused=$(in_ns "$TB_H1" ss -Htan '( sport >= :2223 and sport <= :2224 ) or sport = :2227 or dport = :22')
expect_eq "h1 sockets on the refused binds (2223, 2224, 2227) or to port 22" "$refused" ""
# The overlay listener it made through libc is filed and reachable.
expect_match "h1's reserved port listeners" "$(in_ns "$TB_H1" ss -Htln "sport = :$TB_PORT" |
	awk '{print $4}' | sort -u | tr '\n' ' ')" "$TB_H1_IP:$TB_PORT"

# Control: well-behaved slim apps on the same hosts still work.
start_echo srv slim "$TB_C3" "$SLIM_ECHO" server "$EP"
fg cli slim "$TB_C1" "$SLIM_ECHO" client "$TB_C3_IP" "$EP" "still-works"
expect_eq "c1 -> c3:$EP echo client exit code" "$RC" 0
wait_line "$WORK/srv.out" '^closed' 5 || fail "c3's echo server did not serve the control connection"
expect_eq "c3's echo server received" "$(field "$WORK/srv.out" got)" "still-works"
fg cli2 slim "$TB_C2" "$SLIM_ECHO" client "$TB_C3_IP" "$EP" "cross-host"
expect_eq "c2 -> c3:$EP (cross-host) echo client exit code" "$RC" 0

kill -TERM "${BG[hostile]}"
wait_bg hostile
expect_eq "slim-hostile exit code" "$RC" 0
it_pass
