#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Prepare one Debian cell of the matrix (e.g. arm64-6.12): a build root with
# the compiler that built that kernel and its headers, and the kernel image to
# boot. Writes $OKVM_CACHE/cells/<cell>/cell.env for build-cell.sh/boot.sh.
#
# Build roots are Debian chroots made with mmdebstrap, one per suite: bookworm
# (gcc-12: the 6.1 and 6.12 lines) and sid (gcc-16: the 7.2 line, whose kbuild
# tools also need sid's glibc). Inside them every header path is the one the
# Debian packages expect, so no Makefile needs patching.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

cell=${1:?usage: prepare-cell.sh <arch>-<line>}
arch=${cell%%-*}
line=${cell#*-}
darch=$(deb_arch "$arch")
suite=$(line_suite "$line")
abi=$(resolve_abi "$line" "$darch")
root=$OKVM_CACHE/roots/$suite
celldir=$OKVM_CACHE/cells/$cell
env=$celldir/cell.env

if [ -f "$env" ] && grep -qx "ABI=$abi" "$env" && [ -f "$(sed -n 's/^KIMAGE=//p' "$env")" ]; then
	exit 0
fi

# --- the build root of the suite
case $suite in
bookworm)
	gccv=12
	mirrors=("deb http://deb.debian.org/debian bookworm main"
		 "deb http://deb.debian.org/debian-security bookworm-security main") ;;
sid)
	gccv=16
	mirrors=("deb http://deb.debian.org/debian sid main") ;;
esac
if [ ! -f "$root/.okvm-ready" ]; then
	t=$SECONDS
	log "creating the $suite build root (mmdebstrap)"
	rm -rf "$root.tmp"
	mkdir -p "$OKVM_CACHE/roots"
	mmdebstrap --quiet --mode=root --variant=apt \
		--aptopt='Acquire::Check-Valid-Until "false"' \
		--include="make,gcc-$gccv,gcc-$gccv-aarch64-linux-gnu,dwarves,libelf-dev,bc,sparse" \
		"$suite" "$root.tmp" "${mirrors[@]}" >"$OKVM_CACHE/roots/$suite.log" 2>&1 ||
		{ tail -n 20 "$OKVM_CACHE/roots/$suite.log"; die "mmdebstrap $suite failed"; }
	echo 'Acquire::Check-Valid-Until "false";' >"$root.tmp/etc/apt/apt.conf.d/99okvm"
	touch "$root.tmp/.okvm-ready"
	rm -rf "$root"
	mv "$root.tmp" "$root"
	log "$suite build root ready in $(since "$t") s"
fi

# --- headers: linux-kbuild and linux-headers-*-common are installed with
# apt inside the root (kbuild's tools are host binaries of the root's suite);
# the flavour's own headers package is only unpacked, because installing it
# would also install the kernel image it depends on.
hdr=linux-headers-$abi-$darch
if [ ! -f "$root/usr/src/$hdr/Makefile" ]; then
	deps=$(apt-cache show "$hdr:$darch" | sed -n 's/^Depends: //p' | head -n1 | tr ',' '\n')
	kbuild=$(grep -oE 'linux-kbuild-[^ ]+' <<<"$deps" | head -n1)
	log "installing $kbuild and linux-headers-$abi-common into the $suite root"
	chroot "$root" apt-get update -qq >/dev/null
	chroot "$root" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o Dpkg::Use-Pty=0 \
		--no-install-recommends "$kbuild" "linux-headers-$abi-common" >/dev/null ||
		die "installing $kbuild in $suite failed"
	unpack_deb "$(fetch_deb "$hdr:$darch")" "$root"
	if apt-cache show "linux-base-$abi-$darch:$darch" >/dev/null 2>&1; then
		unpack_deb "$(fetch_deb "linux-base-$abi-$darch:$darch")" "$root"
	fi
	[ -f "$root/usr/src/$hdr/Makefile" ] || die "$hdr did not install"
fi
# sparse, for the C=1 check build
[ -x "$root/usr/bin/sparse" ] || chroot "$root" env DEBIAN_FRONTEND=noninteractive \
	apt-get install -y -qq -o Dpkg::Use-Pty=0 --no-install-recommends sparse >/dev/null ||
	die "installing sparse in $suite failed"

# --- the kernel image (Debian's 7.2 splits it into linux-binary-*)
mkdir -p "$celldir"
kimage=$celldir/vmlinuz-$abi
if [ ! -f "$kimage" ]; then
	tmp=$(mktemp -d "$OKVM_CACHE/tmp.XXXXXX")
	for pkg in "linux-image-$abi-$darch" "linux-image-$abi-$darch-unsigned" \
		   "linux-binary-$abi-$darch"; do
		apt-cache show "$pkg:$darch" >/dev/null 2>&1 || continue
		dpkg -x "$(fetch_deb "$pkg:$darch")" "$tmp"
		found=$(find "$tmp" -name "vmlinuz*" -type f | head -n1)
		[ -n "$found" ] && break
	done
	[ -n "${found:-}" ] || die "no vmlinuz found for $abi-$darch"
	mv "$found" "$kimage"
	rm -rf "$tmp"
fi

case $arch in
arm64) cross=aarch64-linux-gnu- ;;
x86_64) cross= ;;
esac
kver=$(cat "$root/usr/src/$hdr/include/config/kernel.release" 2>/dev/null || echo "$abi-$darch")
cat >"$env.tmp" <<ENV
CELL=$cell
ARCH=$arch
ABI=$abi
KVER=$kver
KIMAGE=$kimage
CHROOT=$root
KDIR=/usr/src/$hdr
CROSS_COMPILE=$cross
DEBUG=0
ENV
mv "$env.tmp" "$env"
log "cell $cell ready: kernel $kver"
