#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The HTTP metrics endpoint keeps answering after bursts of clients: 16
# connections at once from two sources (the connection limit, 8 per
# address), closed; and 16 slow clients left to the idle timeout. It froze
# for good once: libmicrohttpd leaves its listening socket out while at its
# limit and took it back only in a run that nothing came to start.
. "$(dirname "$0")/lib.sh"
need_root
need_cmd curl
[ -x "$GTPUD" ] || skip_all "gtpud not built"

SOCK=$T_DIR/ctl.sock CONF=$T_DIR/gtpud.conf LOG=$T_DIR/gtpud.log
MPORT=9152
ns_add dut || skip_all "cannot create namespaces"
cat >"$CONF" <<EOF
listen = [ "127.0.0.1:2152" ];
control = { path = "$SOCK"; };
metrics = { listen = "127.0.0.1:$MPORT"; };
peers = ( { name = "enb"; address = "192.0.2.10"; } );
EOF
ip netns exec "${NS_PREFIX}dut" "$GTPUD" -c "$CONF" >"$LOG" 2>&1 &
T_PIDS="$T_PIDS $!"
scrape() { ip netns exec "${NS_PREFIX}dut" curl -s -m 3 "http://127.0.0.1:$MPORT/metrics" | grep -q '^gtpud_tunnels '; }
wait_for 5 scrape || { diag "$(cat "$LOG")"; skip_all "gtpud did not start"; }
check "the endpoint answers" scrape

# hold SECONDS SEND: 8 connections from 127.0.0.1 and 8 from 127.0.0.2,
# each sending SEND first (an unfinished request line), held SECONDS, closed.
hold() {
	ip netns exec "${NS_PREFIX}dut" $PY - "$MPORT" "$1" "$2" <<'EOF'
import socket, sys, time
port, secs, send = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3].encode()
conns = []
for src in ("127.0.0.1", "127.0.0.2"):
    for _ in range(8):
        s = socket.socket()
        s.bind((src, 0))
        s.connect(("127.0.0.1", port))
        if send:
            s.sendall(send)
        conns.append(s)
time.sleep(secs)
for s in conns:
    s.close()
EOF
}
hold 1 ""
check "after 16 connections at once from two sources, closed: it answers" wait_for 3 scrape
hold 1 "GET /metrics HTTP/1.1"
check "... and after 16 half-sent requests, closed" wait_for 3 scrape
# Slow clients that stay until the idle timeout (10 s) closes them.
hold 12 "GET /met"
check "after 16 slow clients reached the idle timeout: it answers" wait_for 3 scrape
check "gtpud is still running" kill -0 "${T_PIDS##* }"
done_testing
