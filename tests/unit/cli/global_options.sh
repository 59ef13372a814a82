#!/usr/bin/env bash
# Global options (-v -vv -q --json --inventory --root --help --version) are accepted before
# and after the command name, with the same effect, and the environment variables stand in
# for --inventory and --root (docs/HACKING.md, "Command-line conventions").
source "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || { echo "SKIP: jq not installed (scripts/deps/test-cli.txt)"; exit 77; }

"$PIPROV" inventory --inventory a.cfg add --serial 10000000f8b73778 >/dev/null
"$PIPROV" inventory --inventory b.cfg add --serial 10000000aaaaaaaa >/dev/null

# --inventory before the command, after it, after the subcommand, with '=', from the env.
for form in "--inventory a.cfg inventory list" "inventory --inventory a.cfg list" \
	"inventory list --inventory a.cfg" "inventory list --inventory=a.cfg" \
	"--json inventory list --inventory a.cfg" "inventory list --json --inventory a.cfg"; do
	# shellcheck disable=SC2086
	run "$PIPROV" $form
	expect_rc 0 "piprov $form"
	expect_in f8b73778 "$out" "piprov $form"
	expect_not_in aaaaaaaa "$out" "piprov $form"
done
run env PIPROV_INVENTORY=b.cfg "$PIPROV" inventory list
expect_rc 0 "PIPROV_INVENTORY=b.cfg piprov inventory list"
expect_in aaaaaaaa "$out" "PIPROV_INVENTORY"
run env PIPROV_INVENTORY=b.cfg "$PIPROV" inventory list --inventory a.cfg
expect_in f8b73778 "$out" "--inventory wins over PIPROV_INVENTORY"
expect_not_in aaaaaaaa "$out" "--inventory wins over PIPROV_INVENTORY"

# --json before or after: the same JSON.
run "$PIPROV" --json inventory show f8b73778 --inventory a.cfg
expect_json "piprov --json inventory show"
before=$out
run "$PIPROV" inventory show f8b73778 --inventory a.cfg --json
expect_json "piprov inventory show --json"
checks=$((checks + 1))
[ "$before" = "$out" ] || fail "--json before and after the command differ"

# -q after the subcommand (was refused): usb flash on a virtual board, nothing on stderr
# but errors; -v shows the info messages.
run "$PIPROV" usb flash --virtual pi4 --timeout 5 -q
expect_rc 0 "piprov usb flash --virtual pi4 -q"
expect_not_in "waiting for" "$err" "usb flash -q"
run "$PIPROV" -q usb flash --virtual pi4 --timeout 5
expect_rc 0 "piprov -q usb flash --virtual pi4"
expect_not_in "waiting for" "$err" "piprov -q usb flash"
run "$PIPROV" usb flash --virtual pi4 --timeout 5
expect_in "waiting for" "$err" "usb flash without -q"

# usb flash records in $PIPROV_INVENTORY like --inventory (it ignored the variable).
run env PIPROV_INVENTORY=flash.cfg "$PIPROV" usb flash --virtual pi4,serial=100000001234abcd --timeout 5
expect_rc 0 "PIPROV_INVENTORY=flash.cfg piprov usb flash"
run "$PIPROV" inventory list --inventory flash.cfg
expect_in 1234abcd "$out" "usb flash recorded in \$PIPROV_INVENTORY"

# piprov station: --inventory and --json before or after the command (read from ctx),
# PIPROV_INVENTORY as the default inventory.
for form in "--json station --inventory st1.cfg" "station --json --inventory=st1.cfg" \
	"station --inventory st1.cfg --json"; do
	# shellcheck disable=SC2086
	run "$PIPROV" $form --preset network -n 1 --virtual pi4,serial=100000005ca1ab1e
	expect_rc 0 "piprov $form"
	expect_in '"event":"recorded"' "$out" "piprov $form"
done
run env PIPROV_INVENTORY=st2.cfg "$PIPROV" -q station --preset network -n 1 --virtual pi4,serial=100000005ca1ab1e
expect_rc 0 "PIPROV_INVENTORY=st2.cfg piprov station"
run "$PIPROV" inventory list --inventory st2.cfg
expect_in 5ca1ab1e "$out" "piprov station recorded in \$PIPROV_INVENTORY"

# piprov-node: --root before or after the command (after was refused), and $PIPROV_ROOT.
root=$SYSROOTS/pi4b
for form in "--root $root status --json" "status --root $root --json" \
	"status --json --root=$root" "--json -q status --root $root"; do
	# shellcheck disable=SC2086
	run "$NODE" $form
	expect_rc 0 "piprov-node $form"
	expect_json "piprov-node $form"
done
node_json=$out
run env PIPROV_ROOT="$root" "$NODE" status --json
expect_rc 0 "PIPROV_ROOT=... piprov-node status"
checks=$((checks + 1))
[ "$out" = "$node_json" ] || fail "PIPROV_ROOT gives another board than --root"

# piprov-node report: --inventory anywhere, $PIPROV_INVENTORY.
run "$NODE" report --root "$root" --inventory node.cfg -q
expect_rc 0 "piprov-node report --inventory node.cfg"
run env PIPROV_INVENTORY=node2.cfg "$NODE" --root "$root" report
expect_rc 0 "PIPROV_INVENTORY=node2.cfg piprov-node report"
for f in node.cfg node2.cfg; do
	checks=$((checks + 1))
	grep -q "serial" "$f" 2>/dev/null || fail "piprov-node report did not write $f"
done

# --help / --version anywhere before the command; -v repeated; a usage error names the
# program and gives one line of hint.
for p in "$PIPROV" "$NODE"; do
	name=$(basename "$p")
	run "$p" -v --help
	expect_rc 0 "$name -v --help"
	expect_in "usage: $name" "$out" "$name --help"
	run "$p" -q --version
	expect_rc 0 "$name --version"
	expect_in "$name " "$out" "$name --version"
	run "$p" --bogus
	expect_rc 2 "$name --bogus"
	expect_in "$name: unrecognized option '--bogus'" "$err" "$name --bogus"
	expect_in "Try '$name --help'." "$err" "$name --bogus"
	run "$p" --inventory
	expect_rc 2 "$name --inventory (no FILE)"
	expect_in "$name: option '--inventory' requires an argument" "$err" "$name --inventory"
	run "$p" help
	expect_rc 0 "$name help"
	expect_in "usage: $name" "$out" "$name help"
done
finish
