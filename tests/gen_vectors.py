#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
# Generates tests/vectors.h: GTP-U messages built by an independent
# implementation, python3-scapy's scapy.contrib.gtp, for tests/test_gtpu.c,
# and seeds the fuzz corpora. Run: /usr/bin/python3 tests/gen_vectors.py
import os
import sys

from scapy.all import IP, UDP, Raw, raw
from scapy.contrib.gtp import (
    GTP_PDCP_PDU_ExtensionHeader, GTP_U_Header, GTP_UDPPort_ExtensionHeader,
    GTPEchoRequest, GTPEchoResponse, GTPErrorIndication, GTPPDUSessionContainer,
    GTPSupportedExtensionHeadersNotification, IE_Cause, IE_ExtensionHeaderList,
    IE_GSNAddress, IE_NotImplementedTLV, IE_PrivateExtension, IE_Recovery,
    IE_TEIDI)
import scapy

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# The inner packet every G-PDU vector carries.
INNER = "IP(src='192.0.2.1', dst='198.51.100.2', id=1)/UDP(sport=1000, dport=2000)/b'hello gtp'"

# Extension headers scapy has no class for are written as Raw bytes, laid out
# as TS 29.281 5.2.2 says: length in 4-octet units, content, next type.
SCI = "Raw(bytes([1, 0x2a, 0, {nx}]))"                  # 5.2.2.3 SCI 0x20
LONG_PDCP = "Raw(bytes([2, 0x03, 0xff, 0xfe, 0, 0, 0, {nx}]))"  # 5.2.2.2A 0x82
RAN = "Raw(bytes([2, 1, 2, 3, 4, 5, 6, {nx}]))"         # 5.2.2.4 RAN Container 0x81
NR_RAN = "Raw(bytes([1, 0xaa, 0xbb, {nx}]))"            # 5.2.2.6 NR RAN Container 0x84

# (name, scapy expression). Every vector is raw(eval(expression)).
VECTORS = [
    # ---- G-PDUs: parsed, and built by gtpu_encap around INNER ----
    ("ip_payload", INNER),
    ("gpdu_plain", "GTP_U_Header(gtp_type=255, teid=0x100)/" + INNER),
    ("gpdu_seq", "GTP_U_Header(gtp_type=255, teid=0x200, S=1, seq=0x1234)/" + INNER),
    ("gpdu_pn", "GTP_U_Header(gtp_type=255, teid=0x201, PN=1, npdu=0x42)/" + INNER),
    ("gpdu_pdu_dl", "GTP_U_Header(gtp_type=255, teid=0x300, E=1, next_ex=0x85)/"
     "GTPPDUSessionContainer(type=0, QFI=9)/" + INNER),
    ("gpdu_pdu_ul_seq", "GTP_U_Header(gtp_type=255, teid=0x301, E=1, S=1, seq=7, next_ex=0x85)/"
     "GTPPDUSessionContainer(type=1, QFI=5)/" + INNER),
    ("gpdu_pdu_dl_rqi", "GTP_U_Header(gtp_type=255, teid=0x302, E=1, next_ex=0x85)/"
     "GTPPDUSessionContainer(type=0, RQI=1, QFI=1)/" + INNER),
    # PPP=1 makes the container 8 octets; with NextExtHdr=0 scapy's padding
    # lands where TS 38.415 puts spare octets and the next type (both 0).
    ("gpdu_pdu_dl_ppp", "GTP_U_Header(gtp_type=255, teid=0x303, E=1, next_ex=0x85)/"
     "GTPPDUSessionContainer(type=0, PPP=1, PPI=5, RQI=1, QFI=63)/" + INNER),
    ("gpdu_pdu_ul_qmp", "GTP_U_Header(gtp_type=255, teid=0x304, E=1, next_ex=0x85)/"
     "GTPPDUSessionContainer(type=1, QMP=1, SNP=1, QFI=2)/" + INNER),
    ("gpdu_udp_port", "GTP_U_Header(gtp_type=255, teid=0x400, E=1, next_ex=0x40)/"
     "GTP_UDPPort_ExtensionHeader(udp_port=2152, next_ex=0)/" + INNER),
    ("gpdu_udp_port_seq", "GTP_U_Header(gtp_type=255, teid=0x401, E=1, S=1, seq=99, next_ex=0x40)/"
     "GTP_UDPPort_ExtensionHeader(udp_port=40000, next_ex=0)/" + INNER),
    ("gpdu_pdcp", "GTP_U_Header(gtp_type=255, teid=0x402, E=1, next_ex=0xc0)/"
     "GTP_PDCP_PDU_ExtensionHeader(pdcp_pdu=0xbeef, next_ex=0)/" + INNER),
    ("gpdu_chain", "GTP_U_Header(gtp_type=255, teid=0x403, E=1, S=1, seq=5, next_ex=0x40)/"
     "GTP_UDPPort_ExtensionHeader(udp_port=2152, next_ex=0xc0)/"
     "GTP_PDCP_PDU_ExtensionHeader(pdcp_pdu=0x0102, next_ex=0x85)/"
     "GTPPDUSessionContainer(type=0, QFI=3)/" + INNER),
    ("gpdu_sci_longpdcp", "GTP_U_Header(gtp_type=255, teid=0x404, E=1, next_ex=0x20)/"
     + SCI.format(nx=0x82) + "/" + LONG_PDCP.format(nx=0) + "/" + INNER),
    ("gpdu_ran", "GTP_U_Header(gtp_type=255, teid=0x405, E=1, next_ex=0x81)/"
     + RAN.format(nx=0x84) + "/" + NR_RAN.format(nx=0) + "/" + INNER),
    # Unknown types: 0x86 (class 10), 0xc5 and 0xc6 (class 11), 0x01 (class
    # 00), 0x41 (class 01). Parse succeeds and records the first of each.
    ("gpdu_unknown", "GTP_U_Header(gtp_type=255, teid=0x406, E=1, next_ex=0x01)/"
     "Raw(bytes([1, 0, 0, 0x86, 1, 0, 0, 0xc5, 1, 0, 0, 0x41, 1, 0, 0, 0xc6, 1, 0, 0, 0]))/" + INNER),
    ("gpdu_16_ext", "GTP_U_Header(gtp_type=255, teid=0x407, E=1, next_ex=0x20)/"
     + "/".join([SCI.format(nx=0x20)] * 15 + [SCI.format(nx=0)]) + "/" + INNER),
    # ---- Relay rewrite: expected results (gtpu_relay_rewrite, new TEID) ----
    ("relay_seq_out", "GTP_U_Header(gtp_type=255, teid=0xa0a0a0a0, S=1, seq=0x1234)/" + INNER),
    ("relay_pdu_dl_out", "GTP_U_Header(gtp_type=255, teid=0xa0a0a0a1, E=1, next_ex=0x85)/"
     "GTPPDUSessionContainer(type=0, QFI=9)/" + INNER),
    # gpdu_udp_port_seq: the class-01 UDP Port header goes, E is cleared, the
    # optional word (seq 99) stays.
    ("relay_udp_port_seq_out", "GTP_U_Header(gtp_type=255, teid=0xa0a0a0a2, S=1, seq=99)/" + INNER),
    # gpdu_udp_port: with E alone, E must stay set (next type 0) or the
    # optional word would turn into payload (found by tests/fuzz/fuzz_gtpu).
    ("relay_udp_port_out", "GTP_U_Header(gtp_type=255, teid=0xa0a0a0a5, E=1, next_ex=0)/" + INNER),
    # gpdu_chain: UDP Port (01) removed; PDCP (11) and PDU Session (10) kept.
    ("relay_chain_out", "GTP_U_Header(gtp_type=255, teid=0xa0a0a0a3, E=1, S=1, seq=5, next_ex=0xc0)/"
     "GTP_PDCP_PDU_ExtensionHeader(pdcp_pdu=0x0102, next_ex=0x85)/"
     "GTPPDUSessionContainer(type=0, QFI=3)/" + INNER),
    # gpdu_unknown: 0x41 (class 01) removed, the others kept.
    ("relay_unknown_out", "GTP_U_Header(gtp_type=255, teid=0xa0a0a0a4, E=1, next_ex=0x01)/"
     "Raw(bytes([1, 0, 0, 0x86, 1, 0, 0, 0xc5, 1, 0, 0, 0xc6, 1, 0, 0, 0]))/" + INNER),
    # ---- Signalling: parsed, and built by the gtpu_build_* functions ----
    ("echo_req", "GTP_U_Header(seq=0x0101)/GTPEchoRequest()"),
    ("echo_req_private", "GTP_U_Header(gtp_type=1, S=1, seq=2)/GTPEchoRequest()/"
     "IE_PrivateExtension(length=3, extension_identifier=0x12, extention_value=b'ab')"),
    ("echo_req_unknown_tlv", "GTP_U_Header(gtp_type=1, S=1, seq=3)/GTPEchoRequest()/"
     "IE_NotImplementedTLV(ietype=200, length=3, data=b'xyz')"),
    ("echo_rsp", "GTP_U_Header(seq=0x0101)/GTPEchoResponse(IE_list=[IE_Recovery(restart_counter=0)])"),
    # osmo-ggsn's gtp-echo-responder answers with a non-zero restart counter.
    ("echo_rsp_recovery42", "GTP_U_Header(seq=9)/"
     "GTPEchoResponse(IE_list=[IE_Recovery(restart_counter=42)])"),
    ("err_ind_v4", "GTP_U_Header(gtp_type=26, S=1, seq=3, teid=0)/GTPErrorIndication(IE_list=["
     "IE_TEIDI(TEIDI=0x12345678), IE_GSNAddress(length=4, ipv4_address='192.0.2.10')])"),
    ("err_ind_v6", "GTP_U_Header(gtp_type=26, S=1, seq=4, teid=0)/GTPErrorIndication(IE_list=["
     "IE_TEIDI(TEIDI=0xdeadbeef), IE_GSNAddress(length=16, ipv6_address='2001:db8::10')])"),
    ("err_ind_udp_port", "GTP_U_Header(gtp_type=26, E=1, S=1, seq=5, teid=0, next_ex=0x40)/"
     "GTP_UDPPort_ExtensionHeader(udp_port=2152, next_ex=0)/GTPErrorIndication(IE_list=["
     "IE_TEIDI(TEIDI=0x100), IE_GSNAddress(length=4, ipv4_address='203.0.113.5')])"),
    ("err_ind_private", "GTP_U_Header(gtp_type=26, S=1, seq=6, teid=0)/GTPErrorIndication(IE_list=["
     "IE_TEIDI(TEIDI=0x1), IE_GSNAddress(length=4, ipv4_address='192.0.2.1'), "
     "IE_PrivateExtension(length=1, extension_identifier=7)])"),
    # scapy 2.5.0's IE_ExtensionHeaderList writes a two-octet length that also
    # counts itself (8d 00 03 40 c0 for two types); TS 29.281 8.5 and
    # Wireshark use one octet. The IE is therefore given as Raw per 8.5,
    # inside scapy's header and message classes.
    ("supp_ext_notif", "GTP_U_Header(seq=0x55)/GTPSupportedExtensionHeadersNotification("
     "IE_list=[Raw(bytes([141, 2, 0x85, 0xc0]))])"),
    ("end_marker", "GTP_U_Header(gtp_type=254, teid=0x300)"),
    # ---- Must-fail rows (the expected reason is in tests/test_gtpu.c) ----
    ("bad_version0", "GTP_U_Header(version=0, gtp_type=255, teid=1)"),
    ("bad_version2", "GTP_U_Header(version=2, gtp_type=255, teid=1)/" + INNER),
    ("bad_pt", "GTP_U_Header(PT=0, gtp_type=255, teid=1)/" + INNER),
    ("length_long", "GTP_U_Header(gtp_type=255, teid=1, length=200)/" + INNER),
    ("length_short", "GTP_U_Header(gtp_type=255, teid=1, length=4)/" + INNER),
    ("length_short_opt", "GTP_U_Header(gtp_type=255, teid=1, S=1, length=2)/" + INNER),
    ("ext_zero_pdu", "GTP_U_Header(gtp_type=255, teid=1, E=1, next_ex=0x85)/"
     "GTPPDUSessionContainer(ExtHdrLen=0, QFI=9)/" + INNER),
    ("ext_zero_second", "GTP_U_Header(gtp_type=255, teid=1, E=1, next_ex=0x40)/"
     "GTP_UDPPort_ExtensionHeader(udp_port=1, next_ex=0xc0)/"
     "GTP_PDCP_PDU_ExtensionHeader(length=0, pdcp_pdu=1, next_ex=0)/" + INNER),
    # The chain ends exactly at the message end with a non-zero next type.
    ("ext_end_next", "GTP_U_Header(gtp_type=255, teid=1, E=1, next_ex=0x40)/"
     "GTP_UDPPort_ExtensionHeader(udp_port=1, next_ex=0xc0)"),
    # A length longer than the message.
    ("ext_past_end", "GTP_U_Header(gtp_type=255, teid=1, E=1, next_ex=0x85)/"
     "GTPPDUSessionContainer(ExtHdrLen=5, QFI=1)"),
    ("ext_17", "GTP_U_Header(gtp_type=255, teid=1, E=1, next_ex=0x20)/"
     + "/".join([SCI.format(nx=0x20)] * 16 + [SCI.format(nx=0)]) + "/" + INNER),
    ("ext_bad_udp_len", "GTP_U_Header(gtp_type=255, teid=1, E=1, next_ex=0x40)/"
     "Raw(bytes([2, 8, 0x68, 0, 0, 0, 0, 0]))/" + INNER),
    ("ext_bad_pdcp_len", "GTP_U_Header(gtp_type=255, teid=1, E=1, next_ex=0xc0)/"
     "Raw(bytes([2, 0, 1, 0, 0, 0, 0, 0]))/" + INNER),
    ("ext_bad_long_pdcp_len", "GTP_U_Header(gtp_type=255, teid=1, E=1, next_ex=0x82)/"
     "Raw(bytes([1, 0, 1, 0]))/" + INNER),
    ("ext_bad_sci_len", "GTP_U_Header(gtp_type=255, teid=1, E=1, next_ex=0x20)/"
     "Raw(bytes([2, 1, 0, 0, 0, 0, 0, 0]))/" + INNER),
    # PPP=1 announces a PPI octet that a 4-octet container has no room for.
    ("ext_bad_pdu_ppp", "GTP_U_Header(gtp_type=255, teid=1, E=1, next_ex=0x85)/"
     "Raw(bytes([1, 0x00, 0x89, 0]))/" + INNER),
    # PDU type 2 (scapy's container class only builds types 0 and 1).
    ("ext_bad_pdu_type", "GTP_U_Header(gtp_type=255, teid=1, E=1, next_ex=0x85)/"
     "Raw(bytes([1, 0x20, 9, 0]))/" + INNER),
    ("ie_trunc_recovery", "GTP_U_Header(seq=1)/GTPEchoResponse(IE_list=[Raw(b'\\x0e')])"),
    ("ie_trunc_teid", "GTP_U_Header(gtp_type=26, S=1, seq=1)/GTPErrorIndication(IE_list=["
     "Raw(bytes([16, 0, 0, 1]))])"),
    ("ie_trunc_peer", "GTP_U_Header(gtp_type=26, S=1, seq=1)/GTPErrorIndication(IE_list=["
     "IE_TEIDI(TEIDI=1), IE_NotImplementedTLV(ietype=133, length=16, data=b'\\xc0\\x00\\x02\\x01')])"),
    ("ie_trunc_tlv_hdr", "GTP_U_Header(gtp_type=1, S=1, seq=1)/GTPEchoRequest()/Raw(b'\\xff\\x00')"),
    ("ie_trunc_private", "GTP_U_Header(gtp_type=1, S=1, seq=1)/GTPEchoRequest()/"
     "IE_PrivateExtension(length=10, extension_identifier=1, extention_value=b'ab')"),
    ("ie_trunc_ext_list", "GTP_U_Header(seq=1)/GTPSupportedExtensionHeadersNotification("
     "IE_list=[Raw(bytes([141, 3, 0x85, 0xc0]))])"),
    ("ie_bad_peer_len5", "GTP_U_Header(gtp_type=26, S=1, seq=1)/GTPErrorIndication(IE_list=["
     "IE_TEIDI(TEIDI=1), IE_NotImplementedTLV(ietype=133, length=5, data=b'\\x01\\x02\\x03\\x04\\x05')])"),
    ("ie_bad_peer_len0", "GTP_U_Header(gtp_type=26, S=1, seq=1)/GTPErrorIndication(IE_list=["
     "IE_TEIDI(TEIDI=1), IE_NotImplementedTLV(ietype=133, length=0, data=b'')])"),
    ("ie_bad_peer_len8", "GTP_U_Header(gtp_type=26, S=1, seq=1)/GTPErrorIndication(IE_list=["
     "IE_TEIDI(TEIDI=1), IE_NotImplementedTLV(ietype=133, length=8, data=bytes(8))])"),
    # Cause (1) is a GTPv1-C TV IE: unknown here, and a TV IE cannot be skipped.
    ("ie_bad_unknown_tv", "GTP_U_Header(seq=1)/GTPEchoResponse(IE_list=["
     "IE_Cause(CauseValue=128), IE_Recovery(restart_counter=0)])"),
    ("ie_bad_ext_list_long", "GTP_U_Header(seq=1)/GTPSupportedExtensionHeadersNotification("
     "IE_list=[Raw(bytes([141, 33]) + bytes(range(1, 34)))])"),
    ("ie_missing_recovery", "GTP_U_Header(seq=1)/GTPEchoResponse(IE_list=[])"),
    ("ie_missing_peer", "GTP_U_Header(gtp_type=26, S=1, seq=1)/GTPErrorIndication(IE_list=["
     "IE_TEIDI(TEIDI=1)])"),
    ("ie_missing_teid", "GTP_U_Header(gtp_type=26, S=1, seq=1)/GTPErrorIndication(IE_list=["
     "IE_GSNAddress(length=4, ipv4_address='192.0.2.1')])"),
    ("ie_missing_ext_list", "GTP_U_Header(gtp_type=31, S=1, seq=1)/"
     "GTPSupportedExtensionHeadersNotification(IE_list=[])"),
    # Documents the scapy IE_ExtensionHeaderList encoding noted above: read
    # per TS 29.281 its one-octet length is 0 and the rest is not an IE.
    ("scapy_ext_list_2byte_len", "GTP_U_Header(seq=1)/GTPSupportedExtensionHeadersNotification("
     "IE_list=[IE_ExtensionHeaderList(extension_headers=[0x40, 0xc0])])"),
]


def c_array(name, data, expr):
    lines = ["/* scapy: %s */" % expr.replace("*/", "* /"),
             "static const uint8_t vec_%s[%d] = {" % (name, len(data))]
    for i in range(0, len(data), 12):
        lines.append("\t" + " ".join("0x%02x," % b for b in data[i:i + 12]))
    lines.append("};")
    return "\n".join(lines)


def main():
    ns = dict(globals())
    out = ["/* SPDX-License-Identifier: GPL-2.0-or-later */",
           "/* GTP-U test vectors for tests/test_gtpu.c. GENERATED by tests/gen_vectors.py",
           " * with python3-scapy %s (scapy.contrib.gtp), an implementation" % scapy.VERSION,
           " * independent of src/gtpu.c; do not edit, re-run the script. Each vector is",
           " * raw() of the scapy expression above it. */",
           "#ifndef GTPUD_TEST_VECTORS_H",
           "#define GTPUD_TEST_VECTORS_H",
           "",
           "#include <stdint.h>",
           ""]
    seeds = {}
    for name, expr in VECTORS:
        data = raw(eval(expr, ns))
        out.append(c_array(name, data, expr))
        out.append("")
        seeds[name] = data
    out.append("#endif")
    with open(os.path.join(TOP, "tests", "vectors.h"), "w") as f:
        f.write("\n".join(out) + "\n")
    # Seed corpora: the parser gets every vector; the round trip harness
    # reads its input as builder parameters, so any bytes will do.
    for harness in ("fuzz_gtpu", "fuzz_roundtrip"):
        d = os.path.join(TOP, "tests", "fuzz", "corpus", harness)
        os.makedirs(d, exist_ok=True)
        for name, data in seeds.items():
            if name == "ip_payload":
                continue
            with open(os.path.join(d, name), "wb") as f:
                f.write(data)
    print("wrote tests/vectors.h (%d vectors) and the fuzz seed corpora" % len(seeds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
