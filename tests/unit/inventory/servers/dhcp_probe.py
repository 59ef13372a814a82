#!/usr/bin/env python3
"""Send one DHCPDISCOVER shaped like a Raspberry Pi's (or another PXE client's) on an
interface and check the first answer against what is expected.

Usage: dhcp_probe.py IFACE MAC [--opt97 HEX] [--vendor TEXT] [--wait S] [--none]
                     [--menu TEXT] [--no-menu] [--yiaddr IP] [--pool FIRST-LAST]
                     [--siaddr IP] [--opt66 TEXT]
                     [--router IP] [--netmask IP]

The packet carries what netboot-and-identity.md section 1.2/1.5 lists for a Pi bootloader:
options 55 (the Pi 3B's list), 60 ("PXEClient:Arch:00000:UNDI:002001"), 93 = 0, 94 = 1.2.1
and option 97 when --opt97 is given. The broadcast flag is set: the client side of the test
has no address, so a unicast answer could not be received (a real Pi takes it on its raw
interface). Prints one line describing the answer; exit 0 when it matches, 1 otherwise.
--none expects no answer within --wait seconds (default 2; a server that answers does so in
milliseconds). --menu TEXT expects option 43 with a PXE boot menu (sub-option 9) whose text is
exactly TEXT (the Pi 3B ROM needs "Raspberry Pi Boot" + three spaces); --no-menu expects an
answer without one. Standard library only: the test suite installs no Python packages.
"""
import argparse
import os
import socket
import struct
import sys
import time

SO_BINDTODEVICE = 25  # linux/socket.h; socket.SO_BINDTODEVICE is missing before Python 3.11


def discover(mac, opt97, vendor, xid):
    # op, htype, hlen, hops, xid, secs, flags (broadcast), ciaddr, yiaddr, siaddr, giaddr,
    # chaddr, sname, file
    head = struct.pack("!BBBBIHH4s4s4s4s16s64s128s", 1, 1, 6, 0, xid, 0, 0x8000,
                       bytes(4), bytes(4), bytes(4), bytes(4), mac + bytes(10), b"", b"")
    opts = b"\x63\x82\x53\x63" + bytes([53, 1, 1])
    opts += bytes([55, 14, 43, 60, 67, 128, 129, 130, 131, 132, 133, 134, 135, 66, 1, 3])
    if vendor:
        opts += bytes([60, len(vendor)]) + vendor.encode()
    opts += bytes([93, 2, 0, 0, 94, 3, 1, 2, 1])
    if opt97:
        opts += bytes([97, len(opt97)]) + opt97
    return head + opts + b"\xff"


def options(data):
    """The options of a BOOTP/DHCP packet as {code: bytes}; None when it is malformed."""
    if len(data) < 240 or data[236:240] != b"\x63\x82\x53\x63":
        return None
    found, i = {}, 240
    while i < len(data) and data[i] != 255:
        if data[i] == 0:
            i += 1
            continue
        if i + 1 >= len(data) or i + 2 + data[i + 1] > len(data):
            return None
        found[data[i]] = data[i + 2:i + 2 + data[i + 1]]
        i += 2 + data[i + 1]
    return found


def pxe_menu(opt43):
    """The text of the first PXE boot menu entry (sub-option 9) of option 43, else None."""
    i = 0
    while i + 1 < len(opt43) and opt43[i] != 255:
        code, size = opt43[i], opt43[i + 1]
        body = opt43[i + 2:i + 2 + size]
        if code == 9 and len(body) >= 3:
            return body[3:3 + body[2]].decode("latin-1")
        i += 2 + size
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("iface")
    ap.add_argument("mac")
    ap.add_argument("--opt97", default="")
    ap.add_argument("--vendor", default="PXEClient:Arch:00000:UNDI:002001")
    ap.add_argument("--wait", type=float, default=2.0)
    ap.add_argument("--none", action="store_true")
    ap.add_argument("--menu")
    ap.add_argument("--no-menu", action="store_true")
    ap.add_argument("--yiaddr")
    ap.add_argument("--pool", help="FIRST-LAST: the address offered lies in it")
    ap.add_argument("--siaddr")
    ap.add_argument("--opt66")
    ap.add_argument("--router")
    ap.add_argument("--netmask")
    args = ap.parse_args()
    mac = bytes.fromhex(args.mac.replace(":", ""))
    opt97 = bytes.fromhex(args.opt97.replace(":", ""))
    xid = struct.unpack("!I", os.urandom(4))[0]

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    sock.setsockopt(socket.SOL_SOCKET, SO_BINDTODEVICE, args.iface.encode() + b"\0")
    sock.bind(("0.0.0.0", 68))
    sock.sendto(discover(mac, opt97, args.vendor, xid), ("255.255.255.255", 67))

    who = "%s (%s)" % (args.mac, "option 97 " + args.opt97 if args.opt97 else "no option 97")
    deadline = time.monotonic() + args.wait
    reply = None
    while reply is None:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        sock.settimeout(left)
        try:
            data, _ = sock.recvfrom(2048)
        except socket.timeout:
            break
        if len(data) >= 240 and data[0] == 2 and data[4:8] == struct.pack("!I", xid):
            reply = data
    if reply is None:
        if args.none:
            print("ok: %s: no answer in %.1f s" % (who, args.wait))
            return 0
        print("FAILED: %s: no answer in %.1f s" % (who, args.wait))
        return 1
    opts = options(reply)
    if opts is None:
        print("FAILED: %s: malformed answer" % who)
        return 1
    got = {
        "yiaddr": socket.inet_ntoa(reply[16:20]),
        "siaddr": socket.inet_ntoa(reply[20:24]),
        "menu": pxe_menu(opts[43]) if 43 in opts else None,
        "opt66": opts[66].rstrip(b"\0").decode("latin-1") if 66 in opts else None,
        "router": socket.inet_ntoa(opts[3][:4]) if len(opts.get(3, b"")) >= 4 else None,
        "netmask": socket.inet_ntoa(opts[1][:4]) if len(opts.get(1, b"")) == 4 else None,
    }
    shown = " ".join("%s=%r" % (k, v) for k, v in got.items())
    wrong = []
    if args.none:
        wrong.append("an answer (expected none)")
    if args.menu is not None and got["menu"] != args.menu:
        wrong.append("menu %r (expected %r)" % (got["menu"], args.menu))
    if args.no_menu and got["menu"] is not None:
        wrong.append("menu %r (expected none)" % got["menu"])
    if args.pool is not None:
        first, last = (socket.inet_aton(a) for a in args.pool.split("-"))
        if not first <= socket.inet_aton(got["yiaddr"]) <= last:
            wrong.append("yiaddr %r (expected in %s)" % (got["yiaddr"], args.pool))
    for key in ("yiaddr", "siaddr", "opt66", "router", "netmask"):
        want = getattr(args, key)
        if want is not None and got[key] != want:
            wrong.append("%s %r (expected %r)" % (key, got[key], want))
    if wrong:
        print("FAILED: %s: %s; answer: %s" % (who, ", ".join(wrong), shown))
        return 1
    print("ok: %s: %s" % (who, shown))
    return 0


if __name__ == "__main__":
    sys.exit(main())
