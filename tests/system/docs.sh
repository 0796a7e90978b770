#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The man pages against the code, both ways (tests/doc_check.py): options,
# configuration keys, gtpuctl commands and columns, JSON keys, drop reasons,
# metrics, events and log lines, each taken from the code, each documented.
. "$(dirname "$0")/lib.sh"
[ -x "$PY" ] || skip_all "$PY not found"
"$PY" "$top_srcdir/tests/doc_check.py" "$top_srcdir"
