#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Runtime tunnels: batches all or nothing (gtpuctl tunnel add/del -f), the
# state file that brings them back after a restart, and what happens to a
# state file that is cut, unreadable, or collides with the config file.
# scapy sends and decodes the traffic through a restored tunnel.
. "$(dirname "$0")/lib.sh"
need_root
need_scapy
need_cmd jq
[ -x "$GTPUD" ] && [ -x "$GTPUCTL" ] || skip_all "gtpud/gtpuctl not built"

ENB=192.0.2.10 DUTE=192.0.2.1 DUTU=198.51.100.1 UPF=198.51.100.20
SOCK=$T_DIR/ctl.sock CONF=$T_DIR/gtpud.conf LOG=$T_DIR/gtpud.log STATE=$T_DIR/state
PEER="$PY $TESTS_PY/peer.py"
ns_add enb && ns_add dut && ns_add upf || skip_all "cannot create namespaces"
link enb "$ENB/24" dut "$DUTE/24" && link dut "$DUTU/24" upf "$UPF/24" || skip_all "cannot link namespaces"

# conf [EXTRA_TUNNEL]
conf() {
	cat >"$CONF" <<EOF
listen = [ "$DUTE:2152", "$DUTU:2152" ];
control = { path = "$SOCK"; };
state_directory = "$STATE";
max_runtime_tunnels = 5000;
peers = ( { name = "enb"; address = "$ENB"; }, { name = "upf"; address = "$UPF"; } );
tunnels = (
  { name = "file1"; from = { peer = "enb"; teid = 0x100; }; to = { peer = "upf"; teid = 0x200; }; }${1:-}
);
EOF
}
ctl() { "$GTPUCTL" -s "$SOCK" "$@"; }
start() {
	: >"$LOG"
	ip netns exec "${NS_PREFIX}dut" "$GTPUD" -c "$CONF" >>"$LOG" 2>&1 &
	GT_PID=$!
	T_PIDS="$T_PIDS $GT_PID"
	wait_for 5 ctl status || { diag "gtpud did not start"; diag "$(cat "$LOG")"; return 1; }
}
stop() { kill "$GT_PID"; wait "$GT_PID" 2>/dev/null; }
runtime_count() { ctl --json status | jq -r .runtime_tunnels; }
# relayed TEID COUNT: COUNT G-PDUs from enb with TEID reach upf, each with the TEID rewritten to 0x7700.
relayed() {
	local teid=$1 n=$2
	rm -f "$T_DIR/upf.rx"
	ip netns exec "${NS_PREFIX}upf" $PEER listen --addr "$UPF" --duration 4 --out "$T_DIR/upf.rx" --ready "$T_DIR/ready" &
	local l=$!
	T_PIDS="$T_PIDS $l"
	wait_for 5 test -e "$T_DIR/ready"
	nsx enb $PEER send --bind "$ENB" --dst "$DUTE" --pkt "GTP_U_Header(gtp_type=255, teid=$teid)/Raw(b'p{i}')" --count "$n" >/dev/null 2>&1
	wait "$l"
	rm -f "$T_DIR/ready"
	[ "$($PEER eval --in "$T_DIR/upf.rx" "sum(1 for r in rs if r['teid'] == 0x7700)")" = "$n" ] && return 0
	diag "$(ctl --json stats | jq -c '{rx_packets, forwarded, drops}')"
	diag "$(ctl --json tunnels rt1)"; diag "rx: $(wc -l < "$T_DIR/upf.rx") $(head -c 300 "$T_DIR/upf.rx")"
	return 1
}

conf
mkdir -p "$STATE"
start || { done_testing; }
check "without a state file, no runtime tunnel" [ "$(runtime_count)" = 0 ]
check "tunnel add" ctl tunnel add rt1 from enb 0x7000 to upf 0x7700 rate 10000000 burst 20000

# A batch of 1000, through a file, with comments and blank lines.
{
	echo "# a batch"
	for i in $(seq 1 1000); do printf 'b%d from enb 0x%x to upf 0x%x\n' "$i" $((0x10000 + i)) $((0x20000 + i)); done
	echo
} >"$T_DIR/batch"
check "tunnel add -f FILE: 1000 in one batch" ctl tunnel add -f "$T_DIR/batch"
check "1001 runtime tunnels" [ "$(runtime_count)" = 1001 ]

# A batch with errors: nothing of it is applied, and every error is told by its line.
{
	echo "c1 from enb 0x30001 to upf 1"
	echo "c2 from enb 0x30002 to nope 1"
	echo "c3 from enb 0x30001 to upf 1"
	echo "c4 from enb 0x30004 to upf"
	echo "b5 from enb 0x30005 to upf 1"
	echo "c6 from enb 0x30006 to upf 1"
} >"$T_DIR/bad"
ctl tunnel add -f - <"$T_DIR/bad" >"$T_DIR/out" 2>"$T_DIR/err"
rc=$?
check "a bad batch fails" [ "$rc" != 0 ]
errors_told() {
	grep -q '^gtpuctl: tunnel add: line 2: to.peer: unknown peer "nope"$' "$T_DIR/err" &&
	grep -q '^gtpuctl: tunnel add: line 3: from TEID 0x30001 is given twice in the batch$' "$T_DIR/err" &&
	grep -q '^gtpuctl: tunnel add: line 4: ' "$T_DIR/err" && grep -q '^gtpuctl: tunnel add: line 5: a tunnel named "b5" exists$' "$T_DIR/err"
}
check "its errors name lines 2, 3, 4 and 5" errors_told
check "... each on its own line, in order" [ "$(grep '^gtpuctl: tunnel add: line [0-9]*: ' "$T_DIR/err" | cut -d: -f3 | tr '\n' ,)" = " line 2, line 3, line 4, line 5," ]
check "nothing of the bad batch was applied" [ "$(runtime_count)" = 1001 ]
check "... not even its good lines" sh -c "! $GTPUCTL -s $SOCK tunnels c1 >/dev/null 2>&1"

# The JSON protocol: the same batch as lines of a request.
printf '{"version":1,"command":"tunnel add","batch":["j1 from enb 0x40001 to upf 1","","j2 from enb 0x40002 to upf 2"]}\n' |
	ip netns exec "${NS_PREFIX}dut" $PY -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(sys.stdin.buffer.read())
print(s.makefile().readline().strip())' "$SOCK" >"$T_DIR/json"
check "a batch in the JSON protocol: {\"added\":2}" grep -q '"data":{"added":2}' "$T_DIR/json"
printf 'j1\n  # comment\nj2\n' | ctl tunnel del -f - >/dev/null 2>&1
check "tunnel del -f -" [ "$(runtime_count)" = 1001 ]

for i in $(seq 1 500); do echo "b$i"; done >"$T_DIR/del"
echo "file1" >>"$T_DIR/del"
check "a del batch naming a config tunnel fails whole" sh -c "! $GTPUCTL -s $SOCK tunnel del -f $T_DIR/del 2>/dev/null"
check "... and removes nothing" [ "$(runtime_count)" = 1001 ]
sed -i '$d' "$T_DIR/del"
check "tunnel del -f: 500 in one batch" ctl tunnel del -f "$T_DIR/del"
check "501 runtime tunnels" [ "$(runtime_count)" = 501 ]
check "traffic through a runtime tunnel" relayed 0x7000 20
check "gtpuctl tunnels shows origin and rate (rt1: runtime, 10M)" sh -c \
	"'$GTPUCTL' -s '$SOCK' tunnels rt1 | grep -qE '^rt1 +runtime +enb/0x7000 +upf/0x7700 +- +- +10M '"
check "... and file1 comes from the file" test "$(ctl --json tunnels file1 | jq -r '.[0].origin')" = file

# The state file, written shortly after a change.
wait_for 3 grep -q '^# end 501$' "$STATE/tunnels"
check "the state file counts 501 tunnels" grep -q '^# end 501$' "$STATE/tunnels"
check "... and keeps rate and burst" grep -q '^rt1 from enb 0x7000 to upf 0x7700 rate 10000000 burst 20000$' "$STATE/tunnels"
ctl --json tunnels rt1 | jq -c '.[0] | del(.rx_packets, .rx_bytes, .tx_packets, .tx_bytes)' >"$T_DIR/rt1.before"

stop
start || done_testing
check "after a restart, the 501 runtime tunnels are back" [ "$(runtime_count)" = 501 ]
ctl --json tunnels rt1 | jq -c '.[0] | del(.rx_packets, .rx_bytes, .tx_packets, .tx_bytes)' >"$T_DIR/rt1.after"
check "... rt1 as it was" cmp -s "$T_DIR/rt1.before" "$T_DIR/rt1.after"
check "... b777 and not b7" sh -c "$GTPUCTL -s $SOCK tunnels b777 >/dev/null && ! $GTPUCTL -s $SOCK tunnels b7 >/dev/null 2>&1"
check "... the log says they were loaded" grep -q "501 runtime tunnels loaded from $STATE/tunnels" "$LOG"
check "traffic through the restored tunnel" relayed 0x7000 20

# A state tunnel that now collides with the config file is dropped with a warning.
stop
conf ',
  { name = "b777"; from = { peer = "enb"; teid = 0x50000; }; to = { peer = "upf"; teid = 1; }; }'
start || done_testing
check "a state tunnel colliding with the file is dropped with a warning" \
	grep -q 'runtime tunnel "b777" of the state file (line [0-9]*) a tunnel named "b777" exists: dropped' "$LOG"
check "... the rest are loaded" [ "$(runtime_count)" = 500 ]
wait_for 3 grep -q '^# end 500$' "$STATE/tunnels"
check "... and the state file is rewritten without it" grep -q '^# end 500$' "$STATE/tunnels"

# A cut state file is moved aside, never silently dropped.
stop
head -n 100 "$STATE/tunnels" >"$T_DIR/cut" && cp "$T_DIR/cut" "$STATE/tunnels"
start || done_testing
check "a cut state file is moved aside with a warning that names it" \
	grep -qE "$STATE/tunnels it has no end line: the file was cut: moved aside to $STATE/tunnels.bad-[0-9]+" "$LOG"
check "... the moved file is there" sh -c "ls $STATE/tunnels.bad-* >/dev/null"
check "... no runtime tunnel was loaded from it" [ "$(runtime_count)" = 0 ]

# A corrupt line: the same.
stop
rm -f "$STATE"/tunnels.bad-*
printf '# gtpud runtime tunnels, version 1\nx1 from enb 0x1 to upf 1\nx2 frm enb 2 to upf 2\n# end 2\n' >"$STATE/tunnels"
start || done_testing
check "a corrupt state file is moved aside, naming the bad line" \
	grep -qE "$STATE/tunnels line 3: .*moved aside to $STATE/tunnels.bad-" "$LOG"
check "... x1 was not loaded either" [ "$(runtime_count)" = 0 ]

# One that cannot be read at all (a directory in its place).
stop
rm -f "$STATE"/tunnels*
mkdir "$STATE/tunnels"
start || done_testing
check "an unreadable state file is moved aside" grep -qE "$STATE/tunnels cannot be read .*moved aside" "$LOG"
stop
done_testing
