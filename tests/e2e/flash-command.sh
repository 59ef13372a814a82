# Sourced by cases.sh and bench/e2e/run.sh: the piprov command line the e2e guest runs to
# flash N boards, and how its output says a board is done.
#
# Input: /job/in/firmware (piprov-e2e-tool firmware: a synthetic release image and the
# virtual Pi's placeholder recovery per chip). Output in /job/out: metadata/<serial>.json
# and inventory.conf.

# A progress line of `piprov usb flash` for a board that was flashed and verified.
PV_E2E_VERIFIED_PATTERN='^1-[0-9]+ +[0-9]+ +[0-9a-f]+ +verified +[0-9.]+ KiB '

pv_e2e_flash_command() { # BOARDS [EXTRA ARGS]
	local boards=$1
	shift
	echo "piprov usb flash --preset network --firmware-dir /job/in/firmware -n $boards" \
		"--timeout 60 --board-timeout 60 -j /job/out/metadata" \
		"--inventory /job/out/inventory.conf $*"
}
