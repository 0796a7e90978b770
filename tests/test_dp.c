/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The datapath's own rules that need no sockets: drop reason labels, and
 * the generations of in-place table changes (a slot freed at generation g
 * is reused only once every worker has seen g or is idle), and the ring of
 * recent drops (wraparound, a reader beside the writer). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "dp.h"

static void test_tunnel_slots(void **st)
{
	/* Each reason that names a tunnel has its own slot, within the table's. */
	int used[TABLE_TDROPS] = { 0 }, n = 0;

	for (int r = 0; r < DROP__COUNT; r++) {
		int k = drop_tunnel_slot(r);

		if (k < 0)
			continue;
		assert_true(k < TABLE_TDROPS);
		assert_int_equal(used[k]++, 0);
		n++;
	}
	assert_int_equal(n, TABLE_TDROPS);
	assert_int_equal(drop_tunnel_slot(DROP_UNKNOWN_TEID), -1);
	assert_int_equal(drop_tunnel_slot(DROP_MALFORMED), -1);
	assert_true(drop_tunnel_slot(DROP_RATE_LIMIT) >= 0);
	assert_true(drop_tunnel_slot(DROP_WRONG_PEER) >= 0);
	assert_true(drop_tunnel_slot(DROP_TUN_ERROR) >= 0);
	assert_true(drop_tunnel_slot(DROP_TOO_BIG) >= 0);
}

/* Record n: every field a function of n, so that a torn read shows. */
static void rec_of(uint64_t n, struct dp_drop *d)
{
	memset(d, 0, sizeof(*d));
	d->time_ns = n;
	d->reason = (uint32_t)(n % DROP__COUNT);
	d->teid = (uint32_t)n;
	d->tunnel = (uint32_t)~n;
	d->port = (uint16_t)n;
	d->family = AF_INET6;
	d->flags = DP_DROP_SRC | DP_DROP_TEID;
	memset(d->src, (int)(n & 0xff), sizeof(d->src));
	memset(d->dst, (int)(~n & 0xff), sizeof(d->dst));
	memset(d->peer, 'a' + (int)(n % 26), sizeof(d->peer) - 1);
}

static bool rec_ok(uint64_t n, const struct dp_drop *d)
{
	struct dp_drop want;

	rec_of(n, &want);
	return !memcmp(&want, d, sizeof(want));
}

static void test_drop_ring_wrap(void **st)
{
	struct dp_worker *w = calloc(1, sizeof(*w));
	struct dp_drop d;
	uint64_t total = 3 * DP_DROPQ + 17;

	assert_non_null(w);
	assert_int_equal(dp_drop_head(w), 0);
	assert_false(dp_drop_get(w, 0, &d));          /* nothing written yet */
	for (uint64_t n = 0; n < total; n++) {
		rec_of(n, &d);
		dp_drop_put(w, &d);
	}
	assert_int_equal(dp_drop_head(w), total);
	/* The last DP_DROPQ are there, whole; older ones were overwritten
	 * and are refused, not read as the newer record in their slot. */
	for (uint64_t n = 0; n < total; n++) {
		bool there = n >= total - DP_DROPQ;

		memset(&d, 0, sizeof(d));
		assert_int_equal(dp_drop_get(w, n, &d), there);
		if (there)
			assert_true(rec_ok(n, &d));
	}
	assert_false(dp_drop_get(w, total, &d));      /* not yet written */
	free(w);
}

struct ring_race {
	struct dp_worker *w;
	uint64_t n;
	int done;
};

static void *ring_writer(void *arg)
{
	struct ring_race *r = arg;
	struct dp_drop d;

	for (uint64_t n = 0; n < r->n; n++) {
		rec_of(n, &d);
		dp_drop_put(r->w, &d);
	}
	__atomic_store_n(&r->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* A reader beside a writer that laps the ring over and over: every record
 * it is given is whole and the one it asked for. */
static void test_drop_ring_race(void **st)
{
	struct ring_race r = { calloc(1, sizeof(struct dp_worker)), 2000000, 0 };
	uint64_t good = 0, refused = 0;
	pthread_t t;

	assert_non_null(r.w);
	assert_int_equal(pthread_create(&t, NULL, ring_writer, &r), 0);
	while (!__atomic_load_n(&r.done, __ATOMIC_ACQUIRE)) {
		uint64_t head = dp_drop_head(r.w);

		for (uint64_t n = head > DP_DROPQ ? head - DP_DROPQ : 0; n < head; n++) {
			struct dp_drop d;

			if (!dp_drop_get(r.w, n, &d)) {
				refused++;
				continue;
			}
			if (!rec_ok(n, &d))
				fail_msg("record %llu read torn or as another", (unsigned long long)n);
			good++;
		}
	}
	pthread_join(t, NULL);
	assert_true(good > 0);
	print_message("ring race: %llu records read whole, %llu refused (being written or overwritten)\n",
		      (unsigned long long)good, (unsigned long long)refused);
	free(r.w);
}

static void test_drop_names(void **st)
{
	/* Every reason has a distinct label (gtpud_drops_total{reason}). */
	for (int i = 0; i < DROP__COUNT; i++) {
		assert_string_not_equal(drop_reason_name(i), "unknown");
		for (int j = 0; j < i; j++)
			assert_string_not_equal(drop_reason_name(i), drop_reason_name(j));
	}
}

static void test_generations(void **st)
{
	struct dp_worker w[2];
	struct dp dp = { .n_workers = 2, .w = w, .gen = 1 };
	uint64_t g;

	memset(w, 0, sizeof(w));
	w[0].seen_gen = UINT64_MAX;         /* idle: holds nothing */
	w[1].seen_gen = UINT64_MAX;
	assert_int_equal(dp_safe_gen(&dp), UINT64_MAX);
	g = dp_advance(&dp);
	assert_int_equal(g, 2);
	w[0].seen_gen = 1;                  /* in a batch that began before g */
	assert_true(dp_safe_gen(&dp) < g);  /* what g unlinked must wait */
	w[0].seen_gen = 2;
	assert_int_equal(dp_safe_gen(&dp), 2);
	w[1].seen_gen = 1;
	assert_int_equal(dp_safe_gen(&dp), 1);
	w[1].seen_gen = UINT64_MAX;
	dp_wait(&dp, g);                    /* returns: every worker is past g */
	assert_int_equal(dp_advance(&dp), 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_drop_names),
		cmocka_unit_test(test_generations),
		cmocka_unit_test(test_tunnel_slots),
		cmocka_unit_test(test_drop_ring_wrap),
		cmocka_unit_test(test_drop_ring_race),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
