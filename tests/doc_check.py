#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The man pages against the code, both ways: every option, configuration
key, gtpuctl command, table column, JSON key, drop reason, metric and event
that the code has is in the man pages, and every one the man pages name is
in the code; every log line is in gtpud(8). The names are taken from the
code mechanically (option tables, key lists, command tables, the JSON keys
written, the drop reason names, the metric names, the event names, the log
calls' formats), so that adding one without documenting it fails here.
Prints TAP. Usage: doc_check.py TOP_SRCDIR"""
import glob
import os
import re
import sys

top = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
n = 0
failed = 0


def read(path):
    with open(os.path.join(top, path), encoding="utf-8") as f:
        return f.read()


def section(page, name, upto=None):
    """The text of .SH name (or .SS name) up to the next .SH."""
    m = re.search(r"^\.S[HS] \"?%s\"?\s*$" % re.escape(name), page, re.M)
    if not m:
        return ""
    rest = page[m.end():]
    e = re.search(r"^\.SH ", rest, re.M)
    return rest[:e.start()] if e else rest


def roff_plain(text):
    """Roff escapes and font changes out: \\- is -, \\fB and the like go."""
    text = re.sub(r"\\f[BIRP]", "", text)
    text = text.replace("\\-", "-").replace("\\(dq", '"').replace("\\&", "")
    return text


def compare(what, code, doc, code_where, doc_where):
    """Two TAP lines: code in the pages, pages in the code."""
    global n, failed
    for name, a, b, where in (("in %s" % doc_where, code, doc, code_where),
                              ("in the code (%s)" % code_where, doc, code, doc_where)):
        n += 1
        missing = sorted(a - b)
        if not a:
            print("not ok %d - %s: none found in %s (the check cannot see them)" % (n, what, where))
            failed += 1
        elif missing:
            print("not ok %d - every %s %s" % (n, what, name))
            print("# missing: %s" % ", ".join(missing))
            failed += 1
        else:
            print("ok %d - every %s %s (%d)" % (n, what, name, len(a)))


def c_sources():
    return {p: read(p) for p in sorted(glob.glob("src/*.c", root_dir=top))}


src = c_sources()
gtpud8 = read("man/gtpud.8")
gtpuctl8 = read("man/gtpuctl.8")
conf5 = read("man/gtpud.conf.5")


def long_options(code):
    m = re.search(r"struct option longopts\[\] = \{(.*?)\n\s*\};", code, re.S)
    return set(re.findall(r'\{ "([a-z-]+)",', m.group(1))) if m else set()


def doc_options(page):
    """The options each entry of OPTIONS is about (its tag line)."""
    tags = re.findall(r"^\.TP\n(\.B[IR]? .*)$", section(page, "OPTIONS"), re.M)
    return set(re.findall(r"--([a-z][a-z-]+)", roff_plain("\n".join(tags))))


# 1. Options.
compare("gtpud option", long_options(src["src/gtpud.c"]), doc_options(gtpud8), "src/gtpud.c",
        "gtpud(8) OPTIONS")
compare("gtpuctl option", long_options(src["src/gtpuctl.c"]), doc_options(gtpuctl8), "src/gtpuctl.c",
        "gtpuctl(8) OPTIONS")

# 2. Configuration keys: every list of allowed keys in the loader.
code_keys = set()
for path, text in src.items():
    if not os.path.basename(path).startswith("conf"):
        continue
    for body in re.findall(r"static const char \*const \w*keys\[\] = \{(.*?)\};", text, re.S):
        code_keys |= set(re.findall(r'"([a-z_0-9]+)"', body))
keys_sec = section(conf5, "TOP-LEVEL KEYS")
doc_keys = set(re.findall(r"^\.TP\n\.B ([a-z_0-9]+)\s*$", keys_sec, re.M))
compare("configuration key", code_keys, doc_keys, "src/conf*.c key lists", "gtpud.conf(5) TOP-LEVEL KEYS")

# 3. gtpuctl commands: gtpuctl's table and the daemon's.
ctl = src["src/gtpuctl.c"]
m = re.search(r"\} cmds\[\] = \{(.*?)\};", ctl, re.S)
cmds = set(re.findall(r'\{ "([a-z ]+)", \d+, \d+ \}', m.group(1))) if m else set()
cmds |= set(re.findall(r'return [^;]*"(tunnel (?:add|del))"', ctl))
m = re.search(r"const struct ctl_cmd ctl_cmds\[\] = \{(.*?)\};", src["src/ctl_cmds.c"], re.S)
daemon_cmds = set(re.findall(r'\{ "([a-z ]+)",', m.group(1))) if m else set()
daemon_cmds.add("monitor")   # the transport's own (ctl.h)
doc_cmds = set()
for line in re.findall(r"^\.TP\n(\.BI? .*)$", section(gtpuctl8, "COMMANDS"), re.M):
    words = re.findall(r"[A-Za-z][A-Za-z-]*", roff_plain(line.split(" ", 1)[1]))
    if words and words[0].islower():
        doc_cmds.add(" ".join(words[:2]) if words[0] == "tunnel" else words[0])
compare("gtpuctl command", cmds, doc_cmds, "src/gtpuctl.c", "gtpuctl(8) COMMANDS")
compare("command of the control socket", daemon_cmds, doc_cmds, "src/ctl_cmds.c ctl_cmds[]",
        "gtpuctl(8) COMMANDS")

# 4. Table columns of gtpuctl.
cols = set()
for hdr in re.findall(r"struct table t = \{ \d+, \{([^}]*)\}", ctl):
    cols |= set(re.findall(r'"([A-Z-]+)"', hdr))
doc_cols = set()
for line in re.findall(r"^\.TP(?: \d+)?\n\.B (.*)$", section(gtpuctl8, "COMMANDS"), re.M):
    doc_cols |= {w for w in re.findall(r"[A-Z][A-Z-]+", roff_plain(line)) if w.isupper()}
compare("table column", cols, doc_cols, "src/gtpuctl.c tables", "gtpuctl(8) COMMANDS")

# 5. Counters and other JSON keys of the replies.
# The replies' data (ctl_cmds.c) in JSON OUTPUT and COMMANDS; the request
# and reply themselves (ctl_proto.c) in PROTOCOL.
json_keys = set(re.findall(r'(?:ADD|json_object_object_add)\(\*?\w+, "([a-z_0-9]+)"',
                           src["src/ctl_cmds.c"] + src["src/pfcp.c"]))
proto_keys = set(re.findall(r'(?:add|add_strings|json_object_object_add|json_object_object_get_ex)\(\w+, "([a-z_]+)"',
                            src["src/ctl_proto.c"]))
doc_json = set(re.findall(r'"([a-z_0-9]+)":', roff_plain(section(gtpuctl8, "JSON OUTPUT") +
                                                         section(gtpuctl8, "COMMANDS"))))
doc_proto = set(re.findall(r'"([a-z_]+)":', roff_plain(section(gtpuctl8, "PROTOCOL"))))
doc_proto |= set(re.findall(r"^\.B (event|time)$", section(gtpuctl8, "EVENTS"), re.M))
# Each section shows the other's keys in its examples: those are the other's to check.
compare("JSON key of a reply's data", json_keys, doc_json - (proto_keys - json_keys), "src/ctl_cmds.c",
        "gtpuctl(8) JSON OUTPUT, COMMANDS")
compare("key of the control protocol", proto_keys, doc_proto - (json_keys - proto_keys), "src/ctl_proto.c",
        "gtpuctl(8) PROTOCOL, EVENTS")

# 6. Drop reasons.
m = re.search(r"const char \*drop_reason_name\(enum drop_reason r\)\n\{(.*?)\n\}", src["src/dp_setup.c"], re.S)
drops = set(re.findall(r'case \w+: return "([a-z_]+)";', m.group(1))) if m else set()
doc_drops = set(re.findall(r"^\.TP(?: \d+)?\n\.B ([a-z_]+)\s*$", section(gtpud8, "Drop reasons"), re.M))
compare("drop reason", drops, doc_drops, "drop_reason_name()", "gtpud(8) Drop reasons")

# 7. Metrics: every family in the code is in gtpuctl(8) METRICS; every
# gtpud_ name any page mentions exists.
metrics = set(re.findall(r'"(gtpud_[a-z_]+)', src["src/metrics.c"]))
metrics |= set(re.findall(r'(gtpud_pfcp_[a-z_]+)', src["src/pfcp.c"]))   # PFCP's own families
# Names the pages give as former ones (renamed families), and prefixes.
FORMER = {"gtpud_rx_packets_total", "gtpud_rx_bytes_total", "gtpud_tx_packets_total", "gtpud_tx_bytes_total"}
doc_metrics = {m for m in re.findall(r"(gtpud_[a-z_]+)", roff_plain(section(gtpuctl8, "METRICS")))
               if m not in FORMER and not m.endswith("_")}
all_doc_metrics = set(re.findall(r"(gtpud_[a-z_]+)", roff_plain(gtpud8 + gtpuctl8 + conf5)))
compare("metric", metrics, doc_metrics, "src/metrics.c", "gtpuctl(8) METRICS")
n += 1
stale = sorted(m for m in all_doc_metrics - metrics - FORMER if not m.endswith("_"))
if stale:
    failed += 1
    print("not ok %d - every metric a man page names exists\n# missing in the code: %s" % (n, ", ".join(stale)))
else:
    print("ok %d - every metric a man page names exists (%d)" % (n, len(all_doc_metrics)))

# 8. Monitor events.
events = set(re.findall(r'#define CTL_EV_\w+ "([a-z_]+)"', read("src/ctl_proto.h")))
doc_events = set()
for line in re.findall(r"^\.TP\n\.B (.*)$", section(gtpuctl8, "EVENTS"), re.M):
    doc_events |= set(re.findall(r"[a-z_]+", roff_plain(line)))
compare("monitor event", events, doc_events, "src/ctl_proto.h CTL_EV_", "gtpuctl(8) EVENTS")

# 9. Log lines: the words of every message gtpud logs (its format's text
# between the conversions) are in gtpud(8) DIAGNOSTICS. Configuration
# errors have gtpud.conf(5) instead, and go through log_err("%s").
def formats(text):
    """The format strings of the log calls of text, adjacent literals and
    PRI macros joined."""
    call = re.compile(r'\blog_(?:err|warn|notice|info|debug)\s*\(|\blog_ratelimited\s*\(\s*LOG_LVL_\w+\s*,')
    tok = re.compile(r'\s*(?:"((?:[^"\\]|\\.)*)"|(PRI[a-zA-Z0-9]+))')
    for m in call.finditer(text):
        pos, fmt = m.end(), ""
        while True:
            t = tok.match(text, pos)
            if not t:
                break
            fmt += t.group(1) if t.group(1) is not None else "llu"
            pos = t.end()
        if fmt:
            yield fmt


diag = re.sub(r"\s+", " ", roff_plain(section(gtpud8, "DIAGNOSTICS")).replace("\\(em", "-"))
n += 1
undocumented = []
for path, text in src.items():
    for fmt in formats(text):
        words = [w.strip() for w in re.split(r'%[-+ #0-9.*]*(?:hh|h|ll|l|z|j|t)?[sdiuxXcfgeEp]|\\"', fmt)]
        if any(len(w) >= 6 and w not in diag for w in words):
            undocumented.append("%s: \"%s\"" % (path, fmt))
if undocumented:
    failed += 1
    print("not ok %d - every log line is in gtpud(8) DIAGNOSTICS" % n)
    for u in undocumented:
        print("# missing: %s" % u)
else:
    print("ok %d - every log line is in gtpud(8) DIAGNOSTICS" % n)

print("1..%d" % n)
sys.exit(0)
