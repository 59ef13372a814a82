#!/usr/bin/env bash
# Fixture: the packages of this build, made by CPack (cmake/Packaging.cmake) into PV_DEBS;
# each package CPack makes is one piprov_deb_expect names, and each holds its copyright
# and changelog where Debian policy wants them.
. "$(dirname "$0")/lib.sh"
rm -rf "$PV_DEBS"
piprov_cpack "$PV_BUILD" "$PV_DEBS" >"$PV_DEBS.log" 2>&1 ||
	fail "cpack failed: $(tail -n 5 "$PV_DEBS.log")"
arch=$(dpkg --print-architecture)
for package in piprov libpiprov-dev piprov-common; do
	deb_arch=$arch
	[ "$package" != piprov-common ] || deb_arch=all
	deb=$PV_DEBS/${package}_${PV_VERSION}_$deb_arch.deb
	[ -f "$deb" ] || fail "no $(basename "$deb") among: $(cd "$PV_DEBS" && ls ./*.deb)"
	contents=$(dpkg-deb -c "$deb" | awk '{print $6}')
	for file in copyright changelog.gz; do
		grep -qx "./usr/share/doc/$package/$file" <<<"$contents" ||
			fail "$(basename "$deb") has no /usr/share/doc/$package/$file"
	done
done
echo "packages of $PV_BUILD in $PV_DEBS: $(cd "$PV_DEBS" && ls ./*.deb | tr '\n' ' ')"
