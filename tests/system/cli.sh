#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Command-line behaviour of gtpud and gtpuctl: version, help, usage errors.
. "$(dirname "$0")/lib.sh"

check "gtpud -V prints the version" sh -c "$GTPUD -V | grep -q '^gtpud [0-9]'"
check "gtpud -h exits 0" "$GTPUD" -h
"$GTPUD" --no-such-option >/dev/null 2>&1; check "gtpud with a bad option exits 2" test $? = 2
check "gtpuctl -V prints the version" sh -c "$GTPUCTL -V | grep -q '^gtpuctl [0-9]'"
done_testing
