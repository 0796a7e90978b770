#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# gtpud's sd_notify protocol under a stand-in for systemd (notify_harness.py):
# READY, RELOADING with MONOTONIC_USEC then READY on each reload (SIGHUP, a
# rejected config, gtpuctl reload), WATCHDOG=1 from the main loop, STOPPING.
. "$(dirname "$0")/lib.sh"
need_root
H="$PY $TESTS_PY/notify_harness.py"
LOG=$T_DIR/notify.log
WD=2000000    # WATCHDOG_USEC: sd-event pings every 0.5 .. 1.5 s

ns_add a
write_conf() {
	cat > "$T_DIR/gtpud.conf" <<EOC
listen = [ "127.0.0.1:2152" ];
control = { path = "$T_DIR/control.sock"; };
log_level = "debug";
echo = { interval = 0; };
peers = ( { name = "enb"; address = "192.0.2.10"; } );
EOC
}
# The state messages in order, WATCHDOG=1 left out.
states() { $H keys "$LOG" | grep -vx WATCHDOG | tr '\n' ' ' | sed 's/ $//'; }
n_ready() { $H keys "$LOG" | grep -cx READY; }
ready_at_least() { [ "$(n_ready)" -ge "$1" ]; }

write_conf
# Not through nsx: a backgrounded function is a subshell, and $! its pid.
ip netns exec "${NS_PREFIX}a" $H run --log "$LOG" --pidfile "$T_DIR/pid" --watchdog-usec $WD --timeout 60 \
	-- "$GTPUD" -c "$T_DIR/gtpud.conf" 2>"$T_DIR/stderr" &
HPID=$!
T_PIDS="$T_PIDS $HPID"
check "READY=1 after start" wait_for 10 sh -c "$H keys $LOG | grep -qx READY"
GPID=$(cat "$T_DIR/pid")
check "gtpud answers an Echo Request once READY" nsx a $H echo 127.0.0.1 2152 0x101

kill -HUP "$GPID"
check "SIGHUP: READY=1 again after the reload" wait_for 10 ready_at_least 2

# A config that does not parse: the running one stays, and systemd still
# needs READY=1 to leave the reloading state.
echo 'peers = ( { name = "enb"; address = ' > "$T_DIR/gtpud.conf"
kill -HUP "$GPID"
check "rejected reload: READY=1 again" wait_for 10 ready_at_least 3
check "rejected reload: gtpud still runs" kill -0 "$GPID"
check "rejected reload: the old config still answers" nsx a $H echo 127.0.0.1 2152 0x102

write_conf
check "gtpuctl reload (ExecReload=) exits 0" "$GTPUCTL" -s "$T_DIR/control.sock" reload
check "gtpuctl reload: READY=1 again" wait_for 10 ready_at_least 4

# Long enough for at least one WATCHDOG=1 after the last READY=1. One
# listen address: the worker blocks in recvmmsg, and must sleep there.
sleep 1
check "idle with one socket: under 5% of a CPU" idle_cpu_ok "$GPID"
kill -TERM "$GPID"
wait "$HPID"
rc=$?
check "SIGTERM: exit status 0 (got $rc)" test $rc = 0

seq=$(states)
diag "states: $seq"
want="READY MONOTONIC_USEC+RELOADING READY MONOTONIC_USEC+RELOADING READY MONOTONIC_USEC+RELOADING READY STOPPING"
check "READY, 3 x (RELOADING+MONOTONIC_USEC, READY), STOPPING in that order" test "$seq" = "$want"
check "every MONOTONIC_USEC is CLOCK_MONOTONIC at the reload" $H reload "$LOG"
check "WATCHDOG=1 between the last READY=1 and STOPPING=1" \
	sh -c "$H keys $LOG | awk '/^READY\$/ { w = 0 } /^WATCHDOG\$/ { w++ } /^STOPPING\$/ { exit !(w > 0) }'"
check "WATCHDOG=1 every 1/4 .. 3/4 of WATCHDOG_USEC" $H watchdog "$LOG" $WD
check "every message comes from the main pid (NotifyAccess=main)" test "$($H senders "$LOG")" = "$GPID"
check "STATUS= carries live figures" sh -c "$H get $LOG STATUS | grep -q '[0-9]'"
check "after each reload, STATUS= shows the figures again at once" $H status-after-reload "$LOG"
check "no ERRNO= on a clean run" test -z "$($H get "$LOG" ERRNO)"

# Outside systemd: no NOTIFY_SOCKET, so nothing to notify; gtpud runs the same.
rm -f "$T_DIR/control.sock"
ip netns exec "${NS_PREFIX}a" env -u NOTIFY_SOCKET WATCHDOG_USEC=$WD "$GTPUD" -c "$T_DIR/gtpud.conf" 2>"$T_DIR/stderr2" &
P=$!
T_PIDS="$T_PIDS $P"
check "without NOTIFY_SOCKET: gtpud answers Echo" wait_for 10 nsx a $H echo 127.0.0.1 2152 0x103 1
kill -TERM "$P"
wait "$P"
rc=$?
check "without NOTIFY_SOCKET: exit status 0 (got $rc)" test $rc = 0
done_testing
