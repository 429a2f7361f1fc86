#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Model-check the pfncache model (pfncache.pml) with spin, exhaustively:
#   okvm                           must verify (no error, search complete)
#   okvm-without-deactivate-mutex  must verify too
#   okvm-without-refresh-lock      and this one
#   seed001                        must give a counterexample, one of them
#                                  the stale-khva reuse of seed 001
# Exits 0 only if all four do. Needs spin and gcc; installs them if
# missing (Debian, as root). usage: check.sh
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
model=$here/pfncache.pml
depth=10000	# the models need ~100
t0=$SECONDS

die() { echo "check.sh: $*" >&2; exit 2; }

install_pkg() { # package
	export DEBIAN_FRONTEND=noninteractive
	[ -n "${apt_updated:-}" ] || { apt-get update -qq >&2 || true; apt_updated=1; }
	apt-get install -y -qq "$1" >&2 ||
		apt-get install -y -qq -t trixie "$1" >&2 ||
		apt-get install -y -qq -t sid "$1" >&2
}

command -v spin >/dev/null || install_pkg spin || true
command -v gcc >/dev/null || install_pkg gcc || true
command -v spin >/dev/null || die "spin is missing and could not be installed"
command -v gcc >/dev/null || die "gcc is missing and could not be installed"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/okvm-model.XXXXXX") || die "mktemp failed"
if [ -n "${OKVM_MODEL_KEEP:-}" ]; then
	echo "check.sh: work files kept in $tmp" >&2
else
	trap 'rm -rf "$tmp"' EXIT
fi

# pan's summary numbers: stored states, transitions, depth, errors
panstat() { # log what
	case $2 in
	states) sed -n 's/^ *\([0-9]*\) states, stored.*/\1/p' "$1" ;;
	trans) sed -n 's/^ *\([0-9]*\) transitions.*/\1/p' "$1" ;;
	depth) sed -n 's/.*depth reached \([0-9]*\),.*/\1/p' "$1" ;;
	errors) sed -n 's/.*errors: \([0-9]*\).*/\1/p' "$1" ;;
	esac | head -n 1
}

# Generate, compile and run the verifier of one design in $tmp/<name>.
# usage: build_run name "spin -D flags" "pan flags"
build_run() {
	local d=$tmp/$1

	mkdir -p "$d" && cp "$model" "$d/" || return 1
	(
		cd "$d" || exit 1
		# shellcheck disable=SC2086
		spin -a $2 pfncache.pml >spin.log 2>&1 || exit 1
		# exhaustive search of safety properties (no bitstate)
		gcc -O2 -w -DSAFETY -o pan pan.c >gcc.log 2>&1 || exit 1
		# shellcheck disable=SC2086
		./pan -m$depth -w20 $3 >pan.log 2>&1
		exit 0
	) || { echo "model $1: could not build the verifier:"; \
		cat "$d/spin.log" "$d/gcc.log" 2>/dev/null | head -n 20; return 1; }
}

# A design that must verify.
# usage: verify name "spin -D flags"
verify() {
	local log=$tmp/$1/pan.log e

	build_run "$1" "$2" "" || return 1
	e=$(panstat "$log" errors)
	# exhaustive, complete, not cut by the depth bound
	if [ "$e" = 0 ] && grep -q 'Full statespace search' "$log" &&
	   ! grep -qE 'depth too small|Search not completed' "$log"; then
		echo "model $1: verified, $(panstat "$log" states) states" \
			"stored, $(panstat "$log" trans) transitions," \
			"depth $(panstat "$log" depth)"
		return 0
	fi
	echo "model $1: NOT verified (errors: ${e:-?})"
	grep -E '^pan:[0-9]|depth too small|not completed' \
		"$log" | head -n 5 | sed 's/^/  /'
	return 1
}

# The trail's events (the model's printf lines), with process names.
events() { # trail-number
	(cd "$tmp/seed001" && spin -t"$1" -DSEED001 pfncache.pml 2>&1) |
		sed -e 's/^[[:space:]]*//' |
		grep -E '^[0-9]: |text of failed assertion' |
		sed -e 's/^1: /writer    /' -e 's/^2: /refresher /' \
		    -e 's/^3: /toggler   /' -e 's/^4: /notifier  /' \
		    -e 's/^spin: text of failed assertion: /FAILED    /'
}

# The buggy design: search all of it (-c0), keeping every trail (-e),
# then sort the counterexamples by the assertion they break.
refute() {
	local d=$tmp/seed001 log=$tmp/seed001/pan.log e n k ev pick=
	local use_unmapped='assert(((gpc_khva!=0)&&mapped[gpc_khva]))'

	build_run seed001 -DSEED001 "-c0 -e" || return 1
	e=$(panstat "$log" errors)
	if [ -z "$e" ] || [ "$e" = 0 ]; then
		echo "model seed001: NO counterexample found (errors: ${e:-?})"
		return 1
	fi
	echo "model seed001: counterexample found (assertion violated)," \
		"$(panstat "$log" states) states stored, $(panstat "$log" trans)" \
		"transitions, $e errors"

	n=$(find "$d" -maxdepth 1 -name 'pfncache.pml*.trail' | wc -l)
	: >"$d/kinds"
	for ((k = 1; k <= n && k <= 1000; k++)); do
		ev=$(events "$k")
		grep -m1 '^FAILED' <<<"$ev" >>"$d/kinds"
		# the seed 001 path: a stale khva reused, then stored through
		if [ -z "$pick" ] && grep -q 'same pfn, reuse' <<<"$ev" &&
		   grep -qF "$use_unmapped" <<<"$ev"; then
			pick=$k
		fi
	done
	echo "  failed assertions over the $n trails:"
	sed 's/^FAILED *//' "$d/kinds" | sort | uniq -c | sort -rn | sed \
		-e 's/(gpc_khva!=0)&&mapped\[gpc_khva\].*/&  writer: khva not mapped/' \
		-e 's/mapped\[\(old\|new\)_khva\].*/&  vunmap: already unmapped/' \
		-e 's/mapped\[i\]==.*/&  at the end: khva and vmap slots disagree/' \
		-e 's/gpc_active||.*/&  at the end: deactivated cache keeps a mapping/' \
		-e 's/lk_writer!=.*/&  sleeping under gpc->lock/' \
		-e 's/page_alive\[gpc_pfn\].*/&  writer: page freed/' \
		-e 's/!(zapped).*/&  writer: cache valid in an invalidation/' \
		-e 's/(gpc_uhva==want_uhva).*/&  writer: not the activated address/' \
		-e 's/(gpc_pfn==hva_page.*/&  writer: not the page at the address/' \
		-e 's/^/   /'
	if [ -z "$pick" ]; then
		echo "  no trail shows the stale-khva reuse of seed 001"
		return 1
	fi
	echo "  trail $pick (the stale-khva reuse), events in order:"
	events "$pick" | tail -n 30 | sed 's/^/    /'
	return 0
}

status=0
verify okvm "" || status=1
verify okvm-without-deactivate-mutex -DNO_DEACTIVATE_MUTEX || status=1
verify okvm-without-refresh-lock -DNO_REFRESH_LOCK || status=1
refute || status=1
echo "model check: $([ $status = 0 ] && echo passed || echo FAILED)" \
	"in $((SECONDS - t0)) s"
exit $status
