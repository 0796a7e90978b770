#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# An independent decoder's view: tshark captures in gtpud's namespace while
# gtpud relays G-PDUs and End Markers, answers Echo, sends Error Indications
# and a Supported Extension Headers Notification. Nothing gtpud sent may be
# malformed or carry an expert warning or error, and the TEIDs are the ones
# the config says.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/topo.sh"
gt_need
need_cmd tshark
gt_topo || { not_ok "topology"; done_testing; }
gt_conf
gt_start || { not_ok "gtpud starts"; done_testing; }
ok "gtpud starts in dut"

PCAP=$T_DIR/dut.pcapng
ip netns exec "${NS_PREFIX}dut" tshark -q -i any -f "udp port 2152" -w "$PCAP" >"$T_DIR/tshark.log" 2>&1 &
TS_PID=$!
T_PIDS="$T_PIDS $TS_PID"
gt_until 10 'grep -q "Capturing on" "$T_DIR/tshark.log"' || { not_ok "tshark captures"; sed 's/^/# /' "$T_DIR/tshark.log"; done_testing; }
sleep 0.5

G="GTP_U_Header(gtp_type=255"
gt_send enb --bind "$ENB4" --port 0 --dst "$DUT4E" \
	--pkt "$G, teid=0x100)/IP(src='198.51.100.45', dst='203.0.113.9')/UDP(sport=1000, dport=2000)/Raw(b'x' * 64)" \
	--pkt "$G, teid=0x100, S=1, seq=77)/IP(src='198.51.100.45', dst='203.0.113.9')/ICMP()" \
	--pkt "$G, teid=0x100, E=1, next_ex=0x85)/GTPPDUSessionContainer(type=1, QFI=9)/IP(src='198.51.100.45', dst='203.0.113.9')/UDP()" \
	--pkt "$G, teid=0x400, E=1, next_ex=0x85)/GTPPDUSessionContainer(type=1, QFI=1)/IPv6(src='2001:db8:45::2', dst='2001:db8:99::9')/UDP()" \
	--pkt "GTP_U_Header(gtp_type=254, teid=0x100)" \
	--pkt "GTP_U_Header(gtp_type=1, S=1, seq=5)/GTPEchoRequest()" \
	--pkt "$G, teid=0xdead)/IP(src='198.51.100.45', dst='203.0.113.9')/UDP()" \
	--hex 34ff000d00000100000000c501aabb0068656c6c6f
gt_send upf --bind "$UPF4" --port 0 --dst "$DUT4U" \
	--pkt "$G, teid=0x201, E=1, next_ex=0x85)/GTPPDUSessionContainer(type=0, QFI=9)/IP(src='203.0.113.9', dst='198.51.100.45')/UDP()"
gt_send upf --bind "$UPF6" --port 0 --dst "$DUT6U" \
	--pkt "$G, teid=0x701)/IPv6(src='2001:db8:99::9', dst='2001:db8:45::2')/UDP()" \
	--pkt "$G, teid=0x501, S=1, seq=3)/IP(src='203.0.113.9', dst='198.51.100.45')/UDP()" \
	--pkt "GTP_U_Header(gtp_type=1, S=1, seq=6)/GTPEchoRequest()" \
	--pkt "$G, teid=0xbeef)/Raw(b'unknown')"
gt_until 5 '[ "$(gt_eval "st(\"tx_packets\")")" -ge 13 ]'
sleep 0.5
kill -INT "$TS_PID"
wait "$TS_PID" 2>/dev/null
is "gtpud sent 13 packets: 8 relayed, 2 Echo Responses, 2 Error Indications, 1 Notification" \
	"$(gt_eval "S['forwarded'], S['echo_responses_sent'], S['error_indications_sent'], S['supp_ext_notifs_sent'], S['tx_packets']")" "(8, 2, 2, 1, 13)"

FROM_DUT="ip.src == $DUT4E || ip.src == $DUT4U || ipv6.src == $DUT6E || ipv6.src == $DUT6U"
fields() { tshark -n -r "$PCAP" -Y "$1" -T fields -E separator=' ' "${@:2}" 2>"$T_DIR/tshark-r.log"; }
all=$(fields "($FROM_DUT) && gtp" -e frame.number)
is "tshark decodes 13 GTP packets from gtpud's addresses" "$(echo "$all" | grep -c .)" 13
bad=$(fields "($FROM_DUT) && (_ws.malformed || _ws.expert.severity >= 0x00600000)" \
	-e frame.number -e gtp.message -e _ws.expert.message)
is "none malformed, no expert warning or error" "$bad" ""
[ -n "$bad" ] && tshark -n -r "$PCAP" -Y "($FROM_DUT) && (_ws.malformed || _ws.expert.severity >= 0x00600000)" -V 2>/dev/null | sed 's/^/# /' | head -80
all_ws=$(fields "_ws.malformed || _ws.expert.severity >= 0x00600000" -e frame.number -e ip.src -e ipv6.src)
[ -n "$all_ws" ] && diag "frames with warnings (not all from gtpud): $all_ws"

# Message type and TEID of each packet gtpud sent, sorted.
got=$(fields "$FROM_DUT" -e gtp.message -e gtp.teid | sort | uniq -c | awk '{ print $2 "/" $3 "x" $1 }' | tr '\n' ' ')
want="0x02/0x00000000x2 0x1a/0x00000000x2 0x1f/0x00000000x1 0xfe/0x00000200x1 0xff/0x00000101x1 0xff/0x00000200x3 0xff/0x00000401x1 0xff/0x00000500x1 0xff/0x00000601x1 "
is "message types and TEIDs as tshark reads them" "$got" "$want"
is "Error Indications name the unknown TEIDs (TEID Data I) and gtpud's address" \
	"$(fields "($FROM_DUT) && gtp.message == 0x1a" -e gtp.teid -e gtp.flags.s -e gtp.teid_data -e gtp.gsn_ipv4 -e gtp.gsn_ipv6 -e gtp.ext_hdr.udp_port | sort | cut -d' ' -f1-5 | tr '\n' ';')" \
	"0x00000000 1 0x0000beef  $DUT6U;0x00000000 1 0x0000dead $DUT4E ;"
is "UDP Port extension headers name the G-PDUs' source ports" \
	"$(fields "($FROM_DUT) && gtp.message == 0x1a" -e gtp.ext_hdr.udp_port | awk '$1 > 1023 && $1 < 65536' | wc -l)" 2
is "the Notification lists 0x85, not 0xc5" \
	"$(fields "($FROM_DUT) && gtp.message == 0x1f" -e gtp.ext_hdr_type | tr ',' '\n' | grep -cxE '133|197')" 1
is "PDU Session Containers relayed with their QFI" \
	"$(fields "($FROM_DUT) && gtp.ext_hdr.pdu_ses_con.qos_flow_id" -e gtp.teid -e gtp.ext_hdr.pdu_ses_con.qos_flow_id -e gtp.ext_hdr.pdu_ses_con.pdu_type | sort | tr '\n' ';')" \
	"0x00000101 9 0;0x00000200 9 1;0x00000500 1 1;"
check "gtpud still running" kill -0 "$GT_PID"
done_testing
