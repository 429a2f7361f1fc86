#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build what one cell boots: okvm.ko against the cell's kernel, the static
# selftests for its arch, and a busybox initramfs holding both.
#
# usage: build-cell.sh <cell> [variant]
#   OKVM_CFLAGS   extra compiler flags for the module (mutation builds)
#   OKVM_MODE     test (default), demo, or cmd: what the guest's /init runs
#   OKVM_CMDS     cmd mode: file of command lines the guest runs in order
#   OKVM_LOAD_PARAMS  cmd mode: okvm's module parameters (e.g. testing=1)
#   OKVM_EXTRA    extra files (programs) to copy into the guest's /selftests
#   OKVM_INTREE_KVM=1  cmd mode: do not load okvm (run against the built-in
#                 KVM; boot.sh must get the same variable)
#   OKVM_TESTS    space-separated selftest names to run (default: all)
# Output: $OKVM_BUILD/<cell>[-variant]/{okvm.ko,initramfs.cpio.gz,build.log}
set -euo pipefail
. "$(dirname "$0")/lib.sh"

cell=${1:?usage: build-cell.sh <cell> [variant]}
variant=${2:-}
env=$OKVM_CACHE/cells/$cell/cell.env
[ -f "$env" ] || die "cell $cell is not prepared"
# shellcheck disable=SC1090
. "$env"
out=$OKVM_BUILD/$cell${variant:+-$variant}
mkdir -p "$out"
blog=$out/build.log
: >"$blog"

# --- the module. Kbuild writes objects next to the sources, so each cell
# builds in its own copy of the module's files.
modsrc=(Kbuild Makefile src include)
if [ -n "$CHROOT" ]; then
	wd=$CHROOT/okvm-build/${cell}${variant:+-$variant}
	inwd=/okvm-build/${cell}${variant:+-$variant}
else
	wd=$out/mod
	inwd=$wd
fi
rm -rf "$wd"
mkdir -p "$wd"
# sources only: an in-tree build may have left objects of another kernel
(cd "$OKVM_TOP" && tar -c --exclude='*.o' --exclude='*.ko' --exclude='.*.cmd' \
	--exclude='*.mod' --exclude='*.mod.c' --exclude='.*.d' "${modsrc[@]}") |
	tar -C "$wd" -x
karch=$ARCH
[ "$ARCH" = x86_64 ] && karch=x86
# shellcheck disable=SC2206
mk=(make -C "$KDIR" M="$inwd" ARCH="$karch" CROSS_COMPILE="$CROSS_COMPILE"
    OKVM_CFLAGS="${OKVM_CFLAGS:-}" ${OKVM_MAKEFLAGS:-} modules)
if [ -n "$CHROOT" ]; then
	# objtool (x86) reads /proc; mount it only for the build
	mountpoint -q "$CHROOT/proc" || mount -t proc proc "$CHROOT/proc"
	trap 'umount "$CHROOT/proc" 2>/dev/null || true' EXIT
	chroot "$CHROOT" "${mk[@]}" >>"$blog" 2>&1 || { tail -n 30 "$blog"; die "module build failed ($cell)"; }
	umount "$CHROOT/proc" 2>/dev/null || true
	trap - EXIT
else
	"${mk[@]}" >>"$blog" 2>&1 || { tail -n 30 "$blog"; die "module build failed ($cell)"; }
fi
if grep -E 'warning:' "$blog" | grep -v -e 'pahole' -e 'BTF' -e 'Skipping'; then
	die "module build of $cell has warnings (see $blog)"
fi
cp "$wd/okvm.ko" "$out/okvm.ko"

# --- the selftests (static; one build per arch serves every kernel)
case $ARCH in
arm64) cc=aarch64-linux-gnu-gcc; bbarch=arm64 ;;
x86_64) cc=gcc; bbarch=amd64 ;;
esac
st=$OKVM_BUILD/selftests-$ARCH
rm -rf "$st"
if [ "${OKVM_MODE:-test}" = test ]; then
	ksft=$OKVM_CACHE/linux-source-6.12/tools/testing/selftests
	[ -f "$ksft/kselftest_harness.h" ] ||
		die "kselftest headers missing: run tools/harness/debug-kernel.sh"
	make -s -C "$OKVM_TOP/selftests" CC="$cc" KSFT="$ksft" O="$st" >>"$blog" 2>&1 ||
		{ tail -n 30 "$blog"; die "selftest build failed ($ARCH)"; }
fi
make -s -C "$OKVM_TOP/tools" CC="$cc" O="$st" >>"$blog" 2>&1 ||
	{ tail -n 30 "$blog"; die "tools build failed ($ARCH)"; }

# --- busybox for the guest's arch
bb=$OKVM_CACHE/busybox-$bbarch
if [ ! -x "$bb" ]; then
	tmp=$(mktemp -d)
	dpkg -x "$(fetch_deb "busybox-static:$bbarch")" "$tmp"
	find "$tmp" -path '*bin/busybox' -type f -exec cp {} "$bb.tmp" \;
	[ -s "$bb.tmp" ] || die "no busybox in busybox-static:$bbarch"
	mv "$bb.tmp" "$bb"
	rm -rf "$tmp"
fi

# --- the initramfs
# seconds per selftest program: the debug kernel (KASAN, lockdep) is slower
test_timeout=600
[ "$DEBUG" = 1 ] && test_timeout=1800
tests=${OKVM_TESTS:-$(cd "$st" && find . -maxdepth 1 -name '*_test' -printf '%f\n' | sort | tr '\n' ' ')}
root=$out/initramfs
rm -rf "$root"
mkdir -p "$root"/{bin,dev,proc,sys,tmp,lib/okvm,selftests}
cp "$bb" "$root/bin/busybox"
cp "$OKVM_TOP/tools/harness/guest-init.sh" "$root/init"
chmod 755 "$root/init"
cp "$out/okvm.ko" "$root/lib/okvm/okvm.ko"
cp "$st"/* "$root/selftests/"
# shellcheck disable=SC2086
[ -z "${OKVM_EXTRA:-}" ] || cp ${OKVM_EXTRA} "$root/selftests/"
cat >"$root/okvm.conf" <<CONF
CELL='$cell${variant:+-$variant}'
MODE='${OKVM_MODE:-test}'
TESTS='$tests'
DEBUG='$DEBUG'
INTREE_KVM='${OKVM_INTREE_KVM:-}'
LOAD_PARAMS='${OKVM_LOAD_PARAMS:-}'
TEST_TIMEOUT='${OKVM_TEST_TIMEOUT:-$test_timeout}'
CONF
if [ "${OKVM_MODE:-test}" = cmd ]; then
	[ -f "${OKVM_CMDS:-}" ] || die "OKVM_MODE=cmd needs OKVM_CMDS=<file>"
	cp "$OKVM_CMDS" "$root/okvm.cmds"
fi
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1 >"$out/initramfs.cpio.gz")
echo "$out"
