# Shared by the package tests (sourced): the build (PV_BUILD), the source (PV_SOURCE), the
# packages of the build (PV_DEBS, made by package_debs.sh), the project version (PV_VERSION).
set -euo pipefail
. "$PV_SOURCE/packaging/lib.sh"

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

skip() {
	echo "SKIPPED: $*" >&2
	exit 77
}

[ "${PV_SANITIZED:-0}" = 0 ] || skip "sanitized build: sanitized programs are never packaged"
