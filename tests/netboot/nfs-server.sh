#!/bin/sh
# nfs-server.sh EXPORTS STATE_DIR RUN_DIR: the NFS server side of the netboot tests, run by
# lan.sh in the LAN's network namespace AND a private mount namespace (unshare -m): the
# test's EXPORTS file is /etc/exports, STATE_DIR is /var/lib/nfs (etab, rmtab), RUN_DIR is
# /run (rpcbind's socket), so the host's NFS configuration and state are never read or
# written. Starts rpcbind and rpc.mountd in the foreground, loads EXPORTS with the real
# exportfs, prints "mountd ready" once mountd is registered, and stops both on TERM.
set -eu
exports=$1 state=$2 run=$3
mount --bind "$exports" /etc/exports
if [ -d /etc/exports.d ]; then
	mkdir -p "$state/exports.d"
	mount --bind "$state/exports.d" /etc/exports.d
fi
mount --bind "$state" /var/lib/nfs
mount --bind "$run" /run
: >/var/lib/nfs/etab
: >/var/lib/nfs/rmtab
rpcbind -f -w &
rpcbind=$!
mountd=
stop() {
	[ -z "$mountd" ] || kill "$mountd" 2>/dev/null || true
	kill "$rpcbind" 2>/dev/null || true
	wait 2>/dev/null || true
	exit 0
}
trap stop TERM INT HUP
n=50
until rpcinfo -p 127.0.0.1 >/dev/null 2>&1; do
	n=$((n - 1)); [ "$n" -gt 0 ] || { echo "rpcbind did not start"; exit 1; }
	sleep 0.1
done
exportfs -ra
echo "etab:"
cat /var/lib/nfs/etab
# NFS v3 MOUNT only (the kernel nfsroot= mounts use vers=3); a fixed port for the logs
rpc.mountd -F -N 2 -N 4 -p 20048 &
mountd=$!
n=50
until rpcinfo -p 127.0.0.1 2>/dev/null | grep -q mountd; do
	n=$((n - 1)); [ "$n" -gt 0 ] || { echo "rpc.mountd did not register"; exit 1; }
	sleep 0.1
done
echo "mountd ready"
wait "$mountd"
