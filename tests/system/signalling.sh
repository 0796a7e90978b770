#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Signalling on the wire, decoded by scapy: Echo Response (to anyone, back to
# the request's address and port), Error Indication for an unknown TEID (its
# content and its rate limit, per peer and for strangers), Supported
# Extension Headers Notification, and Error Indications received: believed
# from the peer we send to, ignored from anyone else.
. "$(dirname "$0")/lib.sh"
GT_EI_RATE=10
. "$(dirname "$0")/topo.sh"
gt_setup
gt_listen enb "$T_DIR/enb.json" "$ENB4" "$ENB6" "$NOPEER4" "$NOPEER6" "$ENB2_4" || { not_ok "listener in enb"; done_testing; }
L_ENB=$GT_LPID
gt_listen upf "$T_DIR/upf.json" "$UPF4" "$UPF6" || { not_ok "listener in upf"; done_testing; }
L_UPF=$GT_LPID

# ---- Echo ----
S0=$T_DIR/s0.json
gt_snap "$S0"
echo_from() {   # BIND PORT DST SEQ: an Echo Request; replies to its socket go to echo-PORT.json
	gt_send enb --bind "$1" --port "$2" --dst "$3" --wait 1.5 --out "$T_DIR/echo-$2.json" \
		--pkt "GTP_U_Header(gtp_type=1, S=1, seq=$4)/GTPEchoRequest()"
}
: >"$T_DIR/echo-40001.json"; : >"$T_DIR/echo-40002.json"; : >"$T_DIR/echo-40003.json"; : >"$T_DIR/echo-40004.json"
BG=()
echo_from "$ENB4" 40001 "$DUT4E" 0x1234 & BG+=($!)
echo_from "$ENB6" 40002 "$DUT6E" 0xfffe & BG+=($!)
echo_from "$NOPEER4" 40003 "$DUT4E" 7 & BG+=($!)
echo_from "$NOPEER6" 40004 "$DUT6E" 0 & BG+=($!)
wait "${BG[@]}"
echo_rsp() {    # PORT: what came back to the request's socket
	gt_rs "$T_DIR/echo-$1.json" "[(r['src'], r['sport'], r['type'], r['S'], r['seq'], r['teid'], r['length'], r['ies']) for r in rs]"
}
is "Echo Response to enb over IPv4: to its port, seq copied, Recovery 0" \
	"$(echo_rsp 40001)" "[('$DUT4E', 2152, 2, 1, 4660, 0, 6, {'recovery': 0})]"
is "Echo Response to enb6 over IPv6" \
	"$(echo_rsp 40002)" "[('$DUT6E', 2152, 2, 1, 65534, 0, 6, {'recovery': 0})]"
is "Echo Response to a stranger over IPv4" \
	"$(echo_rsp 40003)" "[('$DUT4E', 2152, 2, 1, 7, 0, 6, {'recovery': 0})]"
is "Echo Response to a stranger over IPv6" \
	"$(echo_rsp 40004)" "[('$DUT6E', 2152, 2, 1, 0, 0, 6, {'recovery': 0})]"
is "no Echo Response went to port 2152 instead" "$(gt_rs "$T_DIR/enb.json" "len(rs)")" 0
is "counters: 4 Echo Requests received, 4 Responses sent, 4 answered" \
	"$(gt_eval "st('echo_requests_received'), st('echo_responses_sent'), st('answered'), drops()" "$S0")" "(4, 4, 4, {})"

# ---- Error Indication for an unknown TEID ----
S1=$T_DIR/s1.json
gt_snap "$S1"
gt_send enb --bind "$ENB4" --port 40010 --dst "$DUT4E" --hex 30ff00040000dead00000000
gt_send enb --bind "$ENB6" --port 40011 --dst "$DUT6E" --hex 32ff00080000beef1234000000000000
gt_until 3 '[ "$(gt_lines "$T_DIR/enb.json")" -ge 2 ]'
sleep 0.2
ei() {          # TEID: the Error Indications naming TEID
	gt_rs "$T_DIR/enb.json" "[(r['src'], r['sport'], r['type'], r['teid'], r['S'], r['E'], r['ext'], r['ies']) for r in rs if r.get('ies', {}).get('teid_data') == $1]"
}
is "Error Indication to enb:2152 over IPv4: TEID 0, S, TEID Data I, Peer Address, UDP Port" \
	"$(ei 0xdead)" \
	"[('$DUT4E', 2152, 26, 0, 1, 1, [{'type': 64, 'udp_port': 40010}], {'teid_data': 57005, 'peer_addr': '$DUT4E'})]"
is "Error Indication to enb6:2152 over IPv6, naming the G-PDU's destination" \
	"$(ei 0xbeef)" \
	"[('$DUT6E', 2152, 26, 0, 1, 1, [{'type': 64, 'udp_port': 40011}], {'teid_data': 48879, 'peer_addr': '$DUT6E'})]"
is "Error Indication Length right (scapy)" \
	"$(gt_rs "$T_DIR/enb.json" "all(r['length'] == r['len'] - 8 and 'error' not in r for r in rs)")" True
is "counted: 2 unknown_teid drops, 2 Error Indications sent" \
	"$(gt_eval "drops(), st('error_indications_sent'), st('forwarded')" "$S1")" "({'unknown_teid': 2}, 2, 0)"

# ---- Supported Extension Headers Notification ----
S2=$T_DIR/s2.json
gt_snap "$S2"
n_upf=$(gt_lines "$T_DIR/upf.json")
: >"$T_DIR/sehn.json"
# A known TEID with extension header 0xC5 (class 11: every receiver must
# comprehend it) after a PDU Session Container; 0xC5 first; 0xC5 on an
# unknown TEID (a Notification, not an Error Indication).
gt_send enb --bind "$ENB6" --port 40030 --dst "$DUT6E" --wait 1 --out "$T_DIR/sehn.json" \
	--hex 34ff00110000060000000085011009c501aabb0068656c6c6f \
	--hex 34ff000d00000600000000c501aabb0068656c6c6f \
	--hex 34ff000d00000bad000000c501aabb0068656c6c6f
sehn_all=$(gt_rs "$T_DIR/sehn.json" "len(rs)")+$(gt_rs "$T_DIR/enb.json" "sum(1 for r in rs if r['type'] == 31)")
diag "Supported Extension Headers Notifications at the source port + at port 2152: $sehn_all"
is "three Notifications, back to the source address and port" "$sehn_all" "3+0"
is "Notification: type 31, TEID 0, S, from gtpud's address, scapy reads Length right" \
	"$(gt_rs "$T_DIR/sehn.json" "set((r['src'], r['sport'], r['type'], r['teid'], r['S'], r['length'] == r['len'] - 8, 'error' in r) for r in rs)")" \
	"{('$DUT6E', 2152, 31, 0, 1, True, False)}"
is "Notification lists the PDU Session Container (0x85), not 0xC5" \
	"$(gt_rs "$T_DIR/sehn.json" "set((0x85 in r['ies']['ext_types'], 0xc5 in r['ies']['ext_types']) for r in rs)")" \
	"{(True, False)}"
sleep 0.3
is "counted: 3 ext_unsupported drops, 3 Notifications sent, no Error Indication" \
	"$(gt_eval "drops(), st('supp_ext_notifs_sent'), st('error_indications_sent'), st('forwarded')" "$S2")" \
	"({'ext_unsupported': 3}, 3, 0, 0)"
is "nothing relayed to upf" "$(gt_lines "$T_DIR/upf.json")" "$n_upf"

# An Echo Request carrying 0xC5 is discarded with a Notification, not
# answered (TS 29.281 5.2.1); a G-PDU with TEID 0 gets no Error Indication (7.3.1).
S2B=$T_DIR/s2b.json
gt_snap "$S2B"
n_enb=$(gt_lines "$T_DIR/enb.json")
: >"$T_DIR/sehn2.json"
gt_send enb --bind "$ENB6" --port 40031 --dst "$DUT6E" --wait 1 --out "$T_DIR/sehn2.json" \
	--hex 3401000800000000000000c501aabb00
# The same with 0x8F (class 10: the endpoint must comprehend it, and gtpud
# is the endpoint of signalling).
: >"$T_DIR/sehn3.json"
gt_send enb --bind "$ENB6" --port 40032 --dst "$DUT6E" --wait 1 --out "$T_DIR/sehn3.json" \
	--hex 34010008000000000000008f01aabb00
gt_send enb --bind "$ENB4" --port 40012 --dst "$DUT4E" --hex 30ff00040000000000000000
sleep 0.5
is "Echo Request with 0xC5: a Notification back, no Echo Response" \
	"$(gt_rs "$T_DIR/sehn2.json" "[r['type'] for r in rs]")" "[31]"
is "Echo Request with 0x8F: a Notification back, no Echo Response" \
	"$(gt_rs "$T_DIR/sehn3.json" "[r['type'] for r in rs]")" "[31]"
is "G-PDU with TEID 0: nothing sent back to port 2152" "$(gt_lines "$T_DIR/enb.json")" "$n_enb"
is "counted: ext_unsupported and unknown_teid, 2 Notifications, no Echo Response or Error Indication" \
	"$(gt_eval "drops(), st('supp_ext_notifs_sent'), st('echo_responses_sent'), st('error_indications_sent')" "$S2B")" \
	"({'ext_unsupported': 2, 'unknown_teid': 1}, 2, 0, 0)"

# ---- Error Indications received ----
S3=$T_DIR/s3.json
gt_snap "$S3"
eipkt() {       # TEID ADDR: an Error Indication naming TEID and GTP-U Peer Address ADDR
	local len=4 f=ipv4_address
	case $2 in *:*) len=16 f=ipv6_address ;; esac
	echo "GTP_U_Header(gtp_type=26, teid=0, S=1, seq=1)/GTPErrorIndication(IE_list=[IE_TEIDI(TEIDI=$1), IE_GSNAddress(length=$len, $f='$2')])"
}
# Spoofed: upf's tunnel and address, but from a stranger; enb2 naming what
# we send to enb; upf naming a wrong address; upf naming enb's TEID.
BG=()
gt_send enb --bind "$NOPEER4" --port 0 --dst "$DUT4E" --pkt "$(eipkt 0x200 "$UPF4")" & BG+=($!)
gt_send enb --bind "$ENB2_4" --port 0 --dst "$DUT4E" --pkt "$(eipkt 0x101 "$ENB2_4")" & BG+=($!)
gt_send upf --bind "$UPF4" --port 0 --dst "$DUT4U" --pkt "$(eipkt 0x200 198.51.100.99)" --pkt "$(eipkt 0x101 "$UPF4")" & BG+=($!)
wait "${BG[@]}"
gt_until 3 '[ "$(gt_eval "drop(\"error_ind_ignored\") + drop(\"error_ind_unknown_teid\")" "$S3")" -ge 4 ]'
# Not from the peer it names: ignored; from a peer, for a TEID no tunnel
# sends to it: a reason of its own.
is "4 spoofed or misdirected Error Indications ignored, none believed" \
	"$(gt_eval "drops(), st('error_indications_received'), st('answered')" "$S3")" \
	"({'error_ind_ignored': 2, 'error_ind_unknown_teid': 2}, 0, 0)"
is "no tunnel or peer counts them" \
	"$(gt_eval "sum(tu(n, 'error_indications_received') for n in T) + sum(pe(n, 'error_indications_received') for n in P)" "$S3")" 0
# Genuine: upf and upf6 name a TEID we send to them and their own address.
BG=()
gt_send upf --bind "$UPF4" --port 0 --dst "$DUT4U" --pkt "$(eipkt 0x200 "$UPF4")" & BG+=($!)
gt_send upf --bind "$UPF6" --port 0 --dst "$DUT6U" --pkt "$(eipkt 0x700 "$UPF6")" & BG+=($!)
wait "${BG[@]}"
gt_until 3 '[ "$(gt_eval "sum(tu(n, \"error_indications_received\") for n in T)" "$S3")" -ge 2 ]'
is "Error Indications from upf and upf6 counted, answered" \
	"$(gt_eval "drops(), st('error_indications_received'), st('answered')" "$S3")" \
	"({'error_ind_ignored': 2, 'error_ind_unknown_teid': 2}, 2, 2)"
is "per tunnel: up and up6 count one each" \
	"$(gt_eval "[(n, tu(n, 'error_indications_received')) for n in sorted(T) if tu(n, 'error_indications_received')]" "$S3")" \
	"[('up', 1), ('up6', 1)]"
is "per peer: upf and upf6 count one each" \
	"$(gt_eval "[(n, pe(n, 'error_indications_received')) for n in sorted(P) if pe(n, 'error_indications_received')]" "$S3")" \
	"[('upf', 1), ('upf6', 1)]"
# A configured tunnel stays: it still relays.
n_upf=$(gt_lines "$T_DIR/upf.json")
gt_send enb --bind "$ENB4" --port 0 --dst "$DUT4E" --hex 30ff000400000100aaaaaaaa
gt_until 3 '[ "$(gt_lines "$T_DIR/upf.json")" -gt "$n_upf" ]'
is "tunnel up still relays after the Error Indication" \
	"$(gt_rs "$T_DIR/upf.json" "[r['hex'] for r in rs][-1]")" 30ff000400000200aaaaaaaa

# Rate limit: rate = 10 per peer per second, burst 10 (gtpud.conf(5)).
# 1000 unknown-TEID G-PDUs within about 1 s may draw at most
# burst + rate * seconds (+1 for rounding) Error Indications.
ei_rate=10
ei_flood() {    # NAME BIND TEID
	gt_snap "$T_DIR/f-$1.json"
	gt_send enb --bind "$2" --port 0 --dst "$DUT4E" --hex "30ff0004${3}cafecafe" --count 1000 --rate 1000 \
		--report "$T_DIR/rep-$1.json"
	sleep 0.5
	local secs n sent
	secs=$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["seconds"])' "$T_DIR/rep-$1.json")
	max=$("$PY" -c 'import math, sys; r = int(sys.argv[2]); print(r + math.ceil(r * (float(sys.argv[1]) + 0.05)) + 1)' \
		"$secs" "$ei_rate")
	n=$(gt_rs "$T_DIR/enb.json" "sum(1 for r in rs if r.get('ies', {}).get('teid_data') == 0x$3)")
	sent=$(gt_eval "st('error_indications_sent')" "$T_DIR/f-$1.json")
	diag "$1: 1000 G-PDUs in ${secs}s drew $n Error Indications (at most $max allowed); gtpud counted $sent"
	if [ "$n" -ge "$ei_rate" ] && [ "$n" -le "$max" ]; then ok "$1: Error Indications within the rate limit"; else
		not_ok "$1: Error Indications within the rate limit"; diag "got $n, want $ei_rate..$max"; fi
	is "$1: error_indications_sent = Error Indications received" "$sent" "$n"
	is "$1: every G-PDU counted as unknown_teid" "$(gt_eval "drops()" "$T_DIR/f-$1.json")" "{'unknown_teid': 1000}"
}
ei_flood "from the peer enb" "$ENB4" 00000f01
ei_flood "from a stranger (global budget)" "$NOPEER4" 00000f02
# A reload that changes the rate: both budgets, the peer's and the
# strangers', follow it (a full burst of the new rate at once).
GT_EI_RATE=30 gt_conf
check "reload with error_indication.rate = 30" gt_ctl reload
ei_rate=30
ei_flood "from the peer enb, rate 30 after the reload" "$ENB4" 00000f03
ei_flood "from a stranger, rate 30 after the reload" "$NOPEER4" 00000f04


is "rx_packets = forwarded + answered + dropped" "$(gt_eval 'ident()')" True
gt_stop "$L_ENB"
gt_stop "$L_UPF"
check "gtpud still running" kill -0 "$GT_PID"
done_testing
