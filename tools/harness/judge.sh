#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Judge one guest's console log (see guest-init.sh for its format).
# usage: judge.sh <boot.log> <name> <qemu exit status> <seconds>
# Prints one summary line: "<name>: N passed, M failed ..." and exits non-zero
# on any failure, missing result, timeout or bad kernel log line.
set -uo pipefail
log=$1 name=$2 qrc=$3 secs=$4
problems=()

[ "$qrc" = 124 ] || [ "$qrc" = 137 ] && problems+=("timeout")
grep -q '^OKVM-GUEST-DONE' "$log" || problems+=("guest did not finish")

# top level: one result per selftest binary, as many as the plan says
plan=$(sed -n 's/^1\.\.\([0-9]*\)$/\1/p' "$log" | head -n1)
top_ok=$(grep -cE '^ok [0-9]+ ' "$log")
top_bad=$(grep -cE '^not ok [0-9]+ ' "$log")
[ -n "$plan" ] || problems+=("no KTAP plan")
[ -n "$plan" ] && [ $((top_ok + top_bad)) != "$plan" ] &&
	problems+=("$((top_ok + top_bad)) of $plan results")
[ "$top_bad" = 0 ] || problems+=("$top_bad test programs failed")

# second level: the kselftest harness cases inside each program
sub_ok=$(grep -cE '^    ok [0-9]+ ' "$log")
sub_bad=$(grep -cE '^    not ok [0-9]+ ' "$log")
sub_skip=$(grep -cE '^    ok [0-9]+ .*# SKIP' "$log")
grep -q '^OKVM-RMMOD failed' "$log" && problems+=("rmmod at the end failed")

# the kernel log must be clean
bad_re='WARNING:|BUG:|Oops|Unable to handle|Internal error|kernel BUG|general protection|'
bad_re+='KASAN|refcount_t|lockdep|possible circular|possible recursive|'
bad_re+='inconsistent lock|sleeping function called|Call trace:|Call Trace:|'
bad_re+='stack-protector|UBSAN|list_add corruption|list_del corruption|'
bad_re+='Kernel panic|rcu_sched self-detected|soft lockup|hung_task'
dm=$(sed -n '/^OKVM-DMESG-BEGIN/,/^OKVM-DMESG-END/p' "$log")
bad_lines=$(printf '%s\n' "$dm" | grep -E "$bad_re" |
	grep -vE 'Lock dependency validator|RCU lockdep checking is enabled|KernelAddressSanitizer initialized|kasan: ')
# a panic or oops before the dump is in the raw console only
raw_bad=$(grep -vE '^    ' "$log" | grep -E 'Kernel panic|Oops|BUG:|WARNING:|Unable to handle' |
	grep -v '^OKVM' | head -n 5)
[ -n "$bad_lines$raw_bad" ] && problems+=("bad kernel log lines")
if grep -q '^OKVM-LOCKDEP' "$log"; then
	grep -qE '^OKVM-LOCKDEP[[:space:]]+debug_locks:[[:space:]]*1$' "$log" || problems+=("lockdep turned itself off")
fi
leaks=$(sed -n 's/^OKVM-KMEMLEAK \([0-9]*\)/\1/p' "$log")
[ -n "$leaks" ] && [ "$leaks" != 0 ] && problems+=("kmemleak: $leaks okvm lines")

summary="$name: $sub_ok passed, $sub_bad failed, $sub_skip skipped in $top_ok/$((top_ok + top_bad)) programs (${secs}s)"
if [ ${#problems[@]} -eq 0 ]; then
	echo "$summary: PASS"
	exit 0
fi
echo "$summary: FAIL: $(IFS=';'; echo "${problems[*]}")"
[ -n "$bad_lines$raw_bad" ] && printf '%s\n%s\n' "$bad_lines" "$raw_bad" | head -n 20 | sed 's/^/  | /'
grep -E '^    not ok|^not ok|^    # .*(FAIL|Expected|ASSERT)' "$log" | head -n 20 | sed 's/^/  | /'
exit 1
