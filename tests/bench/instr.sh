#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Instructions per relayed G-PDU: gtpud under callgrind (the workers' code,
# dp_worker_main and what it calls: the receive, relay and send path in user
# space) relays N G-PDUs sent at a low rate by tests/bench/gen between
# namespaces gen -- dut -- sink. Prints the instructions divided by the
# G-PDUs gtpud forwarded. Needs root and valgrind.
# Usage: tests/bench/instr.sh [PACKETS] [GTPUD] [GTPUCTL]
# Env: INSTR_TUNNEL: more settings of the tunnel, e.g. "rate = 10000000000;"
set -eu
n=${1:-30000}
top=$(cd "$(dirname "$0")/../.." && pwd)
gtpud=${2:-${GTPUD:-$top/src/gtpud}}
gtpuctl=${3:-${GTPUCTL:-$top/src/gtpuctl}}
[ "$(id -u)" = 0 ] || { echo "instr: needs root; skipped" >&2; exit 77; }
command -v valgrind >/dev/null || { echo "instr: needs valgrind; skipped" >&2; exit 77; }
work=$(mktemp -d /tmp/gtpud-instr.XXXXXX)
pfx=gi$$ pid=""
cleanup() {
	[ -z "$pid" ] || { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true; }
	for s in gen dut sink; do ip netns del $pfx$s 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT
for s in gen dut sink; do ip netns add $pfx$s; ip -n $pfx$s link set lo up; done
ip link add g0 netns ${pfx}gen type veth peer name d0 netns ${pfx}dut
ip link add d1 netns ${pfx}dut type veth peer name s0 netns ${pfx}sink
ip -n ${pfx}gen addr add 192.0.2.1/24 dev g0
ip -n ${pfx}dut addr add 192.0.2.2/24 dev d0
ip -n ${pfx}dut addr add 198.51.100.2/24 dev d1
ip -n ${pfx}sink addr add 198.51.100.1/24 dev s0
for l in "gen g0" "dut d0" "dut d1" "sink s0"; do set -- $l; ip -n $pfx$1 link set "$2" up; done
cc -std=gnu11 -O2 -o "$work/gen" "$top/tests/bench/gen.c"
cat >"$work/c.conf" <<CONF
listen = [ "192.0.2.2:2152" ];
control = { path = "$work/c.sock"; };
log_level = "warning";
echo = { interval = 0; };
peers = ( { name = "gen"; address = "192.0.2.1"; }, { name = "sink"; address = "198.51.100.1"; } );
tunnels = ( { name = "t"; from = { peer = "gen"; teid = 1; }; to = { peer = "sink"; teid = 2; }; ${INSTR_TUNNEL:-} } );
CONF
ip netns exec ${pfx}dut valgrind --tool=callgrind --toggle-collect=dp_worker_main \
	--callgrind-out-file="$work/cg.out" "$gtpud" -c "$work/c.conf" 2>"$work/vg.log" &
pid=$!
for _ in $(seq 300); do "$gtpuctl" -s "$work/c.sock" status >/dev/null 2>&1 && break; sleep 0.1; done
ip netns exec ${pfx}gen "$work/gen" -d 192.0.2.2:2152 -s 192.0.2.1:2152 -r 5000 \
	-t "$(awk -v n="$n" 'BEGIN { print n / 5000 }')" -l 100 >/dev/null
sleep 1
fwd=$("$gtpuctl" -s "$work/c.sock" --json stats | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["forwarded"])')
kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
[ -z "${CG_OUT:-}" ] || cp "$work/cg.out" "$CG_OUT"
ir=$(callgrind_annotate "$work/cg.out" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1; exit }')
echo "forwarded $fwd, instructions $ir, per packet $(( ir / (fwd ? fwd : 1) ))"
