# Helpers of the cli_* tests: run a program, check its exit status and output.
# Usage: source lib.sh PIPROV PIPROV_NODE SYSROOTS
set -u
PIPROV=$1
NODE=$2
SYSROOTS=$3
WORK=$(mktemp -d "${TMPDIR:-/tmp}/piprov-cli-test.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
unset PIPROV_INVENTORY PIPROV_ROOT
failures=0
checks=0
rc=0 out='' err=''

# run CMD...: runs it (stdin from /dev/null, at most 20 s) and sets $rc, $out, $err.
# With FULL=1 in the environment its stdout is /dev/full.
run() {
	local stdout=$WORK/.out
	[ "${FULL:-0}" = 1 ] && stdout=/dev/full
	: >"$WORK/.out"
	rc=0
	timeout 20 "$@" </dev/null >"$stdout" 2>"$WORK/.err" || rc=$?
	out=$(<"$WORK/.out")
	err=$(<"$WORK/.err")
}

fail() {
	failures=$((failures + 1))
	printf 'FAIL: %s\n' "$*" >&2
	printf '  command exit %s\n  stdout: %s\n  stderr: %s\n' "$rc" "${out:0:2000}" \
		"${err:0:2000}" >&2
}

# expect_rc N WHAT: the last run exited N.
expect_rc() {
	checks=$((checks + 1))
	[ "$rc" -eq "$1" ] || fail "$2: exit $rc, want $1"
}

# expect_in TEXT HAYSTACK WHAT
expect_in() {
	checks=$((checks + 1))
	case "$2" in *"$1"*) ;; *) fail "$3: lacks '$1'" ;; esac
}

expect_not_in() {
	checks=$((checks + 1))
	case "$2" in *"$1"*) fail "$3: has '$1'" ;; *) ;; esac
}

# expect_json WHAT: the last stdout is JSON (one document, or one per line).
expect_json() {
	checks=$((checks + 1))
	[ -n "$out" ] && jq -e . "$WORK/.out" >/dev/null 2>&1 || fail "$1: stdout is not JSON"
}

finish() {
	echo "$checks checks, $failures failed"
	[ "$failures" -eq 0 ]
	exit
}
