#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
# A GTP-U peer for system tests, built on scapy (an independent GTP-U
# implementation): packets are crafted by scapy and what arrives is decoded
# by scapy, so gtpud's own codec never checks itself. Sends through kernel
# UDP sockets (IPv6 with IPV6_V6ONLY so it shares port 2152 with IPv4).
#
#   peer.py listen --addr A [--port 2152] --duration S --out FILE
#   peer.py send --bind A [--port 2152] --dst D [--dport 2152] (--pkt EXPR | --hex HEX)
#                [--count N] [--rate PPS] [--wait S --out FILE]
#
# EXPR is a scapy expression, e.g. "GTP_U_Header(teid=0x100)/Raw(b'x')";
# {i} in it is replaced by the packet number. Every datagram received is
# written to FILE as one JSON object per line.
import argparse
import json
import socket
import sys
import time

from scapy.all import Raw, IP, IPv6, UDP, TCP, ICMP  # noqa: F401 (used by EXPR)
from scapy.contrib.gtp import (  # noqa: F401
    GTP_U_Header, GTPPDUSessionContainer, GTPEchoRequest, GTPEchoResponse,
    GTPErrorIndication, GTPSupportedExtensionHeadersNotification,
    IE_Recovery, IE_TEIDI, IE_GSNAddress, IE_ExtensionHeaderList,
    IE_PrivateExtension)


def make_sock(addr, port):
    fam = socket.AF_INET6 if ':' in addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if fam == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    s.bind((addr, port))
    return s


def decode(data, src):
    d = {'src': src[0], 'sport': src[1], 'len': len(data), 'hex': data.hex()}
    try:
        h = GTP_U_Header(data)
    except Exception as e:  # scapy could not decode it: the test says so
        d['error'] = str(e)
        return d
    d.update(version=h.version, PT=h.PT, E=h.E, S=h.S, PN=h.PN,
             type=h.gtp_type, length=h.length, teid=h.teid)
    if h.E or h.S or h.PN:
        d['seq'] = h.seq
        d['next_ex'] = h.next_ex
    exts = []
    layer = h.payload
    while type(layer).__name__.endswith('ExtensionHeader') \
            or isinstance(layer, GTPPDUSessionContainer):
        if isinstance(layer, GTPPDUSessionContainer):
            exts.append({'type': 0x85, 'qfi': layer.QFI, 'pdu_type': layer.type})
        elif type(layer).__name__ == 'GTP_UDPPort_ExtensionHeader':
            exts.append({'type': 0x40, 'udp_port': layer.udp_port})
        else:
            exts.append({'type': type(layer).__name__})
        layer = layer.payload
    d['ext'] = exts
    # After an extension header scapy leaves signalling IEs undecoded.
    if isinstance(layer, Raw) and h.gtp_type in (1, 2, 26, 31):
        cls = {1: GTPEchoRequest, 2: GTPEchoResponse, 26: GTPErrorIndication,
               31: GTPSupportedExtensionHeadersNotification}[h.gtp_type]
        layer = cls(bytes(layer))
    if h.gtp_type == 255 or h.gtp_type == 254:
        d['payload'] = bytes(layer).hex()
    ies = {}
    for ie in getattr(layer, 'IE_list', []) or []:
        name = type(ie).__name__
        if name == 'IE_Recovery':
            ies['recovery'] = ie.restart_counter
        elif name == 'IE_TEIDI':
            ies['teid_data'] = ie.TEIDI
        elif name == 'IE_GSNAddress':
            ies['peer_addr'] = ie.ipv4_address if ie.length == 4 else ie.ipv6_address
        elif name == 'IE_ExtensionHeaderList':
            ies['ext_types'] = list(ie.extension_headers)
        else:
            ies.setdefault('other', []).append(name)
    if ies:
        d['ies'] = ies
    d['summary'] = h.summary()
    return d


def record(socks, duration, out):
    end = time.time() + duration
    n = 0
    with open(out, 'a') as f:
        while True:
            left = end - time.time()
            if left <= 0:
                break
            for s in socks:
                s.settimeout(min(left, 0.05))
                try:
                    data, src = s.recvfrom(65535)
                except (socket.timeout, BlockingIOError):
                    continue
                f.write(json.dumps(decode(data, src)) + '\n')
                f.flush()
                n += 1
    return n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('cmd', choices=['listen', 'send'])
    ap.add_argument('--addr', action='append', default=[])
    ap.add_argument('--bind')
    ap.add_argument('--port', type=int, default=2152)
    ap.add_argument('--dst')
    ap.add_argument('--dport', type=int, default=2152)
    ap.add_argument('--pkt')
    ap.add_argument('--hex')
    ap.add_argument('--count', type=int, default=1)
    ap.add_argument('--rate', type=float, default=0)
    ap.add_argument('--duration', type=float, default=1)
    ap.add_argument('--wait', type=float, default=0)
    ap.add_argument('--out')
    ap.add_argument('--ready')
    a = ap.parse_args()
    if a.cmd == 'listen':
        socks = [make_sock(x, a.port) for x in a.addr]
        if a.ready:
            open(a.ready, 'w').close()
        record(socks, a.duration, a.out)
        return 0
    s = make_sock(a.bind, a.port)
    if a.hex:
        pkts = [bytes.fromhex(a.hex)] * a.count
    else:
        pkts = [bytes(eval(a.pkt.replace('{i}', str(i)))) for i in range(a.count)]
    t0 = time.time()
    for i, p in enumerate(pkts):
        if a.rate:
            delay = t0 + i / a.rate - time.time()
            if delay > 0:
                time.sleep(delay)
        s.sendto(p, (a.dst, a.dport))
    if a.wait:
        record([s], a.wait, a.out)
    return 0


if __name__ == '__main__':
    sys.exit(main())
