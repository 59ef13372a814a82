#!/usr/bin/env bash
# lintian reports no error on the packages of this build (its warnings are printed).
. "$(dirname "$0")/lib.sh"
command -v lintian >/dev/null || fail "no lintian (scripts/deps/test-debian.txt installs it)"
debs=("$PV_DEBS"/*.deb)
piprov_lintian "${debs[@]}" || fail "lintian reports errors in $(basename -a "${debs[@]}" | tr '\n' ' ')"
echo "lintian: no error in ${#debs[@]} packages"
