#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The corpus of broken files: gtpud -t on tests/conf_errors/NAME.conf must
# exit 1 and print exactly NAME.expect (a syntax error with its line's text
# and a hint, a duplicate named, a number as written, an address refused
# with the reason). A new case is a pair of files; nothing to add here.
. "$(dirname "$0")/lib.sh"

[ -x "$GTPUD" ] || skip_all "$GTPUD not built"
dir=$top_srcdir/tests/conf_errors
n=0
for f in "$dir"/*.conf; do
	name=$(basename "$f" .conf)
	n=$((n + 1))
	if [ ! -f "$dir/$name.expect" ]; then
		not_ok "$name: has no $name.expect"
		continue
	fi
	# Run from the corpus directory so that messages name NAME.conf.
	(cd "$dir" && "$GTPUD" -t -c "$name.conf") >"$T_DIR/out" 2>"$T_DIR/err"
	rc=$?
	if [ "$rc" = 1 ] && cmp -s "$T_DIR/err" "$dir/$name.expect"; then
		ok "$name: exit 1, $(head -c 60 "$dir/$name.expect" | tr '\n' ' ')..."
	else
		not_ok "$name: exit 1 and the expected message"
		diag "exit $rc, diff (- expected, + got):"
		diag "$(diff "$dir/$name.expect" "$T_DIR/err")"
	fi
done
[ "$n" -ge 20 ] || not_ok "the corpus has $n files, expected at least 20"
done_testing
