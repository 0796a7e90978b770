/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Datapath workers: recvmmsg a batch, classify each datagram once (forward,
 * answer, or drop with a reason), queue replies and relayed packets per
 * socket, sendmmsg them. No locks, no logging, no allocation per packet. */
#include "dp.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "gtpu.h"
#include "inner.h"
#include "tun.h"

#define SLOT (GTPU_HEADROOM + DP_BUF)
#define SIG_MAX 96                /* largest signalling message we build */
#define TXQ (DP_BATCH * 2)        /* a datagram can cause a relay and a reply */
#define GRO_SLOT (GTPU_HEADROOM + 65536)   /* a UDP GRO train of datagrams */
_Static_assert(SLOT % 64 == 0 && GRO_SLOT % 64 == 0 && GTPU_HEADROOM % 64 == 0,
	       "receive slots and the data in them start on cache lines");
#define GSO_SEGS 64               /* UDP_MAX_SEGMENTS of Linux 6.1 */
#define GSO_BYTES 65000           /* a UDP GSO send: below 64 KB of IP payload */
#define GSO_BUF (65536 + 256)

enum tx_kind { TX_FWD, TX_ANSWER, TX_EXTRA };

/* What a sent datagram counts for: the sending worker's counters of its
 * tunnel and of the peer it goes to (NULL: none), and ok_ctr (echo_rsp_tx...). */
struct txmeta {
	uint8_t kind;
	struct ctr *tunnel;
	struct ctr *peer;
	uint64_t *ok_ctr;
};

struct txq {
	unsigned n;
	struct mmsghdr m[TXQ];
	struct iovec iov[TXQ];
	struct txmeta meta[TXQ];
	struct sockaddr_storage addr[TXQ];
	/* The send vector with UDP GSO runs (tx_pack): one datagram, or a run
	 * of cnt[i] datagrams to one peer with its UDP_SEGMENT control message. */
	struct mmsghdr g[TXQ];
	uint8_t cnt[TXQ];
	union { char b[CMSG_SPACE(sizeof(uint16_t))]; struct cmsghdr align; } ctl[TXQ];
};

struct scratch {
	struct mmsghdr rx[DP_BATCH];
	struct iovec rxiov[DP_BATCH];
	struct sockaddr_storage rxaddr[DP_BATCH];
	uint8_t rxctl[DP_BATCH][96];  /* IPv6 packet info and the UDP GRO segment size */
	uint8_t sig[TXQ][SIG_MAX];
	uint8_t icmp[INNER_ICMP6_MAX];
	unsigned n_sig;
	struct txq *txq;              /* [n_socks] */
	uint8_t *bufs;                /* [DP_BATCH][SLOT] */
	uint8_t *tunbufs;             /* [DP_BATCH][SLOT] */
	size_t rx_slot;               /* SLOT, or GRO_SLOT with UDP GRO */
	size_t rx_ready;              /* the rx_slot the receive vector was built for */
	unsigned rx_used;             /* slots the last recvmmsg filled */
	/* Endpoint offloads, set by dp_set_tun. */
	bool vnet;                    /* the TUN fd reads and writes a struct tun_vnet first */
	bool gso;                     /* UDP GSO sends (cleared when the kernel refuses one) */
	size_t gso_seg;               /* largest datagram of a relayed GSO run; 0: none */
	uint8_t *tsobuf;              /* [TUN_GSO_MAX] a TCP super-packet read from the device */
	uint8_t *gsobuf;              /* [GSO_BUF] G-PDUs of one UDP GSO send */
	struct tun_coal coal;         /* TCP segments to the device being merged */
};

/* Counters are written by one worker only: plain adds, atomic-sized stores. */
#define INC(x, v) __atomic_store_n(&(x), (x) + (v), __ATOMIC_RELAXED)

/* A worker's counters change in batches: st_seq is odd from the first
 * change of a batch to the end of its last (the write side of a seqlock,
 * two plain stores on x86), so that dp_stats reads them as of a moment
 * between two batches: a received packet is never seen there before it is
 * forwarded, answered or dropped. */
static void batch_begin(struct dp_worker *w)
{
	__atomic_store_n(&w->st_seq, w->st_seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

static void batch_end(struct dp_worker *w)
{
	__atomic_store_n(&w->st_seq, w->st_seq + 1, __ATOMIC_RELEASE);
}

/* Packet buffers start on a cache line (and slots are whole lines): the
 * kernel's copies into them, recvmmsg's and the TUN device's, store whole
 * lines (malloc gave 16 bytes past one). */
static void *line_alloc(size_t n)
{
	void *p;

	return posix_memalign(&p, 64, n) ? NULL : p;
}

static void drop(struct dp_worker *w, enum drop_reason r)
{
	INC(w->st.drops[r], 1);
}

/* Worker w's counters of tunnel ti, and of peer p (NULL for none). */
static struct ctr *tunnel_ctr(const struct dp_worker *w, const struct state *s, uint32_t ti)
{
	return &s->ctr[(size_t)w->id * s->cap + ti];
}

static struct ctr *peer_ctr(const struct dp_worker *w, const struct peer *p)
{
	return p ? &p->ctr[w->id] : NULL;
}

static enum drop_reason err_reason(enum gtpu_err e)
{
	switch (e) {
	case GTPU_E_VERSION:
	case GTPU_E_PT:
		return DROP_VERSION;
	case GTPU_E_EXT_ZERO:
	case GTPU_E_EXT_TRUNC:
	case GTPU_E_EXT_TOO_MANY:
	case GTPU_E_EXT_BAD:
		return DROP_EXT_HEADER;
	case GTPU_OK:
	case GTPU_E_SHORT:
	case GTPU_E_LEN_LONG:
	case GTPU_E_LEN_SHORT:
	case GTPU_E_IE_TRUNC:
	case GTPU_E_IE_BAD:
	case GTPU_E_IE_MISSING:
	case GTPU_E__COUNT:
		break;
	}
	return DROP_MALFORMED;
}

/* The socket of worker w to send to peer p from: the one bound to the local
 * address of the route to p (chosen by the control thread, dp_pick_sock),
 * else `pref` when of the right family, else the first of the family. */
static unsigned out_sock(const struct dp_worker *w, unsigned pref, const struct peer *p)
{
	int family = p->sa.ss_family, k = __atomic_load_n(&p->sock, __ATOMIC_RELAXED);

	if (k >= 0 && (unsigned)k < w->n_socks)
		return (unsigned)k;
	if (w->sock_family[pref] == family)
		return pref;
	for (unsigned i = 0; i < w->n_socks; i++)
		if (w->sock_family[i] == family)
			return i;
	return pref;
}

static void tx_put(struct txq *q, void *buf, size_t len, void *name, socklen_t namelen, struct txmeta meta)
{
	unsigned i = q->n++;

	q->iov[i].iov_base = buf;
	q->iov[i].iov_len = len;
	q->m[i].msg_hdr = (struct msghdr){ .msg_name = name, .msg_namelen = namelen,
					   .msg_iov = &q->iov[i], .msg_iovlen = 1 };
	q->meta[i] = meta;
}

/* Queue a datagram to the peer to, whose address is not copied: it stays
 * where it is until the queue is sent (the state outlives the batch). */
static void tx_add_peer(struct scratch *sc, unsigned sock, void *buf, size_t len,
			const struct peer *to, struct txmeta meta)
{
	tx_put(&sc->txq[sock], buf, len, (void *)&to->sa, to->salen, meta);
}

/* Queue a datagram to sa, copied: an answer to a source address. */
static void tx_add(struct scratch *sc, unsigned sock, void *buf, size_t len,
		   const struct sockaddr *sa, socklen_t salen, struct txmeta meta)
{
	struct txq *q = &sc->txq[sock];

	memcpy(&q->addr[q->n], sa, salen);
	tx_put(q, buf, len, &q->addr[q->n], salen, meta);
}

/* pkts datagrams of bytes in all, described by m, were sent. */
static void count_sent(struct dp_worker *w, const struct txmeta *m, uint64_t pkts, uint64_t bytes)
{
	INC(w->st.tx_pkts, pkts);
	INC(w->st.tx_bytes, bytes);
	if (m->ok_ctr)
		INC(*m->ok_ctr, pkts);
	if (m->kind == TX_FWD)
		INC(w->st.forwarded, pkts);
	else if (m->kind == TX_ANSWER)
		INC(w->st.answered, pkts);
	if (m->peer) {
		INC(m->peer->tx_pkts, pkts);
		INC(m->peer->tx_bytes, bytes);
	}
	if (m->tunnel) {
		INC(m->tunnel->tx_pkts, pkts);
		INC(m->tunnel->tx_bytes, bytes);
	}
}

static void tx_done(struct dp_worker *w, const struct txq *q, unsigned i, bool ok)
{
	const struct txmeta *m = &q->meta[i];

	if (ok)
		count_sent(w, m, 1, q->iov[i].iov_len);
	else if (m->kind != TX_EXTRA)
		drop(w, DROP_SEND_ERROR);
}

/* The send vector of q's datagrams from i on, in order: each run of at
 * least two of one size to one address becomes one UDP GSO message (GSO
 * would take a shorter last one too; without it, odd-sized messages such
 * as End Markers stay single datagrams in a capture on this host). The
 * run's iovecs are adjacent in q->iov already: nothing is copied. Returns
 * the number of messages. */
static unsigned tx_pack(const struct scratch *sc, struct txq *q, unsigned i)
{
	unsigned ng = 0;

	while (i < q->n) {
		const struct msghdr *mh = &q->m[i].msg_hdr;
		size_t seg = q->iov[i].iov_len, total = seg;
		unsigned j = i + 1;

		if (seg <= sc->gso_seg) {
			while (j < q->n && j - i < GSO_SEGS) {
				size_t l = q->iov[j].iov_len;

				if (l != seg || total + l > GSO_BYTES ||
				    (q->m[j].msg_hdr.msg_name != mh->msg_name &&
				     (q->m[j].msg_hdr.msg_namelen != mh->msg_namelen ||
				      memcmp(q->m[j].msg_hdr.msg_name, mh->msg_name, mh->msg_namelen))))
					break;
				total += l;
				j++;
			}
		}
		q->g[ng].msg_hdr = *mh;
		q->cnt[ng] = (uint8_t)(j - i);
		if (j - i > 1) {
			struct cmsghdr *cm = &q->ctl[ng].align;
			uint16_t gs = (uint16_t)seg;

			cm->cmsg_level = SOL_UDP;
			cm->cmsg_type = UDP_SEGMENT;
			cm->cmsg_len = CMSG_LEN(sizeof(gs));
			memcpy(CMSG_DATA(cm), &gs, sizeof(gs));
			q->g[ng].msg_hdr.msg_iovlen = j - i;
			q->g[ng].msg_hdr.msg_control = q->ctl[ng].b;
			q->g[ng].msg_hdr.msg_controllen = sizeof(q->ctl[ng].b);
		}
		ng++;
		i = j;
	}
	return ng;
}

/* The kernel refused a GSO run of seg-byte datagrams. EINVAL for a large
 * segment is most likely the route's MTU (a GSO segment is never
 * fragmented): runs stay for smaller ones. Otherwise no checksum offload
 * on the route, or a kernel without UDP GSO: no more runs. */
static bool gso_refused(struct scratch *sc, size_t seg, int err)
{
	if (err != EIO && err != EINVAL && err != ENOPROTOOPT && err != EOPNOTSUPP)
		return false;
	sc->gso_seg = err == EINVAL && seg > 1280 ? seg - 1 : 0;
	return true;
}

/* Sends every queue with sendmmsg, runs of datagrams to one peer as UDP
 * GSO messages among the others. A message counts for each of its
 * datagrams: sent all, or (the first message of a call failed) lost all. */
static void tx_flush(struct dp_worker *w, struct scratch *sc)
{
	for (unsigned k = 0; k < w->n_socks; k++) {
		struct txq *q = &sc->txq[k];
		unsigned done = 0;

		while (done < q->n) {
			struct mmsghdr *v = q->m + done;
			unsigned nv = q->n - done;
			bool runs = false;
			int r;

			if (sc->gso_seg && nv > 1) {
				unsigned ng = tx_pack(sc, q, done);

				if ((runs = ng < nv)) {
					v = q->g;
					nv = ng;
				}
			}
			r = sendmmsg(w->socks[k], v, nv, MSG_DONTWAIT);
			if (r <= 0) {
				/* The first message failed: count it and go on with the rest. */
				unsigned c = runs ? q->cnt[0] : 1;

				if (c > 1 && gso_refused(sc, q->iov[done].iov_len, errno))
					continue;     /* again, as single datagrams */
				while (c--)
					tx_done(w, q, done++, false);
				continue;
			}
			for (int i = 0; i < r; i++)
				for (unsigned c = runs ? q->cnt[i] : 1; c; c--)
					tx_done(w, q, done++, true);
		}
		q->n = 0;
	}
	sc->n_sig = 0;
}

static void poke(struct dp *dp)
{
	uint64_t one = 1;

	if (write(dp->notify_fd, &one, sizeof(one)) < 0) {
		/* The counter is saturated: the control thread has enough to read. */
	}
}

/* Traffic from a peer that is not up: tell the control thread once (it
 * clears the flag). A plain load first: no locked write per packet while
 * the flag stands, as it does for a peer without Echo. */
static void peer_seen(struct dp *dp, struct peer *p)
{
	if (__atomic_load_n(&p->state, __ATOMIC_RELAXED) != PEER_UP &&
	    !__atomic_load_n(&p->seen, __ATOMIC_RELAXED) &&
	    !__atomic_exchange_n(&p->seen, 1, __ATOMIC_RELAXED))
		poke(dp);
}

static void push_event(struct dp_worker *w, const struct dp_event *ev)
{
	uint32_t head = __atomic_load_n(&w->ev_head, __ATOMIC_RELAXED);
	uint32_t tail = __atomic_load_n(&w->ev_tail, __ATOMIC_ACQUIRE);

	if (head - tail >= DP_EVQ) {
		INC(w->st.events_lost, 1);
		return;
	}
	w->evq[head % DP_EVQ] = *ev;
	__atomic_store_n(&w->ev_head, head + 1, __ATOMIC_RELEASE);
	poke(w->dp);
}

/* Local address a datagram was sent to, from IP_PKTINFO, for Error Indication. */
static size_t local_addr(const struct msghdr *mh, const struct sockaddr *src, uint8_t *out)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR((struct msghdr *)mh); c; c = CMSG_NXTHDR((struct msghdr *)mh, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			memcpy(out, &pi.ipi_addr, 4);
			return 4;
		}
		if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo pi;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			memcpy(out, &pi.ipi6_addr, 16);
			return 16;
		}
	}
	return 0;
	(void)src;
}

struct rxctx {
	struct dp_worker *w;
	struct state *s;
	struct scratch *sc;
	unsigned sock;
	uint64_t now;                 /* 0 until rx_now reads the clock */
};

/* The time of the batch, read once and only when something needs it (a
 * rate limit, an Echo Response): the plain relay path reads no clock. */
static uint64_t rx_now(struct rxctx *x)
{
	if (!x->now)
		x->now = mono_ns();
	return x->now;
}

static uint8_t *sig_buf(struct scratch *sc)
{
	return sc->n_sig < TXQ ? sc->sig[sc->n_sig++] : NULL;
}

/* Error Indication and Supported Extension Headers Notification answer what
 * may be spoofed: they share a budget per peer, or a global one for
 * non-peers. error_indication.enabled and .quiet are about Error
 * Indications (ei) only. */
static bool sig_allowed(struct rxctx *x, struct peer *p, bool ei)
{
	struct dp *dp = x->w->dp;
	const struct conf *c = x->s->conf;
	struct tbucket *b = p ? &p->ei_tb[x->w->id] : &x->w->ei_global;
	/* Each worker's share of the configured rate (at least one a second),
	 * a second's worth as burst. The worker owns its buckets: it sets them
	 * up itself, full, for a new peer or when a reload changed the rate. */
	uint64_t share = c->error_indication.rate / dp->n_workers, rate = share ? share : 1;

	if (!c->error_indication.rate ||
	    (ei && (!c->error_indication.enabled || rx_now(x) < dp->quiet_until_ns)))
		return false;
	if (b->rate != rate)
		tbucket_init(b, rate, rate, rx_now(x));
	return tbucket_take(b, 1, rx_now(x));
}

static void send_error_ind(struct rxctx *x, struct peer *p, const struct msghdr *mh,
			   const struct sockaddr *src, uint32_t teid)
{
	uint8_t local[16], *b;
	size_t alen = local_addr(mh, src, local), n;
	struct sockaddr_storage dst;
	uint16_t sport;

	/* The rate first: a flood refused costs no system call. */
	if (!sig_allowed(x, p, true) || !(b = sig_buf(x->sc)))
		return;
	if (!alen) {
		struct sockaddr_storage me;
		socklen_t ml = sizeof(me);

		if (getsockname(x->w->socks[x->sock], (struct sockaddr *)&me, &ml) < 0) {
			x->sc->n_sig--;     /* the buffer goes back */
			return;
		}
		if (me.ss_family == AF_INET)
			memcpy(local, &((struct sockaddr_in *)&me)->sin_addr, alen = 4);
		else
			memcpy(local, &((struct sockaddr_in6 *)&me)->sin6_addr, alen = 16);
	}
	/* TS 29.281 4.4.2.x: to the user plane port, naming the G-PDU's source port. */
	memcpy(&dst, src, src->sa_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
	if (src->sa_family == AF_INET) {
		sport = ntohs(((struct sockaddr_in *)&dst)->sin_port);
		((struct sockaddr_in *)&dst)->sin_port = htons(GTPU_PORT);
	} else {
		sport = ntohs(((struct sockaddr_in6 *)&dst)->sin6_port);
		((struct sockaddr_in6 *)&dst)->sin6_port = htons(GTPU_PORT);
	}
	n = gtpu_build_error_ind(b, SIG_MAX, 0, teid, local, alen, sport);
	if (n)
		tx_add(x->sc, x->sock, b, n, (struct sockaddr *)&dst, mh->msg_namelen,
		       (struct txmeta){ TX_EXTRA, NULL, peer_ctr(x->w, p), &x->w->st.err_ind_tx });
}

static void send_sehn(struct rxctx *x, struct peer *p, const struct sockaddr *src,
		      socklen_t slen)
{
	uint8_t *b;
	size_t n;

	if (!sig_allowed(x, p, false) || !(b = sig_buf(x->sc)))
		return;
	n = gtpu_build_supp_ext_notif(b, SIG_MAX, 0, (const uint8_t[]){ GTPU_EXT_PDU_SESSION,
		GTPU_EXT_UDP_PORT, GTPU_EXT_PDCP, GTPU_EXT_LONG_PDCP, GTPU_EXT_SCI,
		GTPU_EXT_RAN_CONTAINER, GTPU_EXT_NR_RAN_CONTAINER }, 7);
	if (n)
		tx_add(x->sc, x->sock, b, n, src, slen,
		       (struct txmeta){ TX_EXTRA, NULL, peer_ctr(x->w, p), &x->w->st.sehn_tx });
}

static void rx_echo_req(struct rxctx *x, const uint8_t *pkt, const struct gtpu_hdr *h,
			struct peer *p, const struct sockaddr *src, socklen_t slen)
{
	struct gtpu_ies ies;
	enum gtpu_err e = gtpu_parse_ies(pkt, h, &ies);
	uint8_t *b;
	size_t n;

	if (e != GTPU_OK) {
		drop(x->w, err_reason(e));
		return;
	}
	INC(x->w->st.echo_req_rx, 1);
	if (!(b = sig_buf(x->sc)) || !(n = gtpu_build_echo_rsp(b, SIG_MAX, h->seq, 0))) {
		drop(x->w, DROP_SEND_ERROR);
		return;
	}
	if (p)
		peer_seen(x->w->dp, p);
	tx_add(x->sc, x->sock, b, n, src, slen,
	       (struct txmeta){ TX_ANSWER, NULL, peer_ctr(x->w, p), &x->w->st.echo_rsp_tx });
}

static void rx_echo_rsp(struct rxctx *x, const uint8_t *pkt, const struct gtpu_hdr *h,
			struct peer *p)
{
	struct gtpu_ies ies;
	enum gtpu_err e = gtpu_parse_ies(pkt, h, &ies);
	uint32_t seq = (uint32_t)h->seq | 0x10000u;

	if (e != GTPU_OK) {
		drop(x->w, err_reason(e));
		return;
	}
	if (!p) {
		drop(x->w, DROP_UNKNOWN_PEER);
		return;
	}
	INC(x->w->st.echo_rsp_rx, 1);
	INC(x->w->st.answered, 1);
	/* The control thread hears of the response to its pending request, and
	 * of any while the peer is not up (it comes back up). Others (repeats,
	 * spoofed ones) wake nobody: a flood costs no system call. */
	if (seq != __atomic_load_n(&p->echo_wait, __ATOMIC_ACQUIRE) &&
	    __atomic_load_n(&p->state, __ATOMIC_RELAXED) == PEER_UP)
		return;
	__atomic_store_n(&p->rsp_recovery, ies.has_recovery ? ies.recovery : 0, __ATOMIC_RELAXED);
	__atomic_store_n(&p->rsp_ns, rx_now(x), __ATOMIC_RELAXED);
	if (__atomic_exchange_n(&p->rsp_seq, seq, __ATOMIC_RELEASE) != seq)
		poke(x->w->dp);       /* not yet told of this one */
}

static void rx_error_ind(struct rxctx *x, const uint8_t *pkt, const struct gtpu_hdr *h,
			 struct peer *p)
{
	struct gtpu_ies ies;
	enum gtpu_err e = gtpu_parse_ies(pkt, h, &ies);
	struct dp_event ev = { .kind = DP_EV_ERROR_IND };
	uint32_t t;

	if (e != GTPU_OK) {
		drop(x->w, err_reason(e));
		return;
	}
	/* Only the peer we send to, naming its own address and a TEID we use
	 * towards it, is believed: a spoofed one tears nothing down. */
	if (!p || ies.peer_addr_len != (p->addr.family == AF_INET ? 4 : 16) ||
	    memcmp(ies.peer_addr, p->addr.addr, ies.peer_addr_len)) {
		drop(x->w, DROP_ERROR_IND_IGNORED);
		return;
	}
	for (t = 0; t < x->s->n_peers && x->s->peers[t] != p; t++)
		;
	t = state_lookup_to(x->s, t, ies.teid_data);
	if (t == TUNNEL_NONE) {
		drop(x->w, DROP_ERROR_IND_IGNORED);
		return;
	}
	INC(x->w->st.err_ind_rx, 1);
	INC(x->w->st.answered, 1);
	ev.tunnel = t;
	ev.gen = x->w->seen_gen;
	memcpy(ev.peer, p->name, sizeof(ev.peer));
	ev.teid = ies.teid_data;
	ev.addr_len = ies.peer_addr_len;
	memcpy(ev.addr, ies.peer_addr, ies.peer_addr_len);
	push_event(x->w, &ev);
}

/* ---- endpoint: the TUN device ---- */

static struct tbucket *tunnel_bucket(const struct state *s, const struct tunnel *t,
				     unsigned w, unsigned dir)
{
	return &s->tb[((size_t)t->tb * s->n_workers + w) * 2 + dir];
}

static enum drop_reason inner_reason(enum inner_err e)
{
	return e == INNER_E_GTP_IN_GTP ? DROP_GTP_IN_GTP : DROP_INNER_MALFORMED;
}

static bool ue_match(const struct state *s, const struct tunnel *t, const struct inner_pkt *ip)
{
	for (unsigned u = 0; u < t->n_ue; u++) {
		const struct conf_addr *a = &s->ue[t->ue_off + u];

		if (a->family == ip->family && !memcmp(a->addr, ip->src, ip->addr_len))
			return true;
	}
	return false;
}

/* ---- endpoint offloads ----
 * With IFF_VNET_HDR (sc->vnet) the device hands over TCP super-packets of up
 * to 64 KB: each is cut into its segments, each segment becomes one G-PDU,
 * and the G-PDUs of one super-packet leave in one UDP GSO send (they are of
 * equal size and go to one peer). The other way, UDP GRO hands over trains
 * of G-PDUs, and consecutive TCP segments of one flow are merged again into
 * a super-packet for the device. Accounting is per segment throughout: a
 * super-packet of N segments is N packets received, and N forwarded or N
 * dropped (rate limit and anti-spoofing apply to each segment). */

static const struct tun_vnet vnet_zero;

static bool txq_pending(const struct dp_worker *w, const struct scratch *sc)
{
	for (unsigned k = 0; k < w->n_socks; k++)
		if (sc->txq[k].n)
			return true;
	return false;
}

static ssize_t tun_write(const struct dp_worker *w, const struct scratch *sc, const void *pkt, size_t len)
{
	struct iovec iov[2] = { { (void *)&vnet_zero, TUN_VNET_LEN }, { (void *)pkt, len } };
	ssize_t r;

	if (!sc->vnet)
		return write(w->tun_fd, pkt, len);
	r = writev(w->tun_fd, iov, 2);
	return r < 0 ? r : r - TUN_VNET_LEN;
}

/* Write the merged segments out; counted once written. */
static void coal_flush(struct dp_worker *w, struct scratch *sc)
{
	unsigned n;
	size_t len = tun_coal_finish(&sc->coal, &n);

	if (!len)
		return;
	if (write(w->tun_fd, sc->coal.buf, len) != (ssize_t)len) {
		INC(w->st.drops[DROP_TUN_ERROR], n);
		return;
	}
	INC(w->st.forwarded, n);
	INC(w->st.tun_tx, n);
}

/* A G-PDU of an endpoint tunnel: validate the inner packet, check that its
 * source is one of the tunnel's UEs, and write it to the TUN device (or
 * merge it with the TCP segments before it, written by coal_flush). */
static void tun_decap(struct rxctx *x, uint32_t ti, const uint8_t *pkt, size_t len)
{
	const struct tunnel *t = &x->s->tunnels[ti];
	struct dp_worker *w = x->w;
	struct scratch *sc = x->sc;
	struct inner_pkt ip;
	enum inner_err e;

	if (w->tun_fd < 0 || w->tun_lost) {
		drop(w, DROP_NO_TUN);
		return;
	}
	if ((e = inner_parse(pkt, len, &ip)) != INNER_OK) {
		drop(w, inner_reason(e));
		return;
	}
	if (!ue_match(x->s, t, &ip)) {
		drop(w, DROP_SPOOFED);
		return;
	}
	if (t->tb != TUNNEL_NONE && !tbucket_take(tunnel_bucket(x->s, t, w->id, 0), ip.len, rx_now(x))) {
		drop(w, DROP_RATE_LIMIT);
		return;
	}
	if (sc->vnet) {
		if (tun_coal_add(&sc->coal, pkt, &ip))
			return;
		if (sc->coal.len) {
			coal_flush(w, sc);
			if (tun_coal_add(&sc->coal, pkt, &ip))
				return;
		}
	}
	if (tun_write(w, sc, pkt, ip.len) != (ssize_t)ip.len) {
		drop(w, DROP_TUN_ERROR);
		return;
	}
	INC(w->st.forwarded, 1);
	INC(w->st.tun_tx, 1);
}

/* A packet too big for the tunnel: ICMP back into the device. */
static void tun_too_big(struct dp_worker *w, struct scratch *sc, const uint8_t *pkt, size_t len)
{
	size_t n;

	/* Sourced from the packet's destination: the kernel drops an ICMP error
	 * that claims to come from one of its own addresses (a martian). */
	drop(w, DROP_TOO_BIG);
	n = inner_icmp_too_big(sc->icmp, sizeof(sc->icmp), pkt, len, w->dp->tun_mtu, NULL);
	if (n && tun_write(w, sc, sc->icmp, n) == (ssize_t)n)
		INC(w->st.icmp_tx, 1);
}

static struct gtpu_encap tunnel_encap(const struct tunnel *t)
{
	return (struct gtpu_encap){ .teid = t->to_teid, .with_pdu_session = t->qfi >= 0,
		.pdu_type = GTPU_PDU_DL, .qfi = t->qfi >= 0 ? (uint8_t)t->qfi : 0 };
}

static void tun_encap(struct dp_worker *w, struct state *s, struct scratch *sc, uint8_t *slot,
		      size_t len, uint64_t now)
{
	uint8_t *pkt = slot + GTPU_HEADROOM;
	const struct tunnel *t;
	struct gtpu_encap ge;
	struct inner_pkt ip;
	enum inner_err e;
	struct peer *to;
	uint32_t ti;
	size_t hl;

	INC(w->st.rx_pkts, 1);
	INC(w->st.rx_bytes, len);
	INC(w->st.tun_rx, 1);
	if ((e = inner_parse(pkt, len, &ip)) != INNER_OK) {
		drop(w, inner_reason(e));
		return;
	}
	if ((ti = state_lookup_ue(s, ip.family, ip.dst)) == TUNNEL_NONE) {
		drop(w, DROP_NO_ROUTE);
		return;
	}
	t = &s->tunnels[ti];
	if (w->dp->tun_mtu && ip.len > w->dp->tun_mtu &&
	    (ip.family == AF_INET6 || ip.df)) {
		tun_too_big(w, sc, pkt, ip.len);
		return;
	}
	to = s->peers[t->to_peer];
	if (s->conf->echo.on_down == CONF_DOWN_DROP &&
	    __atomic_load_n(&to->state, __ATOMIC_RELAXED) == PEER_DOWN) {
		drop(w, DROP_PEER_DOWN);
		return;
	}
	if (t->tb != TUNNEL_NONE && !tbucket_take(tunnel_bucket(s, t, w->id, 1), ip.len, now)) {
		drop(w, DROP_RATE_LIMIT);
		return;
	}
	ge = tunnel_encap(t);
	hl = gtpu_encap(slot, GTPU_HEADROOM, ip.len, &ge);
	if (!hl) {
		drop(w, DROP_TOO_BIG);
		return;
	}
	tx_add_peer(sc, out_sock(w, 0, to), pkt - hl, hl + ip.len, to,
		    (struct txmeta){ TX_FWD, tunnel_ctr(w, s, ti), peer_ctr(w, to), NULL });
}

/* Send n G-PDUs laid end to end in buf (len bytes, each seg bytes but the
 * last) to the tunnel's peer: one UDP GSO send, or one datagram each when
 * the socket refuses GSO (then for good). Each G-PDU counts once: forwarded
 * or send_error. */
static void gso_send(struct dp_worker *w, const struct state *s, struct scratch *sc, uint32_t ti,
		     struct peer *to, uint8_t *buf, size_t len, size_t seg, unsigned n)
{
	unsigned k = out_sock(w, 0, to), ok = 0;
	union { char b[CMSG_SPACE(sizeof(uint16_t))]; struct cmsghdr align; } ctl;
	struct iovec iov = { buf, len };
	struct msghdr mh = { .msg_name = &to->sa, .msg_namelen = to->salen, .msg_iov = &iov, .msg_iovlen = 1 };
	struct txmeta meta = { TX_FWD, tunnel_ctr(w, s, ti), peer_ctr(w, to), NULL };

	if (txq_pending(w, sc))
		tx_flush(w, sc);       /* keep the order the device gave */
	if (sc->gso && n > 1) {
		struct cmsghdr *cm;
		uint16_t gs = (uint16_t)seg;
		ssize_t r;

		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.b;
		mh.msg_controllen = sizeof(ctl.b);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_UDP;
		cm->cmsg_type = UDP_SEGMENT;
		cm->cmsg_len = CMSG_LEN(sizeof(gs));
		memcpy(CMSG_DATA(cm), &gs, sizeof(gs));
		r = sendmsg(w->socks[k], &mh, MSG_DONTWAIT);
		if (r == (ssize_t)len)
			ok = n;
		else if (r >= 0 || (errno != EIO && errno != EINVAL && errno != ENOPROTOOPT &&
				    errno != EOPNOTSUPP))
			goto count;       /* the socket buffer is full: all of them are lost */
		else
			sc->gso = false;  /* no checksum offload on the route, or an old kernel */
	}
	if (!ok) {
		struct mmsghdr m[GSO_SEGS];
		struct iovec v[GSO_SEGS];
		size_t off = 0;
		int r;

		for (unsigned i = 0; i < n; i++) {
			v[i] = (struct iovec){ buf + off, i + 1 < n ? seg : len - off };
			m[i].msg_hdr = (struct msghdr){ .msg_name = &to->sa, .msg_namelen = to->salen,
							.msg_iov = &v[i], .msg_iovlen = 1 };
			off += seg;
		}
		r = sendmmsg(w->socks[k], m, n, MSG_DONTWAIT);
		ok = r > 0 ? (unsigned)r : 0;
	}
count:
	if (ok < n)
		INC(w->st.drops[DROP_SEND_ERROR], n - ok);
	count_sent(w, &meta, ok, ok == n ? len : (size_t)ok * seg);
}

/* A packet the device gave with a virtio header that asks for segmentation
 * (or too long for a slot): each segment is looked up, checked and counted
 * as tun_encap does for one packet, then the G-PDUs go out by gso_send. */
static void tun_encap_gso(struct dp_worker *w, struct state *s, struct scratch *sc, const uint8_t *pkt,
			  size_t len, const struct tun_vnet *v, uint64_t now)
{
	const struct tunnel *t;
	struct gtpu_encap ge;
	struct inner_pkt ip;
	struct tun_seg g;
	enum inner_err e;
	struct peer *to;
	uint8_t *out = sc->gsobuf;
	size_t hl, off = 0, seg = 0, n;
	unsigned k = 0;
	uint32_t ti;
	int nseg;

	if ((e = inner_parse(pkt, len, &ip)) != INNER_OK) {
		INC(w->st.rx_pkts, 1);
		INC(w->st.rx_bytes, len);
		INC(w->st.tun_rx, 1);
		drop(w, inner_reason(e));
		return;
	}
	nseg = tun_seg_init(&g, pkt, len, &ip, v);
	if (nseg < 0 || !g.mss) {
		INC(w->st.rx_pkts, 1);
		INC(w->st.rx_bytes, len);
		INC(w->st.tun_rx, 1);
		drop(w, nseg < 0 ? DROP_INNER_MALFORMED : DROP_TOO_BIG);
		return;
	}
	/* Counted as the segments they become: headers repeated in each. */
	INC(w->st.rx_pkts, (unsigned)nseg);
	INC(w->st.rx_bytes, g.len + (size_t)(nseg - 1) * g.hlen);
	INC(w->st.tun_rx, (unsigned)nseg);
	if ((ti = state_lookup_ue(s, ip.family, ip.dst)) == TUNNEL_NONE) {
		INC(w->st.drops[DROP_NO_ROUTE], (unsigned)nseg);
		return;
	}
	t = &s->tunnels[ti];
	if (w->dp->tun_mtu && g.hlen + g.mss > w->dp->tun_mtu && (ip.family == AF_INET6 || ip.df)) {
		/* One ICMP error for the lot: the device MTU changed under us. */
		tun_too_big(w, sc, pkt, g.len);
		INC(w->st.drops[DROP_TOO_BIG], (unsigned)nseg - 1);
		return;
	}
	to = s->peers[t->to_peer];
	if (s->conf->echo.on_down == CONF_DOWN_DROP &&
	    __atomic_load_n(&to->state, __ATOMIC_RELAXED) == PEER_DOWN) {
		INC(w->st.drops[DROP_PEER_DOWN], (unsigned)nseg);
		return;
	}
	ge = tunnel_encap(t);
	hl = gtpu_encap(sc->icmp, GTPU_HEADROOM, 0, &ge);
	for (;;) {
		n = tun_seg_next(&g, out + off + hl, GSO_BUF - off - hl);
		if (!n)
			break;
		if (t->tb != TUNNEL_NONE && !tbucket_take(tunnel_bucket(s, t, w->id, 1), n, now)) {
			drop(w, DROP_RATE_LIMIT);
			continue;
		}
		gtpu_encap(out + off, hl, n, &ge);
		if (!k)
			seg = hl + n;
		off += hl + n;
		k++;
		/* A GSO send holds at most GSO_SEGS datagrams and 64 KB. */
		if (k == GSO_SEGS || off + hl + g.hlen + g.mss > GSO_BYTES || hl + n < seg) {
			gso_send(w, s, sc, ti, to, out, off, seg, k);
			off = 0;
			k = 0;
		}
	}
	if (k)
		gso_send(w, s, sc, ti, to, out, off, seg, k);
	if (g.i < g.n)            /* cannot happen: GSO_BUF holds a segment past GSO_BYTES */
		INC(w->st.drops[DROP_TOO_BIG], g.n - g.i);
}

/* The device was deleted under us (EBADFD, EIO...): stop reading it, tell
 * the control thread once; endpoint tunnels then drop as no_tun. */
static void tun_lost(struct dp_worker *w)
{
	struct dp_event ev = { .kind = DP_EV_TUN_LOST };

	if (w->tun_lost)
		return;
	w->tun_lost = true;
	push_event(w, &ev);
}

static void tun_check_lost(struct dp_worker *w, ssize_t r)
{
	if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
		tun_lost(w);
}

/* Read a batch of packets from the TUN device; returns how many reads. */
static int tun_rx(struct dp_worker *w, struct state *s, struct scratch *sc)
{
	uint64_t now = mono_ns();
	int n;

	batch_begin(w);
	for (n = 0; n < DP_BATCH; n++) {
		uint8_t *slot = sc->tunbufs + (size_t)n * SLOT;
		struct tun_vnet v;
		struct iovec iov[3] = { { &v, TUN_VNET_LEN }, { slot + GTPU_HEADROOM, DP_BUF },
					{ sc->tsobuf + DP_BUF, TUN_GSO_MAX - DP_BUF } };
		ssize_t len;

		if (!sc->vnet) {
			len = read(w->tun_fd, slot + GTPU_HEADROOM, DP_BUF);
			if (len <= 0) {
				tun_check_lost(w, len);
				break;
			}
			tun_encap(w, s, sc, slot, (size_t)len, now);
			continue;
		}
		len = readv(w->tun_fd, iov, 3);
		if (len <= 0) {
			tun_check_lost(w, len);
			break;
		}
		len -= TUN_VNET_LEN;
		if (len <= 0)
			break;
		if (v.gso_type == VIRTIO_NET_HDR_GSO_NONE && len <= DP_BUF) {
			if (tun_csum_complete(slot + GTPU_HEADROOM, (size_t)len, &v) < 0) {
				INC(w->st.rx_pkts, 1);
				INC(w->st.rx_bytes, (size_t)len);
				INC(w->st.tun_rx, 1);
				drop(w, DROP_INNER_MALFORMED);
				continue;
			}
			tun_encap(w, s, sc, slot, (size_t)len, now);
			continue;
		}
		if (len > DP_BUF)
			memcpy(sc->tsobuf, slot + GTPU_HEADROOM, DP_BUF);
		tun_encap_gso(w, s, sc, len > DP_BUF ? sc->tsobuf : slot + GTPU_HEADROOM, (size_t)len, &v, now);
	}
	if (n)
		tx_flush(w, sc);
	batch_end(w);
	return n;
}

static void rx_gpdu(struct rxctx *x, uint8_t *pkt, size_t len, const struct gtpu_hdr *h,
		    struct peer *p, const struct msghdr *mh)
{
	const struct sockaddr *src = mh->msg_name;
	struct state *s = x->s;
	uint32_t ti = state_lookup_teid(s, h->teid);
	const struct tunnel *t;
	struct peer *to;
	struct ctr *c;
	size_t start, n;

	if (ti == TUNNEL_NONE) {
		drop(x->w, DROP_UNKNOWN_TEID);
		/* TS 29.281 7.3.1: not for a G-PDU with TEID 0. */
		if (h->type == GTPU_GPDU && h->teid)
			send_error_ind(x, p, mh, src, h->teid);
		return;
	}
	t = &s->tunnels[ti];
	if (!p || s->peers[t->from_peer] != p) {
		drop(x->w, DROP_WRONG_PEER);
		return;
	}
	peer_seen(x->w->dp, p);
	c = tunnel_ctr(x->w, s, ti);
	INC(c->rx_pkts, 1);
	INC(c->rx_bytes, len);
	if (h->type == GTPU_END_MARKER)
		INC(x->w->st.end_markers, 1);
	if (t->flags & TUNNEL_ENDPOINT) {
		if (h->unknown_req_endpoint) {
			drop(x->w, DROP_EXT_UNSUPPORTED);
			send_sehn(x, p, src, mh->msg_namelen);
			return;
		}
		if (h->type == GTPU_END_MARKER) {
			INC(x->w->st.answered, 1);
			return;
		}
		tun_decap(x, ti, pkt + h->hdr_len, h->msg_len - h->hdr_len);
		return;
	}
	to = s->peers[t->to_peer];
	if (s->conf->echo.on_down == CONF_DOWN_DROP &&
	    __atomic_load_n(&to->state, __ATOMIC_RELAXED) == PEER_DOWN) {
		drop(x->w, DROP_PEER_DOWN);
		return;
	}
	/* A relay tunnel's rate counts the G-PDU's payload (the user packet). */
	if (t->tb != TUNNEL_NONE &&
	    !tbucket_take(tunnel_bucket(s, t, x->w->id, 0), h->msg_len - h->hdr_len, rx_now(x))) {
		drop(x->w, DROP_RATE_LIMIT);
		return;
	}
	n = gtpu_relay_rewrite(pkt, h, t->to_teid, &start);
	tx_add_peer(x->sc, out_sock(x->w, x->sock, to), pkt + start, n, to,
		    (struct txmeta){ TX_FWD, c, peer_ctr(x->w, to), NULL });
}

/* One datagram from src (mh's name), whose peer p (or NULL) the caller
 * looked up: once for all the datagrams of a UDP GRO train. */
static void rx_one(struct rxctx *x, uint8_t *pkt, const struct mmsghdr *m, struct peer *p)
{
	const struct msghdr *mh = &m->msg_hdr;
	const struct sockaddr *src = mh->msg_name;
	size_t len = m->msg_len;
	struct ctr *pc = peer_ctr(x->w, p);
	struct gtpu_hdr h;
	enum gtpu_err e;

	INC(x->w->st.rx_pkts, 1);
	INC(x->w->st.rx_bytes, len);
	if (pc) {
		INC(pc->rx_pkts, 1);
		INC(pc->rx_bytes, len);
	}
	/* Cut short by the receive slot, or (a 64 KB slot for UDP GRO) longer
	 * than any datagram that gtpud handles. */
	if ((mh->msg_flags & MSG_TRUNC) || len > DP_BUF) {
		drop(x->w, DROP_TOO_LONG);
		return;
	}
	e = gtpu_parse(pkt, len, &h);
	if (e != GTPU_OK) {
		drop(x->w, err_reason(e));
		return;
	}
	/* TS 29.281 5.2.1: a message with an extension header gtpud does not
	 * know and must comprehend is discarded with a notification (none
	 * about a notification): class 11 always; class 10 where gtpud is the
	 * endpoint, which it is of all signalling (for G-PDUs: see rx_gpdu). */
	if (h.unknown_req_all || (h.unknown_req_endpoint && h.type != GTPU_GPDU && h.type != GTPU_END_MARKER)) {
		drop(x->w, DROP_EXT_UNSUPPORTED);
		if (h.type != GTPU_SUPP_EXT_NOTIF)
			send_sehn(x, p, src, mh->msg_namelen);
		return;
	}
	switch (h.type) {
	case GTPU_GPDU:
	case GTPU_END_MARKER:
		rx_gpdu(x, pkt, len, &h, p, mh);
		return;
	case GTPU_ECHO_REQ:
		rx_echo_req(x, pkt, &h, p, src, mh->msg_namelen);
		return;
	case GTPU_ECHO_RSP:
		rx_echo_rsp(x, pkt, &h, p);
		return;
	case GTPU_ERROR_IND:
		rx_error_ind(x, pkt, &h, p);
		return;
	case GTPU_SUPP_EXT_NOTIF:
		if (p) {
			INC(x->w->st.answered, 1);
			return;
		}
		break;
	default:
		drop(x->w, p ? DROP_UNSUPPORTED_TYPE : DROP_UNKNOWN_PEER);
		return;
	}
	drop(x->w, DROP_UNKNOWN_PEER);
}

/* The receive vector is built once; recvmmsg changes only the lengths of
 * the slots it filled, so only those are reset. */
static void rx_prepare(struct dp_worker *w, struct scratch *sc)
{
	if (sc->rx_ready != sc->rx_slot) {
		for (unsigned i = 0; i < DP_BATCH; i++) {
			sc->rxiov[i].iov_base = sc->bufs + (size_t)i * sc->rx_slot + GTPU_HEADROOM;
			sc->rxiov[i].iov_len = sc->rx_slot - GTPU_HEADROOM;
			sc->rx[i].msg_hdr = (struct msghdr){ .msg_name = &sc->rxaddr[i],
				.msg_iov = &sc->rxiov[i], .msg_iovlen = 1, .msg_control = sc->rxctl[i] };
		}
		sc->rx_ready = sc->rx_slot;
		sc->rx_used = DP_BATCH;
	}
	for (unsigned i = 0; i < sc->rx_used; i++) {
		sc->rx[i].msg_hdr.msg_namelen = sizeof(sc->rxaddr[i]);
		sc->rx[i].msg_hdr.msg_controllen = sizeof(sc->rxctl[i]);
	}
	(void)w;
}

/* The segment size of a UDP GRO train, 0 for a single datagram. */
static size_t gro_size(const struct msghdr *mh)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR((struct msghdr *)mh); c; c = CMSG_NXTHDR((struct msghdr *)mh, c)) {
		if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
			int gs;

			memcpy(&gs, CMSG_DATA(c), sizeof(gs));
			return gs > 0 ? (size_t)gs : 0;
		}
	}
	return 0;
}

/* With a million tunnels each lookup misses the cache: touch the index
 * slots of the whole batch first, then the tunnels and their counters, so
 * the misses overlap instead of following one another. */
#define PREFETCH_MAX (DP_BATCH * 4)

static void rx_prefetch(const struct state *s, const struct scratch *sc, int n, const size_t *gs,
			unsigned w)
{
	const struct hidx *idx = state_teid_idx(s);
	uint32_t teid[PREFETCH_MAX];
	unsigned k = 0;

	/* Every datagram of the batch, those inside UDP GRO trains too. */
	for (int i = 0; i < n && k < PREFETCH_MAX; i++) {
		const uint8_t *p = sc->rxiov[i].iov_base;
		size_t len = sc->rx[i].msg_len;

		for (size_t off = 0; off + GTPU_HDR_LEN <= len && k < PREFETCH_MAX; off += gs[i]) {
			uint32_t h;

			teid[k] = get32(p + off + 4);
			h = hidx_hash(teid[k]) & idx->mask;
			__builtin_prefetch(&idx->slot[h]);
			k++;
		}
	}
	for (unsigned i = 0; i < k; i++) {
		uint32_t ti = state_lookup_teid(s, teid[i]);

		if (ti == TUNNEL_NONE)
			continue;
		__builtin_prefetch(&s->tunnels[ti]);
		__builtin_prefetch(&s->ctr[(size_t)w * s->cap + ti], 1);
	}
}

/* A received datagram queues at most two (a relay, a reply): flush first
 * when a queue has less room than that. A batch of single datagrams cannot
 * fill the queues (2 x DP_BATCH = TXQ); one with UDP GRO trains can. */
static void tx_room(struct rxctx *x)
{
	struct scratch *sc = x->sc;

	for (unsigned k = 0; k < x->w->n_socks; k++) {
		if (sc->txq[k].n + 2 > TXQ || sc->n_sig + 2 > TXQ) {
			tx_flush(x->w, sc);
			return;
		}
	}
}

/* Each datagram of a UDP GRO train (all gs bytes, the last maybe fewer, one
 * source) is handled as if received alone. */
static void rx_gro(struct rxctx *x, int i, size_t gs, struct peer *p)
{
	struct scratch *sc = x->sc;
	uint8_t *base = sc->rxiov[i].iov_base;
	size_t len = sc->rx[i].msg_len;

	for (size_t off = 0; off < len; off += gs) {
		struct mmsghdr m = sc->rx[i];

		m.msg_len = (unsigned)(len - off < gs ? len - off : gs);
		tx_room(x);
		rx_one(x, base + off, &m, p);
	}
}

/* Holds no state: whatever it used before is written and read (release:
 * no fence, a plain store on x86), so a state it saw may be freed. */
static void quiescent(struct dp_worker *w)
{
	__atomic_store_n(&w->seen_gen, UINT64_MAX, __ATOMIC_RELEASE);
}

/* QSBR: announce the generation seen, then read the state it published. */
static struct state *enter(struct dp_worker *w)
{
	__atomic_store_n(&w->seen_gen, __atomic_load_n(&w->dp->gen, __ATOMIC_SEQ_CST), __ATOMIC_SEQ_CST);
	return __atomic_load_n(&w->dp->cur, __ATOMIC_SEQ_CST);
}

/* Reads a batch with flags (MSG_DONTWAIT, or MSG_WAITFORONE to block until
 * the first datagram) and handles it with the state current once it has
 * arrived. Returns the number of datagrams read (DP_BATCH means: more may
 * wait). */
static int rx_batch(struct dp_worker *w, struct scratch *sc, unsigned k, int flags)
{
	size_t gs[DP_BATCH];
	struct state *s;
	struct rxctx x;
	bool trains = false;
	int n;

	rx_prepare(w, sc);
	n = recvmmsg(w->socks[k], sc->rx, DP_BATCH, flags, NULL);
	if (n <= 0) {
		sc->rx_used = 0;
		return 0;
	}
	s = enter(w);
	batch_begin(w);
	x = (struct rxctx){ w, s, sc, k, 0 };
	sc->rx_used = (unsigned)n;
	/* A train's segment size, or the whole length for a single datagram. */
	for (int i = 0; i < n; i++) {
		gs[i] = sc->rx_slot == GRO_SLOT ? gro_size(&sc->rx[i].msg_hdr) : 0;
		if (!gs[i] || gs[i] > sc->rx[i].msg_len)
			gs[i] = sc->rx[i].msg_len;
	}
	if (s->n_tunnels > 65536)
		rx_prefetch(s, sc, n, gs, w->id);
	for (int i = 0; i < n; i++) {
		/* One source per message: its peer is looked up once. */
		struct peer *p = state_lookup_peer(s, sc->rx[i].msg_hdr.msg_name);

		if (gs[i] < sc->rx[i].msg_len) {
			rx_gro(&x, i, gs[i], p);
			trains = true;
		} else {
			if (trains)
				tx_room(&x);
			rx_one(&x, sc->rxiov[i].iov_base, &sc->rx[i], p);
		}
	}
	if (sc->coal.len)
		coal_flush(w, sc);
	tx_flush(w, sc);
	batch_end(w);
	return n;
}

/* Stopping a worker: dp_stop sets w->stop and interrupts the worker's
 * wait with WAKE_SIG (a handler without SA_RESTART: the call returns EINTR).
 * Workers keep it blocked except while they wait. */
#define WAKE_SIG (SIGRTMIN + 3)

static void wake_handler(int sig)
{
	(void)sig;
}

static bool stopping(struct dp_worker *w)
{
	return __atomic_load_n(&w->stop, __ATOMIC_SEQ_CST);
}

/* A worker with one socket and no TUN device blocks in recvmmsg itself: no
 * poll before each batch (a syscall per wakeup, about 5% of the CPU per
 * packet at 100 kpps). It is quiescent while it waits. WAKE_SIG stays
 * unblocked: one that comes between the stop check and recvmmsg is lost,
 * and dp_stop sends it again. */
static bool worker_block(struct dp_worker *w)
{
	struct scratch *sc = w->scratch;
	int fl = fcntl(w->socks[0], F_GETFL);
	sigset_t ss;

	/* Every send passes MSG_DONTWAIT: only this recvmmsg blocks. */
	if (fl < 0 || fcntl(w->socks[0], F_SETFL, fl & ~O_NONBLOCK) < 0)
		return false;
	sigemptyset(&ss);
	sigaddset(&ss, WAKE_SIG);
	pthread_sigmask(SIG_UNBLOCK, &ss, NULL);
	for (;;) {
		quiescent(w);
		if (stopping(w))
			break;
		rx_batch(w, sc, 0, MSG_WAITFORONE);
	}
	return true;
}

static void *worker_main(void *arg)
{
	struct dp_worker *w = arg;
	struct scratch *sc = w->scratch;
	struct pollfd pfd[DP_MAX_SOCKS + 1];
	bool ready[DP_MAX_SOCKS + 1];
	sigset_t waking;
	unsigned n = 0;

	if (w->n_socks == 1 && w->tun_fd < 0 && worker_block(w))
		return NULL;
	/* Otherwise poll, with WAKE_SIG unblocked only inside ppoll: no
	 * signal is lost between the stop check and the wait. */
	pthread_sigmask(SIG_BLOCK, NULL, &waking);
	sigdelset(&waking, WAKE_SIG);
	for (unsigned k = 0; k < w->n_socks; k++)
		pfd[n++] = (struct pollfd){ .fd = w->socks[k], .events = POLLIN };
	if (w->tun_fd >= 0)
		pfd[n++] = (struct pollfd){ .fd = w->tun_fd, .events = POLLIN };
	for (;;) {
		bool busy = true;

		quiescent(w);
		if (stopping(w))
			break;
		if (ppoll(pfd, n, NULL, &waking) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (w->tun_fd >= 0 && (pfd[n - 1].revents & (POLLERR | POLLHUP | POLLNVAL)))
			tun_lost(w);
		if (w->tun_lost && w->tun_fd >= 0)
			pfd[n - 1].fd = -1;    /* poll ignores it from now on */
		/* Read what poll said is ready (data, or an error to collect),
		 * and again what gave a full batch, until all come back short:
		 * no call that can only say EAGAIN. */
		for (unsigned k = 0; k < n; k++)
			ready[k] = pfd[k].fd >= 0 && pfd[k].revents;
		while (busy) {
			busy = false;
			for (unsigned k = 0; k < w->n_socks; k++)
				if (ready[k])
					busy |= ready[k] = rx_batch(w, sc, k, MSG_DONTWAIT) == DP_BATCH;
			if (w->tun_fd >= 0 && !w->tun_lost && ready[n - 1])
				busy |= ready[n - 1] = tun_rx(w, enter(w), sc) == DP_BATCH;
		}
	}
	quiescent(w);
	return NULL;
}

/* ---- set-up, run by the control thread ---- */

/* Options gtpud needs on every GTP-U socket, also one passed by systemd
 * (whose unit sets buffers and IPV6_V6ONLY). */
static void sock_opts(int fd, int family)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	static const uint8_t any[16];
	int one = 1;

	/* The local address is needed only for Error Indications (Peer
	 * Address); a socket bound to one address knows it without asking the
	 * kernel for it with every datagram. */
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0 &&
	    memcmp(family == AF_INET ? (const void *)&((struct sockaddr_in *)&ss)->sin_addr :
				       (const void *)&((struct sockaddr_in6 *)&ss)->sin6_addr,
		   any, family == AF_INET ? 4 : 16))
		one = 0;

	/* Outer fragmentation is allowed: an inner IPv4 packet without DF that
	 * does not fit is sent in fragments rather than dropped. */
	if (family == AF_INET) {
		int pmtu = IP_PMTUDISC_DONT;

		setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
		setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &pmtu, sizeof(pmtu));
	} else if (family == AF_INET6) {
		int pmtu = IPV6_PMTUDISC_DONT;

		setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one));
		setsockopt(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &pmtu, sizeof(pmtu));
	}
}

static int open_sock(const struct conf_addr *a, bool reuseport, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd, one = 1, buf = 8 << 20;
	char as[64];

	conf_addr_to_sockaddr(a, a->port ? a->port : GTPU_PORT, &ss, &sl);
	fd = socket(a->family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		goto fail;
	if (a->family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (reuseport)
		setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	/* Bursts: the kernel caps these at net.core.[rw]mem_max unless FORCE works. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof(buf)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0)
		goto fail;
	sock_opts(fd, a->family);
	return fd;
fail:
	one = errno;
	snprintf(err, errlen, "cannot bind %s%s%s:%u: %s", a->family == AF_INET6 ? "[" : "",
		 conf_addr_str(a, as, sizeof(as)), a->family == AF_INET6 ? "]" : "",
		 a->port ? a->port : GTPU_PORT, strerror(one));
	if (fd >= 0)
		close(fd);
	return -one;
}

/* UDP GSO and GRO, unless GTPUD_GSO=0 in the environment (to measure
 * what they bring). */
static bool offload_wanted(void)
{
	const char *e = getenv("GTPUD_GSO");

	return !e || strcmp(e, "0") != 0;
}

/* UDP GRO on the worker's sockets: the kernel hands over trains of one
 * flow's datagrams (rx_gro splits them) into 64 KB receive slots. Without
 * the memory, or on a kernel without UDP GRO, single datagrams. */
static void gro_on(struct dp_worker *wk)
{
	struct scratch *sc = wk->scratch;
	uint8_t *big;
	int one = 1;

	if (!offload_wanted() || sc->rx_slot == GRO_SLOT || !wk->n_socks ||
	    !(big = line_alloc((size_t)DP_BATCH * GRO_SLOT)))
		return;
	for (unsigned k = 0; k < wk->n_socks; k++)
		if (setsockopt(wk->socks[k], SOL_UDP, UDP_GRO, &one, sizeof(one)) < 0)
			one = 0;
	if (!one) {
		for (unsigned k = 0; k < wk->n_socks; k++)
			setsockopt(wk->socks[k], SOL_UDP, UDP_GRO, &one, sizeof(one));
		free(big);
		return;
	}
	free(sc->bufs);
	sc->bufs = big;
	sc->rx_slot = GRO_SLOT;
}

/* SO_REUSEPORT would let a second gtpud join our group and take part of
 * the traffic: first make sure nobody holds the address. */
static int probe_free(const struct conf_addr *a, char *err, size_t errlen)
{
	struct conf_addr b = *a;
	int fd;

	fd = open_sock(&b, false, err, errlen);
	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

static int sock_family(int fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0)
		return AF_UNSPEC;
	return ss.ss_family;
}

int dp_init(struct dp *dp, const struct conf *c, unsigned n_workers,
	    const int *inherited, unsigned n_inherited, char *err, size_t errlen)
{
	memset(dp, 0, sizeof(*dp));
	dp->n_workers = n_workers;
	dp->notify_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	dp->w = calloc(n_workers, sizeof(*dp->w));
	dp->start_ns = mono_ns();
	dp->quiet_until_ns = dp->start_ns + (uint64_t)c->error_indication.quiet * 1000000000u;
	if (dp->notify_fd < 0 || !dp->w) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (unsigned i = 0; i < n_workers; i++) {
		struct dp_worker *w = &dp->w[i];
		struct scratch *sc;

		w->id = i;
		w->dp = dp;
		w->tun_fd = -1;
		sc = calloc(1, sizeof(*sc));
		if (!sc)
			return -ENOMEM;
		w->scratch = sc;
		/* Sources that are not peers share one Error Indication budget
		 * (ei_global), set up by the worker at its first use. */
		sc->rx_slot = SLOT;
		sc->bufs = line_alloc((size_t)DP_BATCH * SLOT);
		sc->tunbufs = line_alloc((size_t)DP_BATCH * SLOT);
		if (!sc->bufs || !sc->tunbufs)
			return -ENOMEM;
		if (i == 0 && n_inherited) {
			for (unsigned k = 0; k < n_inherited && k < DP_MAX_SOCKS; k++) {
				w->socks[w->n_socks] = inherited[k];
				w->sock_family[w->n_socks] = sock_family(inherited[k]);
				sock_opts(inherited[k], w->sock_family[w->n_socks++]);
			}
		} else if (!n_inherited) {
			for (unsigned k = 0; k < c->n_listen; k++) {
				int fd;

				if (i == 0 && n_workers > 1 && (fd = probe_free(&c->listen[k], err, errlen)) < 0)
					return fd;
				fd = open_sock(&c->listen[k], n_workers > 1, err, errlen);

				if (fd < 0)
					return fd;
				w->socks[w->n_socks] = fd;
				w->sock_family[w->n_socks++] = c->listen[k].family;
			}
		}
		if (!(sc->txq = calloc(w->n_socks ? w->n_socks : 1, sizeof(*sc->txq))))
			return -ENOMEM;
		if (offload_wanted()) {
			sc->gso_seg = 65535;
			gro_on(w);
		}
	}
	return 0;
}

/* With IFF_VNET_HDR on the device (tun_open asked for it), the worker also
 * sends UDP GSO from the device's super-packets, and needs buffers for
 * 64 KB packets; without memory it goes without. */
void dp_set_tun(struct dp *dp, unsigned w, int fd)
{
	struct dp_worker *wk = &dp->w[w];
	struct scratch *sc = wk->scratch;
	struct ifreq ifr;

	wk->tun_fd = fd;
	memset(&ifr, 0, sizeof(ifr));
	if (ioctl(fd, TUNGETIFF, &ifr) < 0 || !(ifr.ifr_flags & IFF_VNET_HDR))
		return;
	sc->tsobuf = line_alloc(TUN_GSO_MAX);
	sc->gsobuf = line_alloc(GSO_BUF);
	sc->coal.buf = line_alloc(TUN_VNET_LEN + TUN_GSO_MAX);
	if (!sc->tsobuf || !sc->gsobuf || !sc->coal.buf)
		return;           /* vnet stays false: dp_fini frees what was had */
	sc->vnet = true;
	sc->gso = offload_wanted();
	gro_on(wk);
}

/* A worker without sockets or TUN queue gets no thread. */
static bool worker_runs(const struct dp_worker *w)
{
	return w->n_socks || w->tun_fd >= 0;
}

int dp_start(struct dp *dp, struct state *s)
{
	struct sigaction sa = { .sa_handler = wake_handler };   /* no SA_RESTART */
	sigset_t ss;

	/* Blocked here, so in every worker: the polling ones unblock it inside
	 * ppoll only, the one blocking in recvmmsg for good. */
	sigemptyset(&ss);
	sigaddset(&ss, WAKE_SIG);
	pthread_sigmask(SIG_BLOCK, &ss, NULL);
	sigemptyset(&sa.sa_mask);
	sigaction(WAKE_SIG, &sa, NULL);
	dp->cur = s;
	dp->gen = 1;
	for (unsigned i = 0; i < dp->n_workers; i++) {
		struct dp_worker *w = &dp->w[i];
		int r;

		if (!worker_runs(w)) {
			w->seen_gen = UINT64_MAX;
			continue;    /* inherited sockets serve worker 0 only */
		}
		if ((r = pthread_create(&w->thread, NULL, worker_main, w)) != 0) {
			dp_stop(dp);     /* the ones started: dp_fini frees what they use */
			return -r;
		}
		w->started = true;
	}
	return 0;
}

uint64_t dp_advance(struct dp *dp)
{
	return __atomic_add_fetch(&dp->gen, 1, __ATOMIC_SEQ_CST);
}

uint64_t dp_safe_gen(struct dp *dp)
{
	uint64_t min = UINT64_MAX;

	for (unsigned i = 0; dp->w && i < dp->n_workers; i++) {
		uint64_t g = __atomic_load_n(&dp->w[i].seen_gen, __ATOMIC_SEQ_CST);

		if (g < min)
			min = g;
	}
	return min;
}

void dp_wait(struct dp *dp, uint64_t g)
{
	for (unsigned i = 0; dp->w && i < dp->n_workers; i++) {
		while (__atomic_load_n(&dp->w[i].seen_gen, __ATOMIC_SEQ_CST) < g) {
			struct timespec ts = { 0, 50000 };

			nanosleep(&ts, NULL);
		}
	}
}

struct state *dp_swap(struct dp *dp, struct state *s)
{
	struct state *old = __atomic_exchange_n(&dp->cur, s, __ATOMIC_SEQ_CST);

	dp_wait(dp, dp_advance(dp));
	return old;
}

void dp_stop(struct dp *dp)
{
	for (unsigned i = 0; dp->w && i < dp->n_workers; i++)
		__atomic_store_n(&dp->w[i].stop, true, __ATOMIC_SEQ_CST);
	for (unsigned i = 0; dp->w && i < dp->n_workers; i++) {
		struct dp_worker *w = &dp->w[i];

		if (!w->started)
			continue;
		/* A blocking worker may be between its stop check and
		 * recvmmsg when the signal comes: signal again until it ends. */
		for (;;) {
			struct timespec ts = { 0, 1000000 };

			pthread_kill(w->thread, WAKE_SIG);
			if (pthread_tryjoin_np(w->thread, NULL) != EBUSY)
				break;
			nanosleep(&ts, NULL);
		}
		w->started = false;
	}
}

void dp_fini(struct dp *dp)
{
	for (unsigned i = 0; dp->w && i < dp->n_workers; i++) {
		struct dp_worker *w = &dp->w[i];
		struct scratch *sc = w->scratch;

		for (unsigned k = 0; k < w->n_socks; k++)
			close(w->socks[k]);
		if (sc) {
			free(sc->bufs);
			free(sc->tunbufs);
			free(sc->tsobuf);
			free(sc->gsobuf);
			free(sc->coal.buf);
			free(sc->txq);
			free(sc);
		}
	}
	free(dp->w);
	if (dp->notify_fd >= 0)
		close(dp->notify_fd);
	memset(dp, 0, sizeof(*dp));
}

/* Worker w's counters between two of its batches (the read side of the
 * seqlock of batch_begin): read again while a batch was under way, at
 * first at once, then with a 50 us sleep every 64 readings, which lets a
 * worker preempted mid-batch get the CPU. A yield was not enough: on a
 * loaded machine a worker waited out 5 ms of them. After STATS_WAIT_NS the
 * last reading is taken, off by at most the batch in flight: a reader
 * never waits on the datapath for long. */
#define STATS_WAIT_NS 100000000

static void worker_stats(const struct dp_worker *w, struct wstats *out)
{
	const uint64_t *src = (const uint64_t *)&w->st;
	uint64_t *dst = (uint64_t *)out;
	uint64_t until = 0;

	for (unsigned t = 1;; t++) {
		uint32_t s0 = __atomic_load_n(&w->st_seq, __ATOMIC_ACQUIRE);

		for (size_t k = 0; k < sizeof(*out) / sizeof(uint64_t); k++)
			dst[k] = __atomic_load_n(&src[k], __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (!(s0 & 1) && __atomic_load_n(&w->st_seq, __ATOMIC_RELAXED) == s0)
			return;
		if (t % 64 == 0) {
			uint64_t now = mono_ns();

			if (!until)
				until = now + STATS_WAIT_NS;
			else if (now >= until)
				return;
			nanosleep(&(struct timespec){ .tv_nsec = 50000 }, NULL);
		}
	}
}

void dp_stats(struct dp *dp, struct wstats *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned i = 0; i < dp->n_workers; i++) {
		struct wstats one;
		const uint64_t *src = (const uint64_t *)&one;
		uint64_t *dst = (uint64_t *)out;

		worker_stats(&dp->w[i], &one);
		for (size_t k = 0; k < sizeof(*out) / sizeof(uint64_t); k++)
			dst[k] += src[k];
	}
}

bool dp_event_pop(struct dp *dp, struct dp_event *ev)
{
	for (unsigned i = 0; i < dp->n_workers; i++) {
		struct dp_worker *w = &dp->w[i];
		uint32_t tail = __atomic_load_n(&w->ev_tail, __ATOMIC_RELAXED);

		if (tail == __atomic_load_n(&w->ev_head, __ATOMIC_ACQUIRE))
			continue;
		*ev = w->evq[tail % DP_EVQ];
		__atomic_store_n(&w->ev_tail, tail + 1, __ATOMIC_RELEASE);
		return true;
	}
	return false;
}

static bool same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr == ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	return !memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr, &((const struct sockaddr_in6 *)b)->sin6_addr, 16);
}

static bool any_addr(const struct sockaddr_storage *a)
{
	static const uint8_t zero[16];

	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr == 0;
	return !memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr, zero, 16);
}

int dp_pick_sock(struct dp *dp, const struct sockaddr *sa, socklen_t salen)
{
	struct dp_worker *w = &dp->w[0];
	struct sockaddr_storage local, bound;
	socklen_t l = sizeof(local);
	int fd, wildcard = -1, first = -1;

	/* Ask the routing table which local address reaches sa. */
	fd = socket(sa->sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, sa, salen) < 0 || getsockname(fd, (struct sockaddr *)&local, &l) < 0) {
		close(fd);
		return -1;
	}
	close(fd);
	for (unsigned k = 0; k < w->n_socks; k++) {
		socklen_t bl = sizeof(bound);

		if (w->sock_family[k] != sa->sa_family ||
		    getsockname(w->socks[k], (struct sockaddr *)&bound, &bl) < 0)
			continue;
		if (same_addr(&bound, &local))
			return (int)k;
		if (any_addr(&bound) && wildcard < 0)
			wildcard = (int)k;
		if (first < 0)
			first = (int)k;
	}
	return wildcard >= 0 ? wildcard : first;
}

int dp_send(struct dp *dp, int sock, const void *buf, size_t len, const struct sockaddr *sa, socklen_t salen)
{
	if (sock >= 0 && (unsigned)sock < dp->w[0].n_socks)
		return sendto(dp->w[0].socks[sock], buf, len, MSG_DONTWAIT, sa, salen) < 0 ? -errno : 0;
	for (unsigned i = 0; i < dp->n_workers; i++) {
		struct dp_worker *w = &dp->w[i];

		for (unsigned k = 0; k < w->n_socks; k++)
			if (w->sock_family[k] == sa->sa_family)
				return sendto(w->socks[k], buf, len, MSG_DONTWAIT, sa, salen) < 0 ? -errno : 0;
	}
	return -EAFNOSUPPORT;
}
