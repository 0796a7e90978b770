# SPDX-License-Identifier: GPL-2.0-or-later
# The relay test topology, sourced after lib.sh: namespaces enb — dut — upf
# over IPv4 and IPv6, gtpud in dut, scapy peers (peer.py) in enb and upf,
# and the daemon's counters read through gtpuctl --json.

ENB4=192.0.2.10        # peer "enb"
ENB2_4=192.0.2.12      # peer "enb2", on the enb side too
NOPEER4=192.0.2.66     # configured nowhere
DUT4E=192.0.2.1        # gtpud, enb side
UPF4=198.51.100.20     # peer "upf"
DUT4U=198.51.100.1     # gtpud, upf side
ENB6=2001:db8:1::10    # peer "enb6"
NOPEER6=2001:db8:1::66
DUT6E=2001:db8:1::1
UPF6=2001:db8:2::20    # peer "upf6"
DUT6U=2001:db8:2::1
PEER_PY=$TESTS_PY/peer.py
GT_SOCK=$T_DIR/control.sock
GT_CONF=$T_DIR/gtpud.conf
GT_LOG=$T_DIR/gtpud.log
GT_PID=
GT_EI_RATE=${GT_EI_RATE:-100}
GT_EXTRA_TUNNELS=${GT_EXTRA_TUNNELS:-}
# native or generic: gtpud relays through its XDP fast path on both of dut's
# interfaces (gt_xdp_prep); empty: on its sockets only.
GT_XDP=${GT_XDP:-}
GT_XDP_GROUP=

# Skip the whole test unless it can run.
gt_need() {
	need_root
	need_scapy
	[ -x "$GTPUD" ] || skip_all "$GTPUD is not built"
	[ -x "$GTPUCTL" ] || skip_all "$GTPUCTL is not built"
	if [ -n "$GT_XDP" ]; then
		grep -q '^#define HAVE_XDP 1' "$top_builddir/config.h" 2>/dev/null ||
			skip_all "gtpud is built without XDP (configure found no clang, bpftool or libbpf)"
		need_cmd clang
		need_cmd ethtool
	fi
}

# The XDP variant: peers' veth ends get an XDP_PASS program (a veth only
# takes frames redirected to it when its peer runs XDP), and the xdp group
# names dut's two interfaces.
gt_xdp_prep() {
	local ns d ifs=""
	[ -n "$GT_XDP" ] || return 0
	printf '%s\n' '#include <linux/bpf.h>' '__attribute__((section("xdp"), used)) int pass(struct xdp_md *c) { return XDP_PASS; }' \
		'char _license[] __attribute__((section("license"), used)) = "GPL";' >"$T_DIR/pass.c"
	clang -O2 -target bpf -I"/usr/include/$(gcc -print-multiarch)" -c "$T_DIR/pass.c" -o "$T_DIR/pass.o" || return 1
	# A veth hands on a locally sent UDP checksum half done (offloaded):
	# the peers compute theirs whole, as a NIC's wire delivers them.
	for ns in enb upf; do
		ip -n "$NS_PREFIX$ns" link set dev "$(gt_dev "$ns")" xdp obj "$T_DIR/pass.o" sec xdp || return 1
		nsx "$ns" ethtool -K "$(gt_dev "$ns")" tx off >/dev/null || return 1
	done
	# The fast path looks routes up as the kernel forwards (gtpud(8)).
	for d in $(ip -n "${NS_PREFIX}dut" -o link show type veth | awk -F'[:@ ]+' '{ print $2 }'); do
		ifs="$ifs${ifs:+, }\"$d\""
		nsx dut sysctl -qw "net.ipv4.conf.$d.forwarding=1" "net.ipv6.conf.$d.forwarding=1" || return 1
	done
	GT_XDP_GROUP="xdp = { interfaces = [ $ifs ]; mode = \"$GT_XDP\"; };"
}

# The veth device of namespace $1.
gt_dev() { ip -n "$NS_PREFIX$1" -o link show type veth | awk -F'[:@ ]+' 'NR == 1 { print $2 }'; }

# enb — dut — upf. The enb side also holds enb2's address and two that no
# peer has, so a single namespace plays a peer, another peer and a stranger.
gt_topo() {
	ns_add enb && ns_add dut && ns_add upf || return 1
	link enb "$ENB4/24" dut "$DUT4E/24" "$ENB6/64" "$DUT6E/64" || return 1
	link dut "$DUT4U/24" upf "$UPF4/24" "$DUT6U/64" "$UPF6/64" || return 1
	local d
	d=$(gt_dev enb)
	ip -n "${NS_PREFIX}enb" addr add "$ENB2_4/24" dev "$d"
	ip -n "${NS_PREFIX}enb" addr add "$NOPEER4/24" dev "$d"
	ip -n "${NS_PREFIX}enb" addr add "$NOPEER6/64" dev "$d" nodad
}

# gt_conf [FILE]: the standard config. Tunnels (from -> to):
#   up    enb  0x100 -> upf  0x200     down  upf  0x201 -> enb  0x101
#   up6   enb6 0x600 -> upf6 0x700     down6 upf6 0x701 -> enb6 0x601
#   x46   enb  0x400 -> upf6 0x500     x64   upf6 0x501 -> enb  0x401
#   up2   enb2 0x110 -> upf  0x210
gt_conf() {
	cat >"${1:-$GT_CONF}" <<EOF
listen = [ "0.0.0.0:2152", "[::]:2152" ];
control = { path = "$GT_SOCK"; mode = "0600"; };
log_level = "debug";
echo = { interval = 0; };
error_indication = { enabled = true; rate = $GT_EI_RATE; quiet = 0; };
$GT_XDP_GROUP
peers = (
  { name = "enb"; address = "$ENB4"; },
  { name = "enb2"; address = "$ENB2_4"; },
  { name = "upf"; address = "$UPF4"; },
  { name = "enb6"; address = "$ENB6"; },
  { name = "upf6"; address = "$UPF6"; }
);
tunnels = (
  { name = "up"; from = { peer = "enb"; teid = 0x100; }; to = { peer = "upf"; teid = 0x200; }; },
  { name = "down"; from = { peer = "upf"; teid = 0x201; }; to = { peer = "enb"; teid = 0x101; }; },
  { name = "up6"; from = { peer = "enb6"; teid = 0x600; }; to = { peer = "upf6"; teid = 0x700; }; },
  { name = "down6"; from = { peer = "upf6"; teid = 0x701; }; to = { peer = "enb6"; teid = 0x601; }; },
  { name = "x46"; from = { peer = "enb"; teid = 0x400; }; to = { peer = "upf6"; teid = 0x500; }; },
  { name = "x64"; from = { peer = "upf6"; teid = 0x501; }; to = { peer = "enb"; teid = 0x401; }; },
  { name = "up2"; from = { peer = "enb2"; teid = 0x110; }; to = { peer = "upf"; teid = 0x210; }; }$GT_EXTRA_TUNNELS
);
EOF
}

# gtpuctl on the test's socket; never waits forever.
gt_ctl() { timeout 10 "$GTPUCTL" -s "$GT_SOCK" "$@"; }

# gt_until SECONDS 'SHELL CONDITION': poll until the condition (evaluated
# anew each time, unlike wait_for's arguments) holds.
gt_until() {
	local t=$1 i=0
	while [ "$i" -lt $(($1 * 10)) ]; do eval "$2" >/dev/null 2>&1 && return 0; sleep 0.1; i=$((i + 1)); done
	return 1
}

# Start gtpud in dut with $GT_CONF; wait until it answers on its socket.
gt_start() {
	# Not through nsx: a function runs in a subshell and $! would be that
	# shell, not gtpud (signals and the cleanup must reach the daemon).
	ip netns exec "${NS_PREFIX}dut" "$GTPUD" -c "$GT_CONF" >>"$GT_LOG" 2>&1 &
	GT_PID=$!
	T_PIDS="$T_PIDS $GT_PID"
	wait_for 5 gt_ctl status || { diag "gtpud did not start:"; sed 's/^/# /' "$GT_LOG"; return 1; }
}

# gt_listen NS OUT ADDR... [-- OPTIONS]: record what reaches port 2152 of
# ADDR... into OUT until stopped; sets GT_LPID.
gt_listen() {
	local ns=$1 out=$2 args=() ready
	shift 2
	while [ $# -gt 0 ] && [ "$1" != -- ]; do args+=(--addr "$1"); shift; done
	[ "${1:-}" = -- ] && shift
	ready=$T_DIR/ready.$RANDOM
	: >"$out"
	ip netns exec "$NS_PREFIX$ns" "$PY" "$PEER_PY" listen "${args[@]}" --duration 300 --out "$out" --ready "$ready" "$@" &
	GT_LPID=$!
	T_PIDS="$T_PIDS $GT_LPID"
	wait_for 10 test -e "$ready"
}
gt_stop() { kill "$1" 2>/dev/null; wait "$1" 2>/dev/null; return 0; }

# gt_send NS ARGS...: peer.py send in namespace NS.
gt_send() { local ns=$1; shift; nsx "$ns" "$PY" "$PEER_PY" send "$@"; }

# gt_lines FILE: number of datagrams recorded.
gt_lines() { wc -l <"$1" | tr -d ' '; }
# gt_rs FILE EXPR: EXPR over rs, the records of FILE.
gt_rs() { "$PY" "$PEER_PY" eval --in "$1" "$2"; }

# gt_snap FILE: the live counters (stats, peers, tunnels) in one JSON file.
gt_snap() {
	{
		echo '{"stats":'; gt_ctl --json stats || return 1
		echo ',"peers":'; gt_ctl --json peers || return 1
		echo ',"tunnels":'; gt_ctl --json tunnels || return 1
		echo '}'
	} >"$1"
}

# gt_eval EXPR [SNAP]: print EXPR over the live counters. S, P[name], T[name]
# are stats, peers and tunnels; with SNAP, drop(r), st(k), pe(n, k) and
# tu(n, k) are the increases since SNAP (without, the totals). ident() is
# the accounting identity: rx = forwarded + answered + dropped = + drops.
gt_eval() {
	local now=$T_DIR/now.json
	gt_snap "$now" || { echo "no-counters"; return 1; }
	"$PY" - "$1" "$now" "${2:-}" <<'EOF'
import json, sys
def load(f):
    d = json.load(open(f))
    return d['stats'], {p['name']: p for p in d['peers']}, {t['name']: t for t in d['tunnels']}
S, P, T = load(sys.argv[2])
S0, P0, T0 = load(sys.argv[3]) if sys.argv[3] else ({'drops': {}}, {}, {})
def drop(r): return S['drops'][r] - S0['drops'].get(r, 0)
def st(k): return S[k] - S0.get(k, 0)
def pe(n, k): return P[n][k] - (P0[n][k] if n in P0 else 0)
def tu(n, k): return T[n][k] - (T0[n][k] if n in T0 else 0)
def drops(): return {r: v - S0['drops'].get(r, 0) for r, v in S['drops'].items() if v != S0['drops'].get(r, 0)}
def ident(): return (S['rx_packets'] == S['forwarded'] + S['answered'] + S['dropped']
                     and S['dropped'] == sum(S['drops'].values()))
print(eval(sys.argv[1]))
EOF
}

# is DESCRIPTION GOT WANT: ok when equal; otherwise say both.
is() {
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1"; diag "got: $2"; diag "want: $3"; fi
}

# gt_setup: what every test on this topology starts with: tools checked,
# namespaces made, the standard config written, gtpud started in dut.
gt_setup() {
	gt_need
	gt_topo || { not_ok "topology"; done_testing; }
	gt_xdp_prep || { not_ok "XDP_PASS programs on the peers' interfaces"; done_testing; }
	gt_conf
	gt_start || { not_ok "gtpud starts"; done_testing; }
	ok "gtpud starts in dut"
}
