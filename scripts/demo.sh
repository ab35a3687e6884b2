#!/usr/bin/env bash
# Fresh machine to running demo: install packages, build, bring up two
# emulated hosts with containers, start a router on each, show two containers
# talking through slim, then the connection-setup benchmark table.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/deps.sh"
"$top/scripts/build.sh"
SLIM_BIN_DIR="$top/build/install/bin" exec bash "$top/testbed/demo-run.sh" "$@"
