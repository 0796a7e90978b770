#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Every must-fail input of the codec, sent on the wire to gtpud from a
# configured peer (and a few from a stranger): each is counted once under
# its drop reason, nothing at all comes back, and gtpud still answers Echo.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/topo.sh"
gt_setup
# Anything gtpud emits towards the enb side lands here or on the sender's socket.
gt_listen enb "$T_DIR/enb.json" "$ENB4" "$NOPEER4" -- --raw || { not_ok "listener in enb"; done_testing; }
L_ENB=$GT_LPID
: >"$T_DIR/back.json"

# REASON FROM HEX DESCRIPTION, one a line; FROM is enb, upf or nopeer.
cases() {
	"$PY" - <<'PYEOF'
import struct
def h(flags, typ, body, teid=0x100, length=None):
    n = len(body) if length is None else length
    return bytes([flags, typ]) + struct.pack('!HI', n, teid) + body
def ie_hdr(typ, body, length=None):  # signalling: S=1, seq 1, TEID 0
    return h(0x32, typ, b'\x00\x01\x00\x00' + body, 0, length)
opt = lambda nxt: b'\x00\x00\x00' + bytes([nxt])
rows = []
def row(reason, frm, data, desc):
    rows.append('%s %s %s %s' % (reason, frm, data.hex() or '-', desc))
for n in range(8):
    row('malformed', 'enb', bytes.fromhex('30ff0000000001')[:n] if n < 8 else b'', '%d bytes' % n)
for n, f in ((8, 0x32), (9, 0x31), (10, 0x34), (11, 0x32)):
    row('malformed', 'enb', h(f, 0xff, b'\x00' * (n - 8)), '%d bytes with %s' % (n, {0x32: 'S', 0x31: 'PN', 0x34: 'E'}[f]))
row('version', 'enb', h(0x50, 0xff, b'abcd'), 'version 2')
row('version', 'enb', h(0x10, 0xff, b'abcd'), 'version 0')
row('version', 'enb', h(0xf0, 0xff, b'abcd'), 'version 7')
row('version', 'enb', h(0x20, 0xff, b'abcd'), "PT 0 (GTP')")
row('version', 'enb', b'\x00' * 1500, '1500 bytes of zeros')
row('malformed', 'enb', h(0x30, 0xff, b'abcd', length=5), 'Length one past the datagram')
row('malformed', 'enb', h(0x30, 0xff, b'abcd', length=3), 'Length one short of the datagram')
row('malformed', 'enb', h(0x30, 0xff, b'abcd', length=0xffff), 'Length 65535')
row('malformed', 'enb', h(0x32, 0xff, b'\x00\x01\x00\x00', length=0), 'S with Length 0')
row('ext_header', 'enb', h(0x34, 0xff, opt(0x85) + b'\x00\x00\x00\x00'), 'extension header length 0')
row('ext_header', 'enb', h(0x34, 0xff, opt(0x85) + b'\x00' * 1488), 'E then extension header length 0 and zeros to 1500 bytes')
row('ext_header', 'enb', h(0x34, 0xff, opt(0x85) + bytes.fromhex('011009c5')), 'chain ends at the datagram end with next type 0xc5')
row('ext_header', 'enb', h(0x34, 0xff, opt(0x03) + bytes.fromhex('01aabb03')), 'chain ends at the datagram end with next type 0x03')
row('ext_header', 'enb', h(0x34, 0xff, opt(0x85) + bytes.fromhex('02100900')), 'extension header past the datagram')
row('ext_header', 'enb', h(0x34, 0xff, opt(0x85) + bytes.fromhex('01100903ff000000')), 'second extension header past the datagram')
row('ext_header', 'enb', h(0x34, 0xff, opt(0x03) + bytes.fromhex('01aabb03') * 16 + bytes.fromhex('01aabb00')), '17 extension headers')
row('ext_header', 'enb', h(0x34, 0xff, opt(0x40) + bytes.fromhex('0200000000000000')), 'UDP Port extension header of length 2')
row('malformed', 'enb', ie_hdr(1, bytes.fromhex('0e')), 'Echo Request: Recovery IE cut short')
row('malformed', 'enb', ie_hdr(1, bytes.fromhex('ff0010')), 'Echo Request: Private Extension past the end')
row('malformed', 'enb', ie_hdr(1, bytes.fromhex('0501')), 'Echo Request: unknown TV IE 5')
row('malformed', 'enb', ie_hdr(26, bytes.fromhex('10000001')), 'Error Indication: TEID Data I cut short')
row('malformed', 'enb', ie_hdr(26, bytes.fromhex('1000000200850004c633')), 'Error Indication: Peer Address past the end')
row('malformed', 'enb', ie_hdr(26, bytes.fromhex('1000000200850005c633641400')), 'Error Indication: Peer Address length 5')
row('malformed', 'enb', ie_hdr(26, bytes.fromhex('1000000200')), 'Error Indication: no Peer Address')
row('malformed', 'enb', ie_hdr(26, bytes.fromhex('850004c0000201')), 'Error Indication: no TEID Data I')
row('malformed', 'upf', ie_hdr(2, b''), 'Echo Response without Recovery (from upf)')
row('unsupported_type', 'enb', h(0x30, 3, b'abcd'), 'message type 3 from a peer')
row('unknown_peer', 'nopeer', h(0x30, 3, b'abcd'), 'message type 3 from a stranger')
row('unknown_peer', 'nopeer', ie_hdr(2, bytes.fromhex('0e00')), 'Echo Response from a stranger')
row('unknown_peer', 'nopeer', ie_hdr(31, bytes.fromhex('8d0185')), 'Notification from a stranger')
row('too_long', 'enb', h(0x30, 0xff, b'\x00' * 9300), '9308 bytes: more than the 9216-byte buffer')
print('\n'.join(rows))
PYEOF
}

S0=$T_DIR/s0.json
gt_snap "$S0"
n=0
while read -r reason from hex desc; do
	[ "$hex" = - ] && hex=
	case $from in
	enb) ns=enb bind=$ENB4 dst=$DUT4E ;;
	upf) ns=upf bind=$UPF4 dst=$DUT4U ;;
	nopeer) ns=enb bind=$NOPEER4 dst=$DUT4E ;;
	esac
	gt_snap "$T_DIR/c.json"
	gt_send "$ns" --bind "$bind" --port 40050 --dst "$dst" --hex "$hex" --wait 0.1 --raw --out "$T_DIR/back.json"
	gt_until 3 '[ "$(gt_eval "st(\"rx_packets\")" "$T_DIR/c.json")" -ge 1 ]'
	is "$desc: dropped as $reason" "$(gt_eval "st('rx_packets'), drops()" "$T_DIR/c.json")" "(1, {'$reason': 1})"
	n=$((n + 1))
done < <(cases)

sleep 0.3
is "nothing came back to the senders' sockets" "$(gt_lines "$T_DIR/back.json")" 0
is "nothing came to port 2152 of the enb side" "$(gt_lines "$T_DIR/enb.json")" 0
is "gtpud sent nothing at all" "$(gt_eval "st('tx_packets'), st('error_indications_sent'), st('supp_ext_notifs_sent'), st('echo_responses_sent')" "$S0")" "(0, 0, 0, 0)"
is "every datagram received once and dropped" "$(gt_eval "st('rx_packets'), st('dropped'), st('forwarded'), st('answered')" "$S0")" "($n, $n, 0, 0)"
is "rx_packets = forwarded + answered + dropped" "$(gt_eval 'ident()')" True

# Still alive and answering.
: >"$T_DIR/echo.json"
gt_send enb --bind "$ENB4" --port 40051 --dst "$DUT4E" --hex 320100040000000012340000 --wait 1 --out "$T_DIR/echo.json"
is "Echo still answered afterwards" "$(gt_rs "$T_DIR/echo.json" "[(r['type'], r['seq'], r['ies']) for r in rs]")" "[(2, 4660, {'recovery': 0})]"
check "gtpud still running" kill -0 "$GT_PID"
gt_stop "$L_ENB"
done_testing
