/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The PFCP codec against messages and IEs that scapy built
 * (tests/pfcp_vectors.h): what gtpud reads is what scapy wrote, what gtpud
 * writes is byte for byte what scapy writes, and broken input is refused. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <string.h>

#include "pfcp_msg.h"
#include "pfcp_vectors.h"

/* The first IE of type t at the top level of b[0..n), or fail. */
static struct pfcp_ie find(const uint8_t *b, size_t n, uint16_t t, unsigned nth)
{
	struct pfcp_iter it;
	struct pfcp_ie ie;

	pfcp_iter_init(&it, b, n);
	while (pfcp_ie_next(&it, &ie) > 0)
		if (ie.type == t && !nth--)
			return ie;
	fail_msg("IE %u not found", t);
	return ie;
}

static void test_header(void **state)
{
	struct pfcp_hdr h;

	(void)state;
	assert_int_equal(pfcp_hdr_parse(v_est, sizeof(v_est), &h), PFCP_HDR_OK);
	assert_true(h.has_seid);
	assert_int_equal(h.type, PFCP_SESS_EST_REQ);
	assert_int_equal(h.seq, 0x123456);
	assert_int_equal(h.hdr_len, 16);
	assert_int_equal(pfcp_hdr_parse(v_mod, sizeof(v_mod), &h), PFCP_HDR_OK);
	assert_int_equal(h.seid, 0x99);
	assert_int_equal(pfcp_hdr_parse(v_hb, sizeof(v_hb), &h), PFCP_HDR_OK);
	assert_false(h.has_seid);
	assert_int_equal(h.hdr_len, 8);
	assert_int_equal(h.seq, 77);
	/* Cut short, one byte too many, another version. */
	assert_int_equal(pfcp_hdr_parse(v_hb, 7, &h), PFCP_HDR_SHORT);
	assert_int_equal(pfcp_hdr_parse(v_hb, sizeof(v_hb) - 1, &h), PFCP_HDR_LENGTH);
	{
		uint8_t b[sizeof(v_hb) + 1];

		memcpy(b, v_hb, sizeof(v_hb));
		assert_int_equal(pfcp_hdr_parse(b, sizeof(b), &h), PFCP_HDR_LENGTH);
		b[0] = (uint8_t)(2 << 5);
		assert_int_equal(pfcp_hdr_parse(b, sizeof(v_hb), &h), PFCP_HDR_VERSION);
	}
}

static void test_session_rules(void **state)
{
	const uint8_t *ies = v_est + 16;
	size_t n = sizeof(v_est) - 16;
	struct pfcp_ie ie = find(ies, n, IE_CREATE_PDR, 0);
	struct pfcp_fail f = { 0 };
	struct pfcp_pdr p;
	struct pfcp_far r;
	struct pfcp_bar bar;
	struct pfcp_fseid fs;
	struct pfcp_node_id id;
	char s[300];

	(void)state;
	assert_true(pfcp_parse_pdr(&ie, false, &p, &f));
	assert_int_equal(p.id, 7);
	assert_int_equal(p.precedence, 255);
	assert_int_equal(p.src_if, PFCP_IF_ACCESS);
	assert_int_equal(p.fteid.flags, PFCP_FTEID_CH | PFCP_FTEID_CHID | PFCP_FTEID_V4);
	assert_int_equal(p.fteid.choose_id, 9);
	assert_true(p.has & PDR_HAS_UE);
	assert_memory_equal(p.ue.v4, "\xcb\x00\x71\x09", 4);
	assert_int_equal(p.qfi, 5);
	assert_int_equal(p.ohr, PFCP_OHR_GTPU_V4);
	assert_int_equal(p.far_id, 3);
	assert_int_equal(p.n_qer, 1);
	assert_int_equal(p.qer[0], 11);
	assert_int_equal(p.n_urr, 1);
	assert_int_equal(p.urr[0], 12);
	assert_int_equal(p.ni_len, 9);   /* "internet" as one APN label */
	ie = find(ies, n, IE_CREATE_FAR, 0);
	assert_true(pfcp_parse_far(&ie, false, &r, &f));
	assert_int_equal(r.id, 3);
	assert_int_equal(r.action, PFCP_AA_FORW);
	assert_int_equal(r.dst_if, PFCP_IF_CORE);
	assert_int_equal(r.ohc.desc, PFCP_OHC_GTPU_V6);
	assert_int_equal(r.ohc.teid, 0xcafe);
	assert_memory_equal(r.ohc.v6, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x20", 16);
	ie = find(ies, n, IE_F_SEID, 0);
	assert_true(pfcp_get_fseid(&ie, &fs));
	assert_true(fs.seid == 0x1122334455667788ull);
	assert_int_equal(fs.v4.family, AF_INET);
	ie = find(ies, n, IE_NODE_ID, 0);
	assert_true(pfcp_get_node_id(&ie, &id));
	pfcp_node_id_str(&id, s, sizeof(s));
	assert_string_equal(s, "smf.example.org");

	/* Update FAR with SNDEM; a FAR that duplicates is refused by name; one
	 * that buffers with NOCP names its BAR; the BAR. */
	ies = v_mod + 16;
	n = sizeof(v_mod) - 16;
	ie = find(ies, n, IE_UPDATE_FAR, 0);
	assert_true(pfcp_parse_far(&ie, true, &r, &f));
	assert_true(r.sndem);
	assert_int_equal(r.ohc.teid, 0xbeef);
	ie = find(ies, n, IE_CREATE_FAR, 0);
	assert_false(pfcp_parse_far(&ie, false, &r, &f));
	assert_int_equal(f.cause, PFCP_CAUSE_NOT_SUPPORTED);
	assert_int_equal(f.rule_type, PFCP_RULE_FAR);
	assert_int_equal(f.rule_id, 4);
	assert_int_equal(f.offending, IE_APPLY_ACTION);
	ie = find(ies, n, IE_CREATE_FAR, 1);
	assert_true(pfcp_parse_far(&ie, false, &r, &f));
	assert_int_equal(r.id, 5);
	assert_int_equal(r.action, PFCP_AA_BUFF | PFCP_AA_NOCP);
	assert_true(r.has & FAR_HAS_BAR);
	assert_int_equal(r.bar_id, 2);
	ie = find(ies, n, IE_CREATE_BAR, 0);
	assert_true(pfcp_parse_bar(&ie, false, &bar, &f));
	assert_int_equal(bar.id, 2);
	assert_int_equal(bar.has, BAR_HAS_DELAY | BAR_HAS_COUNT);
	assert_int_equal(bar.dl_delay, 3);
	assert_int_equal(bar.count, 7);

	/* A Session Report Response's Update BAR: 2 minutes, 300 packets. */
	ie = (struct pfcp_ie){ IE_UPDATE_BAR_SRR, sizeof(v_srr_bar) - 4, 0, v_srr_bar + 4 };
	assert_true(pfcp_parse_bar(&ie, true, &bar, &f));
	assert_int_equal(bar.id, 2);
	assert_int_equal(bar.has, BAR_HAS_DURATION | BAR_HAS_DL_COUNT);
	assert_int_equal(bar.duration, 120);
	assert_int_equal(bar.dl_count, 300);
	/* Without its BAR ID: named as missing. */
	ie.v = v_srr_bar + 9;
	ie.len = sizeof(v_srr_bar) - 9;
	assert_false(pfcp_parse_bar(&ie, true, &bar, &f));
	assert_int_equal(f.cause, PFCP_CAUSE_MANDATORY_MISSING);
	assert_int_equal(f.offending, IE_BAR_ID);
}

static void enc_equal(void (*put)(struct pfcp_buf *w, const void *x), const void *x,
		      const uint8_t *want, size_t n)
{
	uint8_t b[128];
	struct pfcp_buf w = { b, 0, sizeof(b), false };

	put(&w, x);
	assert_false(w.overflow);
	assert_int_equal(w.len, n);
	assert_memory_equal(b, want, n);
}

static void put_fteid(struct pfcp_buf *w, const void *x)
{
	pfcp_put_fteid(w, x);
}

static void put_node(struct pfcp_buf *w, const void *x)
{
	pfcp_put_node_id(w, x);
}

static void put_fseid4(struct pfcp_buf *w, const void *x)
{
	const struct pfcp_addr *a = x;

	pfcp_put_fseid(w, 0xa1a2a3a4a5a6a7a8ull, a, NULL);
}

static void test_encode_as_scapy(void **state)
{
	struct pfcp_fteid f = { .flags = PFCP_FTEID_V4, .teid = 0x01020304 };
	struct pfcp_node_id id;
	struct pfcp_addr a = { .family = AF_INET };

	(void)state;
	inet_pton(AF_INET, "192.0.2.1", f.v4);
	enc_equal(put_fteid, &f, v_fteid4, sizeof(v_fteid4));
	f.flags |= PFCP_FTEID_V6;
	f.teid = 0xfffffffe;
	inet_pton(AF_INET6, "2001:db8::1", f.v6);
	enc_equal(put_fteid, &f, v_fteid46, sizeof(v_fteid46));
	assert_true(pfcp_node_id_parse("upf.example.org", &id));
	enc_equal(put_node, &id, v_nodeid_fqdn, sizeof(v_nodeid_fqdn));
	assert_true(pfcp_node_id_parse("2001:db8::1", &id));
	enc_equal(put_node, &id, v_nodeid_v6, sizeof(v_nodeid_v6));
	inet_pton(AF_INET, "198.51.100.1", a.a);
	enc_equal(put_fseid4, &a, v_fseid4, sizeof(v_fseid4));
	assert_false(pfcp_node_id_parse("bad..name", &id));
	assert_false(pfcp_node_id_parse("under_score", &id));
}

static void test_refused(void **state)
{
	struct pfcp_iter it;
	struct pfcp_ie ie;
	struct pfcp_fteid f;
	uint8_t cut[] = { 0x00, 0x15, 0x00, 0x09, 0x01, 0x00 };   /* F-TEID claiming 9 octets */
	uint8_t ch_nofam[] = { 0x00, 0x15, 0x00, 0x01, 0x04 };  /* CH without V4 or V6 */
	uint8_t chid_noch[] = { 0x00, 0x15, 0x00, 0x06, 0x09, 0, 0, 0, 1, 0 };

	(void)state;
	pfcp_iter_init(&it, cut, sizeof(cut));
	assert_int_equal(pfcp_ie_next(&it, &ie), -1);
	assert_int_equal(ie.type, IE_F_TEID);
	pfcp_iter_init(&it, ch_nofam, sizeof(ch_nofam));
	assert_int_equal(pfcp_ie_next(&it, &ie), 1);
	assert_false(pfcp_get_fteid(&ie, &f));
	pfcp_iter_init(&it, chid_noch, sizeof(chid_noch));
	assert_int_equal(pfcp_ie_next(&it, &ie), 1);
	assert_false(pfcp_get_fteid(&ie, &f));
	/* SDF filters: everything, or refused. */
	pfcp_iter_init(&it, v_sdf_any, sizeof(v_sdf_any));
	assert_int_equal(pfcp_ie_next(&it, &ie), 1);
	assert_true(pfcp_sdf_all_ip(&ie));
	pfcp_iter_init(&it, v_sdf_port, sizeof(v_sdf_port));
	assert_int_equal(pfcp_ie_next(&it, &ie), 1);
	assert_false(pfcp_sdf_all_ip(&ie));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header),
		cmocka_unit_test(test_session_rules),
		cmocka_unit_test(test_encode_as_scapy),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
