/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Drops: each counted under its reason, for the tunnel it names too, and a
 * sample written to the worker's ring of recent drops, which the control
 * thread reads (gtpuctl drops, monitor drops, the debug log). The workers
 * call these only when they drop a packet: never on the forwarding path. */
#include "dp_int.h"

int drop_tunnel_slot(enum drop_reason r)
{
	switch (r) {
	case DROP_WRONG_PEER: return 0;
	case DROP_EXT_UNSUPPORTED: return 1;
	case DROP_PEER_DOWN: return 2;
	case DROP_RATE_LIMIT: return 3;
	case DROP_SEND_ERROR: return 4;
	case DROP_NO_TUN: return 5;
	case DROP_INNER_MALFORMED: return 6;
	case DROP_GTP_IN_GTP: return 7;
	case DROP_SPOOFED: return 8;
	case DROP_TUN_ERROR: return 9;
	case DROP_TOO_BIG: return 10;
	case DROP_FAR_DROP: return 11;
	case DROP_BUFFER_OVERFLOW: return 12;
	case DROP_BUFFER_EXPIRED: return 13;
	case DROP_QFI_MISMATCH: return 14;
	case DROP_MALFORMED:
	case DROP_VERSION:
	case DROP_EXT_HEADER:
	case DROP_UNSUPPORTED_TYPE:
	case DROP_UNKNOWN_PEER:
	case DROP_UNKNOWN_TEID:
	case DROP_ERROR_IND_IGNORED:
	case DROP_TOO_LONG:
	case DROP_NO_ROUTE:
	case DROP_NOT_UNICAST:
	case DROP_ECHO_RATE_LIMIT:
	case DROP_ERROR_IND_UNKNOWN_TEID:
	case DROP_ERROR_IND_RATE_LIMIT:
	case DROP__COUNT:
		break;
	}
	return -1;
}

/* The write side of a ring slot's seqlock (dp_drop_get reads it). */
void dp_drop_put(struct dp_worker *w, const struct dp_drop *d)
{
	uint64_t n = w->drop_head;
	struct dp_drop_slot *sl = &w->dropq[n % DP_DROPQ];
	const uint64_t *src = (const uint64_t *)d;

	__atomic_store_n(&sl->seq, 2 * n + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	for (size_t k = 0; k < sizeof(sl->u.word) / 8; k++)
		__atomic_store_n(&sl->u.word[k], src[k], __ATOMIC_RELAXED);
	__atomic_store_n(&sl->seq, 2 * n + 2, __ATOMIC_RELEASE);
	__atomic_store_n(&w->drop_head, n + 1, __ATOMIC_RELEASE);
}

/* Counts n drops for r, and for tunnel ti of s; true when a record of them
 * is within the budget (now: monotonic, 0 to read the clock). */
bool dp_drop_count(struct dp_worker *w, const struct state *s, enum drop_reason r, uint64_t n,
		   uint32_t ti, uint64_t now)
{
	int k = drop_tunnel_slot(r);

	INC(w->st.drops[r], n);
	if (k >= 0 && ti != TUNNEL_NONE && s)
		INC(*state_tdrop(s, w->id, ti, (unsigned)k), n);
	if (!now)
		now = mono_ns();
	if (w->drop_tb.rate != DP_DROP_RATE)
		tbucket_init(&w->drop_tb, DP_DROP_RATE, DP_DROP_BURST, now);
	return tbucket_take(&w->drop_tb, 1, now);
}

void dp_drop_write(struct dp_worker *w, struct dp_drop *d, enum drop_reason r, uint32_t ti)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	d->time_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	d->reason = r;
	d->tunnel = ti;
	dp_drop_put(w, d);
	INC(w->st.drops_recorded, 1);
}

static void addr_of(struct dp_drop *d, const struct sockaddr *sa, uint8_t *to, bool port)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)sa;

		memcpy(to, &a->sin_addr, 4);
		if (port)
			d->port = ntohs(a->sin_port);
	} else {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)sa;

		memcpy(to, &a->sin6_addr, 16);
		if (port)
			d->port = ntohs(a->sin6_port);
	}
	d->family = (uint8_t)sa->sa_family;
}

static void peer_of(struct dp_drop *d, const struct peer *p)
{
	if (p)
		memcpy(d->peer, p->name, sizeof(d->peer));
}

void dp_drop_rx(struct rxctx *x, enum drop_reason r, const struct sockaddr *src, const struct peer *p,
		int64_t teid, uint32_t ti)
{
	struct dp_drop d;

	if (!dp_drop_count(x->w, x->s, r, 1, ti, rx_now(x)))
		return;
	memset(&d, 0, sizeof(d));
	if (src && (src->sa_family == AF_INET || src->sa_family == AF_INET6)) {
		addr_of(&d, src, d.src, true);
		d.flags |= DP_DROP_SRC;
	}
	if (teid >= 0) {
		d.teid = (uint32_t)teid;
		d.flags |= DP_DROP_TEID;
	}
	peer_of(&d, p);
	dp_drop_write(x->w, &d, r, ti);
}

void dp_drop_tun(struct dp_worker *w, const struct state *s, enum drop_reason r, uint64_t n,
		 const struct inner_pkt *ip, uint32_t ti, uint64_t now)
{
	struct dp_drop d;

	if (!n || !dp_drop_count(w, s, r, n, ti, now))
		return;
	memset(&d, 0, sizeof(d));
	d.flags = DP_DROP_TUN;
	if (ip) {
		d.family = (uint8_t)ip->family;
		memcpy(d.src, ip->src, ip->addr_len);
		memcpy(d.dst, ip->dst, ip->addr_len);
		d.flags |= DP_DROP_SRC | DP_DROP_DST;
	}
	/* A tunnel that sends nothing (PFCP FAR DROP) has no peer or TEID to name. */
	if (ti != TUNNEL_NONE && !(s->tunnels[ti].flags & TUNNEL_NO_TO) && s->tunnels[ti].to_peer != TABLE_NO_PEER) {
		d.teid = s->tunnels[ti].to_teid;
		d.flags |= DP_DROP_TEID;
		peer_of(&d, s->peers[s->tunnels[ti].to_peer]);
	}
	dp_drop_write(w, &d, r, ti);
}

void dp_drop_tx(struct dp_worker *w, enum drop_reason r, uint64_t n, const struct ctr *tc,
		const uint8_t *buf, size_t len, const struct sockaddr *sa)
{
	const struct state *s = ((struct scratch *)w->scratch)->s;
	uint32_t ti = TUNNEL_NONE;
	struct dp_drop d;

	/* The tunnel's counters are its slot of this worker's row. */
	if (tc && s && tc >= s->ctr + (size_t)w->id * s->cap && tc < s->ctr + (size_t)(w->id + 1) * s->cap)
		ti = (uint32_t)(tc - (s->ctr + (size_t)w->id * s->cap));
	if (!dp_drop_count(w, s, r, n, ti, 0))
		return;
	memset(&d, 0, sizeof(d));
	if (sa) {
		addr_of(&d, sa, d.dst, false);
		d.flags |= DP_DROP_DST;
		if (s)
			peer_of(&d, state_lookup_peer(s, sa));
	}
	if (len >= GTPU_HDR_LEN) {
		d.teid = get32(buf + 4);
		d.flags |= DP_DROP_TEID;
	}
	dp_drop_write(w, &d, r, ti);
}

/* ---- the read side, any thread ---- */

uint64_t dp_drop_head(const struct dp_worker *w)
{
	return __atomic_load_n(&w->drop_head, __ATOMIC_ACQUIRE);
}

/* The read side of the slot's seqlock (dp_drop_put): the sequence word
 * says record n and whole, before and after the copy. */
bool dp_drop_get(const struct dp_worker *w, uint64_t n, struct dp_drop *out)
{
	const struct dp_drop_slot *sl = &w->dropq[n % DP_DROPQ];
	uint64_t s0 = __atomic_load_n(&sl->seq, __ATOMIC_ACQUIRE), *dst = (uint64_t *)out;

	if (s0 != 2 * n + 2)
		return false;
	for (size_t k = 0; k < sizeof(sl->u.word) / 8; k++)
		dst[k] = __atomic_load_n(&sl->u.word[k], __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	return __atomic_load_n(&sl->seq, __ATOMIC_RELAXED) == s0;
}
