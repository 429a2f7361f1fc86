#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0
# /init of okvm's test guests (busybox). Loads okvm.ko, runs the selftests
# named in /okvm.conf and reports KTAP on the console, then the kernel log
# between markers so the host can scan it, then powers off.
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
. /okvm.conf
export OKVM_KO=/lib/okvm/okvm.ko PATH=/bin:/selftests

echo "OKVM-GUEST-UP cell=$CELL kernel=$(uname -r) uptime=$(cut -d' ' -f1 /proc/uptime)"

# Load okvm with the given parameters, unless it is loaded with them
# already (a test may leave it loaded with others).
load_okvm() {
	if grep -q '^okvm ' /proc/modules; then
		want=N
		[ "$1" = testing=1 ] && want=Y
		[ "$(cat /sys/module/okvm/parameters/testing)" = $want ] && return 0
		rmmod okvm || return 1
	fi
	insmod "$OKVM_KO" "$@"
}

if [ "$MODE" = demo ]; then
	echo "OKVM-DEMO: insmod okvm.ko"
	load_okvm && echo "OKVM-DEMO: loaded" || echo "OKVM-DEMO: insmod failed"
	dmesg | grep -i okvm
	ls -l /dev/okvm /dev/kvm
	okvm-info
	echo "OKVM-DEMO-RC $?"
elif [ "$MODE" = cmd ]; then
	# each line of /okvm.cmds, with okvm loaded (or the built-in KVM)
	if [ -z "$INTREE_KVM" ]; then
		# shellcheck disable=SC2086
		load_okvm $LOAD_PARAMS || echo "OKVM-CMD: insmod failed"
	fi
	while read -r line; do
		[ -n "$line" ] || continue
		echo "OKVM-CMD-BEGIN $line"
		# shellcheck disable=SC2086
		timeout "$TEST_TIMEOUT" $line </dev/null 2>&1
		echo "OKVM-CMD-RC $?"
	done </okvm.cmds
else
	set -- $TESTS
	echo "KTAP version 1"
	echo "1..$#"
	i=0
	for t in $TESTS; do
		i=$((i + 1))
		if ! load_okvm testing=1; then
			echo "# okvm: insmod failed before $t"
			echo "not ok $i $t"
			continue
		fi
		# "prog:arg:arg" runs prog with those arguments
		prog=${t%%:*}
		args=$(echo "${t#"$prog"}" | tr ':' ' ')
		start=$(cut -d' ' -f1 /proc/uptime)
		# shellcheck disable=SC2086
		timeout "$TEST_TIMEOUT" "/selftests/$prog" $args </dev/null >/tmp/out 2>&1
		rc=$?
		sed 's/^/    /' /tmp/out
		secs=$(awk -v s="$start" '{ print $1 - s }' /proc/uptime)
		echo "# $t: rc=$rc secs=$secs"
		if [ $rc = 0 ]; then echo "ok $i $t"; else echo "not ok $i $t"; fi
	done
fi

# unload: a module that cannot leave cleanly is a failure too
if grep -q '^okvm ' /proc/modules; then
	rmmod okvm && echo "OKVM-RMMOD ok" || echo "OKVM-RMMOD failed"
fi
if [ "$DEBUG" = 1 ]; then
	echo "OKVM-LOCKDEP $(grep -m1 'debug_locks' /proc/lockdep_stats 2>/dev/null)"
	if [ -w /sys/kernel/debug/kmemleak ]; then
		echo scan >/sys/kernel/debug/kmemleak
		echo "OKVM-KMEMLEAK $(grep -c "\[okvm\]" /sys/kernel/debug/kmemleak)"
		grep -A12 'unreferenced object' /sys/kernel/debug/kmemleak | head -n 60
	fi
fi
echo "OKVM-DMESG-BEGIN"
dmesg
echo "OKVM-DMESG-END"
echo "OKVM-GUEST-DONE uptime=$(cut -d' ' -f1 /proc/uptime)"
poweroff -f
