/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer harness: the input chooses a builder and its arguments; what is
 * built must parse back to the same values (and, for G-PDUs, survive a relay
 * rewrite). */
// FUZZ_SOURCES: src/gtpu.c
#include <stdlib.h>
#include <string.h>

#include "gtpu.h"

#define CHECK(c) do { if (!(c)) __builtin_trap(); } while (0)

struct in {
	const uint8_t *p;
	size_t n;
};

static uint8_t u8(struct in *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

static uint16_t u16(struct in *in)
{
	return (uint16_t)(u8(in) << 8 | u8(in));
}

static uint32_t u32(struct in *in)
{
	return (uint32_t)u16(in) << 16 | u16(in);
}

static uint8_t buf[GTPU_HEADROOM + 70000];

static void gpdu(struct in *in)
{
	uint8_t f = u8(in);
	struct gtpu_encap e = {
		.teid = u32(in), .with_seq = f & 1, .seq = u16(in), .with_pdu_session = f & 2,
		.pdu_type = (f >> 2) & 1, .qfi = u8(in), .type = u8(in),
	};
	struct gtpu_hdr h;
	size_t n, start, len;

	memcpy(buf + GTPU_HEADROOM, in->p, in->n);
	n = gtpu_encap(buf, GTPU_HEADROOM, in->n, &e);
	CHECK(n);
	CHECK(gtpu_parse(buf + GTPU_HEADROOM - n, n + in->n, &h) == GTPU_OK);
	CHECK(h.type == (e.type ? e.type : GTPU_GPDU) && h.teid == e.teid && h.hdr_len == n);
	CHECK(!!(h.flags & GTPU_FLAG_S) == e.with_seq && (!e.with_seq || h.seq == e.seq));
	CHECK(h.has_pdu_session == e.with_pdu_session);
	if (e.with_pdu_session)
		CHECK(h.pdu_session.qfi == (e.qfi & 0x3f) && h.pdu_session.pdu_type == e.pdu_type);
	len = gtpu_relay_rewrite(buf + GTPU_HEADROOM - n, &h, ~e.teid, &start);
	CHECK(start == 0 && len == n + in->n);
	CHECK(gtpu_parse(buf + GTPU_HEADROOM - n, len, &h) == GTPU_OK && h.teid == ~e.teid);
	CHECK(!memcmp(buf + GTPU_HEADROOM, in->p, in->n));
}

static void signalling(struct in *in, uint8_t kind)
{
	uint16_t seq = u16(in);
	uint32_t teid = u32(in);
	uint8_t x = u8(in), addr[16], types[GTPU_MAX_EXT_TYPES];
	size_t cap = u8(in), n = 0, alen = x & 1 ? 16 : 4, nt = u8(in) % (GTPU_MAX_EXT_TYPES + 1);
	int port = x & 2 ? (int)u16(in) : -1;
	struct gtpu_hdr h;
	struct gtpu_ies ies;

	for (size_t i = 0; i < sizeof(addr); i++)
		addr[i] = u8(in);
	for (size_t i = 0; i < nt; i++)
		types[i] = u8(in);
	switch (kind) {
	case 0: n = gtpu_build_echo_req(buf, cap, seq); break;
	case 1: n = gtpu_build_echo_rsp(buf, cap, seq, x); break;
	case 2: n = gtpu_build_error_ind(buf, cap, seq, teid, addr, alen, port); break;
	case 3: n = gtpu_build_supp_ext_notif(buf, cap, seq, types, nt); break;
	case 4: n = gtpu_build_end_marker(buf, cap, teid); break;
	}
	if (!n)
		return;    /* cap too small */
	CHECK(n <= cap);
	CHECK(gtpu_parse(buf, n, &h) == GTPU_OK);
	if (kind == 4) {
		CHECK(h.type == GTPU_END_MARKER && h.teid == teid && n == 8);
		return;
	}
	CHECK(h.seq == seq && (h.flags & GTPU_FLAG_S) && h.teid == 0);
	CHECK(gtpu_parse_ies(buf, &h, &ies) == GTPU_OK);
	switch (kind) {
	case 1: CHECK(ies.has_recovery && ies.recovery == x); break;
	case 2:
		CHECK(ies.has_teid_data && ies.teid_data == teid && ies.peer_addr_len == alen);
		CHECK(!memcmp(ies.peer_addr, addr, alen));
		CHECK(h.has_udp_port == (port >= 0) && (port < 0 || h.udp_port == port));
		break;
	case 3: CHECK(ies.n_ext_types == nt && !memcmp(ies.ext_types, types, nt)); break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in in = { data, size };
	uint8_t kind = u8(&in) % 6;

	if (kind == 5)
		gpdu(&in);
	else
		signalling(&in, kind);
	return 0;
}
