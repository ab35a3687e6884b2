#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Starts and stops the two slim routers of a testbed made by testbed.sh.
#
#   slim-env.sh up PREFIX      start slim-router in PREFIX-h1 and PREFIX-h2, wait until
#                              each answers `slimctl status`, register c1, c3 (h1) and c2 (h2)
#   slim-env.sh down PREFIX    stop the routers (by the pids recorded at up), remove their
#                              sockets, cgroups and pin dirs; idempotent
#   slim-env.sh status PREFIX  `slimctl status` of both routers
#   slim-env.sh restart PREFIX N [--kill]
#                              stop router hN (SIGTERM, or SIGKILL with --kill: a crash)
#                              and start it again without registering anything: its
#                              state file restores the containers, and it reuses the
#                              maps (and reserved port group) its listeners still hold
#   slim-env.sh stop-one PREFIX N [--kill]   /   slim-env.sh start-one PREFIX N
#                              the two halves of restart, to look at the gap between
#
# Each router runs in its host namespace with socket /run/slim/PREFIX-hN.sock,
# cgroup <cgroup2>/slim-PREFIX-hN and pin dir /sys/fs/bpf/slim-PREFIX-hN (per
# prefix, so a demo and the tests can coexist; if /sys/fs/bpf is not a bpffs,
# a private bpffs is mounted in the state dir instead and unmounted at down);
# logs, pids and container registries are in the testbed's state dir
# (router-hN.log, router-hN.pid, router-hN.containers: --state).
# Programs: SLIM_ROUTER / SLIMCTL, or found through SLIM_BIN_DIR (see lib.sh).
# SLIM_ETCD=http://ADDR:PORT[,...]: routers take the hosts from etcd rather
# than the cluster file (SLIM_ETCD_TTL: the lease of their records).
# SLIM_ROUTER_ARGS: more options for both routers, split at blanks (e.g.
# "--metrics 127.0.0.1:9771": each host namespace has its own lo).
set -euo pipefail
TB_PROG=slim-env.sh
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

WAIT_SECS=10

usage() {
	echo "usage: slim-env.sh up|down|status PREFIX | restart|stop-one PREFIX N [--kill]" \
		"| start-one PREFIX N" >&2
	exit 1
}

# router_pid N: prints the recorded pid of router hN if that process is
# still the router we started (checked by its command line), else nothing.
router_pid() {
	local n=$1 pidfile=$TB_STATE_DIR/router-h$1.pid pid sock cmd
	[[ -f $pidfile ]] || return 0
	pid=$(<"$pidfile")
	[[ $pid =~ ^[0-9]+$ ]] || return 0
	pid_alive "$pid" || return 0
	sock=TB_SOCK$n
	cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 0
	[[ $cmd == *"--socket ${!sock} "* ]] || return 0
	echo "$pid"
}

# start_router N: starts router hN in its host netns; records its pid. The log
# is appended to, so a restart keeps the previous router's lines.
start_router() {
	local n=$1 hns sock cg pin log pid i ip subnet src extra
	hns=TB_H$n sock=TB_SOCK$n cg=TB_CG$n pin=TB_PIN$n ip=TB_H${n}_IP subnet=TB_H${n}_SUBNET
	log=$TB_STATE_DIR/router-h$n.log
	[[ -z $(router_pid "$n") ]] || die "router h$n of $TB_PREFIX already running"
	mkdir -p /run/slim
	# SLIM_ETCD=URLS: the routers take the cluster from etcd instead of the
	# cluster file (SLIM_ETCD_TTL: their lease, seconds).
	if [[ -n ${SLIM_ETCD:-} ]]; then
		src=(--etcd "$SLIM_ETCD" --underlay "${!ip}" --subnet "${!subnet}" --port "$TB_PORT")
		[[ -z ${SLIM_ETCD_TTL:-} ]] || src+=(--etcd-ttl "$SLIM_ETCD_TTL")
	else
		src=(--cluster "$TB_CLUSTER")
	fi
	read -ra extra <<<"${SLIM_ROUTER_ARGS:-}"
	# nsenter execs the router (no fork for a net namespace), so $! is its pid.
	nsenter --net="/run/netns/${!hns}" -- "$SLIM_ROUTER" "${src[@]}" --host "h$n" \
		--socket "${!sock}" --cgroup "${!cg}" --pin-dir "${!pin}" \
		--state "$TB_STATE_DIR/router-h$n.containers" "${extra[@]}" </dev/null >>"$log" 2>&1 &
	pid=$!
	echo "$pid" >"$TB_STATE_DIR/router-h$n.pid"
	for ((i = 0; i < WAIT_SECS * 10; i++)); do
		if ! pid_alive "$pid"; then
			echo "slim-env.sh: router h$n exited during start-up; its log ($log):" >&2
			tail -n 20 "$log" >&2 || true
			die "router h$n of $TB_PREFIX failed to start"
		fi
		if in_ns "${!hns}" "$SLIMCTL" --socket "${!sock}" status >/dev/null 2>&1; then
			echo "router h$n up (pid $pid, socket ${!sock}, log $log)"
			return 0
		fi
		sleep 0.1
	done
	echo "slim-env.sh: router h$n log ($log):" >&2
	tail -n 20 "$log" >&2 || true
	die "router h$n of $TB_PREFIX did not answer 'slimctl status' within ${WAIT_SECS}s"
}

# register N CONTAINER NETNS VIP
register() {
	local n=$1 name=$2 ns=$3 vip=$4 hns sock out
	hns=TB_H$n sock=TB_SOCK$n
	out=$(in_ns "${!hns}" "$SLIMCTL" --socket "${!sock}" container add "$name" --ip "$vip" \
		--netns "/run/netns/$ns" 2>&1) ||
		die "registering $name ($vip) with router h$n failed: $out"
	echo "registered $name $vip with router h$n"
}

env_up() {
	need_root "starts and stops routers"
	[[ -f $TB_CLUSTER && -e /run/netns/$TB_H1 ]] ||
		die "testbed $TB_PREFIX is not up (run: testbed.sh up $TB_PREFIX)"
	need_bins SLIM_ROUTER=slim-router SLIMCTL=slimctl
	ENV_UP_OK=0
	trap 'if ((ENV_UP_OK == 0)); then env_down; fi' EXIT
	if [[ -n $TB_BPFFS ]] && ! mountpoint -q "$TB_BPFFS"; then
		mkdir -p "$TB_BPFFS"
		mount -t bpf "slim-$TB_PREFIX" "$TB_BPFFS" ||
			die "cannot mount a bpffs at $TB_BPFFS for the pin dirs (/sys/fs/bpf is not a bpffs)"
	fi
	start_router 1
	start_router 2
	register 1 c1 "$TB_C1" "$TB_C1_IP"
	register 1 c3 "$TB_C3" "$TB_C3_IP"
	register 2 c2 "$TB_C2" "$TB_C2_IP"
	# shellcheck disable=SC2034 # read by the EXIT trap
	ENV_UP_OK=1
	trap - EXIT
}

# stop_router N: SIGTERM, up to 5 s, then SIGKILL; then removes what the router
# may have left behind at the paths we chose for it.
stop_router() {
	local n=$1 pid i sock cg pin
	sock=TB_SOCK$n cg=TB_CG$n pin=TB_PIN$n
	pid=$(router_pid "$n")
	if [[ -n $pid ]]; then
		kill -TERM "$pid" 2>/dev/null || true
		for ((i = 0; i < 50; i++)); do
			pid_alive "$pid" || break
			sleep 0.1
		done
		if pid_alive "$pid"; then
			echo "slim-env.sh: router h$n (pid $pid) ignored SIGTERM for 5s, killing it" >&2
			kill -KILL "$pid" 2>/dev/null || true
			sleep 0.2
		fi
		echo "router h$n stopped (pid $pid)"
	fi
	rm -f "$TB_STATE_DIR/router-h$n.pid" "${!sock}" "$TB_STATE_DIR/router-h$n.containers" \
		"$TB_STATE_DIR/router-h$n.containers.tmp"
	if [[ -d ${!cg} ]]; then
		rmdir "${!cg}" 2>/dev/null || echo "slim-env.sh: could not remove cgroup ${!cg} (processes left in it?)" >&2
	fi
	if [[ -d ${!pin} ]]; then
		rm -rf "${!pin}" 2>/dev/null || echo "slim-env.sh: could not remove pin dir ${!pin}" >&2
	fi
}

env_down() {
	need_root "starts and stops routers"
	stop_router 1
	stop_router 2
	if [[ -n $TB_BPFFS ]] && mountpoint -q "$TB_BPFFS"; then
		umount "$TB_BPFFS" || echo "slim-env.sh: could not unmount $TB_BPFFS" >&2
	fi
	return 0
}

# env_stop_one N [--kill]: stops router hN with SIGTERM (or SIGKILL), leaving
# its socket file, cgroup, pins and state file in place: a router started
# later must take over from them by itself.
env_stop_one() {
	local n=$1 sig=TERM pid i
	need_root "starts and stops routers"
	[[ $n == 1 || $n == 2 ]] || die "bad router number '$n' (1 or 2)"
	case ${2:-} in
	"") ;;
	--kill) sig=KILL ;;
	*) usage ;;
	esac
	need_bins SLIM_ROUTER=slim-router SLIMCTL=slimctl
	pid=$(router_pid "$n")
	[[ -n $pid ]] || die "router h$n of $TB_PREFIX is not running (run: slim-env.sh up $TB_PREFIX)"
	kill -"$sig" "$pid" 2>/dev/null || true
	for ((i = 0; i < 50; i++)); do
		pid_alive "$pid" || break
		sleep 0.1
	done
	pid_alive "$pid" && die "router h$n (pid $pid) did not stop within 5s after SIG$sig"
	echo "router h$n stopped with SIG$sig (pid $pid)"
}

# env_start_one N: starts router hN again after env_stop_one (no registering:
# its state file must bring the containers back).
env_start_one() {
	need_root "starts and stops routers"
	[[ $1 == 1 || $1 == 2 ]] || die "bad router number '$1' (1 or 2)"
	need_bins SLIM_ROUTER=slim-router SLIMCTL=slimctl
	start_router "$1"
}

env_status() {
	need_bins SLIMCTL=slimctl
	in_ns "$TB_H1" "$SLIMCTL" --socket "$TB_SOCK1" status
	in_ns "$TB_H2" "$SLIMCTL" --socket "$TB_SOCK2" status
}

if [[ ${1:-} == restart || ${1:-} == stop-one ]]; then
	[[ $# == 3 || $# == 4 ]] || usage
elif [[ ${1:-} == start-one ]]; then
	[[ $# == 3 ]] || usage
else
	[[ $# == 2 ]] || usage
fi
tb_vars "$2"
case $1 in
up) env_up ;;
down) env_down ;;
status) env_status ;;
restart)
	env_stop_one "$3" "${4:-}"
	env_start_one "$3"
	;;
stop-one) env_stop_one "$3" "${4:-}" ;;
start-one) env_start_one "$3" ;;
*) usage ;;
esac
