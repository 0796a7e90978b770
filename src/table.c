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
#include <time.h>

void tbucket_init(struct tbucket *b, uint64_t rate, uint64_t burst, uint64_t now_ns)
{
	b->rate = rate;
	b->burst = burst * 1000;
	b->tokens = b->burst;
	b->last_ns = now_ns;
	/* The longest gap whose refill dt * rate fits in 64 bits. */
	b->dt_max = rate ? UINT64_MAX / rate : UINT64_MAX;
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
/* Big arrays (tunnel slots, their counters, buckets and ue addresses) are
 * reserved whole for the state's capacity but cost memory only where they
 * are touched: a slot array never moves, so a worker's index stays good
 * while the control thread adds and removes tunnels. From 2 MB on they are
 * asked to be backed by transparent huge pages (which this kernel may give
 * only on request): a million tunnels then take a few dozen TLB entries
 * instead of a TLB miss, with its page walk, at every lookup. Zero-filled. */
#define HUGE_PAGE ((size_t)2 << 20)

static void *region_new(size_t n, size_t size, size_t *len)
{
	void *p;

	if (!n)
		n = 1;
	if (size && n > (SIZE_MAX - HUGE_PAGE) / size)
		return NULL;
	*len = (n * size + 4095) & ~(size_t)4095;
	if (*len < HUGE_PAGE) {
		p = mmap(NULL, *len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		return p == MAP_FAILED ? NULL : p;
	}
	/* On a huge page boundary: map more, give back the ends. */
	*len = (*len + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
	p = mmap(NULL, *len + HUGE_PAGE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	{
		uintptr_t a = ((uintptr_t)p + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1);
		size_t head = a - (uintptr_t)p;

		if (head)
			munmap(p, head);
		if (HUGE_PAGE - head)
			munmap((char *)a + *len, HUGE_PAGE - head);
		p = (void *)a;
	}
	madvise(p, *len, MADV_HUGEPAGE);    /* advice: without it, small pages */
	return p;
}

/* Drop counters of n tunnels: reserved, not backed until a tunnel drops
 * (small pages: a drop touches 4 KB, not 2 MB; no TLB is at stake). */
static uint64_t *drops_region(size_t n, size_t *len)
{
	void *p;

	if (!n)
		n = 1;
	if (n > SIZE_MAX / (TABLE_TDROPS * sizeof(uint64_t)) - 4096)
		return NULL;
	*len = (n * TABLE_TDROPS * sizeof(uint64_t) + 4095) & ~(size_t)4095;
	p = mmap(NULL, *len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

static void region_free(void *p, size_t len)
{
	if (p)
		munmap(p, len);
}

/* An index: zeroed, huge pages from 2 MB on; freed with free. */
static void *idx_alloc(size_t len)
{
	void *p;

	if (len < HUGE_PAGE)
		return calloc(1, len);
	len = (len + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
	if (posix_memalign(&p, HUGE_PAGE, len))
		return NULL;
	madvise(p, len, MADV_HUGEPAGE);
	memset(p, 0, len);
	return p;
}

/* The table size for n entries at a load of at most one half. */
static uint32_t pow2_for(uint32_t n)
{
	uint32_t sz = 16;

	while (sz < 2 * (uint64_t)n)
		sz <<= 1;
	return sz;
}

/* An index takes entries until three quarters of it are used (deleted
 * entries count: they lengthen probes); then it is built anew at a load of
 * at most one half. */
static bool idx_full(uint32_t mask, uint32_t used, uint32_t more)
{
	return ((uint64_t)used + more) * 4 > ((uint64_t)mask + 1) * 3;
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
	p->echo_tb = calloc(n_workers, sizeof(*p->echo_tb));
	p->ei_rx_tb = calloc(n_workers, sizeof(*p->ei_rx_tb));
	if (!p->ctr || !p->ei_tb || !p->echo_tb || !p->ei_rx_tb) {
		free(p->ctr);
		free(p->ei_tb);
		free(p->echo_tb);
		free(p->ei_rx_tb);
		free(p);
		return NULL;
	}
	static uint32_t next_id;

	snprintf(p->name, sizeof(p->name), "%s", cp->name);
	p->id = ++next_id;
	p->addr = cp->addr;
	conf_addr_to_sockaddr(&cp->addr, cp->addr.port ? cp->addr.port : 2152, &p->sa, &p->salen);
	p->rtt_us = -1;
	p->recovery = -1;
	p->since = (int64_t)time(NULL);
	p->sock = -1;
	return p;
}

static void peer_unref(struct peer *p)
{
	if (!p || --p->refs)
		return;
	free(p->ctr);
	free(p->ei_tb);
	free(p->echo_tb);
	free(p->ei_rx_tb);
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

uint32_t state_dynamic_peers;

/* Index p under its address: the first peer of an address wins the source
 * lookup, which ignores ports. The slot is written last, in one store. */
static void peer_hash_add(struct state *s, uint32_t i)
{
	const struct peer *p = s->peers[i];
	uint32_t h = addr_hash(p->addr.family, p->addr.addr) & s->peer_mask;

	while (s->peer_hash[h]) {
		if (addr_eq(p->addr.family, p->addr.addr, &s->peers[s->peer_hash[h] - 1]->addr))
			return;
		h = (h + 1) & s->peer_mask;
	}
	__atomic_store_n(&s->peer_hash[h], i + 1, __ATOMIC_RELEASE);
}

static void peer_dynamic_name(const struct conf_addr *a, char *name, size_t len)
{
	char as[INET6_ADDRSTRLEN];

	snprintf(name, len, "pfcp-%s", conf_addr_str(a, as, sizeof(as)));
}

static int build_peers(struct state *s, const struct state *old)
{
	const struct conf *c = s->conf;

	s->peer_cap = c->n_peers + state_dynamic_peers;
	s->peers = calloc(s->peer_cap ? s->peer_cap : 1, sizeof(*s->peers));
	s->peer_mask = pow2_for(s->peer_cap * 2 > s->peer_cap ? s->peer_cap * 2 : s->peer_cap) - 1;
	s->peer_hash = calloc(s->peer_mask + 1, sizeof(*s->peer_hash));
	if (!s->peers || !s->peer_hash)
		return -ENOMEM;
	for (uint32_t i = 0; i < c->n_peers; i++) {
		const struct conf_peer *cp = &c->peers[i];
		struct peer *p = old_peer(old, cp);

		if (!p && !(p = peer_new(cp, s->n_workers)))
			return -ENOMEM;
		p->echo = cp->echo;
		p->refs++;
		p->users = 0;
		s->peers[s->n_peers++] = p;
		peer_hash_add(s, i);
	}
	/* PFCP's peers that tunnels still use come along (counted again as
	 * the tunnels are added). */
	for (uint32_t i = 0; old && i < old->n_peers && s->n_peers < s->peer_cap; i++) {
		struct peer *p = old->peers[i];

		if (!p->dynamic || !p->users)
			continue;
		p->refs++;
		p->users = 0;
		s->peers[s->n_peers] = p;
		peer_hash_add(s, s->n_peers++);
	}
	return 0;
}

uint32_t state_peer_by_addr(const struct state *s, const struct conf_addr *a)
{
	uint16_t port = a->port ? a->port : 2152;

	for (uint32_t i = 0; i < s->n_peers; i++) {
		const struct peer *p = s->peers[i];

		if (p->addr.family == a->family && !memcmp(p->addr.addr, a->addr, 16) &&
		    (p->addr.port ? p->addr.port : 2152) == port)
			return i;
	}
	return TABLE_NO_PEER;
}

uint32_t state_peer_add(struct state *s, const struct conf_addr *a)
{
	struct conf_peer cp = { .addr = *a, .echo = true };
	struct peer *p;

	if (s->n_peers >= s->peer_cap)
		return TABLE_NO_PEER;
	peer_dynamic_name(a, cp.name, sizeof(cp.name));
	if (!(p = peer_new(&cp, s->n_workers)))
		return TABLE_NO_PEER;
	p->dynamic = true;
	p->echo = true;
	p->refs = 1;
	s->peers[s->n_peers] = p;
	peer_hash_add(s, s->n_peers);
	return s->n_peers++;
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
	for (uint32_t k; (k = __atomic_load_n(&s->peer_hash[h], __ATOMIC_ACQUIRE));
	     h = (h + 1) & s->peer_mask) {
		struct peer *p = s->peers[k - 1];

		if (addr_eq(family, a, &p->addr))
			return p;
	}
	return NULL;
}

/* ---- the control thread's part ---- */

/* A stack of free indexes. */
struct ustack {
	uint32_t *v;
	uint32_t n, cap;
};

static int us_push(struct ustack *u, uint32_t x)
{
	if (u->n == u->cap) {
		uint32_t cap = u->cap ? u->cap * 2 : 256;
		uint32_t *v = realloc(u->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		u->v = v;
		u->cap = cap;
	}
	u->v[u->n++] = x;
	return 0;
}

/* Something freed that a worker may still read: a tunnel slot, or an index
 * array replaced by a bigger one. */
struct limbo {
	uint64_t gen;                 /* UINT64_MAX until state_commit */
	uint32_t slot;
	void *ptr;                    /* an index to free, or NULL: the slot */
};

#define NAME_TOMB UINT32_MAX

struct tctl {
	size_t tunnels_len, ctr_len, ue_len, tb_len, tbcfg_len, base_len, ei_len, tdrop_len, tdbase_len;
	struct ustack slot_free;
	uint32_t ue_cap, ue_hi;       /* ue entries reserved and ever used */
	struct ustack ue_free[CONF_MAX_UE + 1];   /* freed ue ranges by length */
	uint32_t tb_cap, tb_hi;
	struct ustack tb_free;
	struct limbo *limbo;
	size_t limbo_head, limbo_n, limbo_cap, limbo_pending;
	/* Names: a pool the tunnels point into (compacted when half is
	 * garbage) and a hash of them (slot + 1, NAME_TOMB deleted). */
	char *names;
	size_t names_len, names_cap, names_dead;
	uint32_t *name_idx;
	uint32_t name_mask, name_used, name_live;
};

const char *state_names(const struct state *s)
{
	return s->ctl->names;
}

static int limbo_add(struct tctl *c, uint32_t slot, void *ptr)
{
	if (c->limbo_n == c->limbo_cap) {
		size_t cap = c->limbo_cap ? c->limbo_cap * 2 : 256;
		struct limbo *l;

		/* Room at the front first. */
		if (c->limbo_head) {
			memmove(c->limbo, c->limbo + c->limbo_head, (c->limbo_n - c->limbo_head) * sizeof(*l));
			c->limbo_n -= c->limbo_head;
			c->limbo_pending -= c->limbo_head;
			c->limbo_head = 0;
		}
		if (c->limbo_n == c->limbo_cap) {
			if (!(l = realloc(c->limbo, cap * sizeof(*l))))
				return -ENOMEM;
			c->limbo = l;
			c->limbo_cap = cap;
		}
	}
	c->limbo[c->limbo_n++] = (struct limbo){ UINT64_MAX, slot, ptr };
	return 0;
}

/* ---- the name pool and index (control thread only) ---- */

static uint32_t name_find_slot(const struct state *s, const char *name, uint32_t *tomb)
{
	const struct tctl *c = s->ctl;
	uint32_t h = hash_str(name) & c->name_mask;

	if (tomb)
		*tomb = UINT32_MAX;
	for (;; h = (h + 1) & c->name_mask) {
		uint32_t v = c->name_idx[h];

		if (!v)
			return h;
		if (v == NAME_TOMB) {
			if (tomb && *tomb == UINT32_MAX)
				*tomb = h;
			continue;
		}
		if (!strcmp(c->names + s->tunnels[v - 1].name_off, name))
			return h;
	}
}

uint32_t state_find_tunnel(const struct state *s, const char *name)
{
	uint32_t v = s->ctl->name_idx[name_find_slot(s, name, NULL)];

	return v ? v - 1 : TUNNEL_NONE;
}

static int name_idx_build(struct state *s, uint32_t n)
{
	struct tctl *c = s->ctl;
	uint32_t mask = pow2_for(n) - 1;
	uint32_t *idx = calloc((size_t)mask + 1, sizeof(*idx));

	if (!idx)
		return -ENOMEM;
	free(c->name_idx);
	c->name_idx = idx;
	c->name_mask = mask;
	c->name_used = c->name_live = 0;
	STATE_FOR_EACH(s, i) {
		c->name_idx[name_find_slot(s, c->names + s->tunnels[i].name_off, NULL)] = i + 1;
		c->name_used++;
		c->name_live++;
	}
	return 0;
}

static int names_room(struct tctl *c, size_t more)
{
	size_t cap;
	char *p;

	if (c->names_len + more <= c->names_cap)
		return 0;
	cap = c->names_cap ? c->names_cap : 4096;
	while (cap < c->names_len + more)
		cap *= 2;
	if (!(p = realloc(c->names, cap)))
		return -ENOMEM;
	c->names = p;
	c->names_cap = cap;
	return 0;
}

/* Rewrite the pool without its garbage: O(live names), once at least half
 * of it is garbage. */
static int names_compact(struct state *s)
{
	struct tctl *c = s->ctl;
	char *p = malloc(c->names_cap);
	size_t len = 0;

	if (!p)
		return -ENOMEM;
	STATE_FOR_EACH(s, i) {
		struct tunnel *t = &s->tunnels[i];
		size_t n = strlen(c->names + t->name_off) + 1;

		memcpy(p + len, c->names + t->name_off, n);
		t->name_off = (uint32_t)len;   /* workers never read it */
		len += n;
	}
	free(c->names);
	c->names = p;
	c->names_len = len;
	c->names_dead = 0;
	return 0;
}

/* ---- the TEID indexes ---- */

static struct hidx *hidx_new(uint32_t n)
{
	uint32_t size = pow2_for(n);
	struct hidx *h = idx_alloc(sizeof(*h) + (size_t)size * sizeof(h->slot[0]));

	if (h)
		h->mask = size - 1;
	return h;
}

/* Adds key -> val (a multi-map: the caller checks for duplicates where they
 * matter). Takes the first deleted entry on the way, else an empty one; the
 * entry is written whole, after the tunnel it names. */
static void hidx_put(struct hidx *h, uint32_t hash, uint32_t key, uint32_t val)
{
	uint32_t i = hash & h->mask, at = UINT32_MAX;

	for (;; i = (i + 1) & h->mask) {
		uint64_t e = h->slot[i];

		if (HIDX_KEY(e) == 0)
			break;
		if (HIDX_VAL(e) == TUNNEL_NONE && at == UINT32_MAX)
			at = i;
	}
	if (at == UINT32_MAX) {
		at = i;
		h->used++;
	}
	h->live++;
	__atomic_store_n(&h->slot[at], (uint64_t)key | (uint64_t)val << 32, __ATOMIC_RELEASE);
}

static void hidx_remove(struct hidx *h, uint32_t hash, uint32_t key, uint32_t val)
{
	uint32_t i = hash & h->mask;

	for (;; i = (i + 1) & h->mask) {
		uint64_t e = h->slot[i];

		if (HIDX_KEY(e) == 0)
			return;
		if (HIDX_KEY(e) == key && HIDX_VAL(e) == val) {
			__atomic_store_n(&h->slot[i], (uint64_t)key | (uint64_t)TUNNEL_NONE << 32,
					 __ATOMIC_RELEASE);
			h->live--;
			return;
		}
	}
}

/* The to-index is hashed on the peer too: many tunnels may send with one
 * TEID to different peers, and their entries should not share a chain. */
static uint32_t to_hash(uint32_t teid, uint32_t peer)
{
	return hash_u32(teid ^ hash_u32(peer + 1));
}

/* A new index with room for more entries, published; the old one waits
 * for the workers. */
static int hidx_grow(struct state *s, struct hidx **ph, uint32_t more)
{
	struct hidx *old = *ph, *h = hidx_new(old->live + more);
	bool to = ph == &s->to;

	if (!h)
		return -ENOMEM;
	for (uint32_t i = 0; i <= old->mask; i++) {
		uint64_t e = old->slot[i];
		uint32_t k = HIDX_KEY(e), v = HIDX_VAL(e);

		if (k && v != TUNNEL_NONE)
			hidx_put(h, to ? to_hash(k, s->tunnels[v].to_peer) : hidx_hash(k), k, v);
	}
	if (limbo_add(s->ctl, 0, old) < 0) {
		free(h);
		return -ENOMEM;
	}
	__atomic_store_n(ph, h, __ATOMIC_RELEASE);
	return 0;
}

uint32_t state_lookup_to(const struct state *s, uint32_t peer, uint32_t teid)
{
	const struct hidx *h = __atomic_load_n(&s->to, __ATOMIC_ACQUIRE);
	uint32_t i = to_hash(teid, peer) & h->mask;

	for (;; i = (i + 1) & h->mask) {
		uint64_t e = __atomic_load_n(&h->slot[i], __ATOMIC_ACQUIRE);

		if (HIDX_KEY(e) == 0)
			return TUNNEL_NONE;
		if (HIDX_KEY(e) == teid && HIDX_VAL(e) != TUNNEL_NONE &&
		    s->tunnels[HIDX_VAL(e)].to_peer == peer)
			return HIDX_VAL(e);
	}
}

/* ---- the UE address index ---- */

static struct uidx *uidx_new(uint32_t n)
{
	uint32_t size = pow2_for(n);
	struct uidx *u = idx_alloc(sizeof(*u) + (size_t)size * sizeof(u->slot[0]));

	if (u)
		u->mask = size - 1;
	return u;
}

static bool ue_entry_is(const struct ue_entry *e, int family, const uint8_t *addr)
{
	return e->family == family && !memcmp(e->addr, addr, family == AF_INET ? 4 : 16);
}

uint32_t state_lookup_ue(const struct state *s, int family, const uint8_t *addr)
{
	const struct uidx *u = __atomic_load_n(&s->ue_idx, __ATOMIC_ACQUIRE);
	uint32_t h;

	if (!u)
		return TUNNEL_NONE;
	h = addr_hash(family, addr) & u->mask;
	for (;; h = (h + 1) & u->mask) {
		const struct ue_entry *e = &u->slot[h];
		uint8_t f = __atomic_load_n(&e->family, __ATOMIC_ACQUIRE);

		if (!f)
			return TUNNEL_NONE;
		if (f == family && !memcmp(e->addr, addr, family == AF_INET ? 4 : 16)) {
			uint32_t t = __atomic_load_n(&e->tunnel, __ATOMIC_ACQUIRE);

			if (t != TUNNEL_NONE)
				return t;
		}
	}
}

/* The entry of a, or the empty one where it would go. An address keeps its
 * entry for the index's life: a worker comparing it never sees it change. */
static struct ue_entry *uidx_slot(struct uidx *u, const struct conf_addr *a)
{
	uint32_t h = addr_hash(a->family, a->addr) & u->mask;

	while (u->slot[h].family && !ue_entry_is(&u->slot[h], a->family, a->addr))
		h = (h + 1) & u->mask;
	return &u->slot[h];
}

static void uidx_put(struct uidx *u, const struct conf_addr *a, uint32_t tunnel)
{
	struct ue_entry *e = uidx_slot(u, a);

	u->live++;
	if (e->family) {
		__atomic_store_n(&e->tunnel, tunnel, __ATOMIC_RELEASE);
		return;
	}
	memcpy(e->addr, a->addr, 16);
	e->tunnel = tunnel;
	u->used++;
	__atomic_store_n(&e->family, (uint8_t)a->family, __ATOMIC_RELEASE);
}

static void uidx_remove(struct uidx *u, const struct conf_addr *a, uint32_t tunnel)
{
	struct ue_entry *e = uidx_slot(u, a);

	if (e->family && e->tunnel == tunnel) {
		__atomic_store_n(&e->tunnel, TUNNEL_NONE, __ATOMIC_RELEASE);
		u->live--;
	}
}

static int uidx_grow(struct state *s, uint32_t more)
{
	struct uidx *old = s->ue_idx, *u = uidx_new((old ? old->live : 0) + more);

	if (!u)
		return -ENOMEM;
	for (uint32_t i = 0; old && i <= old->mask; i++) {
		const struct ue_entry *e = &old->slot[i];

		if (e->family && e->tunnel != TUNNEL_NONE) {
			struct conf_addr a = { .family = e->family };

			memcpy(a.addr, e->addr, 16);
			uidx_put(u, &a, e->tunnel);
		}
	}
	if (old && limbo_add(s->ctl, 0, old) < 0) {
		free(u);
		return -ENOMEM;
	}
	__atomic_store_n(&s->ue_idx, u, __ATOMIC_RELEASE);
	return 0;
}

/* ---- slots, ue ranges and buckets ---- */

uint32_t state_free_slots(const struct state *s)
{
	return s->cap - s->n_tunnels;
}

/* Room for n more tunnels with up to n_ue ue addresses and n_tb buckets
 * in all, taken from the free stacks or the unused tail. */
static bool pools_room(const struct state *s, uint32_t n, uint32_t n_ue, uint32_t n_tb)
{
	const struct tctl *c = s->ctl;
	uint32_t ue_free = 0;

	for (unsigned k = 1; k <= CONF_MAX_UE; k++)
		ue_free += c->ue_free[k].n * k;
	/* Freed ue ranges fit only their own length: count the tail alone
	 * when it suffices, else both (reserve is a bound, not a promise). */
	return c->slot_free.n + (s->cap - s->hi) >= n &&
	       (c->ue_cap - c->ue_hi >= n_ue || c->ue_cap - c->ue_hi + ue_free >= n_ue) &&
	       c->tb_free.n + (c->tb_cap - c->tb_hi) >= n_tb;
}

static uint32_t ue_alloc(struct tctl *c, unsigned n)
{
	if (c->ue_free[n].n)
		return c->ue_free[n].v[--c->ue_free[n].n];
	if (c->ue_cap - c->ue_hi < n)
		return UINT32_MAX;
	c->ue_hi += n;
	return c->ue_hi - n;
}

static uint32_t tb_alloc(struct tctl *c)
{
	if (c->tb_free.n)
		return c->tb_free.v[--c->tb_free.n];
	return c->tb_hi < c->tb_cap ? c->tb_hi++ : UINT32_MAX;
}

int state_reserve(struct state *s, uint32_t n)
{
	struct tctl *c = s->ctl;
	int r;

	if (!pools_room(s, n, 0, 0))
		return -ENOSPC;
	if (idx_full(s->teid->mask, s->teid->used, n) && (r = hidx_grow(s, &s->teid, n)) < 0)
		return r;
	if (idx_full(s->to->mask, s->to->used, n) && (r = hidx_grow(s, &s->to, n)) < 0)
		return r;
	if (idx_full(c->name_mask, c->name_used, n) && (r = name_idx_build(s, s->n_tunnels + n)) < 0)
		return r;
	return names_room(c, (size_t)n * (CONF_NAME_MAX + 1));
}

/* Room in the ue index for n more addresses. */
static int ue_reserve(struct state *s, uint32_t n)
{
	if (!n || (s->ue_idx && !idx_full(s->ue_idx->mask, s->ue_idx->used, n)))
		return 0;
	return uidx_grow(s, n);
}

static void tb_setup(struct state *s, uint32_t tb, uint64_t rate_bps, uint64_t burst_bytes, uint64_t down_bps)
{
	s->tb_cfg[TB_CFG_N * (size_t)tb] = rate_bps;
	s->tb_cfg[TB_CFG_N * (size_t)tb + 1] = burst_bytes;
	s->tb_cfg[TB_CFG_N * (size_t)tb + 2] = down_bps;
	/* Each worker gets its share of the rate: no lock on the hot path.
	 * Buckets [w * 2] take the up direction, [w * 2 + 1] the down one. */
	for (unsigned w = 0; w < s->n_workers * 2; w++) {
		uint64_t bps = w % 2 && down_bps ? down_bps : rate_bps;
		uint64_t burst;

		if (!bps || bps == UINT64_MAX)
			bps = UINT64_C(1) << 50;      /* this direction unlimited */
		burst = burst_bytes ? burst_bytes : bps / 8 / 10;

		if (burst < 3000)
			burst = 3000;
		tbucket_init(&s->tb[(size_t)tb * s->n_workers * 2 + w], bps / 8 / s->n_workers,
			     burst / s->n_workers, 0);
	}
}

/* ---- one tunnel ---- */

int state_tunnel_check(const struct state *s, const struct conf_tunnel *ct, char *err, size_t errlen)
{
	uint32_t k;
	char as[INET6_ADDRSTRLEN];

	if ((ct->from_peer >= s->n_peers && ct->from_peer != TABLE_NO_PEER) ||
	    (ct->to_peer >= s->n_peers && ct->to_peer != TABLE_NO_PEER)) {
		snprintf(err, errlen, "unknown peer");
		return -ENOENT;
	}
	if (state_find_tunnel(s, ct->name) != TUNNEL_NONE) {
		snprintf(err, errlen, "a tunnel named \"%s\" exists", ct->name);
		return -EEXIST;
	}
	if ((k = state_lookup_teid(s, ct->from_teid)) != TUNNEL_NONE) {
		snprintf(err, errlen, "from TEID 0x%x is in use by tunnel \"%s\"", ct->from_teid,
			 tunnel_name(s, &s->tunnels[k]));
		return -EEXIST;
	}
	if (ct->n_ue && !s->conf->tun.present) {
		snprintf(err, errlen, "ue needs a tun device in the config");
		return -EINVAL;
	}
	for (unsigned i = 0; i < ct->n_ue; i++) {
		const struct conf_addr *a = &ct->ue[i];

		if ((k = state_lookup_ue(s, a->family, a->addr)) != TUNNEL_NONE) {
			snprintf(err, errlen, "ue address %s is in use by tunnel \"%s\"",
				 conf_addr_str(a, as, sizeof(as)), tunnel_name(s, &s->tunnels[k]));
			return -EEXIST;
		}
	}
	return 0;
}

/* A set of row numbers (+ 1) by a key of the rows, for a batch's own
 * duplicates. */
struct rowset {
	uint32_t mask;
	uint32_t *v;
};

static int rowset_init(struct rowset *r, uint32_t n)
{
	r->mask = pow2_for(n) - 1;
	r->v = calloc((size_t)r->mask + 1, sizeof(*r->v));
	return r->v ? 0 : -ENOMEM;
}

uint32_t state_batch_check(const struct state *s, const struct conf_tunnel *rows, uint32_t n,
			   state_err_fn fn, void *ctx)
{
	struct rowset names = { 0 }, teids = { 0 }, ues = { 0 };
	uint32_t bad = 0, n_ue = 0;
	char err[256], as[INET6_ADDRSTRLEN];

	for (uint32_t i = 0; i < n; i++)
		n_ue += rows[i].n_ue;
	if (rowset_init(&names, n) < 0 || rowset_init(&teids, n) < 0 || rowset_init(&ues, n_ue) < 0) {
		fn(ctx, 0, -ENOMEM, "out of memory");
		bad = n;
		goto out;
	}
	for (uint32_t i = 0; i < n; i++) {
		const struct conf_tunnel *ct = &rows[i];
		uint32_t h, dup = 0;
		int r = state_tunnel_check(s, ct, err, sizeof(err));

		if (r < 0) {
			fn(ctx, i, r, err);
			bad++;
			continue;
		}
		for (h = hash_str(ct->name) & names.mask; names.v[h]; h = (h + 1) & names.mask)
			if (!strcmp(rows[names.v[h] - 1].name, ct->name)) {
				snprintf(err, sizeof(err), "tunnel name \"%s\" is given twice in the batch", ct->name);
				dup = names.v[h];
				break;
			}
		if (!dup)
			names.v[h] = i + 1;
		for (h = hidx_hash(ct->from_teid) & teids.mask; !dup && teids.v[h]; h = (h + 1) & teids.mask)
			if (rows[teids.v[h] - 1].from_teid == ct->from_teid) {
				snprintf(err, sizeof(err), "from TEID 0x%x is given twice in the batch", ct->from_teid);
				dup = teids.v[h];
			}
		if (!dup)
			teids.v[h] = i + 1;
		for (unsigned u = 0; !dup && u < ct->n_ue; u++) {
			const struct conf_addr *a = &ct->ue[u];

			for (h = addr_hash(a->family, a->addr) & ues.mask; ues.v[h]; h = (h + 1) & ues.mask) {
				const struct conf_tunnel *o = &rows[(ues.v[h] >> 4) - 1];

				if (conf_addr_same(&o->ue[ues.v[h] & 15], a)) {
					snprintf(err, sizeof(err), "ue address %s is given twice in the batch",
						 conf_addr_str(a, as, sizeof(as)));
					dup = ues.v[h] >> 4;
					break;
				}
			}
			if (!dup)
				ues.v[h] = (i + 1) << 4 | u;
		}
		if (dup) {
			fn(ctx, i, -EEXIST, err);
			bad++;
		}
	}
out:
	free(names.v);
	free(teids.v);
	free(ues.v);
	return bad;
}

static uint32_t slot_alloc(struct state *s)
{
	struct tctl *c = s->ctl;

	if (c->slot_free.n)
		return c->slot_free.v[--c->slot_free.n];
	return s->hi < s->cap ? s->hi++ : TUNNEL_NONE;
}

/* Fill a free slot with ct and index its name; not yet visible to the
 * workers (tunnel_publish). TUNNEL_NONE when out of room. */
static uint32_t tunnel_fill(struct state *s, const struct conf_tunnel *ct, uint32_t from, uint32_t to,
			    uint8_t flags)
{
	struct tctl *c = s->ctl;
	uint32_t i, tomb, h, tb = TUNNEL_NONE, ue_off = 0;
	size_t n = strlen(ct->name) + 1;
	struct tunnel *t;

	if (!pools_room(s, 1, ct->n_ue, ct->rate || ct->rate_down ? 1 : 0) || state_reserve(s, 1) < 0 ||
	    ue_reserve(s, ct->n_ue) < 0)
		return TUNNEL_NONE;
	if (ct->n_ue && (ue_off = ue_alloc(c, ct->n_ue)) == UINT32_MAX)
		return TUNNEL_NONE;
	if ((ct->rate || ct->rate_down) && (tb = tb_alloc(c)) == UINT32_MAX) {
		if (ct->n_ue)
			us_push(&c->ue_free[ct->n_ue], ue_off);   /* never read: no wait */
		return TUNNEL_NONE;
	}
	i = slot_alloc(s);
	t = &s->tunnels[i];
	/* The slot is unused: no worker reads it until an index names it. */
	t->from_teid = ct->from_teid;
	t->to_teid = ct->to_teid;
	t->from_peer = from;
	t->to_peer = to;
	t->qfi = (int8_t)ct->qfi;
	t->ul_qfi = ct->ul_qfi;
	t->n_ue = ct->n_ue;
	t->ue_off = ue_off;
	t->tb = tb;
	if (ct->n_ue)
		memcpy(s->ue + ue_off, ct->ue, ct->n_ue * sizeof(*ct->ue));
	if (tb != TUNNEL_NONE)
		tb_setup(s, tb, ct->rate, ct->burst, ct->rate_down);
	memcpy(c->names + c->names_len, ct->name, n);
	t->name_off = (uint32_t)c->names_len;
	c->names_len += n;
	__atomic_store_n(&t->flags, (uint8_t)(flags | TUNNEL_LIVE | (ct->n_ue ? TUNNEL_ENDPOINT : 0)),
			 __ATOMIC_RELEASE);
	h = name_find_slot(s, ct->name, &tomb);
	if (tomb != UINT32_MAX)
		h = tomb;
	else
		c->name_used++;
	c->name_idx[h] = i + 1;
	c->name_live++;
	s->n_tunnels++;
	if (flags & TUNNEL_RUNTIME)
		s->n_runtime++;
	if (flags & TUNNEL_PFCP)
		s->n_pfcp++;
	if (to != TABLE_NO_PEER)
		s->peers[to]->users++;
	return i;
}

static bool has_to(const struct tunnel *t)
{
	return !(t->flags & TUNNEL_NO_TO);
}

/* The to-index and the ue addresses of slot i; the TEID is the caller's. */
static void tunnel_publish_rest(struct state *s, uint32_t i)
{
	const struct tunnel *t = &s->tunnels[i];

	for (unsigned u = 0; u < t->n_ue; u++)
		uidx_put(s->ue_idx, &s->ue[t->ue_off + u], i);
	if (has_to(t))
		hidx_put(s->to, to_hash(t->to_teid, t->to_peer), t->to_teid, i);
}

/* Adds t in a slot of its own. The caller checked it (state_tunnel_check,
 * or the config loader for the file's); TUNNEL_NONE when out of slots or
 * memory (state_reserve first makes that impossible for slots). */
uint32_t state_tunnel_add(struct state *s, const struct conf_tunnel *ct, uint32_t from, uint32_t to,
			  uint8_t flags)
{
	uint32_t i = tunnel_fill(s, ct, from, to, flags);

	if (i == TUNNEL_NONE)
		return i;
	/* Published last: a worker that finds the tunnel finds it whole. */
	tunnel_publish_rest(s, i);
	hidx_put(s->teid, hidx_hash(ct->from_teid), ct->from_teid, i);
	if (s->ext)
		s->ext->tunnel_changed(s->ext->ctx, s, i, true);
	return i;
}

static void name_unindex(struct state *s, uint32_t i)
{
	struct tctl *c = s->ctl;
	const char *name = c->names + s->tunnels[i].name_off;

	c->name_idx[name_find_slot(s, name, NULL)] = NAME_TOMB;
	c->name_live--;
	c->names_dead += strlen(name) + 1;
}

/* The slot leaves the table's view; its memory waits for the workers. */
static void tunnel_retire(struct state *s, uint32_t i)
{
	struct tctl *c = s->ctl;
	struct tunnel *t = &s->tunnels[i];

	s->n_tunnels--;
	if (t->flags & TUNNEL_RUNTIME)
		s->n_runtime--;
	if (t->flags & TUNNEL_PFCP)
		s->n_pfcp--;
	if (has_to(t) && t->to_peer != TABLE_NO_PEER)
		s->peers[t->to_peer]->users--;
	__atomic_store_n(&t->flags, (uint8_t)(t->flags & ~TUNNEL_LIVE), __ATOMIC_RELEASE);
	/* Out of memory for the list: the slot is lost, the tunnel is gone. */
	limbo_add(c, i, NULL);
	if (c->names_dead > 65536 && c->names_dead * 2 > c->names_len)
		names_compact(s);
}

void state_tunnel_del(struct state *s, uint32_t i)
{
	struct tunnel *t = &s->tunnels[i];

	/* Copies first: nothing forwards on a tunnel the table no longer has. */
	if (s->ext)
		s->ext->tunnel_changed(s->ext->ctx, s, i, false);
	hidx_remove(s->teid, hidx_hash(t->from_teid), t->from_teid, i);
	if (has_to(t))
		hidx_remove(s->to, to_hash(t->to_teid, t->to_peer), t->to_teid, i);
	for (unsigned u = 0; u < t->n_ue; u++)
		uidx_remove(s->ue_idx, &s->ue[t->ue_off + u], i);
	name_unindex(s, i);
	tunnel_retire(s, i);
}

/* Point the TEID entry key -> from at to, in one store. */
static bool hidx_move(struct hidx *h, uint32_t key, uint32_t from, uint32_t to)
{
	uint32_t i = hidx_hash(key) & h->mask;

	for (;; i = (i + 1) & h->mask) {
		uint64_t e = h->slot[i];

		if (HIDX_KEY(e) == 0)
			return false;
		if (HIDX_KEY(e) == key && HIDX_VAL(e) == from) {
			__atomic_store_n(&h->slot[i], (uint64_t)key | (uint64_t)to << 32, __ATOMIC_RELEASE);
			return true;
		}
	}
}

static bool ue_in(const struct conf_addr *a, const struct conf_addr *set, unsigned n)
{
	for (unsigned k = 0; k < n; k++)
		if (set[k].family == a->family && !memcmp(set[k].addr, a->addr, 16))
			return true;
	return false;
}

uint32_t state_tunnel_replace(struct state *s, uint32_t i, const struct conf_tunnel *ct,
			      uint32_t from, uint32_t to, uint8_t flags)
{
	struct tunnel *t = &s->tunnels[i];
	uint32_t j, old_teid = t->from_teid;

	/* The old name first, so that the new one (often the same) indexes
	 * afresh; put back if there is no room. */
	name_unindex(s, i);
	if ((j = tunnel_fill(s, ct, from, to, flags)) == TUNNEL_NONE) {
		struct tctl *c = s->ctl;
		const char *name = c->names + t->name_off;
		uint32_t tomb, h = name_find_slot(s, name, &tomb);

		c->name_idx[tomb != UINT32_MAX ? tomb : h] = i + 1;
		c->name_live++;
		c->names_dead -= strlen(name) + 1;
		return TUNNEL_NONE;
	}
	if (s->ext)
		s->ext->tunnel_changed(s->ext->ctx, s, i, false);
	if (has_to(t))
		hidx_remove(s->to, to_hash(t->to_teid, t->to_peer), t->to_teid, i);
	/* ue addresses the new one keeps are moved by uidx_put in one store. */
	for (unsigned u = 0; u < t->n_ue; u++)
		if (!ue_in(&s->ue[t->ue_off + u], ct->ue, ct->n_ue))
			uidx_remove(s->ue_idx, &s->ue[t->ue_off + u], i);
		else
			s->ue_idx->live--;   /* uidx_put counts it again */
	tunnel_publish_rest(s, j);
	if (ct->from_teid == old_teid && hidx_move(s->teid, old_teid, i, j)) {
		/* moved */
	} else {
		hidx_put(s->teid, hidx_hash(ct->from_teid), ct->from_teid, j);
		hidx_remove(s->teid, hidx_hash(old_teid), old_teid, i);
	}
	tunnel_retire(s, i);
	if (s->ext)
		s->ext->tunnel_changed(s->ext->ctx, s, j, true);
	return j;
}

void state_commit(struct state *s, uint64_t gen)
{
	struct tctl *c = s->ctl;

	for (; c->limbo_pending < c->limbo_n; c->limbo_pending++)
		c->limbo[c->limbo_pending].gen = gen;
}

/* The slot is free for good: its counters start again from zero. */
static void slot_release(struct state *s, uint32_t i)
{
	struct tctl *c = s->ctl;
	struct tunnel *t = &s->tunnels[i];

	for (unsigned w = 0; w < s->n_workers; w++)
		memset(&s->ctr[(size_t)w * s->cap + i], 0, sizeof(*s->ctr));
	if (s->base)
		memset(&s->base[i], 0, sizeof(*s->base));
	if (s->tun_err_ind)
		s->tun_err_ind[i] = 0;
	for (unsigned w = 0; w < s->n_workers; w++)
		memset(state_tdrop(s, w, i, 0), 0, TABLE_TDROPS * sizeof(uint64_t));
	if (s->tdrop_base)
		memset(&s->tdrop_base[(size_t)i * TABLE_TDROPS], 0, TABLE_TDROPS * sizeof(uint64_t));
	if (t->n_ue)
		us_push(&c->ue_free[t->n_ue], t->ue_off);
	if (t->tb != TUNNEL_NONE)
		us_push(&c->tb_free, t->tb);
	memset(t, 0, sizeof(*t));
	us_push(&c->slot_free, i);
}

size_t state_reclaim(struct state *s, uint64_t safe_gen)
{
	struct tctl *c = s->ctl;

	while (c->limbo_head < c->limbo_pending && c->limbo[c->limbo_head].gen <= safe_gen) {
		struct limbo *l = &c->limbo[c->limbo_head++];

		if (l->ptr)
			free(l->ptr);
		else
			slot_release(s, l->slot);
	}
	if (c->limbo_head == c->limbo_n)
		c->limbo_head = c->limbo_n = c->limbo_pending = 0;
	return c->limbo_n - c->limbo_head;
}

/* ---- building a state ---- */

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

/* The arrays of a state with room for cap tunnels, n_ue ue addresses and
 * n_tb rated tunnels. */
static int state_alloc(struct state *s, uint32_t cap, uint64_t n_ue, uint64_t n_tb, uint32_t n_idx)
{
	struct tctl *c = s->ctl;

	if (n_ue > UINT32_MAX - 1)
		n_ue = UINT32_MAX - 1;
	if (n_tb > cap)
		n_tb = cap;
	s->cap = cap;
	c->ue_cap = (uint32_t)n_ue;
	c->tb_cap = (uint32_t)n_tb;
	s->tunnels = region_new(cap, sizeof(*s->tunnels), &c->tunnels_len);
	s->ctr = region_new((size_t)cap * s->n_workers, sizeof(*s->ctr), &c->ctr_len);
	s->tdrop = drops_region((size_t)cap * s->n_workers, &c->tdrop_len);
	s->ue = region_new(n_ue, sizeof(*s->ue), &c->ue_len);
	s->tb = region_new(n_tb * s->n_workers * 2, sizeof(*s->tb), &c->tb_len);
	s->tb_cfg = region_new(n_tb * TB_CFG_N, sizeof(*s->tb_cfg), &c->tbcfg_len);
	s->teid = hidx_new(n_idx);
	s->to = hidx_new(n_idx);
	if (!s->tunnels || !s->ctr || !s->tdrop || !s->ue || !s->tb || !s->tb_cfg || !s->teid || !s->to)
		return -ENOMEM;
	return name_idx_build(s, n_idx);
}

/* The index of the peer called name (the file's, or PFCP's), or
 * TABLE_NO_PEER; remembers the last PFCP peer found (rows come in runs). */
uint32_t state_peer_named(const struct state *s, const char *name)
{
	static uint32_t last;
	int k = conf_peer_index(s->conf, name);

	if (k >= 0)
		return (uint32_t)k;
	if (last < s->n_peers && !strcmp(s->peers[last]->name, name))
		return last;
	for (uint32_t i = s->conf->n_peers; i < s->n_peers; i++)
		if (!strcmp(s->peers[i]->name, name))
			return last = i;
	return TABLE_NO_PEER;
}

int state_new(struct conf *conf, const struct rt_tunnel *rt, uint32_t n_rt, uint32_t max_runtime,
	      const struct state *old, unsigned n_workers, struct state **out,
	      char **collide)
{
	struct state *s = calloc(1, sizeof(*s));
	uint32_t n_ct = conf->n_tunnels, rt_room = max_runtime > n_rt ? max_runtime : n_rt;
	uint64_t n_ue = (uint64_t)rt_room * CONF_MAX_UE, n_tb = rt_room, cap;
	int r = -ENOMEM;

	*out = NULL;
	if (collide)
		*collide = NULL;
	if (!s || !(s->ctl = calloc(1, sizeof(*s->ctl))) || !(s->conf_refs = malloc(sizeof(unsigned)))) {
		if (s)
			free(s->ctl);
		free(s);
		conf_free(conf);
		return -ENOMEM;
	}
	*s->conf_refs = 1;
	s->conf = conf;
	s->n_workers = n_workers;
	cap = (uint64_t)n_ct + rt_room;
	if (cap > TABLE_MAX_TUNNELS) {
		r = -E2BIG;
		goto out;
	}
	for (uint32_t i = 0; i < n_ct; i++) {
		n_ue += conf->tunnels[i].n_ue;
		n_tb += conf->tunnels[i].rate != 0;
	}
	if ((r = build_peers(s, old)) < 0 ||
	    (r = state_alloc(s, (uint32_t)(cap ? cap : 1), n_ue, n_tb, n_ct + n_rt)) < 0 ||
	    (r = names_room(s->ctl, 64)) < 0 || (r = ue_reserve(s, (uint32_t)(n_ue - (uint64_t)rt_room * CONF_MAX_UE))) < 0)
		goto out;
	for (uint32_t i = 0; i < n_ct; i++) {
		const struct conf_tunnel *ct = &conf->tunnels[i];

		/* The config loader refused duplicates already. */
		if (state_tunnel_add(s, ct, ct->from_peer, ct->to_peer, 0) == TUNNEL_NONE) {
			r = -ENOMEM;
			goto out;
		}
	}
	for (uint32_t i = 0; i < n_rt; i++) {
		const struct rt_tunnel *x = &rt[i];
		uint8_t fl = x->flags ? x->flags & TUNNEL_KEEP & ~TUNNEL_ENDPOINT : TUNNEL_RUNTIME;
		struct conf_tunnel ct = x->t;
		char why[200], msg[160];

		ct.from_peer = fl & TUNNEL_ANY_SRC ? TABLE_NO_PEER : state_peer_named(s, x->from);
		ct.to_peer = fl & TUNNEL_NO_TO ? TABLE_NO_PEER : state_peer_named(s, x->to);
		if ((!(fl & TUNNEL_ANY_SRC) && ct.from_peer == TABLE_NO_PEER) ||
		    (!(fl & TUNNEL_NO_TO) && ct.to_peer == TABLE_NO_PEER))
			ct.from_peer = s->n_peers;    /* refused below: a peer that is gone */

		r = state_tunnel_check(s, &ct, msg, sizeof(msg));
		if (r == -EEXIST)
			snprintf(why, sizeof(why), "collides with the config: %s", msg);
		else if (r == -ENOENT)
			snprintf(why, sizeof(why), "names a peer that is gone");
		else if (r == -EINVAL)
			snprintf(why, sizeof(why), "has ue but no tun is configured");
		if (r < 0) {
			if (collide && (r = append_collide(collide, x->t.name, why)) < 0)
				goto out;
			continue;
		}
		if (state_tunnel_add(s, &ct, ct.from_peer, ct.to_peer, fl) == TUNNEL_NONE) {
			r = -ENOMEM;
			goto out;
		}
	}
	*out = s;
	s = NULL;
	r = 0;
out:
	if (s)
		state_free(s);
	if (r < 0 && collide) {   /* nothing was left out: no state was built */
		free(*collide);
		*collide = NULL;
	}
	/* The tables hold the tunnels now; their config rows would double the
	 * memory of a million tunnels. */
	if (r == 0)
		conf_free_tunnels(conf);
	return r;
}

void state_tunnel_row(const struct state *s, uint32_t i, struct rt_tunnel *x)
{
	const struct tunnel *t = &s->tunnels[i];

	memset(x, 0, sizeof(*x));
	x->t.name = (char *)tunnel_name(s, t);
	x->t.from_peer = t->from_peer;
	x->t.from_teid = t->from_teid;
	x->t.to_peer = t->to_peer;
	x->t.to_teid = t->to_teid;
	x->t.n_ue = t->n_ue;
	x->t.ue = t->n_ue ? &s->ue[t->ue_off] : NULL;
	x->t.qfi = t->qfi;
	x->t.ul_qfi = t->ul_qfi;
	if (t->tb != TUNNEL_NONE) {
		x->t.rate = s->tb_cfg[TB_CFG_N * (size_t)t->tb];
		x->t.burst = s->tb_cfg[TB_CFG_N * (size_t)t->tb + 1];
		x->t.rate_down = s->tb_cfg[TB_CFG_N * (size_t)t->tb + 2];
	}
	x->flags = t->flags & TUNNEL_KEEP;
	if (t->from_peer != TABLE_NO_PEER)
		snprintf(x->from, sizeof(x->from), "%s", s->peers[t->from_peer]->name);
	if (t->to_peer != TABLE_NO_PEER)
		snprintf(x->to, sizeof(x->to), "%s", s->peers[t->to_peer]->name);
}

int state_runtime_rows(const struct state *s, struct rt_tunnel **rows, uint32_t *n)
{
	*n = 0;
	if (!(*rows = calloc(s->n_runtime + s->n_pfcp ? s->n_runtime + s->n_pfcp : 1, sizeof(**rows))))
		return -ENOMEM;
	STATE_FOR_EACH(s, i)
		if (s->tunnels[i].flags & (TUNNEL_RUNTIME | TUNNEL_PFCP))
			state_tunnel_row(s, i, &(*rows)[(*n)++]);
	return 0;
}

static uint64_t *err_ind_slot(struct state *s, uint32_t i)
{
	if (!s->tun_err_ind && !(s->tun_err_ind = region_new(s->cap, sizeof(uint64_t), &s->ctl->ei_len)))
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

static void tunnel_ctr_own(const struct state *s, uint32_t i, struct ctr *out)
{
	if (s->base)
		*out = s->base[i];
	else
		memset(out, 0, sizeof(*out));
	for (unsigned w = 0; w < s->n_workers; w++) {
		const struct ctr *c = &s->ctr[(size_t)w * s->cap + i];

		out->rx_pkts += __atomic_load_n(&c->rx_pkts, __ATOMIC_RELAXED);
		out->rx_bytes += __atomic_load_n(&c->rx_bytes, __ATOMIC_RELAXED);
		out->tx_pkts += __atomic_load_n(&c->tx_pkts, __ATOMIC_RELAXED);
		out->tx_bytes += __atomic_load_n(&c->tx_bytes, __ATOMIC_RELAXED);
	}
}

void state_tunnel_ctr(const struct state *s, uint32_t i, struct ctr *out)
{
	tunnel_ctr_own(s, i, out);
	if (s->ext)
		s->ext->tunnel_ctr(s->ext->ctx, s, i, out);
}

uint64_t state_tunnel_drops(const struct state *s, uint32_t i, uint64_t out[TABLE_TDROPS])
{
	uint64_t total = 0;

	for (unsigned k = 0; k < TABLE_TDROPS; k++) {
		out[k] = s->tdrop_base ? s->tdrop_base[(size_t)i * TABLE_TDROPS + k] : 0;
		for (unsigned w = 0; w < s->n_workers; w++)
			out[k] += __atomic_load_n(state_tdrop(s, w, i, k), __ATOMIC_RELAXED);
		total += out[k];
	}
	return total;
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
	if (s->ext)
		s->ext->peer_ctr(s->ext->ctx, p, out);
}

void state_carry_counters(struct state *s, const struct state *old)
{
	if (!old || !old->n_tunnels || !s->n_tunnels)
		return;
	STATE_FOR_EACH(old, i) {
		uint32_t j = state_find_tunnel(s, tunnel_name(old, &old->tunnels[i]));
		uint64_t d[TABLE_TDROPS];
		struct ctr c;

		if (j == TUNNEL_NONE)
			continue;
		/* The table's own counts: the XDP path carries its own (xdp_sync). */
		tunnel_ctr_own(old, i, &c);
		if (!s->base && !(s->base = region_new(s->cap, sizeof(*s->base), &s->ctl->base_len)))
			break;
		s->base[j] = c;
		if (state_tunnel_drops(old, i, d) &&
		    (s->tdrop_base || (s->tdrop_base = drops_region(s->cap, &s->ctl->tdbase_len))))
			memcpy(&s->tdrop_base[(size_t)j * TABLE_TDROPS], d, sizeof(d));
		if (old->tun_err_ind && old->tun_err_ind[i] && err_ind_slot(s, j))
			*err_ind_slot(s, j) = old->tun_err_ind[i];
	}
}

size_t state_tunnel_bytes(unsigned n_workers, unsigned n_ue, bool rated)
{
	/* The slot, its counters, two TEID index entries at a load of at
	 * least a quarter (8 bytes each), the name index (4 bytes, same load)
	 * and the longest name; each ue address and its index entry (24
	 * bytes); a rated tunnel's buckets and settings. */
	return sizeof(struct tunnel) + n_workers * sizeof(struct ctr) + 2 * 4 * 8 + 4 * 4 +
	       CONF_NAME_MAX + 1 + n_ue * (sizeof(struct conf_addr) + 4 * sizeof(struct ue_entry)) +
	       (rated ? n_workers * 2 * sizeof(struct tbucket) + 16 : 0);
}

void state_free(struct state *s)
{
	struct tctl *c;

	if (!s)
		return;
	c = s->ctl;
	for (uint32_t i = 0; i < s->n_peers; i++)
		peer_unref(s->peers[i]);
	free(s->peers);
	free(s->peer_hash);
	free(s->teid);
	free(s->to);
	free(s->ue_idx);
	if (c) {
		region_free(s->tunnels, c->tunnels_len);
		region_free(s->ctr, c->ctr_len);
		region_free(s->ue, c->ue_len);
		region_free(s->tb, c->tb_len);
		region_free(s->tb_cfg, c->tbcfg_len);
		region_free(s->base, c->base_len);
		region_free(s->tun_err_ind, c->ei_len);
		region_free(s->tdrop, c->tdrop_len);
		region_free(s->tdrop_base, c->tdbase_len);
		for (size_t i = c->limbo_head; i < c->limbo_n; i++)
			free(c->limbo[i].ptr);
		free(c->limbo);
		free(c->slot_free.v);
		free(c->tb_free.v);
		for (unsigned k = 0; k <= CONF_MAX_UE; k++)
			free(c->ue_free[k].v);
		free(c->names);
		free(c->name_idx);
		free(c);
	}
	if (s->conf_refs && !--*s->conf_refs) {
		conf_free(s->conf);
		free(s->conf_refs);
	}
	free(s);
}
