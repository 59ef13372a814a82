#!/usr/bin/env bash
# PIPROV_FIRMWARE_TEMPLATES replaces the installed presets: a preset is read from there,
# and one missing there is an error naming that folder (no silent fallback).
. "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
piprov=$PV_BUILD/bin/piprov
mkdir -p "$tmp/presets/2711"
printf 'BOOT_ORDER=0xf12\n' >"$tmp/presets/2711/network.conf"
"$piprov" eeprom synth 2711 -o "$tmp/img.bin"
PIPROV_FIRMWARE_TEMPLATES=$tmp/presets "$piprov" eeprom set "$tmp/img.bin" -o "$tmp/out.bin" \
	--preset network >/dev/null 2>&1 || fail "eeprom set with PIPROV_FIRMWARE_TEMPLATES failed"
got=$("$piprov" eeprom config "$tmp/out.bin" | sed -n 's/^BOOT_ORDER=//p')
[ "$got" = 0xf12 ] || fail "BOOT_ORDER $got: the preset of PIPROV_FIRMWARE_TEMPLATES was not used"
if PIPROV_FIRMWARE_TEMPLATES=$tmp/presets "$piprov" eeprom set "$tmp/img.bin" \
	-o "$tmp/sd.bin" --preset sd 2>"$tmp/err"; then
	fail "--preset sd found although $tmp/presets has no sd.conf"
fi
grep -qF "$tmp/presets" "$tmp/err" || fail "the error does not name the folder: $(cat "$tmp/err")"
# Unset, the installed folder beside the program (the build tree mirrors it) is used.
env -u PIPROV_FIRMWARE_TEMPLATES "$piprov" eeprom set "$tmp/img.bin" -o "$tmp/sd.bin" \
	--preset sd >/dev/null 2>&1 || fail "--preset sd not found beside $piprov"
echo "PIPROV_FIRMWARE_TEMPLATES used alone; unset, share/piprov beside the program"
