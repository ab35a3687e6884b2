#!/usr/bin/env bash
# install.tree: installs the build tree BUILD into a temporary prefix (and,
# with DESTDIR, under /usr) and packs it with cpack, then checks
#  - the files an operator needs are there: the programs, libslim.so, the
#    systemd unit, /etc/slim's files, the testbed scripts;
#  - every installed program (bin/, sbin/, libexec/slim/, lib/cni/: the CNI
#    plugin lib/cni/slim's page is slim-cni) has a man page named after it,
#    and every page is groff-warning clean with a NAME section lexgrog reads;
#  - the unit names the installed router and configuration, and
#    `systemd-analyze verify` says nothing about it;
#  - the .deb holds the same tree under /usr with /etc/slim as conffiles, and
#    lintian finds no error (its warnings are listed).
#   test_install_tree.sh BUILD_DIR
set -euo pipefail

die() {
	echo "install.tree: FAIL: $*" >&2
	exit 1
}

[[ $# -eq 1 && -f $1/CMakeCache.txt ]] || die "usage: test_install_tree.sh BUILD_DIR (a configured build tree)"
build=$(cd "$1" && pwd)
for t in cmake cpack gzip groff lexgrog systemd-analyze dpkg-deb lintian dpkg-shlibdeps file; do
	command -v "$t" >/dev/null || die "$t is missing (scripts/deps.sh installs it)"
done

tmp=$(mktemp -d /tmp/slim-install.XXXXXX)
cleanup() { rm -rf "$tmp"; }
trap cleanup EXIT

# ---- cmake --install --prefix
prefix=$tmp/prefix
cmake --install "$build" --prefix "$prefix" >"$tmp/install.log" 2>&1 ||
	{ cat "$tmp/install.log" >&2; die "cmake --install $build --prefix $prefix failed"; }

expected=(
	bin/slim-router bin/slimctl bin/slim-run
	bin/slim-echo bin/slim-setup-bench bin/slim-rr-bench bin/slim-listen-many
	lib/libslim.so
	lib/cni/slim libexec/slim/slim-oci-hook share/containers/oci/hooks.d/slim.json
	lib/systemd/system/slim-router.service
	etc/slim/slim-router.env etc/slim/cluster
	share/slim/testbed/testbed.sh share/slim/testbed/slim-env.sh
	share/slim/testbed/lib.sh share/slim/testbed/demo-run.sh
	share/slim/bench/setup-compare.sh
)
for f in "${expected[@]}"; do
	[[ -f $prefix/$f ]] || die "the install tree has no $f"
done
for f in bin/slim-router bin/slimctl bin/slim-run bin/slim-setup-bench bin/slim-rr-bench; do
	[[ -x $prefix/$f ]] || die "$f is not executable"
done

# The hooks.d file names the installed hook, which finds the installed
# library by itself (its --help shows the default).
grep -qF "\"path\": \"$prefix/libexec/slim/slim-oci-hook\"" "$prefix/share/containers/oci/hooks.d/slim.json" ||
	die "the hooks.d file does not name $prefix/libexec/slim/slim-oci-hook: $(cat "$prefix/share/containers/oci/hooks.d/slim.json")"
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$prefix/share/containers/oci/hooks.d/slim.json" ||
	die "the hooks.d file is not JSON"
# A selected container whose bundle is fine: the hook gets as far as the
# router's socket (none here), so it found the installed libslim.so itself.
mkdir -p "$tmp/bundle/rootfs"
printf '{"root":{"path":"rootfs"}}' >"$tmp/bundle/config.json"
hook_out=$(printf '{"id":"x","bundle":"%s","annotations":{"io.slim.enable":"true"}}' "$tmp/bundle" |
	"$prefix/libexec/slim/slim-oci-hook" --socket "$tmp/no.sock" 2>&1) &&
	die "the installed hook accepted a missing router socket"
[[ $hook_out == *"no slim router socket at $tmp/no.sock"* ]] ||
	die "the installed hook did not find its libslim.so: $hook_out"

# Every program has a page named after it, in section 1 or 8.
programs=()
for d in bin sbin libexec/slim lib/cni; do
	[[ -d $prefix/$d ]] || continue
	while IFS= read -r -d '' f; do
		programs+=("${f#"$prefix"/}")
	done < <(find "$prefix/$d" -maxdepth 1 \( -type f -o -type l \) -print0)
done
((${#programs[@]} >= 7)) || die "only ${#programs[@]} programs installed: ${programs[*]}"
for p in "${programs[@]}"; do
	name=${p##*/}
	[[ $p == lib/cni/slim ]] && name=slim-cni
	[[ -f $prefix/share/man/man1/$name.1.gz || -f $prefix/share/man/man8/$name.8.gz ]] ||
		die "$p has no man page (man/$name.1 or man/$name.8)"
done

# Every page: no groff warning, a NAME line lexgrog can read.
npages=0
for page in "$prefix"/share/man/man*/*; do
	[[ -f $page ]] || continue
	case $page in *.[18].gz) ;; *) die "unexpected file in share/man: ${page#"$prefix"/}" ;; esac
	warn=$(gzip -dc "$page" | groff -man -ww -z 2>&1) || die "groff failed on ${page##*/}: $warn"
	[[ -z $warn ]] || die "groff warns about ${page##*/}: $warn"
	lexgrog "$page" >/dev/null 2>&1 || die "lexgrog cannot read the NAME section of ${page##*/}"
	npages=$((npages + 1))
done
echo "install.tree: ${#programs[@]} programs, $npages man pages, groff-clean"

# ---- the unit
unit=$prefix/lib/systemd/system/slim-router.service
grep -qx "ExecStart=$prefix/bin/slim-router --host \${SLIM_HOST} \$SLIM_ROUTER_OPTS" "$unit" ||
	die "the unit's ExecStart is not $prefix/bin/slim-router: $(grep ExecStart= "$unit")"
grep -qx "EnvironmentFile=$prefix/etc/slim/slim-router.env" "$unit" ||
	die "the unit does not read $prefix/etc/slim/slim-router.env"
grep -qx "SLIM_ROUTER_OPTS=\"--cluster $prefix/etc/slim/cluster\"" "$prefix/etc/slim/slim-router.env" ||
	die "slim-router.env does not name $prefix/etc/slim/cluster"
# Offline (systemd need not run): checks directives, the ExecStart binary and
# the Documentation= man pages (found through MANPATH).
out=$(MANPATH=$prefix/share/man: systemd-analyze verify "$unit" 2>&1) ||
	die "systemd-analyze verify failed: $out"
[[ -z $out ]] || die "systemd-analyze verify complains: $out"
echo "install.tree: systemd-analyze verify: clean"

# shellcheck disable=SC2016 # the unit's own ${SLIM_HOST}, not the shell's
usr_exec='ExecStart=/usr/bin/slim-router --host ${SLIM_HOST} $SLIM_ROUTER_OPTS'

# ---- DESTDIR with the prefix /usr: the configuration goes to /etc
dest=$tmp/dest
DESTDIR=$dest cmake --install "$build" --prefix /usr >"$tmp/install-usr.log" 2>&1 ||
	{ cat "$tmp/install-usr.log" >&2; die "DESTDIR=$dest cmake --install --prefix /usr failed"; }
[[ -f $dest/etc/slim/slim-router.env && -f $dest/etc/slim/cluster ]] ||
	die "with the prefix /usr the configuration is not in DESTDIR/etc/slim"
[[ ! -e $dest/usr/etc ]] || die "with the prefix /usr something went to /usr/etc"
grep -qF '"path": "/usr/libexec/slim/slim-oci-hook"' "$dest/usr/share/containers/oci/hooks.d/slim.json" ||
	die "with the prefix /usr the hooks.d file does not name /usr/libexec/slim/slim-oci-hook"
grep -qx "$usr_exec" "$dest/usr/lib/systemd/system/slim-router.service" ||
	die "with the prefix /usr the unit does not run /usr/bin/slim-router"

# ---- the .deb
cpack -G DEB --config "$build/CPackConfig.cmake" -B "$tmp/pkg" >"$tmp/cpack.log" 2>&1 ||
	{ cat "$tmp/cpack.log" >&2; die "cpack -G DEB failed"; }
debs=("$tmp"/pkg/slim_*.deb)
[[ ${#debs[@]} -eq 1 && -f ${debs[0]} ]] || die "cpack made no single slim_*.deb: $(ls "$tmp/pkg")"
deb=${debs[0]}
dpkg-deb -c "$deb" | awk '{print $NF}' | sed 's|^\./|/|' >"$tmp/deb.list"
for f in "${expected[@]}"; do
	case $f in
	etc/*) want=/$f ;;
	*) want=/usr/$f ;;
	esac
	grep -qx "$want" "$tmp/deb.list" || die "the .deb has no $want"
done
for p in "${programs[@]}"; do
	grep -qx "/usr/$p" "$tmp/deb.list" || die "the .deb has no /usr/$p"
done
for f in /usr/share/doc/slim/copyright /usr/share/doc/slim/changelog.Debian.gz \
	/usr/share/man/man8/slim-router.8.gz; do
	grep -qx "$f" "$tmp/deb.list" || die "the .deb has no $f"
done
if grep -E '^/(usr/local|tmp|work|root|home)/' "$tmp/deb.list" >&2; then
	die "the .deb holds paths outside /usr and /etc (above)"
fi
dpkg-deb -e "$deb" "$tmp/control"
[[ $(sort "$tmp/control/conffiles") == $'/etc/slim/cluster\n/etc/slim/slim-router.env' ]] ||
	die "conffiles is not /etc/slim/cluster and /etc/slim/slim-router.env: $(cat "$tmp/control/conffiles")"
dpkg-deb -f "$deb" Package Section Depends >"$tmp/fields"
if ! grep -qx 'Package: slim' "$tmp/fields" || ! grep -qx 'Section: net' "$tmp/fields"; then
	die "wrong Package or Section: $(cat "$tmp/fields")"
fi
grep -q 'libbpf' "$tmp/fields" || die "Depends lacks the shared libraries (dpkg-shlibdeps): $(cat "$tmp/fields")"
dpkg-deb --fsys-tarfile "$deb" | tar -xO ./usr/lib/systemd/system/slim-router.service >"$tmp/deb.unit"
grep -qx "$usr_exec" "$tmp/deb.unit" || die "the .deb's unit does not run /usr/bin/slim-router"
echo "install.tree: $(basename "$deb"): $(wc -l <"$tmp/deb.list") entries"

# lintian: errors fail, warnings are listed (docs/operations.md says why
# each is left).
lintian --tag-display-limit 0 "$deb" >"$tmp/lintian.out" 2>&1 || true
grep -v 'running with root privileges' "$tmp/lintian.out" | sed 's/^/install.tree: lintian: /' || true
if grep -q '^E: ' "$tmp/lintian.out"; then
	die "lintian reports errors (E: above)"
fi
if grep -qv -e '^[WIPNX]: ' -e 'running with root privileges' "$tmp/lintian.out"; then
	die "lintian did not run cleanly (output above)"
fi
echo "install.tree: ok"
