#!/usr/bin/env bash
# Benchmark: time from guest start (QEMU launched) to "verified" when piprov flashes 1 and 4
# virtual Pi 4s with the network preset through the QEMU guest's USB stack (docs/e2e.md).
#
#   bench/e2e/run.sh BUILD_DIR [RUNS]        (default 3 runs per board count)
#
# Needs the e2e guest built (ctest -R e2e-guest). Prints one line per run and a summary per
# board count (min / median / max of the time to the last board's "verified"), and writes
# them to BUILD_DIR/e2e/bench/results.txt. Exit 77 when the guest or QEMU is unavailable.
set -uo pipefail
export LC_ALL=C

build=$(cd "${1:?usage: run.sh BUILD_DIR [RUNS]}" && pwd)
runs=${2:-3}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/../../tests/e2e/flash-command.sh"
results="$build/e2e/bench/results.txt"
mkdir -p "$build/e2e/bench"
: >"$results"

report() { echo "$*" | tee -a "$results"; }

# The same synthetic firmware the e2e cases serve.
input="$build/e2e/bench/input"
rm -rf "$input" && mkdir -p "$input"
"$build/bin/piprov-e2e-tool" firmware "$input/firmware" ||
	{ echo "SKIP: cannot make the firmware input"; exit 77; }

report "# e2e flash benchmark, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores," \
	"accel ${PIPROV_E2E_ACCEL:-auto}, $runs run(s) per board count"
report "# boards run guest_up_s verified_s qemu_exit_s (seconds since QEMU start)"
failed=0
for boards in 1 4; do
	times=()
	for run in $(seq 1 "$runs"); do
		out="$build/e2e/bench/b$boards-r$run"
		args=()
		for i in $(seq 1 "$boards"); do args+=(--board pi4); done
		"$here/../../tests/e2e/pv-e2e-run" --guest "$build/e2e/guest" \
			--bridge "$build/bin/piprov-redir-bridge" --out "$out" --timeout 120 \
			--input "$input" \
			"${args[@]}" -- "$(pv_e2e_flash_command "$boards")" 2>/dev/null
		rc=$?
		[ "$rc" -eq 77 ] && { echo "SKIP: the e2e guest cannot run here"; exit 77; }
		verified=$(grep -cE "$PV_E2E_VERIFIED_PATTERN" "$out/command.log")
		if [ "$rc" -ne 0 ] || [ "$verified" -ne "$boards" ]; then
			report "$boards $run FAILED (rc=$rc, $verified verified; see $out)"
			failed=1
			continue
		fi
		# The serial log stamps each guest line with the host time since QEMU started.
		last=$(grep -E "PVE2E-OUT: ${PV_E2E_VERIFIED_PATTERN#^}" "$out/serial.log" |
			awk '{ print $1 }' | sort -n | tail -n1)
		. "$out/timing"
		report "$boards $run $guest_up_s $last $qemu_exit_s"
		times+=("$last")
	done
	if [ ${#times[@]} -gt 0 ]; then
		summary=$(printf '%s\n' "${times[@]}" | sort -n |
			awk '{ v[NR] = $1 } END { printf "min %.2f s, median %.2f s, max %.2f s",
				v[1], v[int((NR + 1) / 2)], v[NR] }')
		report "== $boards board(s): guest start to last verified: $summary"
	fi
done
exit "$failed"
