#!/usr/bin/env bash
# Nothing on the way of a board waits for the kernel's random pool (issue 14's time item):
# jansson seeded its hash tables from /dev/urandom on the first JSON object, which before the
# pool is initialised (early in a host's boot, the e2e guest) made the first event of
# `piprov usb flash` wait 1.4-2.0 s. The programs are run under strace: no open of
# /dev/random or /dev/urandom, and every getrandom() call is one that cannot block
# (GRND_NONBLOCK or GRND_INSECURE).
#   no_entropy_wait.sh PIPROV [SANITIZER]
set -uo pipefail
piprov=${1:?usage: no_entropy_wait.sh PIPROV [SANITIZER]}
[ -z "${2:-}" ] || { echo "SKIP: sanitizer build ($2): its runtime makes calls of its own"; exit 77; }
command -v strace >/dev/null || { echo "SKIP: strace is not installed (scripts/deps/test.txt)"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0

# check NAME COMMAND...: run under strace, then look at the calls it made.
check() {
	local name=$1 log="$work/$1.strace"
	shift
	local rc=0
	strace -f -qq -e trace=open,openat,getrandom -o "$log" "$@" >"$work/$name.out" 2>&1 || rc=$?
	if [ "$rc" -ne 0 ]; then
		if grep -q "PTRACE_TRACEME\|ptrace(PTRACE" "$work/$name.out"; then
			echo "SKIP: strace cannot trace here"; exit 77
		fi
		echo "FAILED: $name: exit status $rc (output below)"; cat "$work/$name.out"
		failures=$((failures + 1))
		return
	fi
	if grep -E '"/dev/u?random"' "$log"; then
		echo "FAILED: $name opened the kernel's random device (above)"
		failures=$((failures + 1))
	fi
	if grep -E 'getrandom\(' "$log" | grep -vE 'GRND_(NONBLOCK|INSECURE)'; then
		echo "FAILED: $name called getrandom() in a way that waits for the pool (above)"
		failures=$((failures + 1))
	fi
	echo "ok: $name ($(grep -c 'getrandom(' "$log") non-blocking getrandom calls)"
}

check usb_flash "$piprov" usb flash --virtual pi4 --preset network --json -n 1 --timeout 30 \
	-j "$work/meta" --inventory "$work/inventory.conf"
# A second stage that is not a recovery program: the virtual Pi 4 runs its bootloader flow.
mkdir -p "$work/rb"
head -c 4096 /dev/zero | tr '\0' 'x' >"$work/rb/bootcode4.bin"
check rpiboot "$piprov" rpiboot -d "$work/rb" --virtual pi4 -j "$work/rbmeta" --timeout 30
check eeprom_synth "$piprov" eeprom synth 2711 -o "$work/synth.bin"
check inventory_list_json "$piprov" --json inventory list --inventory "$work/inventory.conf"
[ "$failures" -eq 0 ] || { echo "FAIL: $failures check(s)"; exit 1; }
echo "PASS"
