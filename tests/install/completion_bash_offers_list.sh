#!/usr/bin/env bash
# The installed bash completion, run by bash as `complete -F` would: after every position
# of the list it offers exactly that position's words (also behind global options and
# their arguments), options come from the program's help, preset names from the installed
# firmware-templates, and an argument position falls back to file names.
. "$(dirname "$0")/lib.sh"
root=$PV_STAGE$PV_PREFIX
export PATH=$root/bin:$root/sbin:$PATH
table=$(completion_table)
[ -n "$table" ] || fail "no completion table in the installed bash completion"
# shellcheck source=/dev/null
. "$root/share/bash-completion/completions/piprov"
# shellcheck source=/dev/null
. "$root/share/bash-completion/completions/piprov-node"
complete -p piprov | grep -q -- '-F _piprov' || fail "piprov's completion is not registered"
complete -p piprov-node | grep -q -- '-F _piprov' || fail "piprov-node's completion is not registered"

offered() {
	COMP_WORDS=("$@")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMPREPLY=()
	_piprov
	words_sorted "${COMPREPLY[*]}"
}
expect() {
	local want=$1
	shift
	local got
	got=$(offered "$@")
	[ "$got" = "$(words_sorted "$want")" ] ||
		fail "[$*<TAB>] offers [$(echo $got)], expected [$want]"
}

while IFS='|' read -r key words; do
	# shellcheck disable=SC2086
	expect "$words" $key ""
done <<<"$table"
expect "export" piprov --inventory f.cfg inventory ex
expect "export" piprov -q inventory --json ex
expect "" piprov inventory export dnsmasq ""
expect "" piprov eeprom info ""
expect "$(cd "$root/share/piprov/firmware-templates" && ls -- */*.conf | sed 's|.*/||;s|\.conf$||' | sort -u | tr '\n' ' ')" \
	piprov usb flash --preset ""
expect "network" piprov eeprom set img.bin --preset net
expect "--preset" piprov eeprom set img.bin --pre
expect "--json" piprov --js
expect "--root" piprov-node status --ro
complete -p piprov | grep -q -- '-o default' || fail "no file-name fallback (-o default)"
echo "bash: $(wc -l <<<"$table") positions and 9 behaviours offered as listed"
