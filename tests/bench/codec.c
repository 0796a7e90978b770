/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Codec micro-benchmark: ns per gtpu_parse and per gtpu_relay_rewrite over a
 * batch of G-PDUs with a PDU Session Container. "codec callgrind N" runs N
 * parse+rewrite pairs through one_packet() for callgrind to count. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gtpu.h"

#define BATCH 64
#define PAYLOAD 1400
#define BUF (GTPU_HEADROOM + PAYLOAD)

static uint8_t pkts[BATCH][BUF];
static size_t lens[BATCH];
static uint8_t *msgs[BATCH];
static struct gtpu_hdr hs[BATCH];

static void make_batch(void)
{
	for (int i = 0; i < BATCH; i++) {
		struct gtpu_encap e = {
			.teid = 0x1000u + (uint32_t)i, .with_seq = i & 1, .seq = (uint16_t)i,
			.with_pdu_session = true, .pdu_type = GTPU_PDU_DL, .qfi = 9,
		};
		size_t n;

		memset(pkts[i] + GTPU_HEADROOM, 0x45, PAYLOAD);
		n = gtpu_encap(pkts[i], GTPU_HEADROOM, PAYLOAD, &e);
		if (!n)
			abort();
		msgs[i] = pkts[i] + GTPU_HEADROOM - n;
		lens[i] = n + PAYLOAD;
	}
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* The unit callgrind counts: one parse and one relay rewrite. */
__attribute__((noinline)) static size_t one_packet(uint8_t *msg, size_t len, uint32_t teid)
{
	struct gtpu_hdr h;
	size_t start;

	if (gtpu_parse(msg, len, &h) != GTPU_OK || !h.has_pdu_session)
		abort();
	return gtpu_relay_rewrite(msg, &h, teid, &start);
}

int main(int argc, char **argv)
{
	long rounds = argc > 2 ? atol(argv[2]) : 20000;
	volatile size_t sink = 0;
	struct gtpu_hdr h;
	double t0, t1, t2;

	make_batch();
	if (argc > 1 && !strcmp(argv[1], "callgrind")) {
		for (long r = 0; r < rounds; r++)
			sink += one_packet(msgs[r % BATCH], lens[r % BATCH], (uint32_t)r);
		return sink ? 0 : 1;
	}
	t0 = now_ns();
	for (long r = 0; r < rounds; r++)
		for (int i = 0; i < BATCH; i++)
			sink += gtpu_parse(msgs[i], lens[i], &h) + h.pdu_session.qfi;
	/* The rewrite needs a parsed header: parse the batch once, then time
	 * rewrites alone (the in-place rewrite can be repeated). */
	for (int i = 0; i < BATCH; i++)
		if (gtpu_parse(msgs[i], lens[i], &hs[i]) != GTPU_OK)
			abort();
	t1 = now_ns();
	for (long r = 0; r < rounds; r++)
		for (int i = 0; i < BATCH; i++) {
			size_t start;

			sink += gtpu_relay_rewrite(msgs[i], &hs[i], (uint32_t)r, &start);
		}
	t2 = now_ns();
	printf("%.2f %.2f\n", (t1 - t0) / ((double)rounds * BATCH),
	       (t2 - t1) / ((double)rounds * BATCH));
	return sink ? 0 : 1;
}
