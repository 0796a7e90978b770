#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
# A PFCP control plane (an SMF, or osmo-hnbgw asking for tunnel maps) for
# system tests, built on scapy's PFCP layers: gtpud's PFCP codec never checks
# itself. It binds ADDR:8805, reads commands, one per line, from a FIFO, and
# writes one JSON line per command answered to OUT; requests from gtpud
# (Heartbeat, Node Report, Session Report) are answered and logged to OUT
# as {"got": TYPE, ...}.
#
#   pfcp_cp.py serve --bind ADDR --upf ADDR --cmd FIFO --out FILE [--rts N]
#
# Commands ("ID WORD ARGS...", the answer carries "id": ID):
#   assoc [NODEID]                 Association Setup
#   release                        Association Release
#   hb [RTS]                       Heartbeat (with RTS: a restarted CP)
#   relay CPSEID A_ADDR A_TEID C_ADDR C_TEID [QFI]   tunnel map: access PDR 1
#                                  (its PDI naming QFI) and core PDR 2 with CHOOSE,
#                                  FAR 1 -> core, FAR 2 -> access
#   relay_qos CPSEID A_ADDR A_TEID C_ADDR C_TEID MBR   relay with QER 1 (MBR
#                                  kbit/s both ways) and URR 1 (VOLUM, PERIO 3600 s)
#                                  on both PDRs
#   endpoint CPSEID UE GNB_ADDR GNB_TEID       uplink PDR 1 (CHOOSE) -> core,
#                                  downlink PDR 2 (UE) -> FAR 2 OHC to the gNB
#   movefar UPSEID FARID ADDR TEID [sndem]     Update FAR with new OHC
#   dropfar UPSEID FARID           Update FAR: Apply Action DROP
#   createbar UPSEID BARID COUNT   Create BAR (Suggested Buffering Packets Count)
#   bufffar UPSEID FARID BARID [nocp]   Update FAR: Apply Action BUFF (NOCP), BAR ID
#   drobu on|off                   answer Downlink Data Reports with DROBU
#   delete UPSEID                  Session Deletion
#   raw HEX                        send bytes, wait for one answer
#   hexof EXPR                     the bytes of a scapy expression, sent
import argparse
import json
import os
import select
import socket
import sys
import time

from scapy.all import raw, IP, IPv6  # noqa: F401
from scapy.contrib.pfcp import *  # noqa: F401,F403


def ies_of(p):
    return [ie for ie in getattr(p, 'IE_list', [])]


def usage(ie):
    """A Usage Report: URR ID, UR-SEQN, trigger flags, volumes and
    packets (read from the bytes: scapy 2.5 knows volumes only), duration."""
    import struct
    u = {'ie': int(ie.ie_type)}
    for sub in ie.IE_list:
        t = int(sub.ie_type)
        b = raw(sub)[4:]
        if t == 81:
            u['urr'] = struct.unpack('!I', b[:4])[0]
        elif t == 104:
            u['seqn'] = struct.unpack('!I', b[:4])[0]
        elif t == 63:
            v = b[0] | (b[1] << 8 if len(b) > 1 else 0)
            u['trigger'] = sorted(n for n, bit in (('PERIO', 0x1), ('VOLTH', 0x2), ('TIMTH', 0x4), ('IMMER', 0x80),
                                                   ('VOLQU', 0x100), ('TIMQU', 0x200), ('TERMR', 0x800)) if v & bit)
        elif t == 66:
            fl, o = b[0], 1
            for name, bit in (('total', 1), ('ul', 2), ('dl', 4), ('total_pkts', 8), ('ul_pkts', 16), ('dl_pkts', 32)):
                if fl & bit:
                    u[name] = struct.unpack('!Q', b[o:o + 8])[0]
                    o += 8
        elif t == 67:
            u['duration'] = struct.unpack('!I', b[:4])[0]
    return u


def seq_of(b):
    """The Sequence Number of a PFCP message's header; None: too short.
    Of another version than 1, octets 5 to 7, as a Version Not Supported
    Response takes it (TS 29.244 7.4.4.7)."""
    if len(b) < 8:
        return None
    off = 12 if b[0] >> 5 == 1 and b[0] & 1 else 4
    return int.from_bytes(b[off:off + 3], 'big') if len(b) >= off + 4 else None


def decode(b):
    """A PFCP message as a dict: type, seid, seq, cause, the IEs we test."""
    try:
        p = PFCP(b)
    except Exception as e:  # noqa: BLE001
        return {'error': str(e)}
    d = {'type': int(p.message_type), 'seq': int(p.seq), 'len': len(b)}
    if p.S:
        d['seid'] = int(p.seid)
    body = p.payload
    for ie in ies_of(body):
        t = int(ie.ie_type)
        if t == 19:
            d['cause'] = int(ie.cause)
        elif t == 40:
            d['offending'] = int(ie.type)
        elif t == 57:
            d['up_seid'] = int(ie.seid)
        elif t == 43:
            d['ftup'] = int(ie.FTUP)
            d['empu'] = int(ie.EMPU)
        elif t == 96:
            d['rts'] = int(ie.timestamp)
        elif t == 60:
            d['node_id'] = str(ie.ipv4 if ie.id_type == 0 else ie.ipv6 if ie.id_type == 1 else ie.id)
        elif t == 8:
            pdr, ft = None, None
            for sub in ie.IE_list:
                if int(sub.ie_type) == 56:
                    pdr = int(sub.id)
                elif int(sub.ie_type) == 21:
                    ft = {'teid': int(sub.TEID), 'v4': str(sub.ipv4) if sub.V4 else None,
                          'v6': str(sub.ipv6) if sub.V6 else None}
            d.setdefault('created', {})[str(pdr)] = ft
        elif t == 114:
            d['failed_rule'] = [int(ie.type), int(ie.pdr_id if ie.type == 0 else ie.far_id)]
        elif t == 101:
            d['node_report_type'] = int(ie.UPFR)
        elif t == 102:
            d['path_failure'] = [str(s.ipv4) if s.V4 else str(s.ipv6) for s in ie.IE_list]
        elif t == 39:
            d['report_type'] = {'erir': int(ie.ERIR)}
            if ie.DLDR:
                d['report_type']['dldr'] = 1
        elif t == 83:
            d['dldr_pdr'] = [int(s.id) for s in ie.IE_list if int(s.ie_type) == 56]
        elif t in (78, 79, 80):
            d.setdefault('usage', []).append(usage(ie))
        elif t == 99:
            d['ei_report'] = [{'teid': int(s.TEID), 'addr': str(s.ipv4) if s.V4 else str(s.ipv6)}
                              for s in ie.IE_list if int(s.ie_type) == 21]
    return d


class CP:
    def __init__(self, bind, upf, rts):
        fam = socket.AF_INET6 if ':' in bind else socket.AF_INET
        self.s = socket.socket(fam, socket.SOCK_DGRAM)
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.s.bind((bind, 8805))
        self.bind = bind
        self.upf = (upf, 8805)
        self.rts = rts
        self.seq = 1
        self.out = None
        self.drobu = False
        self.up_of = {}           # CP SEID -> gtpud's SEID

    def log(self, d):
        self.out.write(json.dumps(d) + '\n')
        self.out.flush()

    def serve_req(self, b, src):
        """A request from gtpud: answer it, log it."""
        d = decode(b)
        t = d.get('type')
        d['got'] = t
        self.log(d)
        if t == 1:
            rsp = PFCP(S=0, seq=d['seq']) / PFCPHeartbeatResponse(IE_list=[IE_RecoveryTimeStamp(timestamp=self.rts)])
        elif t == 12:
            rsp = PFCP(S=0, seq=d['seq']) / PFCPNodeReportResponse(IE_list=[
                IE_NodeId(id_type=0, ipv4=self.bind), IE_Cause(cause=1)])
        elif t == 56:
            ies = [IE_Cause(cause=1)]
            if self.drobu and d.get('report_type', {}).get('dldr'):
                ies.append(IE_PFCPSRRspFlags(DROBU=1))
            # The header names the receiver's SEID: gtpud's for this session.
            rsp = PFCP(S=1, seid=self.up_of.get(d.get('seid'), 0), seq=d['seq']) / PFCPSessionReportResponse(IE_list=ies)
        else:
            return
        self.s.sendto(raw(rsp), src)

    def txn(self, pkt, wait=3.0):
        """Send, answer gtpud's own requests meanwhile, return the response."""
        b = pkt if isinstance(pkt, bytes) else raw(pkt)
        self.s.sendto(b, self.upf)
        seq = seq_of(b)
        end = time.time() + wait
        while time.time() < end:
            r, _, _ = select.select([self.s], [], [], max(0, end - time.time()))
            if not r:
                break
            data, src = self.s.recvfrom(70000)
            t = data[1]
            if t in (1, 12, 56):
                self.serve_req(data, src)
                continue
            # A late answer to an earlier request (one that timed out
            # here) is not this one's: the sequence numbers tell.
            if seq is not None and seq_of(data) not in (None, seq):
                self.log({'stale': decode(data), 'waiting_for': seq})
                continue
            return decode(data)
        return {'timeout': True}

    def next_seq(self):
        self.seq += 1
        return self.seq

    def node(self):
        return IE_NodeId(id_type=0, ipv4=self.bind)

    def fseid(self, seid):
        return IE_FSEID(v4=1, seid=seid, ipv4=self.bind)

    def far(self, fid, dst, addr=None, teid=None):
        fp = [IE_DestinationInterface(interface=dst)]
        if addr:
            if ':' in addr:
                fp.append(IE_OuterHeaderCreation(GTPUUDPIPV6=1, TEID=teid, ipv6=addr))
            else:
                fp.append(IE_OuterHeaderCreation(GTPUUDPIPV4=1, TEID=teid, ipv4=addr))
        return IE_CreateFAR(IE_list=[IE_FAR_Id(id=fid), IE_ApplyAction(FORW=1),
                                     IE_ForwardingParameters(IE_list=fp)])

    def gtpu_pdr(self, pid, src, fid, extra=()):
        return IE_CreatePDR(IE_list=[
            IE_PDR_Id(id=pid), IE_Precedence(precedence=100),
            IE_PDI(IE_list=[IE_SourceInterface(interface=src), IE_FTEID(CH=1, V4=1)] + list(extra)),
            IE_OuterHeaderRemoval(header=0), IE_FAR_Id(id=fid)])

    def run(self, words):
        d = self.run1(words)
        if 'up_seid' in d and len(words) > 1:
            try:
                self.up_of[int(words[1], 0)] = d['up_seid']
            except ValueError:
                pass
        return d

    def run1(self, words):
        w = words[0]
        a = words[1:]
        if w == 'assoc':
            ies = [IE_NodeId(id_type=0, ipv4=a[0] if a else self.bind), IE_RecoveryTimeStamp(timestamp=self.rts)]
            return self.txn(PFCP(S=0, seq=self.next_seq()) / PFCPAssociationSetupRequest(IE_list=ies))
        if w == 'release':
            return self.txn(PFCP(S=0, seq=self.next_seq()) / PFCPAssociationReleaseRequest(IE_list=[self.node()]))
        if w == 'hb':
            if a:
                self.rts = int(a[0])
            return self.txn(PFCP(S=0, seq=self.next_seq()) / PFCPHeartbeatRequest(
                IE_list=[IE_RecoveryTimeStamp(timestamp=self.rts)]))
        if w == 'relay':
            cp, aa, at, ca, ct = int(a[0], 0), a[1], int(a[2], 0), a[3], int(a[4], 0)
            qfi = [IE_QFI(QFI=int(a[5]))] if len(a) > 5 else []
            ies = [self.node(), self.fseid(cp),
                   self.gtpu_pdr(1, 0, 1, qfi), self.gtpu_pdr(2, 1, 2),
                   self.far(1, 1, ca, ct), self.far(2, 0, aa, at)]
            return self.txn(PFCP(S=1, seid=0, seq=self.next_seq()) / PFCPSessionEstablishmentRequest(IE_list=ies))
        if w == 'relay_qos':
            cp, aa, at, ca, ct, mbr = int(a[0], 0), a[1], int(a[2], 0), a[3], int(a[4], 0), int(a[5])
            qer = IE_CreateQER(IE_list=[IE_QER_Id(id=1), IE_GateStatus(ul=0, dl=0), IE_MBR(ul=mbr, dl=mbr)])
            urr = IE_CreateURR(IE_list=[IE_URR_Id(id=1), IE_MeasurementMethod(VOLUM=1),
                                        IE_ReportingTriggers(periodic_reporting=1),
                                        IE_MeasurementPeriod(period=3600)])
            ids = [IE_QER_Id(id=1), IE_URR_Id(id=1)]
            pdrs = [IE_CreatePDR(IE_list=[IE_PDR_Id(id=i), IE_Precedence(precedence=100),
                                          IE_PDI(IE_list=[IE_SourceInterface(interface=src), IE_FTEID(CH=1, V4=1)]),
                                          IE_OuterHeaderRemoval(header=0), IE_FAR_Id(id=i)] + ids)
                    for i, src in ((1, 0), (2, 1))]
            ies = [self.node(), self.fseid(cp)] + pdrs + [self.far(1, 1, ca, ct), self.far(2, 0, aa, at), qer, urr]
            return self.txn(PFCP(S=1, seid=0, seq=self.next_seq()) / PFCPSessionEstablishmentRequest(IE_list=ies))
        if w == 'endpoint':
            cp, ue, ga, gt = int(a[0], 0), a[1], a[2], int(a[3], 0)
            ies = [self.node(), self.fseid(cp),
                   self.gtpu_pdr(1, 0, 1, [IE_UE_IP_Address(V4=1, ipv4=ue),
                                           IE_SDF_Filter(FD=1, flow_description='permit out ip from any to assigned')]),
                   IE_CreatePDR(IE_list=[IE_PDR_Id(id=2), IE_Precedence(precedence=100),
                                         IE_PDI(IE_list=[IE_SourceInterface(interface=1),
                                                         IE_UE_IP_Address(SD=1, V4=1, ipv4=ue)]),
                                         IE_FAR_Id(id=2)]),
                   self.far(1, 1), self.far(2, 0, ga, gt)]
            return self.txn(PFCP(S=1, seid=0, seq=self.next_seq()) / PFCPSessionEstablishmentRequest(IE_list=ies))
        if w == 'endpoint_qer':
            # endpoint with QER 1 (MBR UL/DL kbit/s) on both PDRs
            cp, ue, ga, gt, ul, dl = int(a[0], 0), a[1], a[2], int(a[3], 0), int(a[4]), int(a[5])
            qer = IE_CreateQER(IE_list=[IE_QER_Id(id=1), IE_GateStatus(ul=0, dl=0),
                                        IE_MBR(ul=ul, dl=dl), IE_QFI(QFI=9)])
            ies = [self.node(), self.fseid(cp),
                   IE_CreatePDR(IE_list=[IE_PDR_Id(id=1), IE_Precedence(precedence=100),
                                         IE_PDI(IE_list=[IE_SourceInterface(interface=0), IE_FTEID(CH=1, V4=1),
                                                         IE_UE_IP_Address(V4=1, ipv4=ue)]),
                                         IE_OuterHeaderRemoval(header=0), IE_FAR_Id(id=1), IE_QER_Id(id=1)]),
                   IE_CreatePDR(IE_list=[IE_PDR_Id(id=2), IE_Precedence(precedence=100),
                                         IE_PDI(IE_list=[IE_SourceInterface(interface=1),
                                                         IE_UE_IP_Address(SD=1, V4=1, ipv4=ue)]),
                                         IE_FAR_Id(id=2), IE_QER_Id(id=1)]),
                   self.far(1, 1), self.far(2, 0, ga, gt), qer]
            return self.txn(PFCP(S=1, seid=0, seq=self.next_seq()) / PFCPSessionEstablishmentRequest(IE_list=ies))
        if w == 'endpoint_urr':
            # endpoint with URR 1 (volume threshold VOLTH bytes, period P s) on both PDRs
            cp, ue, ga, gt, vth, per = int(a[0], 0), a[1], a[2], int(a[3], 0), int(a[4]), int(a[5])
            urr = IE_CreateURR(IE_list=[IE_URR_Id(id=1), IE_MeasurementMethod(VOLUM=1, DURAT=1),
                                        IE_ReportingTriggers(volume_threshold=1, periodic_reporting=1),
                                        IE_MeasurementPeriod(period=per),
                                        IE_VolumeThreshold(TOVOL=1, total=vth)])
            ies = [self.node(), self.fseid(cp),
                   IE_CreatePDR(IE_list=[IE_PDR_Id(id=1), IE_Precedence(precedence=100),
                                         IE_PDI(IE_list=[IE_SourceInterface(interface=0), IE_FTEID(CH=1, V4=1),
                                                         IE_UE_IP_Address(V4=1, ipv4=ue)]),
                                         IE_OuterHeaderRemoval(header=0), IE_FAR_Id(id=1), IE_URR_Id(id=1)]),
                   IE_CreatePDR(IE_list=[IE_PDR_Id(id=2), IE_Precedence(precedence=100),
                                         IE_PDI(IE_list=[IE_SourceInterface(interface=1),
                                                         IE_UE_IP_Address(SD=1, V4=1, ipv4=ue)]),
                                         IE_FAR_Id(id=2), IE_URR_Id(id=1)]),
                   self.far(1, 1), self.far(2, 0, ga, gt), urr]
            return self.txn(PFCP(S=1, seid=0, seq=self.next_seq()) / PFCPSessionEstablishmentRequest(IE_list=ies))
        if w == 'query':
            up, uid = int(a[0], 0), int(a[1])
            return self.txn(PFCP(S=1, seid=up, seq=self.next_seq()) / PFCPSessionModificationRequest(
                IE_list=[IE_QueryURR(IE_list=[IE_URR_Id(id=uid)])]))
        if w == 'gate':
            up, qid, ul, dl = int(a[0], 0), int(a[1]), int(a[2]), int(a[3])
            q = IE_UpdateQER(IE_list=[IE_QER_Id(id=qid), IE_GateStatus(ul=ul, dl=dl)])
            return self.txn(PFCP(S=1, seid=up, seq=self.next_seq()) / PFCPSessionModificationRequest(IE_list=[q]))
        if w in ('movefar', 'dropfar'):
            up, fid = int(a[0], 0), int(a[1], 0)
            if w == 'movefar':
                addr, teid = a[2], int(a[3], 0)
                ohc = (IE_OuterHeaderCreation(GTPUUDPIPV6=1, TEID=teid, ipv6=addr) if ':' in addr else
                       IE_OuterHeaderCreation(GTPUUDPIPV4=1, TEID=teid, ipv4=addr))
                ufp = [ohc]
                if len(a) > 4 and a[4] == 'sndem':
                    ufp.append(IE_PFCPSMReqFlags(SNDEM=1))
                far = IE_UpdateFAR(IE_list=[IE_FAR_Id(id=fid), IE_ApplyAction(FORW=1),
                                            IE_UpdateForwardingParameters(IE_list=ufp)])
            else:
                far = IE_UpdateFAR(IE_list=[IE_FAR_Id(id=fid), IE_ApplyAction(DROP=1)])
            return self.txn(PFCP(S=1, seid=up, seq=self.next_seq()) / PFCPSessionModificationRequest(IE_list=[far]))
        if w == 'createbar':
            up, bid, n = int(a[0], 0), int(a[1]), int(a[2])
            bar = IE_Create_BAR(IE_list=[IE_BAR_Id(id=bid), IE_SuggestedBufferingPacketsCount(count=n)])
            return self.txn(PFCP(S=1, seid=up, seq=self.next_seq()) / PFCPSessionModificationRequest(IE_list=[bar]))
        if w == 'bufffar':
            up, fid, bid = int(a[0], 0), int(a[1], 0), int(a[2])
            nocp = 1 if len(a) > 3 and a[3] == 'nocp' else 0
            far = IE_UpdateFAR(IE_list=[IE_FAR_Id(id=fid), IE_ApplyAction(BUFF=1, NOCP=nocp), IE_BAR_Id(id=bid)])
            return self.txn(PFCP(S=1, seid=up, seq=self.next_seq()) / PFCPSessionModificationRequest(IE_list=[far]))
        if w == 'drobu':
            self.drobu = a[0] == 'on'
            return {'drobu': self.drobu}
        if w == 'delete':
            return self.txn(PFCP(S=1, seid=int(a[0], 0), seq=self.next_seq()) / PFCPSessionDeletionRequest())
        if w == 'raw':
            return self.txn(bytes.fromhex(a[0]), wait=1.0)
        if w == 'hexof':
            return self.txn(raw(eval(' '.join(a))), wait=1.0)
        if w == 'idle':
            return self.idle(float(a[0]))
        return {'error': 'unknown command ' + w}

    def idle(self, secs):
        """Answer gtpud's requests for a while."""
        end = time.time() + secs
        while time.time() < end:
            r, _, _ = select.select([self.s], [], [], max(0, end - time.time()))
            if r:
                data, src = self.s.recvfrom(70000)
                self.serve_req(data, src)
        return {'idle': secs}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('mode')
    ap.add_argument('--bind', required=True)
    ap.add_argument('--upf', required=True)
    ap.add_argument('--cmd', required=True)
    ap.add_argument('--out', required=True)
    ap.add_argument('--rts', type=int, default=3900000000)
    o = ap.parse_args()
    cp = CP(o.bind, o.upf, o.rts)
    cp.out = open(o.out, 'a')
    fd = os.open(o.cmd, os.O_RDWR)
    buf = b''
    while True:
        r, _, _ = select.select([fd, cp.s], [], [], 1.0)
        if cp.s in r:
            data, src = cp.s.recvfrom(70000)
            if data[1] in (1, 12, 56):
                cp.serve_req(data, src)
            else:
                cp.log({'stray': decode(data)})
        if fd in r:
            buf += os.read(fd, 65536)
            while b'\n' in buf:
                line, buf = buf.split(b'\n', 1)
                words = line.decode().split()
                if not words:
                    continue
                if words[0] == 'quit':
                    return
                try:
                    d = cp.run(words[1:])
                except Exception as e:  # noqa: BLE001
                    d = {'error': repr(e)}
                d['id'] = words[0]
                cp.log(d)


if __name__ == '__main__':
    sys.exit(main())
