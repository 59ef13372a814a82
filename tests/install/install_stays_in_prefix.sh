#!/usr/bin/env bash
# `cmake --install --prefix P` writes nothing outside P (the systemd unit once went to the
# host's /lib/systemd/system from systemd.pc); the udev rules and units are where udev and
# systemd read them under the prefix; every unit's ExecStart= names the program installed
# under that prefix.
. "$(dirname "$0")/lib.sh"
root=$PV_STAGE$PV_PREFIX
[ -x "$root/bin/piprov" ] || fail "no $PV_PREFIX/bin/piprov in the staged install"
outside=$(cd "$PV_STAGE" && find . ! -type d | sed 's|^\.||' | grep -v "^$PV_PREFIX/" || true)
[ -z "$outside" ] || fail "installed outside the prefix $PV_PREFIX: $outside"
ls "$root"/lib/udev/rules.d/*.rules >/dev/null 2>&1 ||
	fail "no udev rules in $PV_PREFIX/lib/udev/rules.d"
units=("$root"/lib/systemd/system/*.service)
[ -e "${units[0]}" ] || fail "no systemd unit in $PV_PREFIX/lib/systemd/system"
for unit in "${units[@]}"; do
	grep -q '@[A-Z_]*@' "$unit" && fail "$unit: placeholder left: $(grep '@[A-Z_]*@' "$unit")"
	while read -r program; do
		case "$program" in
		"$PV_PREFIX"/*) [ -x "$PV_STAGE$program" ] ||
			fail "$unit: ExecStart program $program is not installed" ;;
		*) fail "$unit: ExecStart program '$program' is not under the prefix $PV_PREFIX" ;;
		esac
	done < <(sed -n 's/^ExecStart=[-@:+!]*\([^ ]*\).*/\1/p' "$unit")
done
echo "all $(cd "$PV_STAGE" && find . ! -type d | wc -l) files under $PV_PREFIX;" \
	"${#units[@]} unit(s) start programs of the prefix"
