#!/usr/bin/env bash
# Runs one libFuzzer harness for a bounded time, as a ctest test:
#   run-fuzzer.sh FUZZER SEED_DIR RUN_DIR SECONDS MAX_LEN
# The seeds are copied into RUN_DIR/corpus, the working corpus, so a run
# never writes into the repository. Any crash, sanitizer report, leak (of
# memory: LeakSanitizer; of fds: the harnesses' own check) or input slower
# than 10 s fails the test, naming the saved input and how to replay it.
set -euo pipefail
fuzzer=$1 seeds=$2 run=$3 secs=$4 max_len=$5
name=$(basename "$fuzzer")

if ! compgen -G "$seeds/*" >/dev/null; then
	echo "$name: no seed inputs in $seeds" >&2
	exit 1
fi
rm -rf "$run"
mkdir -p "$run/corpus" "$run/artifacts"
cp "$seeds"/* "$run/corpus/"
log=$run/fuzz.log
rc=0
# -error_exitcode: libFuzzer's default, 77, is the skip code of the tests.
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0} \
	UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
	"$fuzzer" -max_total_time="$secs" -timeout=10 -detect_leaks=1 -max_len="$max_len" \
	-rss_limit_mb=2048 -error_exitcode=1 -timeout_exitcode=1 -print_final_stats=1 \
	-artifact_prefix="$run/artifacts/" "$run/corpus" >"$log" 2>&1 || rc=$?
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
found=$(find "$run/artifacts" -type f | sort)
if [ "$rc" -ne 0 ] || [ -n "$found" ] || [ -z "$execs" ]; then
	# The report (sanitizer, broken property, fd leak, timeout), then
	# libFuzzer's summary.
	grep -m1 -A 30 -E 'ERROR: |property broken|^fd [0-9]+ was|ALARM|Timeout' "$log" || true
	echo ...
	tail -n 12 "$log"
	echo "$name: FAILED (exit $rc) after ${execs:-?} runs; full log: $log" >&2
	for f in $found; do
		echo "$name: input saved as $f; replay: $fuzzer $f" >&2
	done
	exit 1
fi
echo "$name: $execs runs in ${secs}s, corpus $(find "$run/corpus" -type f | wc -l) inputs, nothing found"
