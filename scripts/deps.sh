#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Installs what slim needs to build, run its demo and run its tests, from
# Debian 12 packages. Safe to run again: apt-get skips what is there.
set -euo pipefail
# shellcheck disable=SC2034 # read by lib.sh (messages)
TB_PROG=deps.sh
# shellcheck source=../testbed/lib.sh
. "$(dirname "$0")/../testbed/lib.sh"
need_root "apt-get installs the packages"
pkgs=(
	build-essential cmake pkg-config clang llvm
	# libFuzzer and the sanitizer runtimes of the default clang (only
	# recommended by clang): the fuzz tests (fuzz/, SLIM_FUZZ).
	libclang-rt-dev
	libbpf-dev bpftool linux-libc-dev
	libev-dev libprotobuf-c-dev protobuf-c-compiler libseccomp-dev
	# The router's etcd membership (JSON gateway over HTTP); the etcd tests
	# start their own etcd-server.
	libcurl4-openssl-dev libjson-c-dev etcd-server etcd-client
	iproute2 util-linux procps python3 curl
	# System calls per connection in bench/setup-budget.sh
	# (tests/integration/test_budget.sh).
	strace
	# promtool, which checks slim-router's --metrics output
	# (tests/integration/test_metrics.sh).
	prometheus
	# Real programs the integration tests run unmodified (tests/integration/
	# test_app_*.sh, docs/real-programs.md). The static client is built
	# with libc6-dev's libc.a, which build-essential brings.
	nginx wrk redis-server redis-tools memcached postgresql postgresql-client iperf3
	# The install test (tests/install/): the .deb (dpkg-shlibdeps, file),
	# lintian on it, the man pages (groff, lexgrog) and the unit
	# (systemd-analyze; systemd need not run as PID 1).
	dpkg-dev file lintian groff-base man-db systemd
	# Containers started the podman way (tests/integration/test_podman.sh):
	# podman with its CNI backend and the reference CNI plugins; runc, since
	# crun refuses hosts that mount cgroup v1 and v2 side by side.
	podman containernetworking-plugins runc
)
# Packages whose install would start (and enable) a system service. The
# tests start their own instances inside the testbed's namespaces; a system
# instance is of no use to them and only holds ports and memory.
services=(nginx redis-server memcached postgresql etcd prometheus)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "deps.sh: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	# invoke-rc.d and deb-systemd-invoke ask policy-rc.d; exit 101 means
	# "do not start". Only a file we made ourselves is removed afterwards:
	# a machine that has its own policy keeps it.
	policy=/usr/sbin/policy-rc.d
	own_policy=0
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\n# written by slim scripts/deps.sh for the duration of an install\nexit 101\n' >"$policy"
		chmod 755 "$policy"
		own_policy=1
		trap 'rm -f "$policy"' EXIT
	fi
	apt-get update -qq
	apt-get install -y -qq "${missing[@]}" >/dev/null
	if [ "$own_policy" = 1 ]; then
		rm -f "$policy"
		trap - EXIT
	fi
	# Keep the services we just installed from starting at boot either.
	# Only those installed now: a service that was there before is the
	# machine owner's business.
	for s in "${services[@]}"; do
		case " ${missing[*]} " in *" $s "*) ;; *) continue ;; esac
		if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
			systemctl disable --now "$s" >/dev/null 2>&1 || true
		else
			service "$s" stop >/dev/null 2>&1 || true
			update-rc.d "$s" disable >/dev/null 2>&1 || true
		fi
	done
fi
