#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# http_real: unmodified programs. python3 -m http.server (default address) in c2
# under slim-run, curl from c1 under slim-run. Content must match, the
# server's access log must name c1's virtual IP, nothing may cross VXLAN.
. "$(dirname "$0")/common.sh"
command -v curl >/dev/null || skip "needs curl"
it_start hr

# The real interpreter (not a pyenv shim script), so the preload meets python itself.
PY=$(python3 -c 'import sys; print(sys.executable)')
PORT=8000
mkdir -p "$WORK/www"
CONTENT="slim http_real test $$ $(date +%s%N)"
printf '%s\n' "$CONTENT" >"$WORK/www/hello.txt"

# No --bind, as users run it (0.0.0.0 here: getaddrinfo's first passive
# address; tests/conformance covers dual-stack listeners).
bg http slim "$TB_C2" "$PY" -u -m http.server --directory "$WORK/www" "$PORT"
wait_line "$WORK/http.out" '^Serving HTTP' 15 || fail "http.server did not start: $(cat "$WORK/http.err")"
ok "http.server: $(head -n 1 "$WORK/http.out")"
# Counted from here: http.server's start-up getfqdn() may send DNS queries (UDP
# is not slim's business and rightly takes the container network).
sleep 0.5
before=$(counters)

fg curl slim "$TB_C1" curl -s -S --max-time 10 "http://$TB_C2_IP:$PORT/hello.txt"
expect_eq "curl exit code" "$RC" 0
expect_eq "fetched content" "$(cat "$WORK/curl.out")" "$CONTENT"
wait_line "$WORK/http.err" '"GET /hello.txt' 5 || fail "no access log line for GET /hello.txt"
logline=$(grep '"GET /hello.txt' "$WORK/http.err" | head -n 1)
expect_match "server access log client address" "$logline" "^${TB_C1_IP//./\\.} - - "
after=$(counters)
expect_same_counters "$before" "$after" "http exchange"
it_pass
