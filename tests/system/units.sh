#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The installed unit files: `systemd-analyze verify` prints nothing at all,
# with and without the TUN drop-in, and the offline security exposure of
# gtpud.service stays at 2.5 or less.
. "$(dirname "$0")/lib.sh"
need_cmd systemd-analyze
need_cmd make
[ -f "$top_builddir/Makefile" ] || skip_all "no configured build tree"
D=$T_DIR/root
check "make install DESTDIR=..." sh -c "make -s -C '$top_builddir' install DESTDIR='$D' >'$T_DIR/install.log' 2>&1"
SVC=$(find "$D" -name gtpud.service -path '*/system/*' | head -1)
UDIR=$(dirname "$SVC")
MAN=$(dirname "$(dirname "$(find "$D" -name gtpud.8 | head -1)")")
TUN=$(find "$D" -name gtpud-tun.conf | head -1)
check "gtpud.service, gtpud.socket, gtpud-control.socket are installed" \
	test -f "$SVC" -a -f "$UDIR/gtpud.socket" -a -f "$UDIR/gtpud-control.socket"
check "the sysusers.d file is installed" sh -c "find '$D' -path '*/sysusers.d/gtpud.conf' | grep -q ."
check "gtpud-tun.conf is installed" test -f "$TUN"
check "ExecStart= names the installed gtpud" sh -c "grep '^ExecStart=' '$SVC' | cut -d= -f2 | cut -d' ' -f1 | sed 's|^|$D|' | xargs test -x"
check "no @...@ left in gtpud.service" sh -c "! grep -q '@[a-z]*@' '$SVC'"
# The configuration the unit reads: installed 0640, given to group gtpud by
# tmpfiles.d (the staged install cannot: the group is the target's).
CONF=$(grep '^ExecStart=' "$SVC" | sed 's/.* -c //')
check "the configuration ExecStart= names is installed, mode 0640" \
	sh -c "test \"\$(stat -c %a '$D$CONF')\" = 640"
check "tmpfiles.d/gtpud.conf makes it root:gtpud 0640" \
	sh -c "find '$D' -path '*/tmpfiles.d/gtpud.conf' | xargs grep -qx 'z $CONF 0640 root gtpud -'"
check "both examples are installed" sh -c "find '$D' -path '*/examples/gtpud-endpoint.conf' | grep -q . &&
	find '$D' -path '*/examples/gtpud.conf' | grep -q ."
# A check in ExecStartPre= would be restarted whatever its exit status
# (RestartPreventExitStatus= covers the main process only).
check "no ExecStartPre= (an invalid file would loop restarts)" sh -c "! grep -q '^ExecStartPre=' '$SVC'"
check "exit status 1 and 2 are not restarted" grep -qx 'RestartPreventExitStatus=1 2' "$SVC"

# verify --root resolves ExecStart= and the man pages (MANPATH) inside the
# installed tree; the units our units depend on (sysinit.target...) come
# from the host, as on a real system.
# Units outside the unit search path (make distcheck's prefix) are placed
# where systemd would look, as a package would install them.
mkdir -p "$D/etc/systemd/system"
cp /lib/systemd/system/*.target "$D/etc/systemd/system/"
case ${UDIR#"$D"} in
/etc/systemd/system|/usr/lib/systemd/system|/lib/systemd/system|/usr/local/lib/systemd/system) ;;
*) cp "$UDIR/gtpud.service" "$UDIR/gtpud.socket" "$UDIR/gtpud-control.socket" "$D/etc/systemd/system/" ;;
esac
verify() { MANPATH=$MAN systemd-analyze verify --root="$D" gtpud.service gtpud.socket \
	gtpud-control.socket >"$T_DIR/verify.out" 2>&1; }
verify
rc=$?
check "systemd-analyze verify prints nothing (exit $rc)" test $rc = 0 -a ! -s "$T_DIR/verify.out"
sed 's/^/# /' "$T_DIR/verify.out"

exposure() { systemd-analyze security --offline=yes --root="$D" gtpud.service 2>&1 |
	sed -n 's/.*Overall exposure level for gtpud.service: \([0-9.]*\).*/\1/p'; }
E=$(exposure)
diag "exposure: $E"
check "without the drop-in: no CAP_NET_ADMIN" sh -c \
	"systemd-analyze security --offline=yes --root='$D' gtpud.service | grep -q 'has no network configuration privileges'"
check "security exposure $E <= 2.5" awk -v e="$E" 'BEGIN { exit !(e != "" && e <= 2.5) }'

mkdir -p "$D/etc/systemd/system/gtpud.service.d"
cp "$TUN" "$D/etc/systemd/system/gtpud.service.d/tun.conf"
verify
rc=$?
check "with the TUN drop-in: systemd-analyze verify prints nothing (exit $rc)" test $rc = 0 -a ! -s "$T_DIR/verify.out"
sed 's/^/# /' "$T_DIR/verify.out"
E=$(exposure)
diag "exposure with TUN: $E"
check "with the TUN drop-in: CAP_NET_ADMIN" sh -c \
	"systemd-analyze security --offline=yes --root='$D' gtpud.service | grep -q 'has network configuration privileges'"
check "with the TUN drop-in: security exposure $E <= 2.5" awk -v e="$E" 'BEGIN { exit !(e != "" && e <= 2.5) }'
done_testing
