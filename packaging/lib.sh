# Shared by scripts/dev package, packaging/node-debs and tests/package (sourced; needs bash).

piprov_source=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# piprov_changelog_epoch
# The time of packaging/changelog's newest entry, in seconds since the epoch: the packages'
# SOURCE_DATE_EPOCH, as dpkg-buildpackage takes it from debian/changelog.
piprov_changelog_epoch() {
	dpkg-parsechangelog -l "$piprov_source/packaging/changelog" -STimestamp
}

# piprov_cpack BUILD OUT [CPACK_ARGS...]
# The Debian packages of the build folder BUILD (cmake/Packaging.cmake), made by CPack in
# OUT/.cpack (its staging area) and moved to OUT. Prints CPack's output. CPack's DEB
# generator stamps every file of a package with SOURCE_DATE_EPOCH when it is set (else with
# the staging time): unless the caller sets it, the changelog's time, so packaging the same
# build twice gives byte-identical packages.
piprov_cpack() {
	local build=$1 out=$2 epoch
	shift 2
	epoch=${SOURCE_DATE_EPOCH:-$(piprov_changelog_epoch)} || return 1
	mkdir -p "$out"
	rm -rf "$out/.cpack"
	SOURCE_DATE_EPOCH=$epoch cpack --config "$build/CPackConfig.cmake" -B "$out/.cpack" "$@" ||
		return 1
	mv "$out/.cpack"/*.deb "$out/"
	rm -rf "$out/.cpack"
}

# piprov_shlibs_depends PROGRAM
# The Depends dpkg-shlibdeps computes for PROGRAM (the packages of the shared libraries it
# links), e.g. "libc6 (>= 2.34), libssl3 (>= 3.0.0)". dpkg-shlibdeps reads debian/control
# of the current folder, so it runs in an empty one with an empty control file.
piprov_shlibs_depends() {
	local program dir out
	program=$(realpath "$1")
	dir=$(mktemp -d)
	mkdir "$dir/debian"
	: >"$dir/debian/control"
	out=$(cd "$dir" && dpkg-shlibdeps -O "$program" 2>/dev/null) || { rm -rf "$dir"; return 1; }
	rm -rf "$dir"
	sed -n 's/^shlibs:Depends=//p' <<<"$out"
}

# piprov_lintian DEB...
# lintian on the packages; fails when it reports an error (warnings are printed, not fatal).
piprov_lintian() {
	lintian --fail-on error --tag-display-limit 0 "$@" 2>&1 |
		grep -v '^running with root privileges is not recommended!$'
	return "${PIPESTATUS[0]}"
}

# piprov_in_scratch_root FILES SCRIPT [ARGS...]
# Run the bash SCRIPT (with ARGS as $1...) as root, chrooted into a copy-on-write view of
# this machine's root file system with FILES (a folder) copied to /tmp/pv-files: an overlay
# whose changes go to a tmpfs, in a private mount namespace, so what SCRIPT installs or
# removes (dpkg -i, dpkg --purge) never reaches the machine, on a developer's machine as on
# CI. Returns 77, saying why, where that cannot be done (not root, no overlayfs).
piprov_in_scratch_root() {
	local files=$1 script=$2 scratch rc=0
	shift 2
	if [ "$(id -u)" -ne 0 ]; then
		echo "SKIPPED: needs root (a mount namespace with an overlay of /)" >&2
		return 77
	fi
	scratch=$(mktemp -d)
	unshare --mount --propagation private bash -euc '
		scratch=$1 files=$2 script=$3
		shift 3
		mount -t tmpfs pv-scratch "$scratch"
		mkdir "$scratch/upper" "$scratch/work" "$scratch/root"
		if ! mount -t overlay pv-scratch-root \
			-o "lowerdir=/,upperdir=$scratch/upper,workdir=$scratch/work" "$scratch/root"; then
			echo "SKIPPED: no overlay file system over / (overlayfs)" >&2
			exit 77
		fi
		for fs in proc sys dev; do
			mount --rbind "/$fs" "$scratch/root/$fs"
		done
		rm -rf "$scratch/root/tmp/pv-files"
		cp -a "$files" "$scratch/root/tmp/pv-files"
		exec chroot "$scratch/root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
			HOME=/root LC_ALL=C.UTF-8 bash -euc "$script" bash "$@"
	' bash "$scratch" "$files" "$script" "$@" || rc=$?
	rmdir "$scratch" 2>/dev/null || true
	return "$rc"
}
