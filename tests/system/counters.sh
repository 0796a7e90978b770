#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The counters say what the pages say, Echo included. upf is supervised
# with Echo every second and a scapy responder there answers each request
# and counts every datagram it gets; enb sends G-PDUs, Echo Requests and
# G-PDUs with an unknown TEID, a stranger Echo Requests. Then: sent packets
# (globally and per peer) include the Echo Requests, and a peer's equal what
# it received on the wire; received = forwarded + answered + dropped, with
# answered = signalling answered (Echo Requests answered) + signalling
# received (Echo Responses taken in), each what was sent; gtpuctl stats
# shows them, icmp errors sent and events lost; every per-peer metric family
# is gtpud_peer_*, with the same values as the JSON.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/topo.sh"
gt_need
gt_topo || { not_ok "topology"; done_testing; }
conf() {    # conf INTERVAL
	cat >"$GT_CONF" <<EOF
listen = [ "0.0.0.0:2152" ];
control = { path = "$GT_SOCK"; mode = "0600"; };
echo = { interval = $1; t3 = 1; n3 = 3; };
error_indication = { enabled = true; rate = 100; quiet = 0; };
peers = (
  { name = "enb"; address = "$ENB4"; },
  { name = "upf"; address = "$UPF4"; echo = true; }
);
tunnels = (
  { name = "up"; from = { peer = "enb"; teid = 0x100; }; to = { peer = "upf"; teid = 0x200; }; }
);
EOF
}
conf 1

# The responder: an Echo Response (scapy) to each Echo Request, every
# datagram counted, the count written as it changes.
# Started as the process itself ($!), so that the cleanup ends it.
ip netns exec "${NS_PREFIX}upf" "$PY" - "$UPF4" "$T_DIR/upf.count" "$T_DIR/upf.ready" <<'EOF' &
import socket, sys
from scapy.contrib.gtp import GTPHeader, GTPEchoResponse, IE_Recovery
from scapy.all import raw
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 2152))
s.settimeout(30)
open(sys.argv[3], 'w').close()
n = 0
try:
    while True:
        b, a = s.recvfrom(65535)
        n += 1
        h = GTPHeader(b)
        if h.gtp_type == 1:
            s.sendto(raw(GTPHeader(seq=h.seq, S=1, gtp_type=2) / GTPEchoResponse(IE_list=[IE_Recovery(restart_counter=0)])), a)
        with open(sys.argv[2] + '.tmp', 'w') as f:
            f.write('%d\n' % n)
        import os
        os.rename(sys.argv[2] + '.tmp', sys.argv[2])
except socket.timeout:
    pass
EOF
T_PIDS="$T_PIDS $!"
wait_for 10 test -e "$T_DIR/upf.ready" || diag "the responder did not start"
gt_start || { not_ok "gtpud starts"; done_testing; }
ok "gtpud starts, upf supervised with Echo every second"
check "upf comes up on the responder's Echo Responses" gt_until 10 '[ "$(gt_ctl --json peers | "$PY" -c "import json,sys; print(json.load(sys.stdin)[1][\"state\"])")" = up ]'

gt_send enb --bind "$ENB4" --dst "$DUT4E" --pkt "GTP_U_Header(gtp_type=255, teid=0x100)/Raw(b'x' * 40)" --count 20
gt_send enb --bind "$ENB4" --dst "$DUT4E" --pkt "GTP_U_Header(seq=0x1234, S=1)/GTPEchoRequest()" --count 5 \
	--wait 1 --out "$T_DIR/enb-echo.json"
gt_send enb --bind "$ENB4" --dst "$DUT4E" --pkt "GTP_U_Header(gtp_type=255, teid=0x999)/Raw(b'x')" --count 3 \
	--wait 1 --out "$T_DIR/enb-ei.json"
gt_send enb --bind "$NOPEER4" --port 40000 --dst "$DUT4E" --pkt "GTP_U_Header(seq=7, S=1)/GTPEchoRequest()" --count 2 \
	--wait 1 --out "$T_DIR/stranger.json"
sleep 2.5                            # a few more Echo exchanges with upf
# No more Echo Requests from here on: the counters stand still.
conf 0
kill -HUP "$GT_PID"
gt_until 5 '[ "$(gt_ctl --json status | "$PY" -c "import json,sys; print(json.load(sys.stdin)[\"reloads\"])")" = 1 ]'
sleep 1.5
gt_snap "$T_DIR/s.json"
upf_got=$(cat "$T_DIR/upf.count" 2>/dev/null)
diag "$(gt_eval "{k: v for k, v in S.items() if k != 'drops' and v}")"
diag "upf's responder received $upf_got datagrams"

is "enb got its 5 Echo Responses and 3 Error Indications" \
	"$(gt_rs "$T_DIR/enb-echo.json" "len(rs)") $(gt_rs "$T_DIR/enb-ei.json" "len(rs)")" "5 3"
is "Echo Requests were sent to upf, and answered" \
	"$(gt_eval "S['echo_requests_sent'] >= 2, S['echo_requests_sent'] == P['upf']['echo_requests_sent'], S['echo_responses_received'] == S['echo_requests_sent']")" \
	"(True, True, True)"
is "sent packets = forwarded + Echo Requests + Echo Responses + Error Indications + Notifications" \
	"$(gt_eval "S['tx_packets'] == S['forwarded'] + S['echo_requests_sent'] + S['echo_responses_sent'] + S['error_indications_sent'] + S['supp_ext_notifs_sent']")" True
is "upf's sent packets: the 20 G-PDUs and the Echo Requests, what its responder received" \
	"$(gt_eval "P['upf']['tx_packets'] == 20 + P['upf']['echo_requests_sent'], P['upf']['tx_packets']")" "(True, $upf_got)"
is "enb's sent packets: 5 Echo Responses and 3 Error Indications" "$(gt_eval "P['enb']['tx_packets']")" 8
is "sent packets and bytes: the peers' and the 2 Echo Responses to the stranger (as it got them)" \
	"$(gt_eval "S['tx_packets'] - sum(p['tx_packets'] for p in P.values()), S['tx_bytes'] - sum(p['tx_bytes'] for p in P.values())")" \
	"(2, $(gt_rs "$T_DIR/stranger.json" "sum(r['len'] for r in rs)"))"
is "enb's sent bytes: what it got on the wire" \
	"$(gt_eval "P['enb']['tx_bytes']")" "$(( $(gt_rs "$T_DIR/enb-echo.json" "sum(r['len'] for r in rs)") + $(gt_rs "$T_DIR/enb-ei.json" "sum(r['len'] for r in rs)") ))"
is "upf's sent bytes: the G-PDUs' and the Echo Requests' (12 bytes each: header and sequence word)" \
	"$(gt_eval "P['upf']['tx_bytes'] - T['up']['tx_bytes'] == 12 * P['upf']['echo_requests_sent'], S['tx_bytes'] >= P['upf']['tx_bytes']")" \
	"(True, True)"
is "received = forwarded + answered + dropped" "$(gt_eval 'ident()')" True
is "answered = signalling answered + signalling received" \
	"$(gt_eval "S['answered'] == S['signalling_answered'] + S['signalling_received']")" True
is "signalling answered: the 7 Echo Requests answered, nothing else" \
	"$(gt_eval "S['signalling_answered'], S['echo_responses_sent'], S['echo_requests_received']")" "(7, 7, 7)"
is "signalling received: the Echo Responses from upf, nothing else" \
	"$(gt_eval "S['signalling_received'] == S['echo_responses_received'] == P['upf']['rx_packets']")" True
is "received: enb's 28 datagrams, upf's responses, the stranger's 2" \
	"$(gt_eval "S['rx_packets'] == P['enb']['rx_packets'] + P['upf']['rx_packets'] + 2, P['enb']['rx_packets']")" "(True, 28)"

gt_ctl stats >"$T_DIR/stats.txt"
for l in "signalling answered +7" "signalling received +[0-9]+" "icmp errors sent +0" "events lost +0" \
	"drops recorded +[0-9]+" "sent packets +$(gt_eval "S['tx_packets']")"; do
	check "gtpuctl stats: $l" grep -Eq "^$l\$" "$T_DIR/stats.txt"
done
check "gtpuctl stats: no 'answered' line that mixes the two" sh -c "! grep -q '^answered' '$T_DIR/stats.txt'"

gt_ctl metrics >"$T_DIR/metrics.txt"
is "every per-peer family is gtpud_peer_*" \
	"$(grep -o '^gtpud_[a-z_]*{peer=' "$T_DIR/metrics.txt" | sort -u | grep -vc '^gtpud_peer_')" 0
check "gtpud_rx_packets_total and its siblings are gone" sh -c "! grep -Eq '^gtpud_(rx|tx)_(packets|bytes)_total' '$T_DIR/metrics.txt'"
is "gtpud_peer_tx_packets_total{peer=\"upf\"} is the JSON's" \
	"$(sed -n 's/^gtpud_peer_tx_packets_total{peer="upf"} //p' "$T_DIR/metrics.txt")" "$(gt_eval "P['upf']['tx_packets']")"
is "gtpud_signalling_answered_total, gtpud_signalling_received_total, gtpud_answered_total" \
	"$(for m in signalling_answered signalling_received answered; do sed -n "s/^gtpud_${m}_total //p" "$T_DIR/metrics.txt"; done | tr '\n' ' ')" \
	"$(gt_eval "'%d %d %d ' % (S['signalling_answered'], S['signalling_received'], S['answered'])")"
is "every family has a HELP text" \
	"$(awk '/^# HELP/ && NF < 4 { n++ } END { print n + 0 }' "$T_DIR/metrics.txt")" 0
done_testing
