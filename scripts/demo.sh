#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Fresh machine to running demo: install packages, build, bring up two
# emulated hosts with containers, start a router on each, show two containers
# talking through slim, then the connection-setup benchmark table. As root:
#   bash scripts/demo.sh
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck disable=SC2034 # read by lib.sh (messages)
TB_PROG=demo.sh
# shellcheck source=../testbed/lib.sh
. "$top/testbed/lib.sh"
need_root "apt-get, BPF and network namespaces need it"
"$top/scripts/deps.sh"
"$top/scripts/build.sh"
SLIM_BIN_DIR="$top/build/install/bin" exec bash "$top/testbed/demo-run.sh" "$@"
