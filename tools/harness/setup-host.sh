#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Make this Debian bookworm host able to build and boot every cell of the
# matrix: extra apt suites (pinned low so nothing is upgraded by accident),
# arm64 as a foreign architecture for downloads, and the host tools.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || die "run as root (apt-get and chroot builds need it)"

changed=
src=/etc/apt/sources.list.d/okvm.sources
if [ ! -f "$src" ] && ! grep -rqs 'bookworm-backports' /etc/apt/sources.list.d/; then
	cat >"$src" <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports trixie sid
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
	changed=1
fi
pin=/etc/apt/preferences.d/okvm
if [ ! -f "$pin" ] && [ ! -f /etc/apt/preferences.d/okvm-pin ]; then
	cat >"$pin" <<'PIN'
Package: *
Pin: release n=bookworm-backports
Pin-Priority: 100

Package: *
Pin: release n=trixie
Pin-Priority: 50

Package: *
Pin: release n=sid
Pin-Priority: 40
PIN
	changed=1
fi
grep -qx 'Acquire::Check-Valid-Until "false";' -r /etc/apt/apt.conf.d/ ||
	echo 'Acquire::Check-Valid-Until "false";' >/etc/apt/apt.conf.d/99okvm-valid
dpkg --print-foreign-architectures | grep -qx arm64 || { dpkg --add-architecture arm64; changed=1; }
[ -n "$changed" ] && unset OKVM_APT_UPDATED
apt_update_once

# QEMU 9.1+ emulates SVM nested paging correctly: take 10.x from backports
# (built for bookworm), with the matching firmware.
qemu_ok() {
	qemu-system-aarch64 --version 2>/dev/null | head -n1 | grep -qE 'version (9\.[1-9]|[1-9][0-9])' &&
		qemu-system-x86_64 --version 2>/dev/null | head -n1 | grep -qE 'version (9\.[1-9]|[1-9][0-9])'
}
if ! qemu_ok; then
	log "installing QEMU 10 from bookworm-backports"
	apt-get install -y -qq --no-install-recommends -t bookworm-backports \
		qemu-system-arm qemu-system-x86 seabios >/dev/null || die "QEMU install failed"
	qemu_ok || die "QEMU 9.1 or newer is needed"
fi
need_pkgs mmdebstrap busybox-static cpio gzip xz-utils kmod make gcc libc6-dev \
	gcc-aarch64-linux-gnu libc6-dev-arm64-cross sparse flex bison bc libelf-dev \
	libssl-dev dwarves perl python3
log "host ready: $(qemu-system-aarch64 --version | head -n1)"
