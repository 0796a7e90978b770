/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of the inner-packet layer: validation rows (valid, then every
 * must-fail kind), the ICMP "too big" builders, checked against scapy's
 * bytes (tests/inner_vectors.h), and the fast Internet checksum (plain and
 * copying), all against the byte-wise one of tests/csum_ref.h. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "csum_ref.h"
#include "inner.h"
#include "inner_vectors.h"

/* Packets are written as hex with optional spaces. */
static size_t unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;
	unsigned v;

	while (*s) {
		if (*s == ' ') {
			s++;
			continue;
		}
		assert_true(n < cap);
		assert_int_equal(sscanf(s, "%2x", &v), 1);
		out[n++] = (uint8_t)v;
		s += 2;
	}
	return n;
}

/* 192.0.2.2 -> 198.51.100.7; 2001:db8:45::2 -> 2001:db8:100::7 */
#define A4 "c0000202 c6336407 "
#define A6 "20010db8004500000000000000000002 20010db8010000000000000000000007 "
#define UDP_5201 "9c401451 00080000 "
#define UDP_GTP "9c400868 00080000 "
#define DOPT(nh) nh "00 0000 00000000 "        /* an 8-byte Destination Options header */

struct parse_row {
	const char *name;
	const char *hex;
	enum inner_err err;
	int family;
	uint8_t proto;
	uint32_t len;
	uint32_t l4_off;
	bool frag, later_frag, df;
};

static const struct parse_row parse_rows[] = {
	/* valid */
	{ "v4 udp", "4500001c 00000000 40110000 " A4 UDP_5201, INNER_OK, AF_INET, 17, 28, 20, 0, 0, 0 },
	{ "v4 tcp df", "45000028 00004000 40060000 " A4 "00501451 00000001 00000000 50100100 00000000",
	  INNER_OK, AF_INET, 6, 40, 20, 0, 0, 1 },
	{ "v4 icmp echo", "4500001c 00000000 40010000 " A4 "0800f7fe 00010000", INNER_OK, AF_INET, 1, 28, 20, 0, 0, 0 },
	{ "v4 options", "46000020 00000000 40110000 " A4 "01010101 " UDP_5201, INNER_OK, AF_INET, 17, 32, 24, 0, 0, 0 },
	{ "v4 trailing bytes", "4500001c 00000000 40110000 " A4 UDP_5201 "eeeeeeeeeeeeee",
	  INNER_OK, AF_INET, 17, 28, 20, 0, 0, 0 },
	{ "v4 first fragment", "4500001c 00002000 40110000 " A4 UDP_5201, INNER_OK, AF_INET, 17, 28, 20, 1, 0, 0 },
	{ "v4 later fragment to 2152 is not checked", "4500001c 00000001 40110000 " A4 UDP_GTP,
	  INNER_OK, AF_INET, 17, 28, 28, 1, 1, 0 },
	{ "v4 udp from port 2152", "4500001c 00000000 40110000 " A4 "08681451 00080000",
	  INNER_OK, AF_INET, 17, 28, 20, 0, 0, 0 },
	{ "v4 header only", "45000014 00000000 40060000 " A4, INNER_OK, AF_INET, 6, 20, 20, 0, 0, 0 },
	{ "v6 udp", "60000000 00081140 " A6 UDP_5201, INNER_OK, AF_INET6, 17, 48, 40, 0, 0, 0 },
	{ "v6 tcp", "60000000 00140640 " A6 "00501451 00000001 00000000 50100100 00000000",
	  INNER_OK, AF_INET6, 6, 60, 40, 0, 0, 0 },
	{ "v6 icmp echo", "60000000 00083a40 " A6 "80000000 00010001", INNER_OK, AF_INET6, 58, 48, 40, 0, 0, 0 },
	{ "v6 hop-by-hop then udp", "60000000 00100040 " A6 "11000000 00000000 " UDP_5201,
	  INNER_OK, AF_INET6, 17, 56, 48, 0, 0, 0 },
	{ "v6 ah then tcp", "60000000 002c3340 " A6 "06040000 00000100 00000001 00000000 00000000 00000000 "
	  "00501451 00000001 00000000 50100100 00000000", INNER_OK, AF_INET6, 6, 84, 64, 0, 0, 0 },
	{ "v6 first fragment", "60000000 00102c40 " A6 "11000001 00000007 " UDP_5201,
	  INNER_OK, AF_INET6, 17, 56, 48, 1, 0, 0 },
	{ "v6 later fragment to 2152 is not checked", "60000000 00102c40 " A6 "11000008 00000007 " UDP_GTP,
	  INNER_OK, AF_INET6, 17, 56, 56, 1, 1, 0 },
	{ "v6 no next header", "60000000 00083b40 " A6 "0000000000000000", INNER_OK, AF_INET6, 59, 48, 48, 0, 0, 0 },
	{ "v6 trailing bytes", "60000000 00081140 " A6 UDP_5201 "000000", INNER_OK, AF_INET6, 17, 48, 40, 0, 0, 0 },
	{ "v6 eight extension headers", "60000000 00483c40 " A6 DOPT("3c") DOPT("3c") DOPT("3c") DOPT("3c")
	  DOPT("3c") DOPT("3c") DOPT("3c") DOPT("11") UDP_5201, INNER_OK, AF_INET6, 17, 112, 104, 0, 0, 0 },
	/* must fail */
	{ "empty", "", INNER_E_SHORT, 0, 0, 0, 0, 0, 0, 0 },
	{ "one byte", "45", INNER_E_SHORT, 0, 0, 0, 0, 0, 0, 0 },
	{ "v4 19 bytes", "45000013 00000000 40110000 c0000202 c66364", INNER_E_SHORT, 0, 0, 0, 0, 0, 0, 0 },
	{ "v6 39 bytes", "60000000 00001140 20010db8004500000000000000000002 20010db80100000000000000000000",
	  INNER_E_SHORT, 0, 0, 0, 0, 0, 0, 0 },
	{ "version 5", "5500001c 00000000 40110000 " A4 UDP_5201, INNER_E_VERSION, 0, 0, 0, 0, 0, 0, 0 },
	{ "version 0", "0000001c 00000000 40110000 " A4 UDP_5201, INNER_E_VERSION, 0, 0, 0, 0, 0, 0, 0 },
	{ "v4 ihl 4", "4400001c 00000000 40110000 " A4 UDP_5201, INNER_E_HDR_LEN, 0, 0, 0, 0, 0, 0, 0 },
	{ "v4 ihl past the packet", "4f00001c 00000000 40110000 " A4 UDP_5201, INNER_E_HDR_LEN, 0, 0, 0, 0, 0, 0, 0 },
	{ "v4 total length below header", "45000013 00000000 40110000 " A4 UDP_5201,
	  INNER_E_TOTAL_LEN, 0, 0, 0, 0, 0, 0, 0 },
	{ "v4 total length below options", "46000017 00000000 40110000 " A4 "01010101 " UDP_5201,
	  INNER_E_TOTAL_LEN, 0, 0, 0, 0, 0, 0, 0 },
	{ "v4 total length past the packet", "4500001d 00000000 40110000 " A4 UDP_5201,
	  INNER_E_TOTAL_LEN, 0, 0, 0, 0, 0, 0, 0 },
	{ "v6 payload length past the packet", "60000000 00091140 " A6 UDP_5201,
	  INNER_E_TOTAL_LEN, 0, 0, 0, 0, 0, 0, 0 },
	{ "v6 hop-by-hop truncated", "60000000 00040040 " A6 "11000000", INNER_E_EXT_HDR, 0, 0, 0, 0, 0, 0, 0 },
	{ "v6 hop-by-hop length past payload", "60000000 00100040 " A6 "11020000 00000000 " UDP_5201,
	  INNER_E_EXT_HDR, 0, 0, 0, 0, 0, 0, 0 },
	{ "v6 nine extension headers", "60000000 00503c40 " A6 DOPT("3c") DOPT("3c") DOPT("3c") DOPT("3c")
	  DOPT("3c") DOPT("3c") DOPT("3c") DOPT("3c") DOPT("11") UDP_5201, INNER_E_EXT_HDR, 0, 0, 0, 0, 0, 0, 0 },
	{ "v4 udp header truncated", "45000018 00000000 40110000 " A4 "9c400868", INNER_E_L4_SHORT,
	  AF_INET, 17, 24, 20, 0, 0, 0 },
	{ "v6 udp without header", "60000000 00001140 " A6, INNER_E_L4_SHORT, AF_INET6, 17, 40, 40, 0, 0, 0 },
	{ "v4 gtp in gtp", "4500001c 00000000 40110000 " A4 UDP_GTP, INNER_E_GTP_IN_GTP, AF_INET, 17, 28, 20, 0, 0, 0 },
	{ "v4 gtp in gtp, first fragment", "4500001c 00002000 40110000 " A4 UDP_GTP,
	  INNER_E_GTP_IN_GTP, AF_INET, 17, 28, 20, 1, 0, 0 },
	{ "v6 gtp in gtp", "60000000 00081140 " A6 UDP_GTP, INNER_E_GTP_IN_GTP, AF_INET6, 17, 48, 40, 0, 0, 0 },
	{ "v6 gtp in gtp behind hop-by-hop and fragment", "60000000 00180040 " A6 "2c000000 00000000 "
	  "11000001 00000007 " UDP_GTP, INNER_E_GTP_IN_GTP, AF_INET6, 17, 64, 56, 1, 0, 0 },
};

static void test_parse_rows(void **state)
{
	uint8_t buf[512];
	struct inner_pkt ip;

	(void)state;
	for (size_t i = 0; i < sizeof(parse_rows) / sizeof(parse_rows[0]); i++) {
		const struct parse_row *r = &parse_rows[i];
		size_t n = unhex(r->hex, buf, sizeof(buf));
		enum inner_err e = inner_parse(buf, n, &ip);

		print_message("# %s: %s\n", r->name, inner_err_name(e));
		assert_int_equal(e, r->err);
		if (!r->family)
			continue;
		assert_int_equal(ip.family, r->family);
		assert_int_equal(ip.proto, r->proto);
		assert_int_equal(ip.len, r->len);
		assert_int_equal(ip.l4_off, r->l4_off);
		assert_int_equal(ip.frag, r->frag);
		assert_int_equal(ip.later_frag, r->later_frag);
		assert_int_equal(ip.df, r->df);
		assert_int_equal(ip.addr_len, r->family == AF_INET ? 4 : 16);
		assert_ptr_equal(ip.src, buf + (r->family == AF_INET ? 12 : 8));
		assert_ptr_equal(ip.dst, buf + (r->family == AF_INET ? 16 : 24));
	}
}

/* Every prefix of a valid packet is refused without reading past it: run
 * under ASan/valgrind this also proves the bounds. */
static void test_parse_truncations(void **state)
{
	uint8_t buf[512];
	struct inner_pkt ip;
	static const char *whole[] = {
		"46000020 00000000 40110000 " A4 "01010101 " UDP_5201,
		"60000000 00180040 " A6 "2c000000 00000000 11000001 00000007 " UDP_5201,
	};

	(void)state;
	for (size_t w = 0; w < 2; w++) {
		size_t n = unhex(whole[w], buf, sizeof(buf));

		assert_int_equal(inner_parse(buf, n, &ip), INNER_OK);
		for (size_t k = 0; k < n; k++) {
			uint8_t *copy = malloc(k ? k : 1);

			memcpy(copy, buf, k);
			assert_int_not_equal(inner_parse(copy, k, &ip), INNER_OK);
			free(copy);
		}
	}
}

static void test_err_names(void **state)
{
	static const char *names[INNER_E__COUNT] = {
		"ok", "inner_short", "inner_version", "inner_header_length", "inner_total_length",
		"inner_ext_header", "inner_l4_short", "gtp_in_gtp",
	};

	(void)state;
	for (int e = 0; e < INNER_E__COUNT; e++) {
		assert_string_equal(inner_err_name((enum inner_err)e), names[e]);
		assert_string_not_equal(inner_err_str((enum inner_err)e), "unknown error");
	}
	assert_string_equal(inner_err_str(INNER_E_GTP_IN_GTP),
			    "inner packet is GTP-U (UDP port 2152) inside GTP-U");
}

/* The checksums of an ICMP error, recomputed here. */
static void check_icmp_sums(const uint8_t *o, size_t n)
{
	if (o[0] >> 4 == 4) {
		size_t hl = (size_t)(o[0] & 15) * 4;

		assert_int_equal(o[9], 1);
		assert_int_equal(ref_sum(o, hl, 0), 0xffff);
		assert_int_equal(ref_sum(o + hl, n - hl, 0), 0xffff);
	} else {
		uint64_t ph = (n - 40) + 58;       /* upper-layer length + next header */

		assert_int_equal(o[6], 58);
		assert_int_equal(ref_sum(o + 40, n - 40, ref_sum(o + 8, 32, 0) + ph), 0xffff);
	}
}

static void test_icmp_scapy_vectors(void **state)
{
	uint8_t out[2048];
	struct inner_pkt ip;

	(void)state;
	for (size_t i = 0; i < sizeof(inner_vectors) / sizeof(inner_vectors[0]); i++) {
		const struct inner_vector *v = &inner_vectors[i];
		size_t n;

		print_message("# %s\n", v->name);
		assert_int_equal(inner_parse(v->in, v->in_len, &ip), INNER_OK);
		assert_int_equal(ip.family, v->family);
		assert_int_equal(ip.len, v->real_len);
		assert_int_equal(ip.proto, v->proto);
		assert_int_equal(ip.l4_off, v->l4_off);

		n = inner_icmp_too_big(out, v->out_len, v->in, v->in_len, v->mtu,
				       v->with_src ? v->src : NULL);
		assert_int_equal(n, v->out_len);
		assert_memory_equal(out, v->out, n);
		check_icmp_sums(out, n);
		assert_true(n <= (v->family == AF_INET ? INNER_ICMP4_MAX : INNER_ICMP6_MAX));
		/* The error is itself a valid inner packet for the TUN device. */
		assert_int_equal(inner_parse(out, n, &ip), INNER_OK);
		assert_int_equal(ip.len, n);
		/* One byte short of room: nothing is written. */
		assert_int_equal(inner_icmp_too_big(out, v->out_len - 1, v->in, v->in_len,
						    v->mtu, NULL), 0);
	}
}

struct icmp_row {
	const char *name;
	const char *hex;
	bool sent;
};

#define V4DF(proto, src, dst) "45000020 00004000 40" proto "0000 " src dst
#define V6(nh, src, dst) "60000000 0008" nh "40 " src dst

static const struct icmp_row icmp_rows[] = {
	{ "v4 df udp", V4DF("11", "c6336407 ", "c0000202 ") UDP_5201 "00000000", true },
	{ "v4 df gtp in gtp is still answered", V4DF("11", "c6336407 ", "c0000202 ") UDP_GTP "00000000", true },
	{ "v4 without df", "45000020 00000000 40110000 c6336407 c0000202 " UDP_5201 "00000000", false },
	{ "v4 later fragment", "45000020 00004001 40110000 c6336407 c0000202 " UDP_5201 "00000000", false },
	{ "v4 icmp echo", V4DF("01", "c6336407 ", "c0000202 ") "08000000 00010001 00000000", true },
	{ "v4 icmp dest unreachable", V4DF("01", "c6336407 ", "c0000202 ") "03040000 000005dc 00000000", false },
	{ "v4 icmp time exceeded", V4DF("01", "c6336407 ", "c0000202 ") "0b000000 00000000 00000000", false },
	{ "v4 icmp unknown type", V4DF("01", "c6336407 ", "c0000202 ") "c8000000 00000000 00000000", false },
	{ "v4 icmp without its type", "45000014 00004000 40010000 c6336407 c0000202", false },
	{ "v4 from 0.0.0.0", V4DF("11", "00000000 ", "c0000202 ") UDP_5201 "00000000", false },
	{ "v4 from loopback", V4DF("11", "7f000001 ", "c0000202 ") UDP_5201 "00000000", false },
	{ "v4 from multicast", V4DF("11", "e0000001 ", "c0000202 ") UDP_5201 "00000000", false },
	{ "v4 from broadcast", V4DF("11", "ffffffff ", "c0000202 ") UDP_5201 "00000000", false },
	{ "v4 to multicast", V4DF("11", "c6336407 ", "e0000005 ") UDP_5201 "00000000", false },
	{ "v4 to broadcast", V4DF("11", "c6336407 ", "ffffffff ") UDP_5201 "00000000", false },
	{ "v4 invalid", "4500ffff 00004000 40110000 c6336407 c0000202 " UDP_5201, false },
	{ "v6 udp", V6("11", "20010db8010000000000000000000007 ", "20010db8004500000000000000000002 ") UDP_5201, true },
	{ "v6 echo request", V6("3a", "20010db8010000000000000000000007 ", "20010db8004500000000000000000002 ")
	  "80000000 00010001", true },
	{ "v6 to multicast is answered", V6("11", "20010db8010000000000000000000007 ", "ff0e0000000000000000000000000001 ")
	  UDP_5201, true },
	{ "v6 icmp error", V6("3a", "20010db8010000000000000000000007 ", "20010db8004500000000000000000002 ")
	  "01040000 00000000", false },
	{ "v6 packet too big", V6("3a", "20010db8010000000000000000000007 ", "20010db8004500000000000000000002 ")
	  "02000000 00000500", false },
	{ "v6 icmp without its type", "60000000 00003a40 20010db8010000000000000000000007 "
	  "20010db8004500000000000000000002", false },
	{ "v6 later fragment of icmp is answered", "60000000 00102c40 20010db8010000000000000000000007 "
	  "20010db8004500000000000000000002 3a000008 00000007 01040000 00000000", true },
	{ "v6 from ::", V6("11", "00000000000000000000000000000000 ", "20010db8004500000000000000000002 ") UDP_5201, false },
	{ "v6 from ::1", V6("11", "00000000000000000000000000000001 ", "20010db8004500000000000000000002 ") UDP_5201, false },
	{ "v6 from ::2", V6("11", "00000000000000000000000000000002 ", "20010db8004500000000000000000002 ") UDP_5201, true },
	{ "v6 from multicast", V6("11", "ff020000000000000000000000000001 ", "20010db8004500000000000000000002 ") UDP_5201, false },
	{ "v6 invalid", "60000000 00ff1140 20010db8010000000000000000000007 20010db8004500000000000000000002", false },
};

static void test_icmp_rows(void **state)
{
	static const uint8_t src4[4] = { 192, 0, 2, 1 };
	static const uint8_t src6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0x45, [15] = 1 };
	uint8_t in[512], out[2048];

	(void)state;
	for (size_t i = 0; i < sizeof(icmp_rows) / sizeof(icmp_rows[0]); i++) {
		const struct icmp_row *r = &icmp_rows[i];
		size_t n = unhex(r->hex, in, sizeof(in)), m;
		bool v4 = in[0] >> 4 == 4;

		print_message("# %s\n", r->name);
		m = inner_icmp_too_big(out, sizeof(out), in, n, 1400, v4 ? src4 : src6);
		if (!r->sent) {
			assert_int_equal(m, 0);
			continue;
		}
		assert_int_equal(m, (v4 ? 28 : 48) + n);
		check_icmp_sums(out, m);
		/* From the TUN address, to the offender's source, quoting it whole. */
		assert_memory_equal(out + (v4 ? 12 : 8), v4 ? src4 : src6, v4 ? 4 : 16);
		assert_memory_equal(out + (v4 ? 16 : 24), in + (v4 ? 12 : 8), v4 ? 4 : 16);
		assert_memory_equal(out + (v4 ? 28 : 48), in, n);
		assert_int_equal(out[v4 ? 20 : 40], v4 ? 3 : 2);
		assert_int_equal(out[v4 ? 21 : 41], v4 ? 4 : 0);
	}
}

/* The largest packets: the error stays within 576 / 1280 bytes, and the
 * MTU field takes what fits (16 bits for IPv4, RFC 1191). */
static void test_icmp_limits(void **state)
{
	static uint8_t big[65535], out[4096];
	static const uint8_t src4[4] = { 192, 0, 2, 1 };
	size_t n;

	(void)state;
	memset(big, 0, sizeof(big));
	memcpy(big, "\x45\x00\xff\xff\x00\x00\x40\x00\x40\x06\x00\x00\xc6\x33\x64\x07\xc0\x00\x02\x02", 20);
	n = inner_icmp_too_big(out, sizeof(out), big, sizeof(big), 100000, src4);
	assert_int_equal(n, 576);
	assert_int_equal(out[26] << 8 | out[27], 0xffff);
	assert_int_equal(out[2] << 8 | out[3], 576);
	check_icmp_sums(out, n);
	n = inner_icmp_too_big(out, sizeof(out), big, sizeof(big), 1400, NULL);
	assert_int_equal(out[26] << 8 | out[27], 1400);
	assert_memory_equal(out + 12, big + 16, 4);  /* from the original destination */

	memset(big, 0, sizeof(big));
	memcpy(big, "\x60\x00\x00\x00\xff\xd7\x06\x40", 8);   /* payload 65495: 65535 in all */
	big[8] = 0x20, big[9] = 0x01, big[23] = 7;
	big[24] = 0x20, big[25] = 0x01, big[39] = 2;
	n = inner_icmp_too_big(out, sizeof(out), big, sizeof(big), 70000, NULL);
	assert_int_equal(n, 1280);
	assert_int_equal(out[4] << 8 | out[5], 1240);
	assert_int_equal((uint32_t)out[44] << 24 | out[45] << 16 | out[46] << 8 | out[47], 70000);
	assert_memory_equal(out + 8, big + 24, 16);
	assert_memory_equal(out + 24, big + 8, 16);
	check_icmp_sums(out, n);
}

/* The checksum and the copying checksum against the reference. */
static void test_csum(void **state)
{
	static const uint8_t rfc1071[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
	uint8_t buf[1600];

	(void)state;
	/* RFC 1071 section 3: the sum of these words is ddf2, the field's
	 * value its complement; the reference agrees. */
	assert_int_equal(inner_csum(0, rfc1071, sizeof(rfc1071)), 0xddf2);
	assert_int_equal((uint16_t)~inner_csum(0, rfc1071, sizeof(rfc1071)), 0x220d);
	assert_int_equal(ref_sum(rfc1071, sizeof(rfc1071), 0), 0xddf2);
	assert_int_equal(inner_csum(0, rfc1071, 0), 0);
	assert_int_equal(inner_csum(0, rfc1071, 3), 0x0001 + 0xf200);  /* odd byte padded */
	assert_int_equal(inner_csum(0x1234, rfc1071, 0), 0x1234);
	assert_int_equal(inner_csum(0, (const uint8_t *)"\xff", 1), 0xff00);
	/* End-around carry: ffff + 0001 is 0001, not 0000. */
	assert_int_equal(inner_csum(0xffff, (const uint8_t *)"\x00\x01", 2), 0x0001);
	srand(7);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)rand();
	/* Every length and alignment around the 32-, 8-, 4- and 2-byte steps,
	 * and from 256 bytes on around the 64-byte ones (AVX2); the copying
	 * sum gives the same sum and an exact copy. */
	for (size_t start = 0; start < 8; start++) {
		for (size_t len = 0; len < 330; len++) {
			uint8_t out[350];

			assert_int_equal(inner_csum(0, buf + start, len), ref_sum(buf + start, len, 0));
			memset(out, 0xa5, sizeof(out));
			assert_int_equal(inner_csum_copy(out + (start ^ 5), buf + start, len),
					 ref_sum(buf + start, len, 0));
			assert_memory_equal(out + (start ^ 5), buf + start, len);
			assert_int_equal(out[(start ^ 5) + len], 0xa5);
		}
	}
	for (uint32_t sum = 0; sum <= 0xffff; sum += 0x1111)
		assert_int_equal(inner_csum((uint16_t)sum, buf, 1501), ref_sum(buf, 1501, sum));
	memset(buf, 0xff, sizeof(buf));
	assert_int_equal(inner_csum(0, buf, sizeof(buf)), 0xffff);
	/* Carries: all ones over a whole super-packet, and zeros. */
	{
		static uint8_t big[65536], out[65536];

		memset(big, 0xff, sizeof(big));
		assert_int_equal(inner_csum_copy(out, big, sizeof(big)), 0xffff);
		assert_int_equal(inner_csum(0, big, sizeof(big) - 3), ref_sum(big, sizeof(big) - 3, 0));
		memset(big, 0, sizeof(big));
		assert_int_equal(inner_csum_copy(out, big, sizeof(big)), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_rows),
		cmocka_unit_test(test_parse_truncations),
		cmocka_unit_test(test_err_names),
		cmocka_unit_test(test_icmp_scapy_vectors),
		cmocka_unit_test(test_icmp_rows),
		cmocka_unit_test(test_icmp_limits),
		cmocka_unit_test(test_csum),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
