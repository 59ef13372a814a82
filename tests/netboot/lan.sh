# The boot LAN of the netboot tests, sourced by each case (tests/netboot/*.sh): network
# namespaces and veth pairs made here, addresses only inside them, every server in the
# foreground with its pid, lease and log files in the test's own folder, all removed at the
# end (also on failure or a signal). Skips (77) without root or network namespaces.
#
# Layout: namespace $LAN holds bridge br0 (10.77.0.1/24: the servers); each virtual board
# has a namespace of its own with eth0 (the board's MAC) on a veth whose other end is a port
# of br0; $CHK (10.77.0.250) is "any host of the boot LAN" for `netboot check`; $ROUTER
# (10.77.0.254) is the LAN's own DHCP server in the proxy set-up.
# Needs: PIPROV SRC BUILD set by the case.

skip() { echo "SKIPPED: $*"; exit 77; }
fail() {
	echo "FAILED: $*" >&2
	for f in "$W"/*.log; do
		[ -f "$f" ] || continue
		echo "--- $f (last lines)" >&2
		tail -n 25 "$f" >&2
	done
	exit 1
}

[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces, raw sockets)"
command -v ip >/dev/null || skip "'ip' (iproute2) is not installed"
. "$SRC/tests/support/netns.sh"
remove_stale_netns

ID=$$
LAN=pvnb$ID-lan
CHK=pvnb$ID-chk
ROUTER=pvnb$ID-rt
BOARD_NS="pvnb$ID-b%i"          # netboot boot --netns pattern (%i = board index)
W=$(mktemp -d "${TMPDIR:-/tmp}/piprov-netboot.XXXXXX")
chmod 755 "$W"                  # servers drop to nobody: the trees must be readable
mkdir "$W/eeprom"               # dump=: where usb flash leaves each board's EEPROM
PIDS=
NAMESPACES=
PORTS=0

cleanup() {
	if [ "${KEEP_NETBOOT_TEST:-}" = all ]; then
		# for debugging by hand: servers and namespaces stay
		echo "kept $W; servers:$PIDS; namespaces:$NAMESPACES" >&2
		return
	fi
	for p in $PIDS; do kill "$p" 2>/dev/null || true; done
	for p in $PIDS; do wait "$p" 2>/dev/null || true; done
	for ns in $NAMESPACES; do ip netns del "$ns" 2>/dev/null || true; done
	if [ -n "${KEEP_NETBOOT_TEST:-}" ]; then
		echo "kept $W" >&2
	else
		rm -rf "$W"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

new_ns() {
	ip netns add "$1" 2>/dev/null || skip "cannot create a network namespace"
	NAMESPACES="$NAMESPACES $1"
	ip -n "$1" link set lo up
}

lan_up() {
	new_ns "$LAN"
	ip -n "$LAN" link add br0 type bridge
	# forward at once: the boards must not wait for STP's 30 s listening/learning
	ip -n "$LAN" link set br0 type bridge forward_delay 0 stp_state 0
	# A fixed MAC, as systemd-networkd and ifupdown's bridge_hw give a server's bridge. With
	# none, br0 takes the lowest MAC of its ports and changes it when a board's port with a
	# lower (random) veth MAC is added; the checker's kernel still had the old MAC for
	# 10.77.0.1 (seen REACHABLE), the bridge drops frames to it as not its own, and the
	# second `netboot check` got tftp-unreachable for every board (1 run in 4 under load;
	# the boards ARP afresh and booted).
	ip -n "$LAN" link set br0 address 02:00:00:77:00:01
	ip -n "$LAN" addr add 10.77.0.1/24 dev br0
	ip -n "$LAN" link set br0 up
}

# port NS MAC [ADDR/LEN]: eth0 in NS with MAC (and ADDR), its peer a port of br0.
# eth0 has no IPv6: its kernel would send router solicitations from MAC for minutes after
# link up (router_solicitations=-1: at 4, 8, 16 s...), and each one moves br0's forwarding
# entry for MAC to this port. `netboot check` asks from the checker's port with the same
# MAC, so the servers' unicast replies (OFFER, TFTP DATA) went to an idle board namespace:
# "no DHCP offer in 4000 ms" and an unanswered RRQ, now and then (measured: an idle eth0
# sent 8 frames in its first 22 s; with IPv6 off, none).
port() {
	PORTS=$((PORTS + 1))
	ip -n "$LAN" link add "p$PORTS" type veth peer name eth0 netns "$1"
	ip netns exec "$1" sysctl -qw net.ipv6.conf.eth0.disable_ipv6=1
	ip -n "$1" link set eth0 address "$2"
	[ -z "${3:-}" ] || ip -n "$1" addr add "$3" dev eth0
	ip -n "$1" link set eth0 up
	ip -n "$LAN" link set "p$PORTS" master br0 up
}

# board_ports MAC...: one namespace per board, numbered on from the boards made before (the
# index of `netboot boot --netns pvnb$ID-b%i`: the order of its --virtual boards).
BOARDS=0
board_ports() {
	for mac in "$@"; do
		new_ns "pvnb$ID-b$BOARDS"
		port "pvnb$ID-b$BOARDS" "$mac"
		BOARDS=$((BOARDS + 1))
	done
}

checker_up() {
	new_ns "$CHK"
	port "$CHK" 02:00:00:77:00:fa 10.77.0.250/24
}

# check ARGS...: `netboot check` from the checker's namespace. It waits 15 s for each DHCP
# answer and TFTP file (not 4 and 5): a server slowed by a loaded CI machine (ASan) gets its
# time, and the verdicts do not change. A later --wait in ARGS wins.
check() {
	"$PIPROV" netboot check --wait 15000 --tftp-timeout 15000 --netns "$CHK" --interface eth0 \
		"$@"
}

# start NAME NS COMMAND...: a server in the foreground of namespace NS, output to W/NAME.log
start() {
	name=$1 ns=$2
	shift 2
	ip netns exec "$ns" "$@" >"$W/$name.log" 2>&1 &
	PIDS="$PIDS $!"
	eval "PID_$name=$!"
}

# wait_for WHAT SECONDS COMMAND...: until COMMAND succeeds
wait_for() {
	what=$1 n=$(($2 * 10))
	shift 2
	until "$@" >/dev/null 2>&1; do
		n=$((n - 1))
		[ "$n" -gt 0 ] || fail "$what did not come up"
		sleep 0.1
	done
}

# A boot template as `export tftp --template` takes it (files named as the firmware asks;
# tiny stand-ins: the model reads, it does not run them) and the Pi 3 ROM's root files.
make_template() {
	t=$W/tftp/pi-boot
	mkdir -p "$t"
	for f in start4.elf fixup4.dat start.elf fixup.dat bcm2711-rpi-4-b.dtb \
		bcm2711-rpi-cm4.dtb bcm2712-rpi-5-b.dtb bcm2710-rpi-3-b.dtb bcm2710-rpi-3-b-plus.dtb kernel8.img \
		kernel_2712.img kernel7.img; do
		printf '%s for the test\n' "$f" >"$t/$f"
	done
	printf '[all]\narm_64bit=1\n' >"$t/config.txt"
	printf 'bootcode.bin for the test\n' >"$W/tftp/bootcode.bin"
	chmod -R a+rX "$W/tftp"
}

# nfs_up: rpcbind, exportfs and rpc.mountd in namespace $LAN, in a mount namespace of their
# own where /etc/exports is the test's file and /var/lib/nfs, /run the test's folders: the
# host's NFS state is never touched. mountd answers MOUNT EXPORT from what exportfs wrote
# (no kernel NFS server is needed for that; src/lib/netboot/rpc.c says why EXPORT).
nfs_up() {
	command -v rpc.mountd >/dev/null && command -v exportfs >/dev/null &&
		command -v rpcbind >/dev/null ||
		skip "nfs-kernel-server/rpcbind are not installed (scripts/deps/test-netboot.txt)"
	[ -e /etc/exports ] || skip "/etc/exports is missing (nfs-kernel-server)"
	mkdir -p "$W/nfs-state" "$W/nfs-run"
	start nfs "$LAN" unshare -m --propagation private \
		sh "$SRC/tests/netboot/nfs-server.sh" "$W/exports" "$W/nfs-state" "$W/nfs-run"
	wait_for "rpc.mountd" 10 grep -q "mountd ready" "$W/nfs.log"
}

# the exported files all tests use: tftp tree, /etc/exports
export_common() {
	# the NFS roots live in the test folder
	ip netns exec "$LAN" "$PIPROV" inventory export tftp --root "$W/tftp" \
		--template "$W/tftp/pi-boot" --nfs-root "$W/nfs" --create-nfs-roots "$@" \
		>"$W/export-tftp.out" 2>&1 || fail "export tftp: $(cat "$W/export-tftp.out")"
	ip netns exec "$LAN" "$PIPROV" inventory export exports -o "$W/exports" \
		--nfs-root "$W/nfs" --create-nfs-roots "$@" >"$W/export-exports.out" 2>&1 ||
		fail "export exports: $(cat "$W/export-exports.out")"
	chmod -R a+rX "$W/tftp"
}

# The board of SERIAL in a netboot boot/check JSON array: boot names boards by their full
# serial, check by the inventory's (8 digits when the USB host saw only those).
BOARD_JQ='def board($s): .[] | select(.serial == $s or .serial == $s[8:16]);'

# verdict JSON SERIAL: "ok" or the reason of that board
verdict() {
	jq -r --arg s "$2" "$BOARD_JQ"' board($s) | if .booted then "ok" else .reason end' "$1"
}

# board JSON SERIAL [FILTER]: that board's object (through FILTER, default .)
board() {
	jq -c --arg s "$2" "$BOARD_JQ board(\$s) | ${3:-.}" "$1"
}

# expect FILE SERIAL REASON WHAT
expect() {
	got=$(verdict "$1" "$2")
	[ "$got" = "$3" ] || fail "$4: board $2: expected '$3', got '${got:-nothing}' ($(board \
		"$1" "$2" '{reason, detail}'))"
	echo "ok: $4: $2 $3"
}
