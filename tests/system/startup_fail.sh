#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Start-up failures under a stand-in for systemd: each exits with the status
# gtpud(8) documents (1 invalid config, 3 unreadable config, bind, TUN, permission), says
# what and why on stderr, and never sends READY=1; exit 3 sends ERRNO=.
# gtpud(8): 3 also for a configuration file that cannot be read.
. "$(dirname "$0")/lib.sh"
need_root
need_cmd setpriv
H="$PY $TESTS_PY/notify_harness.py"
NS=${NS_PREFIX}a
ns_add a
conf() {   # conf FILE PORT [EXTRA]
	cat > "$1" <<EOC
listen = [ "127.0.0.1:$2" ];
control = { path = "$1.sock"; };
echo = { interval = 0; };
peers = ( { name = "enb"; address = "192.0.2.10"; } );
$3
EOC
}
# run NAME CMD...: gtpud under the harness in the namespace; sets RC.
run() {
	local n=$1; shift
	ip netns exec "$NS" $H run --log "$T_DIR/$n.log" --pidfile "$T_DIR/$n.pid" --timeout 10 \
		-- "$@" 2>"$T_DIR/$n.err"
	RC=$?
	diag "$n: exit $RC: $(head -c 300 "$T_DIR/$n.err" | tr '\n' ' ')"
	diag "$n: STATUS=$($H get "$T_DIR/$n.log" STATUS | tail -1)"
}
no_ready() { ! $H keys "$T_DIR/$1.log" | grep -qx READY; }
errno_is() { [ "$($H get "$T_DIR/$1.log" ERRNO | tail -1)" = "$2" ]; }

# A missing config file.
run missing "$GTPUD" -c "$T_DIR/nonexistent.conf"
check "missing config: exit status 3" test $RC = 3
check "missing config: ERRNO=2 (ENOENT)" errno_is missing 2
check "missing config: the message names the file" grep -q nonexistent.conf "$T_DIR/missing.err"
check "missing config: no READY=1" no_ready missing
nsx a timeout 10 "$GTPUD" -t -c "$T_DIR/nonexistent.conf" 2>/dev/null
check "missing config: gtpud -t exits 3 (ExecStartPre= stops there)" test $? = 3

# An invalid config (the service's RestartPreventExitStatus=1).
conf "$T_DIR/invalid.conf" 2152 'workers = 1000;'
run invalid "$GTPUD" -c "$T_DIR/invalid.conf"
check "invalid config: exit status 1" test $RC = 1
check "invalid config: the message names file and line" grep -q "invalid.conf:5: workers" "$T_DIR/invalid.err"
check "invalid config: no READY=1" no_ready invalid
nsx a timeout 10 "$GTPUD" -t -c "$T_DIR/invalid.conf" 2>/dev/null
check "invalid config: gtpud -t exits 1" test $? = 1

# A config that root could read only with CAP_DAC_OVERRIDE: drop it.
conf "$T_DIR/unreadable.conf" 2152
chmod 000 "$T_DIR/unreadable.conf"
run unreadable setpriv --bounding-set=-dac_override,-dac_read_search -- "$GTPUD" -c "$T_DIR/unreadable.conf"
check "unreadable config: exit status 3" test $RC = 3
check "unreadable config: ERRNO=13 (EACCES)" errno_is unreadable 13
check "unreadable config: the message says why" grep -q "Permission denied" "$T_DIR/unreadable.err"
check "unreadable config: no READY=1" no_ready unreadable

# The port is taken by a plain socket.
conf "$T_DIR/taken.conf" 2152
ip netns exec "$NS" $PY -c 'import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 2152)); time.sleep(60)' &
HOLD=$!
T_PIDS="$T_PIDS $HOLD"
wait_for 5 sh -c "ip netns exec $NS ss -Hlun 'sport = :2152' | grep -q ."
run taken "$GTPUD" -c "$T_DIR/taken.conf"
check "port taken: exit status 3" test $RC = 3
check "port taken: the message says why" grep -q "Address already in use" "$T_DIR/taken.err"
check "port taken: ERRNO=98 (EADDRINUSE)" errno_is taken 98
check "port taken: no READY=1" no_ready taken
check "port taken: the last STATUS= says why" sh -c "$H get $T_DIR/taken.log STATUS | tail -1 | grep -q 'Address already in use'"
kill "$HOLD"

# The port is taken by another gtpud (SO_REUSEPORT must not let both in).
conf "$T_DIR/first.conf" 2155
ip netns exec "$NS" $H run --log "$T_DIR/first.log" --pidfile "$T_DIR/first.pid" --timeout 30 \
	-- "$GTPUD" -c "$T_DIR/first.conf" 2>"$T_DIR/first.err" &
FIRST=$!
T_PIDS="$T_PIDS $FIRST"
wait_for 10 sh -c "$H keys $T_DIR/first.log | grep -qx READY"
conf "$T_DIR/second.conf" 2155
run second "$GTPUD" -c "$T_DIR/second.conf"
check "port taken by another gtpud: exit status 3" test $RC = 3
check "port taken by another gtpud: no READY=1" no_ready second
kill -TERM "$(cat "$T_DIR/first.pid")"
wait "$FIRST"
# The same with workers = 2: each instance's sockets carry SO_REUSEPORT,
# which must not let the second one join the first one's group.
conf "$T_DIR/first2.conf" 2157 'workers = 2;'
ip netns exec "$NS" $H run --log "$T_DIR/first2.log" --pidfile "$T_DIR/first2.pid" --timeout 30 \
	-- "$GTPUD" -c "$T_DIR/first2.conf" 2>"$T_DIR/first2.err" &
FIRST=$!
T_PIDS="$T_PIDS $FIRST"
wait_for 10 sh -c "$H keys $T_DIR/first2.log | grep -qx READY"
conf "$T_DIR/second2.conf" 2157 'workers = 2;'
run second2 "$GTPUD" -c "$T_DIR/second2.conf"
check "port taken by another gtpud, both with workers = 2: exit status 3" test $RC = 3
check "port taken by another gtpud, both with workers = 2: no READY=1" no_ready second2
kill -TERM "$(cat "$T_DIR/first2.pid")"
wait "$FIRST"

# TUN without CAP_NET_ADMIN (as the service runs without gtpud-tun.conf).
conf "$T_DIR/tun.conf" 2156 'tun = { name = "gtpsf0"; mtu = 1400; addresses = [ "192.0.2.1/24" ]; };'
run tun setpriv --bounding-set=-net_admin -- "$GTPUD" -c "$T_DIR/tun.conf"
check "TUN without CAP_NET_ADMIN: exit status 3" test $RC = 3
check "TUN without CAP_NET_ADMIN: the message says why" grep -q "Operation not permitted" "$T_DIR/tun.err"
check "TUN without CAP_NET_ADMIN: ERRNO=1 (EPERM)" errno_is tun 1
check "TUN without CAP_NET_ADMIN: no READY=1" no_ready tun
check "TUN without CAP_NET_ADMIN: the last STATUS= says why" sh -c "$H get $T_DIR/tun.log STATUS | tail -1 | grep -q 'not permitted'"
check "TUN without CAP_NET_ADMIN: no device left behind" sh -c "! ip -n $NS link show gtpsf0 2>/dev/null"
done_testing
