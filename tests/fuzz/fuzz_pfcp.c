/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer harness: the PFCP codec on arbitrary datagrams. The header, then
 * every IE at every level that gtpud descends into, through every decoder;
 * what decodes is encoded again and must decode to the same. */
// FUZZ_SOURCES: src/pfcp_msg.c
#include <stdlib.h>
#include <string.h>

#include "pfcp_msg.h"

#define CHECK(c) do { if (!(c)) __builtin_trap(); } while (0)

static void roundtrip(const struct pfcp_ie *ie)
{
	uint8_t b[512];
	struct pfcp_buf w = { b, 0, sizeof(b), false };
	struct pfcp_iter it;
	struct pfcp_ie back;
	struct pfcp_fteid f, g;
	struct pfcp_node_id n, m;

	if (ie->type == IE_F_TEID && pfcp_get_fteid(ie, &f) && !(f.flags & PFCP_FTEID_CH)) {
		pfcp_put_fteid(&w, &f);
		pfcp_iter_init(&it, b, w.len);
		CHECK(pfcp_ie_next(&it, &back) == 1 && pfcp_get_fteid(&back, &g));
		CHECK(g.teid == f.teid && g.flags == f.flags && !memcmp(g.v4, f.v4, 4) && !memcmp(g.v6, f.v6, 16));
	}
	if (ie->type == IE_NODE_ID && pfcp_get_node_id(ie, &n)) {
		char s[300];

		pfcp_put_node_id(&w, &n);
		pfcp_iter_init(&it, b, w.len);
		CHECK(pfcp_ie_next(&it, &back) == 1 && pfcp_get_node_id(&back, &m) && pfcp_node_id_eq(&n, &m));
		pfcp_node_id_str(&n, s, sizeof(s));
		CHECK(strlen(s) < sizeof(s));
	}
}

static void walk(const uint8_t *p, size_t n, int depth)
{
	struct pfcp_iter it;
	struct pfcp_ie ie;
	struct pfcp_fail f;
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	struct pfcp_fseid fs;
	struct pfcp_ohc oh;
	struct pfcp_ueip ue;
	struct pfcp_pdr pdr;
	struct pfcp_far far;
	struct pfcp_bar bar;

	pfcp_iter_init(&it, p, n);
	while (pfcp_ie_next(&it, &ie) > 0) {
		CHECK(ie.v >= p && ie.v + ie.len <= p + n);
		pfcp_get_u8(&ie, &u8);
		pfcp_get_u16(&ie, &u16);
		pfcp_get_u32(&ie, &u32);
		pfcp_get_fseid(&ie, &fs);
		pfcp_get_ohc(&ie, &oh);
		pfcp_get_ueip(&ie, &ue);
		pfcp_sdf_all_ip(&ie);
		roundtrip(&ie);
		memset(&f, 0, sizeof(f));
		if (pfcp_parse_pdr(&ie, ie.type == IE_UPDATE_PDR, &pdr, &f))
			CHECK(pdr.n_qer <= PFCP_MAX_IDS && pdr.n_urr <= PFCP_MAX_IDS && pdr.ni_len <= sizeof(pdr.ni));
		else
			CHECK(f.cause >= PFCP_CAUSE_REJECTED && f.why[0]);
		memset(&f, 0, sizeof(f));
		if (pfcp_parse_far(&ie, ie.type == IE_UPDATE_FAR, &far, &f))
			CHECK(far.action == 0 || far.action == PFCP_AA_DROP || far.action == PFCP_AA_FORW ||
			      far.action == PFCP_AA_BUFF || far.action == (PFCP_AA_BUFF | PFCP_AA_NOCP));
		else
			CHECK(f.cause >= PFCP_CAUSE_REJECTED && f.why[0]);
		memset(&f, 0, sizeof(f));
		if (pfcp_parse_bar(&ie, ie.type == IE_UPDATE_BAR_SRR, &bar, &f))
			CHECK(!(bar.has & ~(BAR_HAS_DELAY | BAR_HAS_COUNT | BAR_HAS_DURATION | BAR_HAS_DL_COUNT)) &&
			      (bar.duration <= 31 * 36000 || bar.duration == UINT32_MAX));
		else
			CHECK(f.cause >= PFCP_CAUSE_REJECTED && f.why[0]);
		pfcp_parse_remove(&ie, IE_PDR_ID, &u32, &f);
		if (depth < 3)
			walk(ie.v, ie.len, depth + 1);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pfcp_hdr h;

	if (pfcp_hdr_parse(data, size, &h) != PFCP_HDR_OK)
		return 0;
	CHECK(h.hdr_len <= size && h.length + 4u == size && h.seq <= 0xffffff);
	pfcp_msg_name(h.type);
	walk(data + h.hdr_len, size - h.hdr_len, 0);
	return 0;
}
