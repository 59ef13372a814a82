#!/bin/sh
# The most common set-up: the LAN already has a DHCP server (here a plain dnsmasq in a
# namespace of its own, the "router"), and piprov's dnsmasq is a proxy DHCP server beside it
# that only adds the PXE answer and serves TFTP (`inventory export dnsmasq` without
# --dhcp-range). Virtual Pis flashed with the network preset take their address from the
# router and the PXE answer from the proxy, and boot; `netboot check` agrees. Then the
# proxy-mode trap: exports restricted to the inventory addresses (--nfs-clients ip) refuse
# boards the router addressed — nfs-not-exported, from the boards and from the check.
# Usage: dnsmasq_proxy.sh PIPROV SOURCE_DIR BUILD_DIR
set -eu
PIPROV=$1 SRC=$2 BUILD=$3
. "$SRC/tests/netboot/lan.sh"
command -v dnsmasq >/dev/null || skip "dnsmasq is not installed (scripts/deps/test-inventory.txt)"
command -v jq >/dev/null || skip "jq is not installed (scripts/deps/test-cli.txt)"
export PIPROV_INVENTORY="$W/inventory.cfg"

specs="--virtual pi4,serial=10000000ab000001,mac=dc:a6:32:ab:00:01,count=2,dump=$W/eeprom
--virtual cm4,serial=10000000ac000001,mac=d8:3a:dd:ac:00:01,dump=$W/eeprom
--virtual pi5,serial=0c8f7e5cbc000001,mac=2c:cf:67:bc:00:01,dump=$W/eeprom"
serials="10000000ab000001 10000000ab000002 10000000ac000001 0c8f7e5cbc000001"
# shellcheck disable=SC2086
"$PIPROV" usb flash $specs --preset network --ip-pool 10.77.0.10-10.77.0.60/24 \
	BOOT_UART=1 >"$W/flash.out" 2>&1 || fail "usb flash: $(cat "$W/flash.out")"

lan_up
board_ports dc:a6:32:ab:00:01 dc:a6:32:ab:00:02 d8:3a:dd:ac:00:01 2c:cf:67:bc:00:01
checker_up
new_ns "$ROUTER"
port "$ROUTER" 02:00:00:77:00:fe 10.77.0.254/24
make_template
# the LAN's own DHCP server: addresses for everyone, nothing about booting
start router "$ROUTER" dnsmasq --keep-in-foreground --port=0 --interface=eth0 \
	--bind-interfaces --dhcp-range=10.77.0.100,10.77.0.199,255.255.255.0,1h \
	--dhcp-option=option:router,10.77.0.254 --dhcp-leasefile="$W/router.leases" \
	--pid-file="$W/router.pid" --user=root --log-facility=- --log-dhcp --no-ping
ip netns exec "$LAN" "$PIPROV" inventory export dnsmasq --interface br0 \
	--tftp-root "$W/tftp" -o "$W/dnsmasq.conf" || fail "export dnsmasq"
grep -q "dhcp-range=.*proxy" "$W/dnsmasq.conf" || fail "the export is not a proxy"
export_common --interface br0
start proxy "$LAN" dnsmasq --keep-in-foreground --conf-file="$W/dnsmasq.conf" \
	--pid-file="$W/proxy.pid" --dhcp-leasefile="$W/proxy.leases" --user=root \
	--log-facility=- --port=0
nfs_up
wait_for "router dnsmasq" 10 test -s "$W/router.pid"
wait_for "proxy dnsmasq" 10 test -s "$W/proxy.pid"

# shellcheck disable=SC2086
"$PIPROV" netboot boot $specs --netns "$BOARD_NS" --uart-dir "$W/uart" --timeout 60 \
	--json >"$W/boot.json" 2>"$W/boot.err" ||
	fail "netboot boot: $(cat "$W/boot.err"; jq -c '.[] | {serial, reason, detail}' \
	"$W/boot.json")"
for s in $serials; do
	expect "$W/boot.json" "$s" ok "boot beside the LAN's DHCP server (proxy)"
	jq -e --arg s "$s" '.[] | select(.serial == $s) | .proxy and .dhcp_server ==
		"10.77.0.254" and .pxe_server == "10.77.0.1" and .tftp_server == "10.77.0.1"' \
		"$W/boot.json" >/dev/null || fail "board $s: $(jq -c --arg s "$s" \
		'.[] | select(.serial == $s)' "$W/boot.json")"
	"$PIPROV" uart parse "$W/uart/$s.log" --json >"$W/parse.json" || fail "uart parse $s"
	jq -e '.result == "ok" and .client_ip != null and .tftp_server == "10.77.0.1"' \
		"$W/parse.json" >/dev/null || fail "uart parse $s: $(cat "$W/parse.json")"
	"$PIPROV" uart diagnose "$W/uart/$s.log" >"$W/diagnose.out" 2>&1 ||
		fail "uart diagnose $s: $(cat "$W/diagnose.out")"
done
echo "ok: address from the router, PXE answer and files from the proxy; UART logs read back"

check --json >"$W/check.json" \
	2>"$W/check.err" || fail "netboot check: $(cat "$W/check.err")
$(jq -c '.[] | {serial, reason, detail}' "$W/check.json")"
for s in $serials; do
	expect "$W/check.json" "$s" ok "netboot check (proxy)"
done

# ---- exports only to the inventory addresses: the router does not hand those out ----
kill "$PID_nfs"; wait "$PID_nfs" 2>/dev/null || true
export_common --interface br0 --nfs-clients ip
nfs_up
# shellcheck disable=SC2086
"$PIPROV" netboot boot $specs --netns "$BOARD_NS" --uart-dir "$W/uart2" --timeout 60 \
	--json >"$W/boot2.json" 2>"$W/boot2.err" &&
	fail "boards booted with roots they may not mount"
check --json >"$W/check2.json" \
	2>"$W/check2.err" && fail "netboot check passed roots the boards may not mount"
for s in $serials; do
	expect "$W/boot2.json" "$s" nfs-not-exported "exports to inventory addresses only"
	expect "$W/check2.json" "$s" nfs-not-exported "check: exports to inventory addresses only"
done
jq -e '.[0].detail | test("does not export .* to 10\\.77\\.0\\.1[0-9][0-9] \\(exported to: 10\\.77\\.0\\.")' \
	"$W/boot2.json" >/dev/null || fail "the reason does not name the export: $(jq -r '.[0].detail' \
	"$W/boot2.json")"
echo "ok: the refused NFS root is named with who it is exported to"
