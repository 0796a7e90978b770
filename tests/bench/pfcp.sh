#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# PFCP bench (issue 18's targets), in a network namespace of its own: gtpud
# with a pfcp group on loopback, pfcpgen (tests/bench/pfcpgen.c) as the
# control plane. Session establishments per second in rounds of ROUND up to
# TOTAL resident (each a tunnel map: 2 PDRs with CHOOSE F-TEIDs, 2 FARs),
# deletions per second, gtpud's memory per session (RSS), and a STREAM_PPS
# stream of G-PDUs through one session while CHURN other sessions are
# established and deleted: every G-PDU sent must be relayed.
# Env: GTPUD, TOTAL (500000), ROUND (100000), WINDOW (64), CHURN (100000),
# STREAM_PPS (50000). Prints a summary; exit 1 when a target is missed.
set -u
GTPUD=${GTPUD:-src/gtpud}
GTPUCTL=${GTPUCTL:-$(dirname "$GTPUD")/gtpuctl}
TOTAL=${TOTAL:-500000}
ROUND=${ROUND:-100000}
WINDOW=${WINDOW:-64}
CHURN=${CHURN:-100000}
STREAM_PPS=${STREAM_PPS:-50000}
NS=gtpud-pfcpb$$
D=$(mktemp -d /tmp/gtpud-bench.XXXXXX)
PIDS=
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	sleep 0.3
	ip netns del "$NS" 2>/dev/null
	rm -rf "$D"
}
trap cleanup EXIT
gcc -O2 -Wall -o "$D/pfcpgen" "$(dirname "$0")/pfcpgen.c" || exit 1
ip netns add "$NS"
ip -n "$NS" link set lo up
# The OHC peers (192.0.2.10, .20) sit behind a veth end with no address:
# what gtpud relays to them leaves and is gone.
ip -n "$NS" link add v0 type veth peer name v1
ip -n "$NS" addr add 192.0.2.1/24 dev v0
ip -n "$NS" link set v0 up
ip -n "$NS" link set v1 up
ip -n "$NS" neigh add 192.0.2.10 lladdr 02:00:00:00:00:0a dev v0 nud permanent
ip -n "$NS" neigh add 192.0.2.20 lladdr 02:00:00:00:00:14 dev v0 nud permanent
cat >"$D/gtpud.conf" <<CONF
listen = [ "0.0.0.0:2152" ];
control = { path = "$D/control.sock"; group = ""; };
echo = { interval = 0; };
log_level = "warning";
pfcp = {
  listen = [ "127.0.0.1:8805" ];
  allow = [ "127.0.0.0/8" ];
  access_address = [ "192.0.2.1" ];
  heartbeat_interval = 0;
  max_sessions = $((TOTAL + CHURN + 10));
};
CONF
ip netns exec "$NS" "$GTPUD" -c "$D/gtpud.conf" >"$D/gtpud.log" 2>&1 &
GP=$!
PIDS="$PIDS $GP"
for _ in $(seq 50); do "$GTPUCTL" -s "$D/control.sock" status >/dev/null 2>&1 && break; sleep 0.1; done
rss() { awk '/^VmRSS/ { print $2 * 1024 }' "/proc/$GP/status"; }
gen() { ip netns exec "$NS" "$D/pfcpgen" 127.0.0.1 127.0.0.2 "$@"; }
field() { /usr/bin/python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }
gen assoc >/dev/null || { echo "no association"; exit 1; }
R0=$(rss)
declare -a EST DEL
n=0 k=0
while [ "$n" -lt "$TOTAL" ]; do
	out=$(gen est "$ROUND" "$WINDOW" $((0x100000 + n)) "$D/seids.$k") || { echo "est failed: $out"; exit 1; }
	EST+=("$(field "$out" rate)")
	n=$((n + ROUND)); k=$((k + 1))
	[ "$k" = 1 ] && RA=$(rss)
done
R1=$(rss)
# A stream through one more session while CHURN others come and go.
gen est 1 1 0x7000000 "$D/seid.s" "$D/teid.s" >/dev/null
T=$(od -An -tu4 "$D/teid.s" | tr -d ' ')
ip netns exec "$NS" "$D/pfcpgen" 127.0.0.1 127.0.0.2 stream "$T" "$STREAM_PPS" 12 >"$D/stream.out" &
SP=$!
sleep 1
CH_EST=$(gen est "$CHURN" "$WINDOW" 0x8000000 "$D/seids.churn") || { echo "churn failed: $CH_EST"; exit 1; }
CH_DEL=$(gen del "$WINDOW" "$D/seids.churn")
wait "$SP"
SENT=$(field "$(cat "$D/stream.out")" sent)
sleep 0.5
SS=$(printf '%x' "$(od -An -tu8 "$D/seid.s" | tr -d ' ')")
TUN=$("$GTPUCTL" -s "$D/control.sock" --json tunnels "pfcp-$SS-1" | /usr/bin/python3 -c "
import json, sys
t = json.load(sys.stdin)
print(t[0]['rx_packets'], t[0]['tx_packets'])" || echo "? ?")
"$GTPUCTL" -s "$D/control.sock" --json stats | /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); print('drops:', {k: v for k, v in d['drops'].items() if v})"
k=$((k - 1))
for i in $(seq 0 "$k"); do
	out=$(gen del "$WINDOW" "$D/seids.$i")
	DEL+=("$(field "$out" rate)")
done
med() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
PER=$(( (R1 - R0) / TOTAL ))
# The cost of one more session: the slope from the first round to the last
# (fixed costs, such as the response cache filled in the first round, left out).
SLOPE=$([ "$TOTAL" -gt "$ROUND" ] && echo $(( (R1 - RA) / (TOTAL - ROUND) )) || echo "$PER")
echo "establishments/s by round of $ROUND (to $TOTAL resident): ${EST[*]}"
echo "  median $(med "${EST[@]}"), last round (with $((TOTAL - ROUND)) to $TOTAL resident) ${EST[-1]}"
echo "deletions/s by round: ${DEL[*]}  median $(med "${DEL[@]}")"
echo "memory: $(( (R1 - R0) / 1048576 )) MiB for $TOTAL sessions: $PER B per session on average, $SLOPE B for each one more (RSS, from $ROUND to $TOTAL)"
echo "churn: $(field "$CH_EST" rate) est/s, $(field "$CH_DEL" rate) del/s with $TOTAL resident"
echo "stream: sent $SENT G-PDUs at $STREAM_PPS pps during the churn; tunnel rx/tx: $TUN"
fail=0
[ "$(med "${EST[@]}" | cut -d. -f1)" -ge 10000 ] || { echo "MISS: establishments < 10000/s"; fail=1; }
[ "${EST[-1]%.*}" -ge 10000 ] || { echo "MISS: last round < 10000/s"; fail=1; }
[ "$(med "${DEL[@]}" | cut -d. -f1)" -ge "$(med "${EST[@]}" | cut -d. -f1)" ] || echo "note: deletions slower than establishments"
[ "$SLOPE" -le 512 ] || { echo "MISS: more than 512 B per session"; fail=1; }
[ "$TUN" = "$SENT $SENT" ] || { echo "MISS: the stream lost packets"; fail=1; }
exit $fail
