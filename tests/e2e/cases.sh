#!/usr/bin/env bash
# The end-to-end cases CTest runs (tests/e2e/CMakeLists.txt): each boots one guest through
# pv-e2e-run and then checks what came back: the command's exit status and output, the files
# it left, and the state of every virtual board afterwards.
#
#   cases.sh CASE      with PV_E2E_GUEST, PV_E2E_BRIDGE, PV_E2E_OUT, PV_E2E_PIPROV set
#
# Exit 0 pass, 1 fail (with the reason and the logs' tails), 77 skipped (QEMU or the guest
# not available: said so, never passed).
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
case_name=${1:?usage: cases.sh CASE}
: "${PV_E2E_GUEST:?}" "${PV_E2E_BRIDGE:?}" "${PV_E2E_OUT:?}" "${PV_E2E_PIPROV:?}"
: "${PV_E2E_TOOL:?}" "${PV_E2E_SOURCE:?}"
out=$PV_E2E_OUT
failures=0
source "$here/flash-command.sh"

# run_guest [pv-e2e-run options] -- COMMAND: sets $rc; exits 77/1 on skip/harness failure.
run_guest() {
	"$here/pv-e2e-run" --guest "$PV_E2E_GUEST" --bridge "$PV_E2E_BRIDGE" --out "$out" "$@"
	rc=$?
	case $rc in
	77) echo "SKIP: $case_name: the QEMU guest cannot run here (see above)"; exit 77 ;;
	99) echo "FAIL: $case_name: harness failure"; show_logs; exit 1 ;;
	esac
	echo "--- command output (guest) ---"
	cat "$out/command.log"
	echo "--- end ---"
}

show_logs() {
	echo "--- serial (tail) ---"; tail -n 25 "$out/serial.log" 2>/dev/null
	echo "--- bridge (tail) ---"; tail -n 25 "$out/bridge.log" 2>/dev/null
}

check() { # check DESCRIPTION COMMAND...
	local what=$1
	shift
	if "$@"; then
		echo "ok: $what"
	else
		echo "FAILED: $what"
		failures=$((failures + 1))
	fi
}

output_has() { grep -qE -- "$1" "$out/command.log"; }
output_count() { grep -cE -- "$1" "$out/command.log"; }
bridge_has() { grep -qE -- "$1" "$out/bridge.log"; }
# board_value K KEY: a line of the virtual board's result.txt (saved by the bridge).
board_value() { sed -n "s/^$2=//p" "$out/boards/board-$1/result.txt" 2>/dev/null; }
board_is() { [ "$(board_value "$1" "$2")" = "$3" ]; }

# The firmware the flash cases serve: made by the project's own code (piprov-e2e-tool).
make_firmware_input() {
	input="$out.input"
	rm -rf "$input"
	mkdir -p "$input"
	"$PV_E2E_TOOL" firmware "$input/firmware"
	case $? in
	0) ;;
	77) echo "SKIP: $case_name: this build has no virtual Pi"; exit 77 ;;
	*) echo "FAIL: $case_name: cannot make the firmware input"; exit 1 ;;
	esac
}

need_usb_cli() {
	"$PV_E2E_PIPROV" usb --help >/dev/null 2>&1 || {
		echo "SKIP: $case_name: 'piprov usb' is not in this build yet"
		exit 77
	}
}

# The EEPROM of virtual board K, after the run, holds the network preset and exactly the
# image the firmware reported (EEPROM_HASH = sha256 of what is in the flash).
check_flashed() { # K CHIP
	local k=$1 chip=$2 dump want got
	dump=$(ls "$out/boards/board-$k/"*.bin 2>/dev/null | head -n1)
	check "board $k ($chip): recovery flow wrote the EEPROM" board_is "$k" eeprom_written 1
	check "board $k ($chip): image matched pieeprom.sig" board_is "$k" signature_ok 1
	check "board $k ($chip): firmware reported EEPROM_UPDATE success" \
		board_is "$k" eeprom_update success
	check "board $k ($chip): the EEPROM dump exists" [ -n "$dump" ]
	[ -n "$dump" ] || return
	got=$(sha256sum "$dump" | cut -d' ' -f1)
	check "board $k ($chip): EEPROM_HASH is the flash content" \
		board_is "$k" eeprom_hash "$got"
	want=$(sed -n 's/^BOOT_ORDER=//p' "$PV_E2E_SOURCE/firmware-templates/$chip/network.conf")
	check "board $k ($chip): the preset has a BOOT_ORDER" [ -n "$want" ]
	check "board $k ($chip): flash has BOOT_ORDER=$want (network preset)" \
		bash -c '"$1" bootconf "$2" | grep -qx "BOOT_ORDER=$3"' _ "$PV_E2E_TOOL" "$dump" "$want"
}

# piprov's own records of board K: metadata JSON named by its serial, inventory entry.
check_recorded() { # K
	local k=$1 serial mac
	# The USB serial string and USER_SERIAL_NUM are the low 32 bits of the board serial.
	serial=$(board_value "$k" serial)
	serial=${serial: -8}
	mac=$(board_value "$k" mac)
	check "board $k: piprov wrote metadata/$serial.json" [ -f "$out/files/metadata/$serial.json" ]
	check "board $k: the metadata has its MAC $mac" \
		grep -qi "\"MAC_ADDR\": \"$mac\"" "$out/files/metadata/$serial.json"
	check "board $k: the inventory records serial $serial" \
		grep -qi "$serial" "$out/files/inventory.conf"
}

finish() {
	if [ "$failures" -ne 0 ]; then
		show_logs
		echo "FAIL: $case_name: $failures check(s) failed (results in $out)"
		exit 1
	fi
	echo "PASS: $case_name ($(tr '\n' ' ' <"$out/timing"))"
	exit 0
}

# The harness itself, without piprov: two probe boards, a plain-libusb rpiboot-shaped host
# program; hotplug in one libusb context and re-enumeration on the same port path.
case_pipeline() {
	run_guest --board probe --board probe -- usbprobe 2 1048576
	check "usbprobe exits 0" [ "$rc" -eq 0 ]
	check "libusb in the guest has hotplug" output_has 'hotplug yes'
	check "board on port 1-1 did its ROM stage" output_has '^USBPROBE: 1-1: rom stage ok'
	check "board on port 1-2 did its ROM stage" output_has '^USBPROBE: 1-2: rom stage ok'
	check "both came back as second stage on their ports" \
		output_has '^USBPROBE: PASS boards=2 wanted=2'
	check "the bridge saw two attachments per board" \
		bridge_has '^BRIDGE: board [01] .*attachments=2 .*bulk_bytes=1048600 '
	finish
}

# `piprov usb list` sees both boards with their port paths; then one Pi 4 and one Pi 5 are
# flashed with the network preset and verified, in the same guest.
case_flash_pi4_pi5() {
	need_usb_cli
	make_firmware_input
	run_guest --board pi4 --board pi5 --input "$input" --wait-devices --timeout 150 -- \
		"piprov usb list && echo LIST-DONE && $(pv_e2e_flash_command 2)"
	check "piprov exits 0" [ "$rc" -eq 0 ]
	check "usb list shows the Pi 4 ROM on port 1-1" output_has '^1-1 +2711 '
	check "usb list shows the Pi 5 ROM on port 1-2" output_has '^1-2 +2712 '
	check "usb list ran before the flash" output_has '^LIST-DONE$'
	check "the Pi 4 on 1-1 is verified" output_has '^1-1 +2711 +[0-9a-f]+ +verified '
	check "the Pi 5 on 1-2 is verified" output_has '^1-2 +2712 +[0-9a-f]+ +verified '
	check "summary: 2 succeeded, 0 failed" output_has '^2 succeeded, 0 failed'
	check_flashed 0 2711
	check_flashed 1 2712
	check_recorded 0
	check_recorded 1
	check "each board re-enumerated once (ROM, then recovery)" \
		bridge_has '^BRIDGE: board 1 .*attachments=2 '
	finish
}

# Four boards (two SoCs, two models each) flashed at once by one piprov. piprov starts
# before the kernel has enumerated them (no --wait-devices): it has to find them by hotplug.
case_flash_four() {
	need_usb_cli
	make_firmware_input
	run_guest --board pi4 --board pi5 --board cm4 --board cm5 --input "$input" \
		--timeout 150 -- "$(pv_e2e_flash_command 4)"
	check "piprov exits 0" [ "$rc" -eq 0 ]
	check "four boards verified" [ "$(output_count "$PV_E2E_VERIFIED_PATTERN")" -eq 4 ]
	check "summary: 4 succeeded, 0 failed" output_has '^4 succeeded, 0 failed'
	check_flashed 0 2711
	check_flashed 1 2712
	check_flashed 2 2711
	check_flashed 3 2712
	for k in 0 1 2 3; do check_recorded $k; done
	local serials
	serials=$(for k in 0 1 2 3; do board_value $k serial; done | sort -u | wc -l)
	check "four distinct board serials" [ "$serials" -eq 4 ]
	finish
}

# The bridge pulls the Pi 4 off the bus half-way through pieeprom.bin while a Pi 5 is being
# flashed beside it: piprov must end with a clean failure report for that board (no hang, no
# crash, its flash untouched) and still verify the other one.
case_unplug() {
	need_usb_cli
	make_firmware_input
	run_guest --board pi4:unplug-after=262144 --board pi5 --input "$input" --wait-devices \
		--timeout 150 -- "$(pv_e2e_flash_command 2 --board-timeout 20)"
	check "piprov exits 1 (a board failed), not killed or crashed" [ "$rc" -eq 1 ]
	check "the bridge pulled the Pi 4 mid-transfer" \
		bridge_has '^BRIDGE: board 0 .*unplugged=yes'
	check "the Pi 4 is reported failed on its port" output_has '^1-1 +2711 .* failed '
	check "the reason says the device went away" \
		output_has '^1-1 .* failed .*(disconnected|[Nn]o such device)'
	check "the Pi 4's virtual EEPROM was not written" board_is 0 eeprom_written 0
	check "the Pi 5 beside it is verified" output_has '^1-2 +2712 +[0-9a-f]+ +verified '
	check_flashed 1 2712
	check "summary: 1 succeeded, 1 failed" output_has '^1 succeeded, 1 failed'
	check "exactly one board claimed verified" \
		[ "$(output_count "$PV_E2E_VERIFIED_PATTERN")" -eq 1 ]
	check "no crash or sanitizer report in the output" \
		bash -c '! grep -qiE "segmentation|sanitizer|core dumped|assert" "$1"' _ \
		"$out/command.log"
	finish
}

# A CM4 with an eMMC file (spec key emmc=) is served upstream's mass-storage-gadget64 files
# by `piprov usb boot` in the guest; its bootloader runs boot.img and the board comes back as
# a USB disk. The guest kernel's own usb-storage and sd drivers must find it with the file's
# size and the gadget's SCSI identity; dd writes an image to it, the guest reads it back past
# its page cache, and the file on the host then holds exactly those bytes (the rest zero).
case_msd() {
	need_usb_cli
	local medium="$out.emmc.img" input="$out.input" size=$((8 * 1024 * 1024))
	local image_len=1536123 image_sha got_sha
	rm -rf "$input" "$medium"
	mkdir -p "$input/gadget"
	# What `rpiboot -d mass-storage-gadget64` serves a CM4. The virtual board runs its
	# bootloader flow for any second stage but the recovery program, and boot.img is known
	# by its name (docs/vpi.md): the contents only have to be there.
	printf 'boot_ramdisk=1\nuart_2ndstage=1\n' >"$input/gadget/config.txt"
	printf 'bootcode4.bin stand-in for the e2e msd case\n' >"$input/gadget/bootcode4.bin"
	printf 'boot.img stand-in: a FAT image with the gadget initramfs\n' >"$input/gadget/boot.img"
	head -c "$image_len" /dev/urandom >"$input/image.bin"
	image_sha=$(sha256sum "$input/image.bin" | cut -d' ' -f1)
	cat >"$input/msd.sh" <<EOF
set -e
for m in scsi_common scsi_mod crc64 crc64_rocksoft_generic crc64-rocksoft crct10dif_common \\
	crct10dif_generic crc-t10dif t10-pi sd_mod; do
	insmod /lib/modules/\$m.ko
done
insmod /lib/modules/usb-storage.ko delay_use=0
piprov usb boot -d /job/in/gadget -n 1 --timeout 30 --board-timeout 30
disk=
for i in \$(seq 1 150); do
	disk=\$(ls /sys/block | grep '^sd' | head -n1) || true
	[ -n "\$disk" ] && [ "\$(cat /sys/block/\$disk/size)" != 0 ] && break
	sleep 0.1
done
[ -n "\$disk" ] || { echo "MSD: no disk appeared"; exit 3; }
echo "MSD-DISK: \$disk size=\$(cat /sys/block/\$disk/size) removable=\$(cat /sys/block/\$disk/removable)"
echo "MSD-SCSI: vendor=\$(cat /sys/block/\$disk/device/vendor)"
for d in /sys/bus/usb/devices/*; do
	[ -f "\$d/idProduct" ] || continue
	echo "MSD-USB: \$(cat \$d/idVendor):\$(cat \$d/idProduct) \$(cat \$d/manufacturer 2>/dev/null)/\$(cat \$d/product 2>/dev/null)"
done
dd if=/job/in/image.bin of=/dev/\$disk bs=65536 conv=fsync 2>&1
sync
echo 3 >/proc/sys/vm/drop_caches
echo "MSD-READBACK: \$(head -c $image_len /dev/\$disk | sha256sum | cut -d' ' -f1)"
EOF
	run_guest --board "cm4:emmc=$medium,emmc-size=$size" --input "$input" --wait-devices \
		--timeout 90 -- "sh /job/in/msd.sh"
	check "the guest job exits 0" [ "$rc" -eq 0 ]
	check "piprov booted the CM4 on 1-1" output_has '^1-1 +2711 +[0-9a-f]+ +booted '
	check "the board came back as 0a5c:0104, the mass-storage-gadget64 gadget" \
		output_has '^MSD-USB: 0a5c:0104 Raspberry Pi/Raspberry Pi multi-function USB device$'
	check "the guest's usb-storage made a disk of the file's size ($((size / 512)) sectors)" \
		output_has "^MSD-DISK: sd[a-z]+ size=$((size / 512)) removable=1$"
	check "the disk's SCSI vendor is the gadget's inquiry string (mmcblk0)" \
		output_has '^MSD-SCSI: vendor=mmcblk0 *$'
	check "the guest read back what dd wrote (past its page cache)" \
		output_has "^MSD-READBACK: $image_sha$"
	got_sha=$(head -c "$image_len" "$medium" 2>/dev/null | sha256sum | cut -d' ' -f1)
	check "the eMMC file on the host holds the image (sha256 $image_sha)" \
		[ "$got_sha" = "$image_sha" ]
	check "the rest of the eMMC file is untouched (zero)" \
		bash -c '[ "$(tail -c +$(($2 + 1)) "$1" | tr -d "\0" | wc -c)" -eq 0 ]' _ \
		"$medium" "$image_len"
	check "the eMMC file kept its size" [ "$(stat -c %s "$medium" 2>/dev/null)" = "$size" ]
	check "the board model ended in its gadget stage" board_is 0 stage msd
	check "the board ran boot.img into mass-storage-gadget64" \
		board_is 0 msd_gadget mass-storage-gadget64
	check "the gadget saw the image written and synchronized" \
		bash -c '[ "$1" -ge "$2" ] && [ "$3" -ge 1 ]' _ "$(board_value 0 msd_bytes_written)" \
		"$image_len" "$(board_value 0 msd_syncs)"
	check "no phase errors on the wire" board_is 0 msd_phase_errors 0
	rm -f "$medium"
	finish
}

type "case_${case_name//-/_}" >/dev/null 2>&1 || { echo "unknown case '$case_name'"; exit 1; }
"case_${case_name//-/_}"
