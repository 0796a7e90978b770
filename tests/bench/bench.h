/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the bench generator writes into each G-PDU and the sink reads back:
 * the layout of the inner payload, shared by gen.c and sink.c. */
#ifndef GTPUD_BENCH_H
#define GTPUD_BENCH_H

#include <stdint.h>
#include <string.h>
#include <time.h>

#define BENCH_MAGIC 0x47544231u    /* "GTB1" */
#define BENCH_GTP_HDR 8            /* no optional word: flags 0x30 */

/* Inner payload, right after the 8-byte GTP-U header, host byte order
 * (generator and sink run on the same machine). */
struct bench_payload {
	uint32_t magic;
	uint32_t from_teid;        /* the TEID the generator sent, to check the rewrite */
	uint64_t seq;              /* 0, 1, 2... over the whole run */
	uint64_t ts_ns;            /* CLOCK_MONOTONIC at send */
} __attribute__((packed));

static inline uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* splitmix64: uniformly spread TEIDs that are the same in every run. */
static inline uint64_t bench_mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

#endif
