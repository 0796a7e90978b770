// SPDX-License-Identifier: GPL-2.0-or-later
/* gtpud's XDP fast path: relays the G-PDUs of relay
 * tunnels before any socket, exactly as the sockets would (gtpu.c's
 * gtpu_relay_rewrite), and passes everything else up to them.
 *
 * The path of a frame: gtpu_xdp -> parse_ip4 | parse_ip6 (outer header, UDP
 * to an address and port gtpud listens on) -> relay: gtpu_check (version,
 * type, Length, a bounded extension-header walk) -> the tunnel by TEID, the
 * source peer checked -> fib (bpf_fib_lookup towards the next peer) ->
 * rewrite (addresses, ports, TEID, checksums) -> count -> redirect or XDP_TX. Any
 * doubt at any step: XDP_PASS, and the sockets decide and count. */
#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_core_read.h>

#include "gtpu_xdp.h"

#define AF_INET 2
#define AF_INET6 10

#define GTPU_GPDU 255
#define EXT_PDU_SESSION 0x85

/* The tunnel table (gtpu_xdp.h): tbuckets buckets, the loader sets both;
 * the control thread writes it through mmap. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1024);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct xdp_tbucket);
} tunnels SEC(".maps");
const volatile __u32 tbuckets = 1024;

/* Not used here: an update of a map of maps returns once every run of the
 * program that began before it has ended (the kernel waits for an RCU grace
 * period), which is when the control thread may reuse a removed entry. */
struct grace_inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} grace_inner SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, struct grace_inner);
} grace SEC(".maps") = { .values = { [0] = &grace_inner } };

/* Peers and their counters by slot: array lookups, which the verifier
 * inlines (a hash lookup is a call, a hash and a compare). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XDP_MAX_PEERS);
	__type(key, __u32);
	__type(value, struct xdp_peer);
} peers SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XDP_MAX_PEERS);
	__type(key, struct xdp_paddr);
	__type(value, __u32);
} paddr SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct xdp_local);
	__type(value, __u8);
} locals SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u32);
} txports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xdp_gstats);
} gstats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XDP_MAX_PEERS);
	__type(key, __u32);
	__type(value, struct xdp_ctr);
} pctr SEC(".maps");

/* What the outer header told: where the UDP header is, and the addresses. */
struct pkt {
	struct udphdr *udp;
	__u8 *gtp;
	__u32 gtp_len;           /* the UDP payload */
	__u8 family;
	__u8 *saddr, *daddr;     /* in the packet */
	__u16 ip_len;            /* for the route lookup's MTU check */
};

static __always_inline void count_passed(void)
{
	__u32 k = 0;
	struct xdp_gstats *g = bpf_map_lookup_elem(&gstats, &k);

	if (g)
		g->passed++;
}

static __always_inline __u16 csum_fold(__u64 s)
{
	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u16)s;
}

/* The IPv4 header's checksum over its 20 octets (no options here). */
static __always_inline __u16 ip4_csum(const struct iphdr *ip)
{
	const __u16 *w = (const __u16 *)ip;
	__u64 s = 0;

#pragma unroll
	for (int i = 0; i < 10; i++)
		s += w[i];
	return ~csum_fold(s) & 0xffff;
}

static __always_inline bool is_local(__u8 family, const __u8 *addr, __be16 port)
{
	struct xdp_local k = { .family = family, .port = port };

	if (family == AF_INET)
		__builtin_memcpy(k.addr, addr, 4);
	else
		__builtin_memcpy(k.addr, addr, 16);
	return bpf_map_lookup_elem(&locals, &k) != NULL;
}

static __always_inline bool same_addr(__u8 family, const __u8 *a, const __u8 *b)
{
	const __u32 *x = (const __u32 *)a, *y = (const __u32 *)b;

	if (family == AF_INET)
		return x[0] == y[0];
	return ((x[0] ^ y[0]) | (x[1] ^ y[1]) | (x[2] ^ y[2]) | (x[3] ^ y[3])) == 0;
}

static __always_inline int parse_ip4(void *data, void *end, struct pkt *p)
{
	struct iphdr *ip = data + sizeof(struct ethhdr);
	struct udphdr *udp = (void *)(ip + 1);
	__u16 tot;

	if ((void *)(udp + 1) > end)
		return -1;
	/* Options, fragments, a bad header checksum: the stack's business. */
	if (ip->ihl != 5 || ip->version != 4 || ip->protocol != IPPROTO_UDP ||
	    (ip->frag_off & bpf_htons(0x3fff)) || ip4_csum(ip) != 0)
		return -1;
	tot = bpf_ntohs(ip->tot_len);
	/* Ethernet may pad a short frame: the IP length is the truth. */
	if (tot < 28 || (void *)ip + tot > end || bpf_ntohs(udp->len) != tot - 20)
		return -1;
	p->udp = udp;
	p->gtp = (__u8 *)(udp + 1);
	p->gtp_len = tot - 28;
	p->family = AF_INET;
	p->saddr = (__u8 *)&ip->saddr;
	p->daddr = (__u8 *)&ip->daddr;
	p->ip_len = tot;
	return 0;
}

static __always_inline int parse_ip6(void *data, void *end, struct pkt *p)
{
	struct ipv6hdr *ip = data + sizeof(struct ethhdr);
	struct udphdr *udp = (void *)(ip + 1);
	__u16 pl;

	if ((void *)(udp + 1) > end)
		return -1;
	/* Extension headers (a fragment header among them): passed up. A
	 * zero UDP checksum is not valid over IPv6 (RFC 8200 8.1). */
	if (ip->version != 6 || ip->nexthdr != IPPROTO_UDP || !udp->check)
		return -1;
	pl = bpf_ntohs(ip->payload_len);
	if (pl < 8 || (void *)(udp) + pl > end || bpf_ntohs(udp->len) != pl)
		return -1;
	p->udp = udp;
	p->gtp = (__u8 *)(udp + 1);
	p->gtp_len = pl - 8;
	p->family = AF_INET6;
	p->saddr = (__u8 *)&ip->saddr;
	p->daddr = (__u8 *)&ip->daddr;
	p->ip_len = pl + 40;
	return 0;
}

/* A PDU Session Container the codec accepts (gtpu.c, pdu_session): the
 * octets its flags announce fit in its size. */
static __always_inline bool pdu_session_ok(const __u8 *x, __u32 size)
{
	__u32 o1 = x[1], o2 = x[2], need = 4;

	if ((o1 >> 4) == 0)
		need += (o2 >> 7) + ((o1 >> 3) & 1) * 8 + ((o1 >> 2) & 1) * 3 + ((o1 >> 1) & 1) * 4;
	else if ((o1 >> 4) == 1)
		need += ((o1 >> 3) & 1) * 24 + ((o1 >> 2) & 1) * 4 + ((o1 >> 1) & 1) * 4 +
			(o1 & 1) * 3 + (o2 >> 7) * 4 + ((o2 >> 6) & 1);
	else
		return false;
	return need <= size;
}

/* A G-PDU that the sockets would relay unchanged but for its TEID:
 * version 1, PT 1, Length exact, every extension header kept by a relay
 * (class 00 or 10 and not one the codec decodes, or a valid PDU Session
 * Container), at most XDP_GTPU_MAX_EXT of them. Returns -1 for any other
 * message, else the QFI of its (last) PDU Session Container plus 1, 0
 * without one (as the codec's pdu_session leaves it). */
static __always_inline int gtpu_check(__u8 *g, void *end, __u32 len)
{
	__u32 off = 12, next;
	int qfi = 0;

	if ((void *)(g + 8) > end || len < 8)
		return -1;
	/* End Markers go by the sockets: never ahead of the G-PDUs before
	 * them that the sockets relay. */
	if ((g[0] & 0xf0) != 0x30 || g[1] != GTPU_GPDU)
		return -1;
	if (((__u32)g[2] << 8 | g[3]) + 8 != len)
		return -1;
	if (!(g[0] & 0x07))
		return 0;
	if (len < 12 || (void *)(g + 12) > end)
		return -1;
	if (!(g[0] & 0x04))
		return 0;
	next = g[11];
#pragma unroll
	for (int i = 0; i < XDP_GTPU_MAX_EXT; i++) {
		__u8 *x;
		__u32 n4;

		if (!next)
			return qfi;
		switch (next) {
		case EXT_PDU_SESSION:
			break;
		case 0x20: case 0x40: case 0x81: case 0x82: case 0x84: case 0xc0:
			return -1;      /* decoded and checked by the codec: passed up */
		default:
			/* Class 01 is removed by a relay, 11 unknown is refused. */
			if ((next >> 6) == 1 || (next >> 6) == 3)
				return -1;
		}
		if (off >= len || off > 1024)
			return -1;
		x = g + off;
		if ((void *)(x + 4) > end)
			return -1;
		n4 = x[0];
		if (!n4 || off + n4 * 4 > len)
			return -1;
		if (next == EXT_PDU_SESSION) {
			if (!pdu_session_ok(x, n4 * 4))
				return -1;
			qfi = (x[2] & 0x3f) + 1;
		}
		off += n4 * 4;
		if (off > 1024 || (void *)(g + off) > end)
			return -1;
		next = *(g + off - 1);
	}
	return next ? -1 : qfi;
}

/* The route towards the next peer, from the address gtpud sends from. */
static __always_inline int fib(struct xdp_md *ctx, const struct xdp_peer *to,
			       struct bpf_fib_lookup *f, __u16 ip_len)
{
	__builtin_memset(f, 0, sizeof(*f));
	f->family = to->family;
	f->l4_protocol = IPPROTO_UDP;
	f->sport = to->sport;
	f->dport = to->port;
	f->tot_len = ip_len;
	f->ifindex = to->oif;
	if (to->family == AF_INET) {
		__builtin_memcpy(&f->ipv4_src, to->src, 4);
		__builtin_memcpy(&f->ipv4_dst, to->addr, 4);
	} else {
		__builtin_memcpy(f->ipv6_src, to->src, 16);
		__builtin_memcpy(f->ipv6_dst, to->addr, 16);
	}
	/* As the host sends, not as a router forwards: no ip_forward needed. */
	return bpf_fib_lookup(ctx, f, sizeof(*f), BPF_FIB_LOOKUP_OUTPUT);
}

/* Old and new values of what the UDP checksum covers and a relay changes,
 * as 32-bit words for bpf_csum_diff. */
struct csum_words {
	__u32 w[10];
};

static __always_inline void rewrite(struct pkt *p, void *data, const struct xdp_tunnel *t,
				    const struct xdp_peer *to, const struct bpf_fib_lookup *f)
{
	struct ethhdr *eth = data;
	struct csum_words o = {}, n = {};
	__u32 alen = p->family == AF_INET ? 4 : 16, nw = alen / 2 + 2;
	__be32 teid = bpf_htonl(t->to_teid);
	__u16 old = p->udp->check;
	__s64 d;

	if (p->family == AF_INET)
		__builtin_memcpy(o.w, p->saddr, 8);
	else
		__builtin_memcpy(o.w, p->saddr, 32);
	o.w[nw - 2] = *(__u32 *)p->udp;
	o.w[nw - 1] = *(__u32 *)(p->gtp + 4);
	if (p->family == AF_INET) {
		__builtin_memcpy(p->saddr, to->src, 4);
		__builtin_memcpy(p->daddr, to->addr, 4);
	} else {
		__builtin_memcpy(p->saddr, to->src, 16);
		__builtin_memcpy(p->daddr, to->addr, 16);
	}
	p->udp->source = to->sport;
	p->udp->dest = to->port;
	*(__be32 *)(p->gtp + 4) = teid;
	if (p->family == AF_INET)
		__builtin_memcpy(n.w, p->saddr, 8);
	else
		__builtin_memcpy(n.w, p->saddr, 32);
	n.w[nw - 2] = *(__u32 *)p->udp;
	n.w[nw - 1] = teid;
	/* No checksum over IPv4 stays none; a computed 0 is sent as 0xffff. */
	if (p->family == AF_INET6 || old) {
		d = bpf_csum_diff(o.w, nw * 4, n.w, nw * 4, (__u16)~old);
		if (d >= 0) {
			__u16 c = ~csum_fold((__u64)d);
			p->udp->check = c ? c : 0xffff;
		}
	}
	if (p->family == AF_INET) {
		struct iphdr *ip = data + sizeof(*eth);

		ip->ttl = XDP_GTPU_TTL;
		ip->check = 0;
		ip->check = ip4_csum(ip);
	} else {
		struct ipv6hdr *ip = data + sizeof(*eth);

		ip->hop_limit = XDP_GTPU_TTL;
	}
	__builtin_memcpy(eth->h_dest, f->dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, f->smac, ETH_ALEN);
}

/* teid's live entry, its fields as the control thread wrote them before
 * it made the entry live; NULL: none. */
static __always_inline struct xdp_tunnel *tunnel_find(__u32 teid)
{
	__u32 k = xdp_teid_home(teid, tbuckets);

	for (int i = 0; i < XDP_TUNNEL_PROBE; i++, k = k + 1 < tbuckets ? k + 1 : 0) {
		struct xdp_tbucket *b = bpf_map_lookup_elem(&tunnels, &k);

		if (!b)
			return NULL;
		/* The state first, the rest after it: x86 keeps loads in
		 * order. (A CPU that does not would need a load-acquire here,
		 * which clang 14 cannot emit for BPF; the control thread's
		 * side is release stores, xdp_table.c.) */
		for (int j = 0; j < 2; j++)
			if (*(volatile __u8 *)&b->e[j].state == XDP_TENT_LIVE && b->e[j].teid == teid)
				return &b->e[j];
		if (!b->e[0].overflow)
			return NULL;
	}
	return NULL;
}

/* Counted as the sockets count: received from fp (XDP_ANY_PEER: from no
 * peer), sent to tp, on the tunnel, in all. */
static __always_inline void count(const struct pkt *p, struct xdp_tunnel *t, __u32 fp, __u32 tp)
{
	__u32 k = 0;
	struct xdp_gstats *g = bpf_map_lookup_elem(&gstats, &k);
	struct xdp_ctr *c;

	if (g) {
		g->fwd_pkts++;
		g->fwd_bytes += p->gtp_len;
	}
	__sync_fetch_and_add(&t->pkts, 1);
	__sync_fetch_and_add(&t->bytes, p->gtp_len);
	if (fp != XDP_ANY_PEER && (c = bpf_map_lookup_elem(&pctr, &fp))) {
		c->rx_pkts++;
		c->rx_bytes += p->gtp_len;
	}
	if ((c = bpf_map_lookup_elem(&pctr, &tp))) {
		c->tx_pkts++;
		c->tx_bytes += p->gtp_len;
	}
}

SEC("xdp")
int gtpu_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct bpf_fib_lookup f;
	struct xdp_tunnel *t;
	const struct xdp_peer *from, *to;
	struct pkt p;
	__u32 teid, fp, tp;
	int r, qfi;

	if ((void *)(eth + 1) > end)
		return XDP_PASS;
	if (eth->h_proto == bpf_htons(ETH_P_IP))
		r = parse_ip4(data, end, &p);
	else if (eth->h_proto == bpf_htons(ETH_P_IPV6))
		r = parse_ip6(data, end, &p);
	else
		return XDP_PASS;
	if (r < 0 || !is_local(p.family, p.daddr, p.udp->dest))
		return XDP_PASS;
	/* From here on the datagram is gtpud's: relayed here or counted
	 * as passed to the sockets. */
	if ((qfi = gtpu_check(p.gtp, end, p.gtp_len)) < 0)
		goto pass;
	teid = bpf_ntohl(*(__be32 *)(p.gtp + 4));
	if (!(t = tunnel_find(teid)))
		goto pass;
	/* An uplink PDR's QFI (PFCP), not carried: the sockets drop it
	 * (qfi_mismatch). */
	if (t->ul_qfi && t->ul_qfi != qfi)
		goto pass;
	fp = t->from_peer;
	tp = t->to_peer;
	/* The next peer reachable, on the packet's family. */
	if (!(to = bpf_map_lookup_elem(&peers, &tp)) || !(to->flags & XDP_PEER_TO) || to->family != p.family)
		goto pass;
	if (fp == XDP_ANY_PEER) {
		/* Any source (PFCP): a peer's datagrams are counted as its
		 * own; from its port while it is not up they go by the
		 * sockets, which bring it up (as dp.c's peer_seen); an address
		 * of no peer is counted to none. */
		struct xdp_paddr a = { .family = p.family };
		__u32 *sl;

		if (p.family == AF_INET)
			__builtin_memcpy(a.addr, p.saddr, 4);
		else
			__builtin_memcpy(a.addr, p.saddr, 16);
		if ((sl = bpf_map_lookup_elem(&paddr, &a))) {
			fp = *sl;
			if (!(from = bpf_map_lookup_elem(&peers, &fp)) ||
			    (!(from->flags & XDP_PEER_FROM) && p.udp->source == from->port))
				goto pass;
		}
	} else {
		/* The source peer, up (its traffic or Echo said so), of the
		 * family, and the packet from its address. */
		if (!(from = bpf_map_lookup_elem(&peers, &fp)) || !(from->flags & XDP_PEER_FROM) ||
		    from->family != p.family || !same_addr(p.family, p.saddr, from->addr))
			goto pass;
	}
	/* No neighbour entry yet, too big for the way out, no route: the
	 * sockets send it (and the kernel resolves or answers). */
	if (fib(ctx, to, &f, p.ip_len) != BPF_FIB_LKUP_RET_SUCCESS)
		goto pass;
	if (f.ifindex != ctx->ingress_ifindex && !bpf_map_lookup_elem(&txports, &f.ifindex))
		goto pass;
	rewrite(&p, data, t, to, &f);
	count(&p, t, fp, tp);
	if (f.ifindex == ctx->ingress_ifindex)
		return XDP_TX;
	return bpf_redirect_map(&txports, f.ifindex, 0);
pass:
	count_passed();
	return XDP_PASS;
}

/* Frames the program relayed (and counted) that the kernel then could not
 * send: a redirect refused at once (xdp_redirect_err: an interface that
 * takes no redirected frames, as a veth whose other end runs no XDP
 * program), refused at the flush of up to 16 frames (xdp_devmap_xmit: a
 * full transmit ring), or an XDP_TX lost (xdp_exception; veth's flush:
 * xdp_bulk_tx; other drivers count those in their own statistics). Counted
 * when the interface the frames came in by is one of gtpud's (txports
 * holds them) in gtpud's network namespace; the field offsets are the
 * running kernel's (CO-RE, from its BTF: without it the loader leaves these
 * programs out). */
struct ns_common___g {
	unsigned int inum;
} __attribute__((preserve_access_index));
struct net___g {
	struct ns_common___g ns;
} __attribute__((preserve_access_index));
struct net_device___g {
	int ifindex;
	struct {
		struct net___g *net;
	} nd_net;
} __attribute__((preserve_access_index));

const volatile __u32 netns_ino = 0;

/* The flush reports come every flush, mostly with nothing lost: that is
 * looked at before anything is read from the kernel. */
static __always_inline void count_txlost(const struct net_device___g *dev, int drops)
{
	__u32 ifi, k = 0;
	struct xdp_gstats *g;

	if (drops <= 0 || BPF_CORE_READ(dev, nd_net.net, ns.inum) != netns_ino)
		return;
	ifi = BPF_CORE_READ(dev, ifindex);
	if (bpf_map_lookup_elem(&txports, &ifi) && (g = bpf_map_lookup_elem(&gstats, &k)))
		g->tx_lost += (__u32)drops;
}

/* (dev, prog, target, err, map type, map id, index) */
SEC("raw_tp/xdp_redirect_err")
int gtpu_xdp_lost_redirect(struct bpf_raw_tracepoint_args *ctx)
{
	count_txlost((const struct net_device___g *)ctx->args[0], 1);
	return 0;
}

/* (from_dev, to_dev, sent, drops, err) */
SEC("raw_tp/xdp_devmap_xmit")
int gtpu_xdp_lost_flush(struct bpf_raw_tracepoint_args *ctx)
{
	count_txlost((const struct net_device___g *)ctx->args[0], (int)ctx->args[3]);
	return 0;
}

/* (dev, prog, action) */
SEC("raw_tp/xdp_exception")
int gtpu_xdp_lost_tx(struct bpf_raw_tracepoint_args *ctx)
{
	if (ctx->args[2] == XDP_TX)
		count_txlost((const struct net_device___g *)ctx->args[0], 1);
	return 0;
}

/* (dev, sent, drops, err) */
SEC("raw_tp/xdp_bulk_tx")
int gtpu_xdp_lost_tx_flush(struct bpf_raw_tracepoint_args *ctx)
{
	count_txlost((const struct net_device___g *)ctx->args[0], (int)ctx->args[2]);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
