#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build (or reuse from the cache) okvm's arm64 DEBUG kernel (lockdep, KASAN,
# kmemleak, failslab, ...) from Debian's linux-source-6.12 package, and
# describe it as the harness cell "arm64-debug".
#
# usage: debug-kernel.sh          build if needed; print the cell.env (stdout)
#        debug-kernel.sh --key    print the build key only, and build nothing
#
# Environment:
#   OKVM_CACHE        cache root (default ~/.cache/okvm)
#   OKVM_DEBUG_KSRC   linux-source-6.12 version to use (default: $KSRC_PIN
#                     below; if apt no longer knows the pinned version, the
#                     current apt candidate is used, with a warning)
#
# Results (under $OKVM_CACHE):
#   debs/linux-source-6.12_<ver>_all.deb   download; its SHA256 is checked
#                                          against apt's index before each use
#   debug/<key>/Image        uncompressed arm64 Image
#   debug/<key>/extmod/      tree for out-of-tree modules:
#       make -C debug/<key>/extmod M=<dir> ARCH=arm64 \
#            CROSS_COMPILE=aarch64-linux-gnu- modules
#   debug/<key>/.config, System.map, fragment.config, version
#   debug/<key>/stamp        written last; if it exists, the build is complete
#   debug/<key>.log          log of the last build of that key
#   cells/arm64-debug/cell.env   shell-sourceable description of the cell
#   linux-source-6.12/       a few parts of the same source tree (selftests,
#       tools/{include,arch,lib,scripts,build,Makefile}, uapi headers,
#       checkpatch, Makefile), plus what the kvm selftests need besides:
#       scripts/subarch.include, arch/arm64/tools (gen-sysreg), and the
#       installed uapi headers ("make headers"): usr/include for arm64 (the
#       selftests' default) and usr-x86/include for x86. For x86, pass
#       INSTALL_HDR_PATH=<dir>/usr-x86 KHDR_INCLUDES="-isystem <dir>/usr-x86/include".
#       Its stamp holds "linux-source-6.12 <version> parts <hash of the list>".
#
# The build key is the first 16 hex digits of the sha256 of: the bytes of
# debug-arm64.config, then the version and a newline, then the bytes of this
# script.
#
# The config is "make allnoconfig", then debug-arm64.config applied on top,
# then "make olddefconfig". After that, every line of the fragment is checked
# against the final .config.
#
# Safe to re-run after an interruption: the tree is unpacked and built in
# $OKVM_CACHE/tmp/debug-<key>/ (an interrupted build resumes incrementally
# there), results are written to temporary directories and renamed into
# place, and a lock serialises concurrent runs. The scratch tree (about
# 1.8 GB) is deleted after a successful build.

set -Eeuo pipefail

PKG=linux-source-6.12
# bookworm-security's candidate (apt-cache policy linux-source-6.12) when this
# script was written. It is pinned so that an apt-get update does not change
# the build key, which would mean a rebuild.
KSRC_PIN=6.12.117-1~deb12u1
CROSS=aarch64-linux-gnu-
TOOLS=(gcc-aarch64-linux-gnu flex bison bc libelf-dev libssl-dev dwarves cpio
       kmod xz-utils make gcc libc6-dev util-linux)
# Not unpacked at all: bulky parts that neither this build (Image modules,
# no dtbs) nor the selftests need: about 600 MB and 19,000 of the 92,000
# files. Writing and then deleting them costs minutes on a busy disk. A
# config that does need one (amdgpu, say) fails to build; it does not go
# wrong silently. Documentation/ keeps its top-level files because the top
# Kconfig sources Documentation/Kconfig. Other arches stay: Kconfig files
# all over the tree source their Kconfig files.
EXCLUDE=('Documentation/*/*' 'arch/*/boot/dts' drivers/gpu/drm/amd/include/asic_reg
         tools/perf)
# The parts of the source tree kept in $OKVM_CACHE/linux-source-6.12/.
SUBSET=(tools/testing/selftests tools/include tools/arch tools/lib tools/scripts
        tools/build tools/Makefile scripts/checkpatch.pl scripts/spelling.txt
        scripts/const_structs.checkpatch scripts/subarch.include include/uapi
        arch/arm64/include/uapi arch/x86/include/uapi arch/arm64/tools Makefile)

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SELF=$HERE/$(basename "${BASH_SOURCE[0]}")
FRAG=$HERE/debug-arm64.config
OKVM_CACHE=${OKVM_CACHE:-$HOME/.cache/okvm}
SRCDIR=$OKVM_CACHE/linux-source-6.12
CELLDIR=$OKVM_CACHE/cells/arm64-debug
LOG=/dev/null
unset LOCALVERSION KBUILD_OUTPUT KCONFIG_CONFIG O ARCH CROSS_COMPILE || true

msg() { printf 'debug-kernel: %s\n' "$*" >&2; }
die() { msg "error: $*"; exit 1; }

# Run a command with its output going to the log only.
q() { "$@" >>"$LOG" 2>&1; }

on_err() {
	local rc=$? line=$1
	trap - ERR
	msg "failed (exit $rc, line $line of $SELF)"
	if [ -s "$LOG" ] && [ "$LOG" != /dev/null ]; then
		msg "last lines of $LOG:"
		tail -n 40 "$LOG" >&2
	fi
	exit "$rc"
}
trap 'on_err $LINENO' ERR

now_ms() { date +%s%3N; }
T0=0
step_start() { STEP=$1; T0=$(now_ms); }
step_end() {
	local d=$(( $(now_ms) - T0 ))
	msg "$(printf '%-9s %4d.%01d s' "$STEP" $((d / 1000)) $((d % 1000 / 100)))"
}

build_key() { # version
	{ cat "$FRAG"; printf '%s\n' "$1"; cat "$SELF"; } | sha256sum | cut -c1-16
}

[ -f "$FRAG" ] || die "missing fragment $FRAG"

VER=${OKVM_DEBUG_KSRC:-$KSRC_PIN}
KEY=$(build_key "$VER")
if [ "${1:-}" = --key ]; then
	echo "$KEY"
	exit 0
fi
[ $# -eq 0 ] || die "usage: $0 [--key]"

# The cell.env of a complete build; it is rewritten only when it differs.
write_cell_env() {
	local out=$OKVM_CACHE/debug/$KEY kver tmp
	kver=$(cat "$out/extmod/include/config/kernel.release")
	mkdir -p "$CELLDIR"
	tmp=$CELLDIR/.cell.env.$$
	{
		echo "# arm64 DEBUG kernel, built by tools/harness/debug-kernel.sh"
		echo "# from $PKG $VER (build key $KEY)"
		echo "CELL=arm64-debug"
		echo "ARCH=arm64"
		printf 'KIMAGE=%q\n' "$out/Image"
		printf 'KDIR=%q\n' "$out/extmod"
		echo "CROSS_COMPILE=$CROSS"
		echo "CHROOT="
		printf 'KVER=%q\n' "$kver"
		echo "DEBUG=1"
	} >"$tmp"
	if cmp -s "$tmp" "$CELLDIR/cell.env"; then
		rm -f "$tmp"
	else
		mv -f "$tmp" "$CELLDIR/cell.env"
	fi
}

# The stamp of linux-source-6.12/ names the version and the set of parts.
src_stamp() {
	# (rev 2: symlinks dereferenced)
	echo "$PKG $VER parts $(printf '%s\n' rev2 "${SUBSET[@]}" usr/include usr-x86/include |
		sha256sum | cut -c1-8)"
}
src_ok() { [ "$(cat "$SRCDIR/stamp" 2>/dev/null)" = "$(src_stamp)" ]; }
debug_ok() { [ -f "$OKVM_CACHE/debug/$KEY/stamp" ]; }

finish() {
	write_cell_env
	grep -v '^#' "$CELLDIR/cell.env"
	exit 0
}

debug_ok && src_ok && finish

# ---- slow path: serialise, then check again --------------------------------
mkdir -p "$OKVM_CACHE/debs" "$OKVM_CACHE/debug" "$OKVM_CACHE/tmp"
exec 9>"$OKVM_CACHE/tmp/.debug-kernel.lock"
if ! flock -n 9; then
	msg "waiting for another debug-kernel.sh run (lock $OKVM_CACHE/tmp/.debug-kernel.lock)"
	flock 9
fi

# If apt has dropped the pinned version (bookworm-security keeps only a few),
# use the current candidate, unless a version was asked for explicitly.
if ! debug_ok || ! src_ok; then
	if [ -z "$(apt-cache show "$PKG=$VER" 2>/dev/null | sed -n 's/^SHA256: //p')" ]; then
		[ -z "${OKVM_DEBUG_KSRC:-}" ] ||
			die "apt does not know $PKG=$VER (apt-get update?)"
		cand=$(apt-cache policy "$PKG" 2>/dev/null | sed -n 's/^ *Candidate: //p')
		[ -n "$cand" ] && [ "$cand" != "(none)" ] ||
			die "apt knows no $PKG (apt-get update?)"
		msg "warning: apt no longer has $PKG=$VER; using the candidate $cand" \
		    "(update KSRC_PIN in $SELF)"
		VER=$cand
		KEY=$(build_key "$VER")
	fi
fi
debug_ok && src_ok && finish

OUT=$OKVM_CACHE/debug/$KEY
SCRATCH=$OKVM_CACHE/tmp/debug-$KEY
TREE=$SCRATCH/src
LOG=$OKVM_CACHE/debug/$KEY.log
printf '=== debug-kernel.sh %s: %s %s, key %s\n' "$(date -u +%FT%TZ)" "$PKG" "$VER" "$KEY" >>"$LOG"
msg "building $PKG $VER (key $KEY); log: $LOG"

# Scratch left by runs of other keys (a changed fragment/script/version) and
# half-written results of interrupted runs are of no use any more.
stale=()
for d in "$OKVM_CACHE"/tmp/debug-* "$OKVM_CACHE"/tmp/trash.* "$OKVM_CACHE"/tmp/linux-source.* \
	 "$OKVM_CACHE"/debug/.tmp.*; do
	if [ -e "$d" ] && [ "$d" != "$SCRATCH" ]; then stale+=("$d"); fi
done
if [ ${#stale[@]} -gt 0 ]; then
	step_start stale
	rm -rf "${stale[@]}"
	step_end
fi

# ---- host tools ---------------------------------------------------------------
missing=()
for p in "${TOOLS[@]}"; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q ' installed$' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	step_start tools
	sudo=()
	[ "$(id -u)" = 0 ] || sudo=(sudo -n)
	export DEBIAN_FRONTEND=noninteractive
	if ! q "${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}"; then
		q "${sudo[@]}" apt-get update
		q "${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
	fi
	step_end
fi

# ---- download (or reuse) the .deb, checked against apt's SHA256 ---------------------
sha=$(apt-cache show "$PKG=$VER" | sed -n 's/^SHA256: //p' | head -n1)
[ -n "$sha" ] || die "no SHA256 for $PKG=$VER in apt's index"
DEB=$OKVM_CACHE/debs/${PKG}_${VER#*:}_all.deb
if [ -f "$DEB" ] && echo "$sha  $DEB" | sha256sum -c --status -; then
	msg "download  cached $DEB"
else
	step_start download
	rm -f "$DEB"
	dl=$(mktemp -d "$OKVM_CACHE/debs/.dl.XXXXXX")
	q env -C "$dl" apt-get download "$PKG=$VER"
	f=$(ls "$dl"/*.deb)
	echo "$sha  $f" | sha256sum -c --status - || die "SHA256 mismatch: $f (expected $sha)"
	mv -f "$f" "$DEB"
	rmdir "$dl"
	step_end
fi

# ---- extract the whole tree into the scratch dir (once) ---------------------------
if [ ! -f "$SCRATCH/.extracted" ]; then
	step_start extract
	rm -rf "$SCRATCH"
	mkdir -p "$TREE"
	excl=()
	for e in "${EXCLUDE[@]}"; do excl+=(--exclude="$PKG/$e"); done
	dpkg-deb --fsys-tarfile "$DEB" |
		tar -xOf - "./usr/src/$PKG.tar.xz" |
		xz -dc -T0 |
		tar -xf - -C "$TREE" --strip-components=1 --anchored "${excl[@]}"
	[ -f "$TREE/Makefile" ] && [ -d "$TREE/arch/arm64" ] || die "unexpected tarball layout"
	touch "$SCRATCH/.extracted"
	step_end
fi

KMAKE=(make -C "$TREE" ARCH=arm64 CROSS_COMPILE="$CROSS")

# ---- linux-source-6.12/: the selftests and headers, same source -------------------
if ! src_ok; then
	step_start sources
	# The installed uapi headers, which the selftests include by default
	# (KHDR_INCLUDES, INSTALL_HDR_PATH=<top>/usr); arm64 and x86 generate some
	# of them (asm/unistd_64.h, ...). headers_install would need rsync, so
	# run "make headers" once per arch and copy usr/include.
	tmp=$(mktemp -d "$OKVM_CACHE/tmp/linux-source.XXXXXX")
	# -h: store what symlinks point to (some point outside the parts).
	tar -chf - -C "$TREE" "${SUBSET[@]}" | tar -xf - -C "$tmp"
	for a in x86 arm64; do
		d=usr; [ $a = arm64 ] || d=usr-$a
		rm -rf "$TREE/usr/include"
		q make -C "$TREE" ARCH=$a -j"$(nproc)" headers
		mkdir -p "$tmp/$d"
		cp -a "$TREE/usr/include" "$tmp/$d/include"
		find "$tmp/$d/include" \( -name '.*' -o -name '*.cmd' \) -type f -delete
	done
	src_stamp >"$tmp/stamp"
	chmod 755 "$tmp"
	rm -rf "$SRCDIR.old"
	[ ! -e "$SRCDIR" ] || mv "$SRCDIR" "$SRCDIR.old"
	mv "$tmp" "$SRCDIR"
	rm -rf "$SRCDIR.old"
	step_end
fi

if ! debug_ok; then
	# ---- config: allnoconfig + fragment + olddefconfig, then verify ----------
	step_start config
	q "${KMAKE[@]}" allnoconfig
	# The fragment's directives replace any line about the same option.
	directives=$(grep -E '^(CONFIG_[A-Za-z0-9_]+=.*|# CONFIG_[A-Za-z0-9_]+ is not set)$' "$FRAG")
	syms=$(grep -oE 'CONFIG_[A-Za-z0-9_]+' <<<"$directives" | paste -sd'|')
	{ grep -vE "^(# )?($syms)[= ]" "$TREE/.config" || true; printf '%s\n' "$directives"; } \
		>"$TREE/.config.okvm"
	mv -f "$TREE/.config.okvm" "$TREE/.config"
	q "${KMAKE[@]}" olddefconfig
	bad=()
	while IFS= read -r l; do
		case $l in
		'# '*)	o=${l#\# }; o=${o%% *}
			! grep -q "^$o=" "$TREE/.config" || bad+=("$o should be off")
			;;
		*)	grep -qxF -- "$l" "$TREE/.config" ||
				bad+=("$l (.config has: $(grep -E "^(# )?${l%%=*}[= ]" "$TREE/.config" || echo nothing))")
			;;
		esac
	done <<<"$directives"
	if [ ${#bad[@]} -gt 0 ]; then
		msg "these options of $FRAG did not survive olddefconfig:"
		printf '  %s\n' "${bad[@]}" >&2
		exit 1
	fi
	step_end

	# ---- build: "modules" too, for Module.symvers (modpost of out-of-tree
	# modules needs it; there are no in-tree modules, so it only takes seconds)
	step_start build
	q "${KMAKE[@]}" -j"$(nproc)" Image modules
	step_end

	# ---- collect the results into debug/<key>/ ---------------------------------
	step_start install
	tmp=$(mktemp -d "$OKVM_CACHE/debug/.tmp.XXXXXX")
	cp "$TREE/arch/arm64/boot/Image" "$TREE/.config" "$TREE/System.map" "$tmp/"
	cp "$FRAG" "$tmp/fragment.config"
	printf '%s %s\n' "$PKG" "$VER" >"$tmp/version"
	# CC=HOSTCC: keep the host programs (fixdep, modpost) built for this host.
	q env -C "$TREE" srctree=. SRCARCH=arm64 CC=gcc HOSTCC=gcc MAKE=make \
		sh scripts/package/install-extmod-build "$tmp/extmod"
	cp "$TREE/.config" "$tmp/extmod/.config"
	chmod 755 "$tmp"
	rm -rf "$OUT"
	mv "$tmp" "$OUT"
	printf '%s %s key %s built %s\n' "$PKG" "$VER" "$KEY" "$(date -u +%FT%TZ)" >"$OUT/stamp.tmp"
	mv -f "$OUT/stamp.tmp" "$OUT/stamp"
	step_end
	msg "Image $(du -h "$OUT/Image" | cut -f1), extmod $(du -sh "$OUT/extmod" | cut -f1)," \
	    "release $(cat "$OUT/extmod/include/config/kernel.release")"
fi

# Done: publish the cell first, then delete the scratch tree (slow on a busy
# disk), still under the lock.
trash=$OKVM_CACHE/tmp/trash.$$
mv "$SCRATCH" "$trash"
write_cell_env
step_start cleanup
rm -rf "$trash"
step_end
finish
