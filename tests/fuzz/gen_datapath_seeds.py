#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
# Writes the seed corpus of fuzz_datapath (scapy crafts the datagrams): a
# flags byte (source, MSG_TRUNC, pktinfo, send mode, from TUN), a port byte,
# then one datagram. Usage: gen_datapath_seeds.py DIR
import os, sys
from scapy.all import IP, IPv6, UDP, ICMP, TCP, Raw, raw
from scapy.contrib.gtp import GTP_U_Header, GTPEchoRequest, GTPEchoResponse, GTPErrorIndication, \
    IE_Recovery, IE_TEIDI, IE_GSNAddress, GTPPDUSessionContainer, GTP_UDPPort_ExtensionHeader

ENB, UPF, ENB6, UPF6, DOWN, NP4, NP6 = 0, 1, 2, 3, 4, 5, 6
PKTINFO, TRUNC, TUNIN = 0x10, 0x08, 0x80
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
inner4 = IP(src='10.45.0.2', dst='198.51.100.99') / ICMP() / Raw(b'x' * 32)
inner6 = IPv6(src='2001:db8:45::2', dst='2001:db8:99::1') / UDP(sport=1, dport=2) / Raw(b'y' * 16)
seeds = {
    'gpdu-up': (ENB, GTP_U_Header(teid=1, gtp_type=255) / Raw(b'z' * 40)),
    'gpdu-up-seq': (ENB, GTP_U_Header(teid=1, gtp_type=255, S=1, seq=7) / Raw(b'z' * 40)),
    'gpdu-up-pdu-session': (ENB, GTP_U_Header(teid=1, gtp_type=255, E=1, next_ex=0x85) /
                            GTPPDUSessionContainer(type=1, QFI=5) / Raw(b'z' * 20)),
    'gpdu-up-udp-port': (ENB, GTP_U_Header(teid=1, gtp_type=255, E=1, next_ex=0x40) /
                         GTP_UDPPort_ExtensionHeader(udp_port=2152) / Raw(b'z' * 20)),
    'gpdu-down': (UPF, GTP_U_Header(teid=2, gtp_type=255) / Raw(b'z' * 40)),
    'gpdu-x46': (ENB, GTP_U_Header(teid=3, gtp_type=255) / Raw(b'z' * 40)),
    'gpdu-x64': (ENB6, GTP_U_Header(teid=4, gtp_type=255) / Raw(b'z' * 40)),
    'gpdu-to-down-peer': (ENB, GTP_U_Header(teid=5, gtp_type=255) / Raw(b'z' * 40)),
    'gpdu-wrong-peer': (UPF, GTP_U_Header(teid=1, gtp_type=255) / Raw(b'z' * 40)),
    'gpdu-unknown-teid': (ENB, GTP_U_Header(teid=0x999, gtp_type=255) / Raw(b'z' * 40)),
    'gpdu-unknown-teid-pktinfo': (ENB | PKTINFO, GTP_U_Header(teid=0x999, gtp_type=255) / Raw(b'z')),
    'gpdu-unknown-teid-nonpeer6': (NP6 | PKTINFO, GTP_U_Header(teid=0x999, gtp_type=255) / Raw(b'z')),
    'gpdu-unknown-ext-required': (ENB, GTP_U_Header(teid=1, gtp_type=255, E=1, next_ex=0xc7) /
                                  Raw(b'\x01\x00\x00\x00') / Raw(b'z' * 8)),
    'gpdu-ue4': (ENB, GTP_U_Header(teid=0x300, gtp_type=255) / inner4),
    'gpdu-ue6': (ENB, GTP_U_Header(teid=0x300, gtp_type=255) / inner6),
    'gpdu-ue-spoofed': (ENB, GTP_U_Header(teid=0x300, gtp_type=255) /
                        IP(src='10.45.0.9', dst='198.51.100.99') / ICMP()),
    'gpdu-ue-gtp-in-gtp': (ENB, GTP_U_Header(teid=0x300, gtp_type=255) /
                           IP(src='10.45.0.2', dst='198.51.100.99') / UDP(sport=2152, dport=2152) /
                           GTP_U_Header(teid=1, gtp_type=255)),
    'gpdu-ue-rated': (ENB6, GTP_U_Header(teid=0x310, gtp_type=255) /
                      IP(src='10.45.0.3', dst='198.51.100.99') / TCP() / Raw(b'r' * 1200)),
    'end-marker-relay': (ENB, GTP_U_Header(teid=1, gtp_type=254)),
    'end-marker-endpoint': (ENB, GTP_U_Header(teid=0x300, gtp_type=254)),
    'echo-req-peer': (ENB, GTP_U_Header(teid=0, gtp_type=1, S=1, seq=9) / GTPEchoRequest()),
    'echo-req-nonpeer': (NP4, GTP_U_Header(teid=0, gtp_type=1, S=1, seq=9) / GTPEchoRequest()),
    'echo-req-nonpeer6': (NP6, GTP_U_Header(teid=0, gtp_type=1, S=1, seq=9) / GTPEchoRequest()),
    'echo-rsp-peer': (UPF, GTP_U_Header(teid=0, gtp_type=2, S=1, seq=9) / GTPEchoResponse(IE_list=[IE_Recovery(restart_counter=3)])),
    'echo-rsp-nonpeer': (NP4, GTP_U_Header(teid=0, gtp_type=2, S=1, seq=9) / GTPEchoResponse(IE_list=[IE_Recovery()])),
    'error-ind-valid': (UPF, GTP_U_Header(teid=0, gtp_type=26, S=1) /
                        GTPErrorIndication(IE_list=[IE_TEIDI(TEIDI=0x200), IE_GSNAddress(ipv4_address='198.51.100.20')])),
    'error-ind-spoofed': (NP4, GTP_U_Header(teid=0, gtp_type=26, S=1) /
                          GTPErrorIndication(IE_list=[IE_TEIDI(TEIDI=0x200), IE_GSNAddress(ipv4_address='198.51.100.20')])),
    'sehn-peer': (ENB, GTP_U_Header(teid=0, gtp_type=31) / Raw(b'\x8d\x01\x85')),
    'unsupported-type': (ENB, GTP_U_Header(teid=0, gtp_type=77) / Raw(b'q')),
    'trunc': (ENB | TRUNC, GTP_U_Header(teid=1, gtp_type=255) / Raw(b'z' * 40)),
    'version0': (ENB, Raw(b'\x10\xff\x00\x00\x00\x00\x00\x01')),
    'length-long': (ENB, Raw(b'\x30\xff\x00\x40\x00\x00\x00\x01abc')),
    'ext-len0': (ENB, Raw(b'\x34\xff\x00\x08\x00\x00\x00\x01\x00\x00\x00\x85\x00\x00\x00\x00')),
    'send-fails': (ENB | 0x40, GTP_U_Header(teid=1, gtp_type=255) / Raw(b'z' * 40)),
    'send-all-fail-echo': (NP4 | 0x20, GTP_U_Header(teid=0, gtp_type=1, S=1, seq=9) / GTPEchoRequest()),
    'tun-ue4': (TUNIN, IP(src='198.51.100.99', dst='10.45.0.2') / ICMP() / Raw(b'x' * 32)),
    'tun-ue6': (TUNIN, IPv6(src='2001:db8:99::1', dst='2001:db8:45::2') / UDP() / Raw(b'x' * 32)),
    'tun-ue-too-big-df': (TUNIN, IP(src='198.51.100.99', dst='10.45.0.2', flags='DF') / UDP() / Raw(b'x' * 1450)),
    'tun-ue6-too-big': (TUNIN, IPv6(src='2001:db8:99::1', dst='2001:db8:45::2') / UDP() / Raw(b'x' * 1450)),
    'tun-no-route': (TUNIN, IP(src='198.51.100.99', dst='10.45.9.9') / ICMP()),
    'tun-rated': (TUNIN, IP(src='198.51.100.99', dst='10.45.0.3') / UDP() / Raw(b'x' * 1000)),
    'tun-junk': (TUNIN, Raw(b'\x45\x00\x00\x10')),
}
for name, (flags, pkt) in seeds.items():
    with open(os.path.join(out, name), 'wb') as f:
        f.write(bytes([flags, 1]) + raw(pkt))
