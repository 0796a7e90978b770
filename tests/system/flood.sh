#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Flood: FLOOD_SECONDS (default 10; 30 for the full test) of mixed GTP-U at
# the highest rate tests/flood_gen.c reaches: valid G-PDUs over IPv4 and
# IPv6, 1% malformed of every must-fail kind, unknown TEIDs from a peer and
# from a stranger, Echo Requests from strangers. Afterwards gtpud is up, its
# accounting is exact (and matches what the kernel delivered to it), Error
# Indications stayed within their rate, the log stayed bounded, RSS is stable.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/load_topo.sh"
SECS=${FLOOD_SECONDS:-10}
WARM=2
lt_need
lt_topo || skip_all "topology set-up failed"
lt_conf
if lt_start; then ok "gtpud starts"; else not_ok "gtpud starts"; done_testing; fi

lt_sink $((SECS + 30)) || diag "sink did not start"
lt_stats "$T_DIR/s0.json"
read -r k_in0 k_rb0 < <(lt_kudp)
# shellcheck disable=SC2086
lt_flood_start "$T_DIR/gen.out" --seconds "$SECS" ${FLOOD_ARGS:-}
gen=$LT_GEN_PID
sleep "$WARM"
rss1=$(lt_rss 2>/dev/null)
sleep $((SECS - WARM > 0 ? SECS - WARM : 0))
wait "$gen"
gen_rc=$?
diag "$(tr '\n' ' ' <"$T_DIR/gen.out")"
is "the generator ran" "$gen_rc" 0

# gtpud empties its socket buffer: wait until rx stops moving.
prev=-1
for _ in $(seq 50); do
	lt_stats "$T_DIR/s1.json" 2>/dev/null || break
	cur=$(js "$T_DIR/s1.json" "S['rx_packets']")
	[ "$cur" = "$prev" ] && break
	prev=$cur
	sleep 0.2
done
rss2=$(lt_rss 2>/dev/null)
read -r k_in1 k_rb1 < <(lt_kudp)

if lt_alive; then
	ok "gtpud is still running"
else
	not_ok "gtpud is still running"
	diag "gtpud's log:"; tail -20 "$LT_LOG" | sed 's/^/# /'
	done_testing
fi
lt_stats "$T_DIR/s1.json"
S1=$T_DIR/s1.json
rx=$(js "$S1" "S['rx_packets']")
sent=$(kv "$T_DIR/gen.out" sent)
secs=$(kv "$T_DIR/gen.out" seconds)
diag "generator: $sent datagrams in $secs s ($(kv "$T_DIR/gen.out" pps)/s); gtpud received $rx"
diag "gtpud: $(js "$S1" "{k: v for k, v in S.items() if k != 'drops'}")"
diag "drops: $(js "$S1" "{k: v for k, v in S['drops'].items() if v}")"
check "traffic reached gtpud" test "$rx" -gt 0
is "accounting: rx = forwarded + answered + dropped" \
	"$(js "$S1" "S['forwarded'] + S['answered'] + S['dropped']")" "$rx"
is "accounting: dropped = sum of drops by reason" \
	"$(js "$S1" "sum(S['drops'].values())")" "$(js "$S1" "S['dropped']")"
delivered=$((k_in1 - k_in0))
rcvbuf=$((k_rb1 - k_rb0))
diag "kernel in dut: $delivered datagrams delivered to sockets, $rcvbuf dropped for a full receive buffer"
is "gtpud counted exactly what the kernel delivered to it" "$rx" "$delivered"
check "delivered + receive-buffer drops <= sent" test $((delivered + rcvbuf)) -le "$sent"

# Every must-fail kind was sent and counted under its reason.
while read -r key n reason; do
	kind=${key#kind_}
	[ "$n" -gt 0 ] || { not_ok "malformed kind $kind was sent"; continue; }
	got=$(js "$S1" "S['drops']['$reason']")
	check "malformed kind $kind ($n sent) is dropped as $reason ($got)" test "$got" -gt 0
done < <(grep '^kind_' "$T_DIR/gen.out")
check "unknown TEIDs dropped as unknown_teid" test "$(js "$S1" "S['drops']['unknown_teid']")" -gt 0
check "valid G-PDUs were forwarded" test "$(js "$S1" "S['forwarded']")" -gt 0
# Strangers, IPv4 and IPv6 together, share one budget of echo.answer_rate
# (20) a second: a flood from them gets that much back, and no more.
n4=$(kv "$T_DIR/gen.out" rx_echo_rsp_nonpeer4) n6=$(kv "$T_DIR/gen.out" rx_echo_rsp_nonpeer6)
secs=$(kv "$T_DIR/gen.out" seconds | cut -d. -f1)
check "Echo Requests from strangers were answered ($n4 IPv4, $n6 IPv6)" test $((n4 + n6)) -gt 0
check "... within their one budget, 20 a second ($((n4 + n6)) in ${secs}s)" test $((n4 + n6)) -le $(((secs + 2) * 20))

# Error Indications (and Supported Extension Headers Notifications, which
# share the budget): at most rate per second per peer, with a burst of one
# second; strangers share one budget of the same size.
rate=$LT_EI_RATE
bound=$(awk -v r="$rate" -v s="$secs" 'BEGIN { printf "%d", r * (s + 2) }')
ei_peer=$(( $(kv "$T_DIR/gen.out" rx_err_ind_peer4) + $(kv "$T_DIR/gen.out" rx_sehn_peer4) ))
ei_np=$(kv "$T_DIR/gen.out" rx_err_ind_nonpeer4)
ei_tx=$(js "$S1" "S['error_indications_sent']")
diag "Error Indications: gtpud sent $ei_tx; the peer got $ei_peer, the stranger $ei_np; bound $bound each"
check "Error Indications to the peer within rate ($ei_peer <= $bound)" test "$ei_peer" -le "$bound"
check "Error Indications to strangers within rate ($ei_np <= $bound)" test "$ei_np" -le "$bound"
check "Error Indications were sent at all (peer got >= rate)" test "$ei_peer" -ge "$rate"
check "gtpud counted at least the Error Indications that arrived ($ei_tx)" \
	test "$ei_tx" -ge $(( $(kv "$T_DIR/gen.out" rx_err_ind_peer4) + ei_np ))

# Logging: the hot path does not log, and whatever is logged is rate-limited.
l0=$(js "$T_DIR/s0.json" "S['log_lines']")
l1=$(js "$S1" "S['log_lines']")
diag "log lines: $((l1 - l0)) written, $(js "$S1" "S['log_lines_suppressed']") suppressed; log file $(wc -l <"$LT_LOG") lines"
check "log lines bounded ($((l1 - l0)) <= $((20 + SECS)))" test $((l1 - l0)) -le $((20 + SECS))

diag "VmRSS after ${WARM}s: $rss1 kB, at the end: $rss2 kB"
check "RSS stable within 1 MiB after warm-up" test $(( rss2 > rss1 ? rss2 - rss1 : rss1 - rss2 )) -le 1024

# What gtpud relayed reached upf.
kill "$LT_SINK" 2>/dev/null
wait "$LT_SINK" 2>/dev/null
fwd=$(js "$S1" "S['forwarded']")
got=$(kv "$T_DIR/sink.out" received)
diag "upf received $got of $fwd forwarded ($(tr '\n' ' ' <"$T_DIR/sink.out"))"
check "upf received what gtpud forwarded (at most, and at least 90%)" \
	awk -v g="$got" -v f="$fwd" 'BEGIN { exit !(g <= f && g >= f * 0.9) }'
# Relayed datagrams leave in UDP GSO runs: upf must see them cut back
# into the datagrams gtpud counted, byte for byte.
lt_ctl --json peers >"$T_DIR/peers.json"
txb=$(js "$T_DIR/peers.json" "sum(p['tx_bytes'] for p in S if p['name'] in ('upf', 'upf6'))")
txp=$(js "$T_DIR/peers.json" "sum(p['tx_packets'] for p in S if p['name'] in ('upf', 'upf6'))")
gotb=$(kv "$T_DIR/sink.out" received_bytes)
is "upf: no datagram larger than a G-PDU (an unsplit GSO train)" "$(kv "$T_DIR/sink.out" truncated)" 0
check "upf: bytes per datagram as gtpud sent them ($gotb/$got vs $txb/$txp)" \
	awk -v g="$got" -v gb="$gotb" -v t="$txp" -v tb="$txb" 'BEGIN { exit !(g > 0 && t > 0 && gb / g == tb / t) }'
done_testing
