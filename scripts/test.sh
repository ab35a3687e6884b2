#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Fresh machine to test results: install packages, build with -Werror and run
# every test; then build again under AddressSanitizer + UBSan and run the unit,
# BPF-path and integration tests there (label sanitize); then build the
# libFuzzer harnesses with clang and run each for a bounded time (label fuzz,
# docs/fuzzing.md). A test that ctest reports as not run (skipped: exit 77,
# e.g. not root or a program missing) fails this script: a skipped check is
# not a pass. As root:
#   bash scripts/test.sh
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck disable=SC2034 # read by lib.sh (messages)
TB_PROG=test.sh
# shellcheck source=../testbed/lib.sh
. "$top/testbed/lib.sh"
need_root "apt-get, BPF and network namespaces need it"

# run_ctest BUILD_DIR [ctest options...]
run_ctest() {
	local dir=$1 log
	shift
	log=$dir/ctest-last-run.log
	ctest --test-dir "$dir" --output-on-failure --no-tests=error -j1 "$@" | tee "$log"
	if grep -q 'The following tests did not run' "$log"; then
		echo "test.sh: tests in $dir were skipped (listed above with the reason in their" \
			"output): run as root on a machine with what scripts/deps.sh installs" >&2
		exit 1
	fi
}

"$top/scripts/deps.sh"
"$top/scripts/build.sh" -DSLIM_WERROR=ON
run_ctest "$top/build"
BUILD_DIR="$top/build-asan" "$top/scripts/build.sh" -DSLIM_WERROR=ON -DSLIM_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
run_ctest "$top/build-asan" -L 'unit|bpf|sanitize'
# Only the harnesses are built in this tree (clang, not the default compiler).
cmake -S "$top" -B "$top/build-fuzz" -DCMAKE_C_COMPILER=clang -DSLIM_WERROR=ON -DSLIM_FUZZ=ON >/dev/null
cmake --build "$top/build-fuzz" --target fuzz-harnesses -j2
run_ctest "$top/build-fuzz" -L fuzz
