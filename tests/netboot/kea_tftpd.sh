#!/bin/sh
# kea-dhcp4 (`inventory export kea`: reservations, the PXE answer to every reserved board,
# next-server and option 66) with tftpd-hpa chrooted on the tree of `export tftp` (relative
# links), rpc.mountd for the roots: virtual Pis flashed with the network preset boot, the
# check agrees. Then a board new to the inventory against a Kea export without a pool: no
# offer (the board's verdict and the check's); with --dhcp-range the pool answers it.
# Usage: kea_tftpd.sh PIPROV SOURCE_DIR BUILD_DIR
set -eu
PIPROV=$1 SRC=$2 BUILD=$3
. "$SRC/tests/netboot/lan.sh"
command -v kea-dhcp4 >/dev/null || skip "kea-dhcp4 is not installed (scripts/deps/test-inventory.txt)"
command -v jq >/dev/null || skip "jq is not installed (scripts/deps/test-cli.txt)"
tftpd=$("$SRC/tests/support/deb-program" "$BUILD/debs" tftpd-hpa /usr/sbin/in.tftpd) ||
	fail "no tftpd-hpa"
export PIPROV_INVENTORY="$W/inventory.cfg"

specs="--virtual pi4,serial=10000000ae000001,mac=dc:a6:32:ae:00:01,count=2,dump=$W/eeprom
--virtual pi5,serial=0c8f7e5cbe000001,mac=2c:cf:67:be:00:01,dump=$W/eeprom"
serials="10000000ae000001 10000000ae000002 0c8f7e5cbe000001"
# shellcheck disable=SC2086
"$PIPROV" usb flash $specs --preset network --ip-pool 10.77.0.10-10.77.0.60/24 \
	BOOT_UART=1 >"$W/flash.out" 2>&1 || fail "usb flash: $(cat "$W/flash.out")"
# a board flashed elsewhere, not (yet) in this inventory; it gives up DHCP after 5 s
new="pi4,serial=10000000af000001,mac=dc:a6:32:af:00:01,dump=$W/eeprom"
"$PIPROV" usb flash --virtual "$new" --preset network BOOT_UART=1 DHCP_TIMEOUT=5000 \
	--inventory "$W/elsewhere.cfg" >"$W/flash2.out" 2>&1 ||
	fail "usb flash (new board): $(cat "$W/flash2.out")"

lan_up
board_ports dc:a6:32:ae:00:01 dc:a6:32:ae:00:02 2c:cf:67:be:00:01 dc:a6:32:af:00:01
checker_up
make_template
# Kea always names its TFTP server (next-server, option 66): tftpd-hpa on the LAN address
net="--interface br0 --tftp-server 10.77.0.1"
# shellcheck disable=SC2086
export_common $net
# kea_up [EXPORT OPTIONS]: (re)start kea-dhcp4 on a fresh export
kea_up() {
	if [ -n "${PID_kea:-}" ]; then
		kill "$PID_kea"
		wait "$PID_kea" 2>/dev/null || true
	fi
	# shellcheck disable=SC2086
	ip netns exec "$LAN" "$PIPROV" inventory export kea $net "$@" -o "$W/kea.json" ||
		fail "export kea"
	ip netns exec "$LAN" kea-dhcp4 -t "$W/kea.json" >"$W/kea-check.log" 2>&1 ||
		fail "kea-dhcp4 -t: $(cat "$W/kea-check.log")"
	# pid and lock files in the test folder (the leases stay in memory: persist false)
	mkdir -p "$W/kea-run"
	start kea "$LAN" env KEA_PIDFILE_DIR="$W/kea-run" KEA_LOCKFILE_DIR="$W/kea-run" \
		kea-dhcp4 -c "$W/kea.json"
	# DHCP4_STARTED comes once the configuration (and the interfaces) are in place
	wait_for "kea-dhcp4" 10 grep -q "DHCP4_STARTED" "$W/kea.log"
}
kea_up
# tftpd-hpa as Debian runs it (--secure = chrooted), on the LAN's address
start tftpd "$LAN" "$tftpd" -4 -L -s -a :69 "$W/tftp"
nfs_up

# shellcheck disable=SC2086
"$PIPROV" netboot boot $specs --netns "$BOARD_NS" --uart-dir "$W/uart" --timeout 60 \
	--json >"$W/boot.json" 2>"$W/boot.err" ||
	fail "netboot boot: $(cat "$W/boot.err"; jq -c '.[] | {serial, reason, detail}' \
	"$W/boot.json")"
for s in $serials; do
	expect "$W/boot.json" "$s" ok "boot from kea-dhcp4 + tftpd-hpa"
	jq -e --arg s "$s" '.[] | select(.serial == $s) | (.proxy | not) and
		.tftp_server == "10.77.0.1" and .dhcp_server == "10.77.0.1"' "$W/boot.json" \
		>/dev/null || fail "board $s: $(jq -c --arg s "$s" '.[] | select(.serial == $s)' \
		"$W/boot.json")"
	"$PIPROV" uart diagnose "$W/uart/$s.log" >"$W/diagnose.out" 2>&1 ||
		fail "uart diagnose $s: $(cat "$W/diagnose.out")"
done
check --json >"$W/check.json" \
	2>"$W/check.err" || fail "netboot check: $(cat "$W/check.err")
$(jq -c '.[] | {serial, reason, detail}' "$W/check.json")"
for s in $serials; do
	expect "$W/check.json" "$s" ok "netboot check (kea)"
done

# ---- a board new to the inventory, and no pool ----
# shellcheck disable=SC2086
"$PIPROV" netboot boot $specs --virtual "$new" --netns "$BOARD_NS" --uart-dir "$W/uart2" \
	--timeout 60 --json >"$W/boot2.json" 2>"$W/boot2.err" &&
	fail "a board Kea has no address for booted"
expect "$W/boot2.json" 10000000af000001 no-dhcp-offer "new board, Kea export without a pool"
expect "$W/boot2.json" 10000000ae000001 ok "reserved boards unaffected"
"$PIPROV" uart parse "$W/uart2/10000000af000001.log" --json >"$W/parse.json"
jq -e '.result == "failed" or .result == "incomplete"' "$W/parse.json" >/dev/null ||
	fail "uart parse: $(cat "$W/parse.json")"
check --wait 2000 --json --as "$new" \
	>"$W/check2.json" 2>"$W/check2.err" && fail "netboot check passed a board with no offer"
expect "$W/check2.json" 10000000af000001 no-dhcp-offer "check --as: no pool"

# with the pool, the new board gets an address (and then lacks its folder: it is not
# recorded, so `export tftp` made none)
kea_up --dhcp-range 10.77.0.100,10.77.0.199
check --wait 8000 --json --as "$new" \
	>"$W/check3.json" 2>"$W/check3.err" && fail "netboot check: a board without a folder"
expect "$W/check3.json" 10000000af000001 tftp-file-not-found "check --as: with a pool"
jq -e '.[0].ip | test("^10\\.77\\.0\\.1[0-9][0-9]$")' "$W/check3.json" >/dev/null ||
	fail "no address from the pool: $(cat "$W/check3.json")"
echo "ok: Kea's pool answers a new board"

# ---- the TFTP server down: the check says so, and names the fix for the case where boards
# still boot from it (this host's ARP entry for a server whose MAC changed; docs/netboot.md)
kill "$PID_tftpd"
wait "$PID_tftpd" 2>/dev/null || true
check --tftp-timeout 2000 --json 10000000ae000001 >"$W/check4.json" 2>"$W/check4.err" &&
	fail "netboot check passed a board whose TFTP server is down"
expect "$W/check4.json" 10000000ae000001 tftp-unreachable "check: tftpd-hpa stopped"
board "$W/check4.json" 10000000ae000001 .detail | grep -q "ip neigh flush to 10.77.0.1" ||
	fail "check: no hint in $(board "$W/check4.json" 10000000ae000001 .detail)"

# ---- SIGINT: a check and a boot waiting on the stopped tftpd end at once ----
# interrupted NAME PID: once Kea has offered ae:00:01 an address again (the run is past DHCP,
# waiting for TFTP that stays silent for 30 s), SIGINT; the run must end within 10 s,
# exit 1, and call the board cancelled.
offers() { grep -c "LEASE_ADVERT \[hwtype=1 dc:a6:32:ae:00:01\]" "$W/kea.log" || true; }
offered_again() { [ "$(offers)" -gt "$offers_before" ]; }
interrupted() {
	wait_for "$1: Kea's offer" 30 offered_again
	kill -INT "$2"
	n=100
	while kill -0 "$2" 2>/dev/null; do
		n=$((n - 1))
		[ "$n" -gt 0 ] || fail "$1 still runs 10 s after SIGINT"
		sleep 0.1
	done
	if wait "$2"; then fail "$1 exited 0 after SIGINT"; fi
	expect "$W/$1.json" 10000000ae000001 cancelled "$1, ended <= $(((100 - n) * 100)) ms after SIGINT"
}
offers_before=$(offers)
"$PIPROV" netboot check --tftp-timeout 30000 --netns "$CHK" --interface eth0 --json \
	10000000ae000001 >"$W/check5.json" 2>"$W/check5.err" &
interrupted check5 $!
offers_before=$(offers)
"$PIPROV" netboot boot --virtual pi4,serial=10000000ae000001,mac=dc:a6:32:ae:00:01,dump="$W/eeprom" \
	--netns "$BOARD_NS" --timeout 120 --json >"$W/boot5.json" 2>"$W/boot5.err" &
interrupted boot5 $!
