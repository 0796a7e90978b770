#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Why packets drop: a flood of mixed bad traffic crafted with scapy (G-PDUs
# from a peer that is not the tunnel's and from a stranger, over a rated
# tunnel's rate, to unknown TEIDs, of GTP version 2, Echo Requests from a
# stranger) among good G-PDUs. Afterwards each tunnel counts the drops it
# was named in, by reason, in --json tunnels and the metrics (no series for
# a tunnel that dropped nothing), across a reload too; the accounting stays
# exact; gtpuctl drops lists a sample of them (reason, source and port,
# peer, TEID, tunnel, time) within the ring's bound and the rate of
# records, however large the flood; monitor drops streams them, and
# log_level debug logs a sample of them; memory does not grow with a
# second flood.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/topo.sh"
# Without UDP GRO: its 64 KB receive slots (4 MB) fill page by page as
# trains grow, which would hide what the memory check looks at.
export GTPUD_GSO=0
GT_EXTRA_TUNNELS=',
  { name = "slow"; from = { peer = "enb"; teid = 0x120; }; to = { peer = "upf"; teid = 0x220; }; rate = 800; burst = 2000; }'
gt_setup

# flood N: N datagrams of every kind above, interleaved at random, from
# enb's, enb2's and a stranger's addresses, then (once the records' budget
# has refilled) one of each kind, 20 ms apart, so that each is recorded:
# N + 1 of each kind in all.
flood() {
	nsx enb "$PY" - "$1" "$ENB4" "$ENB2_4" "$NOPEER4" "$DUT4E" <<'EOF'
import random, socket, sys, time
from scapy.all import raw
from scapy.contrib.gtp import GTP_U_Header, GTPEchoRequest
from scapy.layers.inet import IP, UDP
n, enb, enb2, stranger, dut = int(sys.argv[1]), *sys.argv[2:]
def gpdu(teid):
    return raw(GTP_U_Header(teid=teid, gtp_type=255) / IP(src='10.0.0.1', dst='10.0.0.2') / UDP() / (b'x' * 72))
v2 = bytearray(gpdu(0x100)); v2[0] = (v2[0] & 0x1f) | 0x40     # GTP version 2
echo = raw(GTP_U_Header(seq=7, S=1) / GTPEchoRequest())
socks = {}
def sock(addr, port):
    if (addr, port) not in socks:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 22)
        s.bind((addr, port))
        socks[(addr, port)] = s
    return socks[(addr, port)]
kinds = {
    'good': (enb, 2152, gpdu(0x100)),               # forwarded on "up"
    'wrong_peer_enb2': (enb2, 2152, gpdu(0x100)),   # up's TEID from enb2
    'wrong_peer_stranger': (stranger, 40000, gpdu(0x100)),
    'slow': (enb, 2152, gpdu(0x120)),               # over "slow"'s rate
    'unknown_teid': (enb, 2152, gpdu(0x999)),
    'version': (enb, 2152, bytes(v2)),
    'echo_stranger': (stranger, 40001, echo),
}
order = [k for k in kinds for _ in range(n)]
random.shuffle(order)
for k in order:
    a, p, b = kinds[k]
    sock(a, p).sendto(b, (dut, 2152))
time.sleep(0.5)
for k in kinds:
    a, p, b = kinds[k]
    sock(a, p).sendto(b, (dut, 2152))
    time.sleep(0.02)
print(' '.join('%s=%d' % (k, n + 1) for k in kinds))
EOF
}

mon() { timeout 20 "$GTPUCTL" -s "$GT_SOCK" "$@"; }

rss() { awk '/^VmRSS/ { print $2 }' "/proc/$GT_PID/status"; }

gt_snap "$T_DIR/s0.json"
# In the background as the processes themselves ($!: timeout, which passes
# a signal on to gtpuctl), so that the test and its cleanup end them.
timeout 30 "$GTPUCTL" -s "$GT_SOCK" monitor drops >"$T_DIR/mon.txt" 2>&1 &
MON=$!
timeout 30 "$GTPUCTL" -s "$GT_SOCK" --json monitor drops >"$T_DIR/mon.json" 2>&1 &
MONJ=$!
timeout 30 "$GTPUCTL" -s "$GT_SOCK" monitor >"$T_DIR/events.txt" 2>&1 &
MONE=$!
T_PIDS="$T_PIDS $MON $MONJ $MONE"
sleep 0.5
N=400
M=$((N + 1))
t0=$(date +%s.%N)
diag "sent: $(flood $N)"
gt_until 5 '[ "$(gt_eval "st(\"rx_packets\")" "$T_DIR/s0.json")" = $((7 * M)) ]'
t1=$(date +%s.%N)
sleep 1.5                          # the monitors' next poll, and a second one

is "every datagram received" "$(gt_eval "st('rx_packets')" "$T_DIR/s0.json")" $((7 * M))
is "rx_packets = forwarded + answered + dropped" "$(gt_eval 'ident()')" True
is "wrong_peer drops: those from enb2 and from the stranger" "$(gt_eval "drop('wrong_peer')" "$T_DIR/s0.json")" $((2 * M))
is "tunnel up: the wrong_peer drops are its own, and nothing else" \
	"$(gt_eval "tu('up', 'dropped'), T['up']['drops']" "$T_DIR/s0.json")" "($((2 * M)), {'wrong_peer': $((2 * M))})"
is "tunnel up: the good G-PDUs forwarded" "$(gt_eval "tu('up', 'tx_packets')" "$T_DIR/s0.json")" $M
is "tunnel slow: each G-PDU received forwarded or dropped as rate_limit" \
	"$(gt_eval "tu('slow', 'rx_packets'), tu('slow', 'tx_packets') + T['slow']['drops'].get('rate_limit', 0), list(T['slow']['drops'])" "$T_DIR/s0.json")" \
	"($M, $M, ['rate_limit'])"
is "tunnel slow: its drops are the global rate_limit drops, most of what it got" \
	"$(gt_eval "T['slow']['dropped'] == drop('rate_limit') > $M / 2" "$T_DIR/s0.json")" True
is "no other tunnel dropped anything" \
	"$(gt_eval "sorted(n for n, t in T.items() if t['dropped'] or t['drops'])")" "['slow', 'up']"
is "drops that name no tunnel counted globally only" \
	"$(gt_eval "drop('unknown_teid'), drop('version'), sum(t['dropped'] for t in T.values()) == drop('wrong_peer') + drop('rate_limit')" "$T_DIR/s0.json")" \
	"($M, $M, True)"

# The ring: a sample, bounded, each record whole.
gt_ctl --json drops >"$T_DIR/drops.json"
gt_ctl --json stats >"$T_DIR/stats.json"
rec=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["drops_recorded"])' "$T_DIR/stats.json")
dropped=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["dropped"])' "$T_DIR/stats.json")
budget=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%d", 32 + 100 * (b - a + 2.5) }')
diag "dropped $dropped, recorded $rec (budget $budget)"
check "drops are sampled: fewer recorded ($rec) than dropped ($dropped)" test "$rec" -lt "$dropped"
check "records within the rate: $rec <= 32 + 100/s" test "$rec" -le "$budget"
is "gtpuctl drops lists what the ring holds (at most 128 a worker)" \
	"$("$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(len(d) == min(int(sys.argv[2]), 128))' "$T_DIR/drops.json" "$rec")" True
is "every record has its fields, oldest first" "$("$PY" - "$T_DIR/drops.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
keys = {'time', 'reason', 'source', 'port', 'destination', 'peer', 'teid', 'tunnel', 'from_tun', 'worker'}
print(all(set(r) == keys for r in d) and [r['time'] for r in d] == sorted(r['time'] for r in d)
      and all(abs(r['time'] - __import__('time').time()) < 60 for r in d))
EOF
)" True
is "records say what each drop was" "$("$PY" - "$T_DIR/drops.json" "$ENB2_4" "$NOPEER4" "$ENB4" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
enb2, stranger, enb = sys.argv[2:]
want = {
    ('wrong_peer', enb2, 2152, 'enb2', 0x100, 'up'),
    ('wrong_peer', stranger, 40000, None, 0x100, 'up'),
    ('rate_limit', enb, 2152, 'enb', 0x120, 'slow'),
    ('unknown_teid', enb, 2152, 'enb', 0x999, None),
    ('version', enb, 2152, 'enb', None, None),
    ('echo_rate_limit', stranger, 40001, None, 0, None),
}
seen = {(r['reason'], r['source'], r['port'], r['peer'], r['teid'], r['tunnel']) for r in d}
core = {w for w in want if w[0] != 'echo_rate_limit'}
print(sorted(seen - want, key=str), sorted(core - seen, key=str))
EOF
)" "[] []"
gt_ctl drops >"$T_DIR/drops.txt"
check "gtpuctl drops: a table with a header and the records" \
	grep -Eq "^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8}\.[0-9]{3} +wrong_peer +$ENB2_4:2152 +- +enb2 +0x100 +up$" "$T_DIR/drops.txt"
check "gtpuctl drops: header" grep -Eq '^TIME +REASON +SOURCE +DESTINATION +PEER +TEID +TUNNEL$' "$T_DIR/drops.txt"

# The monitors saw the records as they were written (none before they came).
kill "$MON" "$MONJ" "$MONE" 2>/dev/null; wait "$MON" "$MONJ" "$MONE" 2>/dev/null
is "monitor drops: one line a record" "$(grep -c ' drop reason=' "$T_DIR/mon.txt")" "$rec"
check "monitor drops: a line names reason, source, port, peer, TEID in hex, tunnel" \
	grep -Eq " drop reason=wrong_peer source=$ENB2_4 port=2152 peer=enb2 teid=0x100 tunnel=up from_tun=false worker=0$" "$T_DIR/mon.txt"
is "monitor drops --json: the same records as events" \
	"$("$PY" -c 'import json,sys; e=[json.loads(l) for l in open(sys.argv[1]) if l.startswith("{\"event\"")]; print(len(e), {x["event"] for x in e})' "$T_DIR/mon.json")" \
	"$rec {'drop'}"
check "monitor drops: usage error for another topic" test "$(mon monitor peers >/dev/null 2>&1; echo $?)" = 2
is "monitor (events) got no drops meanwhile" "$(grep -c drop "$T_DIR/events.txt")" 0

# log_level "debug" (the topology's): the records as log lines, a sample
# of them (10 in 5 s, the rest counted).
grep -E 'drop: ' "$GT_LOG" >"$T_DIR/debug.txt"
diag "$(head -3 "$T_DIR/debug.txt")"
is "debug log: the first record as a line" "$(sed 's/.*debug: //' "$T_DIR/debug.txt" | head -1)" \
	"$("$PY" - "$T_DIR/drops.json" <<'PYEOF'
import json, sys
r = json.load(open(sys.argv[1]))[0]
l = 'drop: ' + r['reason']
if r['source']:
    l += ' from %s:%d' % (r['source'], r['port']) if r['port'] is not None else ' from ' + r['source']
l += ''.join(' %s %s' % (w, v) for w, v in (('to', r['destination']), ('peer', r['peer']),
                                            ('TEID', r['teid'] is not None and hex(r['teid'])),
                                            ('tunnel', r['tunnel'])) if v)
print(l)
PYEOF
)"
check "debug log: at most 10 drop lines in 5 s ($(wc -l <"$T_DIR/debug.txt"))" test "$(wc -l <"$T_DIR/debug.txt")" -le 20
is "debug log: the drop lines past the limit counted as suppressed" \
	"$(gt_eval "S['log_lines_suppressed'] >= S['drops_recorded'] - $(wc -l <"$T_DIR/debug.txt")")" True

# Metrics: per-tunnel drops by reason, only where there are any.
gt_ctl metrics >"$T_DIR/metrics.txt"
check "metrics: gtpud_tunnel_drops_total of up" \
	grep -qx "gtpud_tunnel_drops_total{tunnel=\"up\",reason=\"wrong_peer\"} $((2 * M))" "$T_DIR/metrics.txt"
check "metrics: gtpud_tunnel_dropped_total of up" \
	grep -qx "gtpud_tunnel_dropped_total{tunnel=\"up\"} $((2 * M))" "$T_DIR/metrics.txt"
is "metrics: drop series only for tunnels and reasons with drops" \
	"$(grep '^gtpud_tunnel_drops_total{' "$T_DIR/metrics.txt" | sed 's/ .*//' | sort | tr '\n' ' ')" \
	'gtpud_tunnel_drops_total{tunnel="slow",reason="rate_limit"} gtpud_tunnel_drops_total{tunnel="up",reason="wrong_peer"} '
gt_ctl tunnels up >"$T_DIR/up.txt"
check "tunnels NAME: a DROPS column and the drops by reason" \
	grep -Eq "^  wrong_peer +$((2 * M))$" "$T_DIR/up.txt"

# A second, larger flood: the ring and the memory stay as they were.
gt_ctl --json drops >/dev/null
rss1=$(rss)
diag "sent: $(flood 1500)"
gt_until 5 '[ "$(gt_eval "st(\"rx_packets\")" "$T_DIR/s0.json")" = $((7 * (M + 1501))) ]'
sleep 0.5
rss2=$(rss)
diag "RSS after the first flood ${rss1} kB, after the second ${rss2} kB"
check "memory does not grow with the flood (+$((rss2 - rss1)) kB)" test $((rss2 - rss1)) -lt 1024
is "the ring still holds at most 128" "$(gt_ctl --json drops | "$PY" -c 'import json,sys; print(len(json.load(sys.stdin)) <= 128)')" True
is "rx_packets = forwarded + answered + dropped after both" "$(gt_eval 'ident()')" True
is "tunnel up: wrong_peer counted exactly over both floods" "$(gt_eval "T['up']['drops']")" "{'wrong_peer': $((2 * (M + 1501)))}"
# A reload keeps each tunnel's drops.
gt_snap "$T_DIR/s1.json"
kill -HUP "$GT_PID"
gt_until 5 '[ "$(gt_ctl --json status | "$PY" -c "import json,sys; print(json.load(sys.stdin)[\"reloads\"])")" = 1 ]'
is "after a reload the tunnels keep their drops" \
	"$(gt_eval "T['up']['drops'], T['slow']['dropped'] == $(gt_eval "T['slow']['dropped']" "$T_DIR/s1.json")")" \
	"({'wrong_peer': $((2 * (M + 1501)))}, True)"
done_testing
