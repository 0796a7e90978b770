#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
# A GTP-U peer for system tests, built on scapy (an independent GTP-U
# implementation): packets are crafted by scapy and what arrives is decoded
# by scapy, so gtpud's own codec never checks itself. Sends through kernel
# UDP sockets (IPv6 with IPV6_V6ONLY so it shares port 2152 with IPv4).
#
#   peer.py listen --addr A [--addr B] [--port 2152] --duration S --out FILE
#                  [--ready FILE] [--raw] [--summary]
#   peer.py send --bind A [--port P] --dst D [--dport 2152]
#                (--pkt EXPR | --hex HEX)... [--count N] [--rate PPS]
#                [--dump FILE] [--report FILE] [--wait S --out FILE]
#   peer.py eval --in FILE EXPR
#
# EXPR is a scapy expression, e.g. "GTP_U_Header(gtp_type=255, teid=0x100)/Raw(b'x')";
# {i} in it is replaced by the packet number. --pkt and --hex may be
# repeated: each message is sent --count times (the --hex ones first, then
# the --pkt ones, each in the order given). Every datagram
# received is written to FILE as one JSON object per line (--raw: without
# the scapy decoding, for high rates; --summary: only one line at the end,
# {"count": N, "teids": {TEID: N}}). --dump writes each message sent as
# {"hex": ...}; --report writes {"sent": N, "seconds": S, "pps": R}.
# eval prints the value of a Python expression over rs, the list of records
# of FILE (for example "sum(1 for r in rs if r['teid'] == 0x200)").
# scapy is imported only when a packet is crafted or decoded, so raw sends
# and eval start in a few milliseconds.
import argparse
import json
import select
import signal
import socket
import struct
import sys
import time

_SCAPY = None


def scapy_ns():
    """The names a packet expression may use (imported on first use)."""
    global _SCAPY
    if _SCAPY is None:
        import scapy.all as sa
        import scapy.contrib.gtp as gtp
        _SCAPY = {}
        for mod in (sa, gtp):
            _SCAPY.update({k: getattr(mod, k) for k in dir(mod) if not k.startswith('_')})
    return _SCAPY


def make_sock(addr, port):
    fam = socket.AF_INET6 if ':' in addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if fam == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    try:  # as root, above net.core.rmem_max: 10 kpps for seconds
        s.setsockopt(socket.SOL_SOCKET, 33, 16 << 20)  # SO_RCVBUFFORCE
    except OSError:
        pass
    s.bind((addr, port))
    return s


def ext_type_list(data):
    """The Extension Header Type List IE of a Notification, or None.

    scapy 2.5 reads its Length as two octets; TS 29.281 8.5 gives it one, so
    this IE is decoded here: after the header and any extension headers."""
    try:
        off = 8
        if data[0] & 7:
            off = 12
            nxt = data[11] if data[0] & 4 else 0
            while nxt:
                off += data[off] * 4
                nxt = data[off - 1]
        while off < len(data):
            t = data[off]
            if t == 141:
                return list(data[off + 2:off + 2 + data[off + 1]])
            off += 2 if t == 14 else 5 if t == 16 else 3 + int.from_bytes(data[off + 1:off + 3], 'big')
    except IndexError:
        pass
    return None


def decode(data, src):
    d = {'src': src[0], 'sport': src[1], 'len': len(data), 'hex': data.hex()}
    ns = scapy_ns()
    GTP_U_Header, Raw = ns['GTP_U_Header'], ns['Raw']
    GTPPDUSessionContainer = ns['GTPPDUSessionContainer']
    try:
        h = GTP_U_Header(data)
    except Exception as e:  # scapy could not decode it: the test says so
        d['error'] = str(e)
        return d
    d.update(version=h.version, PT=h.PT, E=h.E, S=h.S, PN=h.PN,
             type=h.gtp_type, length=h.length, teid=h.teid)
    if h.E or h.S or h.PN:
        d['seq'] = h.seq
        d['npdu'] = h.npdu
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
        cls = {1: ns['GTPEchoRequest'], 2: ns['GTPEchoResponse'],
               26: ns['GTPErrorIndication'],
               31: ns['GTPSupportedExtensionHeadersNotification']}[h.gtp_type]
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
            pass  # see ext_type_list
        else:
            ies.setdefault('other', []).append(name)
    if h.gtp_type == 31:
        types = ext_type_list(data)
        if types is not None:
            ies['ext_types'] = types
    if ies:
        d['ies'] = ies
    d['summary'] = h.summary()
    return d


STOP = []


def _stop(*_):
    STOP.append(1)  # checked between datagrams: no line is cut short


def record(socks, duration, out, raw=False, summary=False):
    """Write what arrives on socks for duration seconds (or until SIGTERM)."""
    end = time.time() + duration
    n = 0
    teids = {}
    f = open(out, 'a')
    signal.signal(signal.SIGTERM, _stop)
    while not STOP:
        left = end - time.time()
        if left <= 0:
            break
        ready, _, _ = select.select(socks, [], [], min(left, 0.2))
        for s in ready:
            try:
                data, src = s.recvfrom(65535, socket.MSG_DONTWAIT)
            except BlockingIOError:
                continue
            n += 1
            if summary:
                if len(data) >= 8:
                    t = struct.unpack('!I', data[4:8])[0]
                    teids[t] = teids.get(t, 0) + 1
                continue
            d = ({'src': src[0], 'sport': src[1], 'len': len(data), 'hex': data.hex()}
                 if raw else decode(data, src))
            f.write(json.dumps(d) + '\n')
            f.flush()
    if summary:
        f.write(json.dumps({'count': n, 'teids': {str(k): v for k, v in teids.items()}}) + '\n')
    f.close()
    return n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('cmd', choices=['listen', 'send', 'eval'])
    ap.add_argument('expr', nargs='?')
    ap.add_argument('--addr', action='append', default=[])
    ap.add_argument('--bind')
    ap.add_argument('--port', type=int, default=2152)
    ap.add_argument('--dst')
    ap.add_argument('--dport', type=int, default=2152)
    ap.add_argument('--pkt', action='append', default=[])
    ap.add_argument('--hex', action='append', default=[])
    ap.add_argument('--count', type=int, default=1)
    ap.add_argument('--rate', type=float, default=0)
    ap.add_argument('--duration', type=float, default=1)
    ap.add_argument('--wait', type=float, default=0)
    ap.add_argument('--out')
    ap.add_argument('--in', dest='infile')
    ap.add_argument('--dump')
    ap.add_argument('--report')
    ap.add_argument('--ready')
    ap.add_argument('--raw', action='store_true')
    ap.add_argument('--summary', action='store_true')
    a = ap.parse_intermixed_args()
    if a.cmd == 'eval':
        rs = []
        with open(a.infile) as f:
            rs = [json.loads(x) for x in f if x.strip()]
        print(eval(a.expr, {'rs': rs, 'len': len, 'sum': sum, 'all': all,
                            'any': any, 'set': set, 'sorted': sorted, 'min': min,
                            'max': max, 'bytes': bytes}))
        return 0
    if a.cmd == 'listen':
        socks = [make_sock(x, a.port) for x in a.addr]
        if not (a.raw or a.summary):
            scapy_ns()  # before --ready: decoding must not stall the first datagrams
        if a.ready:
            open(a.ready, 'w').close()
        record(socks, a.duration, a.out, a.raw, a.summary)
        return 0
    if a.wait and not a.raw:
        scapy_ns()  # before sending: the replies are decoded as they come
    s = make_sock(a.bind, a.port)
    msgs = [bytes.fromhex(h) for h in a.hex]
    for expr in a.pkt:
        ns = scapy_ns()
        msgs += [bytes(eval(expr.replace('{i}', str(i)), ns)) for i in range(a.count)]
    pkts = [m for m in msgs[:len(a.hex)] for _ in range(a.count)] + msgs[len(a.hex):]
    if a.dump:
        with open(a.dump, 'a') as f:
            for p in pkts:
                f.write(json.dumps({'hex': p.hex()}) + '\n')
    dst = (a.dst, a.dport)
    t0 = time.time()
    if a.rate:
        # Paced in small bursts: a sleep per packet costs more than the gap.
        i = 0
        while i < len(pkts):
            due = int((time.time() - t0) * a.rate) + 1
            while i < due and i < len(pkts):
                s.sendto(pkts[i], dst)
                i += 1
            if i < len(pkts):
                delay = t0 + i / a.rate - time.time()
                if delay > 0:
                    time.sleep(delay)
    else:
        for p in pkts:
            s.sendto(p, dst)
    dt = time.time() - t0
    if a.report:
        with open(a.report, 'w') as f:
            json.dump({'sent': len(pkts), 'seconds': dt,
                       'pps': len(pkts) / dt if dt > 0 else 0}, f)
    if a.wait:
        record([s], a.wait, a.out, a.raw)
    return 0


if __name__ == '__main__':
    sys.exit(main())
