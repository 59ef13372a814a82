#!/bin/sh
# Benchmark (issue 11): 32 virtual Pis netbooting at once against dnsmasq (full DHCP, its
# TFTP, rpc.mountd), and `netboot check` of 100 inventory boards against the same servers.
# Prints wall time and CPU time (user + system of piprov) of each; exits 1 when a target is
# missed (32 boards < 10 s wall, check of 100 < 3 s wall) or a board does not boot.
#   bench/netboot/run.sh PIPROV SOURCE_DIR BUILD_DIR
# Needs root and network namespaces (skips, 77, otherwise): the boot LAN of tests/netboot.
set -eu
PIPROV=$1 SRC=$2 BUILD=$3
. "$SRC/tests/netboot/lan.sh"
command -v dnsmasq >/dev/null || skip "dnsmasq is not installed"
command -v jq >/dev/null || skip "jq is not installed"
export PIPROV_INVENTORY="$W/inventory.cfg"
export LC_ALL=C
exec 3>&1                       # the report, whatever the timed commands' output goes to
BOOT_TARGET_MS=10000
CHECK_TARGET_MS=3000

# timed NAME COMMAND...: run, print wall and CPU (ms) of the command and its children
timed() {
	name=$1
	shift
	t0=$(date +%s%N)
	c0=$(awk '{print $14 + $15 + $16 + $17}' /proc/$$/stat)
	set +e
	"$@"
	rc=$?
	set -e
	t1=$(date +%s%N)
	# children's user + system ticks, collected by wait
	c1=$(awk '{print $14 + $15 + $16 + $17}' /proc/$$/stat)
	hz=$(getconf CLK_TCK)
	WALL_MS=$(((t1 - t0) / 1000000))
	CPU_MS=$(((c1 - c0) * 1000 / hz))
	echo "bench-netboot: $name: wall ${WALL_MS} ms, cpu ${CPU_MS} ms (exit $rc)" >&3
	return 0
}

# 32 boards flashed with the network preset; 100 boards in all in the inventory
"$PIPROV" usb flash --virtual pi4,serial=10000000ba000000,mac=dc:a6:32:ba:00:00,count=32,dump="$W/eeprom" \
	--preset network --ip-pool 10.77.0.2-10.77.1.250/23 >"$W/flash.out" 2>&1 ||
	fail "usb flash: $(tail -5 "$W/flash.out")"
"$PIPROV" usb flash --virtual pi4,serial=10000000bb000000,mac=dc:a6:32:bb:00:00,count=68 \
	--preset network --ip-pool 10.77.0.2-10.77.1.250/23 >"$W/flash2.out" 2>&1 ||
	fail "usb flash: $(tail -5 "$W/flash2.out")"
[ "$("$PIPROV" inventory list --json | jq length)" -eq 100 ] || fail "not 100 boards"

lan_up
ip -n "$LAN" addr del 10.77.0.1/24 dev br0
ip -n "$LAN" addr add 10.77.0.1/23 dev br0
macs=
for i in $(seq 0 31); do macs="$macs dc:a6:32:ba:00:$(printf %02x "$i")"; done
# shellcheck disable=SC2086
board_ports $macs
new_ns "$CHK"
port "$CHK" 02:00:00:77:00:fa 10.77.1.251/23
make_template
net="--interface br0 --dhcp-range 10.77.1.100,10.77.1.200,/23"
# shellcheck disable=SC2086
ip netns exec "$LAN" "$PIPROV" inventory export dnsmasq $net --tftp-root "$W/tftp" \
	-o "$W/dnsmasq.conf" || fail "export dnsmasq"
# shellcheck disable=SC2086
export_common $net
start dnsmasq "$LAN" dnsmasq --keep-in-foreground --conf-file="$W/dnsmasq.conf" \
	--pid-file="$W/dnsmasq.pid" --dhcp-leasefile="$W/dnsmasq.leases" --user=root \
	--log-facility="$W/dnsmasq-log.txt" --port=0 --no-ping
nfs_up
wait_for dnsmasq 10 test -s "$W/dnsmasq.pid"

timed "32 boards netboot at once" "$PIPROV" netboot boot \
	--virtual pi4,serial=10000000ba000000,mac=dc:a6:32:ba:00:00,count=32,dump="$W/eeprom" \
	--netns "$BOARD_NS" --timeout 60 --json >"$W/boot.json" 2>"$W/boot.err"
boot_wall=$WALL_MS
booted=$(jq '[.[] | select(.booted)] | length' "$W/boot.json")
echo "bench-netboot: $booted of 32 boards booted"

timed "netboot check of 100 inventory boards" "$PIPROV" netboot check --netns "$CHK" \
	--interface eth0 --parallel 32 --json >"$W/check.json" 2>"$W/check.err"
check_wall=$WALL_MS
checked=$(jq '[.[] | select(.booted)] | length' "$W/check.json")
echo "bench-netboot: $checked of 100 boards would boot"

status=0
[ "$booted" -eq 32 ] || { echo "MISS: $((32 - booted)) boards did not boot:"; jq -c \
	'.[] | select(.booted | not) | {serial, reason, detail}' "$W/boot.json" | head -5; status=1; }
[ "$checked" -eq 100 ] || { echo "MISS: $((100 - checked)) boards failed the check:"; jq -c \
	'.[] | select(.booted | not) | {serial, reason, detail}' "$W/check.json" | head -5; status=1; }
[ "$boot_wall" -lt "$BOOT_TARGET_MS" ] ||
	{ echo "MISS: 32 boards took $boot_wall ms (target < $BOOT_TARGET_MS)"; status=1; }
[ "$check_wall" -lt "$CHECK_TARGET_MS" ] ||
	{ echo "MISS: the check of 100 took $check_wall ms (target < $CHECK_TARGET_MS)"; status=1; }
[ "$status" -ne 0 ] || echo "bench-netboot: targets met"
exit "$status"
