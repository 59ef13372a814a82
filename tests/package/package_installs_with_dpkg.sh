#!/usr/bin/env bash
# The packages of this build install with dpkg on this machine's system and work from where
# they install: piprov --version, man -w piprov (and the other pages), the udev rules in
# /usr/lib/udev/rules.d, every unit's ExecStart= program installed, the station's user and
# group piprov made by the postinst, the presets found in
# /usr/share/piprov (eeprom set --preset network), a program built with
# `pkg-config piprov` against libpiprov-dev links and runs; then dpkg --purge removes every
# file they installed without a warning. All of it in a throw-away copy of the root
# (piprov_in_scratch_root): the machine's dpkg database is checked to be unchanged after.
. "$(dirname "$0")/lib.sh"
status_before=$(md5sum /var/lib/dpkg/status /etc/passwd /etc/group)
rc=0
piprov_in_scratch_root "$PV_DEBS" '
	version=$1
	cd /tmp/pv-files
	debs=(piprov-common_*.deb piprov_*.deb libpiprov-dev_*.deb)
	fail() { echo "FAIL: $*" >&2; exit 1; }
	dpkg -i "${debs[@]}" >dpkg-i.log 2>&1 || fail "dpkg -i ${debs[*]}: $(tail -n 5 dpkg-i.log)"
	! grep -i "warning" dpkg-i.log || fail "dpkg -i warned"

	[ "$(command -v piprov)" = /usr/bin/piprov ] || fail "piprov is not /usr/bin/piprov"
	got=$(piprov --version) || fail "piprov --version failed"
	grep -qF "$version" <<<"$got" || fail "piprov --version says \"$got\", not $version"
	for page in piprov piprov-rpiboot piprov-eeprom-config piprov-inventory.5; do
		name=${page%.5}
		section=1
		[ "$name" = "$page" ] || section=5
		where=$(man -w "$section" "$name" 2>&1) || fail "man -w $section $name: $where"
		[ "$where" = "/usr/share/man/man$section/$name.$section.gz" ] ||
			fail "man -w $section $name gives $where"
	done

	rules=$(dpkg -L piprov | grep "^/usr/lib/udev/rules.d/.*\.rules$") ||
		fail "piprov installs no udev rule in /usr/lib/udev/rules.d"
	for rule in $rules; do
		[ -s "$rule" ] || fail "$rule is empty"
	done
	for unit in $(dpkg -L piprov | grep "^/usr/lib/systemd/system/" || true); do
		[ -f "$unit" ] || continue
		for program in $(sed -n "s/^ExecStart=[-@:+!]*\([^ ]*\).*/\1/p" "$unit"); do
			[ -x "$program" ] || fail "$unit starts $program, which is not installed"
		done
	done
	# The station unit runs as user piprov: the postinst made it (sysusers.d/piprov.conf).
	[ -s /usr/lib/sysusers.d/piprov.conf ] || fail "no /usr/lib/sysusers.d/piprov.conf"
	user=$(getent passwd piprov) || fail "dpkg -i made no user piprov (postinst)"
	[ "$(cut -d: -f6 <<<"$user")" = /var/lib/piprov ] || fail "user piprov: $user"
	getent group piprov >/dev/null || fail "dpkg -i made no group piprov"
	if grep -q "^User=piprov$" /usr/lib/systemd/system/piprov-station.service 2>/dev/null; then
		[ "$(id -gn piprov)" = piprov ] || fail "user piprov is not in group piprov"
	fi
	[ -s /usr/share/bash-completion/completions/piprov ] || fail "no bash completion"
	[ -s /usr/share/zsh/vendor-completions/_piprov ] || fail "no zsh completion"

	want=$(sed -n "s/^BOOT_ORDER=//p" /usr/share/piprov/firmware-templates/2711/network.conf)
	piprov eeprom synth 2711 -o synth.bin >/dev/null
	piprov eeprom set synth.bin -o net.bin --preset network >/dev/null 2>&1 ||
		fail "piprov eeprom set --preset network: $(piprov eeprom set synth.bin -o net.bin \
			--preset network 2>&1 | tail -n 1)"
	got=$(piprov eeprom config net.bin | sed -n "s/^BOOT_ORDER=//p")
	[ -n "$want" ] && [ "$got" = "$want" ] ||
		fail "BOOT_ORDER $got after --preset network, the installed preset has $want"

	cat >use-libpiprov.c <<-"PROGRAM"
	#include <piprov/board.h>
	#include <stdio.h>
	int main(void)
	{
		const struct pv_soc_info *soc = pv_soc_by_name("BCM2711");
		if (!soc)
			return 1;
		printf("%s %zu\n", soc->chip, soc->eeprom_size);
		return 0;
	}
	PROGRAM
	cc $(pkg-config --cflags piprov) use-libpiprov.c $(pkg-config --libs piprov) \
		-o use-libpiprov >cc.log 2>&1 || fail "build against libpiprov-dev: $(tail -n 5 cc.log)"
	[ "$(./use-libpiprov)" = "2711 524288" ] ||
		fail "program linked with libpiprov printed \"$(./use-libpiprov)\""

	for deb in "${debs[@]}"; do
		dpkg-deb -c "$deb" | awk "\$1 !~ /^d/ {print substr(\$6, 2)}"
	done >installed-files
	dpkg --purge libpiprov-dev piprov piprov-common >dpkg-purge.log 2>&1 ||
		fail "dpkg --purge: $(tail -n 5 dpkg-purge.log)"
	! grep -i "warning" dpkg-purge.log || fail "dpkg --purge warned"
	for package in piprov piprov-common libpiprov-dev; do
		state=$(dpkg-query -W -f="\${db:Status-Status}" "$package" 2>/dev/null || true)
		[ -z "$state" ] || [ "$state" = not-installed ] || fail "$package is still $state"
	done
	while read -r file; do
		[ ! -e "$file" ] && [ ! -L "$file" ] || fail "$file is left after dpkg --purge"
	done <installed-files
	[ ! -e /usr/share/piprov ] || fail "/usr/share/piprov is left after dpkg --purge"
	echo "installed $(wc -l <installed-files) files, used them, purged them all"
' "$PV_VERSION" || rc=$?
[ "$(md5sum /var/lib/dpkg/status /etc/passwd /etc/group)" = "$status_before" ] ||
	fail "the machine's dpkg database or users changed: the scratch root leaked"
exit "$rc"
