#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Boot one built cell under QEMU (TCG), stream its console to
# <out>/boot.log and judge it. Exit status 0 only if every test reported ok,
# nothing is missing, the guest finished in time and the kernel log is clean.
#
# usage: boot.sh <cell> [variant]     (after build-cell.sh)
#   OKVM_BOOT_TIMEOUT  seconds before the guest is killed (default 1800,
#                      3600 for the debug kernel)
#   OKVM_QUIET=1       do not echo the console while it runs
#   OKVM_APPEND        extra kernel command line
#   OKVM_INTREE_KVM=1  arm64: leave the built-in KVM on (no
#                      kvm-arm.mode=none), for baselines against KVM
set -euo pipefail
. "$(dirname "$0")/lib.sh"

cell=${1:?usage: boot.sh <cell> [variant]}
variant=${2:-}
# shellcheck disable=SC1090
. "$OKVM_CACHE/cells/$cell/cell.env"
out=$OKVM_BUILD/$cell${variant:+-$variant}
blog=$out/boot.log
[ -f "$out/initramfs.cpio.gz" ] || die "$cell is not built"

case $ARCH in
arm64)
	kvmmode=kvm-arm.mode=none
	[ -n "${OKVM_INTREE_KVM:-}" ] && kvmmode=
	qemu=(qemu-system-aarch64 -M virt,virtualization=on,gic-version=3 -cpu max
	      -append "console=ttyAMA0 loglevel=4 panic=-1 $kvmmode ${OKVM_APPEND:-}") ;;
x86_64)
	qemu=(qemu-system-x86_64 -machine q35 -cpu max -vga none
	      -append "console=ttyS0 loglevel=4 panic=-1 ${OKVM_APPEND:-}") ;;
esac
# Two NUMA nodes of 1 GiB, one vCPU each, so that pages can be migrated.
qemu+=(-accel tcg -smp 2,sockets=2 -m 2G -nographic -no-reboot -nic none
       -object memory-backend-ram,id=m0,size=1G
       -object memory-backend-ram,id=m1,size=1G
       -numa node,nodeid=0,cpus=0,memdev=m0 -numa node,nodeid=1,cpus=1,memdev=m1
       -kernel "$KIMAGE" -initrd "$out/initramfs.cpio.gz")

boot_timeout=${OKVM_BOOT_TIMEOUT:-1800}
[ "$DEBUG" = 1 ] && boot_timeout=${OKVM_BOOT_TIMEOUT:-3600}
t=$SECONDS
set +e
if [ -n "${OKVM_QUIET:-}" ]; then
	timeout -k 10 "$boot_timeout" "${qemu[@]}" </dev/null >"$blog" 2>&1
else
	timeout -k 10 "$boot_timeout" "${qemu[@]}" </dev/null 2>&1 | tee "$blog"
fi
rc=${PIPESTATUS[0]}
set -e
secs=$(since "$t")
tr -d '\r' <"$blog" >"$blog.tmp" && mv "$blog.tmp" "$blog"

exec "$(dirname "$0")/judge.sh" "$blog" "$cell${variant:+-$variant}" "$rc" "$secs"
