#!/usr/bin/env bash
# Issue 15 item 3: a lost write on standard output is a failure. Each command the audit
# found exiting 0 with its output gone (`> /dev/full`) now exits 1 and says why, and the
# same command on a working stdout still exits 0 with its output (so the check is not
# satisfied by a command that fails anyway). The sweep over every command that prints is
# in conventions.sh.
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"
[ -w /dev/full ] || { echo "SKIP: no /dev/full"; exit 77; }

"$PIPROV" inventory add --inventory inv.cfg --serial 10000000f8b73778 --mac dc:a6:32:b8:04:5c \
	--ip 10.0.0.5 --hostname node1 >/dev/null || { echo "setup failed"; exit 1; }
"$PIPROV" eeprom synth 2711 -o img.bin >/dev/null || { echo "setup failed"; exit 1; }

cases=(
	"inventory export ethers --inventory inv.cfg"
	"inventory export json --inventory inv.cfg"
	"inventory export dnsmasq --inventory inv.cfg"
	"inventory export hosts --inventory inv.cfg"
	"inventory list --inventory inv.cfg"
	"inventory show f8b73778 --json --inventory inv.cfg"
	"eeprom info img.bin"
	"eeprom set img.bin -o out.bin BOOT_UART=1"
	"usb list --virtual pi4"
)
for c in "${cases[@]}"; do
	# shellcheck disable=SC2086
	run "$PIPROV" $c
	expect_rc 0 "piprov $c"
	checks=$((checks + 1))
	[ -n "$out" ] || fail "piprov $c printed nothing on a working stdout"
	# shellcheck disable=SC2086
	FULL=1 run "$PIPROV" $c
	expect_rc 1 "piprov $c >/dev/full"
	expect_in "piprov: error: cannot write to standard output: No space left on device" "$err" \
		"piprov $c >/dev/full"
done
# Standard output closed: the write fails (EBADF), the same way.
rc=0
(exec "$PIPROV" eeprom info img.bin) 2>"$WORK/.err" >&- || rc=$?
err=$(<"$WORK/.err")
expect_rc 1 "piprov eeprom info with stdout closed"
expect_in "cannot write to standard output" "$err" "piprov eeprom info with stdout closed"
# piprov-node too.
FULL=1 run "$NODE" status --root "$SYSROOTS/pi4b"
expect_rc 1 "piprov-node status >/dev/full"
expect_in "piprov-node: error: cannot write to standard output" "$err" "piprov-node status >/dev/full"
finish
