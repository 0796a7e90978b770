#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
# The tunnel table under a control plane's load (issue targets): single
# changes per second over one control connection (add and del alternating),
# a batch of 100,000 adds and its deletion, 65,536 runtime tunnels added one
# request at a time, memory per tunnel, and a restart with 100,000 runtime
# tunnels, each with 1 and with 1,000,000 tunnels resident from the file,
# in one run. Rounds: medians. Control socket only: no traffic, loopback.
#
#   tunnels.py [--rounds N] [--resident N] [--single N] [--batch N]
import argparse, json, os, shutil, signal, socket, statistics, subprocess, sys, tempfile, time

GTPUD = os.environ.get("GTPUD", "src/gtpud")
HERE = os.path.dirname(os.path.abspath(__file__))


def conf(path, n, sock, state, port):
    with open(path, "w") as f:
        w = f.write
        w('listen = [ "127.0.0.1:%d" ];\n' % port)
        w('control = { path = "%s"; };\n' % sock)
        w('state_directory = "%s";\n' % state)
        w('max_runtime_tunnels = 1000000;\n')
        w('echo = { interval = 0; };\n')
        w('peers = ( { name = "p0"; address = "192.0.2.1"; }, { name = "p1"; address = "192.0.2.2"; } );\n')
        w('tunnels = (\n')
        w(",\n".join('  { name = "t%d"; from = { peer = "p%d"; teid = %d; }; to = { peer = "p%d"; teid = %d; }; }'
                     % (i, i % 2, i + 1, (i + 1) % 2, 0x80000000 + i) for i in range(n)))
        w('\n);\n')


class Ctl:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX)
        self.s.connect(path)
        self.f = self.s.makefile("rb")

    def pipeline(self, reqs, window):
        """Send reqs (request lines) with up to window of them unanswered."""
        sent = done = 0
        while done < len(reqs):
            while sent < len(reqs) and sent - done < window:
                self.s.sendall(reqs[sent])
                sent += 1
            r = json.loads(self.f.readline())
            if r["result"] != 0:
                raise RuntimeError("%s %s" % (r.get("error"), r.get("errors")))
            done += 1

    def req(self, cmd, args=None, batch=None):
        o = {"version": 1, "command": cmd, "args": args or []}
        if batch is not None:
            o["batch"] = batch
        self.s.sendall(json.dumps(o).encode() + b"\n")
        r = json.loads(self.f.readline())
        if r["result"] != 0:
            raise RuntimeError("%s: %s %s" % (cmd, r.get("error"), r.get("errors")))
        return r.get("data")


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for l in f:
            if l.startswith("VmRSS:"):
                return int(l.split()[1])


def start(cf, sock):
    p = subprocess.Popen([GTPUD, "-c", cf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t0 = time.monotonic()
    while True:
        try:
            c = Ctl(sock)
            c.req("status")
            return p, c, time.monotonic() - t0
        except (OSError, ValueError):
            if p.poll() is not None or time.monotonic() - t0 > 120:
                raise RuntimeError("gtpud did not start")
            time.sleep(0.02)


def stop(p):
    p.send_signal(signal.SIGTERM)
    p.wait(30)


def line(i, base):
    return "r%d from p0 %d to p1 %d" % (i, base + i, base + i)


def r_base(rnd, w):
    """TEIDs of their own for each round and window."""
    return rnd * 0x100000 + (0x80000 if w == 1 else 0)


def rq(cmd, args):
    return json.dumps({"version": 1, "command": cmd, "args": args}).encode() + b"\n"


def measure(n_res, a, tmp, port):
    cf, sock, state = os.path.join(tmp, "g%d.conf" % n_res), os.path.join(tmp, "c.sock"), os.path.join(tmp, "st")
    shutil.rmtree(state, ignore_errors=True)
    os.mkdir(state)
    conf(cf, n_res, sock, state, port)
    p, c, load = start(cf, sock)
    res = {"resident": n_res, "load_s": load, "rss_kib": rss_kib(p.pid)}
    single, single1, batch_add, batch_del = [], [], [], []
    for r in range(a.rounds):
        # Single changes: pipelined (64 requests in flight), and one at a
        # time (then the round trip between two processes bounds the rate).
        for w, out, n in ((64, single, a.single), (1, single1, 4000)):
            cp = subprocess.run([os.path.join(tmp, "ctlrt"), "-s", sock, "-n", str(n), "-w", str(w),
                                 "-b", str(0x70000000 + r_base(r, w))], capture_output=True, text=True, check=True)
            out.append(json.loads(cp.stdout)["per_s"])
        lines = [line(i, 0x10000000) for i in range(a.batch)]
        t0 = time.monotonic()
        c.req("tunnel add", batch=lines)
        batch_add.append(time.monotonic() - t0)
        if r == 0:
            time.sleep(0.2)
            res["rss_batch_kib"] = rss_kib(p.pid)
        t0 = time.monotonic()
        c.req("tunnel del", batch=["r%d" % i for i in range(a.batch)])
        batch_del.append(time.monotonic() - t0)
    res["single_per_s"] = statistics.median(single)
    res["single1_per_s"] = statistics.median(single1)
    res["batch_add_s"] = statistics.median(batch_add)
    res["batch_del_s"] = statistics.median(batch_del)
    # 65,536 runtime tunnels, one request each, one connection: one at a
    # time, then (after deleting them) pipelined.
    for w, k in ((1, "add_65536_1_s"), (64, "add_65536_s")):
        cp = subprocess.run([os.path.join(tmp, "ctlrt"), "-s", sock, "-a", "-n", "65536", "-w", str(w),
                             "-b", str(0x20000000)], capture_output=True, text=True, check=True)
        res[k] = json.loads(cp.stdout)["seconds"]
        if w == 1:
            c.req("tunnel del", batch=["c%d" % i for i in range(65536)])
    # Up to 100,000 runtime tunnels, then a restart.
    c.req("tunnel add", batch=[line(i, 0x30000000) for i in range(100000 - 65536)])   # and the c0..c65535
    time.sleep(1.5)
    st = c.req("status")
    res["state_write_ms"] = st["state_file"]["last_write_us"] / 1000
    res["runtime_before"] = st["runtime_tunnels"]
    stop(p)
    p, c, load = start(cf, sock)
    res["restart_s"] = load
    res["runtime_after"] = c.req("status")["runtime_tunnels"]
    res["rss_100k_runtime_kib"] = rss_kib(p.pid)
    stop(p)
    return res


def build_tools(tmp):
    for t in ("gen", "sink", "ctlrt"):
        subprocess.check_call(["cc", "-std=gnu11", "-O2", "-o", os.path.join(tmp, t), os.path.join(HERE, t + ".c")])


def zero_loss(a, tmp, port):
    """A 50 kpps stream through a tunnel nobody touches, while 100,000
    changes (adds and deletes, 64 in flight) are applied to others."""
    sink_port = port + 1
    cf, sock, state = os.path.join(tmp, "z.conf"), os.path.join(tmp, "c.sock"), os.path.join(tmp, "st")
    shutil.rmtree(state, ignore_errors=True)
    os.mkdir(state)
    with open(cf, "w") as f:
        f.write('listen = [ "127.0.0.1:%d" ];\ncontrol = { path = "%s"; };\nstate_directory = "%s";\n'
                'echo = { interval = 0; };\n'
                'peers = ( { name = "p0"; address = "127.0.0.1"; }, { name = "p1"; address = "127.0.0.2"; port = %d; } );\n'
                'tunnels = ( { name = "stream"; from = { peer = "p0"; teid = 0x100; }; to = { peer = "p1"; teid = 0x1100; }; } );\n'
                % (port, sock, state, sink_port))
    p, c, _ = start(cf, sock)
    reqs = []
    for i in range(a.changes // 2):
        reqs.append(rq("tunnel add", ["z%d" % i, "from", "p0", str(0x50000000 + i), "to", "p1", str(0x50000000 + i)]))
        reqs.append(rq("tunnel del", ["z%d" % i]))
    out = []
    try:
        for r in range(a.rounds):
            sink = subprocess.Popen([os.path.join(tmp, "sink"), "-a", "127.0.0.2", "-p", str(sink_port), "-o", "0x1000"],
                                    stdout=subprocess.PIPE, text=True)
            sink.stdout.readline()   # ready
            before = c.req("stats")
            gen = subprocess.Popen([os.path.join(tmp, "gen"), "-d", "127.0.0.1:%d" % port, "-s", "127.0.0.1:%d" % (port + 2),
                                    "-r", "50000", "-l", "64", "-b", "0x100", "-t", "4"], stdout=subprocess.PIPE, text=True)
            time.sleep(0.5)
            t0 = time.monotonic()
            c.pipeline(reqs, 64)
            took = time.monotonic() - t0
            g = json.loads(gen.stdout.read().strip().splitlines()[-1])
            gen.wait()
            time.sleep(0.3)
            sink.send_signal(signal.SIGINT)
            k = json.loads(sink.stdout.read().strip().splitlines()[-1])
            after = c.req("stats")
            out.append({"sent": g["sent"], "received": k["unique"], "teid_bad": k["teid_bad"],
                        "forwarded": after["forwarded"] - before["forwarded"],
                        "dropped": after["dropped"] - before["dropped"], "changes_s": took})
    finally:
        stop(p)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--resident", type=int, default=1000000)
    ap.add_argument("--single", type=int, default=20000)
    ap.add_argument("--batch", type=int, default=100000)
    ap.add_argument("--changes", type=int, default=100000)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="gtpud-bench.")
    port = 30000 + os.getpid() % 20000
    try:
        build_tools(tmp)
        loss = zero_loss(a, tmp, port)
        small = measure(1, a, tmp, port)
        big = measure(a.resident, a, tmp, port)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    per_tunnel = (big["rss_kib"] - small["rss_kib"]) * 1024 / (a.resident - 1)
    per_runtime = (small["rss_batch_kib"] - small["rss_kib"]) * 1024 / a.batch
    print("tunnel table, %d rounds, medians" % a.rounds)
    print("%-48s %14s %14s %8s" % ("", "1 resident", "%d resident" % a.resident, "ratio"))
    # Single changes: tests/bench/ctlrt.c, add and del alternating over one connection.
    for k, what, unit in (("single_per_s", "single changes/s, 64 in flight", ""),
                          ("single1_per_s", "single changes/s, one at a time", ""),
                          ("batch_add_s", "batch of %d adds, s" % a.batch, ""),
                          ("batch_del_s", "batch of %d dels, s" % a.batch, ""),
                          ("add_65536_s", "65,536 adds one request each, 64 in flight, s", ""),
                          ("add_65536_1_s", "65,536 adds one request each, one at a time, s", ""),
                          ("state_write_ms", "state file write at 100k runtime, ms", ""),
                          ("restart_s", "restart with 100k runtime (+ file), s", ""),
                          ("load_s", "start-up, s", "")):
        s, b = small[k], big[k]
        ratio = (s / b) if k.startswith("single") else (b / s if s else 0)
        print("%-48s %14.3f %14.3f %8.2f" % (what, s, b, ratio))
    print("runtime tunnels before/after restart: %d/%d (1 resident), %d/%d (%d resident)"
          % (small["runtime_before"], small["runtime_after"], big["runtime_before"], big["runtime_after"], a.resident))
    print("memory per file tunnel: %.0f B; per runtime tunnel (batch): %.0f B" % (per_tunnel, per_runtime))
    checks = [
        ("20,000 single changes/s with 1,000,000 resident (64 in flight)", big["single_per_s"] >= 20000),
        ("20,000 single changes/s with 1,000,000 resident (one at a time)", big["single1_per_s"] >= 20000),
        ("a batch of 100,000 adds in at most 2 s", big["batch_add_s"] <= 2),
        ("flat: 1 resident within 1.5x", big["single_per_s"] * 1.5 >= small["single_per_s"] and
         big["batch_add_s"] <= 1.5 * small["batch_add_s"]),
        ("65,536 adds one request each in at most 10 s (one at a time)", small["add_65536_1_s"] <= 10),
        ("memory per tunnel at most 128 B", per_tunnel <= 128),
        ("restart: every runtime tunnel back", small["runtime_after"] == small["runtime_before"] and
         big["runtime_after"] == big["runtime_before"]),
    ]
    for r in loss:
        print("stream of 50 kpps while %d changes were applied (%.2f s): sent %d, received %d, lost %d, "
              "wrong TEID %d, gtpud dropped %d" % (a.changes, r["changes_s"], r["sent"], r["received"],
                                                   r["sent"] - r["received"], r["teid_bad"], r["dropped"]))
    checks.append(("a 50 kpps stream loses nothing while 100,000 changes are applied",
                   all(r["sent"] == r["received"] and not r["teid_bad"] for r in loss)))
    for what, ok in checks:
        print("target %-70s %s" % (what, "met" if ok else "NOT met"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
