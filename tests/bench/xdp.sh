#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The XDP fast path against the socket floor: namespaces gen - dut - sink
# joined by veth; in dut, the bare recvmmsg/sendmmsg forwarder (fwd.c) and
# gtpud with its XDP program in native mode on both interfaces, side by side
# (one run, rounds alternating). CPU is the whole machine's (/proc/stat):
# XDP runs in softirq, on whichever CPU polls the veth, not in gtpud.
# Generator and sink are in both figures alike. Needs root.
# Usage: tests/bench/xdp.sh [--rounds N] [--secs S] [--rate PPS] [--len BYTES] [--tunnels N]
# (--tunnels: gtpud's table holds N, the generator spreads its TEIDs over them)
set -eu

rounds=5 secs=2 rate=100000 len=64 offset=1073741824 tunnels=1
while [ $# -gt 0 ]; do
	case $1 in
	--rounds) rounds=$2; shift ;;
	--secs) secs=$2; shift ;;
	--rate) rate=$2; shift ;;
	--len) len=$2; shift ;;
	--tunnels) tunnels=$2; shift ;;
	*) sed -n '3,10p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
	esac
	shift
done
[ "$(id -u)" = 0 ] || { echo "bench-xdp: needs root; skipped" >&2; exit 77; }
top=$(cd "$(dirname "$0")/../.." && pwd)
bld=${top_builddir:-$top}
gtpud=${GTPUD:-$bld/src/gtpud} gtpuctl=${GTPUCTL:-$bld/src/gtpuctl}
grep -q '^#define HAVE_XDP 1' "$bld/config.h" || { echo "bench-xdp: gtpud built without XDP; skipped" >&2; exit 77; }

work=$(mktemp -d /tmp/gtpud-bxdp.XXXXXX)
pfx=bx$$ pids=""
nsg=${pfx}gen nsd=${pfx}dut nss=${pfx}sink
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	for p in $pids; do wait "$p" 2>/dev/null || true; done
	for n in $nsg $nsd $nss; do ip netns del "$n" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for p in gen sink fwd; do
	${CC:-cc} -std=gnu11 -O2 -Wall -Wextra -o "$work/$p" "$top/tests/bench/$p.c"
done
printf '%s\n' '#include <linux/bpf.h>' '__attribute__((section("xdp"), used)) int pass(struct xdp_md *c) { return XDP_PASS; }' \
	'char _license[] __attribute__((section("license"), used)) = "GPL";' >"$work/pass.c"
clang -O2 -target bpf -I"/usr/include/$(gcc -print-multiarch)" -c "$work/pass.c" -o "$work/pass.o"

for n in $nsg $nsd $nss; do ip netns add "$n"; ip -n "$n" link set lo up; done
ip link add g0 netns $nsg type veth peer name d0 netns $nsd
ip link add d1 netns $nsd type veth peer name s0 netns $nss
ip -n $nsg addr add 192.0.2.1/24 dev g0
ip -n $nsd addr add 192.0.2.2/24 dev d0      # gtpud
ip -n $nsd addr add 192.0.2.4/24 dev d0      # the forwarder
ip -n $nsd addr add 198.51.100.2/24 dev d1
ip -n $nss addr add 198.51.100.1/24 dev s0
for l in "$nsg g0" "$nsd d0" "$nsd d1" "$nss s0"; do set -- $l; ip -n "$1" link set "$2" up; done
mac() { ip netns exec "$1" cat "/sys/class/net/$2/address"; }
for a in 192.0.2.2 192.0.2.4; do ip -n $nsg neigh replace $a lladdr "$(mac $nsd d0)" dev g0 nud permanent; done
ip -n $nsd neigh replace 192.0.2.1 lladdr "$(mac $nsg g0)" dev d0 nud permanent
ip -n $nsd neigh replace 198.51.100.1 lladdr "$(mac $nss s0)" dev d1 nud permanent
ip -n $nss neigh replace 198.51.100.2 lladdr "$(mac $nsd d1)" dev s0 nud permanent
# Redirected frames reach a veth only when its peer runs XDP; the
# generator's UDP checksums whole (a veth passes an offloaded one half done);
# forwarding on dut's interfaces for bpf_fib_lookup (gtpud(8)).
ip -n $nss link set dev s0 xdp obj "$work/pass.o" sec xdp
ip netns exec $nsg ethtool -K g0 tx off >/dev/null
ip netns exec $nsd sysctl -qw net.ipv4.conf.d0.forwarding=1 net.ipv4.conf.d1.forwarding=1

cat >"$work/x.conf" <<CONF
listen = [ "192.0.2.2:2152" ];
control = { path = "$work/x.sock"; };
log_level = "warning";
echo = { interval = 0; };
xdp = { interfaces = [ "d0", "d1" ]; mode = "native"; };
peers = ( { name = "gen"; address = "192.0.2.1"; }, { name = "sink"; address = "198.51.100.1"; } );
CONF
awk -v n="$tunnels" -v off=$offset 'BEGIN { print "tunnels = ("
	for (i = 0; i < n; i++)
		printf "  { name = \"t%d\"; from = { peer = \"gen\"; teid = %d; }; to = { peer = \"sink\"; teid = %d; }; }%s\n",
			i, 1 + i, 1 + i + off, i + 1 < n ? "," : ""
	print ");" }' >>"$work/x.conf"
ip netns exec $nsd "$gtpud" -c "$work/x.conf" 2>"$work/gtpud.log" &
pids="$pids $!"
ip netns exec $nsd "$work/fwd" -l 192.0.2.4:2152 -d 198.51.100.1:2152 -o $offset >"$work/fwd.out" &
pids="$pids $!"
for _ in $(seq 600); do "$gtpuctl" -s "$work/x.sock" status >/dev/null 2>&1 && break; sleep 0.1; done
# One datagram brings the peer up (the sockets see it); then XDP relays.
ip netns exec $nsg "$work/gen" -d 192.0.2.2:2152 -s 192.0.2.1:2152 -r 100 -l "$len" -t 0.1 >/dev/null
sleep 0.5

busy() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8}' /proc/stat; }   # user nice system irq softirq, jiffies
hz=$(getconf CLK_TCK)
idle() {    # idle ROUND: the machine's busy time over the same seconds without traffic
	local b0 b1
	b0=$(busy); sleep "$secs"; sleep 0.2; b1=$(busy)
	printf '{"case":"idle","round":%d,"sent":0,"rx":0,"busy_ns":%d}\n' "$1" $(( (b1 - b0) * 1000000000 / hz ))
}
run() {    # run CASE DST ROUND TUNNELS: one measurement, a JSON line
	local b0 b1 sent rx
	ip netns exec $nss "$work/sink" -a 198.51.100.1 -o $offset >"$work/sink.out" &
	local sp=$!
	until grep -q ready "$work/sink.out" 2>/dev/null; do sleep 0.01; done
	b0=$(busy)
	ip netns exec $nsg "$work/gen" -d "$2":2152 -s 192.0.2.1:2152 -r "$rate" -l "$len" -t "$secs" -n "$4" >"$work/gen.out"
	sleep 0.2
	b1=$(busy)
	kill -INT "$sp"; wait "$sp" || true
	sent=$(/usr/bin/python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).read().splitlines()[-1])["sent"])' "$work/gen.out")
	rx=$(grep '^{' "$work/sink.out" | tail -1 | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["rx"])')
	printf '{"case":"%s","round":%d,"sent":%d,"rx":%d,"busy_ns":%d}\n' "$1" "$3" "$sent" "$rx" \
		$(( (b1 - b0) * 1000000000 / hz ))
}
x0=$("$gtpuctl" -s "$work/x.sock" --json stats)
for r in $(seq "$rounds"); do
	if [ $((r % 2)) = 1 ]; then run fwd 192.0.2.4 "$r" 1; idle "$r"; run xdp 192.0.2.2 "$r" "$tunnels"
	else run xdp 192.0.2.2 "$r" "$tunnels"; idle "$r"; run fwd 192.0.2.4 "$r" 1; fi
done >"$work/res.json"
x1=$("$gtpuctl" -s "$work/x.sock" --json stats)
[ -z "${BENCH_DEBUG:-}" ] || { "$gtpuctl" -s "$work/x.sock" peers; echo "$x1" | grep -A8 paths; cat "$work/gtpud.log"; ip netns exec $nsd ethtool -S d0; }
/usr/bin/python3 - "$work/res.json" "$x0" "$x1" "$rate" "$len" "$tunnels" <<'PY'
import json, statistics, sys
rs = [json.loads(l) for l in open(sys.argv[1])]
x0, x1 = json.loads(sys.argv[2]), json.loads(sys.argv[3])
def med(case, f): return statistics.median(f(r) for r in rs if r["case"] == case)
print("bench-xdp: %s pps, %s-byte payloads, %d rounds, %s tunnels; whole-machine CPU (generator and sink included in both)"
      % (sys.argv[4], sys.argv[5], len(rs) // 3, sys.argv[6]))
# What the machine did anyway (other work, the idle gtpud and forwarder),
# measured between the two runs of each round, is taken off both.
idle = {r["round"]: r["busy_ns"] for r in rs if r["case"] == "idle"}
net = lambda r: (r["busy_ns"] - idle.get(r["round"], 0)) / max(r["sent"], 1)
print("%-6s %12s %12s %10s %14s" % ("case", "ns/pkt", "net ns/pkt", "loss", "delivered"))
for c in ("fwd", "xdp"):
    print("%-6s %12.0f %12.0f %9.4f%% %14d" % (c, med(c, lambda r: r["busy_ns"] / max(r["sent"], 1)), med(c, net),
          med(c, lambda r: 100.0 * (r["sent"] - r["rx"]) / max(r["sent"], 1)), med(c, lambda r: r["rx"])))
print("idle machine during a run: %.0f ms of CPU (median)" % (statistics.median(idle.values()) / 1e6))
ratio = med("xdp", lambda r: r["busy_ns"] / max(r["sent"], 1)) / med("fwd", lambda r: r["busy_ns"] / max(r["sent"], 1))
print("xdp / fwd CPU per packet (median): %.2f; net of the idle machine: %.2f" % (ratio, med("xdp", net) / med("fwd", net)))
d = lambda k: x1["paths"]["xdp"][k] - x0["paths"]["xdp"][k]
print("gtpud: %d relayed in XDP, %d by the sockets; received = forwarded + answered + dropped: %s"
      % (d("forwarded"), x1["paths"]["sockets"]["forwarded"] - x0["paths"]["sockets"]["forwarded"],
         x1["rx_packets"] == x1["forwarded"] + x1["answered"] + x1["dropped"]))
PY
