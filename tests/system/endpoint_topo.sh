# SPDX-License-Identifier: GPL-2.0-or-later
# The endpoint topology, shared by the endpoint system test and the README
# demo: two gtpud, each terminating the tunnel on its own TUN device.
#
#   ue ---- siteA [gtpud, TUN gtpa] ==== GTP-U ==== siteB [gtpud, TUN gtpb] ---- dn
#   198.51.100.2      192.0.2.1 / 2001:db8:1::1      192.0.2.2 / 2001:db8:1::2     203.0.113.10
#   2001:db8:100::2                                                              2001:db8:203::10
#
# siteB is the core side (UPF): its tunnel's ue list is the UE's addresses.
# siteA is the RAN side: its tunnel's ue list is what lies behind siteB, so
# the same rules (encapsulate by inner destination, check the inner source)
# hold at both ends. Needs lib.sh sourced first.

# topo_up [EXTRA_B_TUNNEL_KEYS]: namespaces, links, configs in $T_DIR, both
# daemons started (their PIDs in PID_A and PID_B), routes through the TUNs.
topo_up() {
	local extra=${1:-}
	for n in ue siteA siteB dn; do ns_add "$n" || return 1; done
	link ue 198.51.100.2/24 siteA 198.51.100.1/24 2001:db8:100::2/64 2001:db8:100::1/64 || return 1
	link siteA 192.0.2.1/24 siteB 192.0.2.2/24 2001:db8:1::1/64 2001:db8:1::2/64 || return 1
	link siteB 203.0.113.1/24 dn 203.0.113.10/24 2001:db8:203::1/64 2001:db8:203::10/64 || return 1
	nsx ue ip route add default via 198.51.100.1
	nsx ue ip -6 route add default via 2001:db8:100::1
	nsx dn ip route add default via 203.0.113.1
	nsx dn ip -6 route add default via 2001:db8:203::1
	for n in siteA siteB; do
		nsx "$n" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
	done
	cat >"$T_DIR/a.conf" <<-EOF
	listen = [ "192.0.2.1:2152", "[2001:db8:1::1]:2152" ];
	control = { path = "$T_DIR/a.sock"; };
	echo = { interval = 5; t3 = 1; n3 = 3; };
	peers = ( { name = "siteB"; address = "192.0.2.2"; echo = true; } );
	tun = { name = "gtpa"; mtu = 1400; addresses = [ "192.0.2.101/32", "2001:db8:a::1/128" ]; };
	tunnels = ( { name = "ue1"; from = { peer = "siteB"; teid = 0x1001; }; to = { peer = "siteB"; teid = 0x2001; };
	              ue = [ "203.0.113.10", "2001:db8:203::10" ]; } );
	EOF
	cat >"$T_DIR/b.conf" <<-EOF
	listen = [ "192.0.2.2:2152", "[2001:db8:1::2]:2152" ];
	control = { path = "$T_DIR/b.sock"; };
	echo = { interval = 5; t3 = 1; n3 = 3; };
	peers = ( { name = "siteA"; address = "192.0.2.1"; echo = true; } );
	tun = { name = "gtpb"; mtu = 1400; addresses = [ "192.0.2.102/32", "2001:db8:b::1/128" ]; };
	tunnels = ( { name = "ue1"; from = { peer = "siteA"; teid = 0x2001; }; to = { peer = "siteA"; teid = 0x1001; };
	              ue = [ "198.51.100.2", "2001:db8:100::2" ]; qfi = 9; $extra } );
	EOF
	ip netns exec "${NS_PREFIX}siteA" "$GTPUD" -c "$T_DIR/a.conf" 2>"$T_DIR/a.log" &
	PID_A=$!
	ip netns exec "${NS_PREFIX}siteB" "$GTPUD" -c "$T_DIR/b.conf" 2>"$T_DIR/b.log" &
	PID_B=$!
	T_PIDS="$T_PIDS $PID_A $PID_B"
	wait_for 5 "$GTPUCTL" -s "$T_DIR/a.sock" status || return 1
	wait_for 5 "$GTPUCTL" -s "$T_DIR/b.sock" status || return 1
	nsx siteA ip route add 203.0.113.0/24 dev gtpa
	nsx siteA ip -6 route add 2001:db8:203::/64 dev gtpa
	nsx siteB ip route add 198.51.100.0/24 dev gtpb
	nsx siteB ip -6 route add 2001:db8:100::/64 dev gtpb
}

ctl_a() { "$GTPUCTL" -s "$T_DIR/a.sock" "$@"; }
ctl_b() { "$GTPUCTL" -s "$T_DIR/b.sock" "$@"; }
