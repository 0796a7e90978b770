#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Relay on the wire: scapy peers send G-PDUs and End Markers through gtpud in
# both directions over IPv4, IPv6 and across families; each must arrive with
# the TEID rewritten and every other byte kept (class-01 extension headers
# removed, Length fixed). Wrong-peer and unknown-TEID packets are dropped
# and counted, and the counters add up.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/topo.sh"
gt_setup

# With XDP: a G-PDU from each peer's own port brings it up (the sockets see
# it); the fast path then relays its tunnels of one address family.
if [ -n "$GT_XDP" ]; then
	is "XDP program attached in $GT_XDP mode" "$(gt_eval "S['paths']['xdp']['mode']")" "$GT_XDP"
	gt_send enb --bind "$ENB4" --dst "$DUT4E" --hex 30ff000400000100cafe0001
	gt_send upf --bind "$UPF4" --dst "$DUT4U" --hex 30ff000400000201cafe0002
	gt_send enb --bind "$ENB6" --dst "$DUT6E" --hex 30ff000400000600cafe0003
	gt_send upf --bind "$UPF6" --dst "$DUT6U" --hex 30ff000400000701cafe0004
	check "the four peers are up" gt_until 5 \
		'[ "$(gt_eval "all(P[n][\"state\"] == \"up\" for n in (\"enb\", \"upf\", \"enb6\", \"upf6\"))")" = True ]'
fi

# The messages sent on each tunnel: TEID $1, PDU type $2 (0 DL, 1 UL).
msgs() {
	local t=$1 pt=$2 h="GTP_U_Header(gtp_type=255, teid=$1"
	M=(
		"$h)/Raw(b'plain G-PDU')"
		"$h, S=1, seq=0x1234)/Raw(b'with a sequence number')"
		"$h, S=1, PN=1, seq=0xfffe, npdu=7)/Raw(b'with N-PDU number')"
		"$h, E=1, next_ex=0x85)/GTPPDUSessionContainer(type=$pt, QFI=9)/IP(src='198.51.100.45', dst='203.0.113.9')/UDP(sport=1000, dport=2000)/Raw(b'q' * 100)"
		"$h, E=1, S=1, seq=9, next_ex=0x85)/GTPPDUSessionContainer(type=$pt, QFI=63)/IPv6(src='2001:db8:45::2', dst='2001:db8:99::9')/UDP()/Raw(b'six')"
		"$h, E=1, next_ex=0x40)/GTP_UDPPort_ExtensionHeader(udp_port=4321, next_ex=0x85)/GTPPDUSessionContainer(type=$pt, QFI=5)/Raw(b'udp port ext is class 01: removed')"
		"$h)/Raw(bytes(range(256)) * 5)"
		"$h, E=1, next_ex=0x03)/Raw(bytes.fromhex('01aabb83' '01ccdd41' '01eeff00') + b'unknown classes 00 and 10 kept, 01 removed')"
		"GTP_U_Header(gtp_type=254, teid=$t)"
	)
}

# expect SENT RECV FROM_TEID TO_TEID SRC: the messages of SENT with
# FROM_TEID arrived in RECV, in order, from SRC, as TS 29.281 relaying makes
# them: new TEID, optional word kept, class-01 extension headers removed,
# Length fixed, the rest byte for byte. Prints "ok" or the first difference.
expect() {
	"$PY" - "$@" <<'EOF'
import json, os, struct, sys
sent_f, recv_f, ft, tt, src = sys.argv[1], sys.argv[2], int(sys.argv[3], 0), int(sys.argv[4], 0), sys.argv[5]
def relay(m):
    flags, typ = m[0], m[1]
    if not flags & 7:
        hdr, rest = m[:8], m[8:]
        return hdr[:4] + struct.pack('!I', tt) + rest
    opt = bytearray(m[8:12])
    nxt, off, exts = m[11], 12, []
    while nxt:
        n = m[off] * 4
        if nxt >> 6 != 1:
            exts.append((nxt, bytearray(m[off:off + n])))
        nxt, off = m[off + n - 1], off + n
    for i, (t, e) in enumerate(exts):
        e[-1] = exts[i + 1][0] if i + 1 < len(exts) else 0
    opt[3] = exts[0][0] if exts else 0
    if not exts and flags & 3:
        flags &= ~4
    body = bytes(opt) + b''.join(e for _, e in exts) + m[off:]
    return bytes([flags, typ]) + struct.pack('!HI', len(body), tt) + body
sent = [bytes.fromhex(json.loads(l)['hex']) for l in open(sent_f)]
sent = [m for m in sent if struct.unpack('!I', m[4:8])[0] == ft]
recv = [json.loads(l) for l in open(recv_f)]
recv = [r for r in recv if r.get('teid') == tt]
if len(sent) != len(recv):
    print('sent %d with TEID %#x, received %d with TEID %#x' % (len(sent), ft, len(recv), tt))
    sys.exit()
# Through the XDP fast path the messages the sockets relay (those with a
# class-01 header to remove) may arrive after later ones: then the order
# is not compared.
if os.environ.get('GT_XDP'):
    sent.sort(key=lambda m: relay(m).hex())
    recv.sort(key=lambda r: r['hex'])
for i, (m, r) in enumerate(zip(sent, recv)):
    want = relay(m)
    if r['src'] != src or r['sport'] != 2152:
        print('message %d came from %s port %d' % (i, r['src'], r['sport']))
        break
    if r['hex'] != want.hex():
        print('message %d: got %s, want %s' % (i, r['hex'], want.hex()))
        break
    if r['length'] != r['len'] - 8 or 'error' in r:
        print('message %d: scapy reads Length %d of %d bytes' % (i, r['length'], r['len']))
        break
else:
    print('ok')
EOF
}

gt_listen enb "$T_DIR/enb.json" "$ENB4" "$ENB6" "$NOPEER4" || { not_ok "listener in enb"; done_testing; }
L_ENB=$GT_LPID
gt_listen upf "$T_DIR/upf.json" "$UPF4" "$UPF6" || { not_ok "listener in upf"; done_testing; }
L_UPF=$GT_LPID
gt_snap "$T_DIR/s0.json"

# One sender per tunnel; the expressions are built by scapy.
declare -A TUN_SENT
send_tunnel() {   # NAME NS BIND DST FROM_TEID PDU_TYPE
	msgs "$5" "$6"
	local args=() e
	for e in "${M[@]}"; do args+=(--pkt "$e"); done
	gt_send "$2" --bind "$3" --port 0 --dst "$4" "${args[@]}" --dump "$T_DIR/sent-$1.json"
	TUN_SENT[$1]=${#M[@]}
}
send_tunnel up enb "$ENB4" "$DUT4E" 0x100 1
send_tunnel down upf "$UPF4" "$DUT4U" 0x201 0
send_tunnel up6 enb "$ENB6" "$DUT6E" 0x600 1
send_tunnel down6 upf "$UPF6" "$DUT6U" 0x701 0
send_tunnel x46 enb "$ENB4" "$DUT4E" 0x400 1
send_tunnel x64 upf "$UPF6" "$DUT6U" 0x501 0
N=${TUN_SENT[up]}
gt_until 5 '[ "$(gt_lines "$T_DIR/upf.json")" -ge $((N * 3)) ]'
gt_until 5 '[ "$(gt_lines "$T_DIR/enb.json")" -ge $((N * 3)) ]'

is "enb -> upf over IPv4: TEID 0x100 -> 0x200, bytes kept, Length right" \
	"$(expect "$T_DIR/sent-up.json" "$T_DIR/upf.json" 0x100 0x200 "$DUT4U")" ok
is "upf -> enb over IPv4: TEID 0x201 -> 0x101" \
	"$(expect "$T_DIR/sent-down.json" "$T_DIR/enb.json" 0x201 0x101 "$DUT4E")" ok
is "enb -> upf over IPv6: TEID 0x600 -> 0x700" \
	"$(expect "$T_DIR/sent-up6.json" "$T_DIR/upf.json" 0x600 0x700 "$DUT6U")" ok
is "upf -> enb over IPv6: TEID 0x701 -> 0x601" \
	"$(expect "$T_DIR/sent-down6.json" "$T_DIR/enb.json" 0x701 0x601 "$DUT6E")" ok
is "IPv4 in, IPv6 out: TEID 0x400 -> 0x500" \
	"$(expect "$T_DIR/sent-x46.json" "$T_DIR/upf.json" 0x400 0x500 "$DUT6U")" ok
is "IPv6 in, IPv4 out: TEID 0x501 -> 0x401" \
	"$(expect "$T_DIR/sent-x64.json" "$T_DIR/enb.json" 0x501 0x401 "$DUT4E")" ok

# What scapy decodes, independently of the byte comparison above.
is "PDU Session Containers kept with their QFI and PDU type" \
	"$(gt_rs "$T_DIR/upf.json" "sorted((r['teid'], e['qfi'], e['pdu_type']) for r in rs for e in r['ext'] if e['type'] == 0x85)")" \
	"[(512, 5, 1), (512, 9, 1), (512, 63, 1), (1280, 5, 1), (1280, 9, 1), (1280, 63, 1), (1792, 5, 1), (1792, 9, 1), (1792, 63, 1)]"
is "no UDP Port extension header relayed" \
	"$(gt_rs "$T_DIR/upf.json" "sum(1 for r in rs for e in r['ext'] if e['type'] == 0x40)")" 0
is "sequence numbers and N-PDU numbers kept" \
	"$(gt_rs "$T_DIR/enb.json" "sorted((r['teid'], r['seq'], r['npdu']) for r in rs if r['S'])")" \
	"[(257, 9, 0), (257, 4660, 0), (257, 65534, 7), (1025, 9, 0), (1025, 4660, 0), (1025, 65534, 7), (1537, 9, 0), (1537, 4660, 0), (1537, 65534, 7)]"
is "End Markers relayed, one per tunnel" \
	"$(gt_rs "$T_DIR/upf.json" "sorted(r['teid'] for r in rs if r['type'] == 254)") $(gt_rs "$T_DIR/enb.json" "sorted(r['teid'] for r in rs if r['type'] == 254)")" \
	"[512, 1280, 1792] [257, 1025, 1537]"

# Counters of the relayed traffic.
S0=$T_DIR/s0.json
is "forwarded = messages sent, end_markers counted" \
	"$(gt_eval "st('forwarded'), st('end_markers'), drops()" "$S0")" "($((N * 6)), 6, {})"
is "per tunnel: rx and tx packets" \
	"$(gt_eval "[(n, tu(n, 'rx_packets'), tu(n, 'tx_packets')) for n in ('up', 'down', 'up6', 'down6', 'x46', 'x64', 'up2')]" "$S0")" \
	"[('up', $N, $N), ('down', $N, $N), ('up6', $N, $N), ('down6', $N, $N), ('x46', $N, $N), ('x64', $N, $N), ('up2', 0, 0)]"
bytes_of() { "$PY" -c 'import json, sys; print(sum(len(json.loads(l)["hex"]) // 2 for l in open(sys.argv[1])))' "$1"; }
rxb_up=$(bytes_of "$T_DIR/sent-up.json")
txb_up=$(gt_rs "$T_DIR/upf.json" "sum(r['len'] for r in rs if r['teid'] == 0x200)")
is "per tunnel: rx bytes = bytes sent by enb, tx bytes = bytes received by upf" \
	"$(gt_eval "tu('up', 'rx_bytes'), tu('up', 'tx_bytes')" "$S0")" "($rxb_up, $txb_up)"
is "per peer: rx and tx packets" \
	"$(gt_eval "[(n, pe(n, 'rx_packets'), pe(n, 'tx_packets')) for n in ('enb', 'upf', 'enb6', 'upf6', 'enb2')]" "$S0")" \
	"[('enb', $((N * 2)), $((N * 2))), ('upf', $N, $N), ('enb6', $N, $N), ('upf6', $((N * 2)), $((N * 2))), ('enb2', 0, 0)]"
rxb_enb=$(( $(bytes_of "$T_DIR/sent-up.json") + $(bytes_of "$T_DIR/sent-x46.json") ))
is "per peer: rx bytes of enb" "$(gt_eval "pe('enb', 'rx_bytes')" "$S0")" "$rxb_enb"
is "rx_packets = forwarded + answered + dropped" "$(gt_eval 'ident()')" True
if [ -n "$GT_XDP" ]; then
	# 6 of the 9 messages of each of the 4 tunnels of one family (not
	# those with a class-01 extension header to remove, not End
	# Markers); the family-crossing ones and the rest by the sockets.
	is "the XDP path relayed 24, the sockets $((N * 6 - 24))" \
		"$(gt_eval "[S['paths'][p]['forwarded'] - S0['paths'][p]['forwarded'] for p in ('xdp', 'sockets')]" "$S0")" \
		"[24, $((N * 6 - 24))]"
fi

# Drops: a known TEID from another configured peer, from the peer on the
# other side and from strangers; unknown TEIDs.
gt_snap "$T_DIR/s1.json"
GPDU100=30ff000400000100cafe0001
GPDU600=30ff000400000600cafe0006
gt_send enb --bind "$ENB2_4" --port 0 --dst "$DUT4E" --hex "$GPDU100"
gt_send enb --bind "$NOPEER4" --port 0 --dst "$DUT4E" --hex "$GPDU100"
gt_send upf --bind "$UPF4" --port 0 --dst "$DUT4U" --hex "$GPDU100"
gt_send enb --bind "$NOPEER6" --port 0 --dst "$DUT6E" --hex "$GPDU600"
gt_send enb --bind "$ENB4" --port 0 --dst "$DUT4E" --hex "$GPDU600"
gt_send enb --bind "$ENB4" --port 0 --dst "$DUT4E" --hex 30ff000400000999cafe0999
gt_send enb --bind "$ENB6" --port 0 --dst "$DUT6E" --hex 30ff000400000998cafe0998
gt_send enb --bind "$NOPEER4" --port 0 --dst "$DUT4E" --hex 30ff000400000997cafe0997
gt_send enb --bind "$ENB4" --port 0 --dst "$DUT4E" --hex 30fe000000000996
gt_send enb --bind "$ENB4" --port 0 --dst "$DUT4E" --hex 30ff000400000000cafe0000
gt_until 3 '[ "$(gt_eval "st(\"rx_packets\")" "$T_DIR/s1.json")" -ge 10 ]'
sleep 0.5
S1=$T_DIR/s1.json
is "known TEID from enb2, upf, enb (IPv6 tunnel) and two strangers: wrong_peer" "$(gt_eval "drop('wrong_peer')" "$S1")" 5
is "unknown TEIDs (G-PDU from enb, enb6, a stranger; End Marker; TEID 0): unknown_teid" "$(gt_eval "drop('unknown_teid')" "$S1")" 5
is "nothing else dropped, nothing forwarded" "$(gt_eval "drops(), st('forwarded')" "$S1")" "({'wrong_peer': 5, 'unknown_teid': 5}, 0)"
is "counted on the sending peers" \
	"$(gt_eval "[(n, pe(n, 'rx_packets')) for n in ('enb', 'enb2', 'upf', 'enb6', 'upf6')]" "$S1")" \
	"[('enb', 4), ('enb2', 1), ('upf', 1), ('enb6', 1), ('upf6', 0)]"
is "no tunnel counts a dropped packet" \
	"$(gt_eval "sum(tu(n, 'rx_packets') + tu(n, 'tx_packets') for n in T)" "$S1")" 0
n_upf=$(gt_lines "$T_DIR/upf.json")
is "nothing relayed to upf" "$n_upf" $((N * 3))
# Error Indications for the three unknown-TEID G-PDUs; none for the End
# Marker, none for the G-PDU with TEID 0 (TS 29.281 7.3.1).
gt_until 3 '[ "$(gt_rs "$T_DIR/enb.json" "sum(1 for r in rs if r[\"type\"] == 26)")" -ge 3 ]'
sleep 0.5
is "only Error Indications came back to the enb side (for G-PDUs, not the End Marker or TEID 0)" \
	"$(gt_rs "$T_DIR/enb.json" "sorted((r['src'], r['ies']['teid_data']) for r in rs if r['type'] != 255 and r['type'] != 254)")" \
	"[('$DUT4E', 2455), ('$DUT4E', 2457), ('$DUT6E', 2456)]"
is "rx_packets = forwarded + answered + dropped after drops" "$(gt_eval 'ident()')" True

gt_stop "$L_ENB"
gt_stop "$L_UPF"
check "gtpud still running" kill -0 "$GT_PID"
check "idle with IPv4 and IPv6 sockets (poll): under 5% of a CPU" idle_cpu_ok "$GT_PID"
done_testing
