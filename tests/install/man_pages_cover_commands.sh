#!/usr/bin/env bash
# Every program and every command of piprov's and piprov-node's tables has a man page in
# the install, `man -w` finds them there, every piprov page another page cites is
# installed, and each page renders without a groff/man warning.
. "$(dirname "$0")/lib.sh"
command -v man >/dev/null || skip "man (man-db) is not installed"
mandir=$PV_STAGE$PV_PREFIX/share/man
want=(piprov piprov-node)
cmds=$(program_commands "$PV_BUILD/bin/piprov")
[ -n "$cmds" ] || fail "no commands in 'piprov --help'"
for cmd in $cmds; do want+=("piprov-$cmd"); done
for cmd in $(program_commands "$PV_BUILD/bin/piprov-node"); do
	# piprov-node(8) documents its commands (".B status" in its synopsis, a section
	# each); a command missing there needs a page of its own.
	grep -qE "^\.(B|SS) +\"?$cmd\b" "$mandir/man8/piprov-node.8" ||
		want+=("piprov-node-$cmd")
done
for page in "${want[@]}"; do
	found=$(MANPATH= man -M "$mandir" -w "$page" 2>/dev/null) ||
		fail "no man page '$page' in the install ($mandir)"
	case "$found" in "$mandir"/*) ;; *) fail "man -w $page found $found, not the install's" ;; esac
done
pages=$(find "$mandir" -type f -name 'piprov*.[1-8]')
for page in $pages; do
	warnings=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null)
	[ -z "$warnings" ] || fail "${page#"$mandir/"} renders with warnings: $warnings"
	# .BR name (N) and \fBname\fR(N) citations of piprov pages
	for ref in $(sed -n 's/^\.BR \(piprov[a-z0-9-]*\) (\([1-8]\)).*/\1.\2/p;
		s/.*\\fB\(piprov[a-z0-9-]*\)\\fR(\([1-8]\)).*/\1.\2/p' "$page"); do
		[ -f "$mandir/man${ref##*.}/$ref" ] ||
			fail "${page#"$mandir/"} cites ${ref%.*}(${ref##*.}), which is not installed"
	done
done
echo "${#want[@]} pages for the programs and commands; $(echo "$pages" | wc -w) installed" \
	"pages render cleanly and cite only installed pages"
