/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The inner IP packet of an endpoint tunnel: validation of what a G-PDU
 * carries or the TUN device gives, and ICMP "too big" errors written back
 * into the TUN device. Pure functions on buffers: no I/O, no allocation. */
#ifndef GTPUD_INNER_H
#define GTPUD_INNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define INNER_GTPU_PORT 2152
#define INNER_MAX_EXT 8             /* bound on the IPv6 extension-header chain */
#define INNER_ICMP4_MAX 576         /* RFC 1812 4.3.2.3: an ICMP error fits in 576 bytes */
#define INNER_ICMP6_MAX 1280        /* RFC 4443 2.4(c): fits in the minimum IPv6 MTU */

/* Why an inner packet is refused. INNER_OK is 0; the others become drop
 * reasons (see inner_err_name). Keep inner_err_name/inner_err_str in step. */
enum inner_err {
	INNER_OK = 0,
	INNER_E_SHORT,           /* empty, or shorter than the fixed IPv4 (20) / IPv6 (40) header */
	INNER_E_VERSION,         /* version nibble is neither 4 nor 6 */
	INNER_E_HDR_LEN,         /* IPv4 IHL < 5, or IHL * 4 past the packet */
	INNER_E_TOTAL_LEN,       /* IPv4 Total Length < IHL * 4 or past the packet; IPv6 40 + Payload Length past it */
	INNER_E_EXT_HDR,         /* IPv6 extension chain runs past the packet or is longer than INNER_MAX_EXT */
	INNER_E_L4_SHORT,        /* UDP (unfragmented or first fragment) with fewer than 8 bytes of header */
	INNER_E_GTP_IN_GTP,      /* UDP to port 2152 inside a tunnel */
	INNER_E__COUNT
};

/* Stable lower_snake name of an error, used as a drop reason. */
const char *inner_err_name(enum inner_err e);
/* Human sentence for logs and tests. */
const char *inner_err_str(enum inner_err e);

/* A validated packet. Offsets are from its first byte; src and dst point
 * into the buffer given to inner_parse. */
struct inner_pkt {
	int family;              /* AF_INET or AF_INET6 */
	uint32_t len;            /* real length (IPv4 Total Length, IPv6 40 + Payload Length): bytes past it are trailing junk */
	uint8_t addr_len;        /* 4 or 16 */
	const uint8_t *src;
	const uint8_t *dst;
	uint8_t proto;           /* IPv4 Protocol, or the IPv6 Next Header after the extension chain */
	bool frag;               /* a fragment: IPv4 MF or offset, or an IPv6 Fragment header */
	bool later_frag;         /* a fragment other than the first: there is no L4 header */
	bool df;                 /* IPv4 Don't Fragment (false for IPv6) */
	uint32_t l4_off;         /* L4 header offset; len when later_frag or the chain ends (No Next Header, ESP) */
};

/* Validate an inner IPv4 or IPv6 packet of len bytes. On INNER_OK, ip
 * describes it and ip->len <= len: the caller trims to ip->len. Never reads
 * outside p[0..len). */
enum inner_err inner_parse(const uint8_t *p, size_t len, struct inner_pkt *ip);

/* Build into out the ICMP error telling the source of pkt (len bytes, one
 * valid inner packet) that it exceeds mtu: for IPv4 with DF, Destination
 * Unreachable / Fragmentation Needed (type 3 code 4) quoting up to 576 bytes
 * in all; for IPv6, Packet Too Big quoting up to 1280 bytes in all. It is
 * addressed to pkt's source, from src_addr (4 or 16 bytes of pkt's family),
 * or from pkt's destination when src_addr is NULL.
 * Returns the length written, or 0 when no ICMP error must be sent: invalid
 * pkt, IPv4 without DF, IPv4 later fragment, pkt itself an ICMP error (or an
 * ICMP message without its type), a source no error may go to (unspecified,
 * loopback, multicast, IPv4 class E/broadcast), an IPv4 multicast/broadcast
 * destination; or when cap is too small. out must not overlap pkt. */
size_t inner_icmp_too_big(uint8_t *out, size_t cap, const uint8_t *pkt, size_t len,
			  unsigned mtu, const uint8_t *src_addr);

/* The Internet checksum (RFC 1071) sum of buf, folded to 16 bits, not
 * inverted, in host order (store it big-endian), added to sum with
 * end-around carry: ~inner_csum(0, hdr, n) is a checksum field's value.
 * Fast: 64 bytes a step with AVX2 (x86-64 CPUs that have it, checked at
 * run time) for 256 bytes and more, else 32 (SSE2 where the compiler
 * targets it). */
uint16_t inner_csum(uint16_t sum, const uint8_t *buf, size_t len);

/* Copy len bytes from src to dst and return their sum as inner_csum(0, src,
 * len) would: one pass over data that is about to be summed anyway. The
 * sum of a range that starts at an odd offset of the summed whole must be
 * swapped by the caller. */
uint16_t inner_csum_copy(uint8_t *dst, const uint8_t *src, size_t len);

#endif
