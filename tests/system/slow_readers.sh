#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Clients that ask for a large reply and never read it: with 100,000
# tunnels, 20 clients send "tunnels" and read nothing. The reply is streamed
# a piece at a time as a client reads, so gtpud's memory stays bounded (20
# clients once took 942 MB, for good), the control thread stays free (a
# reload is answered within a second, not after 15 s), and a client that
# reads gets the whole list.
. "$(dirname "$0")/lib.sh"
need_root
need_cmd jq
[ -x "$GTPUD" ] && [ -x "$GTPUCTL" ] || skip_all "gtpud/gtpuctl not built"
sanitized && skip_all "an ASan build's quarantine holds freed memory: RSS says nothing here"

SOCK=$T_DIR/ctl.sock
cat >"$T_DIR/gtpud.conf" <<EOF
listen = [ "127.0.0.1:2152" ];
control = { path = "$SOCK"; idle_timeout = 600; };
echo = { interval = 0; };
peers = ( { name = "a"; address = "192.0.2.1"; }, { name = "b"; address = "192.0.2.2"; } );
EOF
ns_add dut || skip_all "cannot create namespaces"
ip netns exec "${NS_PREFIX}dut" "$GTPUD" -c "$T_DIR/gtpud.conf" 2>"$T_DIR/gtpud.log" &
GT=$!
T_PIDS="$T_PIDS $GT"
ctl() { "$GTPUCTL" -s "$SOCK" "$@"; }
wait_for 5 ctl status >/dev/null || skip_all "gtpud did not start"
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$GT/status"; }

for i in $(seq 1 100000); do echo "t$i from a $i to b $i"; done >"$T_DIR/batch"
check "100,000 tunnels added" ctl tunnel add -f "$T_DIR/batch"
check "a client that reads gets all of them" test "$(ctl --json tunnels | jq length)" = 100000
sleep 1
before=$(rss)
# 20 clients: each asks for the list and never reads a byte of it.
"$PY" - "$SOCK" 20 "$T_DIR/held" <<'EOF' &
import json, os, socket, sys, time
path, n, flag = sys.argv[1], int(sys.argv[2]), sys.argv[3]
cs = []
for _ in range(n):
    s = socket.socket(socket.AF_UNIX)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(path)
    s.sendall(json.dumps({"version": 1, "command": "tunnels"}).encode() + b"\n")
    cs.append(s)
open(flag, "w").close()
while os.path.exists(flag):
    time.sleep(0.1)
EOF
HOLD=$!
T_PIDS="$T_PIDS $HOLD"
wait_for 10 test -e "$T_DIR/held"
sleep 2
during=$(rss)
diag "RSS: $before kB before, $during kB with 20 clients holding their replies"
check "memory stays bounded: less than 24 MB more for 20 unread replies of 24 MB each ($((during - before)) kB)" \
	test $((during - before)) -lt 24576
t0=$(date +%s%N)
ctl reload >/dev/null
t1=$(date +%s%N)
check "a reload is answered within 1 s meanwhile ($(( (t1 - t0) / 1000000 )) ms)" test $(( (t1 - t0) / 1000000 )) -lt 1000
check "another client still gets the whole list" test "$(ctl --json tunnels | jq length)" = 100000
rm -f "$T_DIR/held"
wait "$HOLD" 2>/dev/null
sleep 1
after=$(rss)
diag "RSS after they left: $after kB"
check "... and the memory comes back once they left ($after kB, $before before)" test $((after - before)) -lt 8192
done_testing
