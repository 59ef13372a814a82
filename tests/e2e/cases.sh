#!/usr/bin/env bash
# The end-to-end cases CTest runs (tests/e2e/CMakeLists.txt): each boots one guest through
# pv-e2e-run and then checks what came back: the command's exit status and output, the files
# it left, and the state of every virtual board afterwards.
#
#   cases.sh CASE      with PV_E2E_GUEST, PV_E2E_BRIDGE, PV_E2E_OUT, PV_E2E_PIPROV set
#
# Exit 0 pass, 1 fail (with the reason and the logs' tails), 77 skipped (QEMU or the guest
# not available: said so, never passed).
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
case_name=${1:?usage: cases.sh CASE}
: "${PV_E2E_GUEST:?}" "${PV_E2E_BRIDGE:?}" "${PV_E2E_OUT:?}" "${PV_E2E_PIPROV:?}"
out=$PV_E2E_OUT
failures=0

# run_guest [pv-e2e-run options] -- COMMAND: sets $rc; exits 77/1 on skip/harness failure.
run_guest() {
	"$here/pv-e2e-run" --guest "$PV_E2E_GUEST" --bridge "$PV_E2E_BRIDGE" --out "$out" "$@"
	rc=$?
	case $rc in
	77) echo "SKIP: $case_name: the QEMU guest cannot run here (see above)"; exit 77 ;;
	99) echo "FAIL: $case_name: harness failure"; show_logs; exit 1 ;;
	esac
	echo "--- command output (guest) ---"
	cat "$out/command.log"
	echo "--- end ---"
}

show_logs() {
	echo "--- serial (tail) ---"; tail -n 25 "$out/serial.log" 2>/dev/null
	echo "--- bridge (tail) ---"; tail -n 25 "$out/bridge.log" 2>/dev/null
}

check() { # check DESCRIPTION COMMAND...
	local what=$1
	shift
	if "$@"; then
		echo "ok: $what"
	else
		echo "FAILED: $what"
		failures=$((failures + 1))
	fi
}

output_has() { grep -qE -- "$1" "$out/command.log"; }
bridge_has() { grep -qE -- "$1" "$out/bridge.log"; }

finish() {
	if [ "$failures" -ne 0 ]; then
		show_logs
		echo "FAIL: $case_name: $failures check(s) failed (results in $out)"
		exit 1
	fi
	echo "PASS: $case_name ($(tr '\n' ' ' <"$out/timing"))"
	exit 0
}

# The harness itself, without piprov: two probe boards, a plain-libusb rpiboot-shaped host
# program; hotplug in one libusb context and re-enumeration on the same port path.
case_pipeline() {
	run_guest --board probe --board probe -- usbprobe 2 1048576
	check "usbprobe exits 0" [ "$rc" -eq 0 ]
	check "libusb in the guest has hotplug" output_has 'hotplug yes'
	check "board on port 1-1 did its ROM stage" output_has '^USBPROBE: 1-1: rom stage ok'
	check "board on port 1-2 did its ROM stage" output_has '^USBPROBE: 1-2: rom stage ok'
	check "both came back as second stage on their ports" \
		output_has '^USBPROBE: PASS boards=2 wanted=2'
	check "the bridge saw two attachments per board" \
		bridge_has '^BRIDGE: board [01] .*attachments=2 .*bulk_bytes=1048600 '
	finish
}

type "case_${case_name//-/_}" >/dev/null 2>&1 || { echo "unknown case '$case_name'"; exit 1; }
"case_${case_name//-/_}"
