# shellcheck shell=bash disable=SC2034
# Common helpers for the slim testbed scripts (and the root check of
# scripts/). Source it; it defines functions and, through tb_vars PREFIX, the
# names and addresses of one testbed.
#
# Knobs (environment):
#   UNDERLAY_NET      first three octets of the underlay /24 (default 192.168.77)
#   SLIM_TESTBED_DIR  parent of the per-testbed state dirs (default /run/slim-testbed)
#   SLIM_BIN_DIR      where slim-router, slimctl, slim-run, slim-echo,
#                     slim-setup-bench are (a build tree or an install bin/)
#   SLIM_ROUTER SLIMCTL SLIM_RUN SLIM_ECHO SLIM_SETUP_BENCH: exact paths (win over SLIM_BIN_DIR)

TB_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# die MESSAGE...: one clear line on stderr, exit 1.
die() {
	echo "${TB_PROG:-testbed}: $*" >&2
	exit 1
}

# need_root WHY: dies unless running as root, with the command that runs
# this script as root here: through sudo where it is installed, else su (a
# fresh Debian installed with a root password has no sudo).
need_root() {
	local self
	[[ $(id -u) == 0 ]] && return 0
	self=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
	if command -v sudo >/dev/null 2>&1; then
		die "must run as root ($1): sudo bash $self"
	fi
	die "must run as root ($1): su - -c 'bash $self' (there is no sudo here)"
}

# tb_vars PREFIX: sets the TB_* variables describing testbed PREFIX.
# Only network namespaces carry the prefix; interface names inside them are
# fixed and short (ul0, br0, vxlan0, vcN, eth0), so any prefix length works.
tb_vars() {
	local p=$1 net=${UNDERLAY_NET:-192.168.77}
	[[ $p =~ ^[A-Za-z0-9][A-Za-z0-9_-]{0,11}$ ]] ||
		die "bad prefix '$p' (1..12 chars of [A-Za-z0-9_-], starting alnum)"
	[[ $net =~ ^[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}$ ]] ||
		die "bad UNDERLAY_NET '$net' (want three octets, e.g. 192.168.77)"
	TB_PREFIX=$p
	TB_STATE_DIR=${SLIM_TESTBED_DIR:-/run/slim-testbed}/$p
	TB_CLUSTER=$TB_STATE_DIR/cluster.conf
	TB_H1=$p-h1 TB_H2=$p-h2
	TB_C1=$p-c1 TB_C2=$p-c2 TB_C3=$p-c3
	TB_H1_IP=$net.1 TB_H2_IP=$net.2
	TB_C1_IP=10.244.1.2 TB_C2_IP=10.244.2.2 TB_C3_IP=10.244.1.3
	TB_H1_SUBNET=10.244.1.0/24 TB_H2_SUBNET=10.244.2.0/24
	TB_PORT=7771
	TB_SOCK1=/run/slim/$p-h1.sock TB_SOCK2=/run/slim/$p-h2.sock
	# Pin dirs need a bpffs. Use /sys/fs/bpf if it is one; otherwise
	# slim-env.sh mounts a private bpffs instance at TB_BPFFS (and unmounts it).
	TB_BPFFS=""
	if [[ $(stat -f -c %T /sys/fs/bpf 2>/dev/null) == bpf_fs ]]; then
		TB_PIN1=/sys/fs/bpf/slim-$p-h1 TB_PIN2=/sys/fs/bpf/slim-$p-h2
	else
		TB_BPFFS=$TB_STATE_DIR/bpffs
		TB_PIN1=$TB_BPFFS/slim-h1 TB_PIN2=$TB_BPFFS/slim-h2
	fi
	local cg
	cg=$(cgroup2_mount) || cg=/sys/fs/cgroup
	TB_CG1=$cg/slim-$p-h1 TB_CG2=$cg/slim-$p-h2
}

# tb_print_vars: prints the TB_* variables as shell assignments (eval-able).
tb_print_vars() {
	local v
	for v in TB_PREFIX TB_STATE_DIR TB_CLUSTER TB_H1 TB_H2 TB_C1 TB_C2 TB_C3 \
		TB_H1_IP TB_H2_IP TB_C1_IP TB_C2_IP TB_C3_IP TB_H1_SUBNET TB_H2_SUBNET \
		TB_PORT TB_SOCK1 TB_SOCK2 TB_BPFFS TB_PIN1 TB_PIN2 TB_CG1 TB_CG2; do
		printf '%s=%q\n' "$v" "${!v}"
	done
}

# cgroup2_mount: prints the cgroup v2 mount point (from mountinfo, never assumed).
cgroup2_mount() {
	awk '{ for (i = 7; i <= NF; i++) if ($i == "-") { if ($(i + 1) == "cgroup2") { print $5; exit } break } }' \
		/proc/self/mountinfo | grep . || return 1
}

# in_ns NETNS CMD...: runs CMD in the network namespace NETNS (by name).
# nsenter, not `ip netns exec`: the latter remounts /sys and hides cgroup2/bpffs.
in_ns() {
	local ns=$1
	shift
	nsenter --net="/run/netns/$ns" -- "$@"
}

# find_bin NAME: prints the path of program NAME: $SLIM_BIN_DIR/NAME,
# $SLIM_BIN_DIR/*/NAME (a build tree), ../../../bin/NAME relative to these
# scripts (installed layout), then PATH. Returns 1 if not found.
find_bin() {
	local name=$1 d c
	if [[ -n ${SLIM_BIN_DIR:-} ]]; then
		for c in "$SLIM_BIN_DIR/$name" "$SLIM_BIN_DIR/bin/$name" "$SLIM_BIN_DIR"/*/"$name"; do
			[[ -x $c && -f $c ]] && { echo "$c"; return 0; }
		done
	fi
	d=$TB_LIB_DIR/../../../bin
	[[ -x $d/$name ]] && { echo "$d/$name"; return 0; }
	command -v "$name" 2>/dev/null && return 0
	return 1
}

# need_bins VAR=NAME...: sets each VAR (unless already set) to find_bin NAME,
# dies naming what is missing.
need_bins() {
	local pair var name path
	for pair in "$@"; do
		var=${pair%%=*} name=${pair#*=}
		if [[ -n ${!var:-} ]]; then
			[[ -x ${!var} ]] || die "$var=${!var} is not executable"
			continue
		fi
		path=$(find_bin "$name") ||
			die "cannot find $name (set SLIM_BIN_DIR to the build or install bin dir, or $var)"
		printf -v "$var" '%s' "$path"
	done
}

# public_lib: exports SLIM_LIB as a copy of the libslim.so slim-run would
# preload ($SLIM_LIB, else slim-run's own choice; needs SLIM_RUN) in a new
# directory every user can enter (0755, the copy 0644), on a filesystem that
# allows mapping code. A daemon that switches user and then execs (setpriv
# before postgres) loads the preload as that user, who cannot reach a build
# tree under a private directory (a clone in a `mktemp -d` directory, a home
# directory): the copy works from any checkout. Sets TB_PUBLIC_LIB_DIR;
# undo with public_lib_remove (the caller's cleanup). Dies if no such copy
# can be made.
TB_PUBLIC_LIB_DIR=""
public_lib() {
	local src base d
	src=${SLIM_LIB:-}
	if [[ -z $src ]]; then
		src=$("$SLIM_RUN" --print-lib) || die "slim-run cannot find libslim.so (set SLIM_LIB)"
	fi
	[[ -f $src ]] || die "SLIM_LIB=$src is not a file"
	for base in /tmp /var/tmp; do
		findmnt -no OPTIONS --target "$base" 2>/dev/null | grep -qw noexec && continue
		d=$(mktemp -d "$base/slim-lib.XXXXXX" 2>/dev/null) || continue
		TB_PUBLIC_LIB_DIR=$d
		{ chmod 0755 "$d" && install -m 0644 "$src" "$d/libslim.so"; } ||
			die "cannot copy $src to $d"
		if setpriv --reuid=65534 --regid=65534 --clear-groups -- test -r "$d/libslim.so"; then
			SLIM_LIB=$d/libslim.so
			export SLIM_LIB
			return 0
		fi
		public_lib_remove
	done
	die "cannot put a copy of libslim.so where every user can load it (/tmp, /var/tmp)"
}

# public_lib_remove: removes what public_lib made (nothing if it made nothing).
public_lib_remove() {
	[[ -n $TB_PUBLIC_LIB_DIR ]] || return 0
	rm -f "$TB_PUBLIC_LIB_DIR/libslim.so"
	rmdir "$TB_PUBLIC_LIB_DIR" 2>/dev/null || echo "${TB_PROG:-testbed}: could not remove $TB_PUBLIC_LIB_DIR" >&2
	TB_PUBLIC_LIB_DIR=""
}

# wait_until SECONDS DESCRIPTION CMD...: retries CMD every 0.1 s until it
# succeeds; returns 1 (after saying what it waited for) on timeout.
wait_until() {
	local secs=$1 what=$2 i
	shift 2
	for ((i = 0; i < secs * 10; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "${TB_PROG:-testbed}: timed out after ${secs}s waiting for $what" >&2
	return 1
}

# kill_tree PID: SIGTERM to PID and its descendants (found by parent pid),
# then SIGKILL to what is left after 3 s. Only for pids the caller started.
kill_tree() {
	local pid=$1 kids k i
	[[ -n $pid ]] || return 0
	kids=$(ps -o pid= --ppid "$pid" 2>/dev/null || true)
	for k in $kids; do kill_tree "$k"; done
	kill -TERM "$pid" 2>/dev/null || return 0
	for ((i = 0; i < 30; i++)); do
		pid_alive "$pid" || return 0
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
}

# pid_alive PID: true if PID exists and is not a zombie.
pid_alive() {
	local st
	st=$(awk '{ sub(/^.*\) /, ""); print $1 }' "/proc/$1/stat" 2>/dev/null) || return 1
	[[ -n $st && $st != Z && $st != X ]]
}
