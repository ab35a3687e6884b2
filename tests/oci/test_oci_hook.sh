#!/usr/bin/env bash
# oci_hook: slim-oci-hook given container states on stdin as a runtime gives
# them. Bad input and missing pieces are one-line refusals (exit 1, or 2 for
# usage); a container without the annotation is left alone; run in the
# host's mount namespace, or with a root filesystem on a shared mount, it
# refuses to mount anything; in a private mount namespace (unshare -m) it
# makes /run/slim (the library, the socket's directory, the symlink to the
# socket, the preload list keeping the image's own entries) and a read-only
# /etc/ld.so.preload; symlinks planted in the image are not followed.
set -euo pipefail
[[ $(id -u) == 0 ]] || { echo "SKIP: needs root (mounts)"; exit 77; }
for v in SLIM_OCI_HOOK SLIM_LIB; do
	[[ -n ${!v:-} && -e ${!v} ]] || { echo "SKIP: $v not set (run through ctest)"; exit 77; }
done
W=$(mktemp -d /tmp/slim-oci-hook.XXXXXX)
SRV=""
cleanup() {
	local rc=$?
	[[ -z $SRV ]] || kill "$SRV" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$W"
	exit "$rc"
}
trap cleanup EXIT
CHECKS=0
ok() { CHECKS=$((CHECKS + 1)); echo "ok: $*"; }
fail() { echo "FAIL: oci_hook: $*"; exit 1; }

# A router socket (any listening unix socket will do for the hook).
mkdir -p "$W/sock"
python3 -c 'import socket,sys,time; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(); time.sleep(120)' \
	"$W/sock/r.sock" &
SRV=$!
for _ in $(seq 50); do [[ -S $W/sock/r.sock ]] && break; sleep 0.1; done
[[ -S $W/sock/r.sock ]] || fail "no test socket"

# bundle NAME ROOTFS_PATH: a bundle dir with a config.json naming the rootfs.
bundle() {
	mkdir -p "$W/$1"
	printf '{"ociVersion":"1.0.2","root":{"path":"%s"}}' "$2" >"$W/$1/config.json"
}
state() { # ID BUNDLE ANNOTATION_VALUE
	printf '{"ociVersion":"1.0.2","id":"%s","status":"creating","pid":1,"bundle":"%s","annotations":{"io.slim.enable":"%s"}}' "$1" "$2" "$3"
}
# hook STDIN ARGS...: runs the hook; RC, OUT (stdout+stderr).
hook() {
	local in=$1
	shift
	RC=0
	OUT=$("$SLIM_OCI_HOOK" --socket "$W/sock/r.sock" --lib "$SLIM_LIB" "$@" <<<"$in" 2>&1) || RC=$?
}
expect() { # WHAT RC REGEX
	[[ $RC == "$2" && $OUT =~ $3 ]] || fail "$1: exit $RC, output '$OUT'; want exit $2 and /$3/"
	ok "$1: exit $RC${OUT:+, $OUT}"
}

mkdir -p "$W/rootfs/etc" "$W/rootfs/run" "$W/rootfs/proc"
bundle b ../rootfs # relative to the bundle, as runtimes allow

RC=0
OUT=$("$SLIM_OCI_HOOK" --help 2>&1) || RC=$?
expect "--help" 0 "^usage: slim-oci-hook"
hook "" --bogus
expect "unknown option" 2 "^slim-oci-hook: unknown option or missing value: --bogus"
hook "not json"
expect "garbage on stdin" 1 "^slim-oci-hook: container state on stdin: not a JSON object"
hook '{"id":"x"}'
expect "state without bundle" 1 "lacks \"id\" or an absolute \"bundle\""
hook "$(head -c 2000000 /dev/zero | tr '\0' ' ')"
expect "state over 1 MiB" 1 "larger than 1 MiB"
hook "$(state c1 "$W/b" false)"
expect "annotation false: untouched" 0 "^$"
hook '{"id":"c1","bundle":"/nonexistent"}'
expect "no annotations in the state nor a config: refused" 1 "cannot open /nonexistent/config.json"
bundle nor /nonexistent-root
hook "$(state c1 "$W/nor" true)"
expect "missing root filesystem" 1 "root filesystem /nonexistent-root: No such file"
hook "$(state c1 "$W/b" true)" --lib /nonexistent.so
expect "no library" 1 "no libslim.so at /nonexistent.so"
hook "$(state c1 "$W/b" true)" --socket "$W/sock/none.sock"
expect "no router socket" 1 "no slim router socket at .*/none.sock \\(start slim-router"
hook "$(state c1 "$W/b" true)"
expect "this mount namespace (no /proc in the rootfs)" 1 "not in the container's mount namespace"
[[ ! -e $W/rootfs/run/slim ]] || fail "the refused hook made $W/rootfs/run/slim"
ok "nothing made in the root filesystem"

# In a mount namespace of its own whose mounts are shared with a peer group:
# refused, as mounts there would propagate.
RC=0
OUT=$(state c1 "$W/b" true | unshare -m --propagation shared "$SLIM_OCI_HOOK" \
	--socket "$W/sock/r.sock" --lib "$SLIM_LIB" 2>&1) || RC=$?
expect "shared root filesystem mount" 1 "is shared with other mount namespaces"

# In a private mount namespace: the mounts, inspected from inside it.
printf '/usr/lib/other.so\n' >"$W/rootfs/etc/ld.so.preload"
# shellcheck disable=SC2016 # expanded by the inner shell
inner='mount -t proc proc "$2/rootfs/proc" || exit 8
"$1" --socket "$2/sock/r.sock" --lib "$3" <"$2/state" || exit 9
r=$2/rootfs
cat "$r/etc/ld.so.preload"; echo "--"
readlink "$r/run/slim/slim.sock"
test -S "$r/run/slim/router/r.sock" && echo socket-visible
cmp -s "$r/run/slim/libslim.so" "$3" && echo lib-same
touch "$r/run/slim/x" 2>/dev/null || echo slim-dir-ro
{ echo x >>"$r/etc/ld.so.preload"; } 2>/dev/null || echo preload-ro
grep -c " $r/run/slim" /proc/self/mountinfo'
# The shell run by unshare is pid 1 of a new pid namespace: its /proc mount
# shows only it.
state c1 "$W/b" true >"$W/state"
RC=0
OUT=$(unshare -m -p -f --propagation private bash -c "$inner" _ "$SLIM_OCI_HOOK" "$W" "$SLIM_LIB" 2>&1) || RC=$?
want=$'/run/slim/libslim.so\n/usr/lib/other.so\n--\nrouter/r.sock\nsocket-visible\nlib-same\nslim-dir-ro\npreload-ro\n3'
[[ $RC == 0 && $OUT == "$want" ]] || fail "mounts in a private namespace: exit $RC, got '$OUT', want '$want'"
ok "mounts: preload list (image's entry kept), socket symlink and directory, library, read-only"
[[ ! -e $W/rootfs/run/slim/libslim.so ]] || fail "the mounts leaked out of the namespace"
ok "nothing mounted outside the namespace"

# with_proc CMD...: CMD in a private mount namespace with proc mounted in
# the root filesystem, as a runtime leaves it for createContainer.
with_proc() {
	# shellcheck disable=SC2016 # expanded by the inner shell
	unshare -m -p -f --propagation private bash -c 'mount -t proc proc "$1" && shift && exec "$@"' \
		_ "$W/rootfs/proc" "$@"
}

# Symlinks planted in the image: not followed.
rm "$W/rootfs/etc/ld.so.preload"
ln -s /etc/hostname "$W/rootfs/etc/ld.so.preload"
RC=0
OUT=$(with_proc "$SLIM_OCI_HOOK" --socket "$W/sock/r.sock" --lib "$SLIM_LIB" <"$W/state" 2>&1) || RC=$?
expect "/etc/ld.so.preload a symlink" 1 "cannot make /etc/ld.so.preload in the root filesystem: Invalid argument"
rm "$W/rootfs/etc/ld.so.preload" && rmdir "$W/rootfs/run/slim" && rmdir "$W/rootfs/run"
mkdir -p "$W/elsewhere"
ln -s "$W/elsewhere" "$W/rootfs/run"
RC=0
OUT=$(with_proc "$SLIM_OCI_HOOK" --socket "$W/sock/r.sock" --lib "$SLIM_LIB" <"$W/state" 2>&1) || RC=$?
expect "/run a symlink" 1 "cannot make /run/slim in the root filesystem: Not a directory"
[[ -z $(ls -A "$W/elsewhere") ]] || fail "the hook wrote through the /run symlink"
ok "nothing written through the symlink"
echo "PASS: oci_hook ($CHECKS checks)"
