/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The datapath's own rules that need no sockets: drop reason labels, and
 * the generations of in-place table changes (a slot freed at generation g
 * is reused only once every worker has seen g or is idle). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "dp.h"

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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
