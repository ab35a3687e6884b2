#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# app_pgbench: unmodified PostgreSQL (a postmaster that forks a backend per
# connection, running as the user postgres) under slim-run in c2 (host h2);
# psql and pgbench under slim-run in c1 (host h1): pgbench -i fills the
# tables (COPY), then pgbench -C runs TPC-B-like transactions on a new
# connection each. No transaction fails, the server sees c1's virtual IP
# (inet_client_addr, pg_stat_activity, its connection log) and reports its
# own virtual address, a held connection is one host TCP connection
# h1 -> h2:7771, and nothing crosses VXLAN or the containers' interfaces.
# Then a plain psql (no preload) in c1 is served too, over VXLAN. Last, a
# second PostgreSQL in c2, not under slim-run: the same slim clients in c1
# run pgbench -i and -C against it as well, the server sees c1's virtual IP,
# h2 translates every connection into c2 (its slim-to-plain count) and no
# packet crosses VXLAN or c1's eth0.
. "$(dirname "$0")/common.sh"
PG_BIN=$(find /usr/lib/postgresql -maxdepth 3 -name postgres -path '*/bin/*' 2>/dev/null | sort -V | tail -n1)
[[ -n $PG_BIN ]] || skip "needs the PostgreSQL server (scripts/deps.sh installs postgresql)"
PG_BIN=$(dirname "$PG_BIN")
for p in initdb psql pgbench; do
	[[ -x $PG_BIN/$p ]] || skip "needs $PG_BIN/$p (scripts/deps.sh installs postgresql, postgresql-client)"
done
id postgres >/dev/null 2>&1 || skip "needs the user postgres (the postgresql package creates it)"
command -v setpriv >/dev/null || skip "needs setpriv (util-linux)"

# SIGINT is PostgreSQL's fast shutdown: it ends the backends and its helper
# processes itself (stop_daemon).
PG_PIDS=()
stop_pg() {
	local p
	for p in "${PG_PIDS[@]}"; do stop_daemon "$p" INT 15 "postmaster"; done
}
# set +e: a failing step here must not keep it_cleanup from running; it_cleanup
# gets the test's exit status back through $?.
trap 'IT_RC=$?; set +e; stop_pg; (exit "$IT_RC"); it_cleanup' EXIT
it_start pg

PORT=5432
PLAIN_PORT=5433
V1=${TB_C1_IP//./\\.}
# The data dir belongs to postgres, who must get through $WORK to it.
chmod 711 "$WORK"
PGROOT=$WORK/pg
mkdir -p "$PGROOT"
chown postgres: "$PGROOT"
setpriv --reuid=postgres --regid=postgres --init-groups -- "$PG_BIN/initdb" -D "$PGROOT/data" \
	--auth=trust -U postgres -N >"$WORK/initdb.log" 2>&1 ||
	fail "initdb failed: $(tail -n 5 "$WORK/initdb.log")"
echo "host all all 0.0.0.0/0 trust" >>"$PGROOT/data/pg_hba.conf"
# The plain server's data dir: a copy of the fresh one, made before either starts.
cp -a "$PGROOT/data" "$PGROOT/plain"
ok "initdb: $PGROOT/data, copied to $PGROOT/plain"

# pg_up NAME PID: ready, or gone (a postmaster that died at start-up fails
# the test at once).
pg_up() { grep -q 'database system is ready to accept connections' "$WORK/$1.err" || ! pid_alive "$2"; }

# start_pg NAME slim|plain PORT DATADIR: a postmaster in c2 on PORT, every
# address of every family (as a server container would), logging each
# connection to $WORK/NAME.err; waited for.
start_pg() {
	local name=$1 pid
	bg "$name" "$2" "$TB_C2" setpriv --reuid=postgres --regid=postgres --init-groups -- \
		"$PG_BIN/postgres" -D "$4" -c "port=$3" -c "listen_addresses=*" \
		-c "unix_socket_directories=$PGROOT" -c fsync=off -c max_connections=20 \
		-c logging_collector=off -c log_connections=on
	pid=${BG[$name]}
	PG_PIDS+=("$pid")
	wait_until 20 "postgres $name to accept connections" pg_up "$name" "$pid" ||
		fail "postgres $name did not start: $(tail -n 5 "$WORK/$name.err")"
	if ! pid_alive "$pid"; then
		wait_bg "$name"
		fail "postgres $name exited with status $RC at start-up: $(tail -n 5 "$WORK/$name.err")"
	fi
	ok "postgres $name ($2): $(grep -m1 'listening on IPv4' "$WORK/$name.err" | sed 's/.*LOG: *//')"
}
start_pg pg slim "$PORT" "$PGROOT/data"

# psql_c NAME SQL [PORT]: one query from c1 under slim-run, unaligned, tuples only.
psql_c() {
	fg "$1" slim "$TB_C1" "$PG_BIN/psql" -h "$TB_C2_IP" -p "${3:-$PORT}" -U postgres -d postgres \
		-X -v ON_ERROR_STOP=1 -Atc "$2"
	[[ $RC == 0 ]] || fail "psql $2: exit $RC: $(cat "$WORK/$1.out" "$WORK/$1.err")"
}

# pg_run TAG PORT: from c1 under slim-run against the server on PORT: the
# addresses it sees, pgbench -i (tables and 100,000 rows over COPY) and
# pgbench -C (2 clients x 50 transactions, a new connection for each).
# Outputs in $WORK/TAG-*.
pg_run() {
	local t=$1 port=$2
	psql_c "$t-addr" "SELECT inet_client_addr(), inet_server_addr(), inet_server_port()" "$port"
	expect_eq "$t: inet_client_addr | inet_server_addr | inet_server_port" \
		"$(cat "$WORK/$t-addr.out")" "$TB_C1_IP|$TB_C2_IP|$port"
	echo "-- $t: pgbench -i"
	fg "$t-init" slim "$TB_C1" "$PG_BIN/pgbench" -i -s 1 -h "$TB_C2_IP" -p "$port" -U postgres postgres
	[[ $RC == 0 ]] || fail "$t: pgbench -i exited $RC: $(tail -n 5 "$WORK/$t-init.err")"
	ok "$t: pgbench -i: $(grep -m1 '^done in' "$WORK/$t-init.err")"
	psql_c "$t-rows" "SELECT count(*) FROM pgbench_accounts" "$port"
	expect_eq "$t: pgbench_accounts rows" "$(cat "$WORK/$t-rows.out")" 100000
	echo "-- $t: pgbench -C"
	fg "$t-bench" slim "$TB_C1" "$PG_BIN/pgbench" -C -c 2 -j 1 -t 50 -h "$TB_C2_IP" -p "$port" \
		-U postgres postgres
	expect_eq "$t: pgbench exit code" "$RC" 0
	expect_eq "$t: pgbench transactions processed" \
		"$(sed -n 's/^number of transactions actually processed: \([0-9/]*\).*/\1/p' "$WORK/$t-bench.out")" 100/100
	expect_eq "$t: pgbench failed transactions" \
		"$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$WORK/$t-bench.out")" 0
	ok "$t: pgbench: $(grep -m1 '^tps' "$WORK/$t-bench.out")"
	for n in addr init rows bench; do no_warning "$t-$n"; done
}

# pg_logged NAME: every connection postgres NAME logged came from c1's
# virtual IP, at least pgbench -C's 100.
pg_logged() {
	local n other
	n=$(grep -c 'connection received: host=' "$WORK/$1.err" || true)
	((n >= 100)) || fail "postgres $1 logged $n connections, want at least 100"
	other=$(grep 'connection received: host=' "$WORK/$1.err" | grep -v "host=$V1 port=" || true)
	[[ -z $other ]] || fail "postgres $1 logged connections from elsewhere: $(oneline "$(head -n 3 <<<"$other")")"
	ok "postgres $1 logged $n connections, all from $TB_C1_IP"
}

before=$(counters)
pg_run slim "$PORT"

echo "-- a held connection, seen from pg_stat_activity and the hosts"
bg sleeper slim "$TB_C1" "$PG_BIN/psql" -h "$TB_C2_IP" -p "$PORT" -U postgres -d postgres -X -Atc \
	"SELECT 'slept', pg_sleep(4)"
Q="SELECT client_addr, client_port FROM pg_stat_activity WHERE query LIKE '%''slept'', pg_sleep%' AND pid <> pg_backend_pid()"
sleeping() {
	nsenter --net="/run/netns/$TB_C1" -- "$SLIM_RUN" --socket "$TB_SOCK1" -- "$PG_BIN/psql" \
		-h "$TB_C2_IP" -p "$PORT" -U postgres -d postgres -X -Atc "$Q" </dev/null | grep -q .
}
wait_until 10 "the sleeping query in pg_stat_activity" sleeping ||
	fail "the sleeping query never showed in pg_stat_activity: $(cat "$WORK/sleeper.err")"
psql_c activity "$Q"
act=$(cat "$WORK/activity.out")
expect_match "pg_stat_activity client_addr|client_port" "$act" "^$V1\|[0-9]+$"
cport=${act#*|}
conn=$(estab "$TB_H1" "^${TB_H1_IP//./\\.}:$cport\$" "^${TB_H2_IP//./\\.}:$TB_PORT\$")
[[ -n $conn ]] || fail "no ESTABLISHED $TB_H1_IP:$cport -> $TB_H2_IP:$TB_PORT in $TB_H1:" \
	"$(in_ns "$TB_H1" ss -Htn | tr '\n' ';')"
ok "held connection: host connection in $TB_H1: $(oneline "$conn")"
conn=$(estab "$TB_H2" "^${TB_H2_IP//./\\.}:$TB_PORT\$" "^${TB_H1_IP//./\\.}:$cport\$")
[[ -n $conn ]] || fail "no ESTABLISHED $TB_H2_IP:$TB_PORT <- $TB_H1_IP:$cport in $TB_H2"
ok "held connection: host connection in $TB_H2: $(oneline "$conn")"
conn=$(in_ns "$TB_C1" ss -Htan)
[[ -z $conn ]] || fail "container $TB_C1 has TCP sockets of its own: $(oneline "$conn")"
ok "no TCP socket (any state) in the container namespace $TB_C1"
wait_bg sleeper
expect_eq "held connection: psql exit code" "$RC" 0
expect_eq "held connection: result" "$(cat "$WORK/sleeper.out")" "slept|"

after=$(counters)
expect_same_counters "$before" "$after" "psql and pgbench"
pg_logged pg
for n in pg sleeper activity; do no_warning "$n"; done
own_listeners_only "$TB_C2" "$TB_C2_IP" "$PORT"
# Last: a plain psql (no preload) crosses the container network, and
# PostgreSQL under slim-run serves it too, seeing c1's own address.
fg plain plain "$TB_C1" "$PG_BIN/psql" -h "$TB_C2_IP" -p "$PORT" -U postgres -d postgres \
	-X -v ON_ERROR_STOP=1 -Atc "SELECT inet_client_addr(), inet_server_addr(), inet_server_port()"
expect_eq "plain psql exit code" "$RC" 0
expect_eq "plain psql: inet_client_addr | inet_server_addr | inet_server_port" \
	"$(cat "$WORK/plain.out")" "$TB_C1_IP|$TB_C2_IP|$PORT"

echo "-- slim clients in c1, a plain PostgreSQL (no preload) in c2 on $PLAIN_PORT"
start_pg pgplain plain "$PLAIN_PORT" "$PGROOT/plain"
before=$(fallback_pkts)
s2p0=$(path_count "$TB_H2" slim-to-plain)
pg_run plain "$PLAIN_PORT"
s2p1=$(path_count "$TB_H2" slim-to-plain)
# pgbench -C's 100 connections, pgbench -i's and the psql ones.
((s2p1 >= s2p0 + 100)) || fail "h2's slim-to-plain count went from $s2p0 to $s2p1, want at least 100 more"
ok "slimctl status of h2: slim-to-plain $s2p0 -> $s2p1"
expect_no_fallback "$before" "$(fallback_pkts)" "slim clients of the plain postgres"
pg_logged pgplain
it_pass
