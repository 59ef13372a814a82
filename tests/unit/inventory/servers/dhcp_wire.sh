#!/bin/sh
# The real DHCP servers answer what `piprov inventory export dnsmasq|kea` makes them answer, on
# the wire: dnsmasq (proxy, then full DHCP) and kea-dhcp4 run in the foreground in a network
# namespace of their own, on one end of a veth pair the test creates inside the namespaces (no
# host interface, address or route is touched); dhcp_probe.py sends DISCOVERs shaped like a
# Pi 4 (option 97 with the FourCC), a Pi 4 with DHCP_OPTION97=0 and a Pi 3 (old option 97: 00 +
# the serial four times), in and out of the inventory, and a PC's PXE client, from the other
# end, and checks each answer: the menu text (three trailing spaces for a Pi 3), no answer at
# all for the PC from a proxy (dhcp-ignore=tag:!rpi), the reserved address, the pool for a
# new board, next-server and option 66, router and netmask.
# Usage: dhcp_wire.sh PIPROV SOURCE_DIR
set -eu
piprov=$1 src=$2
skip() { echo "SKIPPED: $*"; exit 77; }
fail() { echo "FAILED: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces, DHCP ports)"
command -v ip >/dev/null || skip "'ip' (iproute2) is not installed"
. "$src/tests/support/netns.sh"
remove_stale_netns
command -v python3 >/dev/null || skip "python3 is not installed (scripts/deps/test-inventory.txt)"
dnsmasq=$(command -v dnsmasq || echo /usr/sbin/dnsmasq)
kea=$(command -v kea-dhcp4 || echo /usr/sbin/kea-dhcp4)
[ -x "$dnsmasq" ] || skip "dnsmasq is not installed (dnsmasq-base, scripts/deps/test-inventory.txt)"
[ -x "$kea" ] || skip "kea-dhcp4 is not installed (kea-dhcp4-server, scripts/deps/test-inventory.txt)"

srv=piprov-dhcp-srv-$$ cli=piprov-dhcp-cli-$$
work=$(mktemp -d)
pid=
stop_server() {
	[ -z "$pid" ] || kill "$pid" 2>/dev/null || true
	[ -z "$pid" ] || wait "$pid" 2>/dev/null || true
	pid=
}
cleanup() {
	stop_server
	ip netns del "$srv" 2>/dev/null || true
	ip netns del "$cli" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
ip netns add "$srv" 2>/dev/null || skip "cannot create a network namespace"
ip netns add "$cli" || fail "cannot create a second network namespace"
# The pair is made inside the server's namespace and one end moved: never on the host.
ip -n "$srv" link add v0 type veth peer name v1 netns "$cli" || fail "cannot create a veth pair"
ip -n "$srv" addr add 10.77.0.1/24 dev v0
ip -n "$srv" link set v0 up
ip -n "$srv" link set lo up
ip -n "$cli" link set v1 up
ip -n "$cli" link set lo up

export PIPROV_INVENTORY="$work/inventory.cfg"
add() { "$piprov" inventory add "$@" >/dev/null || fail "inventory add $*"; }
add --serial 10000000f8b73778 --mac dc:a6:32:01:36:c2 --ip 10.77.0.41 --hostname pi4
# A board whose MAC is in no Pi OUI list and that sends the old option 97 (DHCP_OPTION97=0):
# only its inventory entry can make it a Pi.
add --serial 100000000000beef --mac 02:00:00:00:be:ef --ip 10.77.0.42 --hostname odd
add --serial 00000000b66c4c16 --mac b8:27:eb:6c:4c:16 --ip 10.77.0.43 --hostname pi3
mkdir "$work/tftp"

# Option 97 as each bootloader sends it (netboot-and-identity.md section 1.5): Pi 4 = 00 +
# FourCC "RPi4" + revision + MAC low bytes + serial; old form = 00 + the serial x4 (LE).
pi4_97=0034695052113103c00132a6dc78b7f3f8
new4_97=0034695052113103c00909a6dc09090909
odd_97=00efbe0000efbe0000efbe0000efbe0000
pi3_97=00164c6cb6164c6cb6164c6cb6164c6cb6
new3_97=00ccbbaa5dccbbaa5dccbbaa5dccbbaa5d
old4_97=0055443322554433225544332255443322
menu="Raspberry Pi Boot"
menu3="Raspberry Pi Boot   "

# probe MAC ARGS...: one DISCOVER from the client side, checked by dhcp_probe.py.
probe() {
	ip netns exec "$cli" timeout 20 python3 "$src/tests/unit/inventory/servers/dhcp_probe.py" \
		v1 "$@" || fail "see the line above; server log: $(tail -n 15 "$log")"
}
# wait_for TEXT: the server's log says it is serving (at most 10 s).
wait_for() {
	tries=0
	until grep -q "$1" "$log" 2>/dev/null; do
		tries=$((tries + 1))
		[ "$tries" -lt 50 ] || fail "server not ready: $(tail -n 15 "$log")"
		kill -0 "$pid" 2>/dev/null || fail "server exited: $(tail -n 15 "$log")"
		sleep 0.2
	done
}
# dnsmasq CONF: dnsmasq in the foreground on CONF, files in the test's folder. -u root: it
# would switch to nobody, who may not write there.
run_dnsmasq() {
	log=$work/dnsmasq.log
	rm -f "$log" "$work/leases"
	ip netns exec "$srv" "$dnsmasq" -k -u root -C "$1" --pid-file="$work/dnsmasq.pid" \
		--dhcp-leasefile="$work/leases" --log-facility="$log" &
	pid=$!
	wait_for "DHCP, "
}
# export FORMAT ARGS...: run in the server's namespace, so --interface has its address there.
export_to() {
	out=$1
	shift
	ip netns exec "$srv" "$piprov" inventory export "$@" -o "$out" ||
		fail "inventory export $*"
}

echo "== dnsmasq, proxy DHCP"
export_to "$work/proxy.conf" dnsmasq --interface v0 --tftp-root "$work/tftp"
run_dnsmasq "$work/proxy.conf"
probe dc:a6:32:01:36:c2 --opt97 $pi4_97 --menu "$menu"
probe dc:a6:32:09:09:09 --opt97 $new4_97 --menu "$menu"
probe 02:00:00:00:be:ef --opt97 $odd_97 --menu "$menu"
probe b8:27:eb:6c:4c:16 --opt97 $pi3_97 --menu "$menu3"
probe b8:27:eb:aa:bb:cc --opt97 $new3_97 --menu "$menu3"
probe 52:54:00:12:34:56 --none
grep -q "52:54:00:12:34:56 proxy-ignored" "$log" || fail "dnsmasq did not log the PC as ignored"
stop_server

# dnsmasq pings an address of the range before offering it (about 3 s): new boards wait longer
# (a Pi's DHCP_REQ_TIMEOUT is 4 s).
echo "== dnsmasq, full DHCP, another TFTP server"
export_to "$work/full.conf" dnsmasq --interface v0 --tftp-root "$work/tftp" \
	--dhcp-range 10.77.0.100,10.77.0.199,/24 --gateway 10.77.0.254 --tftp-server 10.77.0.5
run_dnsmasq "$work/full.conf"
net="--router 10.77.0.254 --netmask 255.255.255.0 --siaddr 10.77.0.5 --opt66 10.77.0.5"
probe dc:a6:32:01:36:c2 --opt97 $pi4_97 --menu "$menu" --yiaddr 10.77.0.41 $net
probe 02:00:00:00:be:ef --opt97 $odd_97 --menu "$menu" --yiaddr 10.77.0.42 $net
probe b8:27:eb:6c:4c:16 --opt97 $pi3_97 --menu "$menu3" --yiaddr 10.77.0.43 $net
probe dc:a6:32:09:09:09 --opt97 $new4_97 --menu "$menu" --pool 10.77.0.100-10.77.0.199 $net --wait 8
probe 52:54:00:12:34:56 --no-menu --pool 10.77.0.100-10.77.0.199 --wait 8
stop_server

echo "== kea-dhcp4, TFTP server = the interface's address"
export_to "$work/kea.json" kea --interface v0 --dhcp-range 10.77.0.100,10.77.0.199,/24 \
	--gateway 10.77.0.254
grep -q '"next-server": "10.77.0.1"' "$work/kea.json" || fail "kea.json: no next-server 10.77.0.1"
log=$work/kea.log
mkdir "$work/kea"
KEA_PIDFILE_DIR="$work/kea" KEA_LOCKFILE_DIR="$work/kea" \
	ip netns exec "$srv" "$kea" -c "$work/kea.json" >"$log" 2>&1 &
pid=$!
wait_for DHCP4_STARTED
pool=10.77.0.100-10.77.0.199
net="--router 10.77.0.254 --netmask 255.255.255.0 --siaddr 10.77.0.1 --opt66 10.77.0.1"
probe dc:a6:32:01:36:c2 --opt97 $pi4_97 --menu "$menu" --yiaddr 10.77.0.41 $net
probe 02:00:00:00:be:ef --menu "$menu" --yiaddr 10.77.0.42 $net
probe 02:00:00:00:be:ef --opt97 $odd_97 --menu "$menu" --yiaddr 10.77.0.42 $net
probe b8:27:eb:6c:4c:16 --opt97 $pi3_97 --menu "$menu3" --yiaddr 10.77.0.43 $net
probe b8:27:eb:aa:bb:cc --opt97 $new3_97 --menu "$menu3" --pool $pool $net
probe dc:a6:32:09:09:09 --opt97 $new4_97 --menu "$menu" --pool $pool $net
probe 02:11:22:33:44:55 --opt97 $old4_97 --menu "$menu" --pool $pool $net
probe 52:54:00:12:34:56 --no-menu --pool $pool
stop_server
echo "ok: every answer as exported"
