# shellcheck shell=bash disable=SC2034
# Helpers shared by setup-compare.sh and bench-suite.sh: the measured paths, how to
# start a program on a path's client or server side, the packet counters
# that tell whether a slim path fell back to the container network, and
# medians. Source it after ../testbed/lib.sh and tb_vars.
#
# Paths (cross host: compared with "host"; same host: with "host-local"):
#   host           client in h1 -> server in h2 bound to h2's underlay IP (no overlay)
#   vxlan          client in c1 -> server in c2 over the VXLAN fallback (no preload)
#   slim           client in c1 -> server in c2, both under slim-run
#   slim-ipc       as slim, with SLIM_FASTPATH=0 given to both programs (libslim
#                  asks the router on every connect: the per-connect request path)
#   host-local     client in h1 -> server on 127.0.0.1 in h1
#   bridge-local   client in c1 -> server in c3 through h1's bridge (no preload)
#   slim-local     client in c1 -> server in c3, both under slim-run
#   slim-ipc-local as slim-local with SLIM_FASTPATH=0
# Mixed peers (compared with the container network of the same kind):
#   slim-plain       client in c1 under slim-run -> plain server in c2 (no preload):
#                    the destination host translates (compared with "vxlan")
#   slim-plain-local client in c1 under slim-run -> plain server in c3 (compared
#                    with "bridge-local")
#   plain-slim       plain client in c1 (no preload) -> server in c2 under slim-run:
#                    the listener's container side, over VXLAN (compared with "vxlan")
#   plain-slim-local plain client in c1 -> server in c3 under slim-run, through the
#                    bridge (compared with "bridge-local")

BL_MODES="host vxlan slim slim-ipc host-local bridge-local slim-local slim-ipc-local slim-plain slim-plain-local plain-slim plain-slim-local"

# bl_known MODE: true if MODE is one of BL_MODES.
bl_known() {
	[[ " $BL_MODES " == *" $1 "* ]]
}

# bl_mode MODE: sets SRV_NS SRV_SOCK SRV_BIND CLI_NS CLI_SOCK DST BASE IPC
# IDX for MODE (SOCK empty = no slim-run, BIND empty = any address, BASE the
# path the ratio is taken to, IPC 1 for the SLIM_FASTPATH=0 paths, IDX the
# mode's position in BL_MODES, so that each path can get a port of its own).
bl_mode() {
	SRV_SOCK="" CLI_SOCK="" SRV_BIND="" IPC=0
	case $1 in
	host) SRV_NS=$TB_H2 SRV_BIND=$TB_H2_IP CLI_NS=$TB_H1 DST=$TB_H2_IP BASE=host IDX=0 ;;
	vxlan) SRV_NS=$TB_C2 CLI_NS=$TB_C1 DST=$TB_C2_IP BASE=host IDX=1 ;;
	slim | slim-ipc)
		SRV_NS=$TB_C2 SRV_SOCK=$TB_SOCK2 CLI_NS=$TB_C1 CLI_SOCK=$TB_SOCK1 DST=$TB_C2_IP BASE=host IDX=2
		[[ $1 == slim ]] || IPC=1 IDX=3
		;;
	host-local) SRV_NS=$TB_H1 SRV_BIND=127.0.0.1 CLI_NS=$TB_H1 DST=127.0.0.1 BASE=host-local IDX=4 ;;
	bridge-local) SRV_NS=$TB_C3 CLI_NS=$TB_C1 DST=$TB_C3_IP BASE=host-local IDX=5 ;;
	slim-local | slim-ipc-local)
		SRV_NS=$TB_C3 SRV_SOCK=$TB_SOCK1 CLI_NS=$TB_C1 CLI_SOCK=$TB_SOCK1 DST=$TB_C3_IP \
			BASE=host-local IDX=6
		[[ $1 == slim-local ]] || IPC=1 IDX=7
		;;
	slim-plain) SRV_NS=$TB_C2 CLI_NS=$TB_C1 CLI_SOCK=$TB_SOCK1 DST=$TB_C2_IP BASE=vxlan IDX=8 ;;
	slim-plain-local)
		SRV_NS=$TB_C3 CLI_NS=$TB_C1 CLI_SOCK=$TB_SOCK1 DST=$TB_C3_IP BASE=bridge-local IDX=9
		;;
	plain-slim) SRV_NS=$TB_C2 SRV_SOCK=$TB_SOCK2 CLI_NS=$TB_C1 DST=$TB_C2_IP BASE=vxlan IDX=10 ;;
	plain-slim-local)
		SRV_NS=$TB_C3 SRV_SOCK=$TB_SOCK1 CLI_NS=$TB_C1 DST=$TB_C3_IP BASE=bridge-local IDX=11
		;;
	*) die "unknown path '$1' (one of: $BL_MODES)" ;;
	esac
}

# bl_is_slim MODE: true for the paths that run under slim-run.
bl_is_slim() {
	[[ $1 == slim* ]]
}

# bl_cmd NETNS SOCK IPC: sets CMD to the command prefix that runs a program
# in NETNS, under slim-run if SOCK is set, with SLIM_FASTPATH=0 if IPC is 1
# (and without any SLIM_FASTPATH of the caller's otherwise). nsenter, env and
# slim-run all exec, so the pid of CMD is the program's pid.
bl_cmd() {
	CMD=(nsenter --net="/run/netns/$1" --)
	if [[ -n $2 ]]; then
		if [[ $3 == 1 ]]; then CMD+=(env SLIM_FASTPATH=0); else CMD+=(env -u SLIM_FASTPATH); fi
		CMD+=("$SLIM_RUN" --socket "$2" --)
	fi
}

# bl_srv_cmd MODE / bl_cli_cmd MODE: CMD for the server / client side of MODE.
bl_srv_cmd() {
	bl_mode "$1"
	bl_cmd "$SRV_NS" "$SRV_SOCK" "$IPC"
}
bl_cli_cmd() {
	bl_mode "$1"
	bl_cmd "$CLI_NS" "$CLI_SOCK" "$IPC"
}

# bl_tx_pkts NETNS:DEV...: the sum of the devices' transmitted packets.
bl_tx_pkts() {
	local total=0 nd n
	for nd in "$@"; do
		n=$(ip -n "${nd%%:*}" -j -s link show "${nd#*:}" |
			python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["stats64"]["tx"]["packets"])') ||
			die "cannot read the packet counters of ${nd#*:} in ${nd%%:*}"
		total=$((total + n))
	done
	echo "$total"
}

# bl_fallback_pkts: "VXLAN C1" packet counts: sent on vxlan0 by both hosts,
# and on c1's own eth0. A slim run must move neither (c1 is every path's
# client container).
bl_fallback_pkts() {
	echo "$(bl_tx_pkts "$TB_H1:vxlan0" "$TB_H2:vxlan0") $(bl_tx_pkts "$TB_C1:eth0")"
}

# bl_median WORDS...: median of the numbers (lower middle for an even count).
bl_median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
# bl_minmax WORDS...: "MIN-MAX" of the numbers.
bl_minmax() { printf '%s\n' "$@" | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { print lo "-" hi }'; }

# CPU placement (--pin of setup-compare.sh and setup-budget.sh):
#   same   client, server and both routers on CPU 0: every process of a
#          transaction shares one CPU, so the rate shows the CPU cost directly
#   split  client on CPU 0, server on CPU 1, the routers where the scheduler
#          puts them
#   none   nothing pinned
BL_PINS="same split none"

# bl_pin_known PIN: true if PIN is one of BL_PINS.
bl_pin_known() {
	[[ " $BL_PINS " == *" $1 "* ]]
}

# bl_pin_cmd PIN client|server: sets PIN_CMD to the prefix (possibly empty)
# that places that side for PIN. taskset execs, so the pid stays the program's.
bl_pin_cmd() {
	PIN_CMD=()
	case $1:$2 in
	same:* | split:client) PIN_CMD=(taskset -c 0) ;;
	split:server) PIN_CMD=(taskset -c 1) ;;
	esac
}

# bl_router_pids: the pids of the testbed's two routers (as slim-env.sh
# recorded them), one a line; dies if one is not running.
bl_router_pids() {
	local n f pid
	for n in 1 2; do
		f=$TB_STATE_DIR/router-h$n.pid
		pid=$(cat "$f" 2>/dev/null) || die "no $f: are the routers of $TB_PREFIX up? (slim-env.sh up $TB_PREFIX)"
		pid_alive "$pid" || die "router h$n of $TB_PREFIX (pid $pid) is not running (slim-env.sh up $TB_PREFIX)"
		echo "$pid"
	done
}

# bl_pin_routers PIN: for PIN "same", moves every thread of both routers to
# CPU 0, remembering their CPU lists in BL_ROUTER_CPUS (pid -> list) for
# bl_unpin_routers; other PINs leave the routers alone.
declare -A BL_ROUTER_CPUS=()
bl_pin_routers() {
	local pid
	[[ $1 == same ]] || return 0
	for pid in $(bl_router_pids); do
		[[ -n ${BL_ROUTER_CPUS[$pid]:-} ]] ||
			BL_ROUTER_CPUS[$pid]=$(awk '$1 == "Cpus_allowed_list:" { print $2 }' "/proc/$pid/status")
		taskset -a -p -c 0 "$pid" >/dev/null || die "cannot pin router pid $pid to CPU 0"
	done
}

# bl_unpin_routers: gives the routers back the CPU lists bl_pin_routers found
# (a router that has gone is skipped).
bl_unpin_routers() {
	local pid
	for pid in "${!BL_ROUTER_CPUS[@]}"; do
		pid_alive "$pid" && taskset -a -p -c "${BL_ROUTER_CPUS[$pid]}" "$pid" >/dev/null 2>&1
		unset "BL_ROUTER_CPUS[$pid]"
	done
	return 0
}

# bl_cpu_ticks [CPU]: busy time (user+nice+system+irq+softirq, USER_HZ
# ticks) of all CPUs together, or of CPU number CPU, from /proc/stat: the
# work done anywhere, including kernel work on behalf of nobody in particular.
bl_cpu_ticks() {
	awk -v c="cpu${1:-}" '$1 == c { print $2 + $3 + $4 + $7 + $8; exit }' /proc/stat
}

# bl_proc_ns PID: CPU time of every live thread of PID in ns
# (/proc/PID/task/*/schedstat); 0 if PID has gone.
bl_proc_ns() {
	local f t s=0
	for f in /proc/"$1"/task/*/schedstat; do
		read -r t _ <"$f" 2>/dev/null || continue
		s=$((s + t))
	done
	echo "$s"
}
