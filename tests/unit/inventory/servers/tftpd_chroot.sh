#!/bin/sh
# The real TFTP server reads the tree `piprov inventory export tftp` writes: tftpd-hpa runs
# chrooted (-s, as it must: the boards ask relative paths) in a network namespace of its own,
# and busybox's TFTP client fetches each board's files through piprov's relative links, also
# into a template inside the root. An absolute link (what piprov used to write) gets "File
# not found" there: the reason the links are relative.
# Usage: tftpd_chroot.sh PIPROV SOURCE_DIR BUILD_DIR
set -eu
piprov=$1 src=$2 build=$3
skip() { echo "SKIPPED: $*"; exit 77; }
fail() { echo "FAILED: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || skip "needs root (a network namespace, tftpd-hpa's chroot)"
command -v ip >/dev/null || skip "'ip' (iproute2) is not installed"
. "$src/tests/support/netns.sh"
remove_stale_netns
busybox=$(command -v busybox) || skip "busybox is not installed (scripts/deps/test-inventory.txt)"
tftpd=$("$src/tests/support/deb-program" "$build/debs" tftpd-hpa /usr/sbin/in.tftpd) ||
	fail "no tftpd-hpa"

ns=piprov-tftpd-$$
work=$(mktemp -d)
pid=
cleanup() {
	[ -z "$pid" ] || kill "$pid" 2>/dev/null || true
	[ -z "$pid" ] || wait "$pid" 2>/dev/null || true
	ip netns del "$ns" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
ip netns add "$ns" 2>/dev/null || skip "cannot create a network namespace"
ip -n "$ns" link set lo up

# tftpd-hpa drops to user nobody after the chroot: everything must be world-readable.
chmod 755 "$work"
mkdir -p "$work/tftp/pi-boot/overlays"
printf 'start4 firmware\n' >"$work/tftp/pi-boot/start4.elf"
printf 'arm_64bit=1\n' >"$work/tftp/pi-boot/config.txt"
printf 'overlay\n' >"$work/tftp/pi-boot/overlays/vc4.dtbo"
printf 'console=serial0,115200 root=PARTUUID=1-02 rootwait\n' >"$work/tftp/pi-boot/cmdline.txt"
chmod -R a+rX "$work/tftp"
export PIPROV_INVENTORY="$work/inventory.cfg"
"$piprov" inventory add --serial 10000000f8b73778 --mac dc:a6:32:01:36:c2 --ip 10.0.0.41 >/dev/null
"$piprov" inventory add --serial 10000000a1b2c3d4 --mac d8:3a:dd:05:ee:78 --ip 10.0.0.42 \
	tftp_prefix=mac >/dev/null
"$piprov" inventory export tftp --root "$work/tftp" --template "$work/tftp/pi-boot" \
	--nfs-server 10.0.0.1 --nfs-root /srv/nfs >/dev/null
ln -s "$work/tftp/pi-boot/start4.elf" "$work/tftp/absolute.elf"

ip netns exec "$ns" "$tftpd" -4 -L -s -a :69 "$work/tftp" &
pid=$!

# get PATH: fetch PATH over TFTP into $work/got; the client's message on failure.
get() {
	rm -f "$work/got"
	ip netns exec "$ns" timeout 10 "$busybox" tftp -g -r "$1" -l "$work/got" 127.0.0.1 \
		2>"$work/err"
}
# The server is up once a plain file comes back (at most 5 s).
tries=0
until get pi-boot/config.txt; do
	tries=$((tries + 1))
	[ "$tries" -lt 25 ] || fail "tftpd-hpa does not answer: $(cat "$work/err")"
	kill -0 "$pid" 2>/dev/null || fail "tftpd-hpa exited"
	sleep 0.2
done

for board in f8b73778 d8-3a-dd-05-ee-78; do
	for file in start4.elf config.txt overlays/vc4.dtbo; do
		[ -L "$work/tftp/$board/${file%%/*}" ] || fail "$board/${file%%/*} is not a link"
		case $(readlink "$work/tftp/$board/${file%%/*}") in
		/*) fail "$board/${file%%/*} is an absolute link" ;;
		esac
		get "$board/$file" || fail "$board/$file: $(cat "$work/err")"
		cmp -s "$work/got" "$work/tftp/pi-boot/$file" || fail "$board/$file differs"
	done
	get "$board/cmdline.txt" || fail "$board/cmdline.txt: $(cat "$work/err")"
	grep -q "root=/dev/nfs nfsroot=10.0.0.1:/srv/nfs/$board,vers=3" "$work/got" ||
		fail "$board/cmdline.txt: $(cat "$work/got")"
	echo "ok: $board/ served through relative links"
done
if get absolute.elf; then
	fail "an absolute link was served through the chroot"
fi
grep -q "File not found" "$work/err" || fail "absolute link: $(cat "$work/err")"
echo "ok: an absolute link gets 'File not found' in the chroot"
