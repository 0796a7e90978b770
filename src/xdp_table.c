// SPDX-License-Identifier: GPL-2.0-or-later
/* The XDP fast path's tunnel table, the control thread's side (see
 * xdp_table.h; the program's lookup is tunnel_find in gtpu_xdp.bpf.c). */
#ifdef HAVE_XDP

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <bpf/bpf.h>

#include "xdp_table.h"

static size_t table_size(uint32_t n)
{
	return sizeof(struct xdp_tbucket) * n;
}

uint32_t xdp_ttab_buckets(uint32_t max_tunnels)
{
	/* Two entries a bucket, two thirds of them at most in use: with
	 * linear probing over 32 buckets, about 17 in a million random TEIDs
	 * find no room when the table is full (they go by the sockets). */
	uint64_t n = ((uint64_t)max_tunnels * 3 + 3) / 4;

	return n < 16 ? 16 : n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

int xdp_ttab_map(struct xdp_ttab *t, int fd, uint32_t n, int fd_grace, int fd_grace_inner)
{
	void *m = mmap(NULL, table_size(n), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	memset(t, 0, sizeof(*t));
	if (m == MAP_FAILED)
		return -errno;
	t->b = m;
	t->n = n;
	t->fd_grace = fd_grace;
	t->fd_grace_inner = fd_grace_inner;
	return 0;
}

void xdp_ttab_unmap(struct xdp_ttab *t)
{
	if (t->b)
		munmap(t->b, table_size(t->n));
	t->b = NULL;
	free(t->fin);
	t->fin = NULL;
	t->n_fin = t->cap_fin = 0;
}

static struct xdp_tbucket *bucket(const struct xdp_ttab *t, uint32_t home, unsigned i)
{
	return &t->b[((uint64_t)home + i) % t->n];
}

struct xdp_tunnel *xdp_ttab_find(const struct xdp_ttab *t, uint32_t teid)
{
	uint32_t h = xdp_teid_home(teid, t->n);

	for (unsigned i = 0; i < XDP_TUNNEL_PROBE; i++) {
		struct xdp_tbucket *b = bucket(t, h, i);

		for (unsigned j = 0; j < 2; j++)
			if (b->e[j].state == XDP_TENT_LIVE && b->e[j].teid == teid)
				return &b->e[j];
		if (!b->e[0].overflow)
			return NULL;
	}
	return NULL;
}

bool xdp_ttab_del(struct xdp_ttab *t, uint32_t teid)
{
	struct xdp_tunnel *e = xdp_ttab_find(t, teid);

	if (!e)
		return false;
	/* Dead: no run that starts now takes it; those under way finish with
	 * what they read (it stays as it is until the reap). */
	__atomic_store_n(&e->state, XDP_TENT_DEAD, __ATOMIC_RELEASE);
	t->live--;
	t->dead++;
	return true;
}

int xdp_ttab_del_final(struct xdp_ttab *t, uint32_t teid, uint32_t cookie)
{
	struct xdp_tunnel *e = xdp_ttab_find(t, teid);

	if (!e)
		return -ENOENT;
	if (t->n_fin == t->cap_fin) {
		uint32_t cap = t->cap_fin ? t->cap_fin * 2 : 64;
		struct xdp_tfinal *f = realloc(t->fin, sizeof(*f) * cap);

		if (!f)
			return -ENOMEM;
		t->fin = f;
		t->cap_fin = cap;
	}
	t->fin[t->n_fin++] = (struct xdp_tfinal){ .e = e, .cookie = cookie };
	xdp_ttab_del(t, teid);
	return 0;
}

static void take_finals(struct xdp_ttab *t)
{
	for (uint32_t i = 0; i < t->n_fin; i++) {
		struct xdp_tfinal *f = &t->fin[i];

		if (!f->e)
			continue;
		f->pkts = __atomic_load_n(&f->e->pkts, __ATOMIC_RELAXED);
		f->bytes = __atomic_load_n(&f->e->bytes, __ATOMIC_RELAXED);
		f->e = NULL;
	}
}

uint32_t xdp_ttab_finals(struct xdp_ttab *t)
{
	take_finals(t);
	return t->n_fin;
}

void xdp_ttab_finals_clear(struct xdp_ttab *t)
{
	t->n_fin = 0;
	/* A reload that replaced many: their list goes with them. */
	if (t->cap_fin > 1024) {
		free(t->fin);
		t->fin = NULL;
		t->cap_fin = 0;
	}
}

/* A free entry in teid's probe window: its bucket's index from home in *at. */
static struct xdp_tunnel *free_entry(const struct xdp_ttab *t, uint32_t h, unsigned *at)
{
	for (unsigned i = 0; i < XDP_TUNNEL_PROBE; i++) {
		struct xdp_tbucket *b = bucket(t, h, i);

		for (unsigned j = 0; j < 2; j++)
			if (b->e[j].state == XDP_TENT_FREE) {
				*at = i;
				return &b->e[j];
			}
	}
	return NULL;
}

int xdp_ttab_put(struct xdp_ttab *t, uint32_t teid, const struct xdp_tunnel *v)
{
	uint32_t h = xdp_teid_home(teid, t->n);
	struct xdp_tunnel *e;
	unsigned at;

	xdp_ttab_del(t, teid);
	/* Dead entries crowding the table: freed before they fill windows. */
	if (t->dead > t->n / 4)
		xdp_ttab_reap(t);
	if (!(e = free_entry(t, h, &at)) && t->dead) {
		xdp_ttab_reap(t);
		e = free_entry(t, h, &at);
	}
	if (!e)
		return -ENOSPC;
	e->teid = teid;
	e->from_peer = v->from_peer;
	e->to_peer = v->to_peer;
	e->to_teid = v->to_teid;
	e->ul_qfi = v->ul_qfi;
	e->pkts = v->pkts;
	e->bytes = v->bytes;
	/* The way to it marked before it can be found. */
	for (unsigned i = 0; i < at; i++)
		__atomic_store_n(&bucket(t, h, i)->e[0].overflow, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&e->state, XDP_TENT_LIVE, __ATOMIC_RELEASE);
	t->live++;
	return 0;
}

void xdp_ttab_reap(struct xdp_ttab *t)
{
	uint32_t zero = 0, n = t->n;
	uint8_t *need;

	if (!t->dead)
		return;
	/* Returns once the runs of the program under way have ended. Should
	 * it fail, the dead stay dead: never free one that a run may use. */
	if (bpf_map_update_elem(t->fd_grace, &zero, &t->fd_grace_inner, BPF_ANY) < 0)
		return;
	/* No run adds to a dead entry any more: its counts are final. */
	take_finals(t);
	for (uint32_t k = 0; k < n; k++)
		for (unsigned j = 0; j < 2; j++)
			if (t->b[k].e[j].state == XDP_TENT_DEAD)
				__atomic_store_n(&t->b[k].e[j].state, XDP_TENT_FREE, __ATOMIC_RELAXED);
	t->dead = 0;
	/* Overflow marks that no live entry needs any more go: a lookup
	 * ends sooner. (Clearing one that a live entry needs could only send
	 * its packets to the sockets; none is.) */
	if (!(need = calloc(n, 1)))
		return;
	for (uint32_t k = 0; k < n; k++)
		for (unsigned j = 0; j < 2; j++) {
			const struct xdp_tunnel *e = &t->b[k].e[j];

			if (e->state != XDP_TENT_LIVE)
				continue;
			for (uint32_t h = xdp_teid_home(e->teid, n); h != k; h = h + 1 < n ? h + 1 : 0)
				need[h] = 1;
		}
	for (uint32_t k = 0; k < n; k++)
		if (t->b[k].e[0].overflow && !need[k])
			__atomic_store_n(&t->b[k].e[0].overflow, 0, __ATOMIC_RELAXED);
	free(need);
}

#endif
