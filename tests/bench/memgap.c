// SPDX-License-Identifier: GPL-2.0-or-later
/* What one random cache line of a table costs on this machine when a
 * CPU reads it as a relay does: in bursts of 32 reads with a packet's
 * worth of other work between them, and a gap between bursts in which the
 * CPU sleeps (as the relay's NAPI thread does at 100 kpps), spins, or
 * none. No BPF and no gtpud: a platform probe, for telling whether the
 * XDP fast path's 1,000,000-tunnel target (tests/bench/xdp.sh, gtpud's
 * table lookup one random line a packet) can be met on a machine at all.
 *
 * Usage: memgap [BURSTS]   (default 2000 bursts a cell, 5 runs a cell;
 * pin it: taskset -c 1 memgap). Prints ns per read, medians of the runs,
 * for tables of 64 KB to 48 MB in 4 KB pages (and 48 MB asking for 2 MB
 * transparent huge pages), against one line read again and again. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define BURST 32
#define RUNS 5
#define GAP_US 300

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static volatile uint64_t sink;    /* what is read goes here */

static uint64_t xorshift(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

enum gap { GAP_SLEEP, GAP_SPIN, GAP_NONE };

/* ns per read: lines random lines (1: the same one) of a table of kb KB. */
static double cell(size_t kb, int huge, size_t lines, enum gap gap, int bursts)
{
	size_t size = kb << 10, n = size / 64;
	uint8_t *t = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t total = 0;

	if (t == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	madvise(t, size, huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
	memset(t, 1, size);
	for (int r = 0; r < bursts; r++) {
		uint64_t t0;

		if (gap == GAP_SLEEP) {
			usleep(GAP_US);
		} else if (gap == GAP_SPIN) {
			for (uint64_t end = now_ns() + GAP_US * 1000u; now_ns() < end;)
				;
		}
		t0 = now_ns();
		for (int k = 0; k < BURST; k++) {
			size_t line = lines == 1 ? 0 : xorshift() % n;

			sink += *(volatile uint64_t *)(t + line * 64);
			for (volatile int w = 0; w < 50; w++)   /* the rest of a packet */
				;
		}
		total += now_ns() - t0;
	}
	munmap(t, size);
	return (double)total / ((double)bursts * BURST);
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(size_t kb, int huge, size_t lines, enum gap gap, int bursts)
{
	double v[RUNS];

	for (int i = 0; i < RUNS; i++)
		v[i] = cell(kb, huge, lines, gap, bursts);
	qsort(v, RUNS, sizeof(v[0]), cmp);
	return v[RUNS / 2];
}

int main(int argc, char **argv)
{
	static const struct { size_t kb; int huge; const char *name; } tabs[] = {
		{ 64, 0, "64 KB" }, { 512, 0, "512 KB" }, { 4096, 0, "4 MB" },
		{ 49152, 0, "48 MB" }, { 49152, 1, "48 MB, THP" },
	};
	static const char *gname[] = { "sleep 300 us", "spin 300 us", "no gap" };
	int bursts = argc > 1 ? atoi(argv[1]) : 2000;

	if (bursts <= 0) {
		fprintf(stderr, "usage: memgap [BURSTS]\n");
		return 2;
	}
	printf("ns per read in bursts of %d (medians of %d runs of %d bursts); between bursts:\n", BURST, RUNS,
	       bursts);
	printf("%-12s", "table");
	for (int g = 0; g < 3; g++)
		printf(" %14s", gname[g]);
	printf("\n%-12s", "one line");
	for (int g = 0; g < 3; g++)
		printf(" %14.0f", median(64, 0, 1, (enum gap)g, bursts));
	printf("\n");
	for (size_t i = 0; i < sizeof(tabs) / sizeof(tabs[0]); i++) {
		printf("%-12s", tabs[i].name);
		for (int g = 0; g < 3; g++)
			printf(" %14.0f", median(tabs[i].kb, tabs[i].huge, 2, (enum gap)g, bursts));
		printf("\n");
	}
	return 0;
}
