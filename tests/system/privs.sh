#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Privileges given up after start-up: started as root with a TUN device and
# user/group in the config, the running gtpud is that user and holds no
# capability (CAP_NET_ADMIN was for the TUN device only), and still
# decapsulates onto the device; without user, as root, it keeps uid 0 but
# no capability either. A user that does not exist is a start-up failure.
. "$(dirname "$0")/lib.sh"
need_root
need_scapy
[ -x "$GTPUD" ] && [ -x "$GTPUCTL" ] || skip_all "gtpud/gtpuctl not built"
getent passwd nobody >/dev/null && getent group nogroup >/dev/null || skip_all "no user nobody / group nogroup"

ns_add enb && ns_add dut || skip_all "cannot create namespaces"
link enb 192.0.2.10/24 dut 192.0.2.1/24 || skip_all "cannot link namespaces"
chmod 0755 "$T_DIR"
conf() {
	cat >"$T_DIR/gtpud.conf" <<EOF
listen = [ "192.0.2.1:2152" ];
control = { path = "$T_DIR/ctl.sock"; group = ""; mode = "0666"; };
$1
peers = ( { name = "enb"; address = "192.0.2.10"; } );
tun = { name = "gtpp0"; mtu = 1400; addresses = [ "203.0.113.1/24" ]; };
tunnels = ( { name = "ue"; from = { peer = "enb"; teid = 0x100; }; to = { peer = "enb"; teid = 0x101; };
              ue = [ "203.0.113.2" ]; } );
EOF
}
start() {
	: >"$T_DIR/gtpud.log"
	ip netns exec "${NS_PREFIX}dut" "$GTPUD" -c "$T_DIR/gtpud.conf" >>"$T_DIR/gtpud.log" 2>&1 &
	GT=$!
	T_PIDS="$T_PIDS $GT"
	wait_for 5 "$GTPUCTL" -s "$T_DIR/ctl.sock" status >/dev/null
}
field() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$GT/status"; }
caps_none() {
	local t
	for t in /proc/$GT/task/*; do
		for k in CapEff CapPrm CapInh CapAmb; do
			[ "$(awk -v k="$k:" '$1 == k { print $2 }' "$t/status")" = 0000000000000000 ] || return 1
		done
	done
}

conf 'user = "nobody"; group = "nogroup";'
start || { diag "$(cat "$T_DIR/gtpud.log")"; skip_all "gtpud did not start"; }
check "started as root with user = nobody: it runs as nobody" test "$(field Uid)" = "$(id -u nobody)"
check "... in group nogroup" test "$(field Gid)" = "$(getent group nogroup | cut -d: -f3)"
check "... every thread holds no capability (effective, permitted, inheritable, ambient)" caps_none
check "... no new privileges" test "$(field NoNewPrivs)" = 1
check "the TUN device was set up before" quiet ip -n "${NS_PREFIX}dut" link show gtpp0
ip -n "${NS_PREFIX}dut" link set gtpp0 up
nsx enb "$PY" "$TESTS_PY/peer.py" send --bind 192.0.2.10 --dst 192.0.2.1 \
	--pkt "GTP_U_Header(teid=0x100, gtp_type=255)/IP(src='203.0.113.2', dst='203.0.113.1')/ICMP()" >/dev/null 2>&1
check "it still decapsulates onto the device" wait_for 3 sh -c \
	"'$GTPUCTL' -s '$T_DIR/ctl.sock' --json stats | grep -q '\"tun_tx_packets\":1'"
check "a reload works without privilege" "$GTPUCTL" -s "$T_DIR/ctl.sock" reload
kill "$GT"; wait "$GT" 2>/dev/null
check "the device is gone after it stopped" sh -c "! ip -n ${NS_PREFIX}dut link show gtpp0 2>/dev/null"

conf ''
start || skip_all "gtpud did not start"
check "as root without user: uid 0" test "$(field Uid)" = 0
check "... but no capability" caps_none
kill "$GT"; wait "$GT" 2>/dev/null

conf 'user = "no-such-user-here";'
ip netns exec "${NS_PREFIX}dut" "$GTPUD" -c "$T_DIR/gtpud.conf" >"$T_DIR/bad.log" 2>&1
rc=$?
check "a user that does not exist: exit 3, saying so" \
	sh -c "test $rc = 3 && grep -q 'user \"no-such-user-here\" does not exist' $T_DIR/bad.log"
done_testing
