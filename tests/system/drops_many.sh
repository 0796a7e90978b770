#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Per-tunnel series with many tunnels: beyond 10,000 tunnels the metrics
# give per-tunnel series only for the tunnels that dropped packets (so a
# scrape's size follows the trouble, not the tunnels), and those in full.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/topo.sh"
N=12000
GT_EXTRA_TUNNELS=$(awk -v n=$N 'BEGIN {
	for (i = 0; i < n; i++)
		printf ",\n  { name = \"m%d\"; from = { peer = \"enb\"; teid = %d; }; to = { peer = \"upf\"; teid = %d; }; }",
			i, 65536 + i, 131072 + i }')
gt_setup

gt_ctl metrics >"$T_DIR/m0.txt"
is "$((N + 7)) tunnels, no per-tunnel series while none dropped" \
	"$(sed -n 's/^gtpud_tunnels //p' "$T_DIR/m0.txt") $(grep -c '^gtpud_tunnel_[a-z_]*{' "$T_DIR/m0.txt")" "$((N + 7)) 0"

# G-PDUs of m5 and m7000 from enb2, which is not their peer (scapy); m9 gets good ones.
gt_send enb --bind "$ENB2_4" --dst "$DUT4E" --pkt "GTP_U_Header(gtp_type=255, teid=0x10005)/Raw(b'x')" \
	--pkt "GTP_U_Header(gtp_type=255, teid=$((0x10000 + 7000)))/Raw(b'x')" --count 3
gt_send enb --bind "$ENB4" --dst "$DUT4E" --pkt "GTP_U_Header(gtp_type=255, teid=0x10009)/Raw(b'x')" --count 2
gt_until 5 '[ "$(gt_ctl --json stats | "$PY" -c "import json,sys; print(json.load(sys.stdin)[\"rx_packets\"])")" = 8 ]'
t0=$(date +%s%N)
gt_ctl metrics >"$T_DIR/m1.txt"
t1=$(date +%s%N)
diag "a scrape with $((N + 7)) tunnels: $(( (t1 - t0) / 1000000 )) ms, $(wc -c <"$T_DIR/m1.txt") bytes"
is "per-tunnel series only for the two tunnels that dropped" \
	"$(grep -o '^gtpud_tunnel_[a-z_]*{tunnel="[^"]*"' "$T_DIR/m1.txt" | sed 's/.*tunnel="//; s/"//' | sort -u | tr '\n' ' ')" "m5 m7000 "
check "their drops by reason" grep -qx 'gtpud_tunnel_drops_total{tunnel="m7000",reason="wrong_peer"} 3' "$T_DIR/m1.txt"
check "and their other families, in full" grep -qx 'gtpud_tunnel_rx_packets_total{tunnel="m5"} 0' "$T_DIR/m1.txt"
is "the tunnel that forwarded without dropping has no series, its traffic is in the totals" \
	"$(grep -c 'tunnel="m9"' "$T_DIR/m1.txt") $(sed -n 's/^gtpud_forwarded_total //p' "$T_DIR/m1.txt")" "0 2"
is "--json tunnels m7000: its drops" "$(gt_ctl --json tunnels m7000 | "$PY" -c 'import json,sys; t=json.load(sys.stdin)[0]; print(t["dropped"], t["drops"])')" \
	"3 {'wrong_peer': 3}"
done_testing
