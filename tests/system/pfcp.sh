#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# PFCP user plane: scapy's PFCP layers play the control plane (pfcp_cp.py)
# from the upf namespace, scapy GTP-U peers the RAN (enb) and the core (upf).
# Association, heartbeat, a tunnel map (relay) with CHOOSE F-TEIDs, G-PDUs
# relayed through it, a FAR moved with SNDEM (the End Marker is seen), a
# FAR set to DROP, deletion (then unknown_teid), an endpoint session on the
# TUN device, a control-plane restart (sessions gone), requests from a node
# not allowed, retransmissions answered alike and applied once, malformed
# input, and tshark's verdict on everything gtpud sent. pfcp_xdp.sh runs it
# again with the XDP fast path.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/topo.sh"
gt_need
gt_topo || { not_ok "topology"; done_testing; }
gt_xdp_prep || { not_ok "XDP_PASS programs on the peers' interfaces"; done_testing; }
CP4=198.51.100.30
ip -n "${NS_PREFIX}upf" addr add "$CP4/24" dev "$(gt_dev upf)"
gt_conf
# Echo for the peers PFCP brings (every second, down after one lost),
# none for the configured ones (the scapy peers do not answer).
sed -i -e 's/^echo = .*/echo = { interval = 1; t3 = 1; n3 = 1; };/' \
	-e 's/address = \("[^"]*"\); }/address = \1; echo = false; }/' "$GT_CONF"
cat >>"$GT_CONF" <<EOF
tun = { name = "gtpf$$"; addresses = [ "203.0.113.1/24" ]; };
pfcp = {
  listen = [ "$DUT4U:8805" ];
  node_id = "$DUT4U";
  allow = [ "$CP4" ];
  access_address = [ "$DUT4E" ];
  core_address = [ "$DUT4U" ];
  heartbeat_interval = 1;
  heartbeat_timeout = 1;
  heartbeat_retries = 2;
  max_rules = 16;
  buffer_time = 2;
};
EOF
gt_start || { not_ok "gtpud starts with a pfcp group"; done_testing; }
ok "gtpud starts with a pfcp group"
[ -z "$GT_XDP" ] || is "XDP program attached in $GT_XDP mode" "$(gt_eval "S['paths']['xdp']['mode']")" "$GT_XDP"

CAP=$T_DIR/pfcp.pcap
if command -v tshark >/dev/null 2>&1; then
	ip netns exec "${NS_PREFIX}dut" tshark -q -i any -f "udp port 8805" -w "$CAP" >/dev/null 2>&1 &
	TS_PID=$!
	T_PIDS="$T_PIDS $TS_PID"
	sleep 1
fi

FIFO=$T_DIR/cp.fifo
CP_OUT=$T_DIR/cp.json
mkfifo "$FIFO"
: >"$CP_OUT"
ip netns exec "${NS_PREFIX}upf" "$PY" "$TESTS_PY/pfcp_cp.py" serve --bind "$CP4" --upf "$DUT4U" \
	--cmd "$FIFO" --out "$CP_OUT" &
CP_PID=$!
T_PIDS="$T_PIDS $CP_PID"
exec 7>"$FIFO"
CMD_N=0
# cp WORDS...: run a control-plane command, wait for its answer; the JSON
# answer is in $R.
# (The id names the shell too: a count kept in a subshell is lost.)
cp() {
	local id
	CMD_N=$((CMD_N + 1))
	id=c${CMD_N}p$BASHPID
	echo "$id $*" >&7
	gt_until 10 "grep -q '\"id\": \"$id\"' '$CP_OUT'"
	R=$(grep "\"id\": \"$id\"" "$CP_OUT" | tail -1)
}
# j EXPR: EXPR over d, the last answer.
j() { "$PY" -c 'import json, sys; d = json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$R" "$1"; }

cp assoc
is "association setup accepted, FTUP and EMPU advertised, our node ID" \
	"$(j "d.get('type'), d.get('cause'), d.get('ftup'), d.get('empu'), d.get('node_id')")" \
	"(6, 1, 1, 1, '$DUT4U')"
is "gtpuctl pfcp lists the association" \
	"$(gt_ctl --json pfcp | "$PY" -c 'import json,sys; a=json.load(sys.stdin); print([(x["node"], x["sessions"]) for x in a])')" \
	"[('$CP4', 0)]"
cp hb
is "heartbeat answered with gtpud's recovery time stamp" "$(j "d.get('type'), d.get('rts', 0) > 3800000000")" "(2, True)"
cp idle 3
is "gtpud sends heartbeats to the associated node, which answers" \
	"$(grep -c '"got": 1' "$CP_OUT" | awk '{ print ($1 >= 2) }')" 1

# A tunnel map as osmo-hnbgw asks for one: access (enb) <-> core (upf).
cp relay 0x77 "$ENB4" 0x1001 "$UPF4" 0x2002
is "relay session established, two F-TEIDs chosen" \
	"$(j "d.get('type'), d.get('cause'), d.get('seid'), sorted(d.get('created', {}))")" "(51, 1, 119, ['1', '2'])"
UP=$(j "d['up_seid']")
A_TEID=$(j "d['created']['1']['teid']")
C_TEID=$(j "d['created']['2']['teid']")
is "F-TEID addresses: access_address for Access, core_address for Core" \
	"$(j "d['created']['1']['v4'], d['created']['2']['v4']")" "('$DUT4E', '$DUT4U')"
is "gtpuctl sessions shows it with its tunnels" \
	"$(gt_ctl --json sessions | "$PY" -c 'import json,sys; a=json.load(sys.stdin); print([(x["cp_seid"], len(x["tunnels"])) for x in a])')" \
	"[('0x0000000000000077', 2)]"
is "tunnels of origin pfcp" \
	"$(gt_ctl --json tunnels | "$PY" -c 'import json,sys; print(sorted(t["origin"] for t in json.load(sys.stdin) if t["origin"] == "pfcp"))')" \
	"['pfcp', 'pfcp']"

gt_listen enb "$T_DIR/enb.json" "$ENB4" || { not_ok "listener in enb"; done_testing; }
L_ENB=$GT_LPID
gt_listen upf "$T_DIR/upf.json" "$UPF4" || { not_ok "listener in upf"; done_testing; }
L_UPF=$GT_LPID
gt_send enb --bind "$ENB4" --port 0 --dst "$DUT4E" --pkt "GTP_U_Header(gtp_type=255, teid=$A_TEID)/Raw(b'uplink {i}')" --count 5
gt_send upf --bind "$UPF4" --port 0 --dst "$DUT4U" --pkt "GTP_U_Header(gtp_type=255, teid=$C_TEID)/Raw(b'downlink {i}')" --count 5
gt_until 5 '[ "$(gt_lines "$T_DIR/upf.json")" -ge 5 ] && [ "$(gt_lines "$T_DIR/enb.json")" -ge 5 ]'
is "uplink relayed to the core peer with the core's TEID" \
	"$(gt_rs "$T_DIR/upf.json" "sorted(set((r['teid'], r['src']) for r in rs))")" "[(8194, '$DUT4U')]"
is "downlink relayed to the access peer with its TEID" \
	"$(gt_rs "$T_DIR/enb.json" "sorted(set((r['teid'], r['src']) for r in rs))")" "[(4097, '$DUT4E')]"
is "payloads kept" "$(gt_rs "$T_DIR/upf.json" "sorted(bytes.fromhex(r['hex'])[8:].decode() for r in rs)")" \
	"['uplink 0', 'uplink 1', 'uplink 2', 'uplink 3', 'uplink 4']"
if [ -n "$GT_XDP" ]; then
	# With the fast path (pfcp_xdp.sh): the session's plain forwarding is
	# relayed in XDP, counted to the session's tunnel, to the sending peer
	# and in all, as the sockets count.
	XS=$T_DIR/xdp0.json
	gt_snap "$XS"
	N_UPF=$(gt_lines "$T_DIR/upf.json")
	gt_send enb --bind "$ENB4" --port 0 --dst "$DUT4E" --pkt "GTP_U_Header(gtp_type=255, teid=$A_TEID)/Raw(b'xdp {i}')" --count 10
	gt_until 5 "[ \"\$(gt_lines '$T_DIR/upf.json')\" -ge $((N_UPF + 10)) ]"
	is "XDP: the session's uplink relayed in XDP, all 10" \
		"$(gt_eval "S['paths']['xdp']['forwarded'] - S0['paths']['xdp']['forwarded'], st('forwarded')" "$XS")" "(10, 10)"
	is "XDP: counted to the sending peer and to the session's tunnel" \
		"$(gt_eval "pe('enb', 'rx_packets'), sum(tu(n, 'rx_packets') for n in T if T[n]['origin'] == 'pfcp')" "$XS")" "(10, 10)"
	is "XDP: with the TEID the core gave" "$(gt_rs "$T_DIR/upf.json" "sorted(set(r['teid'] for r in rs[$N_UPF:]))")" "[8194]"
	is "rx_packets = forwarded + answered + dropped over both paths" "$(gt_eval 'ident()')" True
fi

# An Error Indication from the core peer for the TEID the session sends
# with: a Session Report (Error Indication Report) to the control plane.
gt_send upf --bind "$UPF4" --port 0 --dst "$DUT4U" --pkt "GTP_U_Header(gtp_type=26, teid=0, S=1, seq=1)/GTPErrorIndication(IE_list=[IE_TEIDI(TEIDI=0x2002), IE_GSNAddress(length=4, ipv4_address='$UPF4')])"
cp idle 2
is "Error Indication for a PFCP tunnel: Session Report Request, ERIR, the remote F-TEID" \
	"$(grep '"got": 56' "$CP_OUT" | tail -1 | "$PY" -c 'import json,sys; d=json.load(sys.stdin); print(d["seid"], d["report_type"], d["ei_report"])')" \
	"119 {'erir': 1} [{'teid': 8194, 'addr': '$UPF4'}]"

# A reload keeps the sessions and their tunnels (and the dynamic peers).
gt_ctl reload >/dev/null 2>&1
is "reload: the session and its two tunnels stay" \
	"$(gt_ctl --json status | "$PY" -c 'import json,sys; d=json.load(sys.stdin); print(d["pfcp"]["sessions"], d["pfcp_tunnels"])')" "1 2"
gt_send enb --bind "$ENB4" --port 0 --dst "$DUT4E" --pkt "GTP_U_Header(gtp_type=255, teid=$A_TEID)/Raw(b'after reload')"
gt_until 5 "[ \"\$(gt_rs '$T_DIR/upf.json' 'sum(1 for r in rs if b\"after reload\" in bytes.fromhex(r[\"hex\"]))')\" = 1 ]"
is "and relays after it" "$(gt_rs "$T_DIR/upf.json" "sum(1 for r in rs if b'after reload' in bytes.fromhex(r['hex']))")" 1

# The core side's FAR moves to a new access TEID with SNDEM: an End Marker
# to the old one, then traffic to the new one.
cp movefar "$UP" 2 "$ENB4" 0x1003 sndem
is "modification accepted" "$(j "d.get('type'), d.get('cause'), d.get('seid')")" "(53, 1, 119)"
gt_until 3 '[ "$(gt_lines "$T_DIR/enb.json")" -ge 6 ]'
is "End Marker sent to the old access TEID" \
	"$(gt_rs "$T_DIR/enb.json" "[(r['type'], r['teid']) for r in rs if r['type'] == 254]")" "[(254, 4097)]"
gt_send upf --bind "$UPF4" --port 0 --dst "$DUT4U" --pkt "GTP_U_Header(gtp_type=255, teid=$C_TEID)/Raw(b'moved {i}')" --count 3
gt_until 5 '[ "$(gt_lines "$T_DIR/enb.json")" -ge 9 ]'
is "downlink now goes to the new TEID" \
	"$(gt_rs "$T_DIR/enb.json" "[r['teid'] for r in rs if r['type'] == 255 and b'moved' in bytes.fromhex(r['hex'])]")" "[4099, 4099, 4099]"

# FAR DROP: counted as far_drop.
S1=$T_DIR/s1.json
gt_snap "$S1"
cp dropfar "$UP" 1
is "FAR set to DROP accepted" "$(j "d.get('cause')")" 1
gt_send enb --bind "$ENB4" --port 0 --dst "$DUT4E" --pkt "GTP_U_Header(gtp_type=255, teid=$A_TEID)/Raw(b'x')" --count 4
gt_until 3 "[ \"\$(gt_eval \"drop('far_drop')\" '$S1')\" = 4 ]"
is "G-PDUs of a dropping FAR are counted as far_drop" "$(gt_eval "drop('far_drop')" "$S1")" 4

# Retransmission: the same request (same sequence number) is answered
# alike and applied once.
REQ=$("$PY" -c "
from scapy.all import raw
from scapy.contrib.pfcp import *
p = PFCP(S=1, seid=$UP, seq=4242) / PFCPSessionModificationRequest(IE_list=[IE_CreateFAR(IE_list=[IE_FAR_Id(id=9), IE_ApplyAction(DROP=1)])])
print(raw(p).hex())")
cp raw "$REQ"
R1=$R
cp raw "$REQ"
is "a retransmitted request gets the same response" "$(j "d.get('cause'), d.get('seq')")" "(1, 4242)"
is "and is applied once (FAR 9 created once: no duplicate-ID refusal)" \
	"$(echo "$R1" | "$PY" -c 'import json,sys; print(json.load(sys.stdin).get("cause"))')" 1

# Deletion: the TEIDs are gone, traffic is unknown_teid.
gt_snap "$S1"
cp delete "$UP"
is "session deleted" "$(j "d.get('type'), d.get('cause')")" "(55, 1)"
gt_send enb --bind "$ENB4" --port 0 --dst "$DUT4E" --pkt "GTP_U_Header(gtp_type=255, teid=$A_TEID)/Raw(b'late')" --count 2
gt_until 3 "[ \"\$(gt_eval \"drop('unknown_teid')\" '$S1')\" = 2 ]"
is "after deletion G-PDUs are unknown_teid" "$(gt_eval "drop('unknown_teid')" "$S1")" 2
cp delete "$UP"
is "deleting it again: Session context not found, SEID 0" "$(j "d.get('cause'), d.get('seid')")" "(65, 0)"

# Bad requests: precise causes, nothing half applied.
N_T=$(gt_ctl --json status | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["tunnels"])')
cp hexof "PFCP(S=1, seid=0, seq=900) / PFCPSessionEstablishmentRequest(IE_list=[IE_NodeId(id_type=0, ipv4='$CP4'), IE_CreatePDR(IE_list=[IE_PDR_Id(id=1)]), IE_CreateFAR(IE_list=[IE_FAR_Id(id=1), IE_ApplyAction(DROP=1)])])"
is "establishment without CP F-SEID: mandatory IE missing, Offending IE F-SEID" \
	"$(j "d.get('cause'), d.get('offending')")" "(66, 57)"
cp hexof "PFCP(S=1, seid=0, seq=901) / PFCPSessionEstablishmentRequest(IE_list=[IE_NodeId(id_type=0, ipv4='$CP4'), IE_FSEID(v4=1, seid=5, ipv4='$CP4'), IE_CreatePDR(IE_list=[IE_PDR_Id(id=1), IE_Precedence(precedence=1), IE_PDI(IE_list=[IE_SourceInterface(interface=0), IE_FTEID(CH=1, V4=1)]), IE_OuterHeaderRemoval(header=0), IE_FAR_Id(id=1)]), IE_CreatePDR(IE_list=[IE_PDR_Id(id=1), IE_Precedence(precedence=1), IE_PDI(IE_list=[IE_SourceInterface(interface=0), IE_FTEID(CH=1, V4=1)]), IE_FAR_Id(id=1)]), IE_CreateFAR(IE_list=[IE_FAR_Id(id=1), IE_ApplyAction(DROP=1)])])"
is "duplicate PDR ID: rule creation failure, Failed Rule ID PDR 1" \
	"$(j "d.get('cause'), d.get('failed_rule')")" "(73, [0, 1])"
cp hexof "PFCP(S=1, seid=0, seq=902) / PFCPSessionEstablishmentRequest(IE_list=[IE_NodeId(id_type=0, ipv4='$CP4'), IE_FSEID(v4=1, seid=6, ipv4='$CP4'), IE_CreatePDR(IE_list=[IE_PDR_Id(id=1), IE_Precedence(precedence=1), IE_PDI(IE_list=[IE_SourceInterface(interface=0), IE_FTEID(CH=1, V4=1)]), IE_OuterHeaderRemoval(header=0), IE_FAR_Id(id=1)]), IE_CreateFAR(IE_list=[IE_FAR_Id(id=1), IE_ApplyAction(DUPL=1)])])"
is "Apply Action DUPL: service not supported, Failed Rule ID FAR 1" \
	"$(j "d.get('cause'), d.get('failed_rule')")" "(76, [1, 1])"
MANY=$("$PY" -c "
from scapy.all import raw
from scapy.contrib.pfcp import *
pdrs = [IE_CreatePDR(IE_list=[IE_PDR_Id(id=i), IE_Precedence(precedence=1), IE_PDI(IE_list=[IE_SourceInterface(interface=0), IE_FTEID(CH=1, V4=1)]), IE_OuterHeaderRemoval(header=0), IE_FAR_Id(id=1)]) for i in range(1, 1001)]
p = PFCP(S=1, seid=0, seq=903) / PFCPSessionEstablishmentRequest(IE_list=[IE_NodeId(id_type=0, ipv4='$CP4'), IE_FSEID(v4=1, seid=7, ipv4='$CP4')] + pdrs + [IE_CreateFAR(IE_list=[IE_FAR_Id(id=1), IE_ApplyAction(DROP=1)])])
print(raw(p).hex())")
cp raw "$MANY"
is "1000 PDRs in one establishment: no resources (max_rules)" "$(j "d.get('cause')")" 75
is "nothing half applied: the tunnel count is unchanged" \
	"$(gt_ctl --json status | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["tunnels"])')" "$N_T"
# (cp in the shell itself, never in a $(...): its command number must count.)
cp hexof "PFCP(S=0, seq=904) / PFCPAssociationSetupRequest(IE_list=[IE_NodeId(id_type=0, ipv4='$CP4')]) / Raw(b'\x00\x60\x00\x09\x00')"
is "an IE running past the end: invalid length" "$(j "d.get('cause'), d.get('seq')")" "(68, 904)"
cp raw 4101000c000001000060000400000001
is "version 2 header: Version Not Supported Response" "$(j "(d.get('type', d.get('error')), d.get('seq'))")" "(11, 1)"
[ "$(j "d.get('type')")" = 11 ] || diag "the control plane's last lines: $(tail -n 8 "$CP_OUT")"
M0=$(gt_ctl --json status | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["pfcp"]["malformed"])')
cp raw 2001000c00
is "a truncated header: no answer" "$(j "d.get('timeout')")" True
is "and counted as malformed" \
	"$(gt_ctl --json status | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["pfcp"]["malformed"])')" "$((M0 + 1))"
DEEP=$("$PY" -c "
import struct
from scapy.all import raw
from scapy.contrib.pfcp import *
g = lambda t, b: struct.pack('!HH', t, len(b)) + b   # a grouped IE, by hand: scapy recurses
pdi = raw(IE_PDI(IE_list=[IE_SourceInterface(interface=0), IE_FTEID(CH=1, V4=1)]))
for _ in range(200):
    pdi = g(2, pdi)
pdr = g(1, raw(IE_PDR_Id(id=1)) + raw(IE_Precedence(precedence=1)) + pdi + raw(IE_FAR_Id(id=1)))
body = raw(IE_NodeId(id_type=0, ipv4='$CP4')) + raw(IE_FSEID(v4=1, seid=8, ipv4='$CP4')) + pdr + \\
       raw(IE_CreateFAR(IE_list=[IE_FAR_Id(id=1), IE_ApplyAction(DROP=1)]))
hdr = struct.pack('!BBHQI', 0x21, 50, len(body) + 12, 0, 906 << 8)
print((hdr + body).hex())")
cp raw "$DEEP"
is "PDIs nested 200 deep: not descended into; the PDI lacks its Source Interface (66)" \
	"$(j "d.get('cause'), d.get('offending')")" "(66, 20)"
cp hexof "PFCP(S=1, seid=12345, seq=905) / PFCPSessionModificationRequest(IE_list=[])"
is "modification of an unknown session: Session context not found" "$(j "d.get('cause'), d.get('seid')")" "(65, 0)"

# An endpoint session: uplink decapsulated onto the TUN device, downlink
# from the device encapsulated towards the gNB.
TUN=gtpf$$
ip -n "${NS_PREFIX}dut" route add 203.0.113.128/25 dev "$TUN"
cp endpoint 0x88 203.0.113.200 "$ENB4" 0x3003
is "endpoint session established" "$(j "d.get('cause'), sorted(d.get('created', {}))")" "(1, ['1'])"
E_TEID=$(j "d['created']['1']['teid']")
EP=$(j "d['up_seid']")
gt_send enb --bind "$ENB4" --port 0 --dst "$DUT4E" --pkt "GTP_U_Header(gtp_type=255, teid=$E_TEID)/IP(src='203.0.113.200', dst='203.0.113.1')/ICMP(id=7, seq=1)/Raw(b'ping')" --count 3
gt_until 5 "[ \"\$(gt_rs '$T_DIR/enb.json' 'sum(1 for r in rs if r[\"teid\"] == 12291)')\" -ge 3 ]"
is "ping through the endpoint: three replies come back to the gNB's TEID, from gtpud" \
	"$(gt_rs "$T_DIR/enb.json" "sorted(set((r['teid'], r['src']) for r in rs if r['teid'] == 12291)), sum(1 for r in rs if r['teid'] == 12291)")" "([(12291, '$DUT4E')], 3)"
is "tunnel of the endpoint has the UE address" \
	"$(gt_ctl --json tunnels | "$PY" -c 'import json,sys; print([t["ue"] for t in json.load(sys.stdin) if t["origin"] == "pfcp"])')" \
	"[['203.0.113.200']]"

# Idle mode on the endpoint, as an SMF does for an idle UE: the downlink
# FAR to BUFF|NOCP; the replies to pings from the UE are held and reported
# once, naming the UE IP Address PDR (2); FORW with SNDEM at a new TEID: the
# End Marker to the old one, then the replies, in order.
cp createbar "$EP" 1 16
cp bufffar "$EP" 2 1 nocp
is "endpoint downlink FAR to BUFF|NOCP accepted" "$(j "d.get('cause')")" 1
N_ENB=$(gt_lines "$T_DIR/enb.json")
gt_send enb --bind "$ENB4" --port 0 --dst "$DUT4E" --count 3 \
	--pkt "GTP_U_Header(gtp_type=255, teid=$E_TEID)/IP(src='203.0.113.200', dst='203.0.113.1')/ICMP(id=8, seq={i})/Raw(b'idle')"
held() { gt_ctl --json sessions | "$PY" -c 'import json,sys; print([x["buffer"]["packets"] for x in json.load(sys.stdin) if x["seid"] == "0x%016x" % int(sys.argv[1]) and x["buffer"]])' "$EP"; }
gt_until 5 '[ "$(held)" = "[3]" ]'
is "the replies to the UE are held" "$(held)" "[3]"
cp idle 0.5
is "one Downlink Data Report naming the UE IP Address PDR" \
	"$(grep '"got": 56' "$CP_OUT" | grep '"dldr"' | "$PY" -c 'import json,sys; print([(d["seid"], d["dldr_pdr"]) for d in map(json.loads, sys.stdin)])')" \
	"[(136, [2])]"
is "nothing reaches the gNB meanwhile" "$(gt_lines "$T_DIR/enb.json")" "$N_ENB"
cp movefar "$EP" 2 "$ENB4" 0x3013 sndem
is "FORW again with SNDEM accepted" "$(j "d.get('cause')")" 1
gt_until 5 "[ \"\$(gt_lines '$T_DIR/enb.json')\" -ge $((N_ENB + 4)) ]"
is "End Marker to the old TEID, then the held replies in order at the new one" \
	"$(gt_rs "$T_DIR/enb.json" "[(r['teid'], 'EM' if r['type'] == 254 else int.from_bytes(bytes.fromhex(r['hex'])[34:36], 'big')) for r in rs[$N_ENB:]]")" \
	"[(12291, 'EM'), (12307, 0), (12307, 1), (12307, 2)]"

# QER (issue 19, in part): MBR 1 Mbit/s uplink, 3 Mbit/s downlink, QFI 9.
# A 5 Mbit/s uplink stream (1000-byte inner packets, 625 a second, 3 s) is
# policed to 1 Mbit/s, within 10%; the rest are rate_limit drops.
cp endpoint_qer 0x89 203.0.113.201 "$ENB4" 0x3004 1000 3000
is "session with a QER established" "$(j "d.get('cause')")" 1
Q_TEID=$(j "d['created']['1']['teid']")
Q_UP=$(j "d['up_seid']")
QT="pfcp-$(printf '%x' "$Q_UP")-1"
is "its tunnel: rate 1 Mbit/s up, QFI 9 for the downlink's PDU Session Container" \
	"$(gt_ctl --json tunnels "$QT" | "$PY" -c 'import json,sys; t=json.load(sys.stdin)[0]; print(t["rate"], t["qfi"])')" "1000000 9"
gt_send enb --bind "$ENB4" --port 0 --dst "$DUT4E" --rate 625 --count 1875 --report "$T_DIR/qer.rep" \
	--pkt "GTP_U_Header(gtp_type=255, teid=$Q_TEID)/IP(src='203.0.113.201', dst='203.0.113.1')/UDP(sport=5000, dport=9)/Raw(b'q' * 972)"
sleep 0.5
read -r QRX QDROP <<<"$(gt_ctl --json tunnels "$QT" | "$PY" -c 'import json,sys; t=json.load(sys.stdin)[0]; print(t["rx_packets"], t.get("drops", {}).get("rate_limit", 0))')"
QSECS=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["seconds"])' "$T_DIR/qer.rep")
QRATE=$("$PY" -c "print(round(($QRX - $QDROP) * 1000 * 8 / $QSECS))")
diag "received $QRX in $QSECS s, $QDROP over the rate: $QRATE bit/s passed"
is "5 Mbit/s policed to 1 Mbit/s within 10%" \
	"$("$PY" -c "print($QRX == 1875 and 900000 <= $QRATE <= 1100000)")" True
cp gate "$Q_UP" 1 1 0
is "Update QER: uplink gate closed" "$(j "d.get('cause')")" 1
S2=$T_DIR/s2.json
gt_snap "$S2"
gt_send enb --bind "$ENB4" --port 0 --dst "$DUT4E" --count 5 \
	--pkt "GTP_U_Header(gtp_type=255, teid=$Q_TEID)/IP(src='203.0.113.201', dst='203.0.113.1')/UDP(sport=5000, dport=9)/Raw(b'g')"
gt_until 3 "[ \"\$(gt_eval \"drop('far_drop')\" '$S2')\" = 5 ]"
is "a closed gate drops, counted as far_drop" "$(gt_eval "drop('far_drop')" "$S2")" 5
cp delete "$Q_UP"

# URR (issue 19, in part): volume threshold 5000 bytes, a report every 2 s,
# a Query URR, the final report at deletion; the bytes and packets reported
# are the tunnel's own counts.
cp endpoint_urr 0x8a 203.0.113.202 "$ENB4" 0x3005 5000 2
is "session with a URR established" "$(j "d.get('cause')")" 1
U_TEID=$(j "d['created']['1']['teid']")
U_UP=$(j "d['up_seid']")
UT="pfcp-$(printf '%x' "$U_UP")-1"
gt_send enb --bind "$ENB4" --port 0 --dst "$DUT4E" --count 10 \
	--pkt "GTP_U_Header(gtp_type=255, teid=$U_TEID)/IP(src='203.0.113.202', dst='203.0.113.1')/UDP(sport=5000, dport=9)/Raw(b'u' * 572)"
gt_until 3 "grep '\"got\": 56' '$CP_OUT' | grep -q VOLTH"
read -r URX URXB <<<"$(gt_ctl --json tunnels "$UT" | "$PY" -c 'import json,sys; t=json.load(sys.stdin)[0]; print(t["rx_packets"], t["rx_bytes"])')"
is "volume threshold crossed: a Session Report Request (USAR) with the tunnel's exact counts" \
	"$(grep '"got": 56' "$CP_OUT" | grep VOLTH | head -1 | "$PY" -c 'import json,sys; d=json.load(sys.stdin); u=d["usage"][0]; print(d["seid"], u["urr"], u["trigger"], u["ul"], u["ul_pkts"], u["total"] == u["ul"] + u["dl"])')" \
	"138 1 ['VOLTH'] $URXB $URX True"
cp idle 2.5
is "a periodic report within the period" \
	"$(grep '"got": 56' "$CP_OUT" | grep -c PERIO | awk '{ print ($1 >= 1) }')" 1
cp query "$U_UP" 1
is "Query URR: the Modification Response carries an immediate report" \
	"$(j "d.get('cause'), [(u['ie'], u['urr'], u['trigger']) for u in d.get('usage', [])]")" "(1, [(78, 1, ['IMMER'])])"
QLINE=$(grep -n "\"id\": \"c$CMD_N\"" "$CP_OUT" | tail -1 | cut -d: -f1)
gt_send enb --bind "$ENB4" --port 0 --dst "$DUT4E" --count 3 \
	--pkt "GTP_U_Header(gtp_type=255, teid=$U_TEID)/IP(src='203.0.113.202', dst='203.0.113.1')/UDP(sport=5000, dport=9)/Raw(b'v' * 100)"
sleep 0.3
cp delete "$U_UP"
# A periodic report (every 2 s) may come between the query and the
# deletion and take some of the 3: they count with the final one.
read -r PERP PERB <<<"$(tail -n +"$((QLINE + 1))" "$CP_OUT" | grep '"got": 56' | grep PERIO | "$PY" -c '
import json, sys
p = b = 0
for l in sys.stdin:
    d = json.loads(l)
    if d.get("seid") == 0x8a:
        p += sum(u["ul_pkts"] for u in d["usage"]); b += sum(u["ul"] for u in d["usage"])
print(p, b)')"
is "deletion: the final Usage Report (TERMR) with what came since the last report" \
	"$(j "d.get('cause'), [(u['ie'], u['trigger'], u['ul_pkts'] + $PERP, u['ul'] + $PERB) for u in d.get('usage', [])]")" \
	"(1, [(79, ['TERMR'], 3, $((3 * 136)))])"

# An uplink PDR naming QFI 5: G-PDUs with QFI 5 are relayed, with
# another QFI or none they are qfi_mismatch drops.
cp relay 0x8c "$ENB4" 0x1301 "$UPF4" 0x2301 5
Q5_UP=$(j "d['up_seid']")
Q5_A=$(j "d['created']['1']['teid']")
gt_snap "$S2"
N_UPF=$(gt_lines "$T_DIR/upf.json")
for q in 5 6 5; do
	gt_send enb --bind "$ENB4" --port 0 --dst "$DUT4E" \
		--pkt "GTP_U_Header(gtp_type=255, teid=$Q5_A, E=1, next_ex=0x85)/GTPPDUSessionContainer(type=1, QFI=$q)/Raw(b'qfi $q')"
done
gt_send enb --bind "$ENB4" --port 0 --dst "$DUT4E" --pkt "GTP_U_Header(gtp_type=255, teid=$Q5_A)/Raw(b'no qfi')"
gt_until 5 "[ \"\$(gt_eval \"drop('qfi_mismatch')\" '$S2')\" = 2 ]"
is "uplink QFI checked: QFI 6 and none are qfi_mismatch drops" "$(gt_eval "drop('qfi_mismatch')" "$S2")" 2
gt_until 3 "[ \"\$(gt_lines '$T_DIR/upf.json')\" -ge $((N_UPF + 2)) ]"
is "and the two with QFI 5 are relayed to the core" \
	"$(gt_rs "$T_DIR/upf.json" "[r['teid'] for r in rs[$N_UPF:]]")" "[8961, 8961]"
[ -z "$GT_XDP" ] || is "with XDP: the QFI checked in the program, the two relayed there" \
	"$(gt_eval "S['paths']['xdp']['forwarded'] - S0['paths']['xdp']['forwarded'], S['paths']['sockets']['forwarded'] - S0['paths']['sockets']['forwarded']" "$S2")" "(2, 0)"
cp delete "$Q5_UP"

# Idle mode (issue 19): the downlink FAR to BUFF|NOCP with a BAR of 5
# packets; one Downlink Data Report; 8 packets come, 5 are held and 3
# counted as buffer_overflow; back to FORW with SNDEM at a new TEID: the
# End Marker to the old one, then the 5 held, in order, then new ones.
cp relay 0x8b "$ENB4" 0x1201 "$UPF4" 0x2201
B_UP=$(j "d['up_seid']")
B_C=$(j "d['created']['2']['teid']")
cp createbar "$B_UP" 1 5
is "Create BAR accepted" "$(j "d.get('cause')")" 1
cp bufffar "$B_UP" 2 1 nocp
is "downlink FAR to BUFF|NOCP accepted" "$(j "d.get('cause')")" 1
S3=$T_DIR/s3.json
gt_snap "$S3"
N_ENB=$(gt_lines "$T_DIR/enb.json")
gt_send upf --bind "$UPF4" --port 0 --dst "$DUT4U" --pkt "GTP_U_Header(gtp_type=255, teid=$B_C)/Raw(b'idle {i}')" --count 8
gt_until 5 "[ \"\$(gt_eval \"drop('buffer_overflow')\" '$S3')\" = 3 ]"
cp idle 1
is "one Downlink Data Report (DLDR) naming the downlink PDR" \
	"$(grep '"got": 56' "$CP_OUT" | grep '"dldr"' | "$PY" -c 'import json,sys; ds=[json.loads(l) for l in sys.stdin if json.loads(l)["seid"] == 139]; print(len(ds), [(d["seid"], d["dldr_pdr"]) for d in ds])')" \
	"1 [(139, [2])]"
is "beyond the BAR's 5 packets: 3 buffer_overflow drops" "$(gt_eval "drop('buffer_overflow')" "$S3")" 3
is "gtpuctl sessions shows 5 packets held" \
	"$(gt_ctl --json sessions | "$PY" -c 'import json,sys; print([(x["buffer"]["packets"], x["buffer"]["reported"]) for x in json.load(sys.stdin) if x["cp_seid"] == "0x000000000000008b"])')" \
	"[(5, True)]"
is "the stats count them as buffered" \
	"$(gt_ctl --json stats | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["buffered"])')" 5
is "nothing reaches the access peer meanwhile" "$(gt_lines "$T_DIR/enb.json")" "$N_ENB"
cp movefar "$B_UP" 2 "$ENB4" 0x1204 sndem
is "FAR back to FORW with SNDEM accepted" "$(j "d.get('cause')")" 1
gt_send upf --bind "$UPF4" --port 0 --dst "$DUT4U" --pkt "GTP_U_Header(gtp_type=255, teid=$B_C)/Raw(b'awake {i}')" --count 2
gt_until 5 "[ \"\$(gt_lines '$T_DIR/enb.json')\" -ge $((N_ENB + 8)) ]"
is "End Marker to the old TEID, the held packets in order, then the new ones" \
	"$(gt_rs "$T_DIR/enb.json" "[(r['teid'], bytes.fromhex(r['hex'])[8:].decode() if r['type'] == 255 else 'EM') for r in rs[$N_ENB:]]")" \
	"[(4609, 'EM'), (4612, 'idle 0'), (4612, 'idle 1'), (4612, 'idle 2'), (4612, 'idle 3'), (4612, 'idle 4'), (4612, 'awake 0'), (4612, 'awake 1')]"
is "received = forwarded + answered + dropped + buffered holds" \
	"$(gt_ctl --json stats | "$PY" -c 'import json,sys; d=json.load(sys.stdin); print(d["buffered"], d["rx_packets"] == d["forwarded"] + d["answered"] + d["dropped"] + d["buffered"])')" "0 True"
# Held past pfcp.buffer_time (2 s here): buffer_expired.
cp bufffar "$B_UP" 2 1
gt_snap "$S3"
gt_send upf --bind "$UPF4" --port 0 --dst "$DUT4U" --pkt "GTP_U_Header(gtp_type=255, teid=$B_C)/Raw(b'old {i}')" --count 2
gt_until 6 "[ \"\$(gt_eval \"drop('buffer_expired')\" '$S3')\" = 2 ]"
is "held longer than buffer_time: buffer_expired" "$(gt_eval "drop('buffer_expired')" "$S3")" 2
is "BUFF without NOCP: no second report" "$(grep '"got": 56' "$CP_OUT" | grep '"dldr"' | grep -c '"seid": 139')" 1
# A new buffering period, whose Downlink Data Report the control plane
# answers with DROBU: what is held is dropped (far_drop).
cp movefar "$B_UP" 2 "$ENB4" 0x1204
cp drobu on
cp bufffar "$B_UP" 2 1 nocp
gt_snap "$S3"
gt_send upf --bind "$UPF4" --port 0 --dst "$DUT4U" --pkt "GTP_U_Header(gtp_type=255, teid=$B_C)/Raw(b'dropped {i}')" --count 3
gt_until 5 "[ \"\$(gt_eval \"drop('far_drop')\" '$S3')\" -ge 1 ]"
cp idle 0.5
# (Packets that come after the response are held again: held + dropped = 3.)
FD=$(gt_eval "drop('far_drop')" "$S3")
is "a second period, a second report; DROBU in its response drops what is held" \
	"$(grep '"got": 56' "$CP_OUT" | grep '"dldr"' | grep -c '"seid": 139'), $((FD >= 1)), $(gt_ctl --json sessions | "$PY" -c 'import json,sys; print([(x["buffer"]["packets"] + x["buffer"]["discarded"], x["buffer"]["discarded"]) for x in json.load(sys.stdin) if x["cp_seid"] == "0x000000000000008b"])')" \
	"2, 1, [(3, $FD)]"
cp drobu off
cp delete "$B_UP"

# Requests from a node not in allow: refused and counted.
ip -n "${NS_PREFIX}upf" addr add 198.51.100.31/24 dev "$(gt_dev upf)"
REF=$(ip netns exec "${NS_PREFIX}upf" "$PY" -c "
import socket
from scapy.all import raw
from scapy.contrib.pfcp import *
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(('198.51.100.31', 0)); s.settimeout(2)
s.sendto(raw(PFCP(S=0, seq=5) / PFCPAssociationSetupRequest(IE_list=[IE_NodeId(id_type=0, ipv4='198.51.100.31'), IE_RecoveryTimeStamp(timestamp=1)])), ('$DUT4U', 8805))
print(PFCP(s.recv(9000))[IE_Cause].cause)")
is "association setup from a node not allowed: Request rejected" "$REF" 64
is "and counted" "$(gt_ctl --json status | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["pfcp"]["refused"] >= 1)')" True

# A control-plane restart: a heartbeat with a new recovery time stamp
# removes its sessions.
cp hb 3900000500
gt_until 3 "[ \"\$(gt_ctl --json status | \"$PY\" -c 'import json,sys; print(json.load(sys.stdin)[\"pfcp\"][\"sessions\"])')\" = 0 ]"
is "a new recovery time stamp removes the node's sessions" \
	"$(gt_ctl --json status | "$PY" -c 'import json,sys; d=json.load(sys.stdin); print(d["pfcp"]["sessions"], d["pfcp_tunnels"])')" "0 0"

# Path failure: a session towards a GTP-U peer that never answers Echo.
cp relay 0x99 "$ENB4" 0x1005 198.51.100.77 0x2005
is "session towards a silent peer established" "$(j "d.get('cause')")" 1
cp idle 5
is "its path fails: Node Report Request with User Plane Path Failure naming the peer" \
	"$(grep '"got": 12' "$CP_OUT" | tail -1 | "$PY" -c 'import json,sys; d=json.load(sys.stdin); print(d["node_report_type"], d["path_failure"])')" \
	"1 ['198.51.100.77']"
is "gtpuctl peers shows the peer PFCP brought, down" \
	"$(gt_ctl --json peers | "$PY" -c 'import json,sys; print([(p["name"], p["state"]) for p in json.load(sys.stdin) if p["name"].startswith("pfcp-")])')" \
	"[('pfcp-198.51.100.77', 'down')]"

cp release
is "association release accepted" "$(j "d.get('type'), d.get('cause')")" "(10, 1)"
is "the peer PFCP brought is gone with its last session" \
	"$(gt_ctl --json peers | "$PY" -c 'import json,sys; print([p["name"] for p in json.load(sys.stdin) if p["name"].startswith("pfcp-")])')" "[]"
is "released: no associations, no sessions" \
	"$(gt_ctl --json status | "$PY" -c 'import json,sys; d=json.load(sys.stdin); print(d["pfcp"]["associations"], d["pfcp"]["sessions"])')" "0 0"

is "gtpud still runs" "$(kill -0 "$GT_PID" && echo yes)" yes
echo quit >&7
if [ -n "${TS_PID:-}" ]; then
	sleep 0.5
	kill "$TS_PID"; wait "$TS_PID" 2>/dev/null
	V=$(tshark -r "$CAP" -Y "pfcp && ip.src == $DUT4U" -T fields -e pfcp.msg_type 2>/dev/null | wc -l)
	W=$(tshark -r "$CAP" -Y "pfcp && ip.src == $DUT4U && (_ws.malformed || _ws.expert.severity >= 6291456)" 2>/dev/null | wc -l)
	is "tshark decodes what gtpud sent ($V messages): no malformed packet, no expert warning" "$([ "$V" -gt 10 ] && echo "$W")" 0
else
	skip "tshark decodes what gtpud sent" "tshark not installed"
fi
done_testing
