/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the XDP program (gtpu_xdp.bpf.c) and its loader (xdp.c) share: the
 * keys and values of its maps. Addresses and ports in network order, TEIDs
 * in host order. */
#ifndef GTPUD_XDP_SHARED_H
#define GTPUD_XDP_SHARED_H

#include <linux/types.h>

#define XDP_GTPU_MAX_EXT 4        /* extension headers walked; more: passed up */
#define XDP_GTPU_TTL 64           /* as the sockets send (net.ipv4.ip_default_ttl) */

/* A peer, by its slot in the peers array (xdp.c gives each peer one, kept
 * across reloads while the peer is; a free slot has no flags). */
#define XDP_MAX_PEERS 16384
#define XDP_ANY_PEER 0xffff      /* from_peer of a tunnel matched on its TEID alone (PFCP) */
#define XDP_PEER_FROM 0x01        /* up: its G-PDUs may be relayed here */
#define XDP_PEER_TO 0x02          /* may be sent to (not down with on_down "drop") */
struct xdp_peer {
	__u8 family;              /* AF_INET or AF_INET6 */
	__u8 flags;
	__be16 port;              /* the peer's */
	__be16 sport;             /* ours, towards it */
	__u16 pad;
	__u32 oif;                /* the interface the route to it leaves by */
	__u8 addr[16];            /* the peer's */
	__u8 src[16];             /* ours, towards it (what the socket would send from) */
};

/* A relay tunnel, an entry of the tunnel table: open addressing over an
 * array of buckets of two entries, one cache line a bucket (the control
 * thread's side: src/xdp_table.h). A tunnel lives in the first bucket from
 * its home (xdp_teid_home) with room; a bucket's overflow mark says that a
 * lookup that has not found its TEID there must go on to the next one.
 * Only the relay tunnels xdp.c's relayable() takes are in the table. */
#define XDP_TUNNEL_PROBE 32       /* buckets a lookup walks at most */
enum { XDP_TENT_FREE, XDP_TENT_LIVE, XDP_TENT_DEAD };
struct xdp_tunnel {
	__u32 teid;               /* from.teid */
	__u8 state;               /* XDP_TENT_*: written last when it becomes live */
	__u8 overflow;            /* in a bucket's first entry: see above */
	__u16 from_peer;          /* peer slots */
	__u16 to_peer;
	__u8 ul_qfi;              /* the QFI a G-PDU must carry (a PDU Session Container's), plus 1; 0: any */
	__u8 pad;
	__u32 to_teid;
	/* Relayed here (received and sent alike), added atomically. */
	__u64 pkts, bytes;
};

struct xdp_tbucket {
	struct xdp_tunnel e[2];
};

/* The bucket a TEID's lookup starts at, of n (Fibonacci hashing, so that
 * TEIDs in sequence spread, then scaled to n without a division). */
static inline __u32 xdp_teid_home(__u32 teid, __u32 n)
{
	return (__u32)(((__u64)(__u32)(teid * 0x9e3779b1u) * n) >> 32);
}

/* A peer by its address (the first of the state's peers with it), for
 * the counts of a datagram on a tunnel that takes any source. */
struct xdp_paddr {
	__u8 family;
	__u8 pad[3];
	__u8 addr[16];
};

/* Addresses and ports gtpud listens on (wildcard listens: every address
 * of the host). */
struct xdp_local {
	__u8 family;
	__u8 pad;
	__be16 port;
	__u8 addr[16];
};

/* Per CPU. */
struct xdp_gstats {
	__u64 fwd_pkts, fwd_bytes;  /* relayed (bytes: UDP payload, as the sockets count) */
	__u64 passed;             /* GTP-U datagrams to gtpud handed to the sockets */
	/* Relayed (so counted in fwd_*), then not sent: the kernel's
	 * reports (gtpu_xdp_lost_*). */
	__u64 tx_lost;
};

struct xdp_ctr {
	__u64 rx_pkts, rx_bytes, tx_pkts, tx_bytes;
};

#endif
