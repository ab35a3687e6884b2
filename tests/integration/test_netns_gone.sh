#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# netns_gone: a container whose network namespace goes away without
# `container del` is deleted by the router as `container del` would delete
# it, its sockets revoked. c3 runs a slim echo server; its namespace's name
# is removed (`ip netns del`) while the server still runs in it: within
# 3 s the router logs the deletion, `slimctl status` no longer lists c3 and
# the server's host sockets are gone from h1's namespace. c1's name is
# removed and made again at once (another namespace under the same path):
# c1 is deleted too, since its path no longer names its namespace.
. "$(dirname "$0")/common.sh"
it_start nz

PORT=5701

# server_sockets: TCP sockets of the c3 server process in h1's namespace.
server_sockets() {
	in_ns "$TB_H1" ss -Htanp | grep -F "pid=${BG[srv]}," || true
}

# registered NAME: the container is in h1's `slimctl status`.
registered() {
	in_ns "$TB_H1" "$SLIMCTL" --socket "$TB_SOCK1" status | grep -Eq "^  $1 "
}

# deleted_within NAME SECS: waits until h1's router no longer lists NAME.
deleted_within() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		registered "$1" || return 0
		sleep 0.1
	done
	return 1
}

start_echo srv slim "$TB_C3" "$SLIM_ECHO" server "$PORT"
expect_match "h1: the c3 server's host listener" "$(server_sockets)" "LISTEN .*:$TB_PORT "
registered c3 || fail "c3 not registered at the start"
ok "c3 registered"

ip netns del "$TB_C3"
deleted_within c3 3 || fail "c3 still registered 3 s after its namespace's name was removed"
ok "c3 deleted after its namespace went"
[[ -z $(server_sockets) ]] || fail "h1: c3's server still has host sockets: $(oneline "$(server_sockets)")"
ok "h1: no host socket of c3's server left"
expect_match "router h1 log" "$(cat "$TB_STATE_DIR/router-h1.log")" \
	"container c3 ${TB_C3_IP//./\\.} deleted: its network namespace /run/netns/$TB_C3 is gone"
expect_match "router h1 log: sockets revoked" "$(cat "$TB_STATE_DIR/router-h1.log")" \
	"container c3 ${TB_C3_IP//./\\.}: [1-9][0-9]* sockets? destroyed"

registered c1 || fail "c1 not registered"
ip netns del "$TB_C1"
ip netns add "$TB_C1"
deleted_within c1 3 || fail "c1 still registered 3 s after another namespace took its path"
ok "c1 deleted: its path names another namespace"
expect_match "router h1 log: c1" "$(cat "$TB_STATE_DIR/router-h1.log")" \
	"container c1 ${TB_C1_IP//./\\.} deleted: its network namespace /run/netns/$TB_C1 is gone"
registered c2 >/dev/null || true
in_ns "$TB_H2" "$SLIMCTL" --socket "$TB_SOCK2" status | grep -Eq "^  c2 " || fail "h2 lost c2"
ok "h2's c2 untouched"
it_pass
