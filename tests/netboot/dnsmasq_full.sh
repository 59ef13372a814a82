#!/bin/sh
# Virtual Pis flashed over USB with the network preset boot from the servers piprov
# configures: dnsmasq as the full DHCP server of a boot network with its own TFTP server,
# rpc.mountd answering for the NFS roots (`inventory export dnsmasq --dhcp-range`, `export
# tftp`, `export exports`). Every board boots (kernel and cmdline.txt read, its nfsroot
# exported to the address it got) and its UART log reads back as a successful network boot;
# `netboot check` gives the same verdicts without the boards. Then the failures, each with
# its reason: a board missing from the inventory, a wrong TFTP_PREFIX, a missing folder; and
# the check following a recorded TFTP_PREFIX / BOOT_ORDER.
# Usage: dnsmasq_full.sh PIPROV SOURCE_DIR BUILD_DIR
set -eu
PIPROV=$1 SRC=$2 BUILD=$3
. "$SRC/tests/netboot/lan.sh"
command -v dnsmasq >/dev/null || skip "dnsmasq is not installed (scripts/deps/test-inventory.txt)"
command -v jq >/dev/null || skip "jq is not installed (scripts/deps/test-cli.txt)"
export PIPROV_INVENTORY="$W/inventory.cfg"

# Two Pi 4s, a Pi 5 (flashed over USB: the network preset, UART log on) and a Pi 3 (no
# EEPROM: its boot ROM netboots; recorded by hand, as a user would after reading its label).
specs="--virtual pi4,serial=10000000aa000001,mac=dc:a6:32:aa:00:01,count=2,dump=$W/eeprom
--virtual pi5,serial=0c8f7e5cbb000001,mac=2c:cf:67:bb:00:01,dump=$W/eeprom"
serials="10000000aa000001 10000000aa000002 0c8f7e5cbb000001 00000000b8000001"
# shellcheck disable=SC2086
"$PIPROV" usb flash $specs --preset network --ip-pool 10.77.0.10-10.77.0.60/24 \
	--hostname-pattern node-%02d BOOT_UART=1 >"$W/flash.out" 2>&1 ||
	fail "usb flash: $(cat "$W/flash.out")"
"$PIPROV" inventory add --serial 00000000b8000001 --mac b8:27:eb:00:00:01 --ip 10.77.0.30 \
	--hostname node-pi3 board_revision=a02082 >/dev/null
for s in $serials; do
	"$PIPROV" inventory show "$s" >/dev/null || fail "board $s is not in the inventory"
done

lan_up
board_ports dc:a6:32:aa:00:01 dc:a6:32:aa:00:02 2c:cf:67:bb:00:01 b8:27:eb:00:00:01
checker_up
make_template
net="--interface br0 --dhcp-range 10.77.0.100,10.77.0.199,/24"
# shellcheck disable=SC2086
ip netns exec "$LAN" "$PIPROV" inventory export dnsmasq $net --tftp-root "$W/tftp" \
	-o "$W/dnsmasq.conf" || fail "export dnsmasq"
# shellcheck disable=SC2086
export_common $net
start dnsmasq "$LAN" dnsmasq --keep-in-foreground --conf-file="$W/dnsmasq.conf" \
	--pid-file="$W/dnsmasq.pid" --dhcp-leasefile="$W/dnsmasq.leases" --user=root \
	--log-facility=- --port=0 --no-ping
nfs_up
wait_for "dnsmasq" 10 test -s "$W/dnsmasq.pid"

# shellcheck disable=SC2086
"$PIPROV" netboot boot $specs --virtual pi3,serial=00000000b8000001,mac=b8:27:eb:00:00:01 \
	--netns "$BOARD_NS" --uart-dir "$W/uart" --timeout 60 --json >"$W/boot.json" \
	2>"$W/boot.err" || fail "netboot boot: $(cat "$W/boot.err"; jq -c '.[] |
	{serial, reason, detail}' "$W/boot.json")"
for s in $serials; do
	expect "$W/boot.json" "$s" ok "boot from dnsmasq (full DHCP)"
done
# the Pi 3 asked its ROM's files from the root, then its own folder
[ "$(jq -r '.[] | select(.serial == "00000000b8000001") | .first_file' "$W/boot.json")" = \
	bootcode.bin ] || fail "the Pi 3 did not start with bootcode.bin"
[ "$(jq -r '.[] | select(.serial == "00000000b8000001") | .menu' "$W/boot.json")" = \
	"Raspberry Pi Boot   " ] || fail "the Pi 3 did not get the 3B menu text"
# each board its inventory address, its kernel from its folder, its root exported to it
for s in 10000000aa000001 0c8f7e5cbb000001; do
	ip=$("$PIPROV" inventory show "$s" --json | jq -r .ip)
	jq -e --arg s "$s" --arg ip "$ip" '.[] | select(.serial == $s) | .ip == $ip and
		(.kernel | startswith($s[8:16] + "/")) and .nfs_export != null' "$W/boot.json" \
		>/dev/null || fail "board $s: $(jq -c --arg s "$s" '.[] | select(.serial == $s)' \
		"$W/boot.json")"
done
echo "ok: each board booted with its inventory address and its own folder"

# the UART logs, in the bootloader's own format, read back by piprov uart
for s in 10000000aa000001 10000000aa000002 0c8f7e5cbb000001; do
	log=$W/uart/$s.log
	[ -s "$log" ] || fail "no UART log for $s"
	"$PIPROV" uart parse "$log" --json >"$W/parse.json" || fail "uart parse $log"
	jq -e --arg s8 "${s#????????}" '.serial8 == $s8 and .result == "ok" and
		.boot_mode == "NETWORK"' "$W/parse.json" >/dev/null ||
		fail "uart parse $log: $(cat "$W/parse.json")"
	"$PIPROV" uart diagnose "$log" >"$W/diagnose.out" 2>&1 ||
		fail "uart diagnose $log: $(cat "$W/diagnose.out")"
done
echo "ok: every UART log parses as a successful network boot"

# netboot check: the same verdicts from any host of the LAN, with no board, taking no lease
cp "$W/dnsmasq.leases" "$W/leases.before"
check --json >"$W/check.json" \
	2>"$W/check.err" || fail "netboot check: $(cat "$W/check.err")
$(jq -c '.[] | {serial, reason, detail}' "$W/check.json")"
for s in $serials; do
	expect "$W/check.json" "$s" ok "netboot check (dnsmasq full)"
done
cmp -s "$W/leases.before" "$W/dnsmasq.leases" ||
	fail "netboot check changed dnsmasq's leases: $(diff "$W/leases.before" "$W/dnsmasq.leases")"
echo "ok: netboot check took no lease"

# ---- failures ----
# A board nobody recorded: dnsmasq gives it an address from the range (a Pi by its option 97),
# but there is no folder for it, and the root has no start4.elf.
"$PIPROV" usb flash --virtual pi4,serial=10000000cc000001,mac=dc:a6:32:cc:00:01,dump="$W/eeprom" \
	--preset network BOOT_UART=1 --inventory "$W/other.cfg" >"$W/flash2.out" 2>&1 ||
	fail "usb flash (unrecorded board): $(cat "$W/flash2.out")"
# A board whose EEPROM asks for the folder "lost/" (TFTP_PREFIX=1) while the inventory
# expects its serial.
"$PIPROV" usb flash --virtual pi4,serial=10000000dd000001,mac=dc:a6:32:dd:00:01,dump="$W/eeprom" \
	--preset network BOOT_UART=1 TFTP_PREFIX=1 TFTP_PREFIX_STR=lost \
	--ip-pool 10.77.0.10-10.77.0.60/24 >"$W/flash3.out" 2>&1 ||
	fail "usb flash (wrong prefix): $(cat "$W/flash3.out")"
"$PIPROV" inventory set 10000000dd000001 tftp_prefix=serial >/dev/null
# shellcheck disable=SC2086
export_common $net
# shellcheck disable=SC2086
ip netns exec "$LAN" "$PIPROV" inventory export dnsmasq $net --tftp-root "$W/tftp" \
	-o "$W/dnsmasq.conf"
kill "$PID_dnsmasq" "$PID_nfs"
wait "$PID_dnsmasq" "$PID_nfs" 2>/dev/null || true
nfs_up
start dnsmasq "$LAN" dnsmasq --keep-in-foreground --conf-file="$W/dnsmasq.conf" \
	--pid-file="$W/dnsmasq2.pid" --dhcp-leasefile="$W/dnsmasq.leases" --user=root \
	--log-facility=- --port=0 --no-ping
wait_for "dnsmasq" 10 test -s "$W/dnsmasq2.pid"
# A board whose folder is gone (removed by hand after the export).
rm -rf "$W/tftp/aa000002"
board_ports dc:a6:32:cc:00:01 dc:a6:32:dd:00:01
# shellcheck disable=SC2086
"$PIPROV" netboot boot $specs --virtual pi3,serial=00000000b8000001,mac=b8:27:eb:00:00:01 \
	--virtual pi4,serial=10000000cc000001,mac=dc:a6:32:cc:00:01,dump="$W/eeprom" \
	--virtual pi4,serial=10000000dd000001,mac=dc:a6:32:dd:00:01,dump="$W/eeprom" \
	--netns "$BOARD_NS" --uart-dir "$W/uart2" --timeout 60 --json >"$W/boot2.json" \
	2>"$W/boot2.err" && fail "netboot boot succeeded with broken boards"
expect "$W/boot2.json" 10000000aa000001 ok "others unaffected"
expect "$W/boot2.json" 10000000cc000001 tftp-file-not-found "board missing from the inventory"
expect "$W/boot2.json" 10000000dd000001 tftp-file-not-found "wrong TFTP_PREFIX"
expect "$W/boot2.json" 10000000aa000002 tftp-file-not-found "missing folder"
jq -e '.[] | select(.serial == "10000000dd000001") | .prefix == "" and .fell_back_to_root
	and .first_file == "lost/start4.elf"' "$W/boot2.json" >/dev/null ||
	fail "wrong TFTP_PREFIX: $(jq -c '.[] | select(.serial == "10000000dd000001")' "$W/boot2.json")"
for s in 10000000cc000001 10000000dd000001 10000000aa000002; do
	"$PIPROV" uart parse "$W/uart2/$s.log" --json >"$W/parse.json" || fail "uart parse $s"
	jq -e '.result == "failed" and .reason == "tftp-file-not-found"' "$W/parse.json" \
		>/dev/null ||
		fail "uart parse calls the failed boot of $s a success: $(cat "$W/parse.json")"
	"$PIPROV" uart diagnose "$W/uart2/$s.log" >"$W/diagnose.out" 2>&1 || true
	grep -qi "not found\|start4.elf" "$W/diagnose.out" ||
		fail "uart diagnose $s: $(cat "$W/diagnose.out")"
done
echo "ok: the UART logs of the failed boards read as failures with the missing file"

# netboot check: the same verdicts (the unrecorded board is checked as --as SPEC)
check --json 10000000dd000001 \
	10000000aa000002 10000000aa000001 >"$W/check2.json" 2>"$W/check2.err" &&
	fail "netboot check passed broken boards"
expect "$W/check2.json" 10000000aa000001 ok "check: others unaffected"
expect "$W/check2.json" 10000000dd000001 ok "check: the inventory's idea of the prefix works"
expect "$W/check2.json" 10000000aa000002 tftp-file-not-found "check: missing folder"
check --json \
	--as pi4,serial=10000000dd000001,mac=dc:a6:32:dd:00:01,dump="$W/eeprom" \
	--as pi4,serial=10000000cc000001,mac=dc:a6:32:cc:00:01,dump="$W/eeprom" \
	>"$W/check3.json" 2>"$W/check3.err" && fail "netboot check --as passed broken boards"
expect "$W/check3.json" 10000000dd000001 tftp-file-not-found "check --as: wrong TFTP_PREFIX"
expect "$W/check3.json" 10000000cc000001 tftp-file-not-found "check --as: not in the inventory"
echo "ok: netboot check gives the boards' verdicts"

# The check follows what the inventory records of a board's EEPROM (usb flash does not record
# TFTP_PREFIX / BOOT_ORDER yet: set by hand here, as after reading `eeprom-config`): the
# prefix string the board really asks for gives the board's own verdict without --as, and a
# BOOT_ORDER without the network mode would not netboot at all.
"$PIPROV" inventory set 10000000dd000001 tftp_prefix=string tftp_prefix_str=lost >/dev/null
"$PIPROV" inventory set 10000000aa000001 boot_order=0xf1 >/dev/null
check --json 10000000dd000001 \
	10000000aa000001 >"$W/check4.json" 2>"$W/check4.err" &&
	fail "netboot check passed boards whose records say they cannot boot"
expect "$W/check4.json" 10000000dd000001 tftp-file-not-found "check: recorded TFTP_PREFIX_STR"
[ "$(board "$W/check4.json" 10000000dd000001 .first_file)" = '"lost/start4.elf"' ] ||
	fail "check: the recorded prefix was not asked: $(board "$W/check4.json" 10000000dd000001)"
expect "$W/check4.json" 10000000aa000001 no-network-mode "check: recorded BOOT_ORDER 0xf1"
echo "ok: netboot check uses the recorded TFTP_PREFIX and BOOT_ORDER"
