#!/usr/bin/env bash
# One test per convention over EVERY command of piprov and piprov-node (docs/HACKING.md,
# "Command-line conventions"), driven by the commands' own tables (`help --commands`) and
# the rows of commands.sh. For each command:
#   help         --help after the command = `help COMMAND`, exit 0, a usage line
#   usage        an unknown option: exit 2, "<program> <command>: unrecognized option ..."
#                and one line "Try '<program> <command> --help'." -- before any waiting
#   exit 0/1     the row's runs exit 0 and 1; a failure names the program (or FILE:LINE:)
#   position     global options (-q, --json, --inventory, --root) before the command and
#                after its arguments give the same result; -q leaves stderr empty on success
#   environment  $PIPROV_INVENTORY / $PIPROV_ROOT stand in for the options, and matter
#   --json       valid JSON with the json flag, a usage error (2) without it
#   stdout       a success that prints, with stdout on /dev/full: exit 1, "cannot write to
#                standard output" (issue 15 item 3)
# Usage: conventions.sh PIPROV PIPROV_NODE SYSROOTS SOURCE_DIR [SHARD/SHARDS]
# With SHARD/SHARDS (1/4 ... 4/4) only every SHARDS-th row is run, starting at row SHARD, so
# ctest runs the rows in parallel within its timeout; every shard checks that each command
# has a row.
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"
SOURCE=$4
SHARD=${5:-1/1}
[[ $SHARD =~ ^([1-9][0-9]*)/([1-9][0-9]*)$ ]] && [ "${BASH_REMATCH[1]}" -le "${BASH_REMATCH[2]}" ] ||
	{ echo "conventions.sh: bad shard '$SHARD' (want N/M, 1 <= N <= M)"; exit 2; }
shard_index=${BASH_REMATCH[1]}
shard_count=${BASH_REMATCH[2]}
command -v jq >/dev/null || { echo "SKIP: jq not installed (scripts/deps/test-cli.txt)"; exit 77; }
[ -w /dev/full ] || { echo "SKIP: no /dev/full"; exit 77; }

# ---- the files the rows use ----
"$PIPROV" inventory add --inventory inv.orig --serial 10000000f8b73778 --mac dc:a6:32:b8:04:5c \
	--ip 10.0.0.5 --hostname node1 >/dev/null || { echo "setup: inventory add failed"; exit 1; }
"$PIPROV" eeprom synth 2711 -o img.bin >/dev/null &&
	"$PIPROV" -q eeprom set img.bin -o img2.bin BOOT_UART=1 >/dev/null &&
	"$PIPROV" eeprom digest img.bin -o img.sig >/dev/null || { echo "setup: eeprom failed"; exit 1; }
printf '[all]\nBOOT_ORDER=0xf21\n' >conf.txt
printf '[all]\nBOOT_ORDER=0xf96\n' >bad.conf
cp "$SOURCE/tests/unit/uart/logs/pi4-fallback-root.log" log.txt
mkdir -p bd roots tftp
printf 'not a real bootloader' >bd/bootcode4.bin
for b in pi4b pi3b pi3bplus; do cp -a "$SYSROOTS/$b" roots/; done

# ---- the rows ----
declare -A OK FAIL TRAITS
ROWS=()
row() { # PROGRAM "WORDS" "OK" "FAIL" TRAIT...
	local key="$1 $2"
	ROWS+=("$key")
	OK[$key]=$3
	FAIL[$key]=$4
	shift 4
	TRAITS[$key]=" $* "
}
source "$HERE/commands.sh"

has_trait() { [[ ${TRAITS[$1]} == *" $2 "* ]]; }
trait_value() { # KEY NAME: the value of NAME=VALUE, "" when absent
	local t
	for t in ${TRAITS[$1]}; do [[ $t == "$2="* ]] && { echo "${t#*=}"; return; }; done
}

# ---- every command has a row, every row a command ----
declare -A FLAGS
listed=()
for prog in "$PIPROV" "$NODE"; do
	name=$(basename "$prog")
	while IFS=$'\t' read -r words flags; do
		[ -n "$words" ] || continue
		FLAGS["$name $words"]=" $flags "
		listed+=("$name $words")
	done < <("$prog" help --commands)
done
checks=$((checks + 1))
[ "${#listed[@]}" -ge 20 ] || fail "help --commands lists only ${#listed[@]} commands"
for key in "${listed[@]}"; do
	checks=$((checks + 1))
	[ -n "${TRAITS[$key]+x}" ] || fail "'$key' has no row in tests/unit/cli/commands.sh (add one)"
done
for key in "${ROWS[@]}"; do
	checks=$((checks + 1))
	[ -n "${FLAGS[$key]+x}" ] || fail "commands.sh has a row for '$key', which help --commands does not list"
done

# ---- helpers ----
program_of() { [[ $1 == piprov-node* ]] && echo "$NODE" || echo "$PIPROV"; }

# invoke KEY WHERE ARGS [PRE]: run the row's command ($prog $words) with the row's context
# ($row_inventory, $row_root). WHERE says where the context options go: before (before
# the command), after (after ARGS), env (environment), none (no context at all); PRE:
# options put before everything. Restores inv.cfg first; sets rc/out/err like run.
invoke() {
	local key=$1 where=$2 args=$3 pre=${4:-} ctx=() env=()
	if [ -n "$row_inventory" ]; then
		cp inv.orig inv.cfg
		rm -rf piprov-inventory.cfg tftp
		mkdir tftp
		ctx+=(--inventory inv.cfg)
		env+=(PIPROV_INVENTORY=inv.cfg)
	fi
	if [ -n "$row_root" ]; then
		ctx+=(--root "roots/$row_root")
		env+=(PIPROV_ROOT="roots/$row_root")
	fi
	# shellcheck disable=SC2086
	case $where in
	before) run "$prog" $pre "${ctx[@]}" $words $args ;;
	after) run "$prog" $pre $words $args "${ctx[@]}" ;;
	env) run env "${env[@]}" "$prog" $pre $words $args ;;
	none) run "$prog" $pre $words $args ;;
	esac
}

# same_result WHAT RC OUT: the last run gave this exit status and (unless volatile) stdout.
same_result() {
	checks=$((checks + 1))
	if [ "$rc" != "$2" ]; then
		fail "$1: exit $rc, the first form exited $2"
	elif ! has_trait "$key" volatile && [ "$out" != "$3" ]; then
		fail "$1: stdout differs from the first form"
	fi
}

# names_program WHAT: every line of stderr starts with the program's name, or is a
# FILE:LINE: diagnostic; there is at least one line.
names_program() {
	local line name=$1 what=$2 bad=""
	checks=$((checks + 1))
	[ -n "$err" ] || { fail "$what: nothing on stderr"; return; }
	while IFS= read -r line; do
		case $line in
		"$name:"* | "$name "*) ;;
		*) [[ $line =~ ^[^\ :]+:[0-9]+:\  ]] || bad=$line ;;
		esac
	done <<<"$err"
	[ -z "$bad" ] || fail "$what: a stderr line does not name the program: '$bad'"
}

# ---- the conventions, command by command (this shard's rows) ----
row_index=0
for key in "${ROWS[@]}"; do
	row_index=$((row_index + 1))
	[ $(((row_index - shard_index) % shard_count)) -eq 0 ] || continue
	[ -n "${FLAGS[$key]+x}" ] || continue
	row_start=$SECONDS
	prog=$(program_of "$key")
	name=${prog##*/}
	words=${key#* }
	row_inventory=""
	has_trait "$key" inventory && row_inventory=1
	row_root=$(trait_value "$key" root)
	ok=${OK[$key]}
	bad=${FAIL[$key]}
	[ "$ok" != "-" ] || { checks=$((checks + 1)); [ -n "$(trait_value "$key" nook)" ] ||
		fail "$key: no success run and no nook=WHY"; }
	[ "$bad" != "-" ] || { checks=$((checks + 1)); [ -n "$(trait_value "$key" nofail)" ] ||
		fail "$key: no failure run and no nofail=WHY"; }

	# help: --help after the command words is `help WORDS`.
	# shellcheck disable=SC2086
	run "$prog" $words --help
	expect_rc 0 "$key --help"
	expect_in "usage:" "$out" "$key --help"
	help_out=$out
	# shellcheck disable=SC2086
	run "$prog" help $words
	expect_rc 0 "$name help $words"
	checks=$((checks + 1))
	[ "$out" = "$help_out" ] || fail "'$name help $words' differs from '$key --help'"

	# usage: an unknown option, before anything waits.
	# shellcheck disable=SC2086
	start=$EPOCHREALTIME
	invoke "$key" before "--no-such-option"
	elapsed_ms=$(((${EPOCHREALTIME/./} - ${start/./}) / 1000))
	expect_rc 2 "$key --no-such-option"
	first=${err%%$'\n'*}
	checks=$((checks + 1))
	[[ $first =~ ^"$key: unrecognized"( or incomplete)?" option '--no-such-option'"$ ]] ||
		fail "$key --no-such-option: first line '$first'"
	checks=$((checks + 1))
	[ "$err" = "$first"$'\n'"Try '$key --help'." ] ||
		fail "$key --no-such-option: not one line of hint after the message"
	if [[ ${FLAGS[$key]} == *" waits "* ]]; then
		expect_not_in "waiting for" "$err" "$key --no-such-option (a usage error comes first)"
		checks=$((checks + 1))
		[ "$elapsed_ms" -lt 3000 ] || fail "$key --no-such-option took $elapsed_ms ms"
	fi

	# exit 1: the failure names the program.
	if [ "$bad" != "-" ]; then
		invoke "$key" before "$bad"
		expect_rc 1 "$key $bad"
		names_program "$name" "$key $bad"
	fi

	[ "$ok" != "-" ] || continue
	# exit 0, and the context options in every position give the same result.
	invoke "$key" before "$ok"
	expect_rc 0 "$key $ok"
	ok_out=$out
	ok_rc=$rc
	if has_trait "$key" writes; then
		checks=$((checks + 1))
		cmp -s inv.cfg inv.orig && fail "$key $ok: inv.cfg unchanged (trait writes)"
	fi
	invoke "$key" after "$ok"
	same_result "$key $ok (context options after the args)" "$ok_rc" "$ok_out"
	if [ -n "$row_inventory$row_root" ]; then
		invoke "$key" env "$ok"
		same_result "$key $ok (\$PIPROV_INVENTORY/\$PIPROV_ROOT)" "$ok_rc" "$ok_out"
		if has_trait "$key" writes; then
			checks=$((checks + 1))
			cmp -s inv.cfg inv.orig && fail "$key $ok: \$PIPROV_INVENTORY=inv.cfg not used"
		fi
		# Without option or variable the result must differ: the context mattered.
		invoke "$key" none "$ok"
		checks=$((checks + 1))
		if has_trait "$key" writes; then
			cmp -s inv.cfg inv.orig || fail "$key $ok: wrote inv.cfg without being told to"
		elif [ "$rc" = "$ok_rc" ] && [ "$out" = "$ok_out" ]; then
			fail "$key $ok: the same result without --inventory/--root (test proves nothing)"
		fi
	fi

	# -q (errors only) before the command and after the args: the same result, and
	# nothing on stderr.
	invoke "$key" before "$ok" -q
	same_result "$key: -q before the command" "$ok_rc" "$ok_out"
	checks=$((checks + 1))
	[ -z "$err" ] || fail "$name -q $words $ok: stderr not empty: ${err:0:300}"
	invoke "$key" before "$ok -q"
	same_result "$key $ok -q" "$ok_rc" "$ok_out"
	checks=$((checks + 1))
	[ -z "$err" ] || fail "$key $ok -q: stderr not empty: ${err:0:300}"

	# --json: valid with the flag (before and after give the same), refused without it.
	jargs=$(trait_value "$key" json)
	jargs=${jargs:-$ok}
	jargs=${jargs//,/ }
	if [[ ${FLAGS[$key]} == *" json "* ]]; then
		invoke "$key" before "--json $jargs"
		expect_rc 0 "$key --json $jargs"
		expect_json "$key --json $jargs"
		json_rc=$rc
		json_out=$out
		invoke "$key" before "$jargs --json"
		same_result "$key $jargs --json (after)" "$json_rc" "$json_out"
		expect_json "$key $jargs --json"
	else
		invoke "$key" before "$ok --json"
		expect_rc 2 "$key --json (the command has no JSON output)"
		expect_in "--json is not an option of this command" "$err" "$key --json"
	fi

	# stdout on a full disk: exit 1 and the reason, for a success that prints.
	if [ -n "$ok_out" ]; then
		FULL=1 invoke "$key" before "$ok"
		expect_rc 1 "$key $ok >/dev/full"
		expect_in "$name: error: cannot write to standard output" "$err" "$key $ok >/dev/full"
	fi
	echo "$key: $((SECONDS - row_start)) s"
done
finish
