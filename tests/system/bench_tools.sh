#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The relay bench's own tools on loopback: they build warning-free; the
# generator's slices reach each destination in turn and its per-destination
# counts match what the sinks got; a sink with -S sorts what it gets by
# source address; the bare forwarder rewrites every TEID and loses nothing.
. "$(dirname "$0")/lib.sh"
need_cmd "${CC:-cc}"

b=$T_DIR/bench
mkdir -p "$b"
for p in gen sink fwd; do
	check "$p builds with -Wall -Wextra -Werror" \
		"${CC:-cc}" -std=gnu11 -O2 -Wall -Wextra -Werror -o "$b/$p" "$top_srcdir/tests/bench/$p.c"
done
[ -x "$b/gen" ] && [ -x "$b/sink" ] && [ -x "$b/fwd" ] || { diag "tools missing"; done_testing; }

# Ports a few thousand apart per process: tests may run side by side.
base=$((20000 + ($$ % 4000) * 8))

# start_sink NAME PORT [options]: a sink on 127.0.0.1:PORT, output in $b/NAME.out.
start_sink() {
	local n=$1 port=$2 i=0
	shift 2
	"$b/sink" -a 127.0.0.1 -p "$port" "$@" >"$b/$n.out" &
	T_PIDS="$T_PIDS $!"
	eval "sink_$n=$!"
	until grep -q ready "$b/$n.out" 2>/dev/null; do
		sleep 0.01
		[ $((i += 1)) -lt 300 ] || { diag "sink $n did not start"; return 1; }
	done
}
# stop_sink NAME: SIGINT, wait for its JSON.
stop_sink() {
	local p
	eval "p=\$sink_$1"
	kill -INT "$p"
	wait "$p" 2>/dev/null
}
# js FILE EXPR: EXPR over the JSON lines of FILE, as the list l.
js() {
	$PY -c 'import json, sys
l = [json.loads(x) for x in open(sys.argv[1]) if x.startswith("{")]
print(eval(sys.argv[2]))' "$@"
}

# 1. Two destinations in turn, 2 batches of 16 at a time.
start_sink a $base && start_sink b $((base + 1)) || { not_ok "sinks start"; done_testing; }
"$b/gen" -d 127.0.0.1:$base -d 127.0.0.1:$((base + 1)) -i 2 -B 16 -r 20000 -l 64 -t 0.5 >"$b/gen1.out"
sleep 0.2
stop_sink a; stop_sink b
diag "gen: $(tail -1 "$b/gen1.out")"
diag "sink a: $(tail -1 "$b/a.out")"
diag "sink b: $(tail -1 "$b/b.out")"
sent=$(js "$b/gen1.out" 'l[-1]["sent"]')
to0=$(js "$b/gen1.out" 'l[-1]["sent_to"][0]')
to1=$(js "$b/gen1.out" 'l[-1]["sent_to"][1]')
check "the generator sent to both destinations, all of it counted ($to0 + $to1 = $sent)" \
	test "$to0" -gt 0 -a "$to1" -gt 0 -a $((to0 + to1)) = "$sent"
check "in turn: the two counts differ by at most one slice ($to0, $to1)" \
	test $((to0 > to1 ? to0 - to1 : to1 - to0)) -le 32
check "each sink got what was sent to it, once, in order, TEIDs as sent" \
	test "$(js "$b/a.out" 'l[-1]["unique"]') $(js "$b/b.out" 'l[-1]["unique"]') $(js "$b/a.out" 'l[-1]["dup"] + l[-1]["reorder"] + l[-1]["teid_bad"] + l[-1]["bad"]') $(js "$b/b.out" 'l[-1]["dup"] + l[-1]["reorder"] + l[-1]["teid_bad"] + l[-1]["bad"]')" = "$to0 $to1 0 0"

# 2. One sink sorting by source address: two generators from 127.0.0.2 and .3.
start_sink s $((base + 2)) -S || { not_ok "sink -S starts"; done_testing; }
"$b/gen" -s 127.0.0.2:$((base + 3)) -d 127.0.0.1:$((base + 2)) -r 10000 -l 64 -t 0.2 >"$b/gen2.out"
"$b/gen" -s 127.0.0.3:$((base + 4)) -d 127.0.0.1:$((base + 2)) -r 10000 -l 64 -t 0.3 >"$b/gen3.out"
sleep 0.2
stop_sink s
diag "sink -S: $(grep -c '^{' "$b/s.out") lines"
check "sink -S: one line per source with what each generator sent" \
	test "$(js "$b/s.out" 'sorted((x["src"], x["unique"]) for x in l)')" = \
	"$(echo "[('127.0.0.2', $(js "$b/gen2.out" 'l[-1]["sent"]')), ('127.0.0.3', $(js "$b/gen3.out" 'l[-1]["sent"]'))]")"

# 3. The floor: generator -> fwd (TEID + 1000) -> sink checking the offset.
start_sink f $((base + 5)) -o 1000 || { not_ok "sink starts"; done_testing; }
"$b/fwd" -l 127.0.0.1:$((base + 6)) -d 127.0.0.1:$((base + 5)) -o 1000 >"$b/fwd.out" &
fp=$!
T_PIDS="$T_PIDS $fp"
sleep 0.2
"$b/gen" -d 127.0.0.1:$((base + 6)) -n 100 -r 20000 -l 64 -t 0.3 >"$b/gen4.out"
sleep 0.2
kill -TERM "$fp"; wait "$fp" 2>/dev/null
stop_sink f
diag "fwd: $(tail -1 "$b/fwd.out")"
check "fwd relayed every datagram with its TEID rewritten" \
	test "$(js "$b/f.out" '(l[-1]["unique"], l[-1]["teid_bad"], l[-1]["dup"])')" = \
	"($(js "$b/gen4.out" 'l[-1]["sent"]'), 0, 0)"
check "fwd counted as many as it got and sent" \
	test "$(js "$b/fwd.out" '(l[-1]["rx"], l[-1]["tx"], l[-1]["drops"])')" = \
	"($(js "$b/gen4.out" 'l[-1]["sent"]'), $(js "$b/gen4.out" 'l[-1]["sent"]'), 0)"
done_testing
