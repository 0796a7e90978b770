# SPDX-License-Identifier: GPL-2.0-or-later
# Topology and probes for the load and fault tests (flood, faults, soak),
# sourced after lib.sh: namespaces gen — dut — upf; gtpud in dut; the C
# generator tests/flood_gen.c (built into $T_DIR) sends from gen and counts
# in upf. Probes read gtpud's counters, the kernel's UDP counters of dut,
# and gtpud's RSS, open fds and CPU time from /proc.

LT_ENB4=192.0.2.10        # peer "enb"
LT_NP4=192.0.2.66         # no peer
LT_DUT4=192.0.2.1
LT_ENB6=2001:db8:1::10    # peer "enb6"
LT_NP6=2001:db8:1::66
LT_DUT6=2001:db8:1::1
LT_UPF4=198.51.100.20     # peer "upf"
LT_DUT4U=198.51.100.1
LT_UPF6=2001:db8:2::20    # peer "upf6"
LT_DUT6U=2001:db8:2::1
LT_SOCK=$T_DIR/control.sock
LT_CONF=$T_DIR/gtpud.conf
LT_LOG=$T_DIR/gtpud.log
LT_GEN=$T_DIR/flood_gen
LT_PID=
LT_EI_RATE=${LT_EI_RATE:-100}
LT_WORKERS=${LT_WORKERS:-1}
LT_LOG_LEVEL=${LT_LOG_LEVEL:-info}

lt_need() {
	need_root
	need_cmd cc
	[ -x "$GTPUD" ] || skip_all "$GTPUD is not built"
	[ -x "$GTPUCTL" ] || skip_all "$GTPUCTL is not built"
	cc -O2 -std=gnu11 -Wall -Wextra -o "$LT_GEN" "$top_srcdir/tests/flood_gen.c" ||
		skip_all "cannot build tests/flood_gen.c"
}

lt_topo() {
	ns_add gen && ns_add dut && ns_add upf || return 1
	link gen "$LT_ENB4/24" dut "$LT_DUT4/24" "$LT_ENB6/64" "$LT_DUT6/64" || return 1
	link dut "$LT_DUT4U/24" upf "$LT_UPF4/24" "$LT_DUT6U/64" "$LT_UPF6/64" || return 1
	local d
	d=$(ip -n "${NS_PREFIX}gen" -o link show type veth | awk -F'[:@ ]+' 'NR == 1 { print $2 }')
	ip -n "${NS_PREFIX}gen" addr add "$LT_NP4/24" dev "$d" || return 1
	ip -n "${NS_PREFIX}gen" addr add "$LT_NP6/64" dev "$d" nodad || return 1
}

# lt_conf [FILE [EXTRA_TUNNELS]]: enb 0x100 -> upf 0x200, enb6 0x600 -> upf6 0x700.
lt_conf() {
	cat >"${1:-$LT_CONF}" <<EOF
listen = [ "0.0.0.0:2152", "[::]:2152" ];
control = { path = "$LT_SOCK"; mode = "0600"; };
log_level = "$LT_LOG_LEVEL";
workers = $LT_WORKERS;
echo = { interval = 0; };
error_indication = { enabled = true; rate = $LT_EI_RATE; quiet = 0; };
peers = (
  { name = "enb"; address = "$LT_ENB4"; },
  { name = "upf"; address = "$LT_UPF4"; },
  { name = "enb6"; address = "$LT_ENB6"; },
  { name = "upf6"; address = "$LT_UPF6"; }
);
tunnels = (
  { name = "up"; from = { peer = "enb"; teid = 0x100; }; to = { peer = "upf"; teid = 0x200; }; },
  { name = "up6"; from = { peer = "enb6"; teid = 0x600; }; to = { peer = "upf6"; teid = 0x700; }; }${2:-}
);
EOF
}

lt_ctl() { "$GTPUCTL" -s "$LT_SOCK" "$@"; }

lt_start() {
	# ip netns exec execs: $! is gtpud itself (for /proc/PID).
	ip netns exec "${NS_PREFIX}dut" "$GTPUD" -c "$LT_CONF" >>"$LT_LOG" 2>&1 &
	LT_PID=$!
	T_PIDS="$T_PIDS $LT_PID"
	wait_for 5 lt_ctl status || { diag "gtpud did not start:"; sed 's/^/# /' "$LT_LOG"; return 1; }
}

lt_alive() { kill -0 "$LT_PID" 2>/dev/null && lt_ctl status >/dev/null 2>&1; }

# lt_sink SECONDS: count what gtpud relays to upf; output in $T_DIR/sink.out.
lt_sink() {
	ip netns exec "${NS_PREFIX}upf" "$LT_GEN" sink --bind "$LT_UPF4" --bind6 "$LT_UPF6" --seconds "$1" >"$T_DIR/sink.out" &
	LT_SINK=$!
	T_PIDS="$T_PIDS $LT_SINK"
	wait_for 5 grep -q ready "$T_DIR/sink.out"
}

# lt_flood_start OUT ARGS...: the generator in gen, in the background;
# LT_GEN_PID is the generator itself (not a subshell: call this in the
# foreground), registered for cleanup.
lt_flood_start() {
	local out=$1
	shift
	ip netns exec "${NS_PREFIX}gen" "$LT_GEN" send --dst "$LT_DUT4" --dst6 "$LT_DUT6" --peer "$LT_ENB4" \
		--peer6 "$LT_ENB6" --nonpeer "$LT_NP4" --nonpeer6 "$LT_NP6" --teid 0x100 --teid6 0x600 "$@" >"$out" &
	LT_GEN_PID=$!
	T_PIDS="$T_PIDS $LT_GEN_PID"
}

# kv FILE KEY: the value of "KEY value" in FILE (0 when absent).
kv() { awk -v k="$2" '$1 == k { print $2; f = 1 } END { if (!f) print 0 }' "$1"; }

# lt_stats FILE: gtpuctl --json stats into FILE.
lt_stats() { lt_ctl --json stats >"$1"; }
# js FILE EXPR: EXPR over the JSON object S of FILE (python).
js() { "$PY" -c "import json,sys; S=json.load(open(sys.argv[1])); print($2)" "$1"; }

# The kernel's UDP counters in dut: "InDatagrams RcvbufErrors" summed over v4 and v6.
lt_kudp() {
	nsx dut cat /proc/net/snmp /proc/net/snmp6 | awk '
		/^Udp: InDatagrams/ { split($0, h); getline; for (i = 2; i <= NF; i++) u[h[i]] = $i }
		$1 == "Udp6InDatagrams" { in6 = $2 } $1 == "Udp6RcvbufErrors" { rb6 = $2 }
		END { print u["InDatagrams"] + in6, u["RcvbufErrors"] + rb6 }'
}

lt_rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$LT_PID/status"; }     # kB
lt_fds() { ls "/proc/$LT_PID/fd" | wc -l; }
# CPU time of gtpud (all threads) in clock ticks.
lt_cpu() { cpu_ticks "$LT_PID"; }
LT_HZ=$(getconf CLK_TCK)

# is DESCRIPTION GOT WANT: ok when equal; otherwise say both.
if ! declare -F is >/dev/null; then
	is() {
		if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1"; diag "got: $2"; diag "want: $3"; fi
	}
fi
