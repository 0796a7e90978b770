/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Forwarding tables built from a config: peers (kept across reloads), tunnels
 * in one array, a TEID index and a UE address index, both open-addressing
 * hashes sized for a load factor of at most one half. */
#include "table.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

const char *drop_reason_name(enum drop_reason r)
{
	switch (r) {
	case DROP_MALFORMED: return "malformed";
	case DROP_VERSION: return "version";
	case DROP_EXT_HEADER: return "ext_header";
	case DROP_EXT_UNSUPPORTED: return "ext_unsupported";
	case DROP_UNSUPPORTED_TYPE: return "unsupported_type";
	case DROP_UNKNOWN_PEER: return "unknown_peer";
	case DROP_WRONG_PEER: return "wrong_peer";
	case DROP_UNKNOWN_TEID: return "unknown_teid";
	case DROP_PEER_DOWN: return "peer_down";
	case DROP_ERROR_IND_IGNORED: return "error_ind_ignored";
	case DROP_TOO_LONG: return "too_long";
	case DROP_SEND_ERROR: return "send_error";
	case DROP_INNER_MALFORMED: return "inner_malformed";
	case DROP_GTP_IN_GTP: return "gtp_in_gtp";
	case DROP_SPOOFED: return "spoofed";
	case DROP_NO_ROUTE: return "no_route";
	case DROP_TOO_BIG: return "too_big";
	case DROP_RATE_LIMIT: return "rate_limit";
	case DROP_NO_TUN: return "no_tun";
	case DROP_TUN_ERROR: return "tun_error";
	case DROP__COUNT: break;
	}
	return "unknown";
}

void tbucket_init(struct tbucket *b, uint64_t rate, uint64_t burst, uint64_t now_ns)
{
	b->rate = rate;
	b->burst = burst * 1000;
	b->tokens = b->burst;
	b->last_ns = now_ns;
}

bool tbucket_take(struct tbucket *b, uint64_t units, uint64_t now_ns)
{
	uint64_t dt = now_ns - b->last_ns;

	/* milli-units per ns = rate / 1e6; avoid overflow on long idle gaps */
	if (dt > 10000000000ull)
		b->tokens = b->burst;
	else
		b->tokens += dt * b->rate / 1000000;
	if (b->tokens > b->burst)
		b->tokens = b->burst;
	b->last_ns = now_ns;
	if (b->tokens < units * 1000)
		return false;
	b->tokens -= units * 1000;
	return true;
}

void conf_addr_to_sockaddr(const struct conf_addr *a, uint16_t port,
			   struct sockaddr_storage *ss, socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		memcpy(&sin->sin_addr, a->addr, 4);
		*len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		memcpy(&sin6->sin6_addr, a->addr, 16);
		*len = sizeof(*sin6);
	}
}

/* The address's 32-bit words mixed in turn: one mix for IPv4 (a source
 * address is hashed for every datagram received), four for IPv6. */
static uint32_t addr_hash(int family, const uint8_t *a)
{
	uint32_t h = 0, w;

	for (size_t i = 0; i < (family == AF_INET ? 4u : 16u); i += 4) {
		memcpy(&w, a + i, sizeof(w));
		h = hash_u32(h ^ w);
	}
	return h;
}

/* The per-tunnel arrays a packet touches (TEID index, tunnels, counters):
 * from 2 MB on, 2 MB aligned and asked to be backed by transparent huge
 * pages (which this kernel may give only on request). A million tunnels then
 * take a few dozen TLB entries instead of a TLB miss, with its page walk, at
 * every lookup. n (at least one) elements of size, every byte fill; freed
 * with free. */
#define HUGE_PAGE ((size_t)2 << 20)

static void *table_alloc(size_t n, size_t size, uint8_t fill)
{
	size_t len;
	void *p;

	if (!n)
		n = 1;
	if (size && n > (SIZE_MAX - HUGE_PAGE) / size)
		return NULL;
	len = n * size;
	if (len < HUGE_PAGE) {
		if (!fill)
			return calloc(n, size);
		p = malloc(len);
	} else {
		len = (len + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
		if (posix_memalign(&p, HUGE_PAGE, len))
			return NULL;
		madvise(p, len, MADV_HUGEPAGE);    /* advice: without it, small pages */
	}
	if (p)
		memset(p, fill, len);
	return p;
}

static uint32_t pow2_for(uint32_t n)
{
	uint32_t sz = 16;

	while (sz < 2 * (uint64_t)n)
		sz <<= 1;
	return sz;
}

/* Fixed-size compares: no call into memcmp with a length it must test. */
static bool addr_eq(int family, const uint8_t *a, const struct conf_addr *b)
{
	if (b->family != family)
		return false;
	return family == AF_INET ? !memcmp(a, b->addr, 4) : !memcmp(a, b->addr, 16);
}

static struct peer *peer_new(const struct conf_peer *cp, unsigned n_workers)
{
	struct peer *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->ctr = calloc(n_workers, sizeof(*p->ctr));
	p->ei_tb = calloc(n_workers, sizeof(*p->ei_tb));
	if (!p->ctr || !p->ei_tb) {
		free(p->ctr);
		free(p->ei_tb);
		free(p);
		return NULL;
	}
	snprintf(p->name, sizeof(p->name), "%s", cp->name);
	p->addr = cp->addr;
	conf_addr_to_sockaddr(&cp->addr, cp->addr.port ? cp->addr.port : 2152, &p->sa, &p->salen);
	p->rtt_us = -1;
	p->recovery = -1;
	p->sock = -1;
	return p;
}

static void peer_unref(struct peer *p)
{
	if (!p || --p->refs)
		return;
	free(p->ctr);
	free(p->ei_tb);
	free(p);
}

static struct peer *old_peer(const struct state *old, const struct conf_peer *cp)
{
	if (!old)
		return NULL;
	for (uint32_t i = 0; i < old->n_peers; i++) {
		struct peer *p = old->peers[i];

		if (!strcmp(p->name, cp->name) && p->addr.family == cp->addr.family &&
		    !memcmp(p->addr.addr, cp->addr.addr, 16) &&
		    (p->addr.port ? p->addr.port : 2152) == (cp->addr.port ? cp->addr.port : 2152))
			return p;
	}
	return NULL;
}

static int build_peers(struct state *s, const struct state *old)
{
	const struct conf *c = s->conf;

	s->peers = calloc(c->n_peers ? c->n_peers : 1, sizeof(*s->peers));
	s->peer_mask = pow2_for(c->n_peers) - 1;
	s->peer_hash = calloc(s->peer_mask + 1, sizeof(*s->peer_hash));
	if (!s->peers || !s->peer_hash)
		return -ENOMEM;
	for (uint32_t i = 0; i < c->n_peers; i++) {
		const struct conf_peer *cp = &c->peers[i];
		struct peer *p = old_peer(old, cp);
		uint32_t h;

		if (p)
			p->echo = cp->echo;
		else if (!(p = peer_new(cp, s->n_workers)))
			return -ENOMEM;
		p->echo = cp->echo;
		p->refs++;
		s->peers[s->n_peers++] = p;
		/* Several peers may share an address (different ports): the first wins
		 * the source lookup, which ignores ports. */
		h = addr_hash(cp->addr.family, cp->addr.addr) & s->peer_mask;
		while (s->peer_hash[h]) {
			if (addr_eq(cp->addr.family, cp->addr.addr, &s->peers[s->peer_hash[h] - 1]->addr))
				break;
			h = (h + 1) & s->peer_mask;
		}
		if (!s->peer_hash[h])
			s->peer_hash[h] = i + 1;
	}
	return 0;
}

struct peer *state_lookup_peer(const struct state *s, const struct sockaddr *sa)
{
	const uint8_t *a;
	int family = sa->sa_family;
	uint32_t h;

	if (family == AF_INET) {
		a = (const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr;
	} else if (family == AF_INET6) {
		a = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
		/* An IPv4 peer reached over a dual-stack socket. */
		if (!memcmp(a, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12)) {
			a += 12;
			family = AF_INET;
		}
	} else {
		return NULL;
	}
	h = addr_hash(family, a) & s->peer_mask;
	while (s->peer_hash[h]) {
		struct peer *p = s->peers[s->peer_hash[h] - 1];

		if (addr_eq(family, a, &p->addr))
			return p;
		h = (h + 1) & s->peer_mask;
	}
	return NULL;
}

uint32_t state_lookup_ue(const struct state *s, int family, const uint8_t *addr)
{
	uint32_t h;

	if (!s->ue_hash)
		return TUNNEL_NONE;
	h = addr_hash(family, addr) & s->ue_mask;
	while (s->ue_hash[h].family) {
		const struct ue_entry *e = &s->ue_hash[h];

		if (e->family == family && !memcmp(e->addr, addr, family == AF_INET ? 4 : 16))
			return e->tunnel;
		h = (h + 1) & s->ue_mask;
	}
	return TUNNEL_NONE;
}

static bool hidx_insert(struct hidx *h, uint32_t key, uint32_t val)
{
	uint32_t i = hidx_hash(key) & h->mask;

	while (h->slot[i].key) {
		if (h->slot[i].key == key)
			return false;
		i = (i + 1) & h->mask;
	}
	h->slot[i].key = key;
	h->slot[i].val = val;
	return true;
}

static void to_insert(struct hidx *h, uint32_t key, uint32_t val)
{
	uint32_t i = hidx_hash(key) & h->mask;

	while (h->slot[i].val != TUNNEL_NONE)
		i = (i + 1) & h->mask;
	h->slot[i].key = key;
	h->slot[i].val = val;
}

uint32_t state_lookup_to(const struct state *s, uint32_t peer, uint32_t teid)
{
	const struct hidx *h = &s->to;
	uint32_t i = hidx_hash(teid) & h->mask;

	for (; h->slot[i].val != TUNNEL_NONE; i = (i + 1) & h->mask)
		if (h->slot[i].key == teid && s->tunnels[h->slot[i].val].to_peer == peer)
			return h->slot[i].val;
	return TUNNEL_NONE;
}

/* Name hash used only while building, to find duplicates and for lookups. */
struct build {
	uint32_t name_mask;
	uint32_t *name_hash;        /* tunnel index + 1 */
	size_t names_len, names_cap;
	uint32_t n_ue, cap_ue;
	uint32_t n_tb;
};

static int add_name(struct state *s, struct build *b, const char *name, uint32_t *off)
{
	size_t n = strlen(name) + 1;

	if (b->names_len + n > b->names_cap) {
		size_t cap = b->names_cap ? b->names_cap * 2 : 4096;
		char *p;

		while (cap < b->names_len + n)
			cap *= 2;
		if (!(p = realloc(s->names, cap)))
			return -ENOMEM;
		s->names = p;
		b->names_cap = cap;
	}
	memcpy(s->names + b->names_len, name, n);
	*off = (uint32_t)b->names_len;
	b->names_len += n;
	return 0;
}

static uint32_t name_slot(const struct state *s, const struct build *b, const char *name)
{
	uint32_t h = hash_str(name) & b->name_mask;

	while (b->name_hash[h] && strcmp(tunnel_name(s, &s->tunnels[b->name_hash[h] - 1]), name))
		h = (h + 1) & b->name_mask;
	return h;
}

/* Claims the ue addresses of tunnel i; an address named twice stays with
 * the first tunnel (the config loader and tunnel add refuse that anyway). */
static void ue_claim(struct state *s, uint32_t i)
{
	const struct tunnel *t = &s->tunnels[i];

	for (unsigned u = 0; u < t->n_ue; u++) {
		const struct conf_addr *a = &s->ue[t->ue_off + u];
		uint32_t h = addr_hash(a->family, a->addr) & s->ue_mask;

		while (s->ue_hash[h].family && !addr_eq(s->ue_hash[h].family, s->ue_hash[h].addr, a))
			h = (h + 1) & s->ue_mask;
		if (s->ue_hash[h].family)
			continue;
		s->ue_hash[h].family = (uint8_t)a->family;
		memcpy(s->ue_hash[h].addr, a->addr, 16);
		s->ue_hash[h].tunnel = i;
	}
}

static bool ue_taken(const struct state *s, const struct conf_tunnel *ct)
{
	for (unsigned u = 0; u < ct->n_ue; u++)
		if (state_lookup_ue(s, ct->ue[u].family, ct->ue[u].addr) != TUNNEL_NONE)
			return true;
	return false;
}

/* Adds one tunnel and claims its ue addresses (the index is sized for all
 * of them first); returns 0, or -EEXIST for a duplicate name or TEID. */
static int add_tunnel(struct state *s, struct build *b, const struct conf_tunnel *ct,
		      uint32_t from, uint32_t to, uint8_t flags)
{
	struct tunnel *t = &s->tunnels[s->n_tunnels];
	uint32_t slot = name_slot(s, b, ct->name);
	int r;

	if (b->name_hash[slot])
		return -EEXIST;
	if (state_lookup_teid(s, ct->from_teid) != TUNNEL_NONE)
		return -EEXIST;
	memset(t, 0, sizeof(*t));
	if ((r = add_name(s, b, ct->name, &t->name_off)) < 0)
		return r;
	t->from_teid = ct->from_teid;
	t->to_teid = ct->to_teid;
	t->from_peer = from;
	t->to_peer = to;
	t->qfi = (int8_t)ct->qfi;
	t->flags = flags | (ct->n_ue ? TUNNEL_ENDPOINT : 0);
	t->tb = TUNNEL_NONE;
	if (ct->rate)
		t->tb = b->n_tb++;
	t->n_ue = ct->n_ue;
	if (ct->n_ue) {
		if (b->n_ue + ct->n_ue > b->cap_ue) {
			uint32_t cap = b->cap_ue ? b->cap_ue * 2 : 64;
			struct conf_addr *p;

			while (cap < b->n_ue + ct->n_ue)
				cap *= 2;
			if (!(p = realloc(s->ue, cap * sizeof(*p))))
				return -ENOMEM;
			s->ue = p;
			b->cap_ue = cap;
		}
		memcpy(s->ue + b->n_ue, ct->ue, ct->n_ue * sizeof(*ct->ue));
		t->ue_off = b->n_ue;
		b->n_ue += ct->n_ue;
	}
	hidx_insert(&s->teid, ct->from_teid, s->n_tunnels);
	to_insert(&s->to, ct->to_teid, s->n_tunnels);
	ue_claim(s, s->n_tunnels);
	b->name_hash[slot] = s->n_tunnels + 1;
	s->n_tunnels++;
	return 0;
}

static int append_collide(char **list, const char *name, const char *why)
{
	char *n;
	size_t len = *list ? strlen(*list) : 0;

	if (!(n = realloc(*list, len + strlen(name) + strlen(why) + 24)))
		return -ENOMEM;
	if (len)
		n[len++] = '\n';
	sprintf(n + len, "runtime tunnel \"%s\" %s", name, why);
	*list = n;
	return 0;
}

static int build_buckets(struct state *s, uint32_t n_tb, const struct conf_tunnel *const *src)
{
	if (!n_tb)
		return 0;
	s->tb = calloc((size_t)n_tb * s->n_workers * 2, sizeof(*s->tb));
	s->tb_cfg = calloc((size_t)n_tb * 2, sizeof(*s->tb_cfg));
	if (!s->tb || !s->tb_cfg)
		return -ENOMEM;
	for (uint32_t i = 0; i < s->n_tunnels; i++) {
		const struct tunnel *t = &s->tunnels[i];
		const struct conf_tunnel *ct = src[i];
		uint64_t burst, rate;

		if (t->tb == TUNNEL_NONE)
			continue;
		s->tb_cfg[2 * (size_t)t->tb] = ct->rate;
		s->tb_cfg[2 * (size_t)t->tb + 1] = ct->burst;
		/* Each worker gets its share of the rate: no lock on the hot path. */
		rate = ct->rate / 8 / s->n_workers;
		burst = ct->burst ? ct->burst : ct->rate / 8 / 10;
		if (burst < 3000)
			burst = 3000;
		burst /= s->n_workers;
		for (unsigned w = 0; w < s->n_workers * 2; w++)
			tbucket_init(&s->tb[(size_t)t->tb * s->n_workers * 2 + w], rate, burst, 0);
	}
	return 0;
}

static int build(struct conf *conf, unsigned *refs, const struct conf_tunnel *cts, uint32_t n_ct,
		 const struct rt_tunnel *rt, uint32_t n_rt,
		 const struct state *old, unsigned n_workers, struct state **out,
		 char **collide)
{
	struct state *s = calloc(1, sizeof(*s));
	struct build b = { 0 };
	const struct conf_tunnel **src = NULL;
	uint32_t total = n_ct + n_rt, n_ue = 0;
	int r = -ENOMEM;

	*out = NULL;
	if (collide)
		*collide = NULL;
	if (!s) {
		if (!--*refs) {
			conf_free(conf);
			free(refs);
		}
		return -ENOMEM;
	}
	s->conf = conf;
	s->conf_refs = refs;
	s->n_workers = n_workers;
	if ((r = build_peers(s, old)) < 0)
		goto out;
	r = -ENOMEM;
	s->tunnels = table_alloc(total, sizeof(*s->tunnels), 0);
	src = calloc(total ? total : 1, sizeof(*src));
	s->teid.mask = pow2_for(total) - 1;
	s->teid.slot = table_alloc(s->teid.mask + 1, sizeof(*s->teid.slot), 0);
	s->to.mask = s->teid.mask;
	/* Every val TUNNEL_NONE: empty. */
	s->to.slot = table_alloc(s->to.mask + 1, sizeof(*s->to.slot), 0xff);
	b.name_mask = pow2_for(total) - 1;
	b.name_hash = calloc(b.name_mask + 1, sizeof(uint32_t));
	if (!s->tunnels || !src || !s->teid.slot || !s->to.slot || !b.name_hash)
		goto out;
	for (uint32_t i = 0; i < n_ct; i++)
		n_ue += cts[i].n_ue;
	for (uint32_t i = 0; i < n_rt; i++)
		n_ue += rt[i].t.n_ue;
	if (n_ue) {
		s->ue_mask = pow2_for(n_ue) - 1;
		if (!(s->ue_hash = calloc(s->ue_mask + 1, sizeof(*s->ue_hash))))
			goto out;
	}
	for (uint32_t i = 0; i < n_ct; i++) {
		const struct conf_tunnel *ct = &cts[i];

		src[s->n_tunnels] = ct;
		if ((r = add_tunnel(s, &b, ct, ct->from_peer, ct->to_peer, 0)) < 0)
			goto out;   /* the config loader rejects duplicates already */
	}
	for (uint32_t i = 0; i < n_rt; i++) {
		const struct rt_tunnel *x = &rt[i];
		int from = conf_peer_index(conf, x->from), to = conf_peer_index(conf, x->to);

		if (from < 0 || to < 0) {
			if (collide && append_collide(collide, x->t.name, "names a peer that is gone") < 0)
				goto out;
			continue;
		}
		if ((x->t.n_ue && !conf->tun.present)) {
			if (collide && append_collide(collide, x->t.name, "has ue but no tun is configured") < 0)
				goto out;
			continue;
		}
		if (ue_taken(s, &x->t)) {
			if (collide && append_collide(collide, x->t.name, "has a ue address of another tunnel") < 0)
				goto out;
			continue;
		}
		src[s->n_tunnels] = &x->t;
		r = add_tunnel(s, &b, &x->t, (uint32_t)from, (uint32_t)to, TUNNEL_RUNTIME);
		if (r == -EEXIST) {
			if (collide && append_collide(collide, x->t.name, "collides with the config (name or from.teid)") < 0)
				goto out;
			continue;
		}
		if (r < 0)
			goto out;
		s->n_runtime++;
	}
	r = -ENOMEM;
	s->ctr = table_alloc((size_t)s->n_tunnels * n_workers, sizeof(*s->ctr), 0);
	/* base and tun_err_ind come when needed (a reload, an Error
	 * Indication): a million tunnels stay small. */
	if (!s->ctr)
		goto out;
	if ((r = build_buckets(s, b.n_tb, src)) < 0)
		goto out;
	*out = s;
	s = NULL;
	r = 0;
out:
	free(b.name_hash);
	free(src);
	if (s)
		state_free(s);
	if (r < 0 && collide) {   /* nothing was left out: no state was built */
		free(*collide);
		*collide = NULL;
	}
	return r;
}

int state_new(struct conf *conf, const struct rt_tunnel *rt, uint32_t n_rt,
	      const struct state *old, unsigned n_workers, struct state **out,
	      char **collide)
{
	unsigned *refs = malloc(sizeof(*refs));
	int r;

	if (!refs) {
		conf_free(conf);
		return -ENOMEM;
	}
	*refs = 1;
	r = build(conf, refs, conf->tunnels, conf->n_tunnels, rt, n_rt, old, n_workers, out, collide);
	/* The tables hold the tunnels now; their config rows would double the
	 * memory of a million tunnels. */
	if (r == 0)
		conf_free_tunnels(conf);
	return r;
}

/* The config tunnels of a state, as config rows pointing into it. */
static struct conf_tunnel *config_rows(const struct state *old, uint32_t *n)
{
	struct conf_tunnel *ct = calloc(old->n_tunnels ? old->n_tunnels : 1, sizeof(*ct));

	*n = 0;
	if (!ct)
		return NULL;
	for (uint32_t i = 0; i < old->n_tunnels; i++) {
		const struct tunnel *t = &old->tunnels[i];
		struct conf_tunnel *c = &ct[*n];

		if (t->flags & TUNNEL_RUNTIME)
			continue;
		c->name = (char *)tunnel_name(old, t);
		c->from_peer = t->from_peer;
		c->from_teid = t->from_teid;
		c->to_peer = t->to_peer;
		c->to_teid = t->to_teid;
		c->n_ue = t->n_ue;
		c->ue = t->n_ue ? &old->ue[t->ue_off] : NULL;
		c->qfi = t->qfi;
		if (t->tb != TUNNEL_NONE) {
			c->rate = old->tb_cfg[2 * (size_t)t->tb];
			c->burst = old->tb_cfg[2 * (size_t)t->tb + 1];
		}
		++*n;
	}
	return ct;
}

int state_rebuild(const struct state *old, const struct rt_tunnel *rt, uint32_t n_rt,
		  struct state **out, char **collide)
{
	uint32_t n;
	struct conf_tunnel *ct = config_rows(old, &n);
	int r;

	if (!ct)
		return -ENOMEM;
	++*old->conf_refs;
	r = build(old->conf, old->conf_refs, ct, n, rt, n_rt, old, old->n_workers, out, collide);
	free(ct);
	return r;
}

uint32_t state_find_tunnel(const struct state *s, const char *name)
{
	for (uint32_t i = 0; i < s->n_tunnels; i++)
		if (!strcmp(tunnel_name(s, &s->tunnels[i]), name))
			return i;
	return TUNNEL_NONE;
}

static uint64_t *err_ind_slot(struct state *s, uint32_t i)
{
	if (!s->tun_err_ind && !(s->tun_err_ind = calloc(s->n_tunnels, sizeof(*s->tun_err_ind))))
		return NULL;
	return &s->tun_err_ind[i];
}

bool state_count_err_ind(struct state *s, uint32_t i)
{
	uint64_t *p = err_ind_slot(s, i);

	if (p)
		++*p;
	return p != NULL;
}

uint64_t state_err_ind(const struct state *s, uint32_t i)
{
	return s->tun_err_ind ? s->tun_err_ind[i] : 0;
}

void state_tunnel_ctr(const struct state *s, uint32_t i, struct ctr *out)
{
	if (s->base)
		*out = s->base[i];
	else
		memset(out, 0, sizeof(*out));
	for (unsigned w = 0; w < s->n_workers; w++) {
		const struct ctr *c = &s->ctr[(size_t)w * s->n_tunnels + i];

		out->rx_pkts += __atomic_load_n(&c->rx_pkts, __ATOMIC_RELAXED);
		out->rx_bytes += __atomic_load_n(&c->rx_bytes, __ATOMIC_RELAXED);
		out->tx_pkts += __atomic_load_n(&c->tx_pkts, __ATOMIC_RELAXED);
		out->tx_bytes += __atomic_load_n(&c->tx_bytes, __ATOMIC_RELAXED);
	}
}

void state_peer_ctr(const struct state *s, const struct peer *p, struct ctr *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned w = 0; w < s->n_workers; w++) {
		out->rx_pkts += __atomic_load_n(&p->ctr[w].rx_pkts, __ATOMIC_RELAXED);
		out->rx_bytes += __atomic_load_n(&p->ctr[w].rx_bytes, __ATOMIC_RELAXED);
		out->tx_pkts += __atomic_load_n(&p->ctr[w].tx_pkts, __ATOMIC_RELAXED);
		out->tx_bytes += __atomic_load_n(&p->ctr[w].tx_bytes, __ATOMIC_RELAXED);
	}
}

void state_carry_counters(struct state *s, const struct state *old)
{
	struct build b = { 0 };

	if (!old || !old->n_tunnels || !s->n_tunnels)
		return;
	/* Index the new names once: O(n) for a million tunnels. */
	b.name_mask = pow2_for(s->n_tunnels) - 1;
	if (!(b.name_hash = calloc(b.name_mask + 1, sizeof(uint32_t))))
		return;
	for (uint32_t i = 0; i < s->n_tunnels; i++)
		b.name_hash[name_slot(s, &b, tunnel_name(s, &s->tunnels[i]))] = i + 1;
	for (uint32_t i = 0; i < old->n_tunnels; i++) {
		uint32_t j = b.name_hash[name_slot(s, &b, tunnel_name(old, &old->tunnels[i]))];
		struct ctr c;

		if (!j--)
			continue;
		state_tunnel_ctr(old, i, &c);
		if (!s->base && !(s->base = calloc(s->n_tunnels, sizeof(*s->base))))
			break;
		s->base[j] = c;
		if (old->tun_err_ind && old->tun_err_ind[i] && err_ind_slot(s, j))
			*err_ind_slot(s, j) = old->tun_err_ind[i];
	}
	free(b.name_hash);
}

void state_free(struct state *s)
{
	if (!s)
		return;
	for (uint32_t i = 0; i < s->n_peers; i++)
		peer_unref(s->peers[i]);
	free(s->peers);
	free(s->peer_hash);
	free(s->tunnels);
	free(s->names);
	free(s->ue);
	free(s->teid.slot);
	free(s->to.slot);
	free(s->ue_hash);
	free(s->tb);
	free(s->tb_cfg);
	free(s->ctr);
	free(s->base);
	free(s->tun_err_ind);
	if (s->conf_refs && !--*s->conf_refs) {
		conf_free(s->conf);
		free(s->conf_refs);
	}
	free(s);
}
