#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# revoke: `slimctl container del` revokes the container's host sockets. A
# slim server in c2 (revoke_peer.py) holds a listener, an established
# connection from a slim client in c1 and an unconnected pool socket; after
# h2's router deletes c2, each of them must fail as a socket of a torn-down
# network fails: the connection reads ECONNABORTED and writes EPIPE, its
# peer in c1 reads ECONNRESET, the pool socket's connect to a slim server
# that listens in c1 is refused (EPERM),
# the listener's accept fails (EINVAL); and no host socket of the server
# is left in h2's namespace (ss). The held pool socket is tried only after
# c2 is registered again with the same vIP: a new container, whose id the
# old socket does not carry.
. "$(dirname "$0")/common.sh"
it_start rv

PORT=5601
OTHER=5602 # a slim echo server in c1, for the held pool socket
GO=$WORK/go

# server_sockets: TCP sockets of the server process in h2's namespace.
server_sockets() {
	in_ns "$TB_H2" ss -Htanp | grep -F "pid=${BG[srv]}," || true
}

start_echo other slim "$TB_C1" "$SLIM_ECHO" server "$OTHER"
start_echo srv slim "$TB_C2" python3 "$IT_DIR/revoke_peer.py" server "$PORT" "$TB_C1_IP" "$OTHER" "$GO"
bg cli slim "$TB_C1" python3 "$IT_DIR/revoke_peer.py" client "$TB_C2_IP" "$PORT" "$GO"
wait_line "$WORK/cli.out" '^connected$' 15 || fail "the client did not connect: $(cat "$WORK/cli.err")"
wait_line "$WORK/srv.out" '^accepted ' 15 || fail "the server did not accept: $(cat "$WORK/srv.err")"
expect_match "server: accepted c1" "$(grep '^accepted ' "$WORK/srv.out")" \
	"^accepted ${TB_C1_IP//./\\.}:[0-9]+ b'hi'$"
before=$(server_sockets)
expect_match "h2: the server's host listener before" "$before" "LISTEN .*:$TB_PORT "
expect_match "h2: the server's host connection before" "$before" "ESTAB .*:$TB_PORT "

in_ns "$TB_H2" "$SLIMCTL" --socket "$TB_SOCK2" container del c2 >"$WORK/del.out" 2>&1 ||
	fail "container del c2: $(cat "$WORK/del.out")"
ok "container del c2"
after=$(server_sockets)
[[ -z $after ]] || fail "h2: the deleted container's sockets are still there: $(oneline "$after")"
ok "h2: no socket of the server left"
# The same vIP (and namespace) registered again is another container: the
# old one's held pool socket must stay dead.
in_ns "$TB_H2" "$SLIMCTL" --socket "$TB_SOCK2" container add c2 --ip "$TB_C2_IP" \
	--netns "/run/netns/$TB_C2" >"$WORK/add.out" 2>&1 || fail "container add c2 again: $(cat "$WORK/add.out")"
ok "c2 added again with the same vIP"
touch "$GO"

wait_line "$WORK/srv.out" '^accept ' 15 || fail "the server did not finish: $(cat "$WORK/srv.err")"
expect_eq "server: recv on the connection" "$(grep '^recv ' "$WORK/srv.out")" "recv err ECONNABORTED"
expect_eq "server: send on the connection" "$(grep '^send ' "$WORK/srv.out")" "send err EPIPE"
expect_eq "server: connect of the held pool socket" "$(grep '^connect ' "$WORK/srv.out")" \
	"connect err EPERM"
expect_eq "server: accept on the listener" "$(grep '^accept ' "$WORK/srv.out")" "accept err EINVAL"
wait_line "$WORK/cli.out" '^recv ' 15 || fail "the client did not finish: $(cat "$WORK/cli.err")"
expect_eq "client: recv on the connection" "$(grep '^recv ' "$WORK/cli.out")" "recv err ECONNRESET"
expect_match "router h2 log" "$(cat "$TB_STATE_DIR/router-h2.log")" \
	"container c2 ${TB_C2_IP//./\\.}: 2 sockets destroyed"
it_pass
