#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Runs every unit test under valgrind memcheck and prints TAP, one line per
# program: not ok on any memory error, any definite or indirect leak, or a
# failing test. Usage: tests/valgrind.sh [PROGRAM...]
# Env: top_builddir (where tests/test_* are built; default: the source tree).
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
command -v valgrind >/dev/null 2>&1 || { echo "1..0 # SKIP valgrind not installed"; exit 0; }

if [ $# -gt 0 ]; then
	progs=("$@")
else
	progs=()
	for src in "$top_srcdir"/tests/test_*.c; do
		progs+=("$top_builddir/tests/$(basename "$src" .c)")
	done
fi
logdir=$(mktemp -d /tmp/gtpud-valgrind.XXXXXX)
trap 'rm -rf "$logdir"' EXIT
supp=()
[ -f "$top_srcdir/tests/valgrind.supp" ] && supp=(--suppressions="$top_srcdir/tests/valgrind.supp")

n=0
failed=0
echo "1..${#progs[@]}"
for p in "${progs[@]}"; do
	n=$((n + 1))
	name=$(basename "$p")
	if [ ! -x "$p" ]; then
		echo "ok $n - $name # SKIP not built"
		continue
	fi
	log=$logdir/$name.log
	# cmocka prints its own TAP; keep it in the log, not in ours.
	CMOCKA_MESSAGE_OUTPUT=TAP valgrind -q --tool=memcheck --error-exitcode=99 \
		--leak-check=full --show-leak-kinds=definite,indirect \
		--errors-for-leak-kinds=definite,indirect --track-origins=yes \
		"${supp[@]}" --log-file="$log.vg" "$p" >"$log" 2>&1
	rc=$?
	if [ "$rc" = 0 ]; then
		echo "ok $n - $name: no memory errors, no leaks, tests pass"
	else
		failed=$((failed + 1))
		if [ "$rc" = 99 ]; then
			echo "not ok $n - $name: valgrind reports errors or leaks"
		else
			echo "not ok $n - $name: exit status $rc"
		fi
		sed 's/^/# /' "$log.vg" | head -60
		grep '^not ok' "$log" | sed 's/^/# /' | head -20
	fi
done
[ "$failed" = 0 ]
