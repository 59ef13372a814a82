#!/usr/bin/env bash
# Fixture: the packages of this build, made by CPack (cmake/Packaging.cmake) into PV_DEBS;
# the three host packages are there, each holding its copyright and changelog where Debian
# policy wants them, libpiprov-dev's files in the multiarch library folder, every file
# dated by the changelog (reproducible).
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
# The library and its .pc in Debian's multiarch folder (lintian warns of a .pc elsewhere:
# pkg-config of a cross build would not find it).
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null) || fail "no dpkg-architecture (dpkg-dev)"
contents=$(dpkg-deb -c "$PV_DEBS/libpiprov-dev_${PV_VERSION}_$arch.deb" | awk '{print $6}')
for file in libpiprov.a pkgconfig/piprov.pc; do
	grep -qx "./usr/lib/$multiarch/$file" <<<"$contents" ||
		fail "libpiprov-dev has no /usr/lib/$multiarch/$file"
done
# Reproducible: the changelog names this version, and every file of every package carries
# the changelog's time (SOURCE_DATE_EPOCH), not the time it was packaged.
changelog_version=$(dpkg-parsechangelog -l "$PV_SOURCE/packaging/changelog" -SVersion)
[ "$changelog_version" = "$PV_VERSION" ] ||
	fail "packaging/changelog's newest entry is $changelog_version, the project is $PV_VERSION"
stamp=$(date -u -d "@$(piprov_changelog_epoch)" '+%Y-%m-%d %H:%M:%S')
for deb in "$PV_DEBS"/*.deb; do
	other=$(dpkg-deb --fsys-tarfile "$deb" | tar -tv --utc --full-time |
		awk -v stamp="$stamp" '$4 " " $5 != stamp {print $6 " " $4 " " $5; exit}')
	[ -z "$other" ] || fail "$(basename "$deb"): $other, not the changelog's time $stamp"
done
echo "packages of $PV_BUILD in $PV_DEBS: $(cd "$PV_DEBS" && ls ./*.deb | tr '\n' ' ')"
