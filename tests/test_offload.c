/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of the TUN offload helpers (tun.c): completion of partial
 * checksums (checked against tests/csum_ref.h), cutting TCP
 * super-packets into segments, merging segments back, and a real device
 * opened with IFF_VNET_HDR (as root, in a network namespace of its own). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/virtio_net.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "csum_ref.h"
#include "tun.h"

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

/* Sum of the pseudo-header of the L4 part of pkt (IPv4 or IPv6, l4 at off). */
static uint64_t ref_pseudo(const uint8_t *pkt, size_t off, size_t l4len, uint8_t proto)
{
	uint64_t s = proto + l4len;

	if (pkt[0] >> 4 == 4)
		return s + ref_sum(pkt + 12, 8, 0);
	return s + ref_sum(pkt + 8, 32, 0);
	(void)off;
}

/* True when the L4 checksum of pkt (len bytes, L4 at off) verifies. */
static bool l4_ok(const uint8_t *pkt, size_t len, size_t off, uint8_t proto)
{
	return ref_sum(pkt + off, len - off, ref_pseudo(pkt, off, len - off, proto)) == 0xffff;
}

static bool ip4_hdr_ok(const uint8_t *pkt)
{
	return ref_sum(pkt, (size_t)(pkt[0] & 15) * 4, 0) == 0xffff;
}

/* ---- building packets ---- */

struct flow {
	int family;
	uint16_t sport;
	uint32_t seq;
	uint32_t ack;
	uint8_t flags;            /* TCP flags */
	uint8_t opt_len;          /* TCP options (NOPs then a timestamp-like pattern) */
	uint8_t ttl;
	uint16_t win;
};

#define ACK 0x10
#define PSH 0x08
#define FIN 0x01
#define SYN 0x02
#define CWR 0x80

/* A valid TCP packet of flow f with pay bytes of payload starting at
 * payload offset po (byte k of the stream is (k * 7) & 0xff); IPv4 ID id.
 * Returns its length. */
static size_t mk_tcp(uint8_t *p, const struct flow *f, size_t pay, size_t po, uint16_t id)
{
	size_t ihl = f->family == AF_INET ? 20 : 40, thl = 20 + f->opt_len, n = ihl + thl + pay;
	uint8_t *th = p + ihl;

	memset(p, 0, ihl + thl);
	if (f->family == AF_INET) {
		p[0] = 0x45;
		put16(p + 2, (uint16_t)n);
		put16(p + 4, id);
		put16(p + 6, 0x4000);
		p[8] = f->ttl ? f->ttl : 64;
		p[9] = IPPROTO_TCP;
		inet_pton(AF_INET, "198.51.100.2", p + 12);
		inet_pton(AF_INET, "203.0.113.10", p + 16);
		put16(p + 10, (uint16_t)~ref_sum(p, 20, 0));
	} else {
		p[0] = 0x60;
		put16(p + 4, (uint16_t)(n - 40));
		p[6] = IPPROTO_TCP;
		p[7] = f->ttl ? f->ttl : 64;
		inet_pton(AF_INET6, "2001:db8:100::2", p + 8);
		inet_pton(AF_INET6, "2001:db8:203::10", p + 24);
	}
	put16(th, f->sport);
	put16(th + 2, 5201);
	put32(th + 4, f->seq + (uint32_t)po);
	put32(th + 8, f->ack);
	th[12] = (uint8_t)((thl / 4) << 4);
	th[13] = f->flags;
	put16(th + 14, f->win ? f->win : 512);
	for (size_t i = 0; i < f->opt_len; i++)
		th[20 + i] = i < 2 ? 1 : (uint8_t)(0x40 + i);
	for (size_t i = 0; i < pay; i++)
		th[thl + i] = (uint8_t)((po + i) * 7);
	put16(th + 16, (uint16_t)~ref_sum(th, thl + pay, ref_pseudo(p, ihl, thl + pay, IPPROTO_TCP)));
	return n;
}

static struct inner_pkt parsed(const uint8_t *p, size_t len)
{
	struct inner_pkt ip;

	assert_int_equal(inner_parse(p, len, &ip), INNER_OK);
	return ip;
}

/* ---- completing partial checksums ---- */

static void test_csum_complete(void **state)
{
	static uint8_t p[2000];
	const struct flow f = { AF_INET, 40000, 1000, 1, ACK, 12, 0, 0 };
	size_t n = mk_tcp(p, &f, 1000, 0, 1);
	uint16_t good = get16(p + 20 + 16);
	struct tun_vnet v = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .csum_start = 20, .csum_offset = 16 };
	struct { struct tun_vnet v; size_t len; int ret; } bad[] = {
		{ { VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 0, 2000, 16 }, 1052, -EINVAL },  /* start past the end */
		{ { VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 0, 20, 1031 }, 1052, -EINVAL },  /* field past the end */
		{ { VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 0, 20, 16 }, 35, -EINVAL },      /* field cut short */
	};

	(void)state;
	assert_int_equal(n, 20 + 32 + 1000);
	/* As the device hands it over: the pseudo-header sum, not inverted. */
	put16(p + 36, ref_sum(NULL, 0, ref_pseudo(p, 20, n - 20, IPPROTO_TCP)));
	assert_int_equal(tun_csum_complete(p, n, &v), 0);
	assert_int_equal(get16(p + 36), good);
	assert_true(l4_ok(p, n, 20, IPPROTO_TCP));
	/* Without NEEDS_CSUM nothing is touched. */
	put16(p + 36, 0xbeef);
	v.flags = 0;
	assert_int_equal(tun_csum_complete(p, n, &v), 0);
	assert_int_equal(get16(p + 36), 0xbeef);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(tun_csum_complete(p, bad[i].len, &bad[i].v), bad[i].ret);
		assert_int_equal(get16(p + 36), 0xbeef);
	}
}

/* ---- cutting super-packets ---- */

struct seg_row {
	const char *name;
	int family;
	size_t pay;
	uint16_t mss;
	uint8_t flags;
	uint8_t opt_len;
	unsigned n;
};

static void check_segments(const struct seg_row *r, const uint8_t *super, size_t len)
{
	const struct flow f = { r->family, 40000, 0xfffff000u, 77, r->flags, r->opt_len, 0, 0 };
	size_t ihl = r->family == AF_INET ? 20 : 40, hlen = ihl + 20 + r->opt_len, got = 0;
	struct tun_vnet v = { VIRTIO_NET_HDR_F_NEEDS_CSUM,
			      r->family == AF_INET ? VIRTIO_NET_HDR_GSO_TCPV4 : VIRTIO_NET_HDR_GSO_TCPV6,
			      (uint16_t)hlen, r->mss, (uint16_t)ihl, 16 };
	struct inner_pkt ip = parsed(super, len);
	static uint8_t seg[70000], want[70000];
	struct tun_seg g;
	size_t n;
	unsigned i = 0;

	print_message("# %s\n", r->name);
	assert_int_equal(tun_seg_init(&g, super, len, &ip, &v), (int)r->n);
	while ((n = tun_seg_next(&g, seg, sizeof(seg)))) {
		size_t pay = n - hlen;
		uint8_t fl = r->flags;
		struct flow fi = f;

		assert_true(i < r->n);
		assert_true(pay <= r->mss);
		assert_true(i + 1 == r->n || pay == r->mss);
		if (i)
			fl &= (uint8_t)~CWR;
		if (i + 1 < r->n)
			fl &= (uint8_t)~(FIN | PSH);
		fi.flags = fl;
		/* Byte for byte what a sender would have sent as segment i,
		 * sequence number wrapping past 2^32 included. */
		assert_int_equal(mk_tcp(want, &fi, pay, got, (uint16_t)(0xfffe + i)), n);
		assert_memory_equal(seg, want, n);
		if (r->family == AF_INET)
			assert_true(ip4_hdr_ok(seg));
		assert_true(l4_ok(seg, n, ihl, IPPROTO_TCP));
		assert_int_equal(get32(seg + ihl + 4), (uint32_t)(f.seq + got));
		got += pay;
		i++;
	}
	assert_int_equal(i, r->n);
	assert_int_equal(got, r->pay);
	assert_int_equal(tun_seg_next(&g, seg, sizeof(seg)), 0);
}

static void test_segment(void **state)
{
	static const struct seg_row rows[] = {
		{ "IPv4, 64000 bytes by 1348, PSH on the last", AF_INET, 64000, 1348, ACK | PSH, 12, 48 },
		{ "IPv4, exact multiple, FIN and PSH on the last, CWR on the first", AF_INET, 4000, 1000,
		  ACK | PSH | FIN | CWR, 0, 4 },
		{ "IPv6, 65000 bytes by 1328", AF_INET6, 65000, 1328, ACK, 12, 49 },
		{ "IPv6, one byte over a segment", AF_INET6, 1329, 1328, ACK | PSH, 0, 2 },
		{ "IPv4, smaller than one segment", AF_INET, 500, 1348, ACK | PSH, 12, 1 },
		{ "IPv4, odd segment size", AF_INET, 10001, 999, ACK, 4, 11 },
		{ "IPv4, tiny segments", AF_INET, 3000, 88, ACK, 12, 35 },
	};
	static uint8_t super[70000];

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct seg_row *r = &rows[i];
		const struct flow f = { r->family, 40000, 0xfffff000u, 77, r->flags, r->opt_len, 0, 0 };
		size_t len = mk_tcp(super, &f, r->pay, 0, 0xfffe);

		/* The device leaves only the pseudo-header sum: it is not
		 * read, each segment's checksum is computed afresh. */
		put16(super + (r->family == AF_INET ? 20 : 40) + 16, 0x1234);
		check_segments(r, super, len);
	}
}

static void test_segment_refused(void **state)
{
	static uint8_t p[3000], out[3000];
	const struct flow f4 = { AF_INET, 40000, 1, 1, ACK, 0, 0, 0 };
	const struct flow f6 = { AF_INET6, 40000, 1, 1, ACK, 0, 0, 0 };
	struct { const char *name; bool v6; struct tun_vnet v; int ret; } rows[] = {
		{ "TCPV6 on an IPv4 packet", false, { 1, VIRTIO_NET_HDR_GSO_TCPV6, 40, 1000, 20, 16 }, -EINVAL },
		{ "TCPV4 on an IPv6 packet", true, { 1, VIRTIO_NET_HDR_GSO_TCPV4, 60, 1000, 40, 16 }, -EINVAL },
		{ "gso_size 0", false, { 1, VIRTIO_NET_HDR_GSO_TCPV4, 40, 0, 20, 16 }, -EINVAL },
		{ "UFO", false, { 1, VIRTIO_NET_HDR_GSO_UDP, 28, 1000, 20, 6 }, -EPROTONOSUPPORT },
		{ "USO (UDP_L4)", false, { 1, 5, 28, 1000, 20, 6 }, -EPROTONOSUPPORT },
		{ "no GSO: one packet", false, { 0, VIRTIO_NET_HDR_GSO_NONE, 0, 0, 0, 0 }, 1 },
		{ "ECN bit with TCPV4", false, { 1, VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN, 40, 1000, 20, 16 }, 3 },
	};
	struct inner_pkt ip;
	struct tun_seg g;
	size_t len;

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		print_message("# %s\n", rows[i].name);
		len = mk_tcp(p, rows[i].v6 ? &f6 : &f4, 2500, 0, 1);
		ip = parsed(p, len);
		assert_int_equal(tun_seg_init(&g, p, len, &ip, &rows[i].v), rows[i].ret);
	}
	/* A UDP packet announced as TCP. */
	len = mk_tcp(p, &f4, 2500, 0, 1);
	p[9] = IPPROTO_UDP;
	put16(p + 10, 0);
	put16(p + 10, (uint16_t)~ref_sum(p, 20, 0));
	ip = parsed(p, len);
	assert_int_equal(tun_seg_init(&g, p, len, &ip,
		&(struct tun_vnet){ 1, VIRTIO_NET_HDR_GSO_TCPV4, 40, 1000, 20, 16 }), -EINVAL);
	/* A TCP header length past the packet. */
	len = mk_tcp(p, &f4, 0, 0, 1);
	p[32] = 0xf0;
	ip = parsed(p, len);
	assert_int_equal(tun_seg_init(&g, p, len, &ip,
		&(struct tun_vnet){ 1, VIRTIO_NET_HDR_GSO_TCPV4, 40, 1000, 20, 16 }), -EINVAL);
	/* Too small an output buffer: nothing written, nothing consumed. */
	len = mk_tcp(p, &f4, 2500, 0, 1);
	ip = parsed(p, len);
	assert_int_equal(tun_seg_init(&g, p, len, &ip,
		&(struct tun_vnet){ 1, VIRTIO_NET_HDR_GSO_TCPV4, 40, 1000, 20, 16 }), 3);
	assert_int_equal(tun_seg_next(&g, out, 1039), 0);
	assert_int_equal(tun_seg_next(&g, out, 1040), 1040);
	assert_int_equal(g.i, 1);
}

/* ---- merging segments ---- */

static uint8_t coal_buf[TUN_VNET_LEN + TUN_GSO_MAX];

/* Cut a super-packet into segments, merge them, and cut the merged one
 * again: the same segments come out. */
static void test_merge_round_trip(void **state)
{
	static const struct seg_row rows[] = {
		{ "IPv4, 48 segments with timestamps", AF_INET, 64000, 1348, ACK | PSH, 12, 48 },
		{ "IPv6, 12 segments, last one short", AF_INET6, 15000, 1328, ACK, 12, 12 },
		{ "IPv4, 2 segments", AF_INET, 2000, 1000, ACK, 0, 2 },
	};
	static uint8_t super[70000], segs[64][1600], again[1600];
	size_t lens[64];

	(void)state;
	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		const struct seg_row *row = &rows[r];
		const struct flow f = { row->family, 40000, 5, 77, row->flags, row->opt_len, 0, 0 };
		size_t ihl = row->family == AF_INET ? 20 : 40, hlen = ihl + 20 + row->opt_len;
		struct tun_vnet v = { 1, row->family == AF_INET ? VIRTIO_NET_HDR_GSO_TCPV4 : VIRTIO_NET_HDR_GSO_TCPV6,
				      (uint16_t)hlen, row->mss, (uint16_t)ihl, 16 }, mv;
		size_t len = mk_tcp(super, &f, row->pay, 0, 100);
		struct inner_pkt ip = parsed(super, len);
		struct tun_coal c = { .buf = coal_buf };
		struct tun_seg g;
		unsigned n, k;
		size_t out;

		print_message("# %s\n", row->name);
		assert_int_equal(tun_seg_init(&g, super, len, &ip, &v), (int)row->n);
		for (k = 0; (lens[k] = tun_seg_next(&g, segs[k], sizeof(segs[k]))); k++) {
			struct inner_pkt sp = parsed(segs[k], lens[k]);

			assert_true(tun_coal_add(&c, segs[k], &sp));
		}
		assert_int_equal(k, row->n);
		assert_int_equal(c.n, row->n);
		out = tun_coal_finish(&c, &n);
		assert_int_equal(n, row->n);
		assert_int_equal(out, TUN_VNET_LEN + len);
		assert_int_equal(c.len, 0);
		memcpy(&mv, coal_buf, TUN_VNET_LEN);
		assert_int_equal(mv.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
		assert_int_equal(mv.gso_type, v.gso_type);
		assert_int_equal(mv.gso_size, row->mss);
		assert_int_equal(mv.hdr_len, hlen);
		assert_int_equal(mv.csum_start, ihl);
		assert_int_equal(mv.csum_offset, 16);
		/* The merged packet is the super-packet with the pseudo-header
		 * sum in its checksum field, and a valid IPv4 header. */
		assert_memory_equal(coal_buf + TUN_VNET_LEN, super, ihl + 16);
		assert_int_equal(get16(coal_buf + TUN_VNET_LEN + ihl + 16),
				 ref_sum(NULL, 0, ref_pseudo(super, ihl, len - ihl, IPPROTO_TCP)));
		assert_memory_equal(coal_buf + TUN_VNET_LEN + ihl + 18, super + ihl + 18, len - ihl - 18);
		if (row->family == AF_INET)
			assert_true(ip4_hdr_ok(coal_buf + TUN_VNET_LEN));
		ip = parsed(coal_buf + TUN_VNET_LEN, len);
		assert_int_equal(tun_seg_init(&g, coal_buf + TUN_VNET_LEN, len, &ip, &mv), (int)row->n);
		for (k = 0; k < row->n; k++) {
			assert_int_equal(tun_seg_next(&g, again, sizeof(again)), lens[k]);
			assert_memory_equal(again, segs[k], lens[k]);
		}
	}
}

struct refuse_row {
	const char *name;
	struct flow f;            /* the second packet's flow; the first is base */
	size_t pay;               /* payload of the second; it follows the first in sequence unless gap */
	uint32_t gap;
	void (*spoil)(uint8_t *p, size_t len);
};

static void spoil_sum(uint8_t *p, size_t len)
{
	p[len - 1] ^= 0x40;       /* payload damaged on the way */
}

static void spoil_ihl(uint8_t *p, size_t len)
{
	/* Not an option-free IPv4 header any more: IHL 6 with a NOP word. */
	memmove(p + 24, p + 20, len - 20);
	memset(p + 20, 1, 4);
	p[0] = 0x46;
	put16(p + 2, (uint16_t)(len + 4));
	put16(p + 10, 0);
	put16(p + 10, (uint16_t)~ref_sum(p, 24, 0));
}

static void spoil_opts(uint8_t *p, size_t len)
{
	/* Another timestamp: options differ, checksum kept valid. */
	p[20 + 20 + 11] ^= 1;
	put16(p + 36, 0);
	put16(p + 36, (uint16_t)~ref_sum(p + 20, len - 20, ref_pseudo(p, 20, len - 20, IPPROTO_TCP)));
}

static void test_merge_refused(void **state)
{
	const struct flow base = { AF_INET, 40000, 1000, 77, ACK, 12, 0, 0 };
	const struct refuse_row rows[] = {
		{ "another source port", { AF_INET, 40001, 1000, 77, ACK, 12, 0, 0 }, 1000, 0, NULL },
		{ "a sequence gap", base, 1000, 1, NULL },
		{ "a damaged payload (bad TCP checksum)", base, 1000, 0, spoil_sum },
		{ "SYN", { AF_INET, 40000, 1000, 77, ACK | SYN, 12, 0, 0 }, 1000, 0, NULL },
		{ "FIN", { AF_INET, 40000, 1000, 77, ACK | FIN, 12, 0, 0 }, 1000, 0, NULL },
		{ "CWR only on the second", { AF_INET, 40000, 1000, 77, ACK | CWR, 12, 0, 0 }, 1000, 0, NULL },
		{ "no payload (a pure ACK)", base, 0, 0, NULL },
		{ "more payload than the first", base, 1001, 0, NULL },
		{ "another ack number", { AF_INET, 40000, 1000, 78, ACK, 12, 0, 0 }, 1000, 0, NULL },
		{ "another window", { AF_INET, 40000, 1000, 77, ACK, 12, 0, 1024 }, 1000, 0, NULL },
		{ "another TTL", { AF_INET, 40000, 1000, 77, ACK, 12, 63, 0 }, 1000, 0, NULL },
		{ "other TCP options", base, 1000, 0, spoil_opts },
		{ "IPv4 options", base, 1000, 0, spoil_ihl },
		{ "IPv6 after IPv4", { AF_INET6, 40000, 1000, 77, ACK, 12, 0, 0 }, 1000, 0, NULL },
	};
	static uint8_t p[1600];

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct refuse_row *r = &rows[i];
		struct tun_coal c = { .buf = coal_buf };
		struct flow f = r->f;
		struct inner_pkt ip;
		size_t len;
		unsigned n;

		print_message("# refused: %s\n", r->name);
		len = mk_tcp(p, &base, 1000, 0, 1);
		ip = parsed(p, len);
		assert_true(tun_coal_add(&c, p, &ip));
		f.seq += r->gap;
		len = mk_tcp(p, &f, r->pay, 1000, 2);
		if (r->spoil) {
			r->spoil(p, len);
			len = get16(p + 2);
		}
		ip = parsed(p, len);
		assert_false(tun_coal_add(&c, p, &ip));
		assert_int_equal(c.n, 1);
		assert_int_equal(c.len, 20 + 32 + 1000);
		/* One packet: written as it came, behind a zero header. */
		assert_int_equal(tun_coal_finish(&c, &n), TUN_VNET_LEN + 20 + 32 + 1000);
		assert_int_equal(n, 1);
		assert_memory_equal(coal_buf, "\0\0\0\0\0\0\0\0\0\0", TUN_VNET_LEN);
		mk_tcp(p, &base, 1000, 0, 1);
		assert_memory_equal(coal_buf + TUN_VNET_LEN, p, 20 + 32 + 1000);
	}
}

static void test_merge_limits(void **state)
{
	struct flow f = { AF_INET, 40000, 1, 77, ACK, 0, 0, 0 };
	struct tun_coal c = { .buf = coal_buf };
	static uint8_t p[1600];
	struct inner_pkt ip;
	size_t len, off = 0;
	unsigned n, k;

	(void)state;
	/* Nothing to merge with, and not mergeable: c stays empty. */
	len = mk_tcp(p, &f, 0, 0, 1);
	ip = parsed(p, len);
	assert_false(tun_coal_add(&c, p, &ip));
	assert_int_equal(c.len, 0);
	assert_int_equal(tun_coal_finish(&c, &n), 0);
	assert_int_equal(n, 0);
	/* Nor is a first packet with a bad checksum taken. */
	len = mk_tcp(p, &f, 100, 0, 1);
	spoil_sum(p, len);
	ip = parsed(p, len);
	assert_false(tun_coal_add(&c, p, &ip));
	assert_int_equal(c.len, 0);
	/* 1460-byte segments up to the 65535-byte IPv4 limit: 44 fit. */
	for (k = 0; k < 50; k++, off += 1460) {
		len = mk_tcp(p, &f, 1460, off, (uint16_t)k);
		ip = parsed(p, len);
		if (!tun_coal_add(&c, p, &ip))
			break;
	}
	assert_int_equal(k, 44);
	assert_int_equal(c.len, 40 + 44 * 1460);
	tun_coal_finish(&c, &n);
	assert_int_equal(n, 44);
	/* After a shorter segment, or one with PSH, nothing more joins. */
	for (int psh = 0; psh < 2; psh++) {
		f.flags = ACK;
		len = mk_tcp(p, &f, 1000, 0, 1);
		ip = parsed(p, len);
		assert_true(tun_coal_add(&c, p, &ip));
		f.flags = psh ? ACK | PSH : ACK;
		len = mk_tcp(p, &f, psh ? 1000 : 999, 1000, 2);
		ip = parsed(p, len);
		assert_true(tun_coal_add(&c, p, &ip));
		f.flags = ACK;
		len = mk_tcp(p, &f, 1000, psh ? 2000 : 1999, 3);
		ip = parsed(p, len);
		assert_false(tun_coal_add(&c, p, &ip));
		assert_int_equal(c.n, 2);
		tun_coal_finish(&c, &n);
		/* PSH of the last is kept on the merged header. */
		assert_int_equal(coal_buf[TUN_VNET_LEN + 20 + 13], psh ? ACK | PSH : ACK);
	}
}

/* ---- a real device ---- */

/* In a child in its own network namespace: open with offloads, check what
 * the kernel granted, send a UDP datagram through the device and read it
 * with its header; complete the checksum if asked and verify it. Returns
 * 0 or the number of the step that failed. */
static int device_child(void)
{
	struct conf_tun c = { .present = true, .name = "gtpo0", .mtu = 1400, .n_addrs = 1 };
	struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons(9) };
	uint8_t buf[2048];
	struct tun_vnet v;
	struct tun_dev t;
	char err[256];
	int s;

	if (unshare(CLONE_NEWNET) < 0)
		return 1;
	inet_pton(AF_INET, "192.0.2.1", c.addrs[0].addr.addr);
	c.addrs[0].addr.family = AF_INET;
	c.addrs[0].plen = 24;
	setenv("GTPUD_TUN_OFFLOAD", "0", 1);
	if (tun_open(&c, 1, &t, err, sizeof(err)) < 0 || t.vnet_hdr || t.offload)
		return 2;
	tun_close(&t);
	unsetenv("GTPUD_TUN_OFFLOAD");
	if (tun_open(&c, 2, &t, err, sizeof(err)) < 0)
		return 3;
	if (!t.vnet_hdr || (t.offload & 7) != 7)  /* TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 */
		return 4;
	inet_pton(AF_INET, "192.0.2.2", &dst.sin_addr);
	s = socket(AF_INET, SOCK_DGRAM, 0);
	if (sendto(s, "offloaded", 9, 0, (struct sockaddr *)&dst, sizeof(dst)) != 9)
		return 5;
	close(s);
	for (int tries = 0; tries < 50; tries++) {
		struct pollfd pfd[2] = { { t.fds[0], POLLIN, 0 }, { t.fds[1], POLLIN, 0 } };
		ssize_t n;

		if (poll(pfd, 2, 2000) < 1)
			return 6;
		n = read(pfd[0].revents ? t.fds[0] : t.fds[1], buf, sizeof(buf));
		if (n < TUN_VNET_LEN + 20 || buf[TUN_VNET_LEN] != 0x45 || buf[TUN_VNET_LEN + 9] != IPPROTO_UDP)
			continue;
		memcpy(&v, buf, TUN_VNET_LEN);
		n -= TUN_VNET_LEN;
		if (v.gso_type != VIRTIO_NET_HDR_GSO_NONE || n != 20 + 8 + 9)
			return 7;
		if (tun_csum_complete(buf + TUN_VNET_LEN, (size_t)n, &v) < 0)
			return 8;
		if (!l4_ok(buf + TUN_VNET_LEN, (size_t)n, 20, IPPROTO_UDP))
			return 9;
		if (memcmp(buf + TUN_VNET_LEN + 28, "offloaded", 9))
			return 10;
		tun_close(&t);
		return 0;
	}
	return 11;
}

static void test_device(void **state)
{
	static const char *steps[] = { "ok", "unshare", "GTPUD_TUN_OFFLOAD=0 still gave a header",
		"tun_open", "no header or no TSO granted", "sendto", "nothing read",
		"header or length wrong", "tun_csum_complete", "UDP checksum wrong", "payload wrong",
		"our datagram never came" };
	pid_t pid;
	int st;

	(void)state;
	if (geteuid() != 0 || access("/dev/net/tun", R_OK | W_OK) < 0) {
		print_message("# needs root and /dev/net/tun\n");
		skip();
	}
	fflush(stdout);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(device_child());
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	print_message("# device: %s\n", steps[WEXITSTATUS(st) < 12 ? WEXITSTATUS(st) : 0]);
	assert_int_equal(WEXITSTATUS(st), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_csum_complete),
		cmocka_unit_test(test_segment),
		cmocka_unit_test(test_segment_refused),
		cmocka_unit_test(test_merge_round_trip),
		cmocka_unit_test(test_merge_refused),
		cmocka_unit_test(test_merge_limits),
		cmocka_unit_test(test_device),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
