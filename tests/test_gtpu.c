/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of the GTP-U codec: parse and build every message type against
 * scapy's bytes (tests/vectors.h), every must-fail row with its exact reason,
 * the relay rewrite, and a replay of the fuzzers' crash inputs. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "gtpu.h"
#include "vectors.h"

#define V(n) #n, vec_##n, sizeof(vec_##n)
#define INNER_LEN sizeof(vec_ip_payload)

/* ---- Parse: valid rows ---- */

struct want_hdr {
	uint8_t type;
	uint32_t teid;
	uint8_t flags;
	uint16_t seq;
	uint8_t npdu;
	uint16_t hdr_len;
	bool inner;              /* the payload is vec_ip_payload */
	uint8_t n_ext;
	uint8_t ext[5];          /* first types of the chain */
	bool pdu;
	uint8_t pdu_type, qfi, ppi;
	bool rqi, ppp;
	bool udp;
	uint16_t udp_port;
	bool pdcp;
	uint16_t pdcp_sn;
	bool lpdcp;
	uint32_t lpdcp_sn;
	bool sci;
	uint8_t sci_v;
	uint8_t unk_all, unk_ep;
};

struct parse_row {
	const char *name;
	const uint8_t *buf;
	size_t len;
	struct want_hdr w;
};

static const struct parse_row parse_ok[] = {
	{ V(gpdu_plain), { .type = 255, .teid = 0x100, .flags = 0x30, .hdr_len = 8, .inner = true } },
	{ V(gpdu_seq), { .type = 255, .teid = 0x200, .flags = 0x32, .seq = 0x1234, .hdr_len = 12,
			 .inner = true } },
	{ V(gpdu_pn), { .type = 255, .teid = 0x201, .flags = 0x31, .npdu = 0x42, .hdr_len = 12,
			.inner = true } },
	{ V(gpdu_pdu_dl), { .type = 255, .teid = 0x300, .flags = 0x34, .hdr_len = 16, .inner = true,
			    .n_ext = 1, .ext = { 0x85 }, .pdu = true, .pdu_type = GTPU_PDU_DL,
			    .qfi = 9 } },
	{ V(gpdu_pdu_ul_seq), { .type = 255, .teid = 0x301, .flags = 0x36, .seq = 7, .hdr_len = 16,
				.inner = true, .n_ext = 1, .ext = { 0x85 }, .pdu = true,
				.pdu_type = GTPU_PDU_UL, .qfi = 5 } },
	{ V(gpdu_pdu_dl_rqi), { .type = 255, .teid = 0x302, .flags = 0x34, .hdr_len = 16,
				.inner = true, .n_ext = 1, .ext = { 0x85 }, .pdu = true,
				.pdu_type = GTPU_PDU_DL, .qfi = 1, .rqi = true } },
	{ V(gpdu_pdu_dl_ppp), { .type = 255, .teid = 0x303, .flags = 0x34, .hdr_len = 20,
				.inner = true, .n_ext = 1, .ext = { 0x85 }, .pdu = true,
				.pdu_type = GTPU_PDU_DL, .qfi = 63, .rqi = true, .ppp = true,
				.ppi = 5 } },
	{ V(gpdu_pdu_ul_qmp), { .type = 255, .teid = 0x304, .flags = 0x34, .hdr_len = 44,
				.inner = true, .n_ext = 1, .ext = { 0x85 }, .pdu = true,
				.pdu_type = GTPU_PDU_UL, .qfi = 2 } },
	{ V(gpdu_udp_port), { .type = 255, .teid = 0x400, .flags = 0x34, .hdr_len = 16, .inner = true,
			      .n_ext = 1, .ext = { 0x40 }, .udp = true, .udp_port = 2152 } },
	{ V(gpdu_udp_port_seq), { .type = 255, .teid = 0x401, .flags = 0x36, .seq = 99,
				  .hdr_len = 16, .inner = true, .n_ext = 1, .ext = { 0x40 },
				  .udp = true, .udp_port = 40000 } },
	{ V(gpdu_pdcp), { .type = 255, .teid = 0x402, .flags = 0x34, .hdr_len = 16, .inner = true,
			  .n_ext = 1, .ext = { 0xc0 }, .pdcp = true, .pdcp_sn = 0xbeef } },
	{ V(gpdu_chain), { .type = 255, .teid = 0x403, .flags = 0x36, .seq = 5, .hdr_len = 24,
			   .inner = true, .n_ext = 3, .ext = { 0x40, 0xc0, 0x85 }, .udp = true,
			   .udp_port = 2152, .pdcp = true, .pdcp_sn = 0x0102, .pdu = true,
			   .pdu_type = GTPU_PDU_DL, .qfi = 3 } },
	{ V(gpdu_sci_longpdcp), { .type = 255, .teid = 0x404, .flags = 0x34, .hdr_len = 24,
				  .inner = true, .n_ext = 2, .ext = { 0x20, 0x82 }, .sci = true,
				  .sci_v = 0x2a, .lpdcp = true, .lpdcp_sn = 0x3fffe } },
	{ V(gpdu_ran), { .type = 255, .teid = 0x405, .flags = 0x34, .hdr_len = 24, .inner = true,
			 .n_ext = 2, .ext = { 0x81, 0x84 } } },
	{ V(gpdu_unknown), { .type = 255, .teid = 0x406, .flags = 0x34, .hdr_len = 32, .inner = true,
			     .n_ext = 5, .ext = { 0x01, 0x86, 0xc5, 0x41, 0xc6 }, .unk_all = 0xc5,
			     .unk_ep = 0x86 } },
	{ V(gpdu_16_ext), { .type = 255, .teid = 0x407, .flags = 0x34, .hdr_len = 76, .inner = true,
			    .n_ext = 16, .ext = { 0x20, 0x20, 0x20, 0x20, 0x20 }, .sci = true,
			    .sci_v = 0x2a } },
	{ V(end_marker), { .type = 254, .teid = 0x300, .flags = 0x30, .hdr_len = 8 } },
	{ V(echo_req), { .type = 1, .flags = 0x32, .seq = 0x0101, .hdr_len = 12 } },
	{ V(echo_req_private), { .type = 1, .flags = 0x32, .seq = 2, .hdr_len = 12 } },
	{ V(echo_rsp), { .type = 2, .flags = 0x32, .seq = 0x0101, .hdr_len = 12 } },
	{ V(err_ind_v4), { .type = 26, .flags = 0x32, .seq = 3, .hdr_len = 12 } },
	{ V(err_ind_udp_port), { .type = 26, .flags = 0x36, .seq = 5, .hdr_len = 16, .n_ext = 1,
				 .ext = { 0x40 }, .udp = true, .udp_port = 2152 } },
	{ V(supp_ext_notif), { .type = 31, .flags = 0x32, .seq = 0x55, .hdr_len = 12 } },
};

static void check_hdr(const struct parse_row *r, const struct gtpu_hdr *h)
{
	const struct want_hdr *w = &r->w;

	print_message("# row %s\n", r->name);
	assert_int_equal(h->type, w->type);
	assert_int_equal(h->teid, w->teid);
	assert_int_equal(h->flags, w->flags);
	assert_int_equal(h->has_opt, (w->flags & 7) != 0);
	if (w->flags & GTPU_FLAG_S)
		assert_int_equal(h->seq, w->seq);
	if (w->flags & GTPU_FLAG_PN)
		assert_int_equal(h->npdu, w->npdu);
	assert_int_equal(h->hdr_len, w->hdr_len);
	assert_int_equal(h->msg_len, r->len);
	assert_int_equal(h->length, r->len - 8);
	if (w->inner) {
		assert_int_equal(r->len - h->hdr_len, INNER_LEN);
		assert_memory_equal(r->buf + h->hdr_len, vec_ip_payload, INNER_LEN);
	}
	assert_int_equal(h->n_ext, w->n_ext);
	for (unsigned i = 0; i < w->n_ext && i < sizeof(w->ext); i++)
		assert_int_equal(h->ext[i].type, w->ext[i]);
	for (unsigned i = 0; i < h->n_ext; i++) {
		assert_true(h->ext[i].len4 > 0);
		assert_int_equal(r->buf[h->ext[i].off], h->ext[i].len4);
	}
	assert_int_equal(h->has_pdu_session, w->pdu);
	if (w->pdu) {
		assert_int_equal(h->pdu_session.pdu_type, w->pdu_type);
		assert_int_equal(h->pdu_session.qfi, w->qfi);
		assert_int_equal(h->pdu_session.rqi, w->rqi);
		assert_int_equal(h->pdu_session.ppp, w->ppp);
		assert_int_equal(h->pdu_session.ppi, w->ppi);
	}
	assert_int_equal(h->has_udp_port, w->udp);
	if (w->udp)
		assert_int_equal(h->udp_port, w->udp_port);
	assert_int_equal(h->has_pdcp, w->pdcp);
	if (w->pdcp)
		assert_int_equal(h->pdcp_sn, w->pdcp_sn);
	assert_int_equal(h->has_long_pdcp, w->lpdcp);
	if (w->lpdcp)
		assert_int_equal(h->long_pdcp_sn, w->lpdcp_sn);
	assert_int_equal(h->has_sci, w->sci);
	if (w->sci)
		assert_int_equal(h->sci, w->sci_v);
	assert_int_equal(h->unknown_req_all, w->unk_all);
	assert_int_equal(h->unknown_req_endpoint, w->unk_ep);
}

static void test_parse_valid(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(parse_ok) / sizeof(parse_ok[0]); i++) {
		const struct parse_row *r = &parse_ok[i];
		struct gtpu_hdr h;

		/* Poison h: parse must set every field it reports. */
		memset(&h, 0xa5, sizeof(h));
		print_message("# row %s\n", r->name);
		assert_int_equal(gtpu_parse(r->buf, r->len, &h), GTPU_OK);
		check_hdr(r, &h);
	}
}

/* ---- Parse: must-fail rows ---- */

struct fail_row {
	const char *name;
	const uint8_t *buf;
	size_t len;
	enum gtpu_err want;
};

static const struct fail_row parse_fail[] = {
	{ V(bad_version0), GTPU_E_VERSION },
	{ V(bad_version2), GTPU_E_VERSION },
	{ V(bad_pt), GTPU_E_PT },
	{ V(length_long), GTPU_E_LEN_LONG },
	{ V(length_short), GTPU_E_LEN_SHORT },
	{ V(length_short_opt), GTPU_E_LEN_SHORT },
	{ V(ext_zero_pdu), GTPU_E_EXT_ZERO },
	{ V(ext_zero_second), GTPU_E_EXT_ZERO },
	{ V(ext_end_next), GTPU_E_EXT_TRUNC },
	{ V(ext_past_end), GTPU_E_EXT_TRUNC },
	{ V(ext_17), GTPU_E_EXT_TOO_MANY },
	{ V(ext_bad_udp_len), GTPU_E_EXT_BAD },
	{ V(ext_bad_pdcp_len), GTPU_E_EXT_BAD },
	{ V(ext_bad_long_pdcp_len), GTPU_E_EXT_BAD },
	{ V(ext_bad_sci_len), GTPU_E_EXT_BAD },
	{ V(ext_bad_pdu_ppp), GTPU_E_EXT_BAD },
	{ V(ext_bad_pdu_type), GTPU_E_EXT_BAD },
};

static void test_parse_fail(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(parse_fail) / sizeof(parse_fail[0]); i++) {
		const struct fail_row *r = &parse_fail[i];
		struct gtpu_hdr h;

		print_message("# row %s\n", r->name);
		assert_string_equal(gtpu_err_name(gtpu_parse(r->buf, r->len, &h)),
				    gtpu_err_name(r->want));
	}
}

/* Datagrams of 0 to 7 bytes, and of 8 to 11 bytes with S, PN or E set. */
static void test_parse_short(void **state)
{
	static const uint8_t flags[] = { GTPU_FLAG_S, GTPU_FLAG_PN, GTPU_FLAG_E,
					 GTPU_FLAG_E | GTPU_FLAG_S | GTPU_FLAG_PN };
	struct gtpu_hdr h;

	(void)state;
	for (size_t len = 0; len < 8; len++) {
		uint8_t *b = malloc(len ? len : 1);    /* exact size: ASan sees overreads */

		memcpy(b, vec_gpdu_plain, len);
		assert_int_equal(gtpu_parse(b, len, &h), GTPU_E_SHORT);
		free(b);
	}
	for (size_t f = 0; f < sizeof(flags); f++) {
		for (size_t len = 8; len < 12; len++) {
			uint8_t *b = calloc(1, len);

			/* Length agrees with the datagram: only the size is wrong. */
			b[0] = GTPU_FLAGS_V1 | flags[f];
			b[1] = GTPU_GPDU;
			b[3] = (uint8_t)(len - 8);
			print_message("# flags %#x len %zu\n", b[0], len);
			assert_int_equal(gtpu_parse(b, len, &h), GTPU_E_SHORT);
			free(b);
		}
	}
	/* Without E, S, PN, 8 bytes are a whole message. */
	assert_int_equal(gtpu_parse(vec_end_marker, 8, &h), GTPU_OK);
}

/* 1500 bytes of zero-length extension headers: rejected at the first one. */
static void test_parse_ext_zero_1500(void **state)
{
	static uint8_t b[12 + 1500];
	struct gtpu_hdr h;
	const uint8_t firsts[] = { 0x85, 0x40, 0xc0, 0x01, 0xff };

	(void)state;
	for (size_t i = 0; i < sizeof(firsts); i++) {
		memset(b, 0, sizeof(b));
		b[0] = GTPU_FLAGS_V1 | GTPU_FLAG_E;
		b[1] = GTPU_GPDU;
		b[2] = (1504 >> 8);
		b[3] = 1504 & 0xff;
		b[11] = firsts[i];
		assert_int_equal(gtpu_parse(b, sizeof(b), &h), GTPU_E_EXT_ZERO);
	}
	/* Same with the next-type octets non-zero: 00 00 00 85 repeated. */
	for (size_t off = 12; off + 4 <= sizeof(b); off += 4)
		b[off + 3] = 0x85;
	assert_int_equal(gtpu_parse(b, sizeof(b), &h), GTPU_E_EXT_ZERO);
}

/* Every proper prefix of every valid vector is refused (Length disagrees),
 * from a buffer of exactly that size. */
static void test_parse_truncated(void **state)
{
	struct gtpu_hdr h;

	(void)state;
	for (size_t i = 0; i < sizeof(parse_ok) / sizeof(parse_ok[0]); i++) {
		const struct parse_row *r = &parse_ok[i];

		for (size_t len = 0; len < r->len; len++) {
			uint8_t *b = malloc(len ? len : 1);
			enum gtpu_err e;

			memcpy(b, r->buf, len);
			e = gtpu_parse(b, len, &h);
			if (len < 8 || (len < 12 && (r->buf[0] & 7)))
				assert_int_equal(e, GTPU_E_SHORT);
			else
				assert_int_equal(e, GTPU_E_LEN_LONG);
			free(b);
		}
	}
}

static void test_ext_class(void **state)
{
	(void)state;
	assert_int_equal(gtpu_ext_class(GTPU_EXT_SCI), GTPU_EXT_CLASS_FORWARD);
	assert_int_equal(gtpu_ext_class(GTPU_EXT_UDP_PORT), GTPU_EXT_CLASS_DISCARD);
	assert_int_equal(gtpu_ext_class(GTPU_EXT_PDU_SESSION), GTPU_EXT_CLASS_REQ_ENDPOINT);
	assert_int_equal(gtpu_ext_class(GTPU_EXT_PDCP), GTPU_EXT_CLASS_REQ_ALL);
	for (unsigned t = 0; t < 256; t++) {
		bool known = t == 0x20 || t == 0x40 || t == 0x81 || t == 0x82 || t == 0x84 ||
			     t == 0x85 || t == 0xc0;

		assert_int_equal(gtpu_ext_known((uint8_t)t), known);
	}
}

/* ---- Information elements ---- */

struct ie_row {
	const char *name;
	const uint8_t *buf;
	size_t len;
	enum gtpu_err want;
	struct gtpu_ies w;       /* compared field by field when want is OK */
};

static const struct ie_row ie_rows[] = {
	{ V(echo_req), GTPU_OK, { 0 } },
	{ V(echo_req_private), GTPU_OK, { .n_private = 1 } },
	{ V(echo_req_unknown_tlv), GTPU_OK, { 0 } },
	{ V(echo_rsp), GTPU_OK, { .has_recovery = true, .recovery = 0 } },
	{ V(echo_rsp_recovery42), GTPU_OK, { .has_recovery = true, .recovery = 42 } },
	{ V(err_ind_v4), GTPU_OK, { .has_teid_data = true, .teid_data = 0x12345678,
				    .has_peer_addr = true, .peer_addr_len = 4,
				    .peer_addr = { 192, 0, 2, 10 } } },
	{ V(err_ind_v6), GTPU_OK, { .has_teid_data = true, .teid_data = 0xdeadbeef,
				    .has_peer_addr = true, .peer_addr_len = 16,
				    .peer_addr = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x10 } } },
	{ V(err_ind_udp_port), GTPU_OK, { .has_teid_data = true, .teid_data = 0x100,
					  .has_peer_addr = true, .peer_addr_len = 4,
					  .peer_addr = { 203, 0, 113, 5 } } },
	{ V(err_ind_private), GTPU_OK, { .has_teid_data = true, .teid_data = 1,
					 .has_peer_addr = true, .peer_addr_len = 4,
					 .peer_addr = { 192, 0, 2, 1 }, .n_private = 1 } },
	{ V(supp_ext_notif), GTPU_OK, { .has_ext_types = true, .n_ext_types = 2,
					.ext_types = { 0x85, 0xc0 } } },
	{ V(ie_trunc_recovery), GTPU_E_IE_TRUNC, { 0 } },
	{ V(ie_trunc_teid), GTPU_E_IE_TRUNC, { 0 } },
	{ V(ie_trunc_peer), GTPU_E_IE_TRUNC, { 0 } },
	{ V(ie_trunc_tlv_hdr), GTPU_E_IE_TRUNC, { 0 } },
	{ V(ie_trunc_private), GTPU_E_IE_TRUNC, { 0 } },
	{ V(ie_trunc_ext_list), GTPU_E_IE_TRUNC, { 0 } },
	{ V(ie_bad_peer_len5), GTPU_E_IE_BAD, { 0 } },
	{ V(ie_bad_peer_len0), GTPU_E_IE_BAD, { 0 } },
	{ V(ie_bad_peer_len8), GTPU_E_IE_BAD, { 0 } },
	{ V(ie_bad_unknown_tv), GTPU_E_IE_BAD, { 0 } },
	{ V(ie_bad_ext_list_long), GTPU_E_IE_BAD, { 0 } },
	{ V(scapy_ext_list_2byte_len), GTPU_E_IE_BAD, { 0 } },
	{ V(ie_missing_recovery), GTPU_E_IE_MISSING, { 0 } },
	{ V(ie_missing_peer), GTPU_E_IE_MISSING, { 0 } },
	{ V(ie_missing_teid), GTPU_E_IE_MISSING, { 0 } },
	{ V(ie_missing_ext_list), GTPU_E_IE_MISSING, { 0 } },
};

static void check_ies(const struct gtpu_ies *g, const struct gtpu_ies *w)
{
	assert_int_equal(g->has_recovery, w->has_recovery);
	assert_int_equal(g->recovery, w->recovery);
	assert_int_equal(g->has_teid_data, w->has_teid_data);
	assert_int_equal(g->teid_data, w->teid_data);
	assert_int_equal(g->has_peer_addr, w->has_peer_addr);
	assert_int_equal(g->peer_addr_len, w->peer_addr_len);
	assert_memory_equal(g->peer_addr, w->peer_addr, sizeof(w->peer_addr));
	assert_int_equal(g->has_ext_types, w->has_ext_types);
	assert_int_equal(g->n_ext_types, w->n_ext_types);
	assert_memory_equal(g->ext_types, w->ext_types, w->n_ext_types);
	assert_int_equal(g->n_private, w->n_private);
}

static void test_parse_ies(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(ie_rows) / sizeof(ie_rows[0]); i++) {
		const struct ie_row *r = &ie_rows[i];
		struct gtpu_hdr h;
		struct gtpu_ies ies;
		enum gtpu_err e;

		print_message("# row %s\n", r->name);
		/* The header is valid in every row: only the IEs are at fault. */
		assert_int_equal(gtpu_parse(r->buf, r->len, &h), GTPU_OK);
		memset(&ies, 0xa5, sizeof(ies));
		e = gtpu_parse_ies(r->buf, &h, &ies);
		assert_string_equal(gtpu_err_name(e), gtpu_err_name(r->want));
		if (r->want == GTPU_OK)
			check_ies(&ies, &r->w);
	}
}

/* ---- Builders, compared byte for byte with scapy's messages ---- */

struct encap_row {
	const char *name;
	const uint8_t *buf;
	size_t len;
	struct gtpu_encap e;
};

static const struct encap_row encap_rows[] = {
	{ V(gpdu_plain), { .teid = 0x100 } },
	{ V(gpdu_seq), { .teid = 0x200, .with_seq = true, .seq = 0x1234 } },
	{ V(gpdu_pdu_dl), { .teid = 0x300, .with_pdu_session = true, .pdu_type = GTPU_PDU_DL,
			    .qfi = 9 } },
	{ V(gpdu_pdu_ul_seq), { .teid = 0x301, .with_seq = true, .seq = 7, .with_pdu_session = true,
				.pdu_type = GTPU_PDU_UL, .qfi = 5, .type = GTPU_GPDU } },
};

static void test_build_encap(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(encap_rows) / sizeof(encap_rows[0]); i++) {
		const struct encap_row *r = &encap_rows[i];
		uint8_t b[GTPU_HEADROOM + INNER_LEN];
		size_t n;

		print_message("# row %s\n", r->name);
		memset(b, 0xee, sizeof(b));
		memcpy(b + GTPU_HEADROOM, vec_ip_payload, INNER_LEN);
		n = gtpu_encap(b, GTPU_HEADROOM, INNER_LEN, &r->e);
		assert_int_equal(n + INNER_LEN, r->len);
		assert_memory_equal(b + GTPU_HEADROOM - n, r->buf, r->len);
		/* Exactly enough headroom works; one byte less does not. */
		assert_int_equal(gtpu_encap(b + GTPU_HEADROOM - n, n, INNER_LEN, &r->e), n);
		assert_int_equal(gtpu_encap(b + GTPU_HEADROOM - n + 1, n - 1, INNER_LEN, &r->e), 0);
	}
}

static void test_build_encap_max(void **state)
{
	static uint8_t b[GTPU_HEADROOM + 65536 + 8];
	const struct gtpu_encap e = { .teid = 1, .with_pdu_session = true, .qfi = 1 };
	struct gtpu_hdr h;
	size_t n, max = 65535 + 8 - 16;

	(void)state;
	n = gtpu_encap(b, GTPU_HEADROOM, max, &e);
	assert_int_equal(n, 16);
	assert_int_equal(gtpu_parse(b + GTPU_HEADROOM - n, n + max, &h), GTPU_OK);
	assert_int_equal(h.length, 65535);
	assert_int_equal(gtpu_encap(b, GTPU_HEADROOM, max + 1, &e), 0);
}

enum builder { B_ECHO_REQ, B_ECHO_RSP, B_ERR_IND, B_SUPP, B_END };

struct build_row {
	const char *name;
	const uint8_t *buf;
	size_t len;
	enum builder kind;
	uint16_t seq;
	uint32_t teid;
	uint8_t recovery;
	uint8_t addr[16];
	size_t addr_len;
	int udp_port;
	uint8_t types[4];
	size_t n_types;
};

static const struct build_row build_rows[] = {
	{ V(echo_req), B_ECHO_REQ, .seq = 0x0101 },
	{ V(echo_rsp), B_ECHO_RSP, .seq = 0x0101, .recovery = 0 },
	{ V(echo_rsp_recovery42), B_ECHO_RSP, .seq = 9, .recovery = 42 },
	{ V(err_ind_v4), B_ERR_IND, .seq = 3, .teid = 0x12345678, .addr = { 192, 0, 2, 10 },
	  .addr_len = 4, .udp_port = -1 },
	{ V(err_ind_v6), B_ERR_IND, .seq = 4, .teid = 0xdeadbeef,
	  .addr = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x10 }, .addr_len = 16, .udp_port = -1 },
	{ V(err_ind_udp_port), B_ERR_IND, .seq = 5, .teid = 0x100, .addr = { 203, 0, 113, 5 },
	  .addr_len = 4, .udp_port = 2152 },
	{ V(supp_ext_notif), B_SUPP, .seq = 0x55, .types = { 0x85, 0xc0 }, .n_types = 2 },
	{ V(end_marker), B_END, .teid = 0x300 },
};

static size_t build(const struct build_row *r, uint8_t *b, size_t cap)
{
	switch (r->kind) {
	case B_ECHO_REQ: return gtpu_build_echo_req(b, cap, r->seq);
	case B_ECHO_RSP: return gtpu_build_echo_rsp(b, cap, r->seq, r->recovery);
	case B_ERR_IND: return gtpu_build_error_ind(b, cap, r->seq, r->teid, r->addr,
						     r->addr_len, r->udp_port);
	case B_SUPP: return gtpu_build_supp_ext_notif(b, cap, r->seq, r->types, r->n_types);
	case B_END: return gtpu_build_end_marker(b, cap, r->teid);
	}
	return 0;
}

static void test_build_signalling(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(build_rows) / sizeof(build_rows[0]); i++) {
		const struct build_row *r = &build_rows[i];
		uint8_t b[128];
		struct gtpu_hdr h;
		struct gtpu_ies ies;

		print_message("# row %s\n", r->name);
		memset(b, 0xee, sizeof(b));
		assert_int_equal(build(r, b, sizeof(b)), r->len);
		assert_memory_equal(b, r->buf, r->len);
		/* Exactly enough room works, one byte less writes nothing. */
		assert_int_equal(build(r, b, r->len), r->len);
		memset(b, 0xee, sizeof(b));
		assert_int_equal(build(r, b, r->len - 1), 0);
		assert_int_equal(b[0], 0xee);
		/* And what we build we parse. */
		build(r, b, sizeof(b));
		assert_int_equal(gtpu_parse(b, r->len, &h), GTPU_OK);
		if (r->kind != B_END)
			assert_int_equal(gtpu_parse_ies(b, &h, &ies), GTPU_OK);
	}
}

static void test_build_refused(void **state)
{
	uint8_t b[256], types[GTPU_MAX_EXT_TYPES + 1] = { 0 };
	const uint8_t addr[16] = { 0 };

	(void)state;
	assert_int_equal(gtpu_build_error_ind(b, sizeof(b), 1, 1, addr, 5, -1), 0);
	assert_int_equal(gtpu_build_error_ind(b, sizeof(b), 1, 1, addr, 0, -1), 0);
	assert_int_equal(gtpu_build_error_ind(b, sizeof(b), 1, 1, addr, 4, 65536), 0);
	assert_int_equal(gtpu_build_error_ind(b, sizeof(b), 1, 1, addr, 4, 65535), 12 + 4 + 5 + 3 + 4);
	assert_int_equal(gtpu_build_supp_ext_notif(b, sizeof(b), 1, types, GTPU_MAX_EXT_TYPES + 1), 0);
	assert_int_equal(gtpu_build_supp_ext_notif(b, sizeof(b), 1, types, GTPU_MAX_EXT_TYPES),
			 14 + GTPU_MAX_EXT_TYPES);
}

/* ---- Relay rewrite ---- */

struct relay_row {
	const char *name;
	const uint8_t *in;
	size_t in_len;
	const uint8_t *out;
	size_t out_len;
	uint32_t teid;
	size_t start;
};

#define R(i, o) #i, vec_##i, sizeof(vec_##i), vec_##o, sizeof(vec_##o)
static const struct relay_row relay_rows[] = {
	{ R(gpdu_seq, relay_seq_out), 0xa0a0a0a0, 0 },
	{ R(gpdu_pdu_dl, relay_pdu_dl_out), 0xa0a0a0a1, 0 },
	{ R(gpdu_udp_port_seq, relay_udp_port_seq_out), 0xa0a0a0a2, 4 },
	/* Fuzz-found (tests/fuzz/crashes/fuzz_gtpu-crash-e2684abf...): E alone
	 * was cleared and the optional word became payload. */
	{ R(gpdu_udp_port, relay_udp_port_out), 0xa0a0a0a5, 4 },
	{ R(gpdu_chain, relay_chain_out), 0xa0a0a0a3, 4 },
	{ R(gpdu_unknown, relay_unknown_out), 0xa0a0a0a4, 4 },
};

static void test_relay_rewrite(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(relay_rows) / sizeof(relay_rows[0]); i++) {
		const struct relay_row *r = &relay_rows[i];
		uint8_t b[256];
		struct gtpu_hdr h, h2;
		size_t start = 99, n;

		print_message("# row %s\n", r->name);
		memcpy(b, r->in, r->in_len);
		assert_int_equal(gtpu_parse(b, r->in_len, &h), GTPU_OK);
		n = gtpu_relay_rewrite(b, &h, r->teid, &start);
		assert_int_equal(start, r->start);
		assert_int_equal(n, r->out_len);
		assert_memory_equal(b + start, r->out, r->out_len);
		/* The result parses and keeps no class-01 header. */
		assert_int_equal(gtpu_parse(b + start, n, &h2), GTPU_OK);
		for (unsigned k = 0; k < h2.n_ext; k++)
			assert_int_not_equal(gtpu_ext_class(h2.ext[k].type), GTPU_EXT_CLASS_DISCARD);
	}
}

static void test_relay_end_marker(void **state)
{
	uint8_t b[8];
	const uint8_t want[8] = { 0x30, 0xfe, 0, 0, 0x01, 0x02, 0x03, 0x04 };
	struct gtpu_hdr h;
	size_t start = 99;

	(void)state;
	memcpy(b, vec_end_marker, 8);
	assert_int_equal(gtpu_parse(b, 8, &h), GTPU_OK);
	assert_int_equal(gtpu_relay_rewrite(b, &h, 0x01020304, &start), 8);
	assert_int_equal(start, 0);
	assert_memory_equal(b, want, 8);
}

/* ---- Error names ---- */

static void test_err_names(void **state)
{
	static const struct { enum gtpu_err e; const char *name, *str; } rows[] = {
		{ GTPU_OK, "ok", "valid GTP-U message" },
		{ GTPU_E_SHORT, "too_short", "datagram shorter than the GTP-U header" },
		{ GTPU_E_VERSION, "bad_version", "GTP version is not 1" },
		{ GTPU_E_PT, "bad_pt", "protocol type is not GTP (PT = 0)" },
		{ GTPU_E_LEN_LONG, "length_long", "Length field runs past the end of the datagram" },
		{ GTPU_E_LEN_SHORT, "length_short", "Length field leaves bytes of the datagram unused" },
		{ GTPU_E_EXT_ZERO, "ext_zero_length", "extension header with length 0" },
		{ GTPU_E_EXT_TRUNC, "ext_truncated",
		  "extension header chain runs past the end of the message" },
		{ GTPU_E_EXT_TOO_MANY, "ext_too_many", "too many extension headers" },
		{ GTPU_E_EXT_BAD, "ext_bad", "extension header with a bad length or content" },
		{ GTPU_E_IE_TRUNC, "ie_truncated",
		  "information element runs past the end of the message" },
		{ GTPU_E_IE_BAD, "ie_bad", "information element with a bad type or length" },
		{ GTPU_E_IE_MISSING, "ie_missing", "mandatory information element missing" },
	};

	(void)state;
	assert_int_equal(sizeof(rows) / sizeof(rows[0]), GTPU_E__COUNT);
	for (size_t i = 0; i < GTPU_E__COUNT; i++) {
		assert_int_equal(rows[i].e, i);
		assert_string_equal(gtpu_err_name(rows[i].e), rows[i].name);
		assert_string_equal(gtpu_err_str(rows[i].e), rows[i].str);
	}
	assert_string_equal(gtpu_err_name(GTPU_E__COUNT), "unknown");
}

/* ---- Fuzzer crash inputs, replayed forever ---- */

/* Runs one input through everything the parse harness does. */
static void replay(const uint8_t *data, size_t len)
{
	uint8_t *b = malloc(len ? len : 1);
	struct gtpu_hdr h;
	struct gtpu_ies ies;
	size_t start;

	memcpy(b, data, len);
	if (gtpu_parse(b, len, &h) == GTPU_OK) {
		struct gtpu_hdr h2;
		size_t n;

		assert_int_equal(h.msg_len, len);
		(void)gtpu_parse_ies(b, &h, &ies);
		n = gtpu_relay_rewrite(b, &h, 0x01020304, &start);
		assert_int_equal(start + n, len);
		/* The rewritten message parses, with the same payload. */
		assert_int_equal(gtpu_parse(b + start, n, &h2), GTPU_OK);
		assert_int_equal(h2.teid, 0x01020304);
		assert_int_equal(h2.has_opt, h.has_opt);
		assert_int_equal(n - h2.hdr_len, len - h.hdr_len);
		assert_memory_equal(b + start + h2.hdr_len, data + h.hdr_len, len - h.hdr_len);
	}
	free(b);
}

static const char *crash_dir(char *buf, size_t cap)
{
	const char *top = getenv("top_srcdir");
	const char *file = __FILE__, *slash;

	if (top) {
		snprintf(buf, cap, "%s/tests/fuzz/crashes", top);
		return buf;
	}
	/* Run by hand: find the crashes next to this source file. */
	slash = strrchr(file, '/');
	if (!slash)
		snprintf(buf, cap, "fuzz/crashes");
	else
		snprintf(buf, cap, "%.*s/fuzz/crashes", (int)(slash - file), file);
	return buf;
}

static void test_fuzz_crashes(void **state)
{
	char dir[4096], path[8192];
	struct dirent *de;
	DIR *d;
	int n = 0;

	(void)state;
	d = opendir(crash_dir(dir, sizeof(dir)));
	if (!d)
		fail_msg("cannot open %s: %s", dir, strerror(errno));
	while ((de = readdir(d))) {
		struct stat st;
		uint8_t data[70000];
		FILE *f;
		size_t len;

		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (de->d_name[0] == '.' || !strcmp(de->d_name, "README") ||
		    stat(path, &st) || !S_ISREG(st.st_mode))
			continue;
		f = fopen(path, "rb");
		assert_non_null(f);
		len = fread(data, 1, sizeof(data), f);
		fclose(f);
		print_message("# replay %s (%zu bytes)\n", de->d_name, len);
		replay(data, len);
		n++;
	}
	closedir(d);
	print_message("# %d crash inputs replayed\n", n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_valid),
		cmocka_unit_test(test_parse_fail),
		cmocka_unit_test(test_parse_short),
		cmocka_unit_test(test_parse_ext_zero_1500),
		cmocka_unit_test(test_parse_truncated),
		cmocka_unit_test(test_ext_class),
		cmocka_unit_test(test_parse_ies),
		cmocka_unit_test(test_build_encap),
		cmocka_unit_test(test_build_encap_max),
		cmocka_unit_test(test_build_signalling),
		cmocka_unit_test(test_build_refused),
		cmocka_unit_test(test_relay_rewrite),
		cmocka_unit_test(test_relay_end_marker),
		cmocka_unit_test(test_err_names),
		cmocka_unit_test(test_fuzz_crashes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
