#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# gtpud -t: exit 0 for a valid file, 1 with every error as FILE:LINE: message
# on stderr for an invalid one, 3 when the file cannot be read.
. "$(dirname "$0")/lib.sh"

[ -x "$GTPUD" ] || skip_all "$GTPUD not built"

# run_t FILE: runs gtpud -t -c FILE; sets RC, OUT (stdout) and ERR (stderr).
run_t() {
	"$GTPUD" -t -c "$1" >"$T_DIR/out" 2>"$T_DIR/err"
	RC=$?
	OUT=$(cat "$T_DIR/out")
	ERR=$(cat "$T_DIR/err")
}

# bad NAME EXPECTED-STDERR: the config on stdin must fail with exactly these lines.
bad() {
	local name=$1 want=$2 f="$T_DIR/$1.conf"
	cat >"$f"
	run_t "$f"
	want=${want//@F@/$f}
	if [ "$RC" = 1 ] && [ "$ERR" = "$want" ]; then
		ok "$name: exit 1 and the expected errors"
	else
		not_ok "$name: exit 1 and the expected errors"
		diag "exit $RC"
		diag "got:  $ERR"
		diag "want: $want"
	fi
}

run_t "$top_srcdir/etc/gtpud.conf"
check "etc/gtpud.conf is valid (exit 0)" test "$RC" = 0
check "etc/gtpud.conf: nothing on stderr" test -z "$ERR"
check "etc/gtpud.conf: says it is valid" test "$OUT" = "$top_srcdir/etc/gtpud.conf: configuration valid"
run_t "$top_srcdir/etc/gtpud-endpoint.conf"
check "etc/gtpud-endpoint.conf is valid (exit 0, nothing on stderr)" test "$RC" = 0 -a -z "$ERR"
# The installed configuration runs under the unit as it is: no tun section.
check "etc/gtpud.conf has no tun section (the default unit has no CAP_NET_ADMIN)" \
	sh -c "! grep -q '^[[:space:]]*tun[[:space:]]*=' '$top_srcdir/etc/gtpud.conf'"

: >"$T_DIR/empty.conf"
run_t "$T_DIR/empty.conf"
check "an empty file is valid (all defaults)" test "$RC" = 0

run_t "$T_DIR/missing.conf"
check "a missing file: exit 3" test "$RC" = 3
check "a missing file: one message" \
	test "$ERR" = "$T_DIR/missing.conf: cannot read: No such file or directory"

run_t "$T_DIR"
check "a directory: exit 3" test "$RC" = 3

bad syntax "@F@:3: syntax error: ';' inside the list opened at line 2: elements are separated by ',' (or a ')' is missing); the line reads: ;" <<'EOF'
workers = 1;
peers = ( { name = "a"; address = "192.0.2.1"; }
;
EOF

bad unknown-key "@F@:2: unknown key \"adress\" in peers[0] (allowed: name, address, port, echo)" <<'EOF'
peers = (
  { name = "enb"; adress = "192.0.2.10"; address = "192.0.2.10"; }
);
EOF

bad teid "@F@:6: tunnels[0].from.teid: 0 is out of range (1..4294967295)
@F@:7: tunnels[1].from.teid: 4294967296 is out of range (1..4294967295)" <<'EOF'
peers = (
  { name = "enb"; address = "192.0.2.10"; },
  { name = "upf"; address = "198.51.100.20"; }
);
tunnels = (
  { name = "a"; from = { peer = "enb"; teid = 0; }; to = { peer = "upf"; teid = 1; }; },
  { name = "b"; from = { peer = "enb"; teid = 0x100000000; }; to = { peer = "upf"; teid = 1; }; }
);
EOF

bad duplicates "@F@:3: peers[1].name: duplicate peer name \"enb\" (first at line 2)
@F@:7: tunnels[1].name: duplicate tunnel name \"a\" (first at line 6)
@F@:7: tunnels[1].from.teid: duplicate from.teid 256 (0x100), first in tunnels[0] at line 6" <<'EOF'
peers = (
  { name = "enb"; address = "192.0.2.10"; },
  { name = "enb"; address = "198.51.100.20"; }
);
tunnels = (
  { name = "a"; from = { peer = "enb"; teid = 0x100; }; to = { peer = "enb"; teid = 1; }; },
  { name = "a"; from = { peer = "enb"; teid = 256; }; to = { peer = "enb"; teid = 2; }; }
);
EOF

bad addresses-ports "@F@:1: listen[1]: \"[::]:0\": port is out of range (1..65535)
@F@:2: peers[0].address: \"192.0.2.256\" is not an IPv4 or IPv6 address
@F@:2: peers[0].port: 65536 is out of range (1..65535)" <<'EOF'
listen = [ "0.0.0.0:2152", "[::]:0" ];
peers = ( { name = "enb"; address = "192.0.2.256"; port = 65536; } );
EOF

bad references "@F@:4: tunnels[0].to.peer: unknown peer \"core\"
@F@:5: tunnels[0].ue: needs a TUN device, but there is no tun group" <<'EOF'
peers = ( { name = "enb"; address = "192.0.2.10"; } );
tunnels = (
  { name = "ue1"; from = { peer = "enb"; teid = 1; };
    to = { peer = "core"; teid = 1; };
    ue = [ "10.45.0.2" ]; }
);
EOF

bad types "@F@:1: workers: must be an integer (1..64), not a string
@F@:2: control.mode: must be a string (octal text such as \"0660\"), not an integer
@F@:3: echo.interval: -1 is out of range (0..86400)" <<'EOF'
workers = "2";
control = { mode = 0660; };
echo = { interval = -1; };
EOF

# More errors than are kept: the rest are counted.
{
	echo 'peers = ( { name = "enb"; address = "192.0.2.10"; } );'
	echo 'tunnels = ('
	for i in $(seq 0 119); do
		[ "$i" = 0 ] || echo ','
		echo "{ name = \"t$i\"; from = { peer = \"enb\"; teid = 0; }; to = { peer = \"enb\"; teid = 1; }; }"
	done
	echo ');'
} >"$T_DIR/many.conf"
run_t "$T_DIR/many.conf"
check "120 errors: exit 1" test "$RC" = 1
check "120 errors: 100 shown and a count of the others" \
	test "$(echo "$ERR" | wc -l)" = 101 -a "$(echo "$ERR" | tail -n 1)" = "$T_DIR/many.conf: 20 more errors not shown"

# A large generated file loads (the chunked path of the loader).
if $PY "$top_srcdir/tests/gen_conf.py" -n 20000 --ue -o "$T_DIR/big.conf"; then
	run_t "$T_DIR/big.conf"
	check "20000 generated tunnels are valid" test "$RC" = 0
else
	not_ok "gen_conf.py failed"
fi

done_testing
