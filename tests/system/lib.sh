# SPDX-License-Identifier: GPL-2.0-or-later
# Shared helpers for system tests: TAP output, namespaces with a unique
# prefix removed by a trap, and the paths of the built programs.
# Tests source this file; each prints TAP ("ok N - ...") and ends with plan.

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
GTPUD=$top_builddir/src/gtpud
GTPUCTL=$top_builddir/src/gtpuctl
PY=/usr/bin/python3
TESTS_PY=$top_srcdir/tests/system
T_N=0
T_FAIL=0
NS_PREFIX="gt$$-"
T_PIDS=""
T_NS=""
T_DIR=$(mktemp -d /tmp/gtpud-test.XXXXXX)

ok() { T_N=$((T_N + 1)); echo "ok $T_N - $*"; }
not_ok() { T_N=$((T_N + 1)); T_FAIL=$((T_FAIL + 1)); echo "not ok $T_N - $*"; }
# check DESCRIPTION COMMAND...: ok when the command succeeds.
check() { local d=$1; shift; if "$@"; then ok "$d"; else not_ok "$d"; fi; }
skip() { T_N=$((T_N + 1)); echo "ok $T_N - $1 # SKIP $2"; }
# An ASan build: its quarantine holds freed memory, so RSS says nothing of leaks.
sanitized() { ldd "$GTPUD" 2>/dev/null | grep -q libasan; }
# quiet COMMAND...: run it with its output discarded.
quiet() { "$@" >/dev/null 2>&1; }
diag() { printf "%s\n" "$*" | sed "s/^/# /"; }
skip_all() { echo "1..0 # SKIP $*"; exit 0; }
done_testing() { echo "1..$T_N"; exit 0; }

need_root() {
	[ "$(id -u)" = 0 ] || skip_all "needs root"
	ip netns list >/dev/null 2>&1 || skip_all "no network namespaces"
}
need_cmd() { command -v "$1" >/dev/null 2>&1 || skip_all "$1 not installed"; }
need_scapy() { $PY -c 'import scapy.contrib.gtp' 2>/dev/null || skip_all "python3-scapy not installed"; }

cleanup() {
	local p ns
	for p in $T_PIDS; do kill "$p" 2>/dev/null; done
	for p in $T_PIDS; do
		for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$p" 2>/dev/null
	done
	for ns in $T_NS; do ip netns del "$ns" 2>/dev/null; done
	rm -rf "$T_DIR"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# ns_add NAME: create namespace $NS_PREFIX$NAME with loopback up.
ns_add() {
	ip netns add "$NS_PREFIX$1" || return 1
	T_NS="$T_NS $NS_PREFIX$1"
	ip -n "$NS_PREFIX$1" link set lo up
}
# link NS1 ADDR1/PLEN NS2 ADDR2/PLEN [ADDR6_1/PLEN ADDR6_2/PLEN]: veth between two namespaces.
link() {
	local a=$NS_PREFIX$1 b=$NS_PREFIX$3 ia="v${T_N}$RANDOM" ib
	ib="${ia}b"
	ip link add "$ia" netns "$a" type veth peer name "$ib" netns "$b" || return 1
	ip -n "$a" addr add "$2" dev "$ia"
	ip -n "$b" addr add "$4" dev "$ib"
	if [ -n "${5:-}" ]; then
		ip -n "$a" addr add "$5" dev "$ia" nodad
		ip -n "$b" addr add "$6" dev "$ib" nodad
	fi
	ip -n "$a" link set "$ia" up
	ip -n "$b" link set "$ib" up
}
nsx() { local n=$NS_PREFIX$1; shift; ip netns exec "$n" "$@"; }
# ggsn_conf FILE BIND_IP TUN_DEV LEVEL: an osmo-ggsn configuration with one
# APN on a TUN device, handing out 198.51.100.128/25; GTP logging at LEVEL.
ggsn_conf() {
	cat >"$1" <<-CFG
	log stderr
	 logging level lgtp $4
	line vty
	 no login
	ggsn ggsn0
	 gtp state-dir $T_DIR
	 gtp bind-ip $2
	 apn internet
	  gtpu-mode tun
	  tun-device $3
	  type-support v4
	  ip prefix dynamic 198.51.100.128/25
	  ip ifconfig 198.51.100.128/25
	  no shutdown
	 default-apn internet
	 no shutdown ggsn
	CFG
}

# cpu_ticks PID: user + system CPU of PID (all its threads), in clock ticks.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# idle_cpu_ok PID: over one second with nothing to do, PID uses at most 5%
# of a CPU (a datapath that spins instead of sleeping uses all of it).
idle_cpu_ok() {
	local a b hz
	hz=$(getconf CLK_TCK)
	a=$(cpu_ticks "$1") || return 1
	sleep 1
	b=$(cpu_ticks "$1") || return 1
	diag "pid $1: $(( (b - a) * 1000 / hz )) ms of CPU in 1 s idle"
	[ $(( (b - a) * 100 )) -le $((hz * 5)) ]
}

# wait_for SECONDS COMMAND...: poll until the command succeeds.
wait_for() {
	local t=$1 i=0; shift
	while [ "$i" -lt $((t * 10)) ]; do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; i=$((i + 1)); done
	return 1
}
