#!/usr/bin/env bash
# Installs what slim needs to build, run its demo and run its tests, from
# Debian 12 packages. Safe to run again: apt-get skips what is there.
set -euo pipefail
if [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: must run as root (apt-get, BPF and namespaces need it): try sudo" >&2
	exit 1
fi
pkgs=(
	build-essential cmake pkg-config clang llvm
	libbpf-dev bpftool linux-libc-dev
	libev-dev libprotobuf-c-dev protobuf-c-compiler libseccomp-dev
	iproute2 util-linux procps python3 curl
)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "deps.sh: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq "${missing[@]}" >/dev/null
fi
