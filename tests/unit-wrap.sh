#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Runs a cmocka test program with TAP output. cmocka 1.1 reports a skipped
# test as "not ok N # SKIP", which TAP drivers count as a failure; TAP's
# form is "ok N # SKIP". The exit status is the program's.
CMOCKA_MESSAGE_OUTPUT=TAP
export CMOCKA_MESSAGE_OUTPUT
{ "$@"; echo "$?" >"${TMPDIR:-/tmp}/unit-wrap.$$"; } | sed -u 's/^not ok \([0-9]*\) # SKIP/ok \1 # SKIP/'
rc=$(cat "${TMPDIR:-/tmp}/unit-wrap.$$"); rm -f "${TMPDIR:-/tmp}/unit-wrap.$$"
exit "$rc"
