#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Path supervision against a real GTP-U peer: osmo-ggsn (userspace GGSN) answers
# GTP-U Echo Requests on its bind address. gtpud marks it up with an RTT and
# its restart counter, down within interval + t3 x n3 + 1 s after it stops,
# and up again when it comes back.
. "$(dirname "$0")/lib.sh"
need_root
need_cmd osmo-ggsn

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
peer_state() { "$GTPUCTL" -s "$T_DIR/ctl.sock" --json peers | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["state"])'; }
is_state() { [ "$(peer_state)" = "$1" ]; }

ns_add ggsn && ns_add dut || skip_all "cannot create namespaces"
link ggsn 192.0.2.50/24 dut 192.0.2.51/24
ggsn_conf "$T_DIR/ggsn.cfg" 192.0.2.50 ogt$$ info
cat >"$T_DIR/gtpud.conf" <<CFG
listen = [ "192.0.2.51:2152" ];
control = { path = "$T_DIR/ctl.sock"; };
echo = { interval = 2; t3 = 1; n3 = 2; };   # lab timers: TS 29.281 asks for 60 s
peers = ( { name = "ggsn"; address = "192.0.2.50"; echo = true; } );
CFG

ip netns exec "${NS_PREFIX}ggsn" osmo-ggsn -c "$T_DIR/ggsn.cfg" >"$T_DIR/ggsn.log" 2>&1 &
GGSN=$!
T_PIDS="$T_PIDS $GGSN"
wait_for 5 grep -q "Successfully started" "$T_DIR/ggsn.log"
ip netns exec "${NS_PREFIX}dut" "$GTPUD" -c "$T_DIR/gtpud.conf" 2>"$T_DIR/gtpud.log" &
T_PIDS="$T_PIDS $!"
wait_for 5 "$GTPUCTL" -s "$T_DIR/ctl.sock" status

check "osmo-ggsn answers our Echo: peer up" wait_for 5 is_state up
json=$("$GTPUCTL" -s "$T_DIR/ctl.sock" --json peers)
diag "$json"
check "the RTT of the last echo is shown" /usr/bin/python3 -c 'import json,sys; p=json.loads(sys.argv[1])[0]; sys.exit(not (p["rtt_us"] is not None and 0 <= p["rtt_us"] < 1000000))' "$json"
check "osmo-ggsn's restart counter is accepted and shown as recovery" /usr/bin/python3 -c 'import json,sys; p=json.loads(sys.argv[1])[0]; sys.exit(not (p["recovery"] is not None and p["recovery"] >= 1))' "$json"
check "gtpuctl peers shows the RTT column" sh -c "'$GTPUCTL' -s '$T_DIR/ctl.sock' peers | grep -qE '^ggsn .* up +[0-9]+[smhd] +[0-9.]+(us|ms)'"

kill "$GGSN"; wait "$GGSN" 2>/dev/null
t0=$(now)
wait_for 10 is_state down
t=$(elapsed "$t0")
diag "down after $t s (bound: interval 2 + t3 1 x n3 2 + 1 = 5 s)"
check "stopped osmo-ggsn is down within interval + t3 x n3 + 1 s" awk -v t="$t" 'BEGIN { exit !(t <= 5.0) }'
check "exactly one down event counted" sh -c "'$GTPUCTL' -s '$T_DIR/ctl.sock' --json peers | grep -q '\"down_count\":1'"
check "one log line for the path failure" test "$(grep -c 'peer ggsn ([^)]*) is down' "$T_DIR/gtpud.log")" = 1
check "gtpud_peer_up is 0" sh -c "'$GTPUCTL' -s '$T_DIR/ctl.sock' metrics | grep -q '^gtpud_peer_up{peer=\"ggsn\"} 0'"

ip netns exec "${NS_PREFIX}ggsn" osmo-ggsn -c "$T_DIR/ggsn.cfg" >"$T_DIR/ggsn2.log" 2>&1 &
T_PIDS="$T_PIDS $!"
check "restarted osmo-ggsn is up again" wait_for 8 is_state up
check "its new restart counter is shown" sh -c "'$GTPUCTL' -s '$T_DIR/ctl.sock' --json peers | grep -q '\"recovery\":2'"
done_testing
