#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Reload under load: a steady 10 kpps G-PDU stream through gtpud for 3 s,
# SIGHUP with a good changed file (a new tunnel) and then with a bad one.
# No packet may be lost, counters are kept, the bad file is refused with
# its errors logged, and `gtpuctl reload` fails printing FILE:LINE.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/topo.sh"
gt_setup

RATE=10000
COUNT=30000
# The receiver only counts (by TEID): decoding 10 kpps is not its job here.
gt_listen upf "$T_DIR/sink.json" "$UPF4" -- --summary || { not_ok "sink in upf"; done_testing; }
L_UPF=$GT_LPID
S0=$T_DIR/s0.json
gt_snap "$S0"

ip netns exec "${NS_PREFIX}enb" "$PY" "$PEER_PY" send --bind "$ENB4" --port 0 --dst "$DUT4E" \
	--hex 30ff006400000100"$(printf '%0200d' 0)" --count $COUNT --rate $RATE --report "$T_DIR/rep.json" &
SENDER=$!
T_PIDS="$T_PIDS $SENDER"

sleep 1
# A good changed file: one more tunnel.
GT_EXTRA_TUNNELS=',
  { name = "new"; from = { peer = "enb"; teid = 0x120; }; to = { peer = "upf"; teid = 0x220; }; }'
gt_conf
kill -HUP "$GT_PID"
sleep 1
# A bad file: an unknown key, a TEID of 0, a tunnel naming no peer.
cp "$GT_CONF" "$T_DIR/good.conf"
cat >>"$GT_CONF" <<'EOF'
bogus = 1;
EOF
sed -i 's/teid = 0x110;/teid = 0;/; s/to = { peer = "upf"; teid = 0x210; }/to = { peer = "nobody"; teid = 0x210; }/' "$GT_CONF"
kill -HUP "$GT_PID"
wait "$SENDER"
sleep 0.5

rep=$("$PY" -c 'import json, sys; r = json.load(open(sys.argv[1])); print(r["sent"], round(r["seconds"], 2), int(r["pps"]))' "$T_DIR/rep.json")
read -r sent secs pps <<<"$rep"
diag "sender: $sent G-PDUs in ${secs}s = $pps pps"
if [ "$pps" -ge $((RATE * 9 / 10)) ]; then ok "the sender reached $RATE pps (within 10%)"; else not_ok "the sender reached $RATE pps (within 10%)"; fi

# The new tunnel works, then stop the sink.
gt_send enb --bind "$ENB4" --port 0 --dst "$DUT4E" --hex 30ff000400000120abcdabcd
sleep 0.5
gt_stop "$L_UPF"
is "every G-PDU arrived, none lost across both reloads; the new tunnel relays" \
	"$(gt_rs "$T_DIR/sink.json" "rs[-1]['count'], rs[-1]['teids']")" "($((COUNT + 1)), {'512': $COUNT, '544': 1})"
is "gtpud counted them all forwarded, nothing dropped" \
	"$(gt_eval "st('forwarded'), drops()" "$S0")" "($((COUNT + 1)), {})"
is "tunnel counters kept across the reloads" \
	"$(gt_eval "T['up']['rx_packets'], T['up']['tx_packets'], T['new']['rx_packets']")" "($COUNT, $COUNT, 1)"
is "peer counters kept across the reloads" \
	"$(gt_eval "P['enb']['rx_packets'], P['upf']['tx_packets']")" "($((COUNT + 1)), $((COUNT + 1)))"
is "two reloads, the last failed" \
	"$(gt_ctl --json status | "$PY" -c 'import json, sys; d = json.load(sys.stdin); print(d["reloads"], d["last_reload"], d["tunnels"])')" \
	"2 failed 8"
check "the errors of the bad file are logged as FILE:LINE: message" \
	grep -qE "$GT_CONF:[0-9]+: .*bogus" "$GT_LOG"
n_err=$(grep -cE "$GT_CONF:[0-9]+: " "$GT_LOG")
diag "logged: $(grep -E "$GT_CONF:[0-9]+: " "$GT_LOG" | tr '\n' '|')"
if [ "$n_err" -ge 3 ]; then ok "every error logged, not only the first ($n_err lines)"; else
	not_ok "every error logged, not only the first"; diag "got $n_err lines"; fi

# gtpuctl reload with the bad file: non-zero, FILE:LINE on its output.
out=$(gt_ctl reload 2>&1); rc=$?
diag "gtpuctl reload: rc $rc: $(echo "$out" | tr '\n' '|')"
check "gtpuctl reload exits non-zero with the bad file" test "$rc" -ne 0
check "gtpuctl reload prints FILE:LINE: message" grep -qE "$GT_CONF:[0-9]+: " <<<"$out"
"$GTPUCTL" -s "$GT_SOCK" --json reload >"$T_DIR/reload.json" 2>/dev/null
check "gtpuctl --json reload prints JSON when it fails too" \
	quiet jq -e '.result == 7 and (.errors | length) > 0' "$T_DIR/reload.json"
is "the running config stays: up2 and new still there, counters kept" \
	"$(gt_eval "sorted(T), T['up']['rx_packets']")" "(['down', 'down6', 'new', 'up', 'up2', 'up6', 'x46', 'x64'], $COUNT)"
# Back to the good file: gtpuctl reload succeeds.
cp "$T_DIR/good.conf" "$GT_CONF"
check "gtpuctl reload exits 0 with the good file" gt_ctl reload
check "gtpud still running" kill -0 "$GT_PID"
done_testing
