#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Endpoint mode: two gtpud terminate a tunnel on TUN devices (see
# endpoint_topo.sh). ping and iperf3 cross it in IPv4 and IPv6; MTU and PMTU
# behave; a spoofed inner source, GTP-in-GTP and a junk inner packet are
# dropped under their reasons; a per-tunnel rate holds within 10%.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/endpoint_topo.sh"
need_root
need_cmd ping
need_cmd iperf3
need_scapy
[ -c /dev/net/tun ] || skip_all "no /dev/net/tun"

RATE=10000000
topo_up "rate = $RATE;" || { cat "$T_DIR"/*.log; skip_all "topology set-up failed"; }

drops() { "$GTPUCTL" -s "$T_DIR/$1.sock" --json stats | /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)['drops']['$2'])"; }
stat() { "$GTPUCTL" -s "$T_DIR/$1.sock" --json stats | /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)['$2'])"; }

check "ping IPv4 through the tunnel" quiet nsx ue ping -c 3 -i 0.2 -W 2 203.0.113.10
check "ping IPv6 through the tunnel" quiet nsx ue ping -6 -c 3 -i 0.2 -W 2 2001:db8:203::10
check "ping from the data network to the UE" quiet nsx dn ping -c 2 -i 0.2 -W 2 198.51.100.2

# The core side puts a PDU Session Container with QFI 9 on what it sends.
nsx siteA timeout 15 tshark -i any -c 2 -f "udp port 2152 and src host 192.0.2.2 and udp[9] = 0xff" -T fields \
	-e gtp.teid -e gtp.ext_hdr.pdu_ses_con.qos_flow_id >"$T_DIR/qfi.txt" 2>"$T_DIR/tshark.err" &
tspid=$!
wait_for 10 grep -q "Capturing on" "$T_DIR/tshark.err"
nsx dn ping -c 3 -i 0.2 -W 2 198.51.100.2 >/dev/null
wait $tspid
diag "$(cat "$T_DIR/qfi.txt")"
check "downlink G-PDUs carry TEID 0x1001 and QFI 9 (tshark)" grep -qE '^0x0*1001\s+9' "$T_DIR/qfi.txt"

# PMTU: raise gtpa's MTU behind gtpud's back; a DF packet above the tunnel
# MTU (1400) gets ICMP Fragmentation Needed / Packet Too Big from gtpud.
nsx siteA ip link set gtpa mtu 1500
out=$(nsx ue ping -c 1 -W 2 -M do -s 1450 203.0.113.10 2>&1)
diag "$out"
check "IPv4 DF packet too big for the tunnel: Fragmentation Needed, mtu 1400" sh -c "echo '$out' | grep -q 'mtu = 1400'"
out=$(nsx ue ping -6 -c 1 -W 2 -M do -s 1450 2001:db8:203::10 2>&1)
diag "$out"
check "IPv6 packet too big for the tunnel: Packet Too Big, mtu 1400" sh -c "echo '$out' | grep -qi 'mtu = 1400\|mtu=1400'"
check "too_big drops counted on the sending side" test "$(drops a too_big)" -ge 2
check "ICMP errors were written into the TUN device" test "$(stat a icmp_sent)" -ge 2
check "the UE learned the path MTU" sh -c "ip netns exec ${NS_PREFIX}ue ip route get 203.0.113.10 | grep -q 'mtu 1400'"
check "a packet that fits still crosses" quiet nsx ue ping -c 1 -W 2 -M do -s 1300 203.0.113.10
nsx siteA ip link set gtpa mtu 1400

ip netns exec "${NS_PREFIX}dn" iperf3 -s -1 >/dev/null 2>&1 &
T_PIDS="$T_PIDS $!"
sleep 0.5
# The uplink TCP segments as gtpud A built them from what the device gave
# with a virtio header (segmentation path, checksums computed in gtpud),
# checked by tshark's own checksum validation. (At this rate the kernel
# hands over one segment per packet; test_offload cuts long ones.)
nsx siteA timeout 20 tshark -i any -c 400 -f "udp port 2152 and src host 192.0.2.1" \
	-o ip.check_checksum:TRUE -o tcp.check_checksum:TRUE -T fields \
	-e tcp.len -e tcp.checksum.status -e ip.checksum.status >"$T_DIR/csum.txt" 2>"$T_DIR/tshark2.err" &
tspid=$!
wait_for 10 grep -q "Capturing on" "$T_DIR/tshark2.err"
check "iperf3 TCP through the tunnel" quiet nsx ue iperf3 -c 203.0.113.10 -t 2 -b 15M
wait $tspid
# tcp.len, then the inner TCP checksum status, then the outer and inner IPv4
# header checksum status (1: good).
bad=$(awk -F'\t' '$1 > 0 && ($2 != 1 || $3 !~ /^1,1$/)' "$T_DIR/csum.txt" | wc -l)
data=$(awk -F'\t' '$1 > 0' "$T_DIR/csum.txt" | wc -l)
diag "uplink G-PDUs with TCP payload: $data, with a wrong checksum: $bad; $(awk -F'\t' '$1 > 0' "$T_DIR/csum.txt" | sort | uniq -c | sort -rn | head -3 | tr '\n' ';')"
check "uplink TCP segments in G-PDUs: inner TCP and IPv4 checksums right (tshark)" test "$data" -ge 50 -a "$bad" = 0
ip netns exec "${NS_PREFIX}dn" iperf3 -s -1 >/dev/null 2>&1 &
T_PIDS="$T_PIDS $!"
sleep 0.5
check "iperf3 UDP through the tunnel" quiet nsx ue iperf3 -c 203.0.113.10 -u -t 2 -b 5M -l 1200

# Rate limit: 10 Mbit/s on the tunnel; offer 25 Mbit/s of UDP. On a loaded
# machine the offered load itself may fall short: one retry.
rate_trial() {
	ip netns exec "${NS_PREFIX}dn" iperf3 -s -1 -J >"$T_DIR/iperf_rate.json" 2>/dev/null &
	local srv=$!
	sleep 0.5
	nsx ue iperf3 -c 203.0.113.10 -u -t 4 -b 25M -l 1200 >/dev/null 2>&1
	wait $srv
	got=$(/usr/bin/python3 -c 'import json,sys; print(int(json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"]))' "$T_DIR/iperf_rate.json" 2>/dev/null || echo 0)
	# iperf3 counts UDP payload; the bucket counts inner IP bytes (28 more per 1200).
	inner=$((got * 1228 / 1200))
	diag "rate limit $RATE bit/s, received $inner bit/s of inner packets"
	awk -v g="$inner" -v r="$RATE" 'BEGIN { exit !(g >= r * 0.9 && g <= r * 1.1) }'
}
if rate_trial || rate_trial; then ok "rate limit holds within 10%"; else not_ok "rate limit holds within 10%"; fi
check "rate_limit drops are counted" test "$(drops b rate_limit)" -gt 0

# Crafted G-PDUs from siteA's address (a peer of siteB) with bad inner packets.
send() { nsx siteA "$PY" "$TESTS_PY/peer.py" send --bind 192.0.2.1 --port 40000 --dst 192.0.2.2 --pkt "$1"; }
before=$(drops b spoofed)
send "GTP_U_Header(teid=0x2001,gtp_type=255)/IP(src='198.51.100.99',dst='203.0.113.10')/ICMP()"
check "spoofed inner source is dropped as spoofed" wait_for 2 test "$(drops b spoofed)" -gt "$before"
before=$(drops b gtp_in_gtp)
send "GTP_U_Header(teid=0x2001,gtp_type=255)/IP(src='198.51.100.2',dst='203.0.113.10')/UDP(sport=2152,dport=2152)/GTP_U_Header(teid=1,gtp_type=255)/Raw(b'x')"
check "GTP-in-GTP is dropped as gtp_in_gtp" wait_for 2 test "$(drops b gtp_in_gtp)" -gt "$before"
before=$(drops b inner_malformed)
send "GTP_U_Header(teid=0x2001,gtp_type=255)/Raw(bytes.fromhex('45000fff0000400040010000c6336402cb00710a'))"
check "inner total length past the payload is dropped as inner_malformed" wait_for 2 test "$(drops b inner_malformed)" -gt "$before"
# A runtime tunnel may not take a UE address another tunnel has.
out=$("$GTPUCTL" -s "$T_DIR/a.sock" tunnel add ue2 from siteB 0x1002 to siteB 0x2002 ue 2001:db8:203::10 2>&1)
rc=$?
check "tunnel add with ue1's address: exit 1, naming ue1" \
	sh -c '[ "$1" = 1 ] && printf "%s" "$2" | grep -q "ue address 2001:db8:203::10 is in use by tunnel \"ue1\""' - "$rc" "$out"
diag "$out"
check "tunnel add with a free ue address: exit 0" \
	"$GTPUCTL" -s "$T_DIR/a.sock" tunnel add ue2 from siteB 0x1002 to siteB 0x2002 ue 203.0.113.20
check "... and ue1's traffic still goes through ue1" quiet nsx ue ping -c 1 -W 2 203.0.113.10
check "both daemons still run" kill -0 "$PID_A" "$PID_B"
# Each drop above is the tunnel's too: A's ue1 for the packets too big for
# it from the device, B's ue1 for what it decapsulated; and a record says so.
tdrops() { "$GTPUCTL" -s "$T_DIR/$1.sock" --json tunnels ue1 | /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)[0]['drops'].get('$2', 0))"; }
check "per tunnel: A's ue1 counts the too_big drops ($(tdrops a too_big))" test "$(tdrops a too_big)" -ge 2
for r in spoofed gtp_in_gtp inner_malformed rate_limit; do
	check "per tunnel: B's ue1 counts all $r drops ($(tdrops b $r))" test "$(tdrops b $r)" = "$(drops b $r)" -a "$(drops b $r)" -gt 0
done
has_rec() {    # has_rec SIDE PYTHON-CONDITION-ON-r
	"$GTPUCTL" -s "$T_DIR/$1.sock" --json drops |
		/usr/bin/python3 -c "import json,sys; sys.exit(not any($2 for r in json.load(sys.stdin)))"
}
check "a record of B: spoofed, from siteA's 192.0.2.1:40000, TEID 0x2001, tunnel ue1" \
	has_rec b "r['reason'] == 'spoofed' and r['source'] == '192.0.2.1' and r['port'] == 40000 and r['peer'] == 'siteA' and r['teid'] == 0x2001 and r['tunnel'] == 'ue1' and not r['from_tun']"
check "a record of A: too_big, from the device, to 203.0.113.10 through ue1 to siteB, TEID 0x2001" \
	has_rec a "r['reason'] == 'too_big' and r['from_tun'] and r['destination'] == '203.0.113.10' and r['peer'] == 'siteB' and r['teid'] == 0x2001 and r['tunnel'] == 'ue1' and r['port'] is None"
a=$("$GTPUCTL" -s "$T_DIR/b.sock" --json stats)
check "accounting: rx = forwarded + answered + dropped" /usr/bin/python3 -c 'import json,sys; s=json.loads(sys.argv[1]); sys.exit(s["rx_packets"] != s["forwarded"] + s["answered"] + s["dropped"])' "$a"
done_testing
