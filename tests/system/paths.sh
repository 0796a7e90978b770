#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Path management: a peer that does not answer Echo goes down and, with
# echo.on_down = "drop", its tunnels drop as peer_down; it comes back up when
# it answers. Error Indications received: counted per tunnel, a runtime
# tunnel removed with error_indication.remove_tunnel, a spoofed one ignored.
# No Error Indication is sent during error_indication.quiet after start.
. "$(dirname "$0")/lib.sh"
need_root
need_scapy

json() { "$GTPUCTL" -s "$T_DIR/ctl.sock" --json "$@"; }
get() { /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))" "$1"; }
drops() { json stats | get "d['drops']['$1']"; }
upf_state() { json peers | get "[p for p in d if p['name']=='upf'][0]['state']"; }
is_upf() { [ "$(upf_state)" = "$1" ]; }

ns_add enb && ns_add dut && ns_add upf || skip_all "cannot create namespaces"
link enb 192.0.2.10/24 dut 192.0.2.1/24
link dut 198.51.100.1/24 upf 198.51.100.20/24
cat >"$T_DIR/gtpud.conf" <<EOF
listen = [ "192.0.2.1:2152", "198.51.100.1:2152" ];
control = { path = "$T_DIR/ctl.sock"; };
echo = { interval = 1; t3 = 1; n3 = 1; on_down = "drop"; };   # lab timers
error_indication = { enabled = true; rate = 100; quiet = 3; remove_tunnel = true; };
peers = (
  { name = "enb"; address = "192.0.2.10"; },
  { name = "upf"; address = "198.51.100.20"; echo = true; }
);
tunnels = ( { name = "ue1"; from = { peer = "enb"; teid = 0x100; }; to = { peer = "upf"; teid = 0x200; }; } );
EOF
ip netns exec "${NS_PREFIX}dut" "$GTPUD" -c "$T_DIR/gtpud.conf" 2>"$T_DIR/gtpud.log" &
GT_MAIN=$!        # gtpud's main thread is the control thread
T_PIDS="$T_PIDS $GT_MAIN"
wait_for 5 "$GTPUCTL" -s "$T_DIR/ctl.sock" status || skip_all "gtpud did not start"
start=$(date +%s.%N)

send_enb() { nsx enb "$PY" "$TESTS_PY/peer.py" send --bind 192.0.2.10 --port 2152 --dst 192.0.2.1 --pkt "$1" "${@:2}"; }

# Quiet period: an unknown TEID within the first 3 s gets no Error Indication.
send_enb "GTP_U_Header(teid=0x999,gtp_type=255)/Raw(b'x')" --wait 0.5 --out "$T_DIR/quiet.json"
check "unknown TEID counted during the quiet period" test "$(drops unknown_teid)" = 1
check "no Error Indication during the quiet period" test ! -s "$T_DIR/quiet.json"

# Nobody answers Echo in the upf namespace: the peer goes down.
check "a peer that does not answer Echo goes down" wait_for 5 is_upf down
send_enb "GTP_U_Header(teid=0x100,gtp_type=255)/Raw(b'to-a-dead-peer')"
check "tunnel to a down peer drops as peer_down (on_down = drop)" wait_for 2 test "$(drops peer_down)" = 1
check "one log line for the failure" test "$(grep -c 'peer upf ([^)]*) is down' "$T_DIR/gtpud.log")" = 1

# After the quiet period, the same unknown TEID is answered.
while awk -v s="$start" -v n="$(date +%s.%N)" 'BEGIN { exit !(n - s < 3.2) }'; do sleep 0.1; done
send_enb "GTP_U_Header(teid=0x999,gtp_type=255)/Raw(b'x')" --wait 1 --out "$T_DIR/ei.json"
check "after the quiet period an Error Indication is sent" grep -q '"type": 26' "$T_DIR/ei.json"

# A second gtpud in the upf namespace answers Echo: the peer comes back.
cat >"$T_DIR/upf.conf" <<EOF
listen = [ "198.51.100.20:2152" ];
control = { path = "$T_DIR/upf.sock"; };
echo = { interval = 0; };
error_indication = { enabled = false; };
EOF
ip netns exec "${NS_PREFIX}upf" "$GTPUD" -c "$T_DIR/upf.conf" 2>"$T_DIR/upf.log" &
T_PIDS="$T_PIDS $!"
wait_for 5 "$GTPUCTL" -s "$T_DIR/upf.sock" status || diag "$(cat "$T_DIR/upf.log")"
check "the peer is up again once it answers" wait_for 5 is_upf up
fwd=$(json stats | get "d['forwarded']")
send_enb "GTP_U_Header(teid=0x100,gtp_type=255)/Raw(b'alive')"
check "the tunnel forwards again" wait_for 2 test "$(json stats | get "d['forwarded']")" -gt "$fwd"

# Echo Responses that answer nothing, from a peer that is up (spoofed, or
# repeated), are counted but wake nobody: the control thread (gtpud's main
# thread) sleeps through 2000 of them.
csw() { awk '/^voluntary_ctxt_switches/ { print $2 }' "/proc/$GT_MAIN/status"; }
rsp0=$(json stats | get "d['echo_responses_received']")
sw0=$(csw)
nsx enb "$PY" "$TESTS_PY/peer.py" send --bind 192.0.2.10 --port 2152 --dst 192.0.2.1 \
	--hex 3202000600000000777700000e00 --count 2000 --rate 20000
sleep 0.3
sw1=$(csw)
check "2000 unsolicited Echo Responses from enb are counted (and upf's answers)" \
	wait_for 2 test "$(json stats | get "d['echo_responses_received']")" -ge $((rsp0 + 2000))
diag "gtpud's main thread woke $((sw1 - sw0)) times meanwhile (its 1 s Echo timer, the gtpuctl calls)"
check "... and woke the control thread at most 30 times" test -n "$sw0" -a -n "$sw1" -a $((sw1 - sw0)) -le 30

# Error Indications received.
"$GTPUCTL" -s "$T_DIR/ctl.sock" tunnel add rt1 from enb 0x500 to upf 0x600 >/dev/null
check "runtime tunnel added" sh -c "'$GTPUCTL' -s '$T_DIR/ctl.sock' --json tunnels rt1 >/dev/null"
ei() { # SRC_NS SRC_ADDR TEID PEER_ADDR: to gtpud's address on that side
	local dst=198.51.100.1
	[ "$1" = enb ] && dst=192.0.2.1
	nsx "$1" "$PY" "$TESTS_PY/peer.py" send --bind "$2" --port 40001 --dst "$dst" \
		--pkt "GTP_U_Header(teid=0,S=1,gtp_type=26)/GTPErrorIndication(IE_list=[IE_TEIDI(TEIDI=$3),IE_GSNAddress(length=4,ipv4_address='$4')])"
}
ei enb 192.0.2.10 0x600 198.51.100.20
check "an Error Indication from a non-peer source is ignored" wait_for 2 test "$(drops error_ind_ignored)" = 1
check "... and tears nothing down" sh -c "'$GTPUCTL' -s '$T_DIR/ctl.sock' --json tunnels rt1 >/dev/null"
ei upf 198.51.100.20 0x999 198.51.100.20
check "one from the peer naming a TEID we do not send to it is ignored, under a reason of its own" \
	wait_for 2 test "$(drops error_ind_unknown_teid)" = 1
ei upf 198.51.100.20 0x200 198.51.100.20
check "one from the peer naming a config tunnel is counted per tunnel" \
	wait_for 2 test "$(json tunnels ue1 | get "d[0]['error_indications_received']")" = 1
check "... and the config tunnel stays" sh -c "'$GTPUCTL' -s '$T_DIR/ctl.sock' --json tunnels ue1 >/dev/null"
ei upf 198.51.100.20 0x600 198.51.100.20
check "one naming a runtime tunnel removes it (remove_tunnel = true)" \
	wait_for 2 sh -c "! '$GTPUCTL' -s '$T_DIR/ctl.sock' tunnels rt1 >/dev/null 2>&1"
check "error_indications_received counts both" test "$(json stats | get "d['error_indications_received']")" = 2
done_testing
