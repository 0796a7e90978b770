#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# What a spoofing or hostile sender can no longer do (scapy crafts, a
# kernel socket sends, scapy decodes what comes back):
# - a down peer is not brought up by Echo Responses that answer nothing, by
#   Echo Requests from its address, or by G-PDUs from its address on
#   another port; no Recovery value is taken from them;
# - Echo Requests are answered under echo.answer_rate, never with S=0;
# - datagrams to a broadcast address get no answer, and an Error
#   Indication names the address that received the G-PDU;
# - a flood of Error Indications that could be genuine costs a counter,
#   and the events it makes are merged with a count.
. "$(dirname "$0")/lib.sh"
need_root
need_scapy
need_cmd jq
[ -x "$GTPUD" ] && [ -x "$GTPUCTL" ] || skip_all "gtpud/gtpuctl not built"

ns_add enb && ns_add dut && ns_add upf || skip_all "cannot create namespaces"
link enb 192.0.2.10/24 dut 192.0.2.1/24 || skip_all "cannot link namespaces"
link dut 198.51.100.1/24 upf 198.51.100.20/24 || skip_all "cannot link namespaces"
ip -n "${NS_PREFIX}dut" addr add 192.0.2.1/24 brd 192.0.2.255 dev "$(ip -n "${NS_PREFIX}dut" -o addr show to 192.0.2.1/24 | awk '{print $2}')" 2>/dev/null
cat >"$T_DIR/gtpud.conf" <<EOF
listen = [ "0.0.0.0:2152" ];
control = { path = "$T_DIR/ctl.sock"; };
echo = { interval = 1; t3 = 1; n3 = 1; on_down = "drop"; answer_rate = 20; answer_rate_total = 25; };
error_indication = { enabled = true; rate = 1000; quiet = 0; };
peers = (
  { name = "enb"; address = "192.0.2.10"; },
  { name = "upf"; address = "198.51.100.20"; echo = true; }
);
tunnels = (
  { name = "up"; from = { peer = "enb"; teid = 0x100; }; to = { peer = "upf"; teid = 0x200; }; },
  { name = "down"; from = { peer = "upf"; teid = 0x201; }; to = { peer = "enb"; teid = 0x101; }; }
);
EOF
ip netns exec "${NS_PREFIX}dut" "$GTPUD" -c "$T_DIR/gtpud.conf" 2>"$T_DIR/gtpud.log" &
T_PIDS="$T_PIDS $!"
json() { "$GTPUCTL" -s "$T_DIR/ctl.sock" --json "$@"; }
wait_for 5 json status >/dev/null || skip_all "gtpud did not start"
drops() { json stats | jq -r ".drops.$1"; }
upf() { json peers | jq -r ".[] | select(.name == \"upf\") | .$1"; }

# send NS SRC SPORT DST COUNT EXPR [LISTEN_SECONDS]: COUNT datagrams of the
# scapy expression from SRC:SPORT to DST:2152 (broadcast allowed); prints
# what came back to SPORT as "type:teid:peer_address" lines.
cat >"$T_DIR/send.py" <<'EOF'
import socket, sys, time
from scapy.contrib.gtp import *
from scapy.all import raw, Raw
src, sport, dst, count, expr = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5]
wait = float(sys.argv[6]) if len(sys.argv) > 6 else 0.5
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((src, sport))
pkt = raw(eval(expr))
for i in range(count):
    s.sendto(pkt, (dst, 2152))
s.settimeout(wait)
try:
    while True:
        d = s.recv(65535)
        g = GTP_U_Header(d)
        addr = ""
        ei = g.getlayer(GTPErrorIndication)
        if not ei and g.gtp_type == 26 and g.haslayer(Raw):
            ei = GTPErrorIndication(bytes(g.getlayer(Raw)))   # after the UDP Port extension header
        for ie in ei.IE_list if ei else []:
            if getattr(ie, "ietype", None) == 133:
                addr = str(ie.ipv4_address)
        print("%d:%d:%s" % (g.gtp_type, g.teid, addr))
except socket.timeout:
    pass
EOF
send() { local ns=$1; shift; ip netns exec "${NS_PREFIX}$ns" "$PY" "$T_DIR/send.py" "$@"; }

# ---- 3: a down peer stays down for everything but a genuine answer ----
upf_is() { test "$(upf state)" = "$1"; }
check "upf, which answers no Echo, goes down" wait_for 6 upf_is down
check "... and shows no round trip time while down" test "$(upf rtt_us)" = null
check "... and since when it is down" sh -c "test \$(( \$(date +%s) - $(upf since) )) -le 10"
check "gtpuctl peers has a SINCE column" sh -c "'$GTPUCTL' -s '$T_DIR/ctl.sock' peers | head -1 | grep -q 'STATE *SINCE *RTT'"
send upf 198.51.100.20 2152 198.51.100.1 50 \
	"GTPHeader(gtp_type=2, seq=4242, S=1)/GTPEchoResponse()/IE_Recovery(restart_counter=77)" >/dev/null
send upf 198.51.100.20 40000 198.51.100.1 5 "GTPHeader(gtp_type=1, seq=7, S=1)/GTPEchoRequest()" >/dev/null
send upf 198.51.100.20 40001 198.51.100.1 5 "GTP_U_Header(gtp_type=255, teid=0x201)/Raw(b'x')" >/dev/null
sleep 1.5
check "Echo Responses that answer nothing leave it down" test "$(upf state)" = down
check "... and set no Recovery value" test "$(upf recovery)" = null
check "no 'is up' line in the log" sh -c "! grep -q 'peer upf ([^)]*) is up' $T_DIR/gtpud.log"
send upf 198.51.100.20 2152 198.51.100.1 1 "GTP_U_Header(gtp_type=255, teid=0x201)/Raw(b'x')" >/dev/null
# (Up until its next Echo goes unanswered, a second later: the log says it.)
check "a G-PDU of its tunnel from its address and port brings it up (traffic)" \
	wait_for 3 grep -q 'peer upf ([^)]*) is up: traffic' "$T_DIR/gtpud.log"
check "... once" test "$(grep -c 'peer upf ([^)]*) is up' "$T_DIR/gtpud.log")" = 1

# ---- 4: Echo Requests answered under a budget, never with S=0 ----
before=$(json stats | jq .echo_responses_sent)
n=$(send enb 192.0.2.10 5353 192.0.2.1 200 "GTPHeader(gtp_type=1, seq=9, S=1)/GTPEchoRequest()" 1 | grep -c '^2:')
check "200 Echo Requests at once from port 5353 get at most 20 + a second's worth back ($n)" test "$n" -ge 15 -a "$n" -le 45
check "... the rest counted as echo_rate_limit" test "$(drops echo_rate_limit)" -ge 150
sleep 1.1
# A peer and a stranger at once: each within its own 20, but 25 in all.
ip -n "${NS_PREFIX}enb" addr add 192.0.2.66/24 dev "$(ip -n "${NS_PREFIX}enb" -o addr show to 192.0.2.10/24 | awk '{print $2}')" 2>/dev/null
send enb 192.0.2.10 5354 192.0.2.1 100 "GTPHeader(gtp_type=1, seq=9, S=1)/GTPEchoRequest()" 1 >"$T_DIR/a" &
send enb 192.0.2.66 5355 192.0.2.1 100 "GTPHeader(gtp_type=1, seq=9, S=1)/GTPEchoRequest()" 1 >"$T_DIR/b"
wait $!
na=$(grep -c '^2:' "$T_DIR/a"); nb=$(grep -c '^2:' "$T_DIR/b")
check "a peer and a stranger at once get at most answer_rate_total (25) and a little refill ($na + $nb)" \
	test $((na + nb)) -ge 20 -a $((na + nb)) -le 32
sleep 1.1
before=$(drops malformed)
n=$(send enb 192.0.2.10 2152 192.0.2.1 1 "GTPHeader(gtp_type=1, S=0)/GTPEchoRequest()" | grep -c '^2:')
check "an Echo Request with S=0 gets no answer" test "$n" = 0
check "... and is counted as malformed" test "$(drops malformed)" = $((before + 1))

# ---- 5: broadcast destinations ----
sleep 1.1
n=$(send enb 192.0.2.10 2152 192.0.2.255 3 "GTPHeader(gtp_type=1, seq=1, S=1)/GTPEchoRequest()" | grep -c .)
check "an Echo Request to the subnet broadcast address gets nothing back" test "$n" = 0
n=$(send enb 192.0.2.10 2152 255.255.255.255 3 "GTP_U_Header(gtp_type=255, teid=0x999)/Raw(b'x')" | grep -c .)
check "a G-PDU with an unknown TEID to 255.255.255.255 gets no Error Indication" test "$n" = 0
check "... all counted as not_unicast" test "$(drops not_unicast)" = 6
out=$(send enb 192.0.2.10 2152 192.0.2.1 1 "GTP_U_Header(gtp_type=255, teid=0x999)/Raw(b'x')")
check "to the unicast address it gets an Error Indication naming 192.0.2.1 ($out)" test "$out" = "26:0:192.0.2.1"
# ---- 2: a flood of spoofed Error Indications costs a counter ----
# From upf's address, naming it and a TEID gtpud sends to it: believable,
# so only the budget (error_indication.accept_rate, 100/s) holds it.
"$GTPUCTL" -s "$T_DIR/ctl.sock" --json monitor >"$T_DIR/mon" 2>&1 &
MON=$!
T_PIDS="$T_PIDS $MON"
"$GTPUCTL" -s "$T_DIR/ctl.sock" monitor >"$T_DIR/mon.txt" 2>&1 &
MONT=$!
T_PIDS="$T_PIDS $MONT"
sleep 0.3
send upf 198.51.100.20 40002 198.51.100.1 2000 \
	"GTP_U_Header(gtp_type=26, teid=0, S=1, seq=1)/GTPErrorIndication(IE_list=[IE_TEIDI(TEIDI=0x200), IE_GSNAddress(length=4, ipv4_address='198.51.100.20')])" >/dev/null
sleep 1
kill "$MON" "$MONT" 2>/dev/null
check "gtpuctl monitor shows the TEID in hex, as the tables do" grep -q 'error_indication .*teid=0x200' "$T_DIR/mon.txt"
acc=$(json stats | jq .error_indications_received)
lim=$(drops error_ind_rate_limit)
check "2000 spoofed Error Indications: at most a second's budget looked at ($acc), the rest counted ($lim)" \
	test "$acc" -le 220 -a $((acc + lim)) = 2000
ev=$(grep -c '"error_indication"' "$T_DIR/mon")
sum=$(jq -s '[.[] | select(.event == "error_indication") | .count] | add // 0' "$T_DIR/mon")
check "... told as few events with counts ($ev events, $sum in all)" test "$ev" -le "$acc" -a "$sum" = "$acc"
check "... and no event lost" test "$(json stats | jq .events_lost)" = 0
check "gtpuctl stats shows events lost and ICMP errors sent" sh -c \
	"'$GTPUCTL' -s '$T_DIR/ctl.sock' stats | grep -q '^events lost' && '$GTPUCTL' -s '$T_DIR/ctl.sock' stats | grep -q '^icmp errors sent'"
check "... and so do the metrics" sh -c \
	"'$GTPUCTL' -s '$T_DIR/ctl.sock' metrics | grep -q '^gtpud_events_lost_total 0' && '$GTPUCTL' -s '$T_DIR/ctl.sock' metrics | grep -q '^gtpud_icmp_sent_total 0'"
r=$(json stats | jq '.rx_packets == .forwarded + .answered + .dropped')
check "every datagram counted once (rx = forwarded + answered + dropped)" test "$r" = true
done_testing
