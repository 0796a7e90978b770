#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# One receive batch that mixes UDP GRO trains with single datagrams: the
# relayed G-PDUs of the trains must not leave the send queues too full for
# the singles behind them. gtpud is stopped (SIGSTOP) while a peer sends
# trains (UDP GSO) and then singles, so that one recvmmsg reads them all;
# afterwards every G-PDU has left, rewritten, and the accounting is exact.
. "$(dirname "$0")/lib.sh"
need_root
[ -x "$GTPUD" ] && [ -x "$GTPUCTL" ] || skip_all "gtpud/gtpuctl not built"
is() { if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1"; diag "got: $2"; diag "want: $3"; fi; }

ns_add g || skip_all "cannot create a namespace"
for a in 192.0.2.1 192.0.2.10 198.51.100.20; do nsx g ip addr add "$a/32" dev lo; done
SOCK=$T_DIR/ctl.sock
cat >"$T_DIR/gtpud.conf" <<EOF
listen = [ "192.0.2.1:2152" ];
control = { path = "$SOCK"; };
echo = { interval = 0; };
peers = ( { name = "enb"; address = "192.0.2.10"; }, { name = "upf"; address = "198.51.100.20"; } );
tunnels = ( { name = "t1"; from = { peer = "enb"; teid = 0x100; }; to = { peer = "upf"; teid = 0x200; }; } );
EOF
# UDP GRO on (the default): the trains reach gtpud whole.
ip netns exec "${NS_PREFIX}g" env -u GTPUD_GSO "$GTPUD" -c "$T_DIR/gtpud.conf" 2>"$T_DIR/gtpud.log" &
GT=$!
T_PIDS="$T_PIDS $GT"
wait_for 5 "$GTPUCTL" -s "$SOCK" status || { cat "$T_DIR/gtpud.log"; skip_all "gtpud did not start"; }

# The upf side: counts G-PDUs with TEID 0x200 whose Length fits the datagram,
# until none came for ARGV[1] seconds (10 s for the first).
cat >"$T_DIR/rx.py" <<'PY'
import socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("198.51.100.20", 2152))
s.settimeout(10)                  # for the first: the sender may start slowly
good = bad = 0
print("ready", flush=True)
try:
    while True:
        d = s.recv(65535)
        s.settimeout(float(sys.argv[1]))   # then: this long after the last
        if len(d) >= 8 and d[0] & 0xf7 == 0x30 and d[1] == 255 and \
           struct.unpack("!HI", d[2:8]) == (len(d) - 8, 0x200):
            good += 1
        else:
            bad += 1
except socket.timeout:
    pass
print("good", good, "bad", bad, flush=True)
PY
# The enb side: trains of N G-PDUs of 100 bytes (one UDP_SEGMENT send each), then single ones.
cat >"$T_DIR/tx.py" <<'PY'
import socket, struct, sys
def gpdu(plen):
    return struct.pack("!BBHI", 0x30, 255, plen, 0x100) + b"\x45" * plen
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("192.0.2.10", 2152))
dst = ("192.0.2.1", 2152)
for n in [int(x) for x in sys.argv[1].split(",") if x]:
    s.sendmsg([gpdu(92) * n], [(socket.SOL_UDP, 103, struct.pack("H", 100))], 0, dst)  # UDP_SEGMENT
for i in range(int(sys.argv[2])):
    s.sendto(gpdu(50 + i % 7), dst)
PY

total=0
# trains singles: 64+61 then 62 singles fill one batch of 64 messages.
for mix in "64,61 62" "40,40 62" "2,3 62" "64 63"; do
	read -r trains singles <<<"$mix"
	n=$((singles)); for t in ${trains//,/ }; do n=$((n + t)); done
	total=$((total + n))
	ip netns exec "${NS_PREFIX}g" $PY "$T_DIR/rx.py" 1.5 >"$T_DIR/rx.out" &
	RX=$!
	T_PIDS="$T_PIDS $RX"
	wait_for 3 grep -q ready "$T_DIR/rx.out"
	kill -STOP "$GT"
	nsx g $PY "$T_DIR/tx.py" "$trains" "$singles"
	kill -CONT "$GT"
	wait "$RX"
	is "trains $trains, then $singles singles in one batch: all $n relayed with TEID 0x200" \
		"$(grep good "$T_DIR/rx.out")" "good $n bad 0"
	check "... gtpud is still running" kill -0 "$GT"
done
"$GTPUCTL" -s "$SOCK" --json stats >"$T_DIR/stats.json" 2>&1
is "gtpud counts them all as received and forwarded, no drops" \
	"$($PY -c 'import json,sys; s=json.load(open(sys.argv[1])); print(s["rx_packets"], s["forwarded"], s["dropped"])' "$T_DIR/stats.json")" \
	"$total $total 0"
done_testing
