#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# app_redis: unmodified redis-server (single-threaded epoll loop) under
# slim-run in c2 (host h2); redis-cli and redis-benchmark (50 parallel
# connections) under slim-run in c1 (host h1). Values round-trip, CLIENT LIST
# names c1's and c2's virtual addresses, a held client connection is one host
# TCP connection h1 -> h2:7771, and nothing crosses VXLAN or the containers'
# interfaces. Then a plain redis-cli and redis-benchmark (no preload) in c1
# are served by the same slim server over the container network: values
# round-trip, CLIENT LIST names c1's address, VXLAN carries the packets and
# h2 counts no accelerated connection for them.
. "$(dirname "$0")/common.sh"
for p in redis-server redis-cli redis-benchmark; do
	command -v "$p" >/dev/null || skip "needs $p (scripts/deps.sh installs redis-server, redis-tools)"
done
it_start rd

PORT=6379
V1=${TB_C1_IP//./\\.} V2=${TB_C2_IP//./\\.}
# redis-server without a config binds "* -::*": 0.0.0.0 and a V6ONLY [::].
BIND=()
# No persistence and no config file: nothing but the listener and $WORK.
bg redis slim "$TB_C2" redis-server --port "$PORT" "${BIND[@]}" \
	--save '' --appendonly no --protected-mode no --daemonize no --dir "$WORK" --logfile ''
wait_line "$WORK/redis.out" 'Ready to accept connections' 15 ||
	fail "redis-server did not start: $(cat "$WORK/redis.out" "$WORK/redis.err")"
ok "redis-server ready on $TB_C2_IP:$PORT"

# cli_as slim|plain NAME ARGS...: redis-cli from c1, under slim-run or not.
cli_as() {
	local mode=$1 name=$2
	shift 2
	fg "$name" "$mode" "$TB_C1" redis-cli -h "$TB_C2_IP" -p "$PORT" "$@"
	[[ $RC == 0 ]] || fail "redis-cli $* exited $RC: $(cat "$WORK/$name.out" "$WORK/$name.err")"
}
# cli NAME ARGS...: redis-cli from c1 under slim-run.
cli() { cli_as slim "$@"; }

# set_get slim|plain TAG: SET and GET of a fresh value round-trip.
set_get() {
	local v
	v="$2-$$-$(date +%s%N)"
	cli_as "$1" "$2-set" SET "$2:key" "$v"
	expect_eq "$2: SET reply" "$(cat "$WORK/$2-set.out")" OK
	cli_as "$1" "$2-get" GET "$2:key"
	expect_eq "$2: GET reply" "$(cat "$WORK/$2-get.out")" "$v"
}

# client_list_self slim|plain NAME: CLIENT LIST from c1 names the asking
# client with c1's address and the server's with c2's.
client_list_self() {
	local me
	cli_as "$1" "$2" CLIENT LIST
	me=$(grep 'cmd=client|list' "$WORK/$2.out" || true)
	expect_match "CLIENT LIST ($1 client), this client" "$me" "addr=$V1:[0-9]+ laddr=$V2:$PORT "
}

# redis_bench slim|plain NAME: redis-benchmark from c1, 50 connections,
# 2000 SETs and 2000 GETs, each with a rate.
redis_bench() {
	local t rate
	fg "$2" "$1" "$TB_C1" redis-benchmark -h "$TB_C2_IP" -p "$PORT" -q -n 2000 -t set,get
	expect_eq "redis-benchmark ($1) exit code" "$RC" 0
	# -q still draws progress lines ending in \r; the results end in \n.
	tr '\r' '\n' <"$WORK/$2.out" | grep -E '^ *(SET|GET): [0-9.]+ requests per second' >"$WORK/$2.rates" || true
	for t in SET GET; do
		rate=$(sed -n "s/^ *$t: \([0-9.]*\) requests per second.*/\1/p" "$WORK/$2.rates")
		[[ -n $rate ]] || fail "redis-benchmark ($1) printed no $t rate: $(tr '\r' '\n' <"$WORK/$2.out" | tail -n 5)"
		awk -v r="$rate" 'BEGIN { exit !(r > 0) }' || fail "redis-benchmark ($1) $t rate is $rate"
		ok "redis-benchmark ($1) $t: $rate requests/s"
	done
}

before=$(counters)

set_get slim slim
VALUE=$(cat "$WORK/slim-get.out")

echo "-- a held connection: BLPOP waits until another client pushes"
bg blpop slim "$TB_C1" redis-cli -h "$TB_C2_IP" -p "$PORT" BLPOP slim:list 0
wait_until 10 "BLPOP to be blocked on the server" bash -c \
	"nsenter --net=/run/netns/$TB_C1 -- $SLIM_RUN --socket $TB_SOCK1 -- redis-cli -h $TB_C2_IP -p $PORT CLIENT LIST </dev/null | grep -q 'cmd=blpop'" ||
	fail "no client blocked in BLPOP: $(cat "$WORK/blpop.err")"
client_list_self slim clients
blk=$(grep 'cmd=blpop' "$WORK/clients.out" || true)
expect_match "CLIENT LIST, the blocked client" "$blk" "addr=$V1:[0-9]+ laddr=$V2:$PORT "
bport=$(sed -n 's/.* addr=[0-9.]*:\([0-9]*\) .*/\1/p' <<<"$blk")
conn=$(estab "$TB_H1" "^${TB_H1_IP//./\\.}:$bport\$" "^${TB_H2_IP//./\\.}:$TB_PORT\$")
[[ -n $conn ]] || fail "no ESTABLISHED $TB_H1_IP:$bport -> $TB_H2_IP:$TB_PORT in $TB_H1:" \
	"$(in_ns "$TB_H1" ss -Htn | tr '\n' ';')"
ok "BLPOP client: host connection in $TB_H1: $(oneline "$conn")"
conn=$(estab "$TB_H2" "^${TB_H2_IP//./\\.}:$TB_PORT\$" "^${TB_H1_IP//./\\.}:$bport\$")
[[ -n $conn ]] || fail "no ESTABLISHED $TB_H2_IP:$TB_PORT <- $TB_H1_IP:$bport in $TB_H2"
ok "BLPOP client: host connection in $TB_H2: $(oneline "$conn")"
conn=$(in_ns "$TB_C1" ss -Htn)
[[ -z $conn ]] || fail "container $TB_C1 has TCP sockets of its own: $conn"
ok "no TCP socket in the container namespace $TB_C1"
cli push LPUSH slim:list "$VALUE-pushed"
expect_eq "LPUSH reply" "$(cat "$WORK/push.out")" 1
wait_bg blpop
expect_eq "BLPOP exit code" "$RC" 0
expect_eq "BLPOP reply" "$(tr '\n' ' ' <"$WORK/blpop.out")" "slim:list $VALUE-pushed "

echo "-- redis-benchmark: 50 connections, 2000 SETs and 2000 GETs"
redis_bench slim bench

after=$(counters)
expect_same_counters "$before" "$after" "redis exchanges"
cli info INFO stats
rej=$(sed -n 's/^rejected_connections:\([0-9]*\).*/\1/p' "$WORK/info.out")
expect_eq "redis rejected_connections" "$rej" 0
for n in redis slim-set slim-get blpop clients push bench info; do no_warning "$n"; done

echo "-- plain clients in c1 (no preload): the slim server serves them over VXLAN"
before=$(counters)
acc0=$(path_count "$TB_H2" accelerated)
set_get plain plain
client_list_self plain plain-clients
redis_bench plain plain-bench
after=$(counters)
pkts_moved "$before" "$after" "$TB_H1:vxlan0 tx" "$TB_H2:vxlan0 rx" "$TB_C2:eth0 rx"
expect_eq "slimctl status of h2: accelerated connections during the plain clients' run" \
	"$(path_count "$TB_H2" accelerated)" "$acc0"
cli info2 INFO stats
expect_eq "redis rejected_connections, after the plain clients" \
	"$(sed -n 's/^rejected_connections:\([0-9]*\).*/\1/p' "$WORK/info2.out")" 0
no_warning redis
it_pass
