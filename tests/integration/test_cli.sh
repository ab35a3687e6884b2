#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# cli: what an operator sees. slimctl: status as text and valid JSON, add/del
# round trip, and every refusal is exit 1 with one line "slimctl: reason"
# (usage errors exit 2). slim-router: start-up failures are one line naming
# the problem, exit 1, and leave nothing behind.
. "$(dirname "$0")/common.sh"
it_start cl

# ctl NAME ARGS...: slimctl against router h1 from h1 (the admin identity).
ctl() {
	local name=$1
	shift
	fg "$name" plain "$TB_H1" "$SLIMCTL" --socket "$TB_SOCK1" "$@"
}

# refused NAME EXIT REGEX ARGS...: slimctl ARGS exits EXIT with exactly one
# stderr line "slimctl: ..." matching REGEX, and nothing on stdout.
refused() {
	local name=$1 want=$2 re=$3
	shift 3
	ctl "$name" "$@"
	expect_eq "slimctl $* exit code" "$RC" "$want"
	expect_eq "slimctl $* stderr lines" "$(wc -l <"$WORK/$name.err")" 1
	expect_match "slimctl $* message" "$(cat "$WORK/$name.err")" "^slimctl: $re"
	expect_eq "slimctl $* stdout" "$(cat "$WORK/$name.out")" ""
}

echo "-- status"
ctl st status
expect_eq "slimctl status exit code" "$RC" 0
grep -Eq '^ +c1 +10\.244\.1\.2 ' "$WORK/st.out" || fail "status text lacks c1: $(cat "$WORK/st.out")"
grep -Eq '^ +c3 +10\.244\.1\.3 ' "$WORK/st.out" || fail "status text lacks c3: $(cat "$WORK/st.out")"
ok "status text lists c1 and c3 with their virtual IPs"
ctl js --json status
expect_eq "slimctl --json status exit code" "$RC" 0
got=$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(d["host"], d["underlay_ip"], d["port"], " ".join(sorted(c["name"] + "=" + c["vip"] for c in d["containers"])))
' "$WORK/js.out" 2>&1) || fail "slimctl --json status is not the expected JSON: $got: $(cat "$WORK/js.out")"
expect_eq "JSON status: host, underlay, port, containers" "$got" \
	"h1 $TB_H1_IP $TB_PORT c1=$TB_C1_IP c3=$TB_C3_IP"

echo "-- add / del round trip"
ip netns add "$TB_PREFIX-cx" || fail "cannot create netns $TB_PREFIX-cx"
trap 'ip netns del "$TB_PREFIX-cx" 2>/dev/null; it_cleanup' EXIT
ctl add container add cx --ip 10.244.1.9 --netns "/run/netns/$TB_PREFIX-cx"
expect_eq "container add cx exit code" "$RC" 0
ctl st2 status
grep -Eq '^ +cx +10\.244\.1\.9 ' "$WORK/st2.out" || fail "cx not listed after add: $(cat "$WORK/st2.out")"
ok "cx listed after add"

echo "-- refusals"
refused dupname 1 '.*c1' container add c1 --ip 10.244.1.10 --netns "/run/netns/$TB_PREFIX-cx"
refused dupip 1 '.*10\.244\.1\.9' container add cy --ip 10.244.1.9 --netns "/run/netns/$TB_C2"
refused subnet 1 '.*10\.244\.2\.7' container add cz --ip 10.244.2.7 --netns "/run/netns/$TB_C2"
refused nons 1 '.*/run/netns/nope-' container add cz --ip 10.244.1.11 --netns "/run/netns/nope-$$"
refused badname 1 '.*name' container add 'bad/name' --ip 10.244.1.12 --netns "/run/netns/$TB_C2"
refused delunk 1 '.*nobody' container del nobody
refused usage 2 '.*' container frobnicate
refused noip 2 '.*' container add cw --netns "/run/netns/$TB_C2"
fg unreach plain "$TB_H1" "$SLIMCTL" --socket "/run/slim/$TB_PREFIX-nothing.sock" status
expect_eq "slimctl against no router: exit code" "$RC" 1
expect_match "slimctl against no router: message" "$(cat "$WORK/unreach.err")" \
	"^slimctl: cannot connect to /run/slim/$TB_PREFIX-nothing\\.sock: .*is slim-router running"
fg fromc1 plain "$TB_C1" "$SLIMCTL" --socket "$TB_SOCK1" container del c3
expect_eq "admin request from inside container c1: exit code" "$RC" 1
expect_match "admin request from inside c1: message" "$(cat "$WORK/fromc1.err")" '^slimctl: '
ctl st3 status
grep -Eq '^ +c3 ' "$WORK/st3.out" || fail "c3 gone after a refused del from c1"
ok "c3 still registered after the refused del from c1"
ctl del container del cx
expect_eq "container del cx exit code" "$RC" 0

echo "-- slim-router start-up failures"
# router_fails NAME REGEX ARGS...: slim-router ARGS (in h2's netns, whose
# router is running) exits 1 with a one-line message matching REGEX.
router_fails() {
	local name=$1 re=$2
	shift 2
	fg "$name" plain "$TB_H2" "$SLIM_ROUTER" "$@"
	expect_eq "slim-router ($name) exit code" "$RC" 1
	expect_eq "slim-router ($name) stderr lines" "$(wc -l <"$WORK/$name.err")" 1
	expect_match "slim-router ($name) message" "$(cat "$WORK/$name.err")" "^slim-router: $re"
}
printf 'host h1 192.168.77.1 10.244.1.0/24\nhost h2 192.168.77.2 10.244.2.0/33\n' >"$WORK/bad.conf"
router_fails badconf "$WORK/bad\\.conf:2: bad virtual subnet" --cluster "$WORK/bad.conf" --host h2 \
	--socket "/run/slim/$TB_PREFIX-x.sock"
router_fails nohost '.*h9' --cluster "$TB_CLUSTER" --host h9 --socket "/run/slim/$TB_PREFIX-x.sock"
router_fails twice '.*' --cluster "$TB_CLUSTER" --host h2 --socket "$TB_SOCK2"
router_fails port '.*reserved port .*taken' --cluster "$TB_CLUSTER" --host h2 \
	--socket "/run/slim/$TB_PREFIX-x.sock" --cgroup "$TB_CG2-x" --pin-dir "$TB_PIN2-x" \
	--state "$WORK/x.containers"
[[ ! -e /run/slim/$TB_PREFIX-x.sock && ! -e $TB_CG2-x && ! -e $TB_PIN2-x ]] ||
	fail "a failed slim-router start left its socket, cgroup or pin dir behind"
ok "failed starts left no socket, cgroup or pin dir"
ctl st4 status
expect_eq "router h1 still answers after all that" "$RC" 0
fg st5 plain "$TB_H2" "$SLIMCTL" --socket "$TB_SOCK2" status
expect_eq "router h2 still answers (the second router did not disturb it)" "$RC" 0
it_pass
