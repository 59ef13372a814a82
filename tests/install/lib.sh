# Shared by the install tests (sourced). Each test gets the build and source folders as
# PV_BUILD / PV_SOURCE and the staged install (stage.sh) in PV_STAGE with prefix PV_PREFIX.
set -euo pipefail

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

skip() {
	echo "SKIPPED: $*" >&2
	exit 77
}

# Run "$@" in a mount namespace in which the source and build trees are empty folders, so
# a program that reached into them would find nothing. Root uses its own namespace;
# others a user namespace (skipped, saying so, where neither is allowed; CI is root).
without_trees() {
	local ns=(unshare --mount --propagation private)
	[ "$(id -u)" -eq 0 ] || ns=(unshare --map-root-user --mount --propagation private)
	"${ns[@]}" true 2>/dev/null || skip "no mount namespace (unshare) to hide the source tree in"
	"${ns[@]}" sh -c 'mount -t tmpfs pv-hidden "$1" && mount -t tmpfs pv-hidden "$2" &&
		[ -z "$(ls -A "$1")" ] && [ -z "$(ls -A "$2")" ] && shift 2 && exec "$@"' \
		sh "$PV_BUILD" "$PV_SOURCE" "$@"
}

# The commands of a program's table, as its --help lists them ("commands:" up to the next
# blank line, first word of each line), without "help" itself.
program_commands() {
	"$1" --help | sed -n '/^commands:/,/^$/{/^  [a-z]/{s/^  \([a-z][a-z0-9-]*\).*/\1/p}}' |
		grep -vx help
}

# The positions of the installed bash completion, "KEY|WORDS" per line (its case arms:
# what both shells offer, generated from completion/commands).
completion_table() {
	sed -n 's/^\t"\(.*\)") echo "\(.*\)" ;;$/\1|\2/p' \
		"$PV_STAGE$PV_PREFIX/share/bash-completion/completions/piprov"
}

# Sorted words, one per line, of a space-separated list.
words_sorted() {
	tr ' ' '\n' <<<"$*" | sed '/^$/d' | sort -u
}
