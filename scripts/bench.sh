#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# The benchmark suite in one command: installs what it needs (Debian 12
# packages), builds slim, brings up a testbed of its own, measures host
# networking vs the VXLAN overlay vs slim, takes the testbed down (also on
# failure), and writes docs/benchmarks/latest.md, latest.svg and latest.tsv.
#
#   bash scripts/bench.sh [--no-deps] [--no-build] [bench-suite.sh options...]   (as root)
#
# --no-deps   skip apt-get (the packages are there already)
# --no-build  use the programs in SLIM_BIN_DIR instead of building into
#             BUILD_DIR (default ./build) and using BUILD_DIR/install/bin
# Options of bench/bench-suite.sh (--rounds R, --seconds S, --parts LIST,
# --prefix P, --out DIR) are passed on; see docs/benchmarks/README.md.
# Takes about 10 minutes with the defaults on a 2-CPU machine.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck disable=SC2034 # read by lib.sh (messages)
TB_PROG=bench.sh
# shellcheck source=../testbed/lib.sh
. "$top/testbed/lib.sh"
need_root "apt-get, BPF and network namespaces need it"
deps=1 build=1
while [ $# -gt 0 ]; do
	case $1 in
	--no-deps) deps=0 ;;
	--no-build) build=0 ;;
	*) break ;;
	esac
	shift
done
if [ "$deps" = 1 ]; then
	"$top/scripts/deps.sh"
	# The applications and the tools the suite drives: nginx + wrk,
	# PostgreSQL (server, psql, pgbench), setpriv (util-linux) to start
	# postgres as its own user.
	pkgs=(nginx wrk postgresql postgresql-client util-linux curl)
	missing=()
	for p in "${pkgs[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		echo "bench.sh: installing ${missing[*]}"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq || { echo "bench.sh: apt-get update failed (no network to the Debian mirror?)" >&2; exit 1; }
		# Debian starts the nginx and postgresql services on install where
		# an init system lets it; the suite starts its own instances in the
		# testbed and never touches those.
		apt-get install -y -qq "${missing[@]}" >/dev/null ||
			{ echo "bench.sh: apt-get install ${missing[*]} failed" >&2; exit 1; }
	fi
fi
if [ "$build" = 1 ]; then
	build_dir=${BUILD_DIR:-$top/build}
	BUILD_DIR=$build_dir "$top/scripts/build.sh" ||
		{ echo "bench.sh: the build failed (see above)" >&2; exit 1; }
	export SLIM_BIN_DIR=$build_dir/install/bin
elif [ -z "${SLIM_BIN_DIR:-}" ]; then
	echo "bench.sh: --no-build needs SLIM_BIN_DIR (a build tree or an install bin dir)" >&2
	exit 1
fi
exec bash "$top/bench/bench-suite.sh" "$@"
