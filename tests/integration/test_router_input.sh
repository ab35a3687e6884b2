#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# router_input: the router survives hostile input on its socket. Malformed,
# truncated and oversized packets get an error reply, junk fds are closed (fd
# count unchanged), admin requests from a container and library requests from
# outside any registered container are refused, pool batches leave no fd
# behind, and the router still answers
# `slimctl status` and serves containers afterwards. Then an unregistered
# container under slim-run: libslim prints one warning line and the app
# still works over the container network (the fallback path).
. "$(dirname "$0")/common.sh"
it_start ri

PY=$(python3 -c 'import sys; print(sys.executable)')
HELPER=$IT_DIR/router_input.py
pid=$(<"$TB_STATE_DIR/router-h1.pid")
fds_before=$(find "/proc/$pid/fd" -mindepth 1 -maxdepth 1 | wc -l)
ok "router h1 (pid $pid) has $fds_before open fds"

helper() { # NAME NETNS ARGS...
	local name=$1 ns=$2
	shift 2
	RC=0
	in_ns "$ns" timeout 60 "$PY" "$HELPER" "$TB_SOCK1" "$@" >"$WORK/$name.out" 2>&1 || RC=$?
	sed 's/^/  /' "$WORK/$name.out"
	((RC == 0)) || fail "$name: $(grep -m1 '^FAIL' "$WORK/$name.out" || tail -n 3 "$WORK/$name.out")"
}

echo "-- malformed input from the host namespace (root: the admin identity)"
helper mal-h1 "$TB_H1" malformed
echo "-- malformed input from a registered container (c1)"
helper mal-c1 "$TB_C1" malformed
echo "-- invalid values from c1"
helper lbad "$TB_C1" listen-bad
helper cbad "$TB_C1" connect-bad
echo "-- admin request from a container (c1, uid 0 but not the router's netns)"
helper adm "$TB_C1" admin --expect-errno EACCES,EPERM
fg list plain "$TB_H1" "$SLIMCTL" --socket "$TB_SOCK1" status
expect_eq "slimctl status exit code" "$RC" 0
# Positive control: the listing does name the registered containers.
grep -Eq '^ +c1 +10\.244\.1\.2 ' "$WORK/list.out" ||
	fail "slimctl status does not list c1: $(cat "$WORK/list.out")"
! grep -q intruder "$WORK/list.out" ||
	fail "the refused container add registered 'intruder' anyway: $(cat "$WORK/list.out")"
ok "c1 listed, no 'intruder' container registered"
echo "-- library request from outside any registered container (h1's own netns)"
helper hello-h1 "$TB_H1" hello --expect-errno EACCES
helper conn-h1 "$TB_H1" connect --expect-errno EACCES

echo "-- the router is still fine"
for n in 1 2; do
	h=TB_H$n s=TB_SOCK$n
	fg "status$n" plain "${!h}" "$SLIMCTL" --socket "${!s}" status
	expect_eq "slimctl status of router h$n exit code" "$RC" 0
done
helper st "$TB_H1" status
# The router's copies of pool sockets are closed after each reply
# (close_range over the batch's runs): none may stay open.
helper pool "$TB_C1" pool
sleep 0.5
fds_after=$(find "/proc/$pid/fd" -mindepth 1 -maxdepth 1 | wc -l)
expect_eq "router h1 open fds after all that (no leak)" "$fds_after" "$fds_before"
start_echo srv slim "$TB_C2" "$SLIM_ECHO" server --count 1 6300
fg cli slim "$TB_C1" "$SLIM_ECHO" client "$TB_C2_IP" 6300 "after-abuse"
expect_eq "slim exchange c1 -> c2 after the abuse: exit code" "$RC" 0
expect_eq "slim exchange: client getsockname address" "$(field "$WORK/cli.out" local | cut -d: -f1)" "$TB_C1_IP"

echo "-- an unregistered container (c3 removed from router h1)"
fg del plain "$TB_H1" "$SLIMCTL" --socket "$TB_SOCK1" container del c3
expect_eq "slimctl container del c3 exit code" "$RC" 0
helper hello-c3 "$TB_C3" hello --expect-errno EACCES
# A plain server: the fallback client reaches it over the container network.
start_echo plain plain "$TB_C2" "$SLIM_ECHO" server --count 1 6200
before=$(counters)
fg fb slim "$TB_C3" "$SLIM_ECHO" client "$TB_C2_IP" 6200 "fallback"
expect_eq "client in unregistered c3: exit code" "$RC" 0
expect_eq "client in unregistered c3: echo" "$(sed -n 's/^echo //p' "$WORK/fb.out")" "fallback"
warn=$(grep -ci 'slim' "$WORK/fb.err" || true)
expect_eq "libslim warning lines on the client's stderr" "$warn" 1
ok "warning: $(cat "$WORK/fb.err")"
expect_match "client getsockname (real container address)" "$(field "$WORK/fb.out" local)" \
	"^${TB_C3_IP//./\\.}:[0-9]+$"
wait_line "$WORK/plain.out" '^closed' 5 || fail "plain server did not finish"
expect_eq "plain server accept() address" "$(field "$WORK/plain.out" accept)" \
	"$(field "$WORK/fb.out" local)"
after=$(counters)
h1tx_before=$(awk -v k="$TB_H1:vxlan0" '$1 == k { sub("tx=", "", $3); print $3 }' <<<"$before")
h1tx_after=$(awk -v k="$TB_H1:vxlan0" '$1 == k { sub("tx=", "", $3); print $3 }' <<<"$after")
((h1tx_after > h1tx_before)) || fail "fallback traffic did not cross vxlan0 (tx $h1tx_before -> $h1tx_after)"
ok "fallback went over VXLAN (h1 vxlan0 tx $h1tx_before -> $h1tx_after)"
it_pass
