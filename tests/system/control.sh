#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The control socket through the real daemon: the JSON of every command
# against the keys and types of ctl_cmds.h, tunnel add/del at run time with
# traffic, synchronous reload, monitor events, permissions, and abuse (huge
# lines, junk, too many clients, idle clients, clients that never read).
. "$(dirname "$0")/lib.sh"
need_root
need_scapy
need_cmd setpriv
need_cmd jq
[ -x "$GTPUD" ] && [ -x "$GTPUCTL" ] || skip_all "gtpud/gtpuctl not built"
getent passwd nobody >/dev/null && getent group nogroup >/dev/null || skip_all "no user nobody / group nogroup"

ENB=192.0.2.10 DUTE=192.0.2.1 DUTU=198.51.100.1 UPF=198.51.100.20
SOCK=$T_DIR/ctl.sock CONF=$T_DIR/gtpud.conf LOG=$T_DIR/gtpud.log
PEER="$PY $TESTS_PY/peer.py"
MAXC=8 IDLE=3
ns_add enb && ns_add dut && ns_add upf || skip_all "cannot create namespaces"
link enb "$ENB/24" dut "$DUTE/24" && link dut "$DUTU/24" upf "$UPF/24" || skip_all "cannot link namespaces"

# conf [EXTRA_TUNNELS]: upf has Echo every second and never answers.
conf() {
	cat >"$CONF" <<EOF
listen = [ "$DUTE:2152", "$DUTU:2152" ];
control = { path = "$SOCK"; mode = "0660"; max_clients = $MAXC; idle_timeout = $IDLE; };
log_level = "debug";
echo = { interval = 1; t3 = 1; n3 = 1; };
error_indication = { enabled = true; rate = 100; quiet = 0; };
peers = (
  { name = "enb"; address = "$ENB"; },
  { name = "upf"; address = "$UPF"; echo = true; }
);
tunnels = (
  { name = "up"; from = { peer = "enb"; teid = 0x100; }; to = { peer = "upf"; teid = 0x200; }; },
  { name = "down"; from = { peer = "upf"; teid = 0x201; }; to = { peer = "enb"; teid = 0x101; }; }${1:-}
);
EOF
}
ctl() { "$GTPUCTL" -s "$SOCK" "$@"; }
# bgns NS COMMAND...: run in the background in namespace NS; BG is its PID
# (ip netns exec execs the command: the PID is the program's, not a shell's).
bgns() { local n=$NS_PREFIX$1; shift; ip netns exec "$n" "$@" & BG=$!; T_PIDS="$T_PIDS $BG"; }
start() {
	bgns dut "$GTPUD" -c "$CONF" >>"$LOG" 2>&1
	GT_PID=$BG
	wait_for 5 ctl status || { diag "gtpud did not start"; diag "$(cat "$LOG")"; return 1; }
}
# run DESC WANT_EXIT STDERR_REGEX COMMAND...: exit code and stderr of a command.
run() {
	local d=$1 want=$2 re=$3 rc
	shift 3
	"$@" >"$T_DIR/out" 2>"$T_DIR/err"
	rc=$?
	if [ "$rc" = "$want" ] && { [ -z "$re" ] || grep -qE -- "$re" "$T_DIR/err"; }; then
		ok "$d"
	else
		not_ok "$d"; diag "exit $rc (want $want), stderr:"; diag "$(cat "$T_DIR/err")"
	fi
}
# Python helpers: schema checks, raw protocol, abuse. They print
# "PASS text", "FAIL text" or "DIAG text"; tap turns that into TAP.
cat >"$T_DIR/t.py" <<'EOF'
import json, os, socket, sys, time
N, S, B = 'N', 'S', 'B'
NQ, SQ = ('N', None), ('S', None)
PEER = {'name': S, 'address': S, 'port': N, 'echo': B, 'state': ('up', 'down', 'unknown'),
        'rtt_us': NQ, 'since': N, 'recovery': NQ, 'rx_packets': N, 'rx_bytes': N, 'tx_packets': N,
        'tx_bytes': N, 'echo_requests_sent': N, 'echo_timeouts': N, 'down_count': N,
        'error_indications_received': N}
TUNNEL = {'name': S, 'runtime': B, 'origin': ('file', 'runtime'), 'from': {'peer': S, 'teid': N}, 'to': {'peer': S, 'teid': N},
          'ue': [S], 'qfi': NQ, 'rate': NQ, 'burst': NQ, 'rx_packets': N, 'rx_bytes': N,
          'tx_packets': N, 'tx_bytes': N, 'dropped': N, 'drops': {'*': N}, 'error_indications_received': N}
DROP = {'time': ('N', 'F'), 'reason': S, 'source': SQ, 'port': NQ, 'destination': SQ, 'peer': SQ,
        'teid': NQ, 'tunnel': SQ, 'from_tun': B, 'worker': N}
SCHEMA = {
    'status': {'version': S, 'pid': N, 'uptime': N, 'config': S, 'workers': N, 'peers': N,
               'peers_up': N, 'tunnels': N, 'runtime_tunnels': N, 'reloads': N,
               'last_reload': ('ok', 'failed', None), 'tun': SQ, 'max_runtime_tunnels': N,
               'state_file': (None,), 'pfcp': (None,), 'pfcp_tunnels': N},
    'stats': dict({k: N for k in (
        'rx_packets rx_bytes tx_packets tx_bytes forwarded answered signalling_answered signalling_received '
        'dropped buffered echo_requests_sent '
        'echo_requests_received echo_responses_sent echo_responses_received error_indications_sent '
        'error_indications_received supp_ext_notifs_sent end_markers tun_rx_packets tun_tx_packets '
        'icmp_sent events_lost drops_recorded log_lines log_lines_suppressed xdp_forwarded xdp_passed').split()}, drops={'*': N},
        paths={'sockets': {'rx_packets': N, 'forwarded': N},
               'xdp': {'mode': S, 'rx_packets': N, 'forwarded': N, 'tx_lost': N, 'passed': N,
                       'not_offloaded': N}}),
    'peers': [PEER], 'tunnels': [TUNNEL], 'metrics': {'text': S}, 'drops': [DROP],
}

def check(v, s, path, errs):
    if s == N:
        ok = type(v) is int and 0 <= v < 2**64
    elif s == S:
        ok = type(v) is str
    elif s == 'F':
        ok = type(v) is float
    elif s == B:
        ok = type(v) is bool
    elif type(s) is tuple:
        ok = any(check(v, x, path, []) if x in (N, S, 'F') else v == x for x in s)
    elif type(s) is list:
        ok = type(v) is list
        for i, x in enumerate(v if ok else []):
            check(x, s[0], '%s[%d]' % (path, i), errs)
    else:
        ok = type(v) is dict
        if ok and '*' in s:
            for k, x in v.items():
                check(x, s['*'], path + '.' + k, errs)
        elif ok:
            if set(v) != set(s):
                errs.append('%s: keys %s missing, %s not documented' % (
                    path or '.', sorted(set(s) - set(v)), sorted(set(v) - set(s))))
            for k in s:
                if k in v:
                    check(v[k], s[k], path + '.' + k, errs)
    if not ok:
        errs.append('%s: %r is not %r' % (path or '.', v, s))
    return ok

def out(ok, text):
    print(('PASS ' if ok else 'FAIL ') + text)

def conn(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    return s

def reply(s, timeout=5):
    s.settimeout(timeout)
    b = b''
    while not b.endswith(b'\n'):
        c = s.recv(65536)
        if not c:
            return None
        b += c
    return json.loads(b)

def req(s, cmd, args=None):
    r = {'version': 1, 'command': cmd}
    if args is not None:
        r['args'] = args
    s.sendall(json.dumps(r).encode() + b'\n')
    return reply(s)

def ask(s, cmd):
    """req, for a connection that may have been refused: the refusal is
    waiting to be read even when sending finds the socket closed."""
    try:
        s.sendall(json.dumps({'version': 1, 'command': cmd}).encode() + b'\n')
    except OSError:
        pass
    try:
        return reply(s)
    except OSError:
        return None

def rss(pid):
    for line in open('/proc/%s/status' % pid):
        if line.startswith('VmRSS:'):
            return int(line.split()[1])

def eof(s, timeout):
    s.settimeout(timeout)
    try:
        while True:
            if not s.recv(65536):
                return True
    except socket.timeout:
        return False
    except OSError:
        return True

def main():
    cmd, a = sys.argv[1], sys.argv[2:]
    if cmd == 'schema':
        data = json.load(sys.stdin)
        errs = []
        check(data, SCHEMA[a[0]], '', errs)
        for e in errs:
            print('DIAG ' + e)
        out(not errs, '--json %s matches the structure of ctl_cmds.h' % a[0])
    elif cmd == 'raw':
        # Every command's reply frame: version 1, result 0, data.
        s = conn(a[0])
        for c in ('status', 'stats', 'peers', 'tunnels', 'metrics'):
            r = req(s, c)
            out(type(r) is dict and set(r) == {'version', 'result', 'data'} and r['version'] == 1
                and r['result'] == 0, 'raw "%s" reply is {"version":1,"result":0,"data":...}' % c)
        r = req(s, 'tunnels', ['no-such'])
        out(r.get('result') == 5 and r.get('error') == 'not found' and r.get('errors') == ['no tunnel named "no-such"'],
            'raw "tunnels no-such": result 5, error and errors (%s)' % json.dumps(r))
        r = req(s, 'tunnel add', ['x', 'from', 'enb', '0', 'to', 'upf', '1'])
        out(r.get('result') == 3, 'raw "tunnel add" with from TEID 0 (bypassing gtpuctl): result 3 (%s)' % json.dumps(r))
        r = req(s, 'frobnicate')
        out(r.get('result') == 2 and r.get('error') == "unknown command 'frobnicate'",
            'raw unknown command: result 2 (%s)' % json.dumps(r))
    elif cmd == 'huge':
        pid, path = a
        s = conn(path)
        req(s, 'status')
        before = rss(pid)
        r = None
        try:
            s.sendall(b'a' * (1 << 20))
        except OSError as e:
            print('DIAG send stopped: %s' % e)
        try:
            r = reply(s)
        except OSError as e:
            print('DIAG reply: %s' % e)
        after = rss(pid)
        out(r is not None and r.get('result') == 8 and r.get('error') == 'request longer than 65536 bytes',
            'a 1 MiB line without newline gets "request longer than 65536 bytes" (%s)' % json.dumps(r))
        out(eof(s, 3), '... and the connection is closed')
        print('DIAG RSS %d kB before, %d kB after' % (before, after))
        out(after - before < 1024, 'RSS grew by less than 1 MiB (%d kB)' % (after - before))
    elif cmd == 'hugeroot':
        s = conn(a[0])
        s.sendall(b'a' * (1 << 20) + b'\n')
        r = reply(s)
        out(r.get('result') == 1 and 'malformed request' in r.get('error', ''),
            'a 1 MiB line from root is read whole (a batch may be that long): malformed request (%s)' % json.dumps(r))
    elif cmd == 'junk':
        s = conn(a[0])
        for line, why in ((b'{"version":1,"command":"sta\x00tus"}', 'a NUL byte'),
                          (b'\x00\x00\x00\x00', 'NUL bytes only'),
                          (b'hello world', 'junk'), (b'\xff\xfe\xfd', 'invalid UTF-8'),
                          (b'[1,2,3]', 'a JSON array'), (b'{"version":2,"command":"status"}', 'version 2'),
                          (b'{"version":1}', 'no command'),
                          (b'{"version":1,"command":"status","args":[1]}', 'a number in args'),
                          (b'{"version":1,"command":"status"', 'truncated JSON')):
            s.sendall(line + b'\n')
            r = reply(s)
            out(r is not None and r.get('result') == 1 and r.get('error', '').startswith('malformed request: '),
                '%s gets result 1 "malformed request: ..." (%s)' % (why, r and r.get('error')))
            r = req(s, 'status')
            out(r is not None and r.get('result') == 0, '... and the connection still answers status')
    elif cmd == 'maxclients':
        path, maxc = a[0], int(a[1])
        held = []
        for i in range(maxc):
            s = conn(path)
            r = req(s, 'status')
            if not r or r.get('result') != 0:
                out(False, 'client %d of %d served (%s)' % (i + 1, maxc, r))
                return
            held.append(s)
        out(True, '%d clients connected and served' % maxc)
        s = conn(path)
        r = reply(s)
        out(r is not None and r.get('result') == 8 and r.get('error') == 'too many clients',
            'client %d gets result 8 "too many clients" (%s)' % (maxc + 1, r))
        out(eof(s, 2), '... and is closed')
        held.pop().close()
        time.sleep(0.2)
        s = conn(path)
        r = req(s, 'status')
        out(r is not None and r.get('result') == 0, 'once one leaves, a new client is served')
    elif cmd == 'lastslot':
        import pwd
        path, maxc = a[0], int(a[1])
        pw = pwd.getpwnam('nobody')
        rd, wr = os.pipe()
        go_r, go_w = os.pipe()
        pid = os.fork()
        if pid == 0:      # a reader: nobody, one connection after the other
            os.setgroups([])
            os.setgid(pw.pw_gid)
            os.setuid(pw.pw_uid)
            held, refused = [], 0
            for i in range(maxc + 2):
                s = conn(path)
                r = ask(s, 'status')
                if r and r.get('result') == 0:
                    held.append(s)
                elif r and r.get('error') == 'too many clients':
                    refused += 1
            os.write(wr, ('%d %d' % (len(held), refused)).encode())
            os.read(go_r, 1)
            os._exit(0)
        held, refused = map(int, os.read(rd, 64).split())
        s = conn(path)
        r = ask(s, 'status')
        out(held == maxc - 1 and refused == 3,
            "nobody's clients: %d served of %d tried, %d refused (max_clients %d)" % (held, maxc + 2, refused, maxc))
        out(r is not None and r.get('result') == 0, '... and root still gets the last slot (%s)' % (r and r.get('result')))
        os.write(go_w, b'x')
        os.waitpid(pid, 0)
    elif cmd == 'idle':
        path, idle = a[0], float(a[1])
        s1, s2 = conn(path), conn(path)
        t0 = time.time()
        closed = eof(s1, idle + 3)
        dt = time.time() - t0
        out(closed and idle - 0.5 <= dt <= idle + 2,
            'an idle client is closed after idle_timeout %gs (%.1fs)' % (idle, dt))
        m = conn(path)
        r = req(m, 'monitor')
        out(r.get('result') == 0 and not eof(m, idle + 1.5),
            'a monitor client is not closed by the idle timeout')
    elif cmd == 'noread':
        pid, path = a
        base = rss(pid)
        # Clients that ask for the big tunnel list once and never read it.
        lazy = []
        for i in range(4):
            s = conn(path)
            s.sendall(b'{"version":1,"command":"tunnels"}\n')
            lazy.append(s)
        time.sleep(1.5)
        worst = 0
        for i in range(10):
            t0 = time.time()
            r = req(conn(path), 'status')
            worst = max(worst, time.time() - t0)
            if not r or r.get('result') != 0:
                out(False, 'status answered while clients do not read (%s)' % r)
                return
        # Not stalled: bounded by the machine's load, not by the unread replies.
        out(worst < 0.5, 'status from another client answers in %.1f ms at worst while 4 clients leave a tunnels reply unread' % (worst * 1000))
        print('DIAG gtpud RSS %d kB, %d kB with 4 replies unread' % (base, rss(pid)))
        # A client that asks for 4 lists and reads late: the replies are
        # streamed as it reads, so nothing piles up, and it gets all 4.
        g = conn(path)
        g.sendall(b'{"version":1,"command":"tunnels"}\n' * 4)
        time.sleep(1.5)
        n, lines, closed, buf = 0, 0, False, b''
        g.settimeout(5)
        try:
            while lines < 4:
                c = g.recv(1 << 20)
                if not c:
                    closed = True
                    break
                n += len(c)
                buf += c
                while b'\n' in buf:
                    line, buf = buf.split(b'\n', 1)
                    lines += json.loads(line).get('result') == 0
        except OSError as e:
            print('DIAG late reader: %s' % e)
        out(not closed and lines == 4, 'a client that asks for 4 tunnel lists and reads late gets all 4 (%d bytes)' % n)
        # Clients that leave in the middle of a reply: EPIPE, never SIGPIPE.
        for i in range(20):
            s = conn(path)
            s.sendall(b'{"version":1,"command":"tunnels"}\n')
            s.recv(1000)
            s.close()
        for s in lazy:
            s.close()
        time.sleep(0.3)
        alive = os.path.exists('/proc/%s' % pid)
        r = req(conn(path), 'status') if alive else None
        out(alive and r is not None and r.get('result') == 0,
            'gtpud survives 24 clients that leave mid-reply (no SIGPIPE) and answers')
        print('DIAG gtpud RSS %d kB after they left' % rss(pid))
    elif cmd == 'big':
        path = a[0]
        s = conn(path)
        t0 = time.time()
        r = req(s, 'tunnels')
        n = len(r['data']) if r and r.get('result') == 0 else -1
        print('DIAG tunnels with %d rows: %.0f ms' % (n, (time.time() - t0) * 1000))
        out(n == int(a[1]), 'a reading client gets all %s tunnels (%d)' % (a[1], n))

main()
EOF
tap() {
	local st text
	while IFS=' ' read -r st text; do
		case $st in
		PASS) ok "$text" ;;
		FAIL) not_ok "$text" ;;
		*) diag "$text" ;;
		esac
	done
}
pyt() { tap < <("$PY" "$T_DIR/t.py" "$@" 2>&1); }
jqe() { jq -e "$@" >/dev/null; }

# ---- The daemon is not running ----
run "no socket: exit 3 and 'is gtpud running?'" 3 \
	"^gtpuctl: cannot connect to $T_DIR/none.sock: No such file or directory \(is gtpud running\?\)" \
	"$GTPUCTL" -s "$T_DIR/none.sock" status
"$PY" -c "import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])" "$T_DIR/stale.sock"
run "a socket file nobody listens on: exit 3, Connection refused" 3 "Connection refused" \
	"$GTPUCTL" -s "$T_DIR/stale.sock" status

conf
start || { done_testing; }

# ---- JSON of every command ----
for c in status stats peers tunnels metrics drops; do
	ctl --json "$c" >"$T_DIR/$c.json" 2>"$T_DIR/err" || diag "gtpuctl $c: $(cat "$T_DIR/err")"
	pyt schema "$c" <"$T_DIR/$c.json"
done
check "status: pid is gtpud's, config is the file, 2 peers, 2 tunnels" \
	jqe --arg c "$CONF" ".pid == $GT_PID and .config == \$c and .peers == 2 and .tunnels == 2 and .runtime_tunnels == 0 and .last_reload == null and .tun == null" "$T_DIR/status.json"
check "stats: drops has every reason, rx = forwarded + answered + dropped" \
	jqe '(.drops | length) > 3 and .rx_packets == .forwarded + .answered + .dropped and .dropped == ([.drops[]] | add)' "$T_DIR/stats.json"
check "peers: enb and upf with address and port 2152, upf with echo" \
	jqe --arg e "$ENB" --arg u "$UPF" 'map({(.name): .}) | add | .enb.address == $e and .upf.address == $u and .enb.port == 2152 and .upf.echo and (.enb.echo | not)' "$T_DIR/peers.json"
check "tunnels: up is enb/0x100 -> upf/0x200, from the config" \
	jqe '.[] | select(.name == "up") | .from == {"peer":"enb","teid":256} and .to == {"peer":"upf","teid":512} and .runtime == false and .ue == []' "$T_DIR/tunnels.json"
ctl --json tunnels down >"$T_DIR/down.json"
pyt schema tunnels <"$T_DIR/down.json"
check "tunnels NAME: one element" sh -c "$GTPUCTL -s $SOCK --json tunnels down | jq -e 'length == 1 and .[0].name == \"down\"' >/dev/null"
check "metrics: the text starts with # HELP" jqe '.text | startswith("# HELP gtpud_")' "$T_DIR/metrics.json"
pyt raw "$SOCK"
for c in status stats peers tunnels metrics; do
	check "gtpuctl $c (table) exits 0 and prints something" sh -c "$GTPUCTL -s $SOCK $c | grep . >/dev/null"
done
diag "$(ctl peers)"

# ---- monitor (runs through the tunnel and reload tests) ----
"$GTPUCTL" -s "$SOCK" --json monitor >"$T_DIR/mon.json" 2>"$T_DIR/mon.err" &
MON=$!
T_PIDS="$T_PIDS $MON"
sleep 0.3
# upf never answers Echo: down within interval + t3 * n3. Traffic from upf
# brings it back up, and the next Echo that goes unanswered brings it down.
wait_for 5 sh -c "$GTPUCTL -s $SOCK --json peers | jq -e '.[] | select(.name == \"upf\") | .state == \"down\"'"
check "upf (Echo never answered) is down" sh -c "$GTPUCTL -s $SOCK --json peers | jq -e '.[] | select(.name == \"upf\") | .state == \"down\" and .echo_timeouts >= 1 and .down_count >= 1' >/dev/null"
nsx upf $PEER send --bind "$UPF" --dst "$DUTU" --pkt "GTP_U_Header(gtp_type=255, teid=0x201)/Raw(b'wake')" >/dev/null 2>&1
sleep 0.3
# An Error Indication from upf for the TEID tunnel "up" sends to it.
nsx upf $PEER send --bind "$UPF" --dst "$DUTU" \
	--pkt "GTP_U_Header(gtp_type=26, teid=0, S=1, seq=1)/GTPErrorIndication(IE_list=[IE_TEIDI(TEIDI=0x200), IE_GSNAddress(length=4, ipv4_address='$UPF')])" 2>&1 | sed 's/^/# /'
sleep 0.2
diag "after the Error Indication: $(ctl --json stats | jq -c '[.error_indications_received, (.drops | with_entries(select(.value > 0)))]')"

# ---- tunnel add at run time carries traffic ----
run "tunnel add rt1 from enb 0x900 to upf 0x901: exit 0, silent" 0 "" ctl tunnel add rt1 from enb 0x900 to upf 0x901
check "... and prints nothing" test ! -s "$T_DIR/out"
check "tunnel add --json prints null" sh -c "$GTPUCTL -s $SOCK --json tunnel add rt2 from upf 0x902 to enb 0x903 rate 1000000 burst 5000 | grep -qx null"
ctl --json tunnels rt1 >"$T_DIR/rt1.json"
pyt schema tunnels <"$T_DIR/rt1.json"
check "tunnels rt1: runtime, enb/0x900 -> upf/0x901" \
	jqe '.[0] | .runtime == true and .from == {"peer":"enb","teid":2304} and .to == {"peer":"upf","teid":2305}' "$T_DIR/rt1.json"
got=$(ctl --json tunnels rt2 | jq -c '.[0] | [.rate, .burst]')
is() { if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1"; diag "got: $2"; diag "want: $3"; fi; }
is "tunnels rt2 shows the rate and burst it was added with" "$got" "[1000000,5000]"
is "status counts 2 runtime tunnels of 4" "$(ctl --json status | jq -c '[.runtime_tunnels, .tunnels]')" "[2,4]"
check "gtpuctl tunnels (table) lists rt1" sh -c "$GTPUCTL -s $SOCK tunnels | grep -q '^rt1 '"

bgns upf $PEER listen --addr "$UPF" --duration 30 --out "$T_DIR/upf.rx" --summary --ready "$T_DIR/upf.ready"
LST=$BG
wait_for 10 test -e "$T_DIR/upf.ready"
send_rt1() { nsx enb $PEER send --bind "$ENB" --dst "$DUTE" --pkt "GTP_U_Header(gtp_type=255, teid=0x900)/Raw(b'p{i}')" --count "$1" >/dev/null 2>&1; }
send_rt1 20

# ---- reload keeps runtime tunnels; collisions are reported ----
run "reload with the same file: exit 0" 0 "" ctl reload
send_rt1 10
sleep 0.5
is "rt1 after the reload: runtime, 30 packets in and out" \
	"$(ctl --json tunnels rt1 | jq -c '.[0] | [.runtime, .rx_packets, .tx_packets]')" "[true,30,30]"
# Human units: the enb row of the peers table shows its received bytes
# as the JSON counts them, in B below 1000 and kB/MB above.
human() { awk -v v="$1" 'BEGIN { if (v < 1000) printf "%d B", v; else if (v < 999950) printf "%.1f kB", v / 1000; else printf "%.1f MB", v / 1e6 }'; }
rxb=$(ctl --json peers | jq '.[] | select(.name == "enb") | .rx_bytes')
check "peers table: enb received $(human "$rxb") ($rxb bytes in --json)" \
	sh -c "$GTPUCTL -s $SOCK peers | grep '^enb ' | grep -qF '$(human "$rxb")'"
CFGX=",
  { name = \"cfgx\"; from = { peer = \"enb\"; teid = 0x900; }; to = { peer = \"upf\"; teid = 0x999; }; }"
conf "$CFGX"
ctl --json reload >"$T_DIR/reload.json" 2>"$T_DIR/err"
check "reload with a config tunnel on rt1's from TEID: exit 0, --json warnings name rt1" \
	jqe '.warnings | length == 1 and (.[0] | test("rt1.*collides"))' "$T_DIR/reload.json"
diag "$(cat "$T_DIR/reload.json")"
is "0x900 goes to cfgx, and rt1 is dropped" \
	"$(ctl --json tunnels | jq -c '[.[] | .name] | [any(. == "cfgx"), any(. == "rt1")]')" "[true,false]"
run "rt1 cannot come back while cfgx has its TEID: exit 1" 1 'from TEID 0x900 is in use' \
	ctl tunnel add rt1 from enb 0x900 to upf 0x901
conf
run "reload without cfgx: exit 0" 0 "" ctl reload
run "rt1 stays dropped (not kept aside): tunnels rt1 exits 1" 1 '^gtpuctl: tunnels: [a-z ]+: no tunnel named "rt1"$' ctl tunnels rt1
run "rt1 added again: exit 0" 0 "" ctl tunnel add rt1 from enb 0x900 to upf 0x901
conf "$CFGX"
run "the same collision without --json: exit 0, rt1 named" 0 "rt1" ctl reload
conf
run "reload without cfgx again: exit 0" 0 "" ctl reload
run "rt1 added once more: exit 0" 0 "" ctl tunnel add rt1 from enb 0x900 to upf 0x901
is "rt1 is back, runtime" "$(ctl --json tunnels rt1 | jq -c '.[0].runtime')" "true"
sleep 0.5
gt_stop() { kill "$1" 2>/dev/null; wait "$1" 2>/dev/null; return 0; }
gt_stop "$LST"
is "upf received 30 G-PDUs with TEID 0x901 (scapy)" "$(jq -c '.teids["2305"]' "$T_DIR/upf.rx")" "30"
diag "upf received: $(cat "$T_DIR/upf.rx")"

# ---- tunnel add/del errors ----
run "duplicate name: exit 1, already exists" 1 '^gtpuctl: tunnel add: already exists: a tunnel named "up" exists$' \
	ctl tunnel add up from enb 0x910 to upf 0x911
check "... on one line" test "$(wc -l <"$T_DIR/err")" = 1
run "from TEID in use: exit 1" 1 'from TEID 0x100 is in use' ctl tunnel add dup from enb 0x100 to upf 0x911
run "unknown peer: exit 1, not found, unknown peer \"nope\"" 1 '^gtpuctl: tunnel add: [a-z ]+: from.peer: unknown peer "nope"$' \
	ctl tunnel add x1 from nope 0x920 to upf 0x921
run "TEID 0: exit 2 before sending" 2 "^gtpuctl: tunnel add: from.teid: 0 is out of range \(1..4294967295\)$" \
	ctl tunnel add x2 from enb 0 to upf 0x921
run "TEID too big: exit 2" 2 "^gtpuctl: tunnel add: from.teid: 4294967296 is out of range" ctl tunnel add x3 from enb 0x100000000 to upf 1
run "TEID not a number: exit 2" 2 "^gtpuctl: tunnel add: from.teid: 'abc' is not a number" ctl tunnel add x4 from enb abc to upf 1
run "ue without a tun device: exit 1" 1 "ue: needs a TUN device, but there is no tun group" ctl tunnel add x5 from enb 0x930 to upf 0x931 ue 198.51.100.49
# A reload cannot add a TUN device (restart-only): ue still has none.
cp "$CONF" "$T_DIR/conf.keep"
echo 'tun = { name = "gtpct0"; mtu = 1400; addresses = [ "203.0.113.1/24" ]; };' >>"$CONF"
run "reload adding a tun group: exit 6, saying what waits for a restart" 6 \
	"^gtpuctl: reload: not applied: tun changed: applies after a restart, ignoring$" ctl reload
check "... logs that it applies after a restart" grep -q "tun changed: applies after a restart, ignoring" "$LOG"
check "... --json reload lists it under pending" sh -c \
	"'$GTPUCTL' -s '$SOCK' --json reload 2>/dev/null | jq -e '.pending == [\"tun changed: applies after a restart, ignoring\"]' >/dev/null"
run "... and ue still needs a tun device: exit 1" 1 "ue: needs a TUN device, but there is no tun group" \
	ctl tunnel add x6 from enb 0x940 to upf 0x941 ue 198.51.100.49
cp "$T_DIR/conf.keep" "$CONF"
run "reload without it: exit 0" 0 "" ctl reload
run "tunnel del of a config tunnel: exit 1" 1 'comes from the config file' ctl tunnel del up
run "tunnel del of an unknown tunnel: exit 1, not found" 1 '^gtpuctl: tunnel del: not found: no runtime tunnel named "nosuch"$' ctl tunnel del nosuch
run "tunnel del rt1: exit 0" 0 "" ctl tunnel del rt1
run "tunnels rt1 afterwards: exit 1, no tunnel named" 1 '^gtpuctl: tunnels: [a-z ]+: no tunnel named "rt1"$' ctl tunnels rt1
snap=$(ctl --json stats | jq '.drops | to_entries | map(.value) | add')
send_rt1 3
sleep 0.3
is "G-PDUs to 0x900 are now dropped (3 more drops)" "$(($(ctl --json stats | jq '.drops | to_entries | map(.value) | add') - snap))" 3
run "tunnel del rt2: exit 0" 0 "" ctl tunnel del rt2
run "unknown command: exit 2" 2 "^gtpuctl: unknown command 'frob'" ctl frob
run "status with an argument: exit 2" 2 "wrong number of arguments" ctl status x

# ---- reload with a bad file ----
cp "$CONF" "$T_DIR/good.conf"
sed -i -e 's/log_level = "debug";/log_level = "chatty";\nbogus = 1;/' "$CONF"
run "reload of a bad file: exit 1, invalid configuration" 1 '^gtpuctl: reload: invalid configuration$' ctl reload
check "... every error as FILE:LINE: message (2 lines)" test "$(grep -cE "^gtpuctl: reload: $CONF:[0-9]+: " "$T_DIR/err")" = 2
diag "$(cat "$T_DIR/err")"
is "status: last_reload failed, the running config stays (2 tunnels)" \
	"$(ctl --json status | jq -c '[.last_reload, .tunnels]')" '["failed",2]'
cp "$T_DIR/good.conf" "$CONF"
run "reload of the good file again: exit 0" 0 "" ctl reload

# ---- monitor events ----
sleep 0.5
gt_stop "$MON"
diag "$(cat "$T_DIR/mon.json")"
ev() { jq -c "select(.event == \"$1\") | $2" "$T_DIR/mon.json" | tr '\n' ' ' | sed 's/ $//'; }
check "monitor --json: one JSON object per line, each with event and time" \
	"$PY" -c "
import json, sys
ls = [json.loads(l) for l in open(sys.argv[1])]
assert ls and all(type(e['event']) is str and type(e['time']) is int and abs(e['time'] - $(date +%s)) < 120 for e in ls)
" "$T_DIR/mon.json"
is "monitor: tunnel_added rt1, rt2, rt1 twice more" "$(ev tunnel_added .tunnel)" '"rt1" "rt2" "rt1" "rt1"'
is "monitor: tunnel_removed rt1 (dropped by two reloads), rt1 and rt2" "$(ev tunnel_removed .tunnel)" '"rt1" "rt1" "rt1" "rt2"'
is "monitor: reload results" "$(ev reload .result)" '"ok" "ok" "ok" "ok" "ok" "ok" "ok" "ok" "failed" "ok"'
is "monitor: peer_up upf by traffic" "$(ev peer_up '[.peer, .reason]' | cut -d' ' -f1)" '["upf","traffic"]'
check "monitor: peer_down upf, no echo response" sh -c "jq -e 'select(.event == \"peer_down\") | select(.peer == \"upf\" and .reason == \"no echo response\")' $T_DIR/mon.json | grep -q ."
is "monitor: error_indication from upf for tunnel up" "$(ev error_indication '[.peer, .teid, .tunnel]')" '["upf",512,"up"]'
check "gtpuctl monitor (table) prints a dated line per event" sh -c "
	$GTPUCTL -s $SOCK monitor >$T_DIR/mon.txt 2>&1 & p=\$!; sleep 0.3
	$GTPUCTL -s $SOCK tunnel add rt3 from enb 0x940 to upf 0x941; $GTPUCTL -s $SOCK tunnel del rt3; sleep 0.3; kill \$p
	grep -qE '^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8} tunnel_added tunnel=rt3\$' $T_DIR/mon.txt"
diag "$(cat "$T_DIR/mon.txt")"

# ---- permissions ----
chmod 0711 "$T_DIR"
NOBODY="setpriv --reuid=nobody --regid=nogroup --clear-groups"
chmod 0600 "$SOCK"
run "socket 0600 root, gtpuctl as nobody: exit 4, Permission denied" 4 \
	"^gtpuctl: cannot connect to $SOCK: Permission denied$" $NOBODY "$GTPUCTL" -s "$SOCK" status
chmod 0666 "$SOCK"
run "socket 0666, no control group: status as nobody works" 0 "" $NOBODY "$GTPUCTL" -s "$SOCK" status
run "... tunnel add as nobody: exit 4, permission denied" 4 \
	"^gtpuctl: tunnel add: permission denied: 'tunnel add' needs root or the control group$" \
	$NOBODY "$GTPUCTL" -s "$SOCK" tunnel add n1 from enb 0x950 to upf 0x951
run "... reload as nobody: exit 4" 4 "needs root or the control group" $NOBODY "$GTPUCTL" -s "$SOCK" reload
run "... tunnel del as nobody: exit 4" 4 "needs root or the control group" $NOBODY "$GTPUCTL" -s "$SOCK" tunnel del up
$NOBODY "$GTPUCTL" -s "$SOCK" --json monitor >"$T_DIR/mon.nobody" 2>&1 &
p=$!
sleep 0.3
ctl tunnel add n2 from enb 0x950 to upf 0x951 && ctl tunnel del n2
sleep 0.3
kill "$p"
check "... monitor as nobody is allowed and gets events" grep -q '"tunnel_added".*"n2"' "$T_DIR/mon.nobody"
# Readers cannot take the last slot: nobody's clients are served up to
# MAXC - 1 (no other client is connected here), and root still gets in.
pyt lastslot "$SOCK" "$MAXC"
chmod 0660 "$SOCK"

# ---- abuse ----
# A client that may change nothing is held to 64 KiB a request; one that
# may (root here) is allowed a batch's length.
chmod 0666 "$SOCK"
tap < <($NOBODY "$PY" "$T_DIR/t.py" huge "$GT_PID" "$SOCK" 2>&1)
chmod 0660 "$SOCK"
pyt hugeroot "$SOCK"
pyt junk "$SOCK"
pyt maxclients "$SOCK" "$MAXC"
pyt idle "$SOCK" "$IDLE"
# 5000 tunnels: a tunnels reply of about 1.5 MB.
extra=$(for i in $(seq 1 4998); do
	printf ',\n  { name = "t%d"; from = { peer = "enb"; teid = %d; }; to = { peer = "upf"; teid = %d; }; }' "$i" $((0x10000 + i)) $((0x20000 + i))
done)
conf "$extra"
run "reload with 5000 tunnels: exit 0" 0 "" ctl reload
pyt big "$SOCK" 5000
pyt noread "$GT_PID" "$SOCK"
check "gtpud is still running" kill -0 "$GT_PID"
check "gtpud logged no crash" sh -c "! grep -qiE 'sigpipe|segfault|abort' $LOG"
cp "$LOG" /tmp/ctltest-last.log
kill "$GT_PID"
for _ in $(seq 50); do kill -0 "$GT_PID" 2>/dev/null || break; sleep 0.1; done
wait "$GT_PID"
is "gtpud exits 0 on SIGTERM after all this" "$?" 0
check "the socket is removed on exit" test ! -e "$SOCK"

# ---- the control group ----
conf
sed -i 's/mode = "0660";/mode = "0660"; group = "nogroup";/' "$CONF"
start
check "socket has group nogroup and mode 0660" sh -c "stat -c '%G %a' $SOCK | grep -qx 'nogroup 660'"
run "nobody with primary group nogroup may tunnel add" 0 "" $NOBODY "$GTPUCTL" -s "$SOCK" tunnel add g1 from enb 0x960 to upf 0x961
run "nobody with nogroup as a supplementary group may tunnel del" 0 "" \
	setpriv --reuid=nobody --regid=65533 --groups=nogroup "$GTPUCTL" -s "$SOCK" tunnel del g1
run "uid 65533 outside the group: cannot connect (exit 4)" 4 "Permission denied" \
	setpriv --reuid=65533 --regid=65533 --clear-groups "$GTPUCTL" -s "$SOCK" status
done_testing
