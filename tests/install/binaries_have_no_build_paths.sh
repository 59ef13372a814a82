#!/usr/bin/env bash
# Nothing of the source or build tree is compiled into what is installed (programs, the
# static library): such paths break relocation and reproducible builds.
. "$(dirname "$0")/lib.sh"
# Sanitizer metadata keeps source paths whatever -ffile-prefix-map says; installed (and
# packaged) binaries are never sanitized, and the plain build runs this check.
[ "${PV_SANITIZED:-0}" = 0 ] ||
	skip "sanitized build: ASan/UBSan metadata names source files; checked in the unsanitized build"
checked=0
while IFS= read -r -d '' file; do
	case "$(head -c 4 "$file" | od -An -c | tr -d ' ')" in
	177ELF | '!<ar') ;;
	*) continue ;;
	esac
	hit=$(strings -a "$file" | grep -F -m 3 -e "$PV_SOURCE" -e "$PV_BUILD" \
		-e "$(realpath "$PV_SOURCE")" -e "$(realpath "$PV_BUILD")" || true)
	[ -z "$hit" ] || fail "${file#"$PV_STAGE"} names the source or build tree: $hit"
	checked=$((checked + 1))
done < <(find "$PV_STAGE" -type f -print0)
[ "$checked" -ge 2 ] || fail "only $checked binaries in the staged install"
echo "$checked installed binaries, none names $PV_SOURCE or $PV_BUILD"
