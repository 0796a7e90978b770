#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# gtpuctl as people type it: options after the command, every error on one
# line of its own that starts with "gtpuctl:", -c FILE with a file that is
# broken elsewhere, --exact, and the timeout when nothing answers (a socket
# that systemd holds for a service that cannot start).
. "$(dirname "$0")/lib.sh"
need_root
[ -x "$GTPUD" ] && [ -x "$GTPUCTL" ] || skip_all "gtpud/gtpuctl not built"

SOCK=$T_DIR/ctl.sock CONF=$T_DIR/gtpud.conf LOG=$T_DIR/gtpud.log
ns_add dut || skip_all "cannot create a namespace"
cat >"$CONF" <<EOF2
listen = [ "127.0.0.1:2152" ];
control = { path = "$SOCK"; };
echo = { interval = 0; };
peers = ( { name = "enb"; address = "192.0.2.10"; }, { name = "upf"; address = "198.51.100.20"; } );
tunnels = (
  { name = "up"; from = { peer = "enb"; teid = 0x100; }; to = { peer = "upf"; teid = 0x200; }; rate = "10M"; }
);
EOF2
ip netns exec "$NS_PREFIX"dut "$GTPUD" -c "$CONF" >>"$LOG" 2>&1 &
GT_PID=$!
T_PIDS="$T_PIDS $GT_PID"
wait_for 5 "$GTPUCTL" -s "$SOCK" status || { diag "$(cat "$LOG")"; skip_all "gtpud did not start"; }

# run DESC WANT_EXIT COMMAND...: exit code; stdout in $T_DIR/out, stderr in $T_DIR/err.
run() {
	local d=$1 want=$2 rc
	shift 2
	"$@" >"$T_DIR/out" 2>"$T_DIR/err"
	rc=$?
	if [ "$rc" = "$want" ]; then ok "$d"; else not_ok "$d"; diag "exit $rc (want $want)"; diag "$(cat "$T_DIR/err")"; fi
}
# Every line of stderr starts with "gtpuctl: " and there is at least one.
prefixed() { [ -s "$T_DIR/err" ] && ! grep -qv '^gtpuctl: ' "$T_DIR/err"; }
lines() { [ "$(wc -l <"$T_DIR/err")" = "$1" ]; }

# Options after the command.
run "status --json: options after the command" 0 "$GTPUCTL" status --json -s "$SOCK"
check "  ... prints JSON" grep -q '^{"version":' "$T_DIR/out"
run "tunnels -c FILE" 0 "$GTPUCTL" tunnels -c "$CONF"
check "  ... lists the tunnel" grep -q '^up ' "$T_DIR/out"
run "tunnels up --socket=SOCK -j (long option with =)" 0 "$GTPUCTL" tunnels up --socket="$SOCK" -j
check "  ... one tunnel as JSON" grep -q '"name":"up"' "$T_DIR/out"
run "'--' ends the options: a tunnel named -j is an argument" 1 "$GTPUCTL" -s "$SOCK" tunnels -- -j
check "  ... one prefixed line" sh -c "$(declare -f prefixed lines); T_DIR=$T_DIR; prefixed && lines 1"

# --exact
"$GTPUCTL" -s "$SOCK" tunnels >"$T_DIR/t1"
"$GTPUCTL" -s "$SOCK" tunnels --exact >"$T_DIR/t2"
check "tunnels: rate 10M" grep -qE '^up .* 10M ' "$T_DIR/t1"
check "tunnels --exact: rate 10000000" grep -qE '^up .* 10000000 ' "$T_DIR/t2"
# 1500 Echo Requests from the test: counts past 1000 show as 1.5k, or in full.
/usr/bin/python3 - "$NS_PREFIX"dut <<'PY' 2>/dev/null
import socket, subprocess, sys
# In the namespace: send from a UDP socket of our own to gtpud on 127.0.0.1.
code = ("import socket\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
        "for i in range(1500): s.sendto(bytes([0x32,1,0,4,0,0,0,0,i>>8&255,i&255,0,0]),('127.0.0.1',2152))\n")
subprocess.run(["ip", "netns", "exec", sys.argv[1], "/usr/bin/python3", "-c", code])
PY
sleep 0.5
"$GTPUCTL" -s "$SOCK" stats >"$T_DIR/s1"
"$GTPUCTL" -s "$SOCK" stats -x >"$T_DIR/s2"
check "stats: 1500 packets received shown as 1.5k" grep -qE '^received packets +1\.5k$' "$T_DIR/s1"
check "stats -x: shown as 1500" grep -qE '^received packets +1500$' "$T_DIR/s2"
check "stats -x: bytes in full (18000 B)" grep -qE '^received bytes +18000 B$' "$T_DIR/s2"

# -c FILE with errors elsewhere: the control section is enough.
{ echo 'workers = 999;'; echo "control = { path = \"$SOCK\"; mode = \"99\"; };"; echo 'peers = ( { name = enb }'; } >"$T_DIR/broken.conf"
run "-c FILE whose other keys and syntax are broken finds the socket" 0 "$GTPUCTL" -c "$T_DIR/broken.conf" status
printf 'workers = 1;\n' >"$T_DIR/nocontrol.conf"
run "-c FILE without control: the default path" 3 "$GTPUCTL" -c "$T_DIR/nocontrol.conf" status
check "  ... which it names" grep -q '/run/gtpud/control.sock' "$T_DIR/err"
printf 'control = { path = "relative.sock" };\n' >"$T_DIR/badpath.conf"
run "-c FILE with a bad control.path: exit 2" 2 "$GTPUCTL" -c "$T_DIR/badpath.conf" status
check "  ... every line prefixed, the error with its line" sh -c "$(declare -f prefixed); T_DIR=$T_DIR; prefixed && grep -q 'badpath.conf:1: control.path' $T_DIR/err"
printf 'control = { path = "/x.sock"\n' >"$T_DIR/badsyntax.conf"
run "-c FILE whose control group does not parse: exit 2" 2 "$GTPUCTL" -c "$T_DIR/badsyntax.conf" status
check "  ... told as a syntax error, prefixed" sh -c "$(declare -f prefixed); T_DIR=$T_DIR; prefixed && grep -q \"missing '}'\" $T_DIR/err"

# Errors: one prefixed line each.
run "no command: exit 2" 2 "$GTPUCTL"
check "  ... one prefixed line" sh -c "$(declare -f prefixed lines); T_DIR=$T_DIR; prefixed && lines 1"
run "unknown option: exit 2" 2 "$GTPUCTL" --bogus status
check "  ... one prefixed line" sh -c "$(declare -f prefixed lines); T_DIR=$T_DIR; prefixed && lines 1"
run "option without its value after the command: exit 2" 2 "$GTPUCTL" status -s
check "  ... one prefixed line" sh -c "$(declare -f prefixed lines); T_DIR=$T_DIR; prefixed && lines 1"
run "wrong number of arguments: exit 2" 2 "$GTPUCTL" -s "$SOCK" status extra
check "  ... one prefixed line" sh -c "$(declare -f prefixed lines); T_DIR=$T_DIR; prefixed && lines 1"
run "tunnel del of a file tunnel: exit 1" 1 "$GTPUCTL" -s "$SOCK" tunnel del up
check "  ... the error and its detail on one prefixed line" sh -c "$(declare -f prefixed lines); T_DIR=$T_DIR; prefixed && lines 1 && grep -q 'comes from the config file' $T_DIR/err"
printf 'a1 from enb 0x501 to nope 0x601\na2 from enb 0x502 to upf 0x602 qfi 99\n' >"$T_DIR/batch"
run "a batch with two bad lines: exit 1" 1 "$GTPUCTL" -s "$SOCK" tunnel add -f "$T_DIR/batch"
check "  ... three lines, each prefixed" sh -c "$(declare -f prefixed lines); T_DIR=$T_DIR; prefixed && lines 3 && grep -q '^gtpuctl: tunnel add: line 2: ' $T_DIR/err"
cp "$CONF" "$T_DIR/good.conf"
printf 'workers = 0;\nlog_level = "loud";\n' >>"$CONF"
run "reload of a file with two errors: exit 1" 1 "$GTPUCTL" reload -s "$SOCK"
check "  ... each error on its own prefixed line" sh -c "$(declare -f prefixed lines); T_DIR=$T_DIR; prefixed && lines 3 && grep -q '^gtpuctl: reload: .*gtpud.conf:8: workers' $T_DIR/err"
cp "$T_DIR/good.conf" "$CONF"

# The timeout: a socket that accepts connections but never answers, as
# systemd's does while the service cannot start.
/usr/bin/python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1]); s.listen(16)
time.sleep(60)' "$T_DIR/mute.sock" &
MUTE=$!
T_PIDS="$T_PIDS $MUTE"
wait_for 5 test -S "$T_DIR/mute.sock"
t0=$(date +%s%N)
run "no answer within -t 1: exit 7" 7 "$GTPUCTL" -s "$T_DIR/mute.sock" -t 1 status
t1=$(date +%s%N)
check "  ... after about a second ($(( (t1 - t0) / 1000000 )) ms)" test $(( (t1 - t0) / 1000000 )) -ge 900 -a $(( (t1 - t0) / 1000000 )) -lt 3000
check "  ... one prefixed line that says so" sh -c "$(declare -f prefixed lines); T_DIR=$T_DIR; prefixed && lines 1 && grep -q 'no answer from gtpud on .* within 1 s' $T_DIR/err"
t0=$(date +%s%N)
run "no answer, default timeout: exit 7" 7 "$GTPUCTL" -s "$T_DIR/mute.sock" peers
t1=$(date +%s%N)
check "  ... after the default 5 s ($(( (t1 - t0) / 1000000 )) ms)" test $(( (t1 - t0) / 1000000 )) -ge 4900 -a $(( (t1 - t0) / 1000000 )) -lt 7000
"$GTPUCTL" -s "$T_DIR/mute.sock" -t 0 status >/dev/null 2>&1 &
W=$!
sleep 2
check "-t 0 waits on" kill -0 "$W"
kill "$W" 2>/dev/null; wait "$W" 2>/dev/null
run "a bad timeout: exit 2" 2 "$GTPUCTL" -t -1 status
"$GTPUCTL" -s "$SOCK" -t 1 monitor >"$T_DIR/mon" 2>&1 &
W=$!
sleep 2.5
check "monitor with -t 1 still runs after 2.5 s of no events" kill -0 "$W"
kill "$W" 2>/dev/null; wait "$W" 2>/dev/null
kill "$MUTE" 2>/dev/null
done_testing
