#!/usr/bin/env bash
# Benchmark: piprov flashing virtual Pi 4s through the QEMU guest's USB stack (docs/e2e.md):
#  - time from guest start (QEMU launched) to the last board's "verified", for 1 and 4
#    boards with the network preset;
#  - the tool's own time in the guest (its /proc/uptime before and after) and, for one
#    board, the per-board timeline from `usb flash --json`'s events (ROM upload,
#    re-enumeration, each file, metadata, verification, recording);
#  - `piprov rpiboot -d` serving the same recovery flow to the same board (the same virtual
#    Pi 4, same serial), and the ratio of the two tool times;
#  - with PIPROV_E2E_UPSTREAM_RPIBOOT=PATH (upstream rpiboot built by hand from
#    raspberrypi/usbboot; never part of the project) the same for upstream, in a guest
#    built with it, and the goal: usb flash <= 0.30 x upstream (issue 14).
#
#   bench/e2e/run.sh BUILD_DIR [RUNS]        (default 3 runs per board count)
#
# Needs the e2e guest built (ctest -R e2e-guest). Writes everything to
# BUILD_DIR/e2e/bench/results.txt. Exit 77 when the guest or QEMU is unavailable, 1 when a
# run failed or the upstream goal was missed.
set -uo pipefail
export LC_ALL=C

build=$(cd "${1:?usage: run.sh BUILD_DIR [RUNS]}" && pwd)
runs=${2:-3}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/../../tests/e2e/flash-command.sh"
bench="$build/e2e/bench"
results="$bench/results.txt"
mkdir -p "$bench"
: >"$results"
upstream=${PIPROV_E2E_UPSTREAM_RPIBOOT:-}
UPSTREAM_GOAL=0.30

report() { echo "$*" | tee -a "$results"; }
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) printf "%.2f", v[int((NR + 1) / 2)] }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }

command -v python3 >/dev/null || { echo "SKIP: python3 is missing (scripts/deps/test-e2e.txt)"; exit 77; }

# The same synthetic firmware the e2e cases serve, and from it a recovery folder for
# `rpiboot -d` with what `usb flash` serves the Pi 4: the placeholder recovery program, its
# config.txt, the release image with the network preset and its .sig.
input="$bench/input"
rm -rf "$input" && mkdir -p "$input"
"$build/bin/piprov-e2e-tool" firmware "$input/firmware" ||
	{ echo "SKIP: cannot make the firmware input"; exit 77; }
rb="$input/rpiboot"
mkdir -p "$rb"
cp "$input/firmware/2711/recovery.bin" "$rb/bootcode4.bin" &&
	"$build/bin/piprov" -q eeprom set "$input"/firmware/2711/pieeprom-*.bin --preset network \
		-o "$rb/pieeprom.bin" >"$bench/rpiboot-folder.log" 2>&1 &&
	"$build/bin/piprov" eeprom digest "$rb/pieeprom.bin" -o "$rb/pieeprom.sig" &&
	printf 'uart_2ndstage=1\nrecovery_metadata=1\n' >"$rb/config.txt" ||
	{ echo "FAIL: cannot make the rpiboot folder"; exit 1; }

# A guest command line that runs COMMAND and prints its time inside the guest.
timed() { # LABEL COMMAND
	echo "t0=\$(cut -d' ' -f1 /proc/uptime); $2; rc=\$?;" \
		"echo \"PVBENCH $1 rc=\$rc start=\$t0 end=\$(cut -d' ' -f1 /proc/uptime)\"; exit \$rc"
}
tool_seconds() { # OUT LABEL
	sed -n "s/^PVBENCH $2 rc=0 start=\([0-9.]*\) end=\([0-9.]*\)$/\1 \2/p" "$1/command.log" |
		awk '{ printf "%.2f", $2 - $1 }'
}

guest() { # GUEST OUT COMMAND BOARD...: sets rc
	local g=$1 out=$2 cmd=$3
	shift 3
	local args=()
	for b in "$@"; do args+=(--board "$b"); done
	"$here/../../tests/e2e/pv-e2e-run" --guest "$g" --bridge "$build/bin/piprov-redir-bridge" \
		--out "$out" --timeout 120 --input "$input" --wait-devices "${args[@]}" -- "$cmd" \
		2>/dev/null
	rc=$?
	[ "$rc" -eq 77 ] && { echo "SKIP: the e2e guest cannot run here"; exit 77; }
}

upstream_guest=""
if [ -n "$upstream" ]; then
	[ -x "$upstream" ] || { echo "FAIL: PIPROV_E2E_UPSTREAM_RPIBOOT=$upstream is not a program"; exit 1; }
	upstream_guest="$bench/guest-upstream"
	"$here/../../tests/e2e/guest/build-guest.sh" "$build/e2e/cache" "$upstream_guest" \
		--tree "$here/../../firmware-templates" /share/piprov/firmware-templates \
		"$build/bin/piprov" "$upstream" >"$bench/guest-upstream.log" 2>&1 ||
		{ echo "FAIL: cannot build the guest with upstream rpiboot (see $bench/guest-upstream.log)"; exit 1; }
fi

report "# e2e flash benchmark, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores," \
	"load $(cut -d' ' -f1-3 /proc/loadavg), accel ${PIPROV_E2E_ACCEL:-auto}, $runs run(s)"
report "# boards run guest_up_s verified_s qemu_exit_s tool_s (seconds; the first three since QEMU start)"
failed=0
flash_tool=()
rpiboot_tool=()
upstream_tool=()
for boards in 1 4; do
	times=()
	for run in $(seq 1 "$runs"); do
		out="$bench/b$boards-r$run"
		pi4s=()
		for i in $(seq 1 "$boards"); do pi4s+=(pi4); done
		guest "$build/e2e/guest" "$out" "$(timed flash "$(pv_e2e_flash_command "$boards" --json)")" \
			"${pi4s[@]}"
		verified=$(grep -c '"event":"verified"' "$out/command.log")
		if [ "$rc" -ne 0 ] || [ "$verified" -ne "$boards" ]; then
			report "$boards $run FAILED (rc=$rc, $verified verified; see $out)"
			failed=1
			continue
		fi
		# The serial log stamps each guest line with the host time since QEMU started.
		last=$(grep -F 'PVE2E-OUT: {"event":"verified"' "$out/serial.log" |
			awk '{ print $1 }' | sort -n | tail -n1)
		tool=$(tool_seconds "$out" flash)
		. "$out/timing"
		report "$boards $run $guest_up_s $last $qemu_exit_s $tool"
		times+=("$last")
		[ "$boards" -eq 1 ] || continue
		flash_tool+=("$tool")
		python3 "$here/timeline.py" "$out/command.log" | sed 's/^/  /' | tee -a "$results"

		# The same board (board 0 of pi4: same serial) served by piprov rpiboot.
		out="$bench/rpiboot-r$run"
		guest "$build/e2e/guest" "$out" "$(timed rpiboot "piprov rpiboot -d /job/in/rpiboot")" pi4
		if [ "$rc" -ne 0 ] || ! grep -q '"EEPROM_UPDATE": "success"' "$out/command.log"; then
			report "  piprov rpiboot run $run FAILED (rc=$rc; see $out)"
			failed=1
		else
			tool=$(tool_seconds "$out" rpiboot)
			rpiboot_tool+=("$tool")
			report "  piprov rpiboot -d, same board: tool ${tool} s"
		fi
		[ -n "$upstream_guest" ] || continue
		out="$bench/upstream-r$run"
		guest "$upstream_guest" "$out" "$(timed upstream "$(basename "$upstream") -d /job/in/rpiboot")" pi4
		if [ "$rc" -ne 0 ] || ! grep -q '"EEPROM_UPDATE": "success"' "$out/command.log"; then
			report "  upstream rpiboot run $run FAILED (rc=$rc; see $out)"
			failed=1
		else
			tool=$(tool_seconds "$out" upstream)
			upstream_tool+=("$tool")
			report "  upstream rpiboot -d, same board: tool ${tool} s"
		fi
	done
	if [ ${#times[@]} -gt 0 ]; then
		summary=$(printf '%s\n' "${times[@]}" | sort -n |
			awk '{ v[NR] = $1 } END { printf "min %.2f s, median %.2f s, max %.2f s",
				v[1], v[int((NR + 1) / 2)], v[NR] }')
		report "== $boards board(s): guest start to last verified: $summary"
	fi
done

if [ ${#flash_tool[@]} -gt 0 ]; then
	f=$(printf '%s\n' "${flash_tool[@]}" | median)
	report "== one board, tool time in the guest (median): usb flash $f s"
	if [ ${#rpiboot_tool[@]} -gt 0 ]; then
		r=$(printf '%s\n' "${rpiboot_tool[@]}" | median)
		report "== piprov rpiboot -d $r s; ratio usb flash / piprov rpiboot = $(ratio "$f" "$r")"
	fi
	if [ ${#upstream_tool[@]} -gt 0 ]; then
		u=$(printf '%s\n' "${upstream_tool[@]}" | median)
		q=$(ratio "$f" "$u")
		verdict=met
		awk -v q="$q" -v g="$UPSTREAM_GOAL" 'BEGIN { exit !(q <= g) }' || { verdict=MISSED; failed=1; }
		report "== upstream rpiboot -d $u s; ratio usb flash / upstream = $q (goal <= $UPSTREAM_GOAL: $verdict)"
	elif [ -z "$upstream" ]; then
		report "== upstream rpiboot: not run (PIPROV_E2E_UPSTREAM_RPIBOOT=PATH to a build of raspberrypi/usbboot)"
	fi
fi
exit "$failed"
