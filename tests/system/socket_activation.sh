#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Socket activation without systemd as PID 1: nested systemd-socket-activate
# pass the GTP-U socket (gtpu) and the control socket (control); gtpud uses
# them instead of its config's listen/control.path, answers a datagram that
# was queued before it ran, and one queued while it restarted (notify_harness
# holding the sockets like PID 1). A socket with a wrong name is refused.
. "$(dirname "$0")/lib.sh"
need_root
need_cmd systemd-socket-activate
need_scapy
H="$PY $TESTS_PY/notify_harness.py"
NS=${NS_PREFIX}a
ns_add a

# The config names other sockets than the ones passed, to tell them apart.
cat > "$T_DIR/gtpud.conf" <<EOC
listen = [ "127.0.0.1:2153" ];
control = { path = "$T_DIR/conf.sock"; };
log_level = "debug";
echo = { interval = 0; };
peers = ( { name = "enb"; address = "192.0.2.10"; } );
EOC
ready_count() { $H keys "$1" | grep -cx READY; }
ready_at_least() { [ "$(ready_count "$1")" -ge "$2" ]; }
bound_udp() { [ -n "$(ip netns exec "$NS" ss -Hlun "sport = :$1")" ]; }

# 1. Nested systemd-socket-activate: the outer one passes the UDP socket on
# and execs the inner one on the first datagram; the inner one adds the
# control socket (fds accumulate) and names both: LISTEN_FDNAMES=gtpu:control.
L1=$T_DIR/act.log
ip netns exec "$NS" $H run --log "$L1" --pidfile "$T_DIR/pid1" --timeout 60 -- \
	systemd-socket-activate --datagram -l 127.0.0.1:2152 --fdname=gtpu -E NOTIFY_SOCKET -- \
	systemd-socket-activate -l "$T_DIR/act.sock" --fdname=gtpu:control -E NOTIFY_SOCKET -- \
	"$GTPUD" -c "$T_DIR/gtpud.conf" 2>"$T_DIR/stderr1" &
HPID=$!
T_PIDS="$T_PIDS $HPID"
check "the activation socket is bound before gtpud runs" wait_for 10 bound_udp 2152
P=$(cat "$T_DIR/pid1")
check "gtpud is not running yet" sh -c "! grep -q gtpud /proc/$P/comm && ! $H keys $L1 | grep -q READY"
check "an Echo Request sent before gtpud ran is answered" nsx a $H echo 127.0.0.1 2152 0x1234 10
check "READY=1 with the passed sockets" wait_for 10 ready_at_least "$L1" 1
check "the pid systemd watches is gtpud" sh -c "readlink /proc/$P/exe | grep -q gtpud"
check "a second Echo Request is answered" nsx a $H echo 127.0.0.1 2152 0x1235
check "gtpuctl status over the passed control socket" sh -c "'$GTPUCTL' -s '$T_DIR/act.sock' status | grep -q ."
check "the config's listen port is not bound" sh -c "! ip netns exec $NS ss -Hlun 'sport = :2153' | grep -q ."
check "the config's control.path is not created" test ! -e "$T_DIR/conf.sock"
check "the overridden listen is warned about, naming what was passed" \
	grep -q 'warning: listen is overridden by the sockets systemd passed (127.0.0.1:2152)' "$T_DIR/stderr1"
check "the start line names what is bound, passed by systemd" \
	grep -q 'started: listening on 127.0.0.1:2152 (passed by systemd); ' "$T_DIR/stderr1"
kill -TERM "$P"
wait "$HPID"
rc=$?
check "SIGTERM: exit status 0 (got $rc)" test $rc = 0
diag "states: $($H keys "$L1" | grep -vx WATCHDOG | tr '\n' ' ')"

# 2. Restart: the harness holds IPv4, IPv6 and control sockets like PID 1 and
# starts gtpud again 2 s after it exits; what arrives meanwhile queues.
L2=$T_DIR/restart.log
ip netns exec "$NS" $H run --log "$L2" --pidfile "$T_DIR/pid2" --timeout 60 --respawn-delay 2 \
	--udp 127.0.0.1:2152 --udp '[::1]:2152' --unix "$T_DIR/held.sock" -- \
	"$GTPUD" -c "$T_DIR/gtpud.conf" 2>"$T_DIR/stderr2" &
HPID=$!
T_PIDS="$T_PIDS $HPID"
check "restart: READY=1 with IPv4, IPv6 and control sockets passed" wait_for 10 ready_at_least "$L2" 1
check "restart: Echo over IPv6" nsx a $H echo ::1 2152 0x2001
kill -TERM "$(cat "$T_DIR/pid2")"
check "restart: gtpud exited" wait_for 5 grep -q '"exit"' "$L2"
ip netns exec "$NS" $H echo 127.0.0.1 2152 0x2002 10 > "$T_DIR/echo4" &
E4=$!
ip netns exec "$NS" $H echo ::1 2152 0x2003 10 > "$T_DIR/echo6" &
E6=$!
"$GTPUCTL" -s "$T_DIR/held.sock" status > "$T_DIR/status" 2>&1 &
C=$!
wait "$E4"; r4=$?
wait "$E6"; r6=$?
wait "$C"; rc=$?
check "restart: an IPv4 Echo Request sent while gtpud was down is answered" test $r4 = 0
check "restart: an IPv6 Echo Request sent while gtpud was down is answered" test $r6 = 0
check "restart: a gtpuctl connected while gtpud was down is answered" test $rc = 0 -a -s "$T_DIR/status"
respawn=$(grep '"spawn"' "$L2" | tail -1 | $PY -c 'import json,sys; print(json.loads(sys.stdin.read())["t"])')
check "restart: the answers came after gtpud started again" \
	$PY -c "import sys; sys.exit(not all(float(open(f).read().split()[-1]) > $respawn for f in sys.argv[1:]))" \
	"$T_DIR/echo4" "$T_DIR/echo6"
check "restart: READY=1 again" wait_for 10 ready_at_least "$L2" 2
kill -TERM "$(cat "$T_DIR/pid2")"
wait "$HPID"
rc=$?
check "restart: SIGTERM, exit status 0 (got $rc)" test $rc = 0

# 3. A socket gtpud does not know: start-up failure, exit 3, no READY=1.
L3=$T_DIR/bad.log
ip netns exec "$NS" $H run --log "$L3" --pidfile "$T_DIR/pid3" --timeout 20 -- \
	systemd-socket-activate --datagram -l 127.0.0.1:2154 --fdname=bogus -E NOTIFY_SOCKET -- \
	"$GTPUD" -c "$T_DIR/gtpud.conf" 2>"$T_DIR/stderr3" &
HPID=$!
T_PIDS="$T_PIDS $HPID"
wait_for 10 bound_udp 2154
nsx a $H echo 127.0.0.1 2154 0x3001 1 >/dev/null
wait "$HPID"
rc=$?
check "a socket named bogus: exit status 3 (got $rc)" test $rc = 3
check "a socket named bogus: the message names it" grep -q bogus "$T_DIR/stderr3"
check "a socket named bogus: no READY=1" sh -c "! $H keys $L3 | grep -qx READY"
# 4. A PFCP socket (FileDescriptorName=pfcp, as gtpud-pfcp.socket names it):
# a Heartbeat Request sent before gtpud ran is answered, pfcp.listen unused.
cat > "$T_DIR/pfcp.conf" <<EOC
listen = [ "127.0.0.1:2155" ];
control = { path = "$T_DIR/pfcp-ctl.sock"; };
echo = { interval = 0; };
pfcp = { listen = [ "127.0.0.1:8806" ]; node_id = "127.0.0.1"; allow = [ "127.0.0.1" ];
         access_address = [ "127.0.0.1" ]; };
EOC
L4=$T_DIR/pfcp.log
ip netns exec "$NS" $H run --log "$L4" --pidfile "$T_DIR/pid4" --timeout 30 -- \
	systemd-socket-activate --datagram -l 127.0.0.1:8805 --fdname=pfcp -E NOTIFY_SOCKET -- \
	"$GTPUD" -c "$T_DIR/pfcp.conf" 2>"$T_DIR/stderr4" &
HPID=$!
T_PIDS="$T_PIDS $HPID"
wait_for 10 bound_udp 8805
HB=$(ip netns exec "$NS" "$PY" -c "
import socket
from scapy.all import raw
from scapy.contrib.pfcp import PFCP, PFCPHeartbeatRequest, IE_RecoveryTimeStamp
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(10)
s.sendto(raw(PFCP(S=0, seq=7) / PFCPHeartbeatRequest(IE_list=[IE_RecoveryTimeStamp(timestamp=1)])), ('127.0.0.1', 8805))
r = PFCP(s.recv(9000)); print(r.message_type, r.seq)" 2>&1)
check "a PFCP Heartbeat Request queued on the passed socket is answered ($HB)" test "$HB" = "2 7"
check "pfcp.listen (8806) is not bound" sh -c "! ip netns exec $NS ss -Hlun 'sport = :8806' | grep -q ."
check "the start says PFCP came from systemd" grep -q 'PFCP on 1 socket passed by systemd' "$T_DIR/stderr4"
kill -TERM "$(cat "$T_DIR/pid4")"
wait "$HPID"
done_testing
