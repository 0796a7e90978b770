#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# QoS and usage bench (issue 19's targets), in a network namespace of its
# own, scapy's PFCP layers as the control plane (tests/system/pfcp_cp.py):
#  1. instructions per relayed G-PDU (callgrind, the workers' code) through a
#     PFCP relay session without QER and URR, then through one whose PDRs
#     name a QER (MBR 10 Gbit/s: the token bucket runs on every packet, none
#     is dropped) and a URR (VOLUM): the ratio of the two, target <= 1.10;
#  2. a 100 kpps stream of G-PDUs through a session with a URR, then a Query
#     URR: the uplink bytes and packets it reports against what gtpud's
#     tunnel counted (target: equal) and what the generator sent.
# Env: GTPUD, GTPUCTL, PACKETS (30000, part 1), PPS (100000) and SECS (3),
# part 2. Prints a summary; exit 1 when a target is missed.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
GTPUD=${GTPUD:-$top/src/gtpud}
GTPUCTL=${GTPUCTL:-$(dirname "$GTPUD")/gtpuctl}
PACKETS=${PACKETS:-30000}
PPS=${PPS:-100000}
SECS=${SECS:-3}
PY=/usr/bin/python3
[ "$(id -u)" = 0 ] || { echo "qos: needs root; skipped" >&2; exit 77; }
command -v valgrind >/dev/null || { echo "qos: needs valgrind; skipped" >&2; exit 77; }
NS=gtpud-qosb$$
D=$(mktemp -d /tmp/gtpud-bench.XXXXXX)
PIDS=
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	ip netns del "$NS" 2>/dev/null
	rm -rf "$D"
}
trap cleanup EXIT
cc -std=gnu11 -O2 -o "$D/gen" "$top/tests/bench/gen.c" || exit 1
ip netns add "$NS"
ip -n "$NS" link set lo up
# gen 192.0.2.1, gtpud 192.0.2.2 (GTP-U and PFCP), the control plane
# 192.0.2.30, all on loopback; the core peer 198.51.100.10 behind a veth end
# with no address: what gtpud relays to it leaves and is gone.
for a in 192.0.2.1 192.0.2.2 192.0.2.30; do ip -n "$NS" addr add "$a/32" dev lo; done
ip -n "$NS" link add v0 type veth peer name v1
ip -n "$NS" addr add 198.51.100.1/24 dev v0
ip -n "$NS" link set v0 up
ip -n "$NS" link set v1 up
ip -n "$NS" neigh add 198.51.100.10 lladdr 02:00:00:00:00:0a dev v0 nud permanent
cat >"$D/c.conf" <<CONF
listen = [ "192.0.2.2:2152" ];
control = { path = "$D/c.sock"; };
log_level = "warning";
echo = { interval = 0; };
pfcp = { listen = [ "192.0.2.2:8805" ]; node_id = "192.0.2.2"; allow = [ "192.0.2.30" ];
         access_address = [ "192.0.2.2" ]; core_address = [ "192.0.2.2" ]; heartbeat_interval = 0; };
CONF

CP_OUT=$D/cp.json
N=0
# cp_start: the control plane, commands through a FIFO (as in pfcp.sh).
cp_start() {
	rm -f "$D/cp.fifo"
	mkfifo "$D/cp.fifo"
	: >"$CP_OUT"
	ip netns exec "$NS" "$PY" "$top/tests/system/pfcp_cp.py" serve --bind 192.0.2.30 --upf 192.0.2.2 \
		--cmd "$D/cp.fifo" --out "$CP_OUT" &
	CP_PID=$!
	PIDS="$PIDS $CP_PID"
	exec 7>"$D/cp.fifo"
}
cp_stop() {
	echo quit >&7
	exec 7>&-
	wait "$CP_PID" 2>/dev/null
}
# cp WORDS: a command, its JSON answer in R.
cp() {
	N=$((N + 1))
	echo "c$N $*" >&7
	for _ in $(seq 100); do grep -q "\"id\": \"c$N\"" "$CP_OUT" && break; sleep 0.1; done
	R=$(grep "\"id\": \"c$N\"" "$CP_OUT" | tail -1)
}
j() { "$PY" -c 'import json, sys; d = json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$R" "$1"; }
ctl() { "$GTPUCTL" -s "$D/c.sock" "$@"; }
wait_up() { for _ in $(seq 300); do ctl status >/dev/null 2>&1 && return 0; sleep 0.1; done; return 1; }

# instr SESSION_CMD: instructions per packet of the workers through one
# session that SESSION_CMD establishes.
instr() {
	ip netns exec "$NS" valgrind --tool=callgrind --toggle-collect=dp_worker_main \
		--callgrind-out-file="$D/cg.out" "$GTPUD" -c "$D/c.conf" 2>"$D/vg.log" &
	local pid=$! fwd ir teid
	PIDS="$PIDS $pid"
	wait_up || { echo "qos: gtpud did not start" >&2; return 1; }
	cp_start
	cp assoc
	cp "$@"
	teid=$(j "d['created']['1']['teid']")
	ip netns exec "$NS" "$D/gen" -d 192.0.2.2:2152 -s 192.0.2.1:2152 -r 5000 -n 1 -b "$teid" -S \
		-t "$(awk -v n="$PACKETS" 'BEGIN { print n / 5000 }')" -l 100 >/dev/null
	sleep 1
	fwd=$(ctl --json stats | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["forwarded"])')
	cp_stop
	kill "$pid"; wait "$pid" 2>/dev/null
	ir=$(callgrind_annotate "$D/cg.out" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1; exit }')
	echo $(( ir / (fwd ? fwd : 1) ))
}

plain=$(instr relay 0x1 198.51.100.10 0x1001 198.51.100.10 0x2001) || exit 1
qos=$(instr relay_qos 0x2 198.51.100.10 0x1002 198.51.100.10 0x2002 10000000) || exit 1
ratio=$(awk -v a="$qos" -v b="$plain" 'BEGIN { printf "%.3f", a / b }')
echo "instructions per relayed G-PDU: plain session $plain, with a QER (MBR) and a URR $qos: ratio $ratio (target <= 1.10)"

# Part 2: usage counted exactly under a PPS stream.
ip netns exec "$NS" "$GTPUD" -c "$D/c.conf" 2>"$D/gtpud.log" &
GPID=$!
PIDS="$PIDS $GPID"
wait_up || { echo "qos: gtpud did not start" >&2; exit 1; }
cp_start
cp assoc
cp relay_qos 0x3 198.51.100.10 0x1003 198.51.100.10 0x2003 10000000
UP=$(j "d['up_seid']")
TEID=$(j "d['created']['1']['teid']")
SENT=$(ip netns exec "$NS" "$D/gen" -d 192.0.2.2:2152 -s 192.0.2.1:2152 -r "$PPS" -n 1 -b "$TEID" -S -t "$SECS" -l 100 |
	"$PY" -c 'import json,sys; print(json.load(sys.stdin)["sent"])')
sleep 0.5
read -r TP TB <<<"$(ctl --json tunnels "pfcp-$(printf '%x' "$UP")-1" | "$PY" -c 'import json,sys; t=json.load(sys.stdin)[0]; print(t["rx_packets"], t["rx_bytes"])')"
cp query "$UP" 1
read -r UPK UBY <<<"$(j "' '.join(str(u[k]) for u in d.get('usage', [])[:1] for k in ('ul_pkts', 'ul'))")"
cp_stop
exact=$([ "$UPK" = "$TP" ] && [ "$UBY" = "$TB" ] && echo yes || echo no)
echo "usage at $PPS pps for $SECS s: generator sent $SENT G-PDUs; the tunnel counted $TP packets, $TB bytes; the Usage Report says $UPK packets, $UBY bytes: exact $exact"
awk -v r="$ratio" 'BEGIN { exit !(r <= 1.10) }' && [ "$exact" = yes ]
