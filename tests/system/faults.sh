#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Faults: 1000 SIGHUPs in one second (reloads one at a time, same fds,
# forwarding goes on); a reload with each kind of bad config (the old one
# keeps running, gtpuctl reload fails with FILE:LINE, counters stay); a
# peer that disappears (ICMP port unreachable, then no neighbour); the TUN
# device deleted from under gtpud. No crash and no busy loop in any of them.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/load_topo.sh"
lt_need
lt_topo || skip_all "topology set-up failed"
lt_conf
cp "$LT_CONF" "$T_DIR/good.conf"
if lt_start; then ok "gtpud starts"; else not_ok "gtpud starts"; done_testing; fi

st() { lt_ctl --json stats | "$PY" -c "import json,sys; S=json.load(sys.stdin); print($1)"; }
status() { lt_ctl --json status | "$PY" -c "import json,sys; S=json.load(sys.stdin); print($1)"; }
sinkn() { kv "$T_DIR/sink.out" received; }
ident() { st "S['rx_packets'] == S['forwarded'] + S['answered'] + S['dropped']"; }
ident_ok() { [ "$(ident)" = True ]; }
# cpu_pct SECONDS: gtpud's CPU use over SECONDS, in percent of one CPU.
cpu_pct() {
	local c0 c1
	c0=$(lt_cpu)
	sleep "$1"
	c1=$(lt_cpu)
	echo $(( (c1 - c0) * 100 / (LT_HZ * $1) ))
}

# A steady stream enb -> upf for the whole test: 2000 datagrams a second,
# no malformed ones. The sink counts it; its output is read with SIGUSR1-free
# polling of gtpud's counters instead (the sink prints at its end).
lt_sink 600 || diag "sink did not start"
lt_flood_start "$T_DIR/stream.out" --seconds 600 --pps 2000 --malformed 0
STREAM=$LT_GEN_PID
wait_for 5 test "$(st "S['forwarded']")" -gt 100
check "the stream is forwarded" test "$(st "S['forwarded']")" -gt 100
# Every answer is a snapshot between two batches of the worker: the
# identity holds under traffic too, in each of 1000 answers in a row.
for _ in $(seq 1000); do lt_ctl --json stats; done >"$T_DIR/snaps.json"
is "accounting identity in each of 1000 stats answers under traffic" "$("$PY" -c '
import json, sys
bad = total = 0
for l in open(sys.argv[1]):
    S = json.loads(l)
    total += 1
    bad += S["rx_packets"] != S["forwarded"] + S["answered"] + S["dropped"]
print("%d of %d off" % (bad, total))' "$T_DIR/snaps.json")" "0 of 1000 off"

# ---- 1000 SIGHUPs in one second ----
sleep 0.5
fds0=$(lt_fds)
r0=$(status "S['reloads']")
f0=$(st "S['forwarded']")
t0=$(date +%s%N)
for _ in $(seq 1000); do kill -HUP "$LT_PID" || break; done
t1=$(date +%s%N)
diag "1000 SIGHUPs sent in $(( (t1 - t0) / 1000000 )) ms"
check "gtpud survives 1000 SIGHUPs" wait_for 10 lt_alive
# Reloads run one at a time on the event loop; signals that arrive during
# one are merged, so the count grows by at least 1 and at most 1000.
prev=-1
for _ in $(seq 50); do
	r1=$(status "S['reloads']")
	[ "$r1" = "$prev" ] && break
	prev=$r1
	sleep 0.2
done
diag "reloads: $r0 -> $r1"
check "reloads counted ($((r1 - r0)) in 1..1000)" test $((r1 - r0)) -ge 1 -a $((r1 - r0)) -le 1000
is "last reload applied" "$(status "S['last_reload']")" ok
is "same number of open fds after the storm" "$(lt_fds)" "$fds0"
f1=$(st "S['forwarded']")
sleep 1
f2=$(st "S['forwarded']")
diag "forwarded: $f0 before, $f1 after the storm, $f2 one second later"
check "forwarding went on during the storm" test "$f1" -gt "$f0"
check "forwarding goes on after the storm (>= 1000/s)" test $((f2 - f1)) -ge 1000
# The stream still runs: a snapshot can fall between a datagram's receipt
# and its send; between batches the identity holds (exactly, at rest below).
check "accounting identity after the storm" wait_for 3 ident_ok

# ---- a reload with each kind of bad config ----
# NAME|LINE|TEXT (TEXT replaces the config file; LINE is the line the
# error must name).
P='peers = ( { name = "enb"; address = "192.0.2.10"; }, { name = "upf"; address = "198.51.100.20"; } );'
T='{ name = "t"; from = { peer = "enb"; teid = 1; }; to = { peer = "upf"; teid = 2; }; }'
bad_configs() {
	cat <<EOF
syntax error, trailing comma at its line|3|listen = [ "0.0.0.0:2152" ];\n$P\ntunnels = ( $T,\n);
unknown key|2|$P\nfrobnicate = 1;
wrong type|2|$P\nworkers = "two";
out of range|2|$P\nworkers = 1000;
teid 0|3|$P\ntunnels = (\n{ name = "t"; from = { peer = "enb"; teid = 0; }; to = { peer = "upf"; teid = 2; }; }\n);
duplicate from.teid|4|$P\ntunnels = (\n$T,\n{ name = "u"; from = { peer = "upf"; teid = 1; }; to = { peer = "enb"; teid = 2; }; }\n);
unknown peer|3|$P\ntunnels = (\n{ name = "t"; from = { peer = "nobody"; teid = 1; }; to = { peer = "upf"; teid = 2; }; }\n);
ue without tun|3|$P\ntunnels = (\n{ name = "t"; from = { peer = "enb"; teid = 1; }; to = { peer = "upf"; teid = 2; }; ue = [ "203.0.113.2" ]; }\n);
bad address|2|peers = (\n{ name = "enb"; address = "192.0.2.300"; }\n);
duplicate name|3|peers = (\n{ name = "enb"; address = "192.0.2.10"; },\n{ name = "enb"; address = "192.0.2.11"; }\n);
include|2|workers = 1;\n@include "/etc/passwd"
EOF
}
while IFS='|' read -r name line text; do
	printf '%b\n' "$text" >"$LT_CONF"
	rx0=$(st "S['rx_packets']")
	tun0=$(status "S['tunnels']" 2>/dev/null || echo "?")
	out=$(lt_ctl reload 2>&1)
	rc=$?
	if [ "$rc" != 0 ] && printf '%s\n' "$out" | grep -q "$LT_CONF:$line: "; then
		ok "reload with a bad config ($name) fails naming $(basename "$LT_CONF"):$line"
	else
		not_ok "reload with a bad config ($name) fails naming $(basename "$LT_CONF"):$line"
		diag "exit $rc: $out"
	fi
	f0=$(st "S['forwarded']")
	sleep 0.3
	rx1=$(st "S['rx_packets']")
	check "  $name: counters kept ($rx1 >= $rx0) and the old config forwards" \
		test "$rx1" -ge "$rx0" -a "$(st "S['forwarded']")" -gt "$f0"
	is "  $name: the old tunnels are kept" "$(status "S['tunnels']" 2>/dev/null || echo "?")" "$tun0"
done < <(bad_configs)
rm -f "$LT_CONF"
out=$(lt_ctl reload 2>&1)
rc=$?
check "reload of a missing file fails naming the file" \
	sh -c "[ $rc != 0 ] && printf '%s\n' \"\$1\" | grep -q '$LT_CONF: '" _ "$out"
cp "$T_DIR/good.conf" "$LT_CONF"
printf '%b\n' 'workers = "x";' >"$LT_CONF.bad"
mv "$LT_CONF.bad" "$LT_CONF"
kill -HUP "$LT_PID"
sleep 0.5
check "a SIGHUP with a bad config leaves gtpud running" lt_alive
check "  and logs the error with FILE:LINE" grep -q "$LT_CONF:1: " "$LT_LOG"
cp "$T_DIR/good.conf" "$LT_CONF"
check "reload of the good config succeeds" quiet lt_ctl reload
is "accounting identity after the reloads" "$(ident)" True

# ---- a peer that disappears ----
# Nothing listens on upf any more: each relayed datagram draws an ICMP port
# unreachable. gtpud's sockets are not connected, so the kernel does not
# turn these into send errors; gtpud must simply go on.
kill "$LT_SINK" 2>/dev/null
wait "$LT_SINK" 2>/dev/null
sleep 0.5
f0=$(st "S['forwarded']")
se0=$(st "S['drops']['send_error']")
cpu=$(cpu_pct 3)
f1=$(st "S['forwarded']")
se1=$(st "S['drops']['send_error']")
diag "peer without a listener: forwarded +$((f1 - f0)), send_error +$((se1 - se0)), gtpud CPU $cpu%"
check "gtpud is up with ICMP port unreachable coming back" lt_alive
check "  the datagrams are counted (forwarded or send_error)" test $((f1 - f0 + se1 - se0)) -gt 1000
check "  no busy loop (CPU $cpu% < 10%)" test "$cpu" -lt 10
# The peer's host goes away: no neighbour answers (ARP fails).
ip -n "${NS_PREFIX}upf" addr flush dev "$(ip -n "${NS_PREFIX}upf" -o link show type veth | awk -F'[:@ ]+' 'NR == 1 { print $2 }')"
sleep 1
f0=$(st "S['forwarded']")
se0=$(st "S['drops']['send_error']")
cpu=$(cpu_pct 3)
f1=$(st "S['forwarded']")
se1=$(st "S['drops']['send_error']")
diag "peer gone: forwarded +$((f1 - f0)), send_error +$((se1 - se0)), gtpud CPU $cpu%"
check "gtpud is up with the peer's host gone" lt_alive
check "  the datagrams are counted (forwarded or send_error)" test $((f1 - f0 + se1 - se0)) -gt 1000
check "  no busy loop (CPU $cpu% < 10%)" test "$cpu" -lt 10
is "accounting identity with the peer gone" "$(ident)" True
kill "$STREAM" 2>/dev/null
wait "$STREAM" 2>/dev/null
sleep 0.3
is "accounting identity at rest, exactly" "$(ident)" True

# ---- the TUN device deleted from under gtpud ----
if [ -c /dev/net/tun ]; then
	kill "$LT_PID"
	wait "$LT_PID" 2>/dev/null
	LT_PID=
	lt_conf "$LT_CONF" ',
  { name = "ue"; from = { peer = "enb"; teid = 0x300; }; to = { peer = "enb"; teid = 0x301; }; ue = [ "203.0.113.2" ]; }'
	sed -i 's|^tunnels = (|tun = { name = "ltun0"; mtu = 1400; addresses = [ "203.0.113.1/24" ]; };\ntunnels = (|' "$LT_CONF"
	: >"$LT_LOG"
	if lt_start && nsx dut ip link show ltun0 >/dev/null 2>&1; then
		ok "gtpud starts with a TUN device"
		nsx dut ip link del ltun0
		sleep 1
		cpu=$(cpu_pct 3)
		diag "after ip link del ltun0: gtpud CPU $cpu%; log: $(tail -3 "$LT_LOG" | tr '\n' ' ')"
		check "gtpud does not crash when its TUN device is deleted" lt_alive
		check "  no busy loop (CPU $cpu% < 10%)" test "$cpu" -lt 10
		check "  a clear error names the device" grep -qi 'ltun0.*\(gone\|deleted\|removed\|error\)\|\(gone\|deleted\|removed\|error\).*ltun0' "$LT_LOG"
	else
		not_ok "gtpud starts with a TUN device"
		sed 's/^/# /' "$LT_LOG"
	fi
else
	ok "TUN device deleted # SKIP no /dev/net/tun"
fi
done_testing
