# SPDX-License-Identifier: GPL-2.0
# Shared helpers of okvm's test harness. Sourced, never run.
#
# Everything downloaded or built from outside the repository lives under
# $OKVM_CACHE (default ~/.cache/okvm); per-run output (objects, initramfs,
# boot logs) lives under $OKVM_BUILD (default <repo>/build).

OKVM_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
OKVM_CACHE=${OKVM_CACHE:-$HOME/.cache/okvm}
OKVM_BUILD=${OKVM_BUILD:-$OKVM_TOP/build}
OKVM_DEBS=$OKVM_CACHE/debs
export OKVM_TOP OKVM_CACHE OKVM_BUILD OKVM_DEBS DEBIAN_FRONTEND=noninteractive

# The matrix: <arch>-<kernel line>, plus the arm64 debug kernel.
OKVM_CELLS_ALL="arm64-6.1 arm64-6.12 arm64-7.2 x86_64-6.1 x86_64-6.12 x86_64-7.2 arm64-debug"

log() { printf '[okvm %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# Debian's architecture name for a cell's arch.
deb_arch() { case $1 in arm64) echo arm64 ;; x86_64) echo amd64 ;; *) die "bad arch $1" ;; esac; }

# The Debian suite a kernel line comes from, and the chroot that builds it.
line_suite() { case $1 in 6.1|6.12) echo bookworm ;; 7.2) echo sid ;; *) die "bad line $1" ;; esac; }

# Newest ABI name (e.g. 6.1.0-56, 6.12.117+deb12, 7.2.13+deb14) of a kernel
# line for one Debian architecture, read from the line's meta package.
resolve_abi() { # line debarch
	local meta dep
	case $1 in
	6.1|6.12)
		# the bookworm candidate (security updates included)
		meta="linux-image-$2:$2"
		[ "$1" = 6.12 ] && meta="linux-image-6.12-$2:$2"
		meta="$meta=$(apt-cache policy "$meta" | sed -n 's/^ *Candidate: //p')" ;;
	7.2) meta="linux-image-$2:$2/sid" ;;
	esac
	dep=$(apt-cache show "$meta" 2>/dev/null | sed -n 's/^Depends: //p' | head -n1 |
	      tr ',' '\n' | grep -oE "linux-image-[0-9][^ ]*-$2" | head -n1)
	[ -n "$dep" ] || die "cannot resolve the kernel of line $1 for $2 (apt-get update?)"
	dep=${dep#linux-image-}
	echo "${dep%-"$2"}"
}

# Fetch one .deb (name[:arch][=version]) into the download cache and verify it
# against the archive's SHA256 (apt verified the index signatures). Prints the
# path. A cached file is re-verified on every use.
fetch_deb() {
	local spec=$1 name ver arch sha file
	name=${spec%%=*}
	case $spec in
	*=*) ver=${spec#*=} ;;
	*/*) name=${spec%/*}
	     ver=$(apt-cache show "$spec" 2>/dev/null | sed -n 's/^Version: //p' | head -n1) ;;
	*) ver=$(apt-cache policy "$spec" 2>/dev/null | sed -n 's/^ *Candidate: //p' | head -n1) ;;
	esac
	[ "$ver" != "(none)" ] || ver=
	[ -n "$ver" ] || die "package $spec not found in apt's lists"
	sha=$(apt-cache show "${name}=${ver}" | sed -n 's/^SHA256: //p' | head -n1)
	arch=$(apt-cache show "${name}=${ver}" | sed -n 's/^Architecture: //p' | head -n1)
	file=$OKVM_DEBS/${name%%:*}_${ver/*:/}_${arch}.deb
	mkdir -p "$OKVM_DEBS"
	if [ -f "$file" ] && echo "$sha  $file" | sha256sum -c --quiet - 2>/dev/null; then
		echo "$file"; return
	fi
	rm -f "$file"
	(cd "$OKVM_DEBS" && apt-get download -qq -o APT::Sandbox::User=root "${name}=${ver}" >/dev/null) ||
		die "download of $spec failed"
	[ -f "$file" ] || file=$(ls -t "$OKVM_DEBS/${name%%:*}_"*"_${arch}.deb" | head -n1)
	echo "$sha  $file" | sha256sum -c --quiet - || die "checksum mismatch: $file"
	echo "$file"
}

# Unpack a .deb's files into a root directory without replacing the root's
# own directory symlinks (merged /usr: /lib -> usr/lib and friends), which a
# plain dpkg -x would turn into real directories.
unpack_deb() { # deb root
	dpkg-deb --fsys-tarfile "$1" | tar -C "$2" -x --keep-directory-symlink ||
		die "unpacking $1 failed"
}

# Install host packages that are missing (apt-get update once per run).
# OKVM_APT_RELEASE=<suite> takes them (and what they need) from that suite.
need_pkgs() {
	local missing=() p rel=()
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return
	apt_update_once
	[ -n "${OKVM_APT_RELEASE:-}" ] && rel=(-t "$OKVM_APT_RELEASE")
	log "apt-get install ${rel[*]} ${missing[*]}"
	apt-get install -y -qq --no-install-recommends "${rel[@]}" "${missing[@]}" >/dev/null ||
		die "apt-get install ${missing[*]} failed"
}

apt_update_once() {
	[ -n "${OKVM_APT_UPDATED:-}" ] && return
	apt-get update -qq || die "apt-get update failed"
	OKVM_APT_UPDATED=1; export OKVM_APT_UPDATED
}

# Wall time in seconds since a start value taken from $SECONDS.
since() { echo $((SECONDS - $1)); }
