#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Codec benchmark: ns per gtpu_parse and per gtpu_relay_rewrite (median of
# RUNS runs over a batch of G-PDUs with a PDU Session Container), and the
# instructions callgrind counts for one parse + rewrite of such a G-PDU.
# Usage: tests/bench/codec.sh [RUNS]   (CC and CFLAGS are honoured)
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
runs=${1:-5}
cc=${CC:-gcc}
cflags=${CFLAGS:--O2}
work=$(mktemp -d /tmp/gtpud-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT

$cc -std=gnu11 $cflags -Wall -Wextra -I"$top/src" "$top/tests/bench/codec.c" \
	"$top/src/gtpu.c" -o "$work/codec"

median() { sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
for i in $(seq "$runs"); do "$work/codec"; done >"$work/times"
parse_ns=$(cut -d' ' -f1 "$work/times" | median)
rewrite_ns=$(cut -d' ' -f2 "$work/times" | median)

ipp="n/a (valgrind not installed)"
parse_i="n/a" rewrite_i="n/a"
if command -v valgrind >/dev/null; then
	n=100000
	valgrind --tool=callgrind --toggle-collect=one_packet \
		--callgrind-out-file="$work/cg.out" "$work/codec" callgrind $n >/dev/null 2>&1
	# Inclusive counts of one_packet and of the two codec functions.
	callgrind_annotate "$work/cg.out" >"$work/cg.txt" 2>/dev/null
	fn() { awk -v f="$1" '$0 ~ ":" f " " {gsub(",", "", $1); print $1}' "$work/cg.txt" | head -1; }
	total=$(awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}' "$work/cg.txt")
	p=$(fn gtpu_parse); r=$(fn gtpu_relay_rewrite)
	parse_i=$(( ${p:-0} / n )); rewrite_i=$(( ${r:-0} / n ))
	ipp="$(( parse_i + rewrite_i )) (with the benchmark's call wrapper: $(( total / n )))"
fi

printf '%-44s %s\n' "codec benchmark ($cc $cflags, median of $runs)" ""
printf '%-44s %s\n' "ns per gtpu_parse (G-PDU + PDU Session)" "$parse_ns"
printf '%-44s %s\n' "ns per gtpu_relay_rewrite" "$rewrite_ns"
printf '%-44s %s\n' "callgrind instr. gtpu_parse" "$parse_i"
printf '%-44s %s\n' "callgrind instr. gtpu_relay_rewrite" "$rewrite_i"
printf '%-44s %s\n' "callgrind instr. per packet (parse+rewrite)" "$ipp"
