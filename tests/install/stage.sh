#!/usr/bin/env bash
# Fixture of the install tests: `cmake --install` of the build tree with DESTDIR=PV_STAGE
# and the prefix PV_PREFIX (a folder of this build that the install must not create). DESTDIR puts
# every file the install writes under PV_STAGE, absolute destinations included, so a rule
# that escapes the prefix shows up as a file outside PV_STAGE/PV_PREFIX.
. "$(dirname "$0")/lib.sh"
rm -rf "$PV_STAGE" "$PV_PREFIX"
mkdir -p "$PV_STAGE"
DESTDIR=$PV_STAGE cmake --install "$PV_BUILD" --prefix "$PV_PREFIX" >"$PV_STAGE.log" 2>&1 ||
	fail "cmake --install failed: $(tail -n 5 "$PV_STAGE.log")"
[ ! -e "$PV_PREFIX" ] || fail "cmake --install with DESTDIR wrote into the prefix $PV_PREFIX itself"
echo "staged the install of $PV_BUILD (prefix $PV_PREFIX) in $PV_STAGE"
