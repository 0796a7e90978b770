/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Datapath workers: recvmmsg a batch, classify each datagram once (forward,
 * answer, or drop with a reason), queue replies and relayed packets per
 * socket, sendmmsg them. No locks, no logging, no allocation per packet.
 *
 * The path of a datagram, in call order:
 *   dp_worker_main -> rx_batch (recvmmsg; enter: the state of this batch)
 *     -> rx_prefetch (large tables) -> state_lookup_peer, once a message
 *     -> rx_gro (a UDP GRO train, cut) or rx_one
 *        rx_one -> gtpu_parse -> rx_gpdu | rx_echo_req | rx_echo_rsp |
 *                  rx_error_ind | drop (every datagram counted once)
 *        rx_gpdu -> state_lookup_teid -> relay: gtpu_relay_rewrite, tx_add_peer
 *                                     -> endpoint: dp_ep_decap (dp_tun.c)
 *     -> dp_tx_flush (sendmmsg, UDP GSO runs: tx_pack) -> tx_done, dp_count_sent
 *   Every drop: dp_drop_rx, dp_drop_tun or dp_drop_tx (dp_drops.c: counted,
 *   for its tunnel too, a sample into the ring of recent drops).
 *   The TUN device's packets: dp_ep_rx (dp_tun.c). Set-up: dp_setup.c. */
#include "dp_int.h"

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


/* pkts datagrams of bytes in all, described by m, were sent. */
void dp_count_sent(struct dp_worker *w, const struct txmeta *m, uint64_t pkts, uint64_t bytes)
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
		dp_count_sent(w, m, 1, q->iov[i].iov_len);
	else if (m->kind != TX_EXTRA)
		dp_drop_tx(w, DROP_SEND_ERROR, 1, m->tunnel, q->iov[i].iov_base, q->iov[i].iov_len,
			   q->m[i].msg_hdr.msg_name);
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
			q->g[ng].msg_hdr.msg_iovlen = j - i;
			udp_segment(&q->g[ng].msg_hdr, &q->ctl[ng], seg);
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
void dp_tx_flush(struct dp_worker *w, struct scratch *sc)
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
/* G-PDUs of its tunnels from the peer's address and port show that the path
 * works: a peer that is not up comes up (the control thread is told once).
 * From another port they may be a spoofer's, whose source address is the
 * only thing it can pick freely: they do not count. */
static void peer_seen(struct dp *dp, struct peer *p, const struct sockaddr *src)
{
	uint16_t sport = src->sa_family == AF_INET ? ((const struct sockaddr_in *)src)->sin_port :
			 ((const struct sockaddr_in6 *)src)->sin6_port;
	uint16_t pport = p->sa.ss_family == AF_INET ? ((const struct sockaddr_in *)&p->sa)->sin_port :
			 ((const struct sockaddr_in6 *)&p->sa)->sin6_port;

	if (sport != pport)
		return;
	if (__atomic_load_n(&p->state, __ATOMIC_RELAXED) != PEER_UP &&
	    !__atomic_load_n(&p->seen, __ATOMIC_RELAXED) &&
	    !__atomic_exchange_n(&p->seen, 1, __ATOMIC_RELAXED))
		poke(dp);
}

void dp_push_event(struct dp_worker *w, const struct dp_event *ev)
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

/* Hand T-PDU p[0..len) of tunnel ti (a buffering FAR's) to the control
 * thread, which keeps it in its session's buffer: counted there, or
 * dropped (buffer_overflow) when the ring is full or it does not fit. */
bool dp_hold(struct dp_worker *w, uint32_t ti, uint32_t teid, const uint8_t *p, size_t len)
{
	uint32_t head = __atomic_load_n(&w->hold_head, __ATOMIC_RELAXED), tail;
	struct dp_hold *h;

	if (!w->holdq || len > DP_HOLD_DATA ||
	    head - (tail = __atomic_load_n(&w->hold_tail, __ATOMIC_ACQUIRE)) >= DP_HOLDQ)
		return false;
	h = &w->holdq[head % DP_HOLDQ];
	h->tunnel = ti;
	h->teid = teid;
	h->len = (uint16_t)len;
	memcpy(h->data, p, len);
	__atomic_store_n(&w->hold_head, head + 1, __ATOMIC_RELEASE);
	INC(w->st.held_in, 1);
	/* A wake-up for the first of a run only (no write a packet to a flood
	 * for an idle UE): the control thread empties the ring when it wakes,
	 * and its timer, five times a second, takes what a race left. */
	if (head == tail)
		poke(w->dp);
	return true;
}

/* Local address a datagram was sent to, from IP_PKTINFO, for Error Indication. */
static size_t local_addr(const struct msghdr *mh, const struct sockaddr *src, uint8_t *out)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR((struct msghdr *)mh); c; c = CMSG_NXTHDR((struct msghdr *)mh, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;

			/* The local address that received it (ipi_spec_dst), not
			 * the header's destination, which may be a broadcast. */
			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			memcpy(out, &pi.ipi_spec_dst, 4);
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



/* Whether a datagram was sent to a broadcast or multicast address (IP_PKTINFO:
 * the header's destination, and for a subnet broadcast one that is not the
 * address of the interface). Such a datagram is never answered: one spoofed
 * packet would draw a reply from every gtpud on the segment. Only wildcard
 * sockets ask for the packet info, and only they receive such datagrams. */
static bool not_unicast(const struct msghdr *mh)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR((struct msghdr *)mh); c; c = CMSG_NXTHDR((struct msghdr *)mh, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;
			uint32_t a;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			a = ntohl(pi.ipi_addr.s_addr);
			return a == 0xffffffffu || (a >> 28) == 0xe ||
			       pi.ipi_addr.s_addr != pi.ipi_spec_dst.s_addr;
		}
		if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo pi;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			return pi.ipi6_addr.s6_addr[0] == 0xff;
		}
	}
	return false;
}

static uint8_t *sig_buf(struct scratch *sc)
{
	return sc->n_sig < TXQ ? sc->sig[sc->n_sig++] : NULL;
}

/* Error Indication and Supported Extension Headers Notification answer what
 * may be spoofed: they share a budget per peer, or a global one for
 * non-peers. error_indication.enabled and .quiet are about Error
 * Indications (ei) only. */
static bool bucket_allowed(struct rxctx *x, struct tbucket *b, unsigned conf_rate);

static bool sig_allowed(struct rxctx *x, struct peer *p, bool ei)
{
	const struct conf *c = x->s->conf;

	if (!c->error_indication.rate ||
	    (ei && (!c->error_indication.enabled || rx_now(x) < x->w->dp->quiet_until_ns)))
		return false;
	return bucket_allowed(x, p ? &p->ei_tb[x->w->id] : &x->w->ei_global, c->error_indication.rate);
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

/* One of conf_rate a second (this worker's share, at least one), a second's
 * worth as burst. The worker owns its buckets: set up full at first use and
 * when a reload changed the rate. */
static bool bucket_allowed(struct rxctx *x, struct tbucket *b, unsigned conf_rate)
{
	uint64_t share = conf_rate / x->w->dp->n_workers, rate = share ? share : 1;

	if (b->rate != rate)
		tbucket_init(b, rate, rate, rx_now(x));
	return tbucket_take(b, 1, rx_now(x));
}

/* The source's budget (the peer's, or the one all strangers share), then
 * the budget of all sources together. */
static bool echo_allowed(struct rxctx *x, struct peer *p)
{
	return bucket_allowed(x, p ? &p->echo_tb[x->w->id] : &x->w->echo_global,
			      x->s->conf->echo.answer_rate) &&
	       bucket_allowed(x, &x->w->echo_total, x->s->conf->echo.answer_rate_total);
}

static void rx_echo_req(struct rxctx *x, const uint8_t *pkt, const struct gtpu_hdr *h,
			struct peer *p, const struct sockaddr *src, socklen_t slen)
{
	struct gtpu_ies ies;
	enum gtpu_err e = gtpu_parse_ies(pkt, h, &ies);
	uint8_t *b;
	size_t n;

	if (e != GTPU_OK) {
		dp_drop_rx(x, err_reason(e), src, p, h->teid, TUNNEL_NONE);
		return;
	}
	INC(x->w->st.echo_req_rx, 1);
	/* TS 29.281 5.1: an Echo Request has S set (and its sequence number). */
	if (!(h->flags & GTPU_FLAG_S)) {
		dp_drop_rx(x, DROP_MALFORMED, src, p, h->teid, TUNNEL_NONE);
		return;
	}
	/* Answered under a budget, per peer and for all other sources
	 * together: a flood (or a reflection attack) gets at most that much
	 * back. An Echo Request is no sign that the path to the peer works
	 * (it may be spoofed): the peer's state does not change for it. */
	if (!echo_allowed(x, p)) {
		dp_drop_rx(x, DROP_ECHO_RATE_LIMIT, src, p, h->teid, TUNNEL_NONE);
		return;
	}
	if (!(b = sig_buf(x->sc)) || !(n = gtpu_build_echo_rsp(b, SIG_MAX, h->seq, 0))) {
		dp_drop_rx(x, DROP_SEND_ERROR, src, p, h->teid, TUNNEL_NONE);
		return;
	}
	tx_add(x->sc, x->sock, b, n, src, slen,
	       (struct txmeta){ TX_ANSWER, NULL, peer_ctr(x->w, p), &x->w->st.echo_rsp_tx });
}

static void rx_echo_rsp(struct rxctx *x, const uint8_t *pkt, const struct gtpu_hdr *h,
			struct peer *p, const struct sockaddr *src)
{
	struct gtpu_ies ies;
	enum gtpu_err e = gtpu_parse_ies(pkt, h, &ies);
	uint32_t seq = (uint32_t)h->seq | 0x10000u;

	if (e != GTPU_OK) {
		dp_drop_rx(x, err_reason(e), src, p, h->teid, TUNNEL_NONE);
		return;
	}
	if (!p) {
		dp_drop_rx(x, DROP_UNKNOWN_PEER, src, p, h->teid, TUNNEL_NONE);
		return;
	}
	INC(x->w->st.echo_rsp_rx, 1);
	INC(x->w->st.sig_rx, 1);
	/* Only the response to the pending request (its sequence number) is
	 * the control thread's business: it alone brings a peer up and
	 * carries a Recovery value. Others (repeats, late or spoofed ones)
	 * wake nobody and change nothing: a flood costs no system call. */
	if (seq != __atomic_load_n(&p->echo_wait, __ATOMIC_ACQUIRE))
		return;
	__atomic_store_n(&p->rsp_recovery, ies.has_recovery ? ies.recovery : 0, __ATOMIC_RELAXED);
	__atomic_store_n(&p->rsp_ns, rx_now(x), __ATOMIC_RELAXED);
	if (__atomic_exchange_n(&p->rsp_seq, seq, __ATOMIC_RELEASE) != seq)
		poke(x->w->dp);       /* not yet told of this one */
}

static void rx_error_ind(struct rxctx *x, const uint8_t *pkt, const struct gtpu_hdr *h,
			 struct peer *p, const struct sockaddr *src)
{
	struct gtpu_ies ies;
	enum gtpu_err e = gtpu_parse_ies(pkt, h, &ies);
	struct dp_event ev = { .kind = DP_EV_ERROR_IND };
	uint32_t t;

	if (e != GTPU_OK) {
		dp_drop_rx(x, err_reason(e), src, p, h->teid, TUNNEL_NONE);
		return;
	}
	/* Only the peer we send to, naming its own address and a TEID we use
	 * towards it, is believed: a spoofed one tears nothing down. */
	if (!p || ies.peer_addr_len != (p->addr.family == AF_INET ? 4 : 16) ||
	    memcmp(ies.peer_addr, p->addr.addr, ies.peer_addr_len)) {
		dp_drop_rx(x, DROP_ERROR_IND_IGNORED, src, p, h->teid, TUNNEL_NONE);
		return;
	}
	/* A peer's Error Indications are looked at under a budget: past it a
	 * flood (its source address spoofed, every TEID guessed) costs a
	 * counter only, and never reaches the control thread. */
	if (!bucket_allowed(x, &p->ei_rx_tb[x->w->id], x->s->conf->error_indication.accept_rate)) {
		dp_drop_rx(x, DROP_ERROR_IND_RATE_LIMIT, src, p, h->teid, TUNNEL_NONE);
		return;
	}
	for (t = 0; t < x->s->n_peers && x->s->peers[t] != p; t++)
		;
	t = state_lookup_to(x->s, t, ies.teid_data);
	if (t == TUNNEL_NONE) {
		/* Its own reason, and the control thread logs it (rate-limited):
		 * a peer that knows of tunnels gtpud does not, or a wrong guess. */
		dp_drop_rx(x, DROP_ERROR_IND_UNKNOWN_TEID, src, p, h->teid, TUNNEL_NONE);
	} else {
		INC(x->w->st.err_ind_rx, 1);
		INC(x->w->st.sig_rx, 1);
	}
	ev.tunnel = t;
	ev.gen = x->w->seen_gen;
	memcpy(ev.peer, p->name, sizeof(ev.peer));
	ev.teid = ies.teid_data;
	ev.addr_len = ies.peer_addr_len;
	memcpy(ev.addr, ies.peer_addr, ies.peer_addr_len);
	dp_push_event(x->w, &ev);
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
		dp_drop_rx(x, DROP_UNKNOWN_TEID, src, p, h->teid, TUNNEL_NONE);
		/* TS 29.281 7.3.1: not for a G-PDU with TEID 0. */
		if (h->type == GTPU_GPDU && h->teid)
			send_error_ind(x, p, mh, src, h->teid);
		return;
	}
	t = &s->tunnels[ti];
	/* A PFCP tunnel is matched on its TEID alone (TS 29.244 5.2.1). */
	if (!(t->flags & TUNNEL_ANY_SRC) && (!p || s->peers[t->from_peer] != p)) {
		dp_drop_rx(x, DROP_WRONG_PEER, src, p, h->teid, ti);
		return;
	}
	if (p)
		peer_seen(x->w->dp, p, src);
	c = tunnel_ctr(x->w, s, ti);
	INC(c->rx_pkts, 1);
	INC(c->rx_bytes, len);
	if (t->flags & TUNNEL_DROP) {
		/* A relay's buffering FAR keeps its G-PDUs' user packets. */
		if (!(t->flags & TUNNEL_BUFF) || (t->flags & TUNNEL_ENDPOINT) || h->type != GTPU_GPDU)
			dp_drop_rx(x, DROP_FAR_DROP, src, p, h->teid, ti);
		else if (!dp_hold(x->w, ti, t->from_teid, pkt + h->hdr_len, h->msg_len - h->hdr_len))
			dp_drop_rx(x, DROP_BUFFER_OVERFLOW, src, p, h->teid, ti);
		return;
	}
	if (h->type == GTPU_END_MARKER)
		INC(x->w->st.end_markers, 1);
	else if (t->ul_qfi && (!h->has_pdu_session || h->pdu_session.qfi + 1 != t->ul_qfi)) {
		dp_drop_rx(x, DROP_QFI_MISMATCH, src, p, h->teid, ti);
		return;
	}
	if (t->flags & TUNNEL_ENDPOINT) {
		if (h->unknown_req_endpoint) {
			dp_drop_rx(x, DROP_EXT_UNSUPPORTED, src, p, h->teid, ti);
			send_sehn(x, p, src, mh->msg_namelen);
			return;
		}
		if (h->type == GTPU_END_MARKER) {
			INC(x->w->st.sig_rx, 1);
			return;
		}
		dp_ep_decap(x, ti, pkt + h->hdr_len, h->msg_len - h->hdr_len, src);
		return;
	}
	to = s->peers[t->to_peer];
	if (s->conf->echo.on_down == CONF_DOWN_DROP &&
	    __atomic_load_n(&to->state, __ATOMIC_RELAXED) == PEER_DOWN) {
		dp_drop_rx(x, DROP_PEER_DOWN, src, p, h->teid, ti);
		return;
	}
	/* A relay tunnel's rate counts the G-PDU's payload (the user packet). */
	if (t->tb != TUNNEL_NONE &&
	    !tbucket_take(tunnel_bucket(s, t, x->w->id, 0), h->msg_len - h->hdr_len, rx_now(x))) {
		dp_drop_rx(x, DROP_RATE_LIMIT, src, p, h->teid, ti);
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
		dp_drop_rx(x, DROP_TOO_LONG, src, p, -1, TUNNEL_NONE);
		return;
	}
	if (mh->msg_controllen && not_unicast(mh)) {
		dp_drop_rx(x, DROP_NOT_UNICAST, src, p, -1, TUNNEL_NONE);
		return;
	}
	e = gtpu_parse(pkt, len, &h);
	if (e != GTPU_OK) {
		dp_drop_rx(x, err_reason(e), src, p, -1, TUNNEL_NONE);
		return;
	}
	/* TS 29.281 5.2.1: a message with an extension header gtpud does not
	 * know and must comprehend is discarded with a notification (none
	 * about a notification): class 11 always; class 10 where gtpud is the
	 * endpoint, which it is of all signalling (for G-PDUs: see rx_gpdu). */
	if (h.unknown_req_all || (h.unknown_req_endpoint && h.type != GTPU_GPDU && h.type != GTPU_END_MARKER)) {
		dp_drop_rx(x, DROP_EXT_UNSUPPORTED, src, p, h.teid, TUNNEL_NONE);
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
		rx_echo_rsp(x, pkt, &h, p, src);
		return;
	case GTPU_ERROR_IND:
		rx_error_ind(x, pkt, &h, p, src);
		return;
	case GTPU_SUPP_EXT_NOTIF:
		if (p) {
			INC(x->w->st.sig_rx, 1);
			return;
		}
		break;
	default:
		dp_drop_rx(x, p ? DROP_UNSUPPORTED_TYPE : DROP_UNKNOWN_PEER, src, p, h.teid, TUNNEL_NONE);
		return;
	}
	dp_drop_rx(x, DROP_UNKNOWN_PEER, src, p, h.teid, TUNNEL_NONE);
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
			dp_tx_flush(x->w, sc);
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
	sc->s = s;
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
		dp_ep_flush(w, sc);
	dp_tx_flush(w, sc);
	batch_end(w);
	return n;
}


void dp_wake_handler(int sig)
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

void *dp_worker_main(void *arg)
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
			dp_ep_lost(w);
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
				busy |= ready[n - 1] = dp_ep_rx(w, enter(w), sc) == DP_BATCH;
		}
	}
	quiescent(w);
	return NULL;
}

