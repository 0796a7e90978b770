#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# What gtpud says in its log: the start line (addresses bound, TUN device,
# control path, "1 peer"), the signal by name, what a reload changed, peer
# state lines with the address and the time down, Echo at debug, and
# runtime tunnel changes with the requesting user, summed up past 10 lines
# a second so that a controller cannot flood the journal.
. "$(dirname "$0")/lib.sh"
need_root
[ -x "$GTPUD" ] && [ -x "$GTPUCTL" ] || skip_all "gtpud/gtpuctl not built"

SOCK=$T_DIR/ctl.sock CONF=$T_DIR/gtpud.conf LOG=$T_DIR/gtpud.log
ns_add dut || skip_all "cannot create a namespace"
# conf PEERS TUNNELS [ECHO_INTERVAL]
conf() {
	cat >"$CONF" <<EOF2
listen = [ "127.0.0.1:2152", "[::1]:2152" ];
control = { path = "$SOCK"; };
log_level = "debug";
echo = { interval = ${3:-1}; t3 = 1; n3 = 1; };
peers = ( $1 );
tunnels = ( $2 );
EOF2
}
UPF='{ name = "upf"; address = "127.0.0.1"; port = 2153; echo = true; }'
ENB='{ name = "enb"; address = "192.0.2.10"; }'
T1='{ name = "t1"; from = { peer = "upf"; teid = 0x100; }; to = { peer = "upf"; teid = 0x200; }; }'
T2='{ name = "t2"; from = { peer = "upf"; teid = 0x101; }; to = { peer = "upf"; teid = 0x201; }; }'
T2B='{ name = "t2"; from = { peer = "upf"; teid = 0x101; }; to = { peer = "upf"; teid = 0x202; }; }'
T3='{ name = "t3"; from = { peer = "enb"; teid = 0x102; }; to = { peer = "upf"; teid = 0x203; }; }'
conf "$UPF" "$T1, $T2"
ip netns exec "$NS_PREFIX"dut "$GTPUD" -c "$CONF" >>"$LOG" 2>&1 &
GT_PID=$!
T_PIDS="$T_PIDS $GT_PID"
wait_for 5 "$GTPUCTL" -s "$SOCK" status || { diag "$(cat "$LOG")"; skip_all "gtpud did not start"; }
ctl() { "$GTPUCTL" -s "$SOCK" "$@"; }

check "start line: addresses bound, no TUN device, control path, 1 peer, 2 tunnels, 1 worker" \
	grep -qF "started: listening on 127.0.0.1:2152, [::1]:2152; TUN device none; control $SOCK; 1 peer, 2 tunnels, 1 worker" "$LOG"
diag "$(grep started "$LOG")"

# The peer does not answer: down, with its address.
check "peer down line with its address" \
	wait_for 6 grep -q 'warning: peer upf (127.0.0.1:2153) is down: no echo response' "$LOG"
check "debug: each Echo Request" grep -qE 'debug: echo request [0-9]+ to peer upf \(attempt 1\)' "$LOG"
# An Echo responder on the peer's address and port: up, with the time down.
ip netns exec "$NS_PREFIX"dut /usr/bin/python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 2153))
while True:
    b, a = s.recvfrom(2048)
    if len(b) >= 12 and b[1] == 1:
        s.sendto(bytes([0x32, 2, 0, 6, 0, 0, 0, 0]) + b[8:10] + bytes([0, 0, 14, 0]), a)
' &
T_PIDS="$T_PIDS $!"
check "peer up line with its address and the time it was down" \
	wait_for 6 grep -qE 'info: peer upf \(127\.0\.0\.1:2153\) is up: echo response, down for [0-9]+ s' "$LOG"
check "debug: the response with its round trip time" grep -qE 'debug: echo response [0-9]+ from peer upf: rtt [0-9]+ us' "$LOG"

# Reloads say what changed.
conf "$UPF, $ENB" "$T2B, $T3" 2
ctl reload
check "reload: peers added, tunnels added, removed and changed, settings changed" grep -qF \
	"configuration reloaded: 2 peers, 2 tunnels: peers added: 1 (enb); tunnels added: 1 (t3); tunnels removed: 1 (t1); tunnels changed: 1 (t2); settings changed: echo" "$LOG"
diag "$(grep 'configuration reloaded' "$LOG" | tail -1)"
ctl reload
check "a reload that changes nothing says so" grep -qF "configuration reloaded: 2 peers, 2 tunnels: nothing changed" "$LOG"
conf "$UPF" "$T2B" 2
ctl reload
check "reload: peer and tunnel removed" grep -qF \
	"configuration reloaded: 1 peer, 1 tunnel: peers removed: 1 (enb); tunnels removed: 1 (t3)" "$LOG"

# Tunnel changes name who asked.
ctl tunnel add r1 from upf 0x300 to upf 0x400
check "tunnel added: from, to and the requesting user and process" \
	grep -qE 'info: tunnel r1 added: upf/0x300 -> upf/0x400 by uid 0 pid [0-9]+$' "$LOG"
ctl tunnel del r1
check "tunnel removed by the requesting user" grep -qE 'info: tunnel r1 removed by uid 0 pid [0-9]+$' "$LOG"

# 300 single adds on one connection, as fast as a controller sends them:
# at most 10 lines a second, the rest summed up, none lost from the count.
before=$(wc -l <"$LOG")
ip netns exec "$NS_PREFIX"dut /usr/bin/python3 -c '
import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
req = "".join(json.dumps({"version": 1, "command": "tunnel add",
                          "args": ["f%d" % i, "from", "upf", str(0x1000 + i), "to", "upf", "1"]}) + "\n"
              for i in range(300))
s.sendall(req.encode())
f = s.makefile()
ok = sum(1 for _ in range(300) if json.loads(f.readline())["result"] == 0)
print(ok)' "$SOCK" >"$T_DIR/added"
is() { if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1"; diag "got '$2', want '$3'"; fi; }
is "300 tunnels added" "$(cat "$T_DIR/added")" 300
sleep 1.5
tail -n +"$((before + 1))" "$LOG" >"$T_DIR/flood"
single=$(grep -cE 'info: tunnel f[0-9]+ added' "$T_DIR/flood")
summed=$(sed -n 's/.*not logged one by one in the last second: \([0-9]*\) added.*/\1/p' "$T_DIR/flood" | awk '{ s += $1 } END { print s + 0 }')
secs=$(grep -cE 'not logged one by one' "$T_DIR/flood")
diag "$single lines, $summed summed up in $secs summary lines"
check "at most 10 single lines a second (got $single)" test "$single" -le $((10 * (secs + 1)))
is "every add counted: single lines + summed up = 300" "$((single + summed))" 300
check "a summary line names who made them" grep -qE 'not logged one by one .*\(the last by uid 0 pid [0-9]+\)$' "$T_DIR/flood"

kill -TERM "$GT_PID"
wait "$GT_PID"
check "SIGTERM by name" grep -q 'info: SIGTERM: shutting down' "$LOG"
done_testing
