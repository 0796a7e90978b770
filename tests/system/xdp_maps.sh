#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The XDP fast path's maps follow the tables: a runtime tunnel relays in
# XDP as soon as gtpuctl returns, a removed one no longer does (the sockets
# drop its G-PDUs as unknown_teid), a reload that changes a tunnel's next
# TEID takes effect at once, and the counters of both paths add up; a
# peer going down takes its tunnels out of the fast path; a relayed frame
# that the transmit loses is counted as a send_error; a refused native
# mode fails the start, or under "auto" falls back to generic.
GT_XDP=${GT_XDP:-native}
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/topo.sh"
gt_setup

# Bring enb and upf up (traffic from their own port, through the sockets).
gt_send enb --bind "$ENB4" --dst "$DUT4E" --hex 30ff000400000100cafe0001
gt_send upf --bind "$UPF4" --dst "$DUT4U" --hex 30ff000400000201cafe0002
check "enb and upf are up" gt_until 5 \
	'[ "$(gt_eval "P[\"enb\"][\"state\"] + P[\"upf\"][\"state\"]")" = upup ]'
gt_listen upf "$T_DIR/upf.json" "$UPF4" || { not_ok "listener in upf"; done_testing; }

# send TEID COUNT: COUNT G-PDUs from enb with TEID; the XDP path's and the
# sockets' forwarded counts after them, as "XDP SOCKETS".
S0=$T_DIR/s0.json
send() {
	gt_snap "$S0"
	gt_send enb --bind "$ENB4" --port 0 --dst "$DUT4E" --count "$2" \
		--pkt "GTP_U_Header(gtp_type=255, teid=$1)/Raw(b'x' * 64)"
	sleep 0.3
	gt_eval "'%d %d' % tuple(S['paths'][p]['forwarded'] - S0['paths'][p]['forwarded'] for p in ('xdp', 'sockets'))" "$S0"
}
got() { gt_rs "$T_DIR/upf.json" "sum(1 for r in rs if r['teid'] == $1)"; }

check "tunnel add" gt_ctl tunnel add rt1 from enb 0x7000 to upf 0x7700
is "a runtime tunnel relays in XDP at once" "$(send 0x7000 20)" "20 0"
gt_until 3 '[ "$(got 0x7700)" -ge 20 ]'
is "upf got them with the new TEID" "$(got 0x7700)" 20
is "its counters include the XDP path's" "$(gt_eval "T['rt1']['rx_packets'], T['rt1']['tx_packets']")" "(20, 20)"

check "tunnel del" gt_ctl tunnel del rt1
snap=$T_DIR/s1.json
gt_snap "$snap"
is "a removed tunnel is no longer relayed" "$(send 0x7000 5)" "0 0"
is "the sockets drop its G-PDUs as unknown_teid" "$(gt_eval "drop('unknown_teid')" "$snap")" 5

# A reload that gives tunnel "up" another next TEID.
sed -i 's/to = { peer = "upf"; teid = 0x200; }/to = { peer = "upf"; teid = 0x2222; }/' "$GT_CONF"
check "reload" gt_ctl reload
is "after a reload the new TEID is used, in XDP" "$(send 0x100 10)" "10 0"
gt_until 3 '[ "$(got 0x2222)" -ge 10 ]'
is "upf got them with TEID 0x2222" "$(got 0x2222)" 10
is "tunnel up's counters kept over the reload, both paths" \
	"$(gt_eval "T['up']['rx_packets'], T['up']['tx_packets']")" "(11, 11)"
is "per peer: enb received all 36, upf was sent the 31 relayed" \
	"$(gt_eval "P['enb']['rx_packets'], P['upf']['tx_packets']")" "(36, 31)"
is "rx_packets = forwarded + answered + dropped over both paths" "$(gt_eval 'ident()')" True

# A reload that renames upf: another peer (same address), a slot of its
# own in the maps, counting from 0; the old one's slot is emptied. And back.
for n in upfb upf; do
	sed -i -E "s/name = \"upf[b]?\"; address/name = \"$n\"; address/; s/peer = \"upf[b]?\"/peer = \"$n\"/g" "$GT_CONF"
	check "reload: upf named $n" gt_ctl reload
	is "$n: tunnel up relayed in XDP" "$(send 0x100 4)" "4 0"
	is "$n: its counts start at 0, in XDP" "$(gt_eval "P['$n']['tx_packets'], P['$n']['rx_packets']")" "(4, 0)"
done
is "no peer upfb left" "$(gt_eval "'upfb' in P")" False

# A frame relayed in XDP that the transmit then loses (here: upf's veth
# end without its XDP program, so the veth refuses redirected frames) is
# a send_error, not a forwarded packet.
UPFDEV=$(gt_dev upf)
ip -n "${NS_PREFIX}upf" link set dev "$UPFDEV" xdp off
S3=$T_DIR/s3.json
gt_snap "$S3"
is "lost at the transmit: not counted as forwarded on either path" "$(send 0x100 7)" "0 0"
is "... but as send_error" "$(gt_eval "drop('send_error')" "$S3")" 7
is "... and as the XDP path's tx_lost" \
	"$(gt_eval "S['paths']['xdp']['tx_lost'] - S0['paths']['xdp']['tx_lost']" "$S3")" 7
is "received = forwarded + answered + dropped with them" "$(gt_eval 'ident()')" True
ip -n "${NS_PREFIX}upf" link set dev "$UPFDEV" xdp obj "$T_DIR/pass.o" sec xdp
gt_snap "$S3"
is "with upf's XDP program back, relayed again" "$(send 0x100 3)" "3 0"
is "... and none lost" "$(gt_eval "drop('send_error')" "$S3")" 0
gt_stop "$GT_LPID"

# Reloads under a flood: each gives tunnel "up" another next TEID while its
# G-PDUs are relayed. What a run of the program under way adds to the old
# entry after the reload read it is carried once the runs have ended, so
# the tunnel counts every packet either path forwarded, and enb's count
# every packet it sent that arrived.
gt_snap "$S3"
# (About 5 s of peer.py's fastest sending here.)
ip netns exec "${NS_PREFIX}enb" "$PY" "$PEER_PY" send --bind "$ENB4" --port 0 --dst "$DUT4E" \
	--hex 30ff000400000100cafe0001 --count 700000 &
FLOOD=$!
T_PIDS="$T_PIDS $FLOOD"
sleep 0.5
n_rl=0 n_under=0
for k in $(seq 30); do
	sed -i -E "s/teid = 0x222[23]; \}/teid = 0x222$((k % 2 + 2)); }/" "$GT_CONF"
	kill -0 "$FLOOD" 2>/dev/null && n_under=$((n_under + 1))
	gt_ctl reload >/dev/null && n_rl=$((n_rl + 1))
	sleep 0.1
done
wait "$FLOOD"
sleep 0.5
is "30 reloads under a flood of G-PDUs" "$n_rl" 30
is "at least 10 of them while the flood ran ($n_under)" "$([ "$n_under" -ge 10 ] && echo yes)" yes
# (A frame relayed that the kernel could not send, at upf's veth ring, is
# a send_error, still counted on the tunnel and to enb.)
FW=$(gt_eval "st('forwarded') + drop('send_error')" "$S3")
is "the flood was relayed in XDP (most of it)" \
	"$(gt_eval "S['paths']['xdp']['forwarded'] - S0['paths']['xdp']['forwarded'] > 0.9 * st('forwarded') > 0" "$S3")" True
is "tunnel up counted every packet forwarded or lost at the transmit ($FW)" \
	"$(gt_eval "tu('up', 'rx_packets'), tu('up', 'tx_packets')" "$S3")" "($FW, $FW)"
is "enb's count: the same" "$(gt_eval "pe('enb', 'rx_packets')" "$S3")" "$FW"
is "no drop but at the transmit" "$(gt_eval "sorted(set(drops()) - {'send_error'})" "$S3")" "[]"
is "received = forwarded + answered + dropped after them" "$(gt_eval 'ident()')" True

# A peer going down reaches the maps: upf, with Echo and on_down "drop",
# answers no Echo Request; once down, its tunnel's G-PDUs go up to the
# sockets, which drop them as peer_down.
kill "$GT_PID"; wait "$GT_PID" 2>/dev/null
sed -i -e 's/^echo = .*/echo = { interval = 1; t3 = 3; n3 = 1; on_down = "drop"; };/' \
	-e 's/{ name = "upf"; address = "\([^"]*\)"; }/{ name = "upf"; address = "\1"; echo = true; }/' "$GT_CONF"
gt_start || { not_ok "gtpud restarts with Echo to upf"; done_testing; }
gt_send enb --bind "$ENB4" --dst "$DUT4E" --hex 30ff000400000100cafe0001
gt_until 5 '[ "$(gt_eval "P[\"enb\"][\"state\"]")" = up ]'
if [ "$(gt_eval "P['upf']['state']")" != down ]; then
	is "before upf is down, XDP relays to it" "$(send 0x100 5)" "5 0"
else
	skip "before upf is down, XDP relays to it" "upf went down first"
fi
check "upf goes down (no Echo Response)" gt_until 10 '[ "$(gt_eval "P[\"upf\"][\"state\"]")" = down ]'
gt_snap "$T_DIR/s2.json"
is "once it is down, nothing is relayed to it in XDP" "$(send 0x100 5)" "0 0"
is "the sockets drop them as peer_down" "$(gt_eval "drop('peer_down')" "$T_DIR/s2.json")" 5
is "rx_packets = forwarded + answered + dropped" "$(gt_eval 'ident()')" True

# lo has no native XDP: "native" is a start-up failure, "auto" falls back
# to generic mode with one line each.
printf 'listen = [ "127.0.0.1:2152" ];\ncontrol = { path = "%s"; };\nxdp = { interfaces = [ "lo" ]; mode = "%s"; };\n' \
	"$T_DIR/lo.sock" native >"$T_DIR/lo.conf"
nsx upf timeout 5 "$GTPUD" -c "$T_DIR/lo.conf" >"$T_DIR/lo.log" 2>&1
is "native mode refused: exit status 3" "$?" 3
check "... saying why" grep -q "xdp: cannot attach in native mode to lo: Operation not supported" "$T_DIR/lo.log"
sed -i 's/"native"/"auto"/' "$T_DIR/lo.conf"
nsx upf timeout -s INT 2 "$GTPUD" -c "$T_DIR/lo.conf" >"$T_DIR/lo.log" 2>&1
check "auto: native refused, one warning" grep -q "cannot attach in native mode to lo: .*; trying generic mode" "$T_DIR/lo.log"
check "auto: attached in generic mode" grep -q "xdp: fast path attached in generic mode to 1 interface" "$T_DIR/lo.log"
done_testing
