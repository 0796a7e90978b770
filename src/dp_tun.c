/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The endpoint path of the datapath: G-PDUs decapsulated onto the TUN
 * device (dp_ep_decap) and the device's packets encapsulated towards their
 * tunnel's peer (dp_ep_rx), with the device's offloads (TSO/GSO segments
 * cut and merged) and UDP GSO sends. Called from the worker loop (dp.c). */
#include "dp_int.h"

/* ---- endpoint: the TUN device ---- */


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

static ssize_t ep_write(const struct dp_worker *w, const struct scratch *sc, const void *pkt, size_t len)
{
	struct iovec iov[2] = { { (void *)&vnet_zero, TUN_VNET_LEN }, { (void *)pkt, len } };
	ssize_t r;

	if (!sc->vnet)
		return write(w->tun_fd, pkt, len);
	r = writev(w->tun_fd, iov, 2);
	return r < 0 ? r : r - TUN_VNET_LEN;
}

/* Merged segments the device refused: their tunnel is the one whose ue is
 * their source (looked up only now, off the path of every segment). */
static void coal_lost(struct dp_worker *w, struct scratch *sc, size_t len, unsigned n)
{
	const struct state *s = sc->s;
	uint32_t ti = TUNNEL_NONE;
	struct inner_pkt ip;
	struct dp_drop d;

	memset(&d, 0, sizeof(d));
	if (s && len > TUN_VNET_LEN && inner_parse(sc->coal.buf + TUN_VNET_LEN, len - TUN_VNET_LEN, &ip) == INNER_OK) {
		ti = state_lookup_ue(s, ip.family, ip.src);
		d.family = (uint8_t)ip.family;
		memcpy(d.src, ip.src, ip.addr_len);
		memcpy(d.dst, ip.dst, ip.addr_len);
		d.flags = DP_DROP_SRC | DP_DROP_DST;
	}
	if (!dp_drop_count(w, s, DROP_TUN_ERROR, n, ti, 0))
		return;
	if (ti != TUNNEL_NONE) {
		const struct tunnel *t = &s->tunnels[ti];

		d.teid = t->from_teid;
		d.flags |= DP_DROP_TEID;
		if (t->from_peer != TABLE_NO_PEER)
			memcpy(d.peer, s->peers[t->from_peer]->name, sizeof(d.peer));
	}
	dp_drop_write(w, &d, DROP_TUN_ERROR, ti);
}

/* Write the merged segments out; counted once written. */
void dp_ep_flush(struct dp_worker *w, struct scratch *sc)
{
	unsigned n;
	size_t len = tun_coal_finish(&sc->coal, &n);

	if (!len)
		return;
	if (write(w->tun_fd, sc->coal.buf, len) != (ssize_t)len) {
		coal_lost(w, sc, len, n);
		return;
	}
	INC(w->st.forwarded, n);
	INC(w->st.tun_tx, n);
}

/* The peer a G-PDU came from (the tunnel's, or any for a PFCP tunnel),
 * looked up only for a drop's record. */
static const struct peer *src_peer(const struct rxctx *x, const struct sockaddr *src)
{
	return state_lookup_peer(x->s, src);
}

/* A G-PDU of an endpoint tunnel: validate the inner packet, check that its
 * source is one of the tunnel's UEs, and write it to the TUN device (or
 * merge it with the TCP segments before it, written by dp_ep_flush). */
void dp_ep_decap(struct rxctx *x, uint32_t ti, const uint8_t *pkt, size_t len, const struct sockaddr *src)
{
	const struct tunnel *t = &x->s->tunnels[ti];
	struct dp_worker *w = x->w;
	struct scratch *sc = x->sc;
	struct inner_pkt ip;
	enum inner_err e;

	if (w->tun_fd < 0 || w->tun_lost) {
		dp_drop_rx(x, DROP_NO_TUN, src, src_peer(x, src), t->from_teid, ti);
		return;
	}
	if ((e = inner_parse(pkt, len, &ip)) != INNER_OK) {
		dp_drop_rx(x, inner_reason(e), src, src_peer(x, src), t->from_teid, ti);
		return;
	}
	if (!ue_match(x->s, t, &ip)) {
		dp_drop_rx(x, DROP_SPOOFED, src, src_peer(x, src), t->from_teid, ti);
		return;
	}
	if (t->tb != TUNNEL_NONE && !tbucket_take(tunnel_bucket(x->s, t, w->id, 0), ip.len, rx_now(x))) {
		dp_drop_rx(x, DROP_RATE_LIMIT, src, src_peer(x, src), t->from_teid, ti);
		return;
	}
	if (sc->vnet) {
		if (tun_coal_add(&sc->coal, pkt, &ip))
			return;
		if (sc->coal.len) {
			dp_ep_flush(w, sc);
			if (tun_coal_add(&sc->coal, pkt, &ip))
				return;
		}
	}
	if (ep_write(w, sc, pkt, ip.len) != (ssize_t)ip.len) {
		dp_drop_rx(x, DROP_TUN_ERROR, src, src_peer(x, src), t->from_teid, ti);
		return;
	}
	INC(w->st.forwarded, 1);
	INC(w->st.tun_tx, 1);
}

/* n packets too big for tunnel ti: ICMP back into the device (one). */
static void ep_too_big(struct dp_worker *w, const struct state *s, struct scratch *sc, const uint8_t *pkt,
		       size_t len, const struct inner_pkt *ip, uint32_t ti, unsigned cnt, uint64_t now)
{
	size_t n;

	/* Sourced from the packet's destination: the kernel drops an ICMP error
	 * that claims to come from one of its own addresses (a martian). */
	dp_drop_tun(w, s, DROP_TOO_BIG, cnt, ip, ti, now);
	n = inner_icmp_too_big(sc->icmp, sizeof(sc->icmp), pkt, len, w->dp->tun_mtu, NULL);
	if (n && ep_write(w, sc, sc->icmp, n) == (ssize_t)n)
		INC(w->st.icmp_tx, 1);
}

/* Where n packets from the device to ip's destination go (one, or the
 * segments of one super-packet): their tunnel and its peer, or false when
 * they are dropped, each counted (no route, too big for the tunnel MTU
 * with an ICMP error for size bytes of pkt, peer down with on_down drop).
 * len: the datagram length the MTU rule sees. */
static bool ep_route(struct dp_worker *w, struct state *s, struct scratch *sc, const uint8_t *pkt,
		     const struct inner_pkt *ip, size_t len, size_t size, unsigned n,
		     uint32_t *ti, struct peer **to, uint64_t now)
{
	if ((*ti = state_lookup_ue(s, ip->family, ip->dst)) == TUNNEL_NONE) {
		dp_drop_tun(w, s, DROP_NO_ROUTE, n, ip, TUNNEL_NONE, now);
		return false;
	}
	if (w->dp->tun_mtu && len > w->dp->tun_mtu && (ip->family == AF_INET6 || ip->df)) {
		ep_too_big(w, s, sc, pkt, size, ip, *ti, n, now);
		return false;
	}
	if (s->tunnels[*ti].flags & (TUNNEL_NO_TO | TUNNEL_BUFF)) {
		/* A buffering FAR keeps whole packets (not a super-packet). */
		if (!(s->tunnels[*ti].flags & TUNNEL_BUFF))
			dp_drop_tun(w, s, DROP_FAR_DROP, n, ip, *ti, now);
		else if (n > 1 || !dp_hold(w, *ti, s->tunnels[*ti].from_teid, pkt, size))
			dp_drop_tun(w, s, DROP_BUFFER_OVERFLOW, n, ip, *ti, now);
		return false;
	}
	*to = s->peers[s->tunnels[*ti].to_peer];
	if (s->conf->echo.on_down == CONF_DOWN_DROP &&
	    __atomic_load_n(&(*to)->state, __ATOMIC_RELAXED) == PEER_DOWN) {
		dp_drop_tun(w, s, DROP_PEER_DOWN, n, ip, *ti, now);
		return false;
	}
	return true;
}

static void ep_encap(struct dp_worker *w, struct state *s, struct scratch *sc, uint8_t *slot,
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
		dp_drop_tun(w, s, inner_reason(e), 1, NULL, TUNNEL_NONE, now);
		return;
	}
	if (!ep_route(w, s, sc, pkt, &ip, ip.len, ip.len, 1, &ti, &to, now))
		return;
	t = &s->tunnels[ti];
	if (t->tb != TUNNEL_NONE && !tbucket_take(tunnel_bucket(s, t, w->id, 1), ip.len, now)) {
		dp_drop_tun(w, s, DROP_RATE_LIMIT, 1, &ip, ti, now);
		return;
	}
	ge = tunnel_encap(t);
	hl = gtpu_encap(slot, GTPU_HEADROOM, ip.len, &ge);
	if (!hl) {
		dp_drop_tun(w, s, DROP_TOO_BIG, 1, &ip, ti, now);
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
	union udp_seg_ctl ctl;
	struct iovec iov = { buf, len };
	struct msghdr mh = { .msg_name = &to->sa, .msg_namelen = to->salen, .msg_iov = &iov, .msg_iovlen = 1 };
	struct txmeta meta = { TX_FWD, tunnel_ctr(w, s, ti), peer_ctr(w, to), NULL };

	if (txq_pending(w, sc))
		dp_tx_flush(w, sc);       /* keep the order the device gave */
	if (sc->gso && n > 1) {
		ssize_t r;

		udp_segment(&mh, &ctl, seg);
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
		dp_drop_tx(w, DROP_SEND_ERROR, n - ok, meta.tunnel, buf, len, (struct sockaddr *)&to->sa);
	dp_count_sent(w, &meta, ok, ok == n ? len : (size_t)ok * seg);
}

/* A packet the device gave with a virtio header that asks for segmentation
 * (or too long for a slot): each segment is looked up, checked and counted
 * as ep_encap does for one packet, then the G-PDUs go out by gso_send. */
static void ep_encap_gso(struct dp_worker *w, struct state *s, struct scratch *sc, const uint8_t *pkt,
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
		dp_drop_tun(w, s, inner_reason(e), 1, NULL, TUNNEL_NONE, now);
		return;
	}
	nseg = tun_seg_init(&g, pkt, len, &ip, v);
	if (nseg < 0 || !g.mss) {
		INC(w->st.rx_pkts, 1);
		INC(w->st.rx_bytes, len);
		INC(w->st.tun_rx, 1);
		dp_drop_tun(w, s, nseg < 0 ? DROP_INNER_MALFORMED : DROP_TOO_BIG, 1, &ip, TUNNEL_NONE, now);
		return;
	}
	/* Counted as the segments they become: headers repeated in each. */
	INC(w->st.rx_pkts, (unsigned)nseg);
	INC(w->st.rx_bytes, g.len + (size_t)(nseg - 1) * g.hlen);
	INC(w->st.tun_rx, (unsigned)nseg);
	/* One ICMP error for the lot when too big: the device MTU changed under us. */
	if (!ep_route(w, s, sc, pkt, &ip, g.hlen + g.mss, g.len, (unsigned)nseg, &ti, &to, now))
		return;
	t = &s->tunnels[ti];
	ge = tunnel_encap(t);
	hl = gtpu_encap(sc->icmp, GTPU_HEADROOM, 0, &ge);
	for (;;) {
		n = tun_seg_next(&g, out + off + hl, GSO_BUF - off - hl);
		if (!n)
			break;
		if (t->tb != TUNNEL_NONE && !tbucket_take(tunnel_bucket(s, t, w->id, 1), n, now)) {
			dp_drop_tun(w, s, DROP_RATE_LIMIT, 1, &ip, ti, now);
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
		dp_drop_tun(w, s, DROP_TOO_BIG, g.n - g.i, &ip, ti, now);
}

/* The device was deleted under us (EBADFD, EIO...): stop reading it, tell
 * the control thread once; endpoint tunnels then drop as no_tun. */
void dp_ep_lost(struct dp_worker *w)
{
	struct dp_event ev = { .kind = DP_EV_TUN_LOST };

	if (w->tun_lost)
		return;
	__atomic_store_n(&w->tun_lost, true, __ATOMIC_RELEASE);
	dp_push_event(w, &ev);
}

static void ep_check_lost(struct dp_worker *w, ssize_t r)
{
	if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
		dp_ep_lost(w);
}

/* Read a batch of packets from the TUN device; returns how many reads. */
int dp_ep_rx(struct dp_worker *w, struct state *s, struct scratch *sc)
{
	uint64_t now = mono_ns();
	int n;

	sc->s = s;
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
				ep_check_lost(w, len);
				break;
			}
			ep_encap(w, s, sc, slot, (size_t)len, now);
			continue;
		}
		len = readv(w->tun_fd, iov, 3);
		if (len <= 0) {
			ep_check_lost(w, len);
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
				dp_drop_tun(w, s, DROP_INNER_MALFORMED, 1, NULL, TUNNEL_NONE, now);
				continue;
			}
			ep_encap(w, s, sc, slot, (size_t)len, now);
			continue;
		}
		if (len > DP_BUF)
			memcpy(sc->tsobuf, slot + GTPU_HEADROOM, DP_BUF);
		ep_encap_gso(w, s, sc, len > DP_BUF ? sc->tsobuf : slot + GTPU_HEADROOM, (size_t)len, &v, now);
	}
	if (n)
		dp_tx_flush(w, sc);
	batch_end(w);
	return n;
}

