#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# 200 idle control clients do not slow the datapath: the same offered load
# through a relay tunnel, without and with 200 connected clients, reaches
# the receiver within 5% (zero loss both times in practice). gtpud's CPU
# time per packet is printed for both runs.
. "$(dirname "$0")/lib.sh"
need_root
need_scapy
need_cmd jq
[ -x "$GTPUD" ] && [ -x "$GTPUCTL" ] || skip_all "gtpud/gtpuctl not built"

ENB=192.0.2.10 DUTE=192.0.2.1 DUTU=198.51.100.1 UPF=198.51.100.20
SOCK=$T_DIR/ctl.sock CONF=$T_DIR/gtpud.conf LOG=$T_DIR/gtpud.log
PEER="$PY $TESTS_PY/peer.py"
RATE=${IDLE_RATE:-20000}   # packets per second offered
SECS=${IDLE_SECS:-3}
CLIENTS=${IDLE_CLIENTS:-200}
ns_add enb && ns_add dut && ns_add upf || skip_all "cannot create namespaces"
link enb "$ENB/24" dut "$DUTE/24" && link dut "$DUTU/24" upf "$UPF/24" || skip_all "cannot link namespaces"
cat >"$CONF" <<EOF
listen = [ "$DUTE:2152", "$DUTU:2152" ];
control = { path = "$SOCK"; mode = "0600"; max_clients = 256; idle_timeout = 600; };
log_level = "warning";
echo = { interval = 0; };
peers = ( { name = "enb"; address = "$ENB"; }, { name = "upf"; address = "$UPF"; } );
tunnels = ( { name = "up"; from = { peer = "enb"; teid = 0x100; }; to = { peer = "upf"; teid = 0x200; }; } );
EOF
ctl() { "$GTPUCTL" -s "$SOCK" "$@"; }
# bgns NS COMMAND...: in the background in namespace NS; BG is the program's PID.
bgns() { local n=$NS_PREFIX$1; shift; ip netns exec "$n" "$@" & BG=$!; T_PIDS="$T_PIDS $BG"; }
bgns dut "$GTPUD" -c "$CONF" >>"$LOG" 2>&1
GT_PID=$BG
wait_for 5 ctl status || { diag "$(cat "$LOG")"; skip_all "gtpud did not start"; }

# gtpud's CPU time (user + system, all threads) in clock ticks.
cpu() { cpu_ticks "$GT_PID"; }
# A G-PDU of 100 bytes of payload to TEID 0x100, built once by scapy.
HEX=$("$PY" -c "
from scapy.contrib.gtp import GTP_U_Header; from scapy.all import Raw
print(bytes(GTP_U_Header(gtp_type=255, teid=0x100)/Raw(b'x' * 100)).hex())")
N=$((RATE * SECS))

# run NAME: offer N packets at RATE; sets RX (received by upf), FWD
# (forwarded by gtpud), PPS (offered rate achieved) and CPP (CPU us per packet).
run() {
	local out=$T_DIR/$1.rx ready=$T_DIR/$1.ready f0 c0 c1 lp
	bgns upf $PEER listen --addr "$UPF" --duration 60 --out "$out" --summary --ready "$ready"
	lp=$BG
	wait_for 10 test -e "$ready" || return 1
	f0=$(ctl --json stats | jq .forwarded)
	c0=$(cpu)
	ip netns exec "${NS_PREFIX}enb" $PEER send --bind "$ENB" --dst "$DUTE" --hex "$HEX" \
		--count "$N" --rate "$RATE" --report "$T_DIR/$1.report"
	sleep 0.5
	c1=$(cpu)
	kill "$lp"; wait "$lp" 2>/dev/null
	RX=$(jq .count "$out")
	FWD=$(($(ctl --json stats | jq .forwarded) - f0))
	PPS=$(jq '.pps | floor' "$T_DIR/$1.report")
	CPP=$(awk -v t=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" -v n="$FWD" 'BEGIN { printf "%.2f", n ? t * 1e6 / hz / n : 0 }')
	diag "$1: offered $N at $PPS pps, gtpud forwarded $FWD, upf received $RX, gtpud CPU ${CPP} us/packet"
}

run without || { not_ok "baseline run"; done_testing; }
RX0=$RX FWD0=$FWD CPP0=$CPP PPS0=$PPS
check "without idle clients: everything offered is forwarded" test "$FWD0" = "$N"

# 200 clients connect, each is served once (so gtpud has accepted it), then idles.
"$PY" - "$SOCK" "$CLIENTS" "$T_DIR/held" "$T_DIR/release" <<'EOF' &
import json, os, socket, sys, time
path, n, held, release = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
socks = []
for i in range(n):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    s.sendall(b'{"version":1,"command":"status"}\n')
    r = b''
    while not r.endswith(b'\n'):
        r += s.recv(4096)
    if json.loads(r)['result'] != 0:
        break
    socks.append(s)
open(held, 'w').write('%d\n' % len(socks))
while not os.path.exists(release):
    time.sleep(0.1)
EOF
HOLDER=$!
T_PIDS="$T_PIDS $HOLDER"
wait_for 20 test -s "$T_DIR/held"
is_n=$(cat "$T_DIR/held" 2>/dev/null)
check "$CLIENTS clients connected and served (got ${is_n:-0})" test "${is_n:-0}" = "$CLIENTS"
check "gtpud holds $CLIENTS client sockets" test "$(ls "/proc/$GT_PID/fd" | wc -l)" -gt "$CLIENTS"
check "status still answers with $CLIENTS idle clients" quiet ctl status

run with || { not_ok "run with idle clients"; done_testing; }
RX1=$RX FWD1=$FWD CPP1=$CPP PPS1=$PPS
touch "$T_DIR/release"
wait "$HOLDER"

check "with $CLIENTS idle clients: everything offered is forwarded" test "$FWD1" = "$N"
within() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(b >= a * 0.95 && b <= a * 1.05) }'; }
check "forwarded with idle clients within 5% of without ($FWD1 vs $FWD0)" within "$FWD0" "$FWD1"
check "received by upf with idle clients within 5% of without ($RX1 vs $RX0)" within "$RX0" "$RX1"
diag "offered rate: $PPS0 pps without, $PPS1 pps with; CPU per packet: $CPP0 us without, $CPP1 us with"
done_testing
