#!/usr/bin/env bash
# Fresh machine to test results: install packages, build with -Werror and run
# every test; then build again under AddressSanitizer + UBSan and run the
# tests that do not preload libslim into other programs.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/deps.sh"
"$top/scripts/build.sh" -DSLIM_WERROR=ON
ctest --test-dir "$top/build" --output-on-failure -j1
BUILD_DIR="$top/build-asan" "$top/scripts/build.sh" -DSLIM_WERROR=ON -DSLIM_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
ctest --test-dir "$top/build-asan" --output-on-failure -j1 -L 'unit|bpf|sanitize'
