#!/usr/bin/env bash
# Build the minimal QEMU guest the end-to-end tests boot: a Debian kernel (uncompressed, so
# QEMU boots it through its PVH note: about twice as fast under TCG), the four USB modules
# qemu-xhci needs (and usb-storage with the SCSI disk driver, for the mass-storage gadget
# case), a busybox initramfs with our /init, the programs to test and every shared library
# they load.
#
#   build-guest.sh CACHE_DIR OUT_DIR [--tree SRC GUEST_DIR]... PROGRAM...
#
# --tree copies a folder into the guest (e.g. piprov's firmware-templates to the data
# directory an installed piprov reads them from).
# CACHE_DIR keeps what is downloaded (the kernel .deb, libusb's Debian source) and what is
# slow to make (vmlinux, the udev-less libusb) across runs; OUT_DIR receives vmlinux and
# initrd.cpio.gz. Everything comes from Debian's archive through apt (the system's own apt
# configuration, plus a private deb-src list kept inside CACHE_DIR; nothing is written to
# /etc). Exit status: 0 built, 77 a tool is missing (the caller skips), 1 failed.
#
# Why a libusb of our own: Debian's libusb uses udev for hotplug, and without udevd (none runs
# in this guest) a long-lived libusb context never sees a board that re-enumerates into its
# second stage. libusb built with --disable-udev listens to the kernel's netlink events
# itself, so the program under test runs its ordinary hotplug code path unchanged.
set -euo pipefail
export LC_ALL=C

die() { echo "build-guest: $*" >&2; exit 1; }
skip() { echo "build-guest: SKIP: $*" >&2; exit 77; }

[ $# -ge 3 ] || die "usage: build-guest.sh CACHE_DIR OUT_DIR [--tree SRC GUEST_DIR]... PROGRAM..."
cache=$(mkdir -p "$1" && cd "$1" && pwd)
out=$(mkdir -p "$2" && cd "$2" && pwd)
shift 2
programs=()
trees=()
while [ $# -gt 0 ]; do
	if [ "$1" = --tree ]; then
		[ $# -ge 3 ] || die "--tree needs SRC and GUEST_DIR"
		trees+=("$2" "$3")
		shift 3
	else
		programs+=("$1")
		shift
	fi
done
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

for tool in apt-get apt-cache dpkg-deb dpkg-source cpio gzip xz make cc ldd; do
	command -v "$tool" >/dev/null || skip "'$tool' is not installed (scripts/deps/test-e2e.txt)"
done
busybox=$(command -v busybox || true)
[ -n "$busybox" ] && { ldd "$busybox" 2>&1 || true; } | grep -q 'not a dynamic' ||
	skip "a static busybox is needed (package busybox-static)"

log() { echo "build-guest: $*" >&2; }

# --- kernel ----------------------------------------------------------------------------------
# The modules kept: what qemu-xhci needs (loaded by /init in this order), then a USB disk's
# (usb-storage and the SCSI disk driver with its CRC helpers: loaded by the cases that use a
# virtual Compute Module's mass-storage gadget, in this order).
modules=(usb-common usbcore xhci-hcd xhci-pci
	scsi_common scsi_mod usb-storage crc64 crc64_rocksoft_generic crc64-rocksoft
	crct10dif_common crct10dif_generic crc-t10dif t10-pi sd_mod)
# linux-image-amd64 is the metapackage; it depends on the current ABI package.
kernel_pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
	sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-amd64\)$/\1/p' | head -n1)
[ -n "$kernel_pkg" ] || skip "apt knows no linux-image-amd64 (run apt-get update)"
kdir="$cache/kernel/$kernel_pkg"
# The stamp names the modules kept: a cache made for another list is made again.
if [ "$(cat "$kdir/stamp" 2>/dev/null)" != "${modules[*]}" ]; then
	rm -rf "$kdir" && mkdir -p "$kdir/deb" "$kdir/root"
	log "downloading $kernel_pkg from the Debian archive"
	# apt-get download writes into the current directory.
	(cd "$kdir/deb" && apt-get download -q "$kernel_pkg" >/dev/null 2>"$kdir/download.log") ||
		{ cat "$kdir/download.log" >&2; skip "cannot download $kernel_pkg"; }
	deb=$(ls "$kdir"/deb/*.deb)
	dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$kdir/root" --wildcards --no-anchored \
		'boot/vmlinuz-*' 'boot/config-*' "${modules[@]/%/.ko}"
	vmlinuz=$(ls "$kdir"/root/boot/vmlinuz-*)
	# Debian compresses the kernel with xz: the payload starts at the first xz stream magic.
	offset=$(grep -obUaP '\xfd7zXZ\x00' "$vmlinuz" | head -n1 | cut -d: -f1)
	[ -n "$offset" ] || die "'$vmlinuz': no xz stream found (not an xz-compressed kernel?)"
	# (xz stops at the end of the stream, so tail may die of SIGPIPE: that is expected.)
	{ tail -c +"$((offset + 1))" "$vmlinuz" || true; } |
		xz -dc --single-stream >"$kdir/vmlinux" ||
		die "'$vmlinuz': cannot decompress the kernel"
	for mod in "${modules[@]}"; do
		find "$kdir/root" -name "$mod.ko" -exec cp {} "$kdir/" \;
		[ -f "$kdir/$mod.ko" ] || die "$kernel_pkg has no $mod.ko (is it built in?)"
	done
	rm -rf "$kdir/deb" "$kdir/root"
	echo "${modules[*]}" >"$kdir/stamp"
fi

# --- libusb without udev, from Debian's source package ---------------------------------------
# The host's own architecture: other architectures' libusb may be installed for cross builds.
libusb_version=$(dpkg-query -W -f='${source:Version}\n' "libusb-1.0-0:$(dpkg --print-architecture)" \
	2>/dev/null | head -n1 || true)
[ -n "$libusb_version" ] || skip "libusb-1.0-0 is not installed"
ldir="$cache/libusb/$libusb_version"
if [ ! -f "$ldir/stamp" ]; then
	rm -rf "$ldir" && mkdir -p "$ldir/apt/lists/partial" "$ldir/apt/parts" "$ldir/src"
	# The same mirror the system uses for binary packages, as a deb-src line.
	mirror=$(apt-get indextargets --format '$(REPO_URI)' 'Created-By: Packages' 2>/dev/null |
		grep -m1 '/debian/$' || echo 'http://deb.debian.org/debian/')
	suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
	echo "deb-src $mirror $suite main" >"$ldir/apt/sources.list"
	apt_private=(-o "Dir::Etc::SourceList=$ldir/apt/sources.list"
		-o "Dir::Etc::SourceParts=$ldir/apt/parts" -o "Dir::State::Lists=$ldir/apt/lists"
		-o "Dir::Cache::pkgcache=" -o "Dir::Cache::srcpkgcache=")
	[ "$(id -u)" -eq 0 ] && apt_private+=(-o "APT::Sandbox::User=root")
	log "fetching libusb-1.0 $libusb_version source from the Debian archive"
	apt-get -q "${apt_private[@]}" update >"$ldir/apt.log" 2>&1 &&
		(cd "$ldir/src" && apt-get -q "${apt_private[@]}" source --download-only \
			"libusb-1.0=$libusb_version" >>"$ldir/apt.log" 2>&1) ||
		{ cat "$ldir/apt.log" >&2; skip "cannot fetch libusb-1.0 source"; }
	rm -rf "$ldir/apt/lists"
	(cd "$ldir/src" && dpkg-source --no-check -x ./*.dsc tree >/dev/null)
	log "building libusb without udev"
	(cd "$ldir/src/tree" && ./configure -q --disable-udev --enable-shared --disable-static \
		--disable-examples-build --disable-tests-build >"$ldir/build.log" 2>&1 &&
		make -j2 >>"$ldir/build.log" 2>&1) ||
		{ tail -n 30 "$ldir/build.log" >&2; die "building libusb failed"; }
	cp -L "$ldir/src/tree/libusb/.libs/libusb-1.0.so.0" "$ldir/libusb-1.0.so.0"
	rm -rf "$ldir/src"
	touch "$ldir/stamp"
fi

# --- initramfs -------------------------------------------------------------------------------
root="$out/initramfs"
rm -rf "$root"
mkdir -p "$root"/{bin,sbin,proc,sys,dev,tmp,run,job,lib/modules}
cp "$busybox" "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
cp "$here/init" "$root/init"
chmod 755 "$root/init"
cp "$kdir"/*.ko "$root/lib/modules/"

# Every shared library a program loads goes to the same path in the guest, except libusb,
# which is replaced by the udev-less build (same soname and ABI, same upstream version).
copy_libs() {
	local lib
	for lib in $(ldd "$1" | awk '/=> \// { print $3 } /^\t\/.*ld-linux/ { print $1 }'); do
		case "$lib" in
		*/libusb-1.0.so.0) continue ;;
		esac
		[ -f "$root$lib" ] && continue
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done
}
libusb_dir=""
for program in "${programs[@]}"; do
	[ -x "$program" ] || die "'$program' is not an executable"
	cp "$program" "$root/bin/"
	copy_libs "$program"
	if ldd "$program" | grep -q 'libusb-1.0.so.0 =>'; then
		libusb_dir=$(dirname "$(ldd "$program" | awk '/libusb-1.0.so.0 =>/ { print $3 }')")
	fi
done
for ((i = 0; i < ${#trees[@]}; i += 2)); do
	[ -d "${trees[i]}" ] || die "'${trees[i]}' is not a folder"
	mkdir -p "$root${trees[i + 1]}"
	cp -a "${trees[i]}/." "$root${trees[i + 1]}/"
done
if [ -n "$libusb_dir" ]; then
	mkdir -p "$root$libusb_dir"
	cp "$ldir/libusb-1.0.so.0" "$root$libusb_dir/libusb-1.0.so.0"
fi

(cd "$root" && find . -print0 | LC_ALL=C sort -z |
	cpio --null -o -H newc --quiet --owner 0:0) | gzip -1 >"$out/initrd.cpio.gz.tmp"
mv "$out/initrd.cpio.gz.tmp" "$out/initrd.cpio.gz"
ln -sf "$kdir/vmlinux" "$out/vmlinux.tmp" && mv -T "$out/vmlinux.tmp" "$out/vmlinux"
rm -rf "$root"
log "guest ready: $out/vmlinux, $out/initrd.cpio.gz ($(du -k "$out/initrd.cpio.gz" | cut -f1) KiB)"
