#!/usr/bin/env bash
# The completion list (completion/commands) and the programs agree, both ways:
# - the commands of piprov's and piprov-node's tables (their --help) are exactly the words
#   completed after the program name;
# - every completed subcommand or export format is accepted by the program (its message
#   differs from the one for a word it does not know);
# - every subcommand (and export format) a command's help names is completed.
. "$(dirname "$0")/lib.sh"
bin=$PV_BUILD/bin
table=$(completion_table)
[ -n "$table" ] || fail "no completion table in the installed bash completion"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
: >"$tmp/empty.cfg"
words_of() { sed -n "s/^$1|//p" <<<"$table"; }

# What PROGRAM ARGS... says (stdout and stderr), bounded in time, in an empty folder.
say() {
	(cd "$tmp" && PIPROV_INVENTORY=$tmp/empty.cfg timeout 20 "$bin/$@" </dev/null 2>&1) || true
}

# 1. The tables.
for prog in piprov piprov-node; do
	have=$(words_sorted "$(words_of "$prog")" | grep -vx help)
	want=$(program_commands "$bin/$prog" | sort -u)
	[ "$have" = "$want" ] || fail "$prog: completion offers [$(echo $have)]," \
		"its command table has [$(echo $want)]"
done

# 2. Every completed word below a command is one the program accepts.
while IFS='|' read -r key words; do
	read -r prog path <<<"$key"
	[ -n "$path" ] && [ "${path%% *}" != help ] || continue
	# shellcheck disable=SC2086 # path is a list of words
	base=$(say $prog $path zz-no-such-word --zz-no-such-option)
	for word in $words; do
		got=$(say $prog $path "$word" --zz-no-such-option)
		if [ "$got" = "${base//zz-no-such-word/$word}" ]; then
			# An option error can come first for both: ask without the bad option.
			base2=$(say $prog $path zz-no-such-word -o "$tmp/out")
			got=$(say $prog $path "$word" -o "$tmp/out")
			[ "$got" != "${base2//zz-no-such-word/$word}" ] ||
				fail "'$prog $path $word' is completed but $prog does not know it: $got"
		fi
	done
done <<<"$table"

# 3. Every subcommand a command's help names is completed.
for cmd in $(program_commands "$bin/piprov"); do
	help=$(say piprov "$cmd" --help)
	named=$(sed -nE "s/^(usage:)? +piprov $cmd ([a-z][a-z0-9-]*)( .*)?$/\2/p;
		s/^  ([a-z][a-z0-9-]*)( +[A-Z[-].*)?$/\1/p" <<<"$help" | sort -u)
	have=$(words_sorted "$(words_of "piprov $cmd")")
	missing=$(comm -23 <(echo "$named" | sed '/^$/d') <(echo "$have" | sed '/^$/d'))
	[ -z "$missing" ] || fail "'piprov $cmd --help' names [$(echo $missing)], not completed"
	# Formats ("FORMAT: a b c") of a subcommand
	formats=$(sed -n 's/^ *FORMAT: //p' <<<"$help")
	if [ -n "$formats" ]; then
		sub=$(words_of "piprov $cmd" | tr ' ' '\n' | while read -r s; do
			[ -n "$(words_of "piprov $cmd $s")" ] && echo "$s"; done)
		[ -n "$sub" ] || fail "'piprov $cmd --help' lists FORMATs, no subcommand completes them"
		missing=$(comm -23 <(words_sorted "$formats") <(words_sorted "$(words_of "piprov $cmd $sub")"))
		[ -z "$missing" ] || fail "formats [$(echo $missing)] of piprov $cmd $sub not completed"
	fi
done
echo "completion list agrees with piprov and piprov-node ($(wc -l <<<"$table") positions)"
