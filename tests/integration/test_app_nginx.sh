#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# app_nginx: unmodified nginx (master + 2 forked workers sharing the
# listener, epoll, accept4) under slim-run in c2 (host h2); curl and wrk
# with short connections ("Connection: close") under slim-run in c1 (host
# h1). The page matches, wrk sees no socket error and no non-2xx answer,
# nginx logs c1's virtual IP and its own virtual address, the connections
# were host connections h1 -> h2:7771, and nothing crosses VXLAN or the
# containers' interfaces. Then plain clients reach the same nginx: curl from
# c1 without slim-run (over VXLAN, served by the listener's container side),
# from h2's own namespace (a health probe) to c2's virtual address, and
# from inside c2 to 127.0.0.1 and to c2's own address (a sidecar).
. "$(dirname "$0")/common.sh"
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[[ -x $NGINX ]] || skip "needs nginx (scripts/deps.sh installs it)"
command -v wrk >/dev/null || skip "needs wrk (scripts/deps.sh installs it)"
command -v curl >/dev/null || skip "needs curl"

# nginx's master stops its workers on SIGTERM (stop_daemon).
NGINX_PID=""
stop_nginx() { stop_daemon "$NGINX_PID" TERM 10 "nginx master"; }
# set +e: a failing step here must not keep it_cleanup from running; it_cleanup
# gets the test's exit status back through $?.
trap 'IT_RC=$?; set +e; stop_nginx; (exit "$IT_RC"); it_cleanup' EXIT
it_start ng

PORT=8080
D=$WORK/nginx
mkdir -p "$D/www"
# The workers run as nobody (nginx's default for a master started as root):
# they must get through $WORK to the pages.
chmod 711 "$WORK"
chmod 755 "$D" "$D/www"
CONTENT="slim nginx test $$ $(date +%s%N)"
printf '%s\n' "$CONTENT" >"$D/www/index.html"
chmod 644 "$D/www/index.html"
cat >"$D/nginx.conf" <<EOF
daemon off;
master_process on;
worker_processes 2;
pid $D/nginx.pid;
error_log $D/error.log notice;
events { worker_connections 512; }
http {
	# Who connected, to which address, served by which worker.
	log_format slim '\$remote_addr \$server_addr:\$server_port \$pid "\$request" \$status';
	access_log $D/access.log slim;
	client_body_temp_path $D/body;
	proxy_temp_path $D/proxy;
	fastcgi_temp_path $D/fastcgi;
	uwsgi_temp_path $D/uwsgi;
	scgi_temp_path $D/scgi;
	server {
		# The wildcard address (nginx's "listen PORT" is IPv4 only): the
		# address the accepted sockets report (\$server_addr, which nginx
		# asks getsockname for) must still be c2's virtual one.
		listen $PORT;
		root $D/www;
	}
}
EOF
bg nginx slim "$TB_C2" "$NGINX" -p "$D" -e "$D/error.log" -c "$D/nginx.conf"
NGINX_PID=${BG[nginx]}
# Two workers, or gone: a master that died at start-up fails the test at once.
ng_up() { count_ge "$D/error.log" 'start worker process [0-9]+' 2 || ! pid_alive "$NGINX_PID"; }
wait_until 10 "nginx to start 2 workers" ng_up ||
	fail "nginx did not start its workers: $(cat "$D/error.log" "$WORK/nginx.err" 2>/dev/null)"
if ! pid_alive "$NGINX_PID"; then
	wait_bg nginx
	fail "nginx exited with status $RC at start-up: $(cat "$D/error.log" "$WORK/nginx.err" 2>/dev/null)"
fi
wait_until 5 "nginx's pid file" test -s "$D/nginx.pid" || fail "nginx wrote no pid file"
expect_eq "nginx master pid (pid file)" "$(<"$D/nginx.pid")" "$NGINX_PID"
workers=$(ps -o pid= --ppid "$NGINX_PID" | wc -l)
expect_eq "nginx worker processes" "$workers" 2

before=$(counters)
fg curl slim "$TB_C1" curl -sS --max-time 10 -o "$WORK/page" \
	-w 'local %{local_ip}:%{local_port}\nremote %{remote_ip}:%{remote_port}\ncode %{http_code}\n' \
	"http://$TB_C2_IP:$PORT/index.html"
expect_eq "curl exit code" "$RC" 0
expect_eq "HTTP status" "$(field "$WORK/curl.out" code)" 200
expect_eq "fetched content" "$(cat "$WORK/page")" "$CONTENT"
expect_match "curl local address" "$(field "$WORK/curl.out" local)" "^${TB_C1_IP//./\\.}:[0-9]+$"
expect_eq "curl remote address" "$(field "$WORK/curl.out" remote)" "$TB_C2_IP:$PORT"
wait_line "$D/access.log" 'GET /index.html' 5 || fail "no access log line for curl's GET"
expect_match "access log, curl's request" "$(head -n 1 "$D/access.log")" \
	"^${TB_C1_IP//./\\.} $TB_C2_IP:$PORT [0-9]+ \"GET /index.html HTTP/1.1\" 200$"

echo "-- wrk: 4 connections, a new one per request (Connection: close), 2 s"
fg wrk slim "$TB_C1" wrk -t1 -c4 -d2s -H 'Connection: close' "http://$TB_C2_IP:$PORT/index.html"
expect_eq "wrk exit code" "$RC" 0
reqs=$(sed -n 's/^ *\([0-9][0-9]*\) requests in .*/\1/p' "$WORK/wrk.out")
[[ -n $reqs ]] || fail "wrk printed no request count: $(cat "$WORK/wrk.out" "$WORK/wrk.err")"
((reqs > 0)) || fail "wrk completed no request: $(cat "$WORK/wrk.out")"
ok "wrk: $reqs requests, $(sed -n 's/^Requests\/sec: *//p' "$WORK/wrk.out") requests/s"
errs=$(grep -E '^ *(Socket errors|Non-2xx)' "$WORK/wrk.out" || true)
[[ -z $errs ]] || fail "wrk reported errors: $(oneline "$errs")"
ok "wrk: no socket errors, no non-2xx responses"

after=$(counters)
expect_same_counters "$before" "$after" "curl and wrk"
# Short connections leave TIME_WAIT behind on the side that closed first
# (nginx, with Connection: close): there they are host connections at h2's
# reserved port. The containers hold no TCP socket at all, not even one in
# TIME_WAIT, but nginx's listener's container side in c2.
tw=$(in_ns "$TB_H2" ss -Htn state time-wait | awk -v l="^${TB_H2_IP//./\\.}:$TB_PORT\$" \
	-v p="^${TB_H1_IP//./\\.}:" '$3 ~ l && $4 ~ p' | wc -l)
tw1=$(in_ns "$TB_H1" ss -Htn state time-wait | awk -v p="^${TB_H2_IP//./\\.}:$TB_PORT\$" '$4 ~ p' | wc -l)
((tw + tw1 > 0)) || fail "no TIME_WAIT host connection h1 <-> h2:$TB_PORT after $reqs short connections"
ok "host connections in TIME_WAIT: $tw at $TB_H2_IP:$TB_PORT in $TB_H2, $tw1 to it in $TB_H1"
conn=$(in_ns "$TB_C1" ss -Htan)
[[ -z $conn ]] || fail "container $TB_C1 has TCP sockets of its own: $(oneline "$conn")"
ok "no TCP socket (any state) in the container namespace $TB_C1"
own_listeners_only "$TB_C2" "$TB_C2_IP" "$PORT"


# Every request nginx logged came from c1's virtual IP to c2's; wrk counts
# only the requests it completed, so nginx may have logged a few more.
logged=$(wc -l <"$D/access.log")
((logged >= reqs + 1)) || fail "nginx logged $logged requests, wrk and curl completed $((reqs + 1))"
ok "nginx logged $logged requests (wrk and curl completed $((reqs + 1)))"
bad=$(grep -Evc "^${TB_C1_IP//./\\.} $TB_C2_IP:$PORT [0-9]+ \"GET /index.html HTTP/1.1\" 200$" "$D/access.log" || true)
expect_eq "access log lines not from $TB_C1_IP to $TB_C2_IP:$PORT with 200" "$bad" 0
echo "requests per worker pid: $(awk '{ print $3 }' "$D/access.log" | sort | uniq -c | oneline "$(cat)")"
crit=$(grep -E '\[(alert|crit|emerg|error)\]' "$D/error.log" || true)
[[ -z $crit ]] || fail "nginx error log: $(oneline "$crit")"
ok "nginx error log has no error"

echo "-- a plain curl (no preload): nginx's workers serve it from the container side"
before=$(counters)
fg plaincurl plain "$TB_C1" curl -sS --max-time 10 -o "$WORK/page2" \
	-w 'local %{local_ip}:%{local_port}\nremote %{remote_ip}:%{remote_port}\ncode %{http_code}\n' \
	"http://$TB_C2_IP:$PORT/index.html?plain"
expect_eq "plain curl exit code" "$RC" 0
expect_eq "plain curl: HTTP status" "$(field "$WORK/plaincurl.out" code)" 200
expect_eq "plain curl: fetched content" "$(cat "$WORK/page2")" "$CONTENT"
wait_line "$D/access.log" 'GET /index.html\?plain' 5 || fail "no access log line for the plain curl"
expect_match "access log, the plain curl's request" "$(grep -F '?plain' "$D/access.log")" \
	"^${TB_C1_IP//./\\.} $TB_C2_IP:$PORT [0-9]+ \"GET /index.html\\?plain HTTP/1.1\" 200$"
moved_vx=$(diff <(grep vxlan0 <<<"$before") <(grep vxlan0 <<<"$(counters)") | grep -c '^>' || true)
((moved_vx > 0)) || fail "the plain curl did not cross VXLAN"
ok "the plain curl crossed VXLAN (the container network)"
for n in nginx curl wrk; do no_warning "$n"; done

echo "-- plain clients of the slim nginx: a probe from the host namespace, a sidecar on loopback"
# How kubelet probes a pod (from the host's namespace to the pod's address)
# and how a sidecar reaches its app (127.0.0.1 in the pod): neither is under
# slim, and both must be served by the slim listener's container side, with
# the addresses the plain network shows.
# plain_curl NAME NETNS URL PEER_RE: the page over the plain network, logged
# by nginx with the peer address PEER_RE.
plain_curl() {
	local name=$1 ns=$2 url=$3 peer=$4 n
	n=$(wc -l <"$D/access.log")
	fg "$name" plain "$ns" curl -sS --max-time 10 -o "$WORK/$name.page" -w 'code %{http_code}\n' "$url"
	expect_eq "$name: curl exit code" "$RC" 0
	expect_eq "$name: HTTP status" "$(field "$WORK/$name.out" code)" 200
	expect_eq "$name: fetched content" "$(cat "$WORK/$name.page")" "$CONTENT"
	wait_until 5 "nginx to log $name" count_ge "$D/access.log" . $((n + 1)) || fail "nginx logged nothing for $name"
	expect_match "$name: access log" "$(tail -n 1 "$D/access.log")" "^$peer [^ ]+ [0-9]+ \"GET /index.html HTTP/1.1\" 200$"
}
# h2 reaches c2 from br0's address (testbed.sh: 10.244.2.1).
plain_curl probe "$TB_H2" "http://$TB_C2_IP:$PORT/index.html" '10\.244\.2\.1'
plain_curl sidecar "$TB_C2" "http://127.0.0.1:$PORT/index.html" '127\.0\.0\.1'
plain_curl own_vip "$TB_C2" "http://$TB_C2_IP:$PORT/index.html" "${TB_C2_IP//./\\.}"
it_pass
