// SPDX-License-Identifier: GPL-2.0-or-later
/* Bench generator and sink in XDP, so that what surrounds the relay under
 * test costs little per packet. "gen" runs under BPF_PROG_TEST_RUN in live
 * frames mode (xgen.c): it stamps the next TEID (and the payload's copy of
 * it), fixes the UDP checksum and redirects the frame out of a veth, as a
 * NIC would hand it to the peer end's XDP. "sink" counts G-PDUs on the last
 * veth and drops them, checking the relay's TEID rewrite. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* Frame layout (xgen.c builds it): Ethernet, IPv4 without options, UDP,
 * GTP-U without the optional word, then struct bench_payload. */
#define OFF_TEID 46
#define OFF_MAGIC 50
#define OFF_FROM 54
#define FRAME_MIN 58
#define BENCH_MAGIC 0x47544231u

struct gen_cfg {
	__u32 ifindex;            /* redirect target */
	__u32 tunnels;            /* TEIDs base..base+tunnels-1 */
	__u32 base;
	__u32 offset;             /* added to the TEID on the wire (0 for a relay) */
	__u32 sequential;         /* base + seq % tunnels, else a hash of seq */
	__u32 stop;               /* set at the end: nothing more is sent */
	__u32 burst;              /* frames sent back to back, as a NIC's interrupt hands them */
	__u64 gap_ps;             /* between two bursts; 0 = flood */
	__u8 head[FRAME_MIN + 6]; /* the frame's first octets, TEID base */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct gen_cfg);
} gcfg SEC(".maps");

/* Per CPU: frames sent, when the next is due (ps), times the schedule
 * was given up (the generator ran late by more than 100 us). */
struct gen_state {
	__u64 seq, due, late, left;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct gen_state);
} gstate SEC(".maps");

static __always_inline __u64 mix(__u64 x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static __always_inline __u16 fold(__u64 s)
{
	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u16)((s & 0xffff) + (s >> 16));
}

SEC("xdp")
int gen(struct xdp_md *ctx)
{
	__u8 *d = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	__u32 k = 0, o[2], n[2], teid;
	struct gen_cfg *c = bpf_map_lookup_elem(&gcfg, &k);
	struct gen_state *st = bpf_map_lookup_elem(&gstate, &k);
	__u64 i, now;
	__u16 ck;

	if (!c || !st || !c->tunnels || d + FRAME_MIN > end)
		return XDP_ABORTED;
	if (c->stop)
		return XDP_DROP;
	/* Paced: a burst is sent when it is due, the frames before are
	 * dropped here (test runs spin); never a burst to make up for lost
	 * time: a generator more than a gap late (its vCPU stalled) starts
	 * anew from now, rather than sending back to back what the stall
	 * held up and overflowing the first ring on the way (256 frames). The
	 * rate it kept is what it reports. */
	if (c->gap_ps && !st->left) {
		now = bpf_ktime_get_ns() * 1000;
		if (!st->due)
			st->due = now;
		if (now < st->due)
			return XDP_DROP;
		if (now - st->due > c->gap_ps) {
			st->late++;
			st->due = now;
		}
		st->due += c->gap_ps;
		st->left = c->burst;
	}
	if (st->left)
		st->left--;
	i = st->seq++;
	teid = c->base + (__u32)((c->sequential ? i : mix(i)) % c->tunnels);
	/* A frame comes back from the page pool as the relay rewrote it:
	 * its headers are written anew each time. */
	__builtin_memcpy(d, c->head, FRAME_MIN);
	__builtin_memcpy(&o[0], d + OFF_TEID, 4);
	__builtin_memcpy(&o[1], d + OFF_FROM, 4);
	n[0] = bpf_htonl(teid + c->offset);
	n[1] = teid;
	if (o[0] != n[0] || o[1] != n[1]) {
		__builtin_memcpy(d + OFF_TEID, &n[0], 4);
		__builtin_memcpy(d + OFF_FROM, &n[1], 4);
		__builtin_memcpy(&ck, d + 40, 2);
		if (ck) {
			__s64 s = bpf_csum_diff(o, 8, n, 8, (__u16)~ck);

			ck = ~fold((__u64)s);
			ck = ck ? ck : 0xffff;
			__builtin_memcpy(d + 40, &ck, 2);
		}
	}
	return bpf_redirect(c->ifindex, 0);
}

/* Sink counters, per CPU: G-PDUs seen, those whose TEID is not the
 * generator's plus the offset, and other frames (passed). */
struct sink_ctr {
	__u64 rx, bad, other;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} scfg SEC(".maps");              /* the TEID offset */

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sink_ctr);
} sctr SEC(".maps");

SEC("xdp")
int sink(struct xdp_md *ctx)
{
	__u8 *d = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	__u32 k = 0, teid, from, magic, *off = bpf_map_lookup_elem(&scfg, &k);
	struct sink_ctr *c = bpf_map_lookup_elem(&sctr, &k);

	if (!c || !off)
		return XDP_PASS;
	/* IPv4, UDP to 2152, a G-PDU */
	if (d + FRAME_MIN > end || d[12] != 0x08 || d[13] != 0x00 || d[23] != 17 ||
	    d[36] != 0x08 || d[37] != 0x68 || d[43] != 0xff) {
		c->other++;
		return XDP_PASS;
	}
	__builtin_memcpy(&teid, d + OFF_TEID, 4);
	__builtin_memcpy(&magic, d + OFF_MAGIC, 4);
	__builtin_memcpy(&from, d + OFF_FROM, 4);
	c->rx++;
	if (magic != BENCH_MAGIC || bpf_ntohl(teid) != from + *off)
		c->bad++;
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
