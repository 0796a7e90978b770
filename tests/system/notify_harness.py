#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
# Stand-in for systemd in system tests: a NOTIFY_SOCKET listener that records
# every sd_notify message with its time and sender, optionally holding sockets
# and passing them like PID 1 (LISTEN_FDS), and restarting the command.
"""
run  --log LOG --pidfile PF [--watchdog-usec N] [--timeout S]
     [--udp ADDR:PORT] [--unix PATH] [--respawn-delay S] -- CMD...
    Runs CMD with NOTIFY_SOCKET (and WATCHDOG_USEC/WATCHDOG_PID = its own pid,
    set in the child before exec so that they match). With --udp/--unix the
    sockets are bound here and passed as fds 3.. named gtpu/control, like
    systemd does; with --respawn-delay CMD is started once more with the same
    sockets that many seconds after it exits. Writes one JSON line per message
    to LOG and the pid of CMD to PF; exits with CMD's (last) exit status.
keys LOG        the messages in order, one per line, as their sorted keys
                joined by "+" (STATUS left out), e.g. "RELOADING+MONOTONIC_USEC"
get LOG KEY     the values of KEY, one per line
reload LOG      check every MONOTONIC_USEC against the time its message came
watchdog LOG USEC   check the WATCHDOG=1 intervals (sd-event: 1/4..3/4 of USEC)
senders LOG     the distinct sender pids
echo HOST PORT SEQ [TIMEOUT]   send an Echo Request (raw bytes) and check the
                Echo Response with scapy; prints the monotonic time it came
"""
import json
import os
import select
import signal
import socket
import struct
import sys
import tempfile
import time

SCM_CREDENTIALS = 2


def mono():
    return time.clock_gettime(time.CLOCK_MONOTONIC)


def parse_endpoint(s):
    host, port = s.rsplit(":", 1)
    if host.startswith("["):
        return socket.AF_INET6, (host[1:-1], int(port))
    return socket.AF_INET, (host, int(port))


def run(argv):
    opts = {"watchdog-usec": None, "timeout": "30", "udp": [], "unix": None,
            "respawn-delay": None, "log": None, "pidfile": None}
    while argv and argv[0] != "--":
        k = argv.pop(0)[2:]
        if k == "udp":
            opts["udp"].append(argv.pop(0))
        else:
            opts[k] = argv.pop(0)
    cmd = argv[1:]
    tmp = tempfile.mkdtemp(prefix="notify.")
    path = os.path.join(tmp, "notify.sock")
    ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    ns.bind(path)
    os.chmod(tmp, 0o755)
    os.chmod(path, 0o777)   # tests may run the daemon as another user
    ns.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)

    held = []   # (socket, name) passed to the child, kept across restarts
    for ep in opts["udp"]:
        fam, addr = parse_endpoint(ep)
        s = socket.socket(fam, socket.SOCK_DGRAM)
        if fam == socket.AF_INET6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.bind(addr)
        held.append((s, "gtpu"))
    if opts["unix"]:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(opts["unix"])
        s.listen(16)
        held.append((s, "control"))

    log = open(opts["log"], "a", buffering=1)
    deadline = mono() + float(opts["timeout"])

    def record(obj):
        obj["t"] = mono()
        log.write(json.dumps(obj) + "\n")

    def spawn():
        pid = os.fork()
        if pid == 0:
            try:
                os.environ["NOTIFY_SOCKET"] = path
                if opts["watchdog-usec"]:
                    os.environ["WATCHDOG_USEC"] = opts["watchdog-usec"]
                    os.environ["WATCHDOG_PID"] = str(os.getpid())
                if held:
                    # Via fds out of the way, so no dup2 overwrites a source.
                    tmpfds = [os.dup2(s.fileno(), 100 + i) for i, (s, _) in enumerate(held)]
                    for i, fd in enumerate(tmpfds):
                        os.dup2(fd, 3 + i, inheritable=True)
                        os.close(fd)
                    os.environ["LISTEN_FDS"] = str(len(held))
                    os.environ["LISTEN_FDNAMES"] = ":".join(n for _, n in held)
                    os.environ["LISTEN_PID"] = str(os.getpid())
                os.execvp(cmd[0], cmd)
            except OSError as e:
                sys.stderr.write("notify_harness: cannot run %s: %s\n" % (cmd[0], e))
            os._exit(127)
        with open(opts["pidfile"], "w") as f:
            f.write("%d\n" % pid)
        record({"event": "spawn", "pid": pid})
        return pid

    def drain(timeout):
        r, _, _ = select.select([ns], [], [], timeout)
        if not r:
            return
        data, anc, _, _ = ns.recvmsg(4096, socket.CMSG_SPACE(12))
        pid = None
        for level, typ, cdata in anc:
            if level == socket.SOL_SOCKET and typ == SCM_CREDENTIALS:
                pid = struct.unpack("iII", cdata[:12])[0]
        fields = {}
        for line in data.decode(errors="replace").split("\n"):
            if "=" in line:
                k, v = line.split("=", 1)
                fields[k] = v
        record({"event": "notify", "pid": pid, "fields": fields, "raw": data.decode(errors="replace")})

    stop = []
    # Killed by the test's cleanup: take the command along.
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    respawns = 1 if opts["respawn-delay"] else 0
    pid = spawn()
    status = 0
    while True:
        drain(0.05)
        done, st = os.waitpid(pid, os.WNOHANG)
        if done == 0:
            if stop:
                os.kill(pid, signal.SIGKILL)
                respawns = 0
            elif mono() > deadline:
                record({"event": "timeout", "pid": pid})
                os.kill(pid, signal.SIGKILL)
            continue
        # Messages sent just before the exit are still queued: read them.
        while select.select([ns], [], [], 0.1)[0]:
            drain(0)
        status = os.waitstatus_to_exitcode(st)
        status = 128 - status if status < 0 else status
        record({"event": "exit", "pid": pid, "status": status})
        if respawns == 0:
            break
        respawns -= 1
        end = mono() + float(opts["respawn-delay"])
        while mono() < end and not stop:
            drain(end - mono())
        if stop:
            break
        pid = spawn()
    return status


def load(logfile):
    with open(logfile) as f:
        return [json.loads(line) for line in f if line.strip()]


def notes(logfile):
    return [e for e in load(logfile) if e["event"] == "notify"]


def cmd_keys(logfile):
    for e in notes(logfile):
        keys = sorted(k for k in e["fields"] if k != "STATUS")
        if keys:
            print("+".join(keys))
    return 0


def cmd_get(logfile, key):
    for e in notes(logfile):
        if key in e["fields"]:
            print(e["fields"][key])
    return 0


def cmd_status_after_reload(logfile):
    """After each RELOADING=1, a STATUS= with live figures again before the
    next reload or STOPPING=1 (not the reload's own text for 5 s)."""
    waiting = False
    for e in notes(logfile):
        f = e["fields"]
        if "RELOADING" in f or "STOPPING" in f:
            if waiting:
                print("no STATUS= between a reload and the next message that ends it")
                return 1
            waiting = "RELOADING" in f
        elif "STATUS" in f and any(c.isdigit() for c in f["STATUS"]):
            waiting = False
    if waiting:
        print("the last reload was not followed by a STATUS=")
    return 1 if waiting else 0


def cmd_reload(logfile):
    bad = 0
    seen = 0
    for e in notes(logfile):
        if "RELOADING" not in e["fields"]:
            continue
        seen += 1
        v = e["fields"].get("MONOTONIC_USEC")
        if v is None or not v.isdigit():
            print("# RELOADING=1 without a numeric MONOTONIC_USEC: %r" % e["raw"])
            bad += 1
            continue
        skew = e["t"] - int(v) / 1e6
        print("# MONOTONIC_USEC=%s, received %.3f s later" % (v, skew))
        if not 0 <= skew < 1.0:
            bad += 1
    return 0 if seen and not bad else 1


def cmd_watchdog(logfile, usec):
    period = int(usec) / 1e6
    events = load(logfile)
    start = next(e["t"] for e in events if e["event"] == "spawn")
    ts = [e["t"] for e in events if e["event"] == "notify" and e["fields"].get("WATCHDOG") == "1"]
    if not ts:
        print("# no WATCHDOG=1")
        return 1
    gaps = [b - a for a, b in zip([start] + ts, ts)]
    print("# %d WATCHDOG=1, gaps %s s (WATCHDOG_USEC %.3f s)" %
          (len(ts), " ".join("%.3f" % g for g in gaps), period))
    # The first gap includes start-up; every later one must lie within what
    # sd-event promises, with 250 ms of slack for a loaded test machine.
    slack = 0.25
    ok = gaps[0] <= period * 0.75 + slack + 1.0
    ok = ok and all(period / 4 - slack <= g <= period * 0.75 + slack for g in gaps[1:])
    return 0 if ok else 1


def cmd_senders(logfile):
    for p in sorted({e["pid"] for e in notes(logfile)}):
        print(p)
    return 0


def cmd_echo(host, port, seq, timeout="5"):
    from scapy.contrib.gtp import GTPHeader, GTPEchoResponse
    seq = int(seq, 0)
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.settimeout(float(timeout))
    # Version 1, PT 1, S=1; type 1 Echo Request; length 4; TEID 0.
    s.sendto(bytes([0x32, 1, 0, 4, 0, 0, 0, 0, seq >> 8, seq & 0xff, 0, 0]), (host, int(port)))
    try:
        data = s.recv(2048)
    except socket.timeout:
        print("# no answer to Echo Request %#x within %s s" % (seq, timeout))
        return 1
    t = mono()
    h = GTPHeader(data)
    print("# answer: type %d seq %#x, %d bytes" % (h.gtp_type, h.seq or 0, len(data)))
    print("%.6f" % t)
    return 0 if h.gtp_type == 2 and h.seq == seq and GTPEchoResponse in h else 1


def main():
    # Output piped into "grep -q" may be cut short: that is not an error.
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    if len(sys.argv) < 2:
        sys.stderr.write(__doc__)
        return 2
    c, args = sys.argv[1], sys.argv[2:]
    if c == "run":
        return run(args)
    table = {"keys": cmd_keys, "get": cmd_get, "reload": cmd_reload,
             "status-after-reload": cmd_status_after_reload,
             "watchdog": cmd_watchdog, "senders": cmd_senders, "echo": cmd_echo}
    if c not in table:
        sys.stderr.write(__doc__)
        return 2
    return table[c](*args)


if __name__ == "__main__":
    sys.exit(main())
