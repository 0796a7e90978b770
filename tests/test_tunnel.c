/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The rules of one tunnel (tunnel.c), table-driven: every rule once, valid
 * rows then must-fail rows with their messages; then the same broken tunnel
 * through each source that calls tunnel_check (the file's libconfig parse,
 * its fast scanner, gtpuctl's command line) gives the same message. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ctl_proto.h"
#include "tunnel.h"

#define ALL (TK_BIT(TK_NAME) | TK_BIT(TK_FROM_PEER) | TK_BIT(TK_FROM_TEID) | TK_BIT(TK_TO_PEER) | TK_BIT(TK_TO_TEID))

static int peer(void *ud, const char *name)
{
	return !strcmp(name, "enb") ? 0 : !strcmp(name, "upf") ? 1 : -1;
}

struct msgs {
	unsigned n;
	char m[8][300];
};

static void collect(void *ud, enum tunnel_key k, int index, const char *msg)
{
	struct msgs *e = ud;

	if (e->n < 8) {
		if (index >= 0)
			snprintf(e->m[e->n], sizeof(e->m[0]), "%s[%d]: %s", tunnel_key_name(k), index, msg);
		else
			snprintf(e->m[e->n], sizeof(e->m[0]), "%s: %s", tunnel_key_name(k), msg);
	}
	e->n++;
}

static const char *ue2[] = { "10.0.0.1", "2001:db8::1" };
static const char *ue_bad[] = { "10.0.0.1", "10.0.0.300" };
static const char *ue_dup[] = { "10.0.0.1", "2001:db8::1", "10.0.0.1" };
static const char *ue17[] = { "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p", "q" };

#define T { ALL, "t", "enb", "upf", 1, 2, 0, 0, 0, 0, NULL }

static const struct row {
	struct tunnel_in in;
	int has_tun;
	const char *err;          /* the first message, NULL: valid */
} rows[] = {
	/* valid */
	{ T, 1, NULL },
	{ T, 0, NULL },
	{ { ALL | TK_BIT(TK_UE) | TK_BIT(TK_QFI), "t", "enb", "upf", 0xffffffffLL, 1, 63, 0, 0, 2, ue2 }, 1, NULL },
	{ { ALL | TK_BIT(TK_RATE) | TK_BIT(TK_BURST), "t", "enb", "upf", 1, 1, 0, 1000000000000LL, 1000000000, 0, NULL }, 1, NULL },
	{ { ALL | TK_BIT(TK_RATE), "t", "enb", "upf", 1, 1, 0, 0, 0, 0, NULL }, 1, NULL },   /* rate 0: unlimited */
	{ T, -1, NULL },
	/* one row a rule */
	{ { ALL & ~TK_BIT(TK_NAME), NULL, "enb", "upf", 1, 2, 0, 0, 0, 0, NULL }, 1, "name: missing" },
	{ { ALL, "a b", "enb", "upf", 1, 2, 0, 0, 0, 0, NULL }, 1,
	  "name: \"a b\" is not a valid name (1 to 63 of A-Z a-z 0-9 - _ .)" },
	{ { ALL & ~TK_BIT(TK_FROM_PEER), "t", NULL, "upf", 1, 2, 0, 0, 0, 0, NULL }, 1, "from.peer: missing" },
	{ { ALL, "t", "e/nb", "upf", 1, 2, 0, 0, 0, 0, NULL }, 1,
	  "from.peer: \"e/nb\" is not a valid name (1 to 63 of A-Z a-z 0-9 - _ .)" },
	{ { ALL, "t", "enb", "sgw", 1, 2, 0, 0, 0, 0, NULL }, 1, "to.peer: unknown peer \"sgw\"" },
	{ { ALL & ~TK_BIT(TK_FROM_TEID), "t", "enb", "upf", 0, 2, 0, 0, 0, 0, NULL }, 1, "from.teid: missing" },
	{ { ALL, "t", "enb", "upf", 0, 2, 0, 0, 0, 0, NULL }, 1, "from.teid: 0 is out of range (1..4294967295)" },
	{ { ALL, "t", "enb", "upf", 1, 0x100000000LL, 0, 0, 0, 0, NULL }, 1,
	  "to.teid: 4294967296 is out of range (1..4294967295)" },
	{ { ALL | TK_BIT(TK_UE), "t", "enb", "upf", 1, 2, 0, 0, 0, 2, ue2 }, 0,
	  "ue: needs a TUN device, but there is no tun group" },
	{ { ALL | TK_BIT(TK_UE), "t", "enb", "upf", 1, 2, 0, 0, 0, 17, ue17 }, 1,
	  "ue: has 17 entries, at most 16 are allowed" },
	{ { ALL | TK_BIT(TK_UE), "t", "enb", "upf", 1, 2, 0, 0, 0, 2, ue_bad }, 1,
	  "ue[1]: \"10.0.0.300\" is not an IPv4 or IPv6 address" },
	{ { ALL | TK_BIT(TK_UE), "t", "enb", "upf", 1, 2, 0, 0, 0, 3, ue_dup }, 1, "ue[2]: 10.0.0.1 is listed twice" },
	{ { ALL | TK_BIT(TK_QFI), "t", "enb", "upf", 1, 2, 64, 0, 0, 0, NULL }, 1, "qfi: 64 is out of range (0..63)" },
	{ { ALL | TK_BIT(TK_QFI), "t", "enb", "upf", 1, 2, -1, 0, 0, 0, NULL }, 1, "qfi: -1 is out of range (0..63)" },
	{ { ALL | TK_BIT(TK_RATE), "t", "enb", "upf", 1, 2, 0, 1000000000001LL, 0, 0, NULL }, 1,
	  "rate: 1000000000001 is out of range (0..1000000000000)" },
	{ { ALL | TK_BIT(TK_RATE) | TK_BIT(TK_BURST), "t", "enb", "upf", 1, 2, 0, 8000, 1000000001, 0, NULL }, 1,
	  "burst: 1000000001 is out of range (0..1000000000)" },
	{ { ALL | TK_BIT(TK_BURST), "t", "enb", "upf", 1, 2, 0, 0, 1000, 0, NULL }, 1,
	  "burst: has no effect without a rate" },
};

static void test_rules(void **st)
{
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct msgs e = { 0 };
		struct tunnel_ctx ctx = { peer, &e, rows[i].has_tun, collect };
		struct conf_tunnel t;
		struct conf_addr ue[CONF_MAX_UE];
		unsigned bad;

		ctx.ud = &e;
		bad = tunnel_check(&rows[i].in, &ctx, &t, ue);
		if (!rows[i].err && bad)
			fail_msg("row %zu: refused: %s", i, e.m[0]);
		if (rows[i].err && (!bad || strcmp(e.m[0], rows[i].err)))
			fail_msg("row %zu: got '%s', want '%s'", i, bad ? e.m[0] : "(valid)", rows[i].err);
		assert_int_equal(bad, e.n);
	}
}

static void test_values(void **st)
{
	struct msgs e = { 0 };
	struct tunnel_ctx ctx = { peer, &e, 1, collect };
	const struct tunnel_in *in = &rows[2].in;
	struct conf_tunnel t;
	struct conf_addr ue[CONF_MAX_UE];

	assert_int_equal(tunnel_check(in, &ctx, &t, ue), 0);
	assert_string_equal(t.name, "t");
	assert_int_equal(t.from_peer, 0);
	assert_int_equal(t.to_peer, 1);
	assert_int_equal(t.from_teid, 0xffffffffu);
	assert_int_equal(t.n_ue, 2);
	assert_ptr_equal(t.ue, ue);
	assert_int_equal(ue[1].family, AF_INET6);
	assert_int_equal(t.qfi, 63);
	assert_int_equal(t.rate, 0);
	/* Without a resolver (gtpuctl before it has a daemon) peers are not
	 * looked up, and with has_tun -1 ue needs no tun yet. */
	ctx.peer = NULL;
	ctx.has_tun = -1;
	assert_int_equal(tunnel_check(&rows[10].in, &ctx, &t, ue), 0);
	assert_int_equal(tunnel_check(&rows[14].in, &ctx, &t, ue), 0);
	/* Several rules broken: each told, in key order. */
	{
		struct tunnel_in x = { ALL | TK_BIT(TK_QFI), "a b", "enb", "upf", 0, 2, 99, 0, 0, 0, NULL };
		struct msgs m = { 0 };
		struct tunnel_ctx c2 = { peer, &m, 1, collect };

		assert_int_equal(tunnel_check(&x, &c2, &t, ue), 3);
		assert_non_null(strstr(m.m[0], "name:"));
		assert_non_null(strstr(m.m[1], "from.teid:"));
		assert_non_null(strstr(m.m[2], "qfi:"));
	}
}

extern bool conf_fast_scan_off;

/* The tail of the first error of a file with one tunnel whose keys are kv. */
static void file_err(const char *kv, bool fast, char *out, size_t len)
{
	char text[1024];
	struct conf_errors errs = { 0 };
	struct conf *c = NULL;
	const char *m;

	snprintf(text, sizeof(text),
		 "peers = ( { name = \"enb\"; address = \"192.0.2.1\"; }, { name = \"upf\"; address = \"192.0.2.2\"; } );\n"
		 "tun = { name = \"t0\"; };\n"
		 "tunnels = ( { name = \"t\"; from = { peer = \"enb\"; teid = 1; }; to = { peer = \"upf\"; teid = 2; }; %s } );\n",
		 kv);
	conf_fast_scan_off = !fast;
	assert_int_equal(conf_read_string(text, "t.conf", &c, &errs), -EINVAL);
	conf_fast_scan_off = false;
	m = strstr(errs.msg[0], "tunnels[0].");
	assert_non_null(m);
	snprintf(out, len, "%s", m + strlen("tunnels[0]."));
	conf_errors_fini(&errs);
}

static void cli_err(const char *const *w, size_t n, char *out, size_t len)
{
	struct ctl_tunnel_spec t;

	assert_int_equal(ctl_tunnel_spec_parse(w, n, &t, out, len), -EINVAL);
}

/* Every source calls the one validator: the same rule broken says the same
 * thing from the file (both parses) and from gtpuctl's words. */
static void test_sources(void **st)
{
	static const struct {
		const char *kv;
		const char *w[12];
		size_t n;
		const char *want;
	} cases[] = {
		{ "qfi = 64;", { "t", "from", "enb", "1", "to", "upf", "2", "qfi", "64" }, 9,
		  "qfi: 64 is out of range (0..63)" },
		{ "rate = 1000000000001;", { "t", "from", "enb", "1", "to", "upf", "2", "rate", "1000000000001" }, 9,
		  "rate: 1000000000001 is out of range (0..1000000000000)" },
		{ "burst = 5000;", { "t", "from", "enb", "1", "to", "upf", "2", "burst", "5000" }, 9,
		  "burst: has no effect without a rate" },
		{ "ue = [ \"10.0.0.1\", \"10.0.0.1\" ];", { "t", "from", "enb", "1", "to", "upf", "2", "ue", "10.0.0.1", "10.0.0.1" },
		  10, "ue[1]: 10.0.0.1 is listed twice" },
		{ "ue = [ \"10.0.0.300\" ];", { "t", "from", "enb", "1", "to", "upf", "2", "ue", "10.0.0.300" }, 9,
		  "ue[0]: \"10.0.0.300\" is not an IPv4 or IPv6 address" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char a[300], b[300], c[300];

		file_err(cases[i].kv, true, a, sizeof(a));
		file_err(cases[i].kv, false, b, sizeof(b));
		cli_err(cases[i].w, cases[i].n, c, sizeof(c));
		assert_string_equal(a, cases[i].want);
		assert_string_equal(b, cases[i].want);
		assert_string_equal(c, cases[i].want);
	}
}

/* Rates as people write them, in the file and on the command line alike. */
static void test_si(void **st)
{
	static const struct { const char *in; uint64_t out; int r; } si_rows[] = {
		{ "2500", 2500, 0 }, { "10k", 10000, 0 }, { "10M", 10000000, 0 }, { "1.5G", 1500000000, 0 },
		{ "1T", 1000000000000ull, 0 }, { "0.5k", 500, 0 }, { "2.0", 2, 0 },
		{ "", 0, -EINVAL }, { "M", 0, -EINVAL }, { "10m", 0, -EINVAL }, { "1.5", 0, -EINVAL },
		{ "1.k", 0, -EINVAL }, { "-1", 0, -EINVAL }, { "10 M", 0, -EINVAL },
		{ "18446744073709551616", 0, -ERANGE }, { "20000000T", 0, -ERANGE },
	};
	const char *w[] = { "t", "from", "enb", "1", "to", "upf", "2", "rate", "10M", "burst", "1.5k" };
	struct conf_errors errs = { 0 };
	struct ctl_tunnel_spec sp;
	struct conf *c = NULL;
	char err[200];

	for (size_t i = 0; i < sizeof(si_rows) / sizeof(si_rows[0]); i++) {
		uint64_t v = 0;
		int r = conf_parse_si(si_rows[i].in, &v);

		if (r != si_rows[i].r || (r == 0 && v != si_rows[i].out))
			fail_msg("row %zu \"%s\": %d %llu", i, si_rows[i].in, r, (unsigned long long)v);
	}
	assert_int_equal(ctl_tunnel_spec_parse(w, 11, &sp, err, sizeof(err)), 0);
	assert_int_equal(sp.rate, 10000000);
	assert_int_equal(sp.burst, 1500);
	assert_int_equal(conf_read_string(
		"peers = ( { name = \"enb\"; address = \"192.0.2.1\"; }, { name = \"upf\"; address = \"192.0.2.2\"; } );\n"
		"tunnels = ( { name = \"t\"; from = { peer = \"enb\"; teid = 1; }; to = { peer = \"upf\"; teid = 2; };"
		" rate = \"10M\"; burst = \"1.5k\"; } );\n", "t.conf", &c, &errs), 0);
	assert_int_equal(c->tunnels[0].rate, 10000000);
	assert_int_equal(c->tunnels[0].burst, 1500);
	conf_free(c);
	conf_errors_fini(&errs);
	w[8] = "10X";
	assert_int_equal(ctl_tunnel_spec_parse(w, 11, &sp, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "rate: '10X' is not a number (with an optional k, M, G or T)");
	/* Past the rule's range: the validator says so, as for a plain number. */
	w[8] = "2T";
	assert_int_equal(ctl_tunnel_spec_parse(w, 11, &sp, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "rate: 2000000000000 is out of range (0..1000000000000)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rules),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_sources),
		cmocka_unit_test(test_si),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
