#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
# Write a gtpud.conf with N relay tunnels (and optionally endpoint tunnels with
# ue addresses) to measure how long the loader takes and how much memory it uses.
import argparse
import sys


def main():
    ap = argparse.ArgumentParser(description="generate a large gtpud.conf")
    ap.add_argument("-n", "--tunnels", type=int, default=1000000)
    ap.add_argument("-p", "--peers", type=int, default=2,
                    help="peers, tunnels spread over them (at least 2)")
    ap.add_argument("--ue", action="store_true",
                    help="make every tunnel an endpoint with one IPv4 ue address (adds tun)")
    ap.add_argument("-o", "--output", default="-")
    a = ap.parse_args()
    if a.peers < 2 or a.peers > 4096 or a.tunnels < 0 or a.tunnels > (1 << 24):
        ap.error("peers must be 2..4096 and tunnels 0..16777216")

    out = sys.stdout if a.output == "-" else open(a.output, "w")
    w = out.write
    w('listen = [ "127.0.0.1:2152" ];\n')
    w('control = { path = "/tmp/gtpud-gen.sock"; };\n')
    w("peers = (\n")
    for i in range(a.peers):
        sep = "," if i + 1 < a.peers else ""
        w('  { name = "p%d"; address = "192.0.2.%d"; }%s\n' % (i, 1 + i % 250, sep))
    w(");\n")
    if a.ue:
        w('tun = { name = "gtp0"; addresses = [ "10.0.0.1/8" ]; };\n')
    w("tunnels = (\n")
    chunk = []
    for i in range(a.tunnels):
        src = i % a.peers
        dst = (i + 1) % a.peers
        ue = ""
        if a.ue:
            n = i + 2
            ue = ' ue = [ "10.%d.%d.%d" ];' % ((n >> 16) & 255, (n >> 8) & 255, n & 255)
        sep = "," if i + 1 < a.tunnels else ""
        chunk.append('  { name = "t%d"; from = { peer = "p%d"; teid = %d; }; '
                     'to = { peer = "p%d"; teid = %d; };%s }%s\n'
                     % (i, src, i + 1, dst, 0x80000000 + i, ue, sep))
        if len(chunk) >= 10000:
            w("".join(chunk))
            chunk = []
    w("".join(chunk))
    w(");\n")
    if out is not sys.stdout:
        out.close()


if __name__ == "__main__":
    main()
