#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Mutation proofs: each line below builds okvm with a switch that puts a bug
# back (see the OKVM_MUTATE_* blocks in src/) and boots it. The run must be
# judged FAIL, and the named test must be among the failures; a mutation
# that passes means the test that should catch it cannot fail.
#
# usage: mutations.sh [name ...]     (default: all)
set -uo pipefail
. "$(dirname "$0")/lib.sh"

# name            cell         what must fail: "dmesg", or program.case
#                              (only that case of that program is run)
MUTATIONS="
INIT_WARN         arm64-6.1    dmesg
API_VERSION       x86_64-6.12  okvm_dev_test.api_version_both_nodes
SEED000           arm64-6.12   okvm_mmu_test.seed000_delete_while_faulting
SEED000           arm64-7.2    okvm_vcpu_race_test.seed000_guest_delete_move_under_ksm
SEED002           x86_64-6.12  okvm_memslot_test.seed002_failed_update_changes_nothing
SEED003           arm64-6.12   okvm_memslot_test.seed003_gpa_above_4g_and_at_top
NOTIFIER_RETRY    x86_64-6.12  okvm_mmu_test.fault_racing_invalidation_retries
SEED001           x86_64-6.12  okvm_pfncache_test.seed001_refresh_vs_deactivate
SEED004           arm64-6.12   okvm_rebuild_test.seed004_rebuild_while_running
"

want=${*:-}
fail=0
while read -r name cell expect; do
	[ -n "$name" ] || continue
	[ -z "$want" ] || [[ " $want " == *" $name "* ]] || continue
	"$(dirname "$0")/prepare-cell.sh" "$cell"
	v=mut-$(echo "$name" | tr 'A-Z_' 'a-z-')
	tests=okvm_dev_test
	[ "$expect" = dmesg ] || tests="${expect%%.*}:-t:${expect#*.}"
	if ! OKVM_TESTS="$tests" OKVM_CFLAGS="-DOKVM_MUTATE_$name" \
		"$(dirname "$0")/build-cell.sh" "$cell" "$v" >/dev/null; then
		echo "mutation $name: build failed: FAIL"
		fail=1
		continue
	fi
	if res=$(OKVM_QUIET=1 "$(dirname "$0")/boot.sh" "$cell" "$v"); then
		echo "mutation $name ($cell): NOT CAUGHT: $res"
		fail=1
		continue
	fi
	blog=$OKVM_BUILD/$cell-$v/boot.log
	if [ "$expect" = dmesg ]; then
		caught=$(sed -n '/^OKVM-DMESG-BEGIN/,/^OKVM-DMESG-END/p' "$blog" | grep -cE 'WARNING:|BUG:')
	else
		caught=$(grep -cE "^    not ok [0-9]+ [a-z_]+\.${expect#*.}\$" "$blog")
	fi
	if [ "$caught" -gt 0 ]; then
		echo "mutation $name ($cell): caught by $expect"
	else
		echo "mutation $name ($cell): failed, but not in $expect: $res"
		fail=1
	fi
done <<<"$MUTATIONS"
exit $fail
