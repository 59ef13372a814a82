#!/usr/bin/env bash
# An install moved to another folder, with the source and build trees hidden, finds its
# presets: they are looked up beside the program (bin/../share/piprov), not at a path
# fixed when it was built. Both programs: piprov eeprom set and piprov-node netboot.
. "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -a "$PV_STAGE$PV_PREFIX" "$tmp/moved"
cp -a "$PV_SOURCE/tests/fixtures/sysroot/pi4b" "$tmp/pi4b"
for chip in 2711 2712; do
	want=$(sed -n 's/^BOOT_ORDER=//p' "$PV_SOURCE/firmware-templates/$chip/network.conf")
	[ -n "$want" ] || fail "no BOOT_ORDER in firmware-templates/$chip/network.conf"
	echo "$chip $want" >>"$tmp/want"
done
# Everything below runs with the trees hidden; the script is passed inline.
without_trees bash -euc '
	cd "$1"
	while read -r chip want; do
		moved/bin/piprov eeprom synth "$chip" -o "img-$chip.bin"
		moved/bin/piprov eeprom set "img-$chip.bin" -o "net-$chip.bin" --preset network \
			>/dev/null 2>&1 || { echo "FAIL: piprov eeprom set --preset network ($chip):" \
			"$(moved/bin/piprov eeprom set "img-$chip.bin" -o "net-$chip.bin" \
			--preset network 2>&1 | tail -n1)" >&2; exit 1; }
		got=$(moved/bin/piprov eeprom config "net-$chip.bin" | sed -n "s/^BOOT_ORDER=//p")
		[ "$got" = "$want" ] || { echo "FAIL: $chip: BOOT_ORDER $got, preset has $want" >&2; exit 1; }
	done <want
	# An image of ones own is staged with the recovery.bin beside it: a dry run checks
	# that there is one, as the real run needs it.
	printf "recovery.bin for the test\n" >recovery.bin
	moved/sbin/piprov-node --root pi4b netboot --dry-run --preset network \
		--image img-2711.bin >node.log 2>&1 ||
		{ echo "FAIL: piprov-node netboot --preset network: $(tail -n1 node.log)" >&2; exit 1; }
	grep -q "^+BOOT_ORDER=$(sed -n "s/^2711 //p" want)\$" node.log ||
		{ echo "FAIL: piprov-node did not apply the preset: $(cat node.log)" >&2; exit 1; }
' sh "$tmp"
echo "moved install found its presets with $PV_SOURCE and $PV_BUILD hidden"
