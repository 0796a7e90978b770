/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tables: TEID, peer and UE lookups, runtime tunnels and their collisions,
 * counters carried over a rebuild, token buckets. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "table.h"

static const char *cfg =
	"peers = ( { name = \"enb\"; address = \"192.0.2.10\"; },\n"
	"          { name = \"upf\"; address = \"2001:db8::20\"; port = 2153; echo = true; } );\n"
	"tun = { name = \"gtpt0\"; addresses = [ \"10.45.0.1/16\" ]; };\n"
	"tunnels = (\n"
	"  { name = \"a\"; from = { peer = \"enb\"; teid = 0x100; }; to = { peer = \"upf\"; teid = 0x200; }; },\n"
	"  { name = \"b\"; from = { peer = \"upf\"; teid = 0x201; }; to = { peer = \"enb\"; teid = 0x101; }; },\n"
	"  { name = \"c\"; from = { peer = \"enb\"; teid = 0x300; }; to = { peer = \"enb\"; teid = 0x301; };\n"
	"    ue = [ \"10.45.0.2\", \"2001:db8:45::2\" ]; qfi = 9; rate = 8000000; }\n"
	");\n";

static struct state *build(const struct rt_tunnel *rt, uint32_t n_rt, const struct state *old,
			   char **collide)
{
	struct conf_errors errs = { 0 };
	struct conf *c = NULL;
	struct state *s = NULL;

	assert_int_equal(conf_read_string(cfg, "t.conf", &c, &errs), 0);
	conf_errors_fini(&errs);
	assert_int_equal(state_new(c, rt, n_rt, 100000, old, 2, &s, collide), 0);
	return s;
}

static void test_teid_lookup(void **st)
{
	struct state *s = build(NULL, 0, NULL, NULL);

	assert_int_equal(s->n_tunnels, 3);
	assert_string_equal(tunnel_name(s, &s->tunnels[state_lookup_teid(s, 0x100)]), "a");
	assert_string_equal(tunnel_name(s, &s->tunnels[state_lookup_teid(s, 0x201)]), "b");
	assert_int_equal(state_lookup_teid(s, 0x200), TUNNEL_NONE);
	assert_int_equal(state_lookup_teid(s, 0xffffffff), TUNNEL_NONE);
	/* TEID 0 marks empty slots: it must miss (a G-PDU with TEID 0 once
	 * read a tunnel index from an empty slot). */
	assert_int_equal(state_lookup_teid(s, 0), TUNNEL_NONE);
	assert_int_equal(state_find_tunnel(s, "c"), state_lookup_teid(s, 0x300));
	assert_int_equal(state_find_tunnel(s, "zz"), TUNNEL_NONE);
	/* to-index: the tunnel sending to upf with 0x200 is a; not for enb. */
	assert_int_equal(state_lookup_to(s, 1, 0x200), state_find_tunnel(s, "a"));
	assert_int_equal(state_lookup_to(s, 0, 0x200), TUNNEL_NONE);
	assert_true(s->tunnels[state_find_tunnel(s, "c")].flags & TUNNEL_ENDPOINT);
	assert_int_equal(s->tunnels[state_find_tunnel(s, "c")].qfi, 9);
	assert_int_equal(s->tunnels[state_find_tunnel(s, "a")].qfi, -1);
	state_free(s);
}

static void test_peer_lookup(void **st)
{
	struct state *s = build(NULL, 0, NULL, NULL);
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(9999) };
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };
	struct peer *p;

	inet_pton(AF_INET, "192.0.2.10", &sin.sin_addr);
	p = state_lookup_peer(s, (struct sockaddr *)&sin);
	assert_non_null(p);
	assert_string_equal(p->name, "enb");   /* any source port */
	inet_pton(AF_INET, "192.0.2.11", &sin.sin_addr);
	assert_null(state_lookup_peer(s, (struct sockaddr *)&sin));
	inet_pton(AF_INET6, "2001:db8::20", &sin6.sin6_addr);
	assert_string_equal(state_lookup_peer(s, (struct sockaddr *)&sin6)->name, "upf");
	inet_pton(AF_INET6, "::ffff:192.0.2.10", &sin6.sin6_addr);
	assert_string_equal(state_lookup_peer(s, (struct sockaddr *)&sin6)->name, "enb");
	/* The send address carries the configured port, 2152 by default. */
	p = s->peers[1];
	assert_int_equal(ntohs(((struct sockaddr_in6 *)&p->sa)->sin6_port), 2153);
	assert_int_equal(ntohs(((struct sockaddr_in *)&s->peers[0]->sa)->sin_port), 2152);
	state_free(s);
}

static void test_ue_lookup(void **st)
{
	struct state *s = build(NULL, 0, NULL, NULL);
	uint8_t a[16];

	inet_pton(AF_INET, "10.45.0.2", a);
	assert_int_equal(state_lookup_ue(s, AF_INET, a), state_find_tunnel(s, "c"));
	inet_pton(AF_INET, "10.45.0.3", a);
	assert_int_equal(state_lookup_ue(s, AF_INET, a), TUNNEL_NONE);
	inet_pton(AF_INET6, "2001:db8:45::2", a);
	assert_int_equal(state_lookup_ue(s, AF_INET6, a), state_find_tunnel(s, "c"));
	state_free(s);
}

static void test_runtime_collide(void **st)
{
	struct rt_tunnel rt[5];
	struct conf_addr ue_c[1], ue_new[2];
	char *collide = NULL;
	struct state *s;
	uint8_t a[16];

	memset(rt, 0, sizeof(rt));
	rt[0].t.name = "rt1";
	rt[0].t.from_teid = 0x500;
	rt[0].t.to_teid = 0x501;
	rt[0].t.qfi = -1;
	strcpy(rt[0].from, "enb");
	strcpy(rt[0].to, "upf");
	rt[1] = rt[0];
	rt[1].t.name = "a";               /* name of a config tunnel */
	rt[1].t.from_teid = 0x600;
	rt[2] = rt[0];
	rt[2].t.name = "rt3";
	strcpy(rt[2].to, "gone");
	/* rt4 wants config tunnel c's UE address: left out, whole. rt5's
	 * addresses are free: it gets them. */
	conf_parse_addr("10.45.0.2", &ue_c[0]);
	conf_parse_addr("10.45.0.9", &ue_new[0]);
	conf_parse_addr("2001:db8:45::9", &ue_new[1]);
	rt[3] = rt[0];
	rt[3].t.name = "rt4";
	rt[3].t.from_teid = 0x700;
	rt[3].t.n_ue = 1;
	rt[3].t.ue = ue_c;
	rt[4] = rt[3];
	rt[4].t.name = "rt5";
	rt[4].t.from_teid = 0x800;
	rt[4].t.n_ue = 2;
	rt[4].t.ue = ue_new;
	s = build(rt, 5, NULL, &collide);
	assert_int_equal(s->n_tunnels, 5);
	assert_int_equal(s->n_runtime, 2);
	assert_true(s->tunnels[state_find_tunnel(s, "rt1")].flags & TUNNEL_RUNTIME);
	assert_int_equal(state_find_tunnel(s, "rt4"), TUNNEL_NONE);
	assert_int_equal(state_lookup_ue(s, AF_INET, ue_c[0].addr), state_find_tunnel(s, "c"));
	inet_pton(AF_INET, "10.45.0.9", a);
	assert_int_equal(state_lookup_ue(s, AF_INET, a), state_find_tunnel(s, "rt5"));
	inet_pton(AF_INET6, "2001:db8:45::9", a);
	assert_int_equal(state_lookup_ue(s, AF_INET6, a), state_find_tunnel(s, "rt5"));
	assert_non_null(collide);
	assert_non_null(strstr(collide, "runtime tunnel \"a\" collides with the config: a tunnel named \"a\" exists"));
	assert_non_null(strstr(collide, "runtime tunnel \"rt3\" names a peer that is gone"));
	assert_non_null(strstr(collide, "runtime tunnel \"rt4\" collides with the config: ue address 10.45.0.2 "
			       "is in use by tunnel \"c\""));
	free(collide);
	state_free(s);
}

static void test_carry_counters(void **st)
{
	struct state *old = build(NULL, 0, NULL, NULL), *s;
	uint32_t a = state_find_tunnel(old, "a");
	struct ctr c;

	old->ctr[a].rx_pkts = 5;                       /* worker 0 */
	old->ctr[old->cap + a].rx_pkts = 7;            /* worker 1 */
	old->peers[0]->ctr[1].tx_bytes = 99;
	s = build(NULL, 0, old, NULL);
	/* Peers with the same name and address are the same objects. */
	assert_ptr_equal(s->peers[0], old->peers[0]);
	state_carry_counters(s, old);
	state_free(old);
	state_tunnel_ctr(s, state_find_tunnel(s, "a"), &c);
	assert_int_equal(c.rx_pkts, 12);
	state_peer_ctr(s, s->peers[0], &c);
	assert_int_equal(c.tx_bytes, 99);
	state_free(s);
}

static void test_tbucket(void **st)
{
	struct tbucket b;
	uint64_t t = 1000000000ull;
	int n = 0;

	tbucket_init(&b, 100, 10, t);          /* 100/s, burst 10 */
	while (tbucket_take(&b, 1, t))
		n++;
	assert_int_equal(n, 10);
	assert_false(tbucket_take(&b, 1, t + 5000000));    /* 5 ms: half a token */
	assert_true(tbucket_take(&b, 1, t + 10000000));    /* 10 ms: one */
	assert_false(tbucket_take(&b, 1, t + 10000000));
	/* A long idle gap refills to the burst, never beyond. */
	n = 0;
	while (tbucket_take(&b, 1, t + 60000000000ull))
		n++;
	assert_int_equal(n, 10);
}

/* Every rate the file allows (up to 10^12 bit/s: 1.25 * 10^11 bytes/s
 * for one worker) after idle gaps from a millisecond to hours: the refill
 * never wraps (dt * rate overflowed 64 bits above 14.8 Gbit/s, and a 1
 * Tbit/s bucket idle for 0.148 to 1.476 s passed 5 packets, not 666,666). */
static void test_tbucket_extremes(void **st)
{
	static const uint64_t gaps[] = { 1000000ull, 148000000ull, 700000000ull, 1476000000ull,
					 9000000000ull, 11000000000ull, 3600000000000ull, 86400000000000ull };
	const uint64_t rates[] = { 1, 125000, 1850000000ull, 125000000000ull };
	const uint64_t burst = 1000000000ull;           /* the deepest bucket, 10^9 bytes */

	for (size_t r = 0; r < sizeof(rates) / sizeof(rates[0]); r++) {
		for (size_t g = 0; g < sizeof(gaps) / sizeof(gaps[0]); g++) {
			struct tbucket b;
			uint64_t t = 5000000000ull, n = 0, want;

			tbucket_init(&b, rates[r], burst, t);
			while (tbucket_take(&b, burst, t))  /* empty it */
				;
			t += gaps[g];
			while (n < 2000 && tbucket_take(&b, burst / 1000, t))
				n++;
			/* What the gap refilled, capped by the burst: in units of burst/1000. */
			want = (uint64_t)((__uint128_t)gaps[g] * rates[r] / 1000000000ull / (burst / 1000));
			if (want > 1000)
				want = 1000;
			if (n != want)
				fail_msg("rate %llu B/s, gap %llu ns: %llu taken, want %llu", (unsigned long long)rates[r],
					 (unsigned long long)gaps[g], (unsigned long long)n, (unsigned long long)want);
		}
	}
}

static void test_million(void **st)
{
	/* A million tunnels: every TEID found, misses stay misses. */
	struct conf *c = calloc(1, sizeof(*c));
	const uint32_t n = 1000000;
	struct state *s;

	c->n_peers = 1;
	c->peers = calloc(1, sizeof(*c->peers));
	strcpy(c->peers[0].name, "p");
	c->peers[0].addr.family = AF_INET;
	c->control.path = strdup("/tmp/x");
	c->n_tunnels = n;
	c->tunnels = calloc(n, sizeof(*c->tunnels));
	for (uint32_t i = 0; i < n; i++) {
		char name[16];

		snprintf(name, sizeof(name), "t%u", i);
		c->tunnels[i].name = strdup(name);
		c->tunnels[i].from_teid = (i + 1) * 2654435761u;
		c->tunnels[i].to_teid = i + 1;
		c->tunnels[i].qfi = -1;
	}
	assert_int_equal(state_new(c, NULL, 0, 0, NULL, 1, &s, NULL), 0);
	for (uint32_t i = 0; i < n; i += 997)
		assert_int_equal(state_lookup_teid(s, (i + 1) * 2654435761u), i);
	assert_int_equal(state_lookup_teid(s, 2), TUNNEL_NONE);
	/* The arrays a packet touches start on a 2 MiB boundary (huge pages
	 * can back them) and come zeroed like calloc's. */
	assert_int_equal((uintptr_t)s->teid % (2u << 20), 0);
	assert_int_equal((uintptr_t)s->tunnels % (2u << 20), 0);
	assert_int_equal((uintptr_t)s->ctr % (2u << 20), 0);
	for (uint32_t i = 0; i < n; i += 4999)
		assert_int_equal(s->ctr[i].rx_pkts | s->ctr[i].tx_bytes, 0);
	state_free(s);
}


/* A runtime row from a config-like description. */
static struct conf_tunnel row(const char *name, uint32_t from_peer, uint32_t from_teid, uint32_t to_peer,
			      uint32_t to_teid)
{
	struct conf_tunnel t = { .name = (char *)name, .from_peer = from_peer, .from_teid = from_teid,
				 .to_peer = to_peer, .to_teid = to_teid, .qfi = -1 };
	return t;
}

/* Per-tunnel drops: summed over the workers, carried by a reload, zero
 * again in a slot freed and reused. */
static void test_tunnel_drops(void **st)
{
	struct state *old = build(NULL, 0, NULL, NULL), *s;
	uint32_t a = state_find_tunnel(old, "a"), b = state_find_tunnel(old, "b"), i, j;
	struct conf_tunnel t = row("x", 0, 0x900, 1, 0x901);
	uint64_t d[TABLE_TDROPS];

	assert_int_equal(state_tunnel_drops(old, a, d), 0);
	*state_tdrop(old, 0, a, 3) = 5;
	*state_tdrop(old, 1, a, 3) = 2;
	*state_tdrop(old, 1, a, 0) = 1;
	assert_int_equal(state_tunnel_drops(old, a, d), 8);
	assert_int_equal(d[3], 7);
	assert_int_equal(d[0], 1);
	assert_int_equal(state_tunnel_drops(old, b, d), 0);   /* its neighbour's are not its own */
	s = build(NULL, 0, old, NULL);
	state_carry_counters(s, old);
	state_free(old);
	a = state_find_tunnel(s, "a");
	*state_tdrop(s, 1, a, 3) = 1;                    /* after the reload */
	assert_int_equal(state_tunnel_drops(s, a, d), 9);
	assert_int_equal(d[3], 8);
	assert_int_equal(state_tunnel_drops(s, state_find_tunnel(s, "b"), d), 0);
	/* A slot freed and reused starts from zero drops. */
	i = state_tunnel_add(s, &t, 0, 1, TUNNEL_RUNTIME);
	*state_tdrop(s, 0, i, TABLE_TDROPS - 1) = 4;
	assert_int_equal(state_tunnel_drops(s, i, d), 4);
	state_tunnel_del(s, i);
	state_commit(s, 2);
	state_reclaim(s, UINT64_MAX);
	t = row("y", 0, 0x900, 1, 0x901);
	j = state_tunnel_add(s, &t, 0, 1, TUNNEL_RUNTIME);
	assert_int_equal(j, i);
	assert_int_equal(state_tunnel_drops(s, j, d), 0);
	state_free(s);
}

static void test_add_del_in_place(void **st)
{
	struct state *s = build(NULL, 0, NULL, NULL);
	struct conf_tunnel t = row("x", 0, 0x900, 1, 0x901);
	struct conf_addr ue[1];
	uint32_t i, j, hi;
	char err[200];
	struct ctr c;

	assert_int_equal(state_tunnel_check(s, &t, err, sizeof(err)), 0);
	i = state_tunnel_add(s, &t, 0, 1, TUNNEL_RUNTIME);
	assert_int_not_equal(i, TUNNEL_NONE);
	assert_int_equal(state_lookup_teid(s, 0x900), i);
	assert_int_equal(state_find_tunnel(s, "x"), i);
	assert_int_equal(state_lookup_to(s, 1, 0x901), i);
	assert_int_equal(s->n_tunnels, 4);
	assert_int_equal(s->n_runtime, 1);
	/* Collisions: name, from TEID, ue address, unknown peer, ue without tun is fine here. */
	assert_int_equal(state_tunnel_check(s, &t, err, sizeof(err)), -EEXIST);
	assert_string_equal(err, "a tunnel named \"x\" exists");
	t = row("y", 0, 0x900, 1, 1);
	assert_int_equal(state_tunnel_check(s, &t, err, sizeof(err)), -EEXIST);
	assert_string_equal(err, "from TEID 0x900 is in use by tunnel \"x\"");
	t = row("y", 0, 0x999, 1, 1);
	conf_parse_addr("2001:db8:45::2", &ue[0]);
	t.n_ue = 1;
	t.ue = ue;
	assert_int_equal(state_tunnel_check(s, &t, err, sizeof(err)), -EEXIST);
	assert_string_equal(err, "ue address 2001:db8:45::2 is in use by tunnel \"c\"");
	t = row("y", 7, 0x999, 1, 1);
	assert_int_equal(state_tunnel_check(s, &t, err, sizeof(err)), -ENOENT);
	/* Counted, then removed: lookups miss at once; the slot waits for
	 * the workers, then comes back with its counters at zero. */
	s->ctr[i].rx_pkts = 42;
	hi = s->hi;
	state_tunnel_del(s, i);
	assert_int_equal(state_lookup_teid(s, 0x900), TUNNEL_NONE);
	assert_int_equal(state_find_tunnel(s, "x"), TUNNEL_NONE);
	assert_int_equal(state_lookup_to(s, 1, 0x901), TUNNEL_NONE);
	assert_int_equal(s->n_tunnels, 3);
	assert_int_equal(s->n_runtime, 0);
	state_commit(s, 5);
	assert_int_equal(state_reclaim(s, 4), 1);      /* a worker is still before 5 */
	t = row("z", 0, 0x900, 1, 0x901);
	j = state_tunnel_add(s, &t, 0, 1, TUNNEL_RUNTIME);
	assert_int_not_equal(j, i);                     /* not reused yet */
	assert_int_equal(state_reclaim(s, 5), 0);
	state_tunnel_del(s, j);
	state_commit(s, 6);
	state_reclaim(s, UINT64_MAX);
	t = row("w", 0, 0x900, 1, 0x901);
	j = state_tunnel_add(s, &t, 0, 1, 0);
	assert_true(j == i || j == hi);                 /* a freed slot again */
	assert_int_equal(s->hi, hi + 1);
	state_tunnel_ctr(s, j, &c);
	assert_int_equal(c.rx_pkts, 0);
	assert_int_equal(state_lookup_teid(s, 0x900), j);
	state_free(s);
}

/* Many adds and deletes, one at a time: indexes grow and are replaced
 * while every tunnel stays found; deleted ones stay gone. */
static void test_churn(void **st)
{
	struct state *s = build(NULL, 0, NULL, NULL);
	const uint32_t n = 20000;
	char name[32];
	uint64_t gen = 1;

	for (uint32_t k = 0; k < 3; k++) {
		for (uint32_t i = 0; i < n; i++) {
			struct conf_tunnel t;
			struct conf_addr ue;

			snprintf(name, sizeof(name), "r%u", i);
			t = row(name, 0, 0x10000 + i, 1, 0x20000 + i);
			ue.family = AF_INET;
			ue.port = 0;
			memset(ue.addr, 0, 16);
			ue.addr[0] = 10;
			ue.addr[1] = 46;
			ue.addr[2] = (uint8_t)(i >> 8);
			ue.addr[3] = (uint8_t)i;
			t.n_ue = 1;
			t.ue = &ue;
			t.rate = i % 3 ? 0 : 1000000;
			assert_int_equal(state_reserve(s, 1), 0);
			assert_int_not_equal(state_tunnel_add(s, &t, 0, 1, TUNNEL_RUNTIME), TUNNEL_NONE);
		}
		assert_int_equal(s->n_runtime, n);
		for (uint32_t i = 0; i < n; i += 97) {
			uint8_t a[4] = { 10, 46, (uint8_t)(i >> 8), (uint8_t)i };
			uint32_t ti = state_lookup_teid(s, 0x10000 + i);

			snprintf(name, sizeof(name), "r%u", i);
			assert_int_equal(state_find_tunnel(s, name), ti);
			assert_int_equal(state_lookup_ue(s, AF_INET, a), ti);
			assert_int_equal(state_lookup_to(s, 1, 0x20000 + i), ti);
		}
		for (uint32_t i = 0; i < n; i++) {
			snprintf(name, sizeof(name), "r%u", i);
			state_tunnel_del(s, state_find_tunnel(s, name));
		}
		state_commit(s, ++gen);
		assert_int_equal(state_reclaim(s, gen), 0);
		assert_int_equal(s->n_tunnels, 3);
		assert_int_equal(state_lookup_teid(s, 0x10000), TUNNEL_NONE);
	}
	/* The slots were reused: three rounds did not take three times the room. */
	assert_true(s->hi <= 3 + n);
	assert_int_equal(state_lookup_teid(s, 0x100), state_find_tunnel(s, "a"));
	state_free(s);
}

struct errs {
	unsigned n;
	uint32_t row[8];
	char msg[8][200];
};

static void collect(void *ctx, uint32_t row, int code, const char *msg)
{
	struct errs *e = ctx;

	if (e->n < 8) {
		e->row[e->n] = row;
		snprintf(e->msg[e->n], sizeof(e->msg[0]), "%s", msg);
	}
	e->n++;
}

static void test_batch_check(void **st)
{
	struct state *s = build(NULL, 0, NULL, NULL);
	struct conf_addr ue[2];
	struct conf_tunnel rows[5];
	struct errs e = { 0 };

	conf_parse_addr("10.45.0.50", &ue[0]);
	conf_parse_addr("10.45.0.50", &ue[1]);
	rows[0] = row("n1", 0, 0x1000, 1, 1);
	rows[1] = row("n1", 0, 0x1001, 1, 1);          /* name twice */
	rows[2] = row("n3", 0, 0x1000, 1, 1);          /* TEID twice */
	rows[3] = row("n4", 0, 0x1004, 1, 1);
	rows[3].n_ue = 1;
	rows[3].ue = &ue[0];
	rows[4] = row("n5", 0, 0x1005, 1, 1);          /* ue twice */
	rows[4].n_ue = 1;
	rows[4].ue = &ue[1];
	assert_int_equal(state_batch_check(s, rows, 5, collect, &e), 3);
	assert_int_equal(e.row[0], 1);
	assert_string_equal(e.msg[0], "tunnel name \"n1\" is given twice in the batch");
	assert_int_equal(e.row[1], 2);
	assert_string_equal(e.msg[1], "from TEID 0x1000 is given twice in the batch");
	assert_int_equal(e.row[2], 4);
	assert_string_equal(e.msg[2], "ue address 10.45.0.50 is given twice in the batch");
	/* Nothing was added by checking. */
	assert_int_equal(s->n_tunnels, 3);
	state_free(s);
}

/* A reload keeps the runtime tunnels: rows out of the old state into the
 * new one, with their counters. */
static void test_reload_runtime(void **st)
{
	struct state *old = build(NULL, 0, NULL, NULL), *s;
	struct conf_tunnel t = row("rt", 1, 0x4000, 0, 0x4001);
	struct rt_tunnel *rows;
	uint32_t n, i;
	struct ctr c;

	t.rate = 5000000;
	i = state_tunnel_add(old, &t, 1, 0, TUNNEL_RUNTIME);
	old->ctr[i].tx_pkts = 3;
	assert_int_equal(state_runtime_rows(old, &rows, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(rows[0].t.name, "rt");
	assert_string_equal(rows[0].from, "upf");
	assert_string_equal(rows[0].to, "enb");
	assert_int_equal(rows[0].t.rate, 5000000);
	s = build(rows, n, old, NULL);
	free(rows);
	state_carry_counters(s, old);
	state_free(old);
	i = state_find_tunnel(s, "rt");
	assert_int_not_equal(i, TUNNEL_NONE);
	assert_true(s->tunnels[i].flags & TUNNEL_RUNTIME);
	assert_int_equal(s->n_runtime, 1);
	assert_int_equal(state_lookup_teid(s, 0x4000), i);
	state_tunnel_ctr(s, i, &c);
	assert_int_equal(c.tx_pkts, 3);
	state_free(s);
}

/* The slots are a hard limit: the file's tunnels and max_runtime more. */
static void test_capacity(void **st)
{
	struct conf_errors errs = { 0 };
	struct conf *c = NULL;
	struct state *s = NULL;
	struct conf_tunnel t;

	assert_int_equal(conf_read_string(cfg, "t.conf", &c, &errs), 0);
	conf_errors_fini(&errs);
	assert_int_equal(state_new(c, NULL, 0, 2, NULL, 1, &s, NULL), 0);
	assert_int_equal(s->cap, 5);
	assert_int_equal(state_reserve(s, 2), 0);
	assert_int_equal(state_reserve(s, 3), -ENOSPC);
	t = row("p", 0, 0x7000, 1, 1);
	assert_int_not_equal(state_tunnel_add(s, &t, 0, 1, TUNNEL_RUNTIME), TUNNEL_NONE);
	t = row("q", 0, 0x7001, 1, 1);
	assert_int_not_equal(state_tunnel_add(s, &t, 0, 1, TUNNEL_RUNTIME), TUNNEL_NONE);
	t = row("r", 0, 0x7002, 1, 1);
	assert_int_equal(state_tunnel_add(s, &t, 0, 1, TUNNEL_RUNTIME), TUNNEL_NONE);
	assert_int_equal(state_reserve(s, 1), -ENOSPC);
	/* A deleted one's slot comes back once the workers are past it. */
	state_tunnel_del(s, state_find_tunnel(s, "p"));
	assert_int_equal(state_reserve(s, 1), -ENOSPC);
	state_commit(s, 1);
	state_reclaim(s, 1);
	assert_int_equal(state_reserve(s, 1), 0);
	state_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_teid_lookup),
		cmocka_unit_test(test_peer_lookup),
		cmocka_unit_test(test_ue_lookup),
		cmocka_unit_test(test_runtime_collide),
		cmocka_unit_test(test_carry_counters),
		cmocka_unit_test(test_tunnel_drops),
		cmocka_unit_test(test_add_del_in_place),
		cmocka_unit_test(test_churn),
		cmocka_unit_test(test_batch_check),
		cmocka_unit_test(test_reload_runtime),
		cmocka_unit_test(test_capacity),
		cmocka_unit_test(test_tbucket),
		cmocka_unit_test(test_tbucket_extremes),
		cmocka_unit_test(test_million),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
