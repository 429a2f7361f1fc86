#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Static checks: a W=1 build with sparse (C=1) for both arches, which must
# print no warning, and checkpatch.pl --strict on src/ and include/.
# usage: check-style.sh [cell ...]   (default: x86_64-6.12 arm64-6.12)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

cells=${*:-x86_64-6.12 arm64-6.12}
fail=0
for c in $cells; do
	"$(dirname "$0")/prepare-cell.sh" "$c"
	if OKVM_MAKEFLAGS="W=1 C=1" "$(dirname "$0")/build-cell.sh" "$c" w1 >/dev/null; then
		w=$(grep -cE 'warning:|error:' "$OKVM_BUILD/$c-w1/build.log" || true)
		echo "W=1 C=1 build $c: $w warnings"
		[ "$w" = 0 ] || fail=1
	else
		echo "W=1 C=1 build $c: FAILED"
		fail=1
	fi
done

cp=$OKVM_CACHE/linux-source-6.12/scripts/checkpatch.pl
[ -f "$cp" ] || die "checkpatch.pl missing: run tools/harness/debug-kernel.sh"
files=$(cd "$OKVM_TOP" && find src include -name '*.[ch]' ! -path src/compat.h | sort)
# ENOSYS is what KVM_RUN returns for an MMIO abort without a valid syndrome:
# KVM's ABI, so okvm's too; checkpatch would reserve it for syscalls.
# src/compat.h is where an out-of-tree module must test the kernel version
# (one interface per kernel line okvm builds for); only that is let through.
# shellcheck disable=SC2086
if (cd "$OKVM_TOP" && perl "$cp" --strict --no-tree --terse --show-types --ignore ENOSYS -f $files &&
    perl "$cp" --strict --no-tree --terse --show-types \
	--ignore LINUX_VERSION_CODE,CONSTANT_COMPARISON -f src/compat.h) >"$OKVM_BUILD/checkpatch.log" 2>&1; then
	files=$(printf '%s\nsrc/compat.h' "$files")
	echo "checkpatch --strict: clean ($(echo "$files" | wc -l) files)"
else
	echo "checkpatch --strict: problems:"
	sed 's/^/  /' "$OKVM_BUILD/checkpatch.log" | head -n 40
	fail=1
fi
exit $fail
