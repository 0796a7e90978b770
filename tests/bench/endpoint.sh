#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Endpoint-mode throughput: iperf3 TCP in one run, rounds alternating, over
#   gtpud        ue - siteA [gtpud, TUN] == GTP-U == siteB [gtpud, TUN] - dn (offloads on)
#   gtpud-plain  the same pair with GTPUD_TUN_OFFLOAD=0 (no virtio header, GSO, GRO)
#   veth         the same four namespaces routed over the veths, no tunnel
#   osmo         sgsnemu --createif (client) == GTP-U == osmo-ggsn (tun) - dn
# Prints Gbit/s and CPU-seconds per GB (the tunnel processes from
# /proc/PID/stat, and the whole machine from /proc/stat), medians of the
# rounds, and the ratios against the targets. Needs root, iperf3, osmo-ggsn.
# Usage: tests/bench/endpoint.sh [--rounds N] [--secs S]   (ENDPOINT_PERF=DIR: perf profiles)
set -u
rounds=5 secs=5
while [ $# -gt 0 ]; do
	case $1 in
	--rounds) rounds=$2; shift ;;
	--secs) secs=$2; shift ;;
	*) sed -n '3,12p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
	esac
	shift
done
[ "$(id -u)" = 0 ] || { echo "endpoint bench: needs root; skipped" >&2; exit 77; }
for c in iperf3 osmo-ggsn sgsnemu; do
	command -v $c >/dev/null || { echo "endpoint bench: $c not installed; skipped" >&2; exit 77; }
done
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/system/lib.sh"
trap 'exit 1' INT TERM
[ -x "$GTPUD" ] || { echo "endpoint bench: $GTPUD not built" >&2; exit 1; }
HZ=$(getconf CLK_TCK)
PY=/usr/bin/python3

# four_ns TAG: namespaces TAGue - TAGa - TAGb - TAGdn joined by veths, ue and
# dn routed through their neighbours, a and b forwarding.
four_ns() {
	local t=$1 n
	for n in ue a b dn; do ns_add "$t$n" || return 1; done
	link "${t}ue" 198.51.100.2/24 "${t}a" 198.51.100.1/24 || return 1
	link "${t}a" 192.0.2.1/24 "${t}b" 192.0.2.2/24 || return 1
	link "${t}b" 203.0.113.1/24 "${t}dn" 203.0.113.10/24 || return 1
	nsx "${t}ue" ip route add default via 198.51.100.1
	nsx "${t}dn" ip route add default via 203.0.113.1
	for n in a b; do nsx "$t$n" sysctl -qw net.ipv4.ip_forward=1; done
}

# gtpud_pair TAG OFFLOAD: namespaces TAGue TAGa TAGb TAGdn, two gtpud.
gtpud_pair() {
	local t=$1 off=$2 n
	four_ns "$t" || return 1
	cat >"$T_DIR/$t-a.conf" <<-EOF
	listen = [ "192.0.2.1:2152" ];
	control = { path = "$T_DIR/$t-a.sock"; };
	peers = ( { name = "b"; address = "192.0.2.2"; } );
	tun = { name = "gtpa"; mtu = 1400; addresses = [ "192.0.2.101/32" ]; };
	tunnels = ( { name = "ue1"; from = { peer = "b"; teid = 0x1001; }; to = { peer = "b"; teid = 0x2001; };
	              ue = [ "203.0.113.10" ]; } );
	EOF
	cat >"$T_DIR/$t-b.conf" <<-EOF
	listen = [ "192.0.2.2:2152" ];
	control = { path = "$T_DIR/$t-b.sock"; };
	peers = ( { name = "a"; address = "192.0.2.1"; } );
	tun = { name = "gtpb"; mtu = 1400; addresses = [ "192.0.2.102/32" ]; };
	tunnels = ( { name = "ue1"; from = { peer = "a"; teid = 0x2001; }; to = { peer = "a"; teid = 0x1001; };
	              ue = [ "198.51.100.2" ]; qfi = 9; } );
	EOF
	for n in a b; do
		GTPUD_TUN_OFFLOAD=$off ip netns exec "$NS_PREFIX$t$n" "$GTPUD" -c "$T_DIR/$t-$n.conf" \
			2>"$T_DIR/$t-$n.log" &
		T_PIDS="$T_PIDS $!"
		eval "PIDS_$t=\"\${PIDS_$t:-} $!\""
		wait_for 5 "$GTPUCTL" -s "$T_DIR/$t-$n.sock" status || return 1
	done
	nsx "${t}a" ip route add 203.0.113.0/24 dev gtpa
	nsx "${t}b" ip route add 198.51.100.0/24 dev gtpb
}

# veth_routes TAG: the same namespaces routed without the tunnel.
veth_routes() {
	local t=$1
	four_ns "$t" || return 1
	nsx "${t}a" ip route add 203.0.113.0/24 via 192.0.2.2
	nsx "${t}b" ip route add 198.51.100.0/24 via 192.0.2.1
}

# osmo_pair: sgsnemu (UE side, its tun is the client) and osmo-ggsn in front of dn.
osmo_pair() {
	local t=o
	for n in a b dn; do ns_add "$t$n" || return 1; done
	link "${t}a" 192.0.2.1/24 "${t}b" 192.0.2.2/24 || return 1
	link "${t}b" 203.0.113.1/24 "${t}dn" 203.0.113.10/24 || return 1
	nsx "${t}dn" ip route add default via 203.0.113.1
	nsx "${t}b" sysctl -qw net.ipv4.ip_forward=1
	ggsn_conf "$T_DIR/ggsn.cfg" 192.0.2.2 ogb notice
	ip netns exec "$NS_PREFIX${t}b" osmo-ggsn -c "$T_DIR/ggsn.cfg" >"$T_DIR/ggsn.log" 2>&1 &
	T_PIDS="$T_PIDS $!"
	PIDS_o="$!"
	wait_for 5 grep -q "Successfully started" "$T_DIR/ggsn.log" || return 1
	(cd "$T_DIR" && exec ip netns exec "$NS_PREFIX${t}a" sgsnemu -l 192.0.2.1 -r 192.0.2.2 \
		--createif --tun-device oga --defaultroute --timelimit 0 >"$T_DIR/sgsnemu.log" 2>&1) &
	T_PIDS="$T_PIDS $!"
	PIDS_o="$PIDS_o $!"
	disown $!                 # it dies by SIGKILL at the end: no job notice
	wait_for 10 sh -c "ip -n $NS_PREFIX${t}a -4 addr show dev oga | grep -q 198.51.100" || return 1
	# sgsnemu's default route may be added before the link is up: set it again.
	nsx "${t}a" ip route replace 203.0.113.0/24 dev oga
}

cpu_of() {  # utime + stime ticks of the processes (all threads)
	local s=0 p
	for p in "$@"; do
		s=$((s + $(cpu_ticks "$p" 2>/dev/null || echo 0)))
	done
	echo $s
}
busy_all() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }

# measure NAME CLIENT_NS SERVER_NS PIDS...: one iperf3 run, a line in $T_DIR/results.
measure() {
	local name=$1 cns=$2 sns=$3; shift 3
	local c0 c1 a0 a1 j
	ip netns exec "$NS_PREFIX$sns" iperf3 -s -1 >/dev/null 2>&1 &
	local sp=$!
	T_PIDS="$T_PIDS $sp"
	wait_for 3 sh -c "ip netns exec $NS_PREFIX$sns ss -ltn | grep -q ':5201 '"
	local pf=""
	if [ -n "${ENDPOINT_PERF:-}" ]; then    # profile the machine: ENDPOINT_PERF=DIR
		mkdir -p "$ENDPOINT_PERF"
		perf record -q -a -g -o "$ENDPOINT_PERF/$name.data" 2>/dev/null &
		pf=$!
	fi
	c0=$(cpu_of "$@"); a0=$(busy_all)
	j=$(nsx "$cns" iperf3 -c 203.0.113.10 -t "$secs" -J 2>/dev/null)
	c1=$(cpu_of "$@"); a1=$(busy_all)
	[ -z "$pf" ] || { kill -INT "$pf"; wait "$pf" 2>/dev/null; }
	wait "$sp" 2>/dev/null
	echo "$j" | $PY -c '
import json, sys
name, hz, dc, da = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
try:
    e = json.load(sys.stdin)["end"]["sum_received"]
except Exception:
    print(name, "nan nan nan"); sys.exit()
gb = e["bytes"] / 1e9
print(name, e["bits_per_second"] / 1e9, dc / hz / gb if gb else "nan", da / hz / gb if gb else "nan")
' "$name" "$HZ" $((c1 - c0)) $((a1 - a0)) | tee -a "$T_DIR/results" | sed 's/^/# /' >&2
}

echo "# setting up: two gtpud pairs (offloads on / off), veth routing, osmo-ggsn + sgsnemu" >&2
gtpud_pair g 1 || { cat "$T_DIR"/*.log; echo "gtpud set-up failed" >&2; exit 1; }
gtpud_pair p 0 || { cat "$T_DIR"/*.log; echo "gtpud (plain) set-up failed" >&2; exit 1; }
veth_routes v || { echo "veth set-up failed" >&2; exit 1; }
osmo_pair || { cat "$T_DIR"/*.log; echo "osmo-ggsn/sgsnemu set-up failed" >&2; exit 1; }
check_ping() { nsx "$1" ping -c 1 -W 2 203.0.113.10 >/dev/null || { echo "no path through $2" >&2; exit 1; }; }
check_ping gue gtpud; check_ping pue gtpud-plain; check_ping vue veth; check_ping oa osmo

for r in $(seq "$rounds"); do
	echo "# round $r/$rounds" >&2
	measure gtpud gue gdn $PIDS_g
	measure veth vue vdn
	measure osmo oa odn $PIDS_o
	measure gtpud-plain pue pdn $PIDS_p
done
# Accounting still exact after the runs: rx = forwarded + answered + dropped.
for s in g-a g-b p-a p-b; do
	"$GTPUCTL" -s "$T_DIR/$s.sock" --json stats | $PY -c '
import json, sys
s = json.load(sys.stdin)
d = sum(s["drops"].values())
ok = s["rx_packets"] == s["forwarded"] + s["answered"] + d
why = " ".join("%s=%d" % kv for kv in s["drops"].items() if kv[1])
print("# %s: rx %d = forwarded %d + answered %d + dropped %d (%s): %s" % (sys.argv[1], s["rx_packets"],
      s["forwarded"], s["answered"], d, why, "ok" if ok else "MISMATCH"))
' "$s" >&2 || true
done

$PY - "$T_DIR/results" "$rounds" "$(uname -r)" "$(nproc)" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    n, g, c, a = line.split()
    rows.setdefault(n, []).append((float(g), float(c), float(a)))
def med(n, i):
    v = [r[i] for r in rows.get(n, []) if r[i] == r[i]]
    return statistics.median(v) if v else float("nan")
print("endpoint bench: iperf3 TCP, %s rounds, medians; Linux %s, %s CPUs" % (sys.argv[2], sys.argv[3], sys.argv[4]))
print()
print("| path | Gbit/s | tunnel CPU-s/GB | machine CPU-s/GB |")
print("|---|---:|---:|---:|")
for n in ("gtpud", "gtpud-plain", "veth", "osmo"):
    c = med(n, 1)
    print("| %s | %.2f | %s | %.2f |" % (n, med(n, 0), "-" if n == "veth" else "%.2f" % c, med(n, 2)))
def paired(a, b):
    """The ratios a/b of the rounds (each round measures every path, one
    after the other): their median, lowest and highest."""
    v = sorted(x[0] / y[0] for x, y in zip(rows.get(a, []), rows.get(b, [])) if x[0] == x[0] and y[0] == y[0] and y[0])
    return (statistics.median(v), v[0], v[-1]) if v else (float("nan"),) * 3
print()
print("| figure (median of the rounds' own ratios, range) | value | target | |")
print("|---|---:|---:|---|")
o = paired("gtpud", "osmo")
print("| gtpud / osmo-ggsn tunnel | %.2fx (%.2f-%.2f) | >= 3x | %s |" % (o + ("pass" if o[0] >= 3 else "miss",)))
v = paired("gtpud", "veth")
print("| gtpud / plain veth routing | %.0f%% (%.0f-%.0f%%) | >= 40%% | %s |"
      % (100 * v[0], 100 * v[1], 100 * v[2], "pass" if v[0] >= 0.4 else "miss"))
p = paired("gtpud", "gtpud-plain")
print("| gtpud offloads on / off | %.2fx (%.2f-%.2f) | | |" % p)
PY
