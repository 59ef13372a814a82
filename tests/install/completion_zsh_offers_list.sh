#!/usr/bin/env bash
# The installed zsh completion: zsh itself completes lines through compinit (driven on a
# pseudo-terminal with zpty), and, with compadd and _files replaced by recorders, the
# function offers exactly each position's words of the list.
. "$(dirname "$0")/lib.sh"
command -v zsh >/dev/null || skip "zsh is not installed"
root=$PV_STAGE$PV_PREFIX
funcs=$root/share/zsh/vendor-completions
[ -f "$funcs/_piprov" ] && [ -f "$funcs/_piprov-node" ] || fail "no _piprov/_piprov-node in $funcs"
table=$(completion_table)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export PATH=$root/bin:$root/sbin:$PATH

# Each position, the function with recorders (compadd filters by PREFIX itself).
while IFS='|' read -r key words; do
	got=$(zsh -f -c '
		compadd() { [[ $1 == -a ]] && print -rl -- "${(P@)2}" || print -rl -- "$@" }
		_files() { print -r -- "<files>" }
		words=(${=1} ""); CURRENT=$#words; PREFIX=
		source "$2/_${words[1]}"' zsh "$key" "$funcs" | sort -u)
	[ "$got" = "$(words_sorted "$words")" ] ||
		fail "zsh [$key <TAB>] offers [$(echo $got)], expected [$words]"
done <<<"$table"

# Real completion in an interactive zsh: each line is typed with a TAB, then the edited
# line is printed.
cat >"$tmp/drive.zsh" <<'ZSH'
zmodload zsh/zpty
zpty -b z zsh -f -i
zpty -w z "PS1='> '; fpath=($1 \$fpath); autoload -Uz compinit; compinit -u -D; print REA''DY"
zpty -r z out '*READY*' || exit 3
shift
for line in "$@"; do
	zpty -w -n z "$line"$'\t'
	sleep 0.5
	# Cut the edited line and print it: "LINE: <what completion made of it>".
	zpty -w -n z $'\C-a\C-kprint -r -- "LI""NE: "\C-y\n'
	zpty -r z out '*LINE: *'$'\n' || exit 4
	print -r -- "${${out##*LINE: }%%[$'\r\n']*}"
done
zpty -d z
ZSH
mapfile -t got < <(timeout 60 zsh -f "$tmp/drive.zsh" "$funcs" 'piprov inventory ex' \
	'piprov --inventory f.cfg uart di' 'piprov eeprom set img.bin --prese' \
	'piprov-node prov' 'piprov usb flash --preset netw')
# (The space zsh adds after a completed word is a removable suffix: the cut drops it.)
want=('piprov inventory export' 'piprov --inventory f.cfg uart diagnose' \
	'piprov eeprom set img.bin --preset' 'piprov-node provision' \
	'piprov usb flash --preset network')
for i in "${!want[@]}"; do
	[ "${got[i]:-}" = "${want[i]}" ] ||
		fail "zsh completed '${want[i]% *} ...' to '${got[i]:-<nothing>}', expected '${want[i]}'"
done
echo "zsh: $(wc -l <<<"$table") positions offered as listed; ${#want[@]} lines completed by zsh"
