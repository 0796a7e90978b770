/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer harness: gtpu_parse on arbitrary datagrams, then gtpu_parse_ies
 * and gtpu_relay_rewrite on what it accepts, checking their invariants. */
// FUZZ_SOURCES: src/gtpu.c
#include <stdlib.h>
#include <string.h>

#include "gtpu.h"

#define CHECK(c) do { if (!(c)) __builtin_trap(); } while (0)

static void check_rewrite(const uint8_t *data, size_t size, const struct gtpu_hdr *h)
{
	uint8_t *b = malloc(size);
	struct gtpu_hdr h2;
	size_t start = (size_t)-1, n;
	unsigned kept = 0;

	memcpy(b, data, size);
	n = gtpu_relay_rewrite(b, h, 0xfeedf00d, &start);
	CHECK(start <= size && start + n == size);
	/* The result is a valid message with the new TEID, the same payload,
	 * the same optional word and no class-01 extension header. */
	CHECK(gtpu_parse(b + start, n, &h2) == GTPU_OK);
	CHECK(h2.teid == 0xfeedf00d && h2.type == h->type);
	CHECK(h2.has_opt == h->has_opt && h2.seq == h->seq && h2.npdu == h->npdu);
	CHECK(h2.msg_len - h2.hdr_len == h->msg_len - h->hdr_len);
	CHECK(!memcmp(b + start + h2.hdr_len, data + h->hdr_len, h->msg_len - h->hdr_len));
	for (unsigned i = 0; i < h->n_ext; i++)
		if (gtpu_ext_class(h->ext[i].type) != GTPU_EXT_CLASS_DISCARD)
			CHECK(h2.ext[kept++].type == h->ext[i].type);
	CHECK(h2.n_ext == kept);
	for (unsigned i = 0; i < h2.n_ext; i++)
		CHECK(gtpu_ext_class(h2.ext[i].type) != GTPU_EXT_CLASS_DISCARD);
	free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gtpu_hdr h;
	struct gtpu_ies ies;
	enum gtpu_err e;

	e = gtpu_parse(data, size, &h);
	CHECK(e < GTPU_E__COUNT);
	CHECK(strcmp(gtpu_err_name(e), "unknown") != 0);
	if (e != GTPU_OK)
		return 0;
	CHECK(h.msg_len == size && h.hdr_len <= h.msg_len && h.n_ext <= GTPU_MAX_EXT);
	CHECK(h.hdr_len >= (h.has_opt ? 12 : 8));
	for (unsigned i = 0; i < h.n_ext; i++)
		CHECK(h.ext[i].len4 && h.ext[i].off + h.ext[i].len4 * 4u <= h.hdr_len);
	e = gtpu_parse_ies(data, &h, &ies);
	CHECK(e < GTPU_E__COUNT);
	if (e == GTPU_OK && ies.has_peer_addr)
		CHECK(ies.peer_addr_len == 4 || ies.peer_addr_len == 16);
	if (e == GTPU_OK)
		CHECK(ies.n_ext_types <= GTPU_MAX_EXT_TYPES);
	check_rewrite(data, size, &h);
	return 0;
}
