/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The TUN device of endpoint tunnels: created or attached (one fd per queue),
 * then MTU, addresses and link state set through rtnetlink (libmnl). */
#ifndef GTPUD_TUN_H
#define GTPUD_TUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "inner.h"

#define TUN_MAX_QUEUES 64         /* = the most workers; the kernel allows 256 */

struct tun_dev {
	char name[16];            /* IFNAMSIZ: the kernel's name, also when cfg->name was a pattern */
	int ifindex;
	unsigned mtu;             /* as set by tun_open */
	bool created;             /* tun_open created it: tun_close deletes it */
	bool vnet_hdr;            /* every read and write starts with a struct tun_vnet (IFF_VNET_HDR) */
	unsigned offload;         /* TUN_F_* the kernel accepted: it may then hand over TCP super-packets */
	unsigned n_fds;
	int fds[TUN_MAX_QUEUES];  /* IFF_TUN | IFF_NO_PI, O_NONBLOCK | O_CLOEXEC; -1 when closed */
	unsigned n_addrs;
	struct conf_prefix addrs[CONF_MAX_TUN_ADDRS];  /* as configured */
};

/* The character device; tests point it elsewhere. */
extern const char *tun_dev_path;
/* Ask for IFF_VNET_HDR and TCP segmentation offload (TSO4/TSO6 with
 * partial checksums) in tun_open; true by default. The environment
 * variable GTPUD_TUN_OFFLOAD=0 also turns it off. When the kernel refuses
 * the offloads the device still works, with plain packets. */
extern bool tun_offload;

/* Create the device cfg->name, or attach to an existing TUN device of that
 * name, with n_queues fds (IFF_MULTI_QUEUE when n_queues > 1); then set the
 * MTU, add every address of cfg (an existing one is fine; IPv6 without DAD)
 * and bring the link up. Returns 0, or -errno with a sentence in err (e.g.
 * "TUNSETIFF gtp0: Operation not permitted (needs CAP_NET_ADMIN)"); on
 * error nothing is left behind (a device it created is deleted). */
int tun_open(const struct conf_tun *cfg, unsigned n_queues, struct tun_dev *t,
	     char *err, size_t errlen);

/* Apply cfg's MTU and addresses to an open device and bring it up (done by
 * tun_open; also for a reload). Addresses no longer configured stay. Waits
 * (at most 1 s) until the kernel announces each IPv6 address it added, so
 * packets to them are delivered when this returns. */
int tun_configure(struct tun_dev *t, const struct conf_tun *cfg, char *err, size_t errlen);

/* Close the fds, and delete the link (RTM_DELLINK) when tun_open created it.
 * Safe on a zeroed or already closed struct. */
void tun_close(struct tun_dev *t);

/* State of a link by name, read through rtnetlink (RTM_GETLINK). */
struct tun_link {
	int ifindex;
	unsigned mtu;
	unsigned flags;           /* IFF_UP, IFF_RUNNING... */
};
int tun_link_get(const char *name, struct tun_link *l);

/* The first configured address of family (AF_INET: 4 bytes, AF_INET6: 16)
 * into addr, the source of ICMP errors written into the device. -ENOENT when
 * the device has none of that family. */
int tun_first_addr(const struct tun_dev *t, int family, uint8_t *addr);

/* ---- Offloads: the virtio-net header and TCP segmentation ----
 * With IFF_VNET_HDR each packet read or written is preceded by this header
 * (struct virtio_net_hdr, native byte order on a little-endian host). Read
 * from the device, a TCP packet may be a super-packet of up to 64 KB to be
 * cut into gso_size segments; a packet with NEEDS_CSUM carries only the
 * pseudo-header sum in its L4 checksum. Written to the device, consecutive
 * TCP segments of one flow may be merged into such a super-packet. */
#define TUN_VNET_LEN 10
#define TUN_GSO_MAX 65535         /* largest super-packet (IP total length) */

struct tun_vnet {
	uint8_t flags;            /* VIRTIO_NET_HDR_F_* */
	uint8_t gso_type;         /* VIRTIO_NET_HDR_GSO_* */
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
};

/* Complete a partial checksum (VIRTIO_NET_HDR_F_NEEDS_CSUM) of the packet
 * pkt of len bytes in place: the sum from csum_start to the end, folded and
 * inverted, into csum_start + csum_offset. Returns 0, or -EINVAL when the
 * offsets lie outside the packet; without NEEDS_CSUM nothing is done. */
int tun_csum_complete(uint8_t *pkt, size_t len, const struct tun_vnet *v);

/* Cutting a TCP super-packet read from the device into segments. */
struct tun_seg {
	const uint8_t *pkt;       /* the super-packet: IP header, TCP header, payload */
	uint32_t len;
	int family;               /* AF_INET or AF_INET6 */
	uint32_t l4_off;          /* TCP header offset */
	uint32_t hlen;            /* IP + TCP header length, copied in front of each segment */
	uint32_t mss;             /* payload bytes per segment (the last may hold fewer) */
	uint32_t off;             /* payload offset of the next segment */
	unsigned i, n;            /* next segment, number of segments */
};

/* Prepare to cut pkt (len bytes, valid per inner_parse as ip) by v. Returns
 * the number of segments (1 when v asks for no segmentation: the packet is
 * then completed with tun_csum_complete and used as it is), or -EINVAL for a
 * header that does not describe a TCP packet of ip's family (gso_type,
 * gso_size 0, a fragment, a TCP header past the packet), or
 * -EPROTONOSUPPORT for a GSO type other than TCPV4/TCPV6. */
int tun_seg_init(struct tun_seg *g, const uint8_t *pkt, size_t len, const struct inner_pkt *ip,
		 const struct tun_vnet *v);

/* Write the next segment into out (cap bytes): a complete IP packet with
 * its total length, IPv4 ID (+i) and header checksum, TCP sequence number,
 * flags (CWR on the first only, FIN and PSH on the last only) and TCP
 * checksum set. Returns its length, or 0 after the last or when cap is too
 * small. */
size_t tun_seg_next(struct tun_seg *g, uint8_t *out, size_t cap);

/* Merging TCP segments of one flow into a super-packet for the device. buf
 * (at least TUN_VNET_LEN + TUN_GSO_MAX bytes) holds the header then the
 * packet being built. */
struct tun_coal {
	uint8_t *buf;
	uint32_t len;             /* IP packet length so far; 0 when empty */
	unsigned n;               /* packets merged */
	int family;
	uint32_t l4_off, hlen;
	uint32_t mss;             /* payload of the first: each following one at most this */
	uint32_t next_seq;
	bool closed;              /* a shorter segment or PSH came: nothing may follow */
};

/* Append the valid inner packet pkt (ip as inner_parse gave it, ip->len
 * bytes) when it continues the flow in c, or start c with it when c is
 * empty. A packet that cannot be merged (not TCP, SYN/FIN/RST/URG, no
 * payload, IP options or IPv6 extension headers, a bad TCP checksum, a
 * different flow, header or sequence number) returns false and leaves c
 * alone: the caller writes c out (tun_coal_finish) and the packet alone. */
bool tun_coal_add(struct tun_coal *c, const uint8_t *pkt, const struct inner_pkt *ip);

/* Finish c: with one packet, a zero header in front of it; with several,
 * fix the IP length (and IPv4 header checksum), put the pseudo-header sum in
 * the TCP checksum and a TCPV4/TCPV6 header with NEEDS_CSUM in front.
 * Returns the bytes to write from c->buf (header included), 0 when empty,
 * and empties c. *n_pkts gets the number of packets it holds. */
size_t tun_coal_finish(struct tun_coal *c, unsigned *n_pkts);

#endif
