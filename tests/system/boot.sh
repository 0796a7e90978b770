#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Debian 12 booted with systemd as PID 1 (debootstrap --variant=minbase,
# systemd-nspawn -b --private-network) runs the README's "Running as a
# service" as written: its commands, the STATUS= line, gtpuctl for root, a
# member of group gtpud and a non-member, reload with a good and a bad file,
# activation through the sockets after a stop, the watchdog (a stopped gtpud
# is restarted), the TUN drop-in, and an invalid file that is not restarted.
# The root file system is cached in $GTPUD_BOOT_CACHE (/var/cache/gtpud-test),
# one per package list; the mirror is the one apt uses (or $GTPUD_TEST_MIRROR).
# Skips, saying why, only where the container cannot be built or boot.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || skip_all "needs root"
for c in debootstrap systemd-nspawn nsenter flock dpkg-query jq; do need_cmd "$c"; done
[ -f "$top_builddir/Makefile" ] || skip_all "no configured build tree"
T0=$SECONDS
SUITE=bookworm
CACHE=${GTPUD_BOOT_CACHE:-/var/cache/gtpud-test}

# The Debian mirror apt is configured with: a one-line "deb URI bookworm ..."
# or a deb822 stanza whose Suites name bookworm.
mirror() {
	local f
	[ -n "${GTPUD_TEST_MIRROR:-}" ] && { echo "$GTPUD_TEST_MIRROR"; return; }
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] && sed -e 's/\[[^]]*\]//' "$f" |
			awk -v s=$SUITE '$1 == "deb" && $3 == s { print $2; exit }'
	done
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] && awk -v s=$SUITE 'BEGIN { RS = ""; FS = "\n" }
			{ t = u = ok = ""
			  for (i = 1; i <= NF; i++) {
				if ($i ~ /^Types:/ && $i ~ /[ \t]deb([ \t]|$)/) t = 1
				if ($i ~ /^URIs:/) { split($i, a, /[ \t]+/); u = a[2] }
				if ($i ~ /^Suites:/ && $i ~ ("[ \t]" s "([ \t]|$)")) ok = 1
			  }
			  if (t && ok && u != "") { print u; exit } }' "$f"
	done
}
MIRROR=$(mirror | head -1)
[ -n "$MIRROR" ] || skip_all "no Debian $SUITE mirror in /etc/apt/sources.list{,.d} (set GTPUD_TEST_MIRROR)"

# What the container needs: systemd, the tools the README and this test use,
# and the packages of every library gtpud and gtpuctl are linked with. The
# sanitizers' run-time libraries are always in: the suite's two runs (plain,
# then ASan/UBSan) share one root file system.
PKGS="systemd systemd-sysv dbus iproute2 passwd util-linux libasan8 libubsan1 libstdc++6 libgcc-s1"
for l in $(ldd "$GTPUD" "$GTPUCTL" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }' | sort -u); do
	p=$(dpkg -S "$l" 2>/dev/null || dpkg -S "$(readlink -f "$l")" 2>/dev/null) ||
		skip_all "no Debian package has $l, which gtpud is linked with"
	PKGS="$PKGS ${p%%:*}"
done
PKGS=$(echo "$PKGS" | tr ' ' '\n' | sort -u | tr '\n' ' ')
KEY=$(echo "minbase-1 $SUITE $PKGS" | sha256sum | cut -c1-12)
C=$CACHE/$SUITE-$KEY
mkdir -p "$CACHE" || skip_all "cannot create $CACHE"
exec 9>"$CACHE/lock"
flock -w 1200 9 || skip_all "$CACHE/lock held for 20 minutes"
if [ ! -e "$C/done" ]; then
	diag "debootstrap $SUITE from $MIRROR into $C: $PKGS"
	rm -rf "$C" && mkdir -p "$C"
	if ! debootstrap --variant=minbase --include="$(echo $PKGS | tr ' ' ',')" \
		$SUITE "$C/root" "$MIRROR" >"$CACHE/debootstrap-$KEY.log" 2>&1; then
		tail -5 "$CACHE/debootstrap-$KEY.log" | sed 's/^/# /'
		rm -rf "$C"
		skip_all "debootstrap $SUITE from $MIRROR failed (log: $CACHE/debootstrap-$KEY.log)"
	fi
	touch "$C/done"
	diag "debootstrap took $((SECONDS - T0)) s"
fi
touch "$C"
# Root file systems of other package lists unused for a week go.
find "$CACHE" -maxdepth 1 -name "$SUITE-*" ! -name "$SUITE-$KEY" -mtime +7 -exec rm -rf {} +
R=$T_DIR/root
cp -a "$C/root" "$R" || skip_all "cannot copy $C/root to $T_DIR"
exec 9>&-

# gtpud installed as make install does it, staged into the container's root.
make -s -C "$top_builddir" install DESTDIR="$R" >"$T_DIR/install.log" 2>&1 ||
	{ not_ok "make install DESTDIR=..."; sed 's/^/# /' "$T_DIR/install.log"; done_testing; }
SVC=$(find "$R" -name gtpud.service -path '*/system/*' | head -1)
CONF=$(grep '^ExecStart=' "$SVC" | sed 's/.* -c //')
DOC=$(dirname "$(find "$R" -name gtpud-tun.conf | head -1)")
DOC=${DOC#"$R"}
EXAMPLE=$DOC/examples/gtpud-endpoint.conf
diag "configuration $CONF, documentation $DOC"
# An ASan build (the suite's second run): LeakSanitizer stops the world with
# ptrace, which the unit's SystemCallFilter= refuses, so every exit, of gtpud
# and of ExecReload's gtpuctl, would be "LeakSanitizer has encountered a
# fatal error" and status 1. Leaks are checked elsewhere in the suite; here
# a drop-in turns only that check off (ASan and UBSan stay).
if sanitized; then
	mkdir -p "$R/etc/systemd/system/gtpud.service.d"
	printf '[Service]\nEnvironment=ASAN_OPTIONS=detect_leaks=0\n' \
		>"$R/etc/systemd/system/gtpud.service.d/sanitizers.conf"
	diag "an ASan build: gtpud.service.d/sanitizers.conf sets ASAN_OPTIONS=detect_leaks=0"
fi

NSPAWN_OPTS="-q -b -D $R -M gtpud-boot-$$ --private-network --register=no --console=read-only"
# --keep-unit where PID 1 is not systemd: there is no bus to ask for a scope.
[ -d /run/systemd/system ] || NSPAWN_OPTS="$NSPAWN_OPTS --keep-unit"
NSPAWN=""
CT=""
nspawn() {
	# shellcheck disable=SC2086
	systemd-nspawn $NSPAWN_OPTS </dev/null >"$T_DIR/console.log" 2>&1 &
	NSPAWN=$!
}
T1=$SECONDS
nspawn
# alive PID: PID runs (is not gone, nor a zombie not yet reaped).
alive() { local s; s=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) && [ -n "$s" ] && [ "${s%% *}" != Z ]; }
ct() { timeout 120 nsenter -t "$CT" -a env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	HOME=/root LANG=C.UTF-8 SYSTEMD_PAGER= "$@"; }
# Power the container off; where that fails, kill its init (and with it
# every process of the container), then systemd-nspawn.
ct_stop() {
	local _
	[ -n "${NSPAWN:-}" ] && alive "$NSPAWN" || return 0
	[ -n "$CT" ] && quiet ct systemctl poweroff --no-block
	for _ in $(seq 300); do alive "$NSPAWN" || break; sleep 0.1; done
	alive "$NSPAWN" && [ -n "$CT" ] && kill -9 "$CT" 2>/dev/null && sleep 1
	alive "$NSPAWN" && kill -9 "$NSPAWN"
	wait "$NSPAWN" 2>/dev/null
}
trap 'ct_stop; cleanup' EXIT
boot_fail() {
	tail -20 "$T_DIR/console.log" | sed 's/^/# /'
	ct_stop
	skip_all "systemd-nspawn cannot boot Debian $SUITE here: $1"
}
state=""
while [ $((SECONDS - T1)) -lt 90 ]; do
	if ! alive "$NSPAWN"; then
		# systemd as PID 1 but no D-Bus to ask for a scope: run in ours.
		case $NSPAWN_OPTS in *--keep-unit*) boot_fail "systemd-nspawn exited" ;; esac
		grep -q 'system bus\|allocate scope' "$T_DIR/console.log" || boot_fail "systemd-nspawn exited"
		diag "$(head -1 "$T_DIR/console.log"): again with --keep-unit"
		NSPAWN_OPTS="$NSPAWN_OPTS --keep-unit"
		nspawn
	fi
	CT=$(pgrep -P "$NSPAWN" | head -1)
	if [ -n "$CT" ]; then
		state=$(timeout 5 nsenter -t "$CT" -a systemctl is-system-running 2>/dev/null)
		case $state in running|degraded) break ;; esac
	fi
	sleep 0.1
done
case $state in running|degraded) ;; *) boot_fail "not up after 90 s (state \"$state\")" ;; esac
diag "booted in $((SECONDS - T1)) s: $state"
[ "$state" = running ] || ct systemctl --failed --no-legend | sed 's/^/# failed: /'

# readme_block N: the Nth indented block of the README's "Running as a
# service", one command a line (continuations joined, comments dropped),
# with this build's paths for those of --prefix=/usr --sysconfdir=/etc.
readme_block() {
	awk -v n="$1" '
		/^Running as a service$/ { s = 1; getline; next }
		s && /^-+$/ { exit }
		s && /^    / { if (!in_b) b++; in_b = 1; if (b == n) print; next }
		{ in_b = 0 }' "$top_srcdir/README" |
	sed -e 's/^ *//' -e 's/[[:space:]]*#.*//' | sed -e ':a' -e '/\\$/N; s/\\\n *//; ta' |
	sed -e "s|/etc/gtpud/gtpud.conf|$CONF|g" -e "s|/usr/share/doc/gtpud|$DOC|g"
}
# readme_run N: run block N in the container, a check for each command.
readme_run() {
	local cmd out
	readme_block "$1" >"$T_DIR/block$1"
	[ -s "$T_DIR/block$1" ] || { not_ok "README, Running as a service: block $1 found"; return; }
	while IFS= read -r cmd; do
		if out=$(ct sh -c "$cmd" 2>&1 </dev/null); then
			ok "README: $cmd"
		else
			not_ok "README: $cmd"
			printf "%s\n" "$out" | sed 's/^/# /'
		fi
	done <"$T_DIR/block$1"
}
prop() { ct systemctl show -P "$1" "${2:-gtpud}"; }
journal_has() { ct journalctl -u gtpud -o cat --no-pager | grep -qF -- "$1"; }
as() { local u=$1; shift; ct runuser -u "$u" -- "$@"; }
# is CODE: CODE's status, evaluated here (where ct, prop and as are defined).
is() { eval "$1"; }

# 1. The README's commands, as root: sysusers, tmpfiles, gtpud -t,
# daemon-reload, enable --now.
readme_run 1
check "gtpud.service is active" ct systemctl is-active -q gtpud.service
check "gtpud.service and both sockets are enabled" \
	ct systemctl is-enabled -q gtpud.service gtpud.socket gtpud-control.socket
check "gtpud.socket and gtpud-control.socket are active" \
	ct systemctl is-active -q gtpud.socket gtpud-control.socket
check "the configuration is root:gtpud 0640" test "$(ct stat -c '%U:%G %a' "$CONF")" = "root:gtpud 640"
ST=$(prop StatusText)
diag "StatusText=$ST"
check "systemctl show -p StatusText gtpud: the STATUS= line" \
	is 'echo "$ST" | grep -Eqx "[0-9]+/[0-9]+ peers up, [0-9]+ tunnels, [0-9.]+ kpps"'
check "systemctl status gtpud shows it" is 'ct systemctl status gtpud --no-pager | grep -qF "Status: \"$ST\""'
MAIN=$(prop MainPID)
check "gtpud got both sockets from systemd" journal_has "(passed by systemd)"

# 2. gtpuctl: root; alice, a member of group gtpud; bob, who is not.
S=$(ct stat -c '%U:%G %a' /run/gtpud/control.sock)
diag "control socket: $S"
check "the control socket is group gtpud, 0660" is 'echo "$S" | grep -q ":gtpud 660$"'
check "gtpuctl status (root)" is 'ct gtpuctl status | grep -q "^pid  *$MAIN\$"'
quiet ct useradd alice
quiet ct useradd bob
check "usermod -aG gtpud alice" ct usermod -aG gtpud alice
check "gtpuctl status as a member of group gtpud" is 'as alice gtpuctl status | grep -q "^pid  *$MAIN\$"'
check "gtpuctl reload as a member of group gtpud" as alice gtpuctl reload
out=$(as bob gtpuctl status 2>&1); rc=$?
diag "bob: $out (exit $rc)"
check "gtpuctl status as a non-member is refused: Permission denied" \
	is '[ $rc != 0 ] && echo "$out" | grep -q "cannot connect to /run/gtpud/control.sock: Permission denied"'
out=$(as bob gtpuctl reload 2>&1); rc=$?
check "gtpuctl reload as a non-member is refused" is '[ $rc != 0 ] && echo "$out" | grep -q "Permission denied"'

# 3. Reload: an edited file (one more peer) is applied; a bad one fails,
# with the error in the journal, and the running configuration stays.
ct cp "$CONF" /root/gtpud.conf.orig
ct sed -i 's|^peers = (|peers = (\n  { name = "enb2"; address = "203.0.113.10"; },|' "$CONF"
check "systemctl reload gtpud with a good file" ct systemctl reload gtpud
check "the new peer is there" is 'ct gtpuctl peers | grep -q "^enb2 .*203\.0\.113\.10"'
ct sh -c "echo 'bogus_reload = 1;' >> '$CONF'"
check "systemctl reload gtpud with a bad file fails" is '! ct systemctl reload gtpud 2>/dev/null'
check "the journal has the error" wait_for 5 journal_has 'unknown key "bogus_reload"'
check "and that the running configuration stays" wait_for 5 journal_has "reload failed: the running configuration stays"
check "gtpud still runs, same process" test "$(prop MainPID)" = "$MAIN" -a "$(prop ActiveState)" = active
check "with the running configuration (the new peer)" is 'ct gtpuctl peers | grep -q "^enb2 "'
check "gtpuctl status: last reload failed" is 'ct gtpuctl status | grep -q "^reloads .*(last failed)"'
ct cp /root/gtpud.conf.orig "$CONF"
check "systemctl reload gtpud with the file put back" ct systemctl reload gtpud

# 4. Stopped, gtpud starts again through its sockets: a datagram (an Echo
# Request, answered once gtpud runs) and a gtpuctl command.
ECHO_REQ='\x32\x01\x00\x04\x00\x00\x00\x00\x00\x01\x00\x00'
quiet ct systemctl stop gtpud.service
check "systemctl stop gtpud.service: inactive, sockets still listening" \
	is '[ "$(prop ActiveState)" = inactive ] && ct systemctl is-active -q gtpud.socket gtpud-control.socket'
ct bash -c "printf '$ECHO_REQ' >/dev/udp/127.0.0.1/2152"
check "a datagram on gtpud.socket starts gtpud" wait_for 10 is '[ "$(prop ActiveState)" = active ]'
check "and gtpud answers it" is '[ "$(ct gtpuctl --json stats | jq .echo_responses_sent)" = 1 ]'
quiet ct systemctl stop gtpud.service
check "stopped again" test "$(prop ActiveState)" = inactive
check "gtpuctl status through gtpud-control.socket starts gtpud" is 'ct gtpuctl status | grep -q "^uptime"'
check "gtpud.service active again" test "$(prop ActiveState)" = active
# "systemctl stop gtpud.socket gtpud-control.socket gtpud.service stops it
# for good": nothing starts it then; systemctl start gtpud brings all back.
quiet ct systemctl stop gtpud.socket gtpud-control.socket gtpud.service
out=$(ct gtpuctl status 2>&1)
ct bash -c "printf '$ECHO_REQ' >/dev/udp/127.0.0.1/2152" 2>/dev/null
sleep 1
diag "stopped for good: $out"
check "stopping the sockets too stops it for good: gtpuctl and a datagram start nothing" \
	is '[ "$(prop ActiveState)" = inactive ] && echo "$out" | grep -q "cannot connect to /run/gtpud/control.sock"'
check "systemctl start gtpud starts both sockets again" \
	is 'ct systemctl start gtpud && ct systemctl is-active -q gtpud gtpud.socket gtpud-control.socket'

# 5. The watchdog: gtpud stopped with SIGSTOP sends no WATCHDOG=1; systemd
# kills it after WatchdogSec and starts it again.
# Six starts in a minute would be refused (StartLimitBurst=5): the
# watchdog's restart is not to meet the limit that the steps above came near.
ct systemctl reset-failed gtpud
MAIN=$(prop MainPID)
N0=$(prop NRestarts)
WD=$(prop WatchdogUSec)
diag "WatchdogUSec=$WD, NRestarts=$N0, MainPID=$MAIN"
T2=$SECONDS
ct sh -c "kill -STOP $MAIN"
restarted() { local p; p=$(prop MainPID); [ "$p" != 0 ] && [ "$p" != "$MAIN" ] && [ "$(prop ActiveState)" = active ]; }
check "gtpud stopped with SIGSTOP is restarted by systemd" wait_for 50 restarted
diag "restarted after $((SECONDS - T2)) s"
check "after WatchdogSec: the journal says watchdog" journal_has "gtpud.service: Watchdog timeout"
check "NRestarts counts it: $N0 -> $(prop NRestarts)" test "$(prop NRestarts)" = $((N0 + 1))
check "gtpuctl status after the restart" is 'ct gtpuctl status | grep -q "^pid  *$(prop MainPID)\$"'

# 6. TUN: a configuration with a tun section (the endpoint example) fails
# without the drop-in (exit 3, not restarted forever); with it (the README's
# block) gtpud creates gtp0 with the example's addresses.
ct systemctl reset-failed gtpud
ct cp "$EXAMPLE" "$CONF"
check "with a tun section, without the drop-in: restart fails" is '! ct systemctl restart gtpud 2>/dev/null'
check "exit status 3" test "$(prop ExecMainStatus)" = 3
check "the journal: cannot open /dev/net/tun: No such file or directory" \
	wait_for 5 journal_has "cannot open /dev/net/tun: No such file or directory"
if ! ct test -c /dev/net/tun; then
	skip "the TUN drop-in" "the container has no /dev/net/tun (systemd-nspawn did not create it)"
	ct systemctl stop gtpud
else
	TM=$(ct stat -c %a /dev/net/tun)
	# The README: "a container without udev may need chmod 0666 /dev/net/tun".
	[ "$TM" = 666 ] || { diag "/dev/net/tun is $TM here (no udev): chmod 0666 as the README says"; ct chmod 0666 /dev/net/tun; }
	readme_run 2
	check "with the drop-in: active" is '[ "$(prop ActiveState)" = active ]'
	check "gtp0 has the example's 203.0.113.1/24 and 2001:db8:45::1/64" \
		is 'ct ip -br addr show gtp0 | grep -q "203\.0\.113\.1/24 2001:db8:45::1/64"'
	check "the journal: TUN device gtp0" journal_has "TUN device gtp0;"
	check "the drop-in adds CAP_NET_ADMIN" is 'prop CapabilityBoundingSet | grep -qx cap_net_admin'
fi

# 7. An invalid configuration (exit 1) is not restarted: the unit fails.
ct systemctl reset-failed gtpud
ct cp /root/gtpud.conf.orig "$CONF"
ct sh -c "echo 'bogus_start = 1;' >> '$CONF'"
L=$(wc -l <"$R$CONF")
check "an invalid configuration: restart fails" is '! ct systemctl restart gtpud 2>/dev/null'
N1=$(prop NRestarts)
sleep 5
check "not restarted 5 s later (RestartSec=2s): NRestarts $N1 -> $(prop NRestarts), failed" \
	is '[ "$(prop NRestarts)" = "$N1" ] && [ "$(prop ActiveState)" = failed ] && [ "$(prop ExecMainStatus)" = 1 ]'
check "the journal has the error with its line" wait_for 5 journal_has "$CONF:$L: unknown key \"bogus_start\""

check "no sanitizer report in the journal" \
	is '! ct journalctl -o cat --no-pager | grep -E "ERROR: (Address|Leak)Sanitizer|runtime error:|LeakSanitizer has encountered"'

# 8. The container powers off.
T3=$SECONDS
quiet ct systemctl poweroff --no-block
for _ in $(seq 300); do alive "$NSPAWN" || break; sleep 0.1; done
if alive "$NSPAWN"; then not_ok "systemctl poweroff: the container stops within 30 s"; ct_stop
else wait "$NSPAWN"; rc=$?; check "systemctl poweroff: the container stops (exit $rc, $((SECONDS - T3)) s)" test $rc = 0; fi
NSPAWN=""
diag "boot test: $((SECONDS - T0)) s"
done_testing
