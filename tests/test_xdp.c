/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The XDP program against the C codec: frames built here (valid, then
 * mutated at random) run through the loaded program with BPF_PROG_TEST_RUN,
 * and its verdict and rewritten bytes are compared with what the sockets'
 * path (gtpu_parse, gtpu_relay_rewrite) does with the same datagram. Runs
 * in a network namespace of its own (routes and neighbours for the lookup);
 * needs root and a kernel that runs BPF programs for tests. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#ifdef HAVE_XDP

#include <arpa/inet.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "csum_ref.h"
#include "gtpu.h"
#include "xdp/gtpu_xdp.h"
#include "xdp/gtpu_xdp.skel.h"
#include "xdp_table.h"

/* The namespace: one interface holding gtpud's addresses, both peers
 * behind it with fixed neighbour entries. */
#define IF "gx0"
#define LOCAL4 "192.0.2.1"
#define ENB4 "192.0.2.10"
#define UPF4 "192.0.2.20"
#define STRANGER4 "192.0.2.66"
#define LOCAL6 "2001:db8:1::1"
#define ENB6 "2001:db8:1::10"
#define UPF6 "2001:db8:1::20"
#define STRANGER6 "2001:db8:1::66"
static const uint8_t upf_mac[6] = { 0x02, 0, 0, 0, 0, 0x20 };

enum { ID_ENB4 = 1, ID_UPF4, ID_ENB6, ID_UPF6 };
#define TEID4 0x100u
#define TEID4_TO 0x200u
#define TEID6 0x600u
#define TEID6_TO 0x700u
#define TEIDQ 0x900u              /* IPv4, enb to upf, the uplink QFI checked */
#define TEIDQ_TO 0xa00u
#define QFI_UL 5

static struct gtpu_xdp *skel;
static struct xdp_ttab tt;
#define TBUCKETS 16              /* 32 entries */
static int ifindex;
static uint8_t if_mac[6];
static const char *skip_why;

static void a4(const char *s, uint8_t *o) { inet_pton(AF_INET, s, o); }
static void a6(const char *s, uint8_t *o) { inet_pton(AF_INET6, s, o); }

static int sh(const char *cmd)
{
	return system(cmd) == 0 ? 0 : -1;
}

static int net_setup(void)
{
	char cmd[512];
	struct ifreq ifr = { 0 };
	int fd, r;

	if (unshare(CLONE_NEWNET) < 0)
		return -1;
	snprintf(cmd, sizeof(cmd),
		 "ip link add " IF " type veth peer name gx1 && ip link set lo up && ip link set " IF " up && "
		 "ip link set gx1 up && ip addr add " LOCAL4 "/24 dev " IF " && "
		 "ip addr add " LOCAL6 "/64 dev " IF " nodad && "
		 "ip neigh add " UPF4 " lladdr 02:00:00:00:00:20 dev " IF " nud permanent && "
		 "ip -6 neigh add " UPF6 " lladdr 02:00:00:00:00:20 dev " IF " nud permanent && "
		 "sysctl -qw net.ipv4.conf." IF ".forwarding=1 net.ipv6.conf." IF ".forwarding=1");
	if (sh(cmd) < 0)
		return -1;
	ifindex = (int)if_nametoindex(IF);
	/* Not from /sys: it shows the namespace it was mounted in. */
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), IF);
	if ((fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	r = ioctl(fd, SIOCGIFHWADDR, &ifr);
	close(fd);
	if (r < 0)
		return -1;
	memcpy(if_mac, ifr.ifr_hwaddr.sa_data, 6);
	return ifindex ? 0 : -1;
}

static void put_peer(uint32_t id, int family, const char *addr, const char *src, uint8_t flags)
{
	struct xdp_peer v = { .family = (uint8_t)family, .flags = flags, .port = htons(2152),
			      .sport = htons(2152), .oif = (uint32_t)ifindex };

	if (family == AF_INET) {
		a4(addr, v.addr);
		a4(src, v.src);
	} else {
		a6(addr, v.addr);
		a6(src, v.src);
	}
	assert_int_equal(bpf_map_update_elem(bpf_map__fd(skel->maps.peers), &id, &v, BPF_ANY), 0);
}

static void put_tunnel_qfi(uint32_t teid, uint32_t to_teid, uint32_t from, uint32_t to, uint8_t ul_qfi)
{
	struct xdp_tunnel v = { .to_teid = to_teid, .from_peer = (uint16_t)from, .to_peer = (uint16_t)to,
				.ul_qfi = ul_qfi };

	assert_int_equal(xdp_ttab_put(&tt, teid, &v), 0);
}

static void put_tunnel(uint32_t teid, uint32_t to_teid, uint32_t from, uint32_t to)
{
	put_tunnel_qfi(teid, to_teid, from, to, 0);
}

static void put_local(int family, const char *addr)
{
	struct xdp_local k = { .family = (uint8_t)family, .port = htons(2152) };
	uint8_t one = 1;

	if (family == AF_INET)
		a4(addr, k.addr);
	else
		a6(addr, k.addr);
	assert_int_equal(bpf_map_update_elem(bpf_map__fd(skel->maps.locals), &k, &one, BPF_ANY), 0);
}

static int group_setup(void **state)
{
	if (geteuid() != 0) {
		skip_why = "needs root (BPF_PROG_TEST_RUN, a network namespace)";
		return 0;
	}
	if (libbpf_num_possible_cpus() > 256) {
		skip_why = "more than 256 CPUs";
		return 0;
	}
	if (net_setup() < 0) {
		skip_why = "cannot make a network namespace with a veth pair";
		return 0;
	}
	libbpf_set_print(NULL);
	/* A small table: 16 buckets, so that the walk past full buckets is
	 * taken too (test_table). */
	if ((skel = gtpu_xdp__open())) {
		skel->rodata->tbuckets = TBUCKETS;
		bpf_map__set_max_entries(skel->maps.tunnels, TBUCKETS);
	}
	if (!skel || gtpu_xdp__load(skel) < 0) {
		skip_why = "the kernel refused to load the XDP program";
		return 0;
	}
	assert_int_equal(xdp_ttab_map(&tt, bpf_map__fd(skel->maps.tunnels), TBUCKETS, bpf_map__fd(skel->maps.grace),
				      bpf_map__fd(skel->maps.grace_inner)), 0);
	return 0;
}

static int group_teardown(void **state)
{
	xdp_ttab_unmap(&tt);
	gtpu_xdp__destroy(skel);
	return 0;
}

static void maps_fill(void)
{
	put_local(AF_INET, LOCAL4);
	put_local(AF_INET6, LOCAL6);
	put_peer(ID_ENB4, AF_INET, ENB4, LOCAL4, XDP_PEER_FROM | XDP_PEER_TO);
	put_peer(ID_UPF4, AF_INET, UPF4, LOCAL4, XDP_PEER_FROM | XDP_PEER_TO);
	put_peer(ID_ENB6, AF_INET6, ENB6, LOCAL6, XDP_PEER_FROM | XDP_PEER_TO);
	put_peer(ID_UPF6, AF_INET6, UPF6, LOCAL6, XDP_PEER_FROM | XDP_PEER_TO);
	put_tunnel(TEID4, TEID4_TO, ID_ENB4, ID_UPF4);
	put_tunnel(TEID6, TEID6_TO, ID_ENB6, ID_UPF6);
}

/* ---- frames ---- */

#define FRAME_MAX 1600

struct frame {
	uint8_t b[FRAME_MAX];
	size_t len;
	size_t gtp;              /* offset of the GTP-U message */
	size_t gtp_len;
	int family;
	bool outer_ok;           /* the outer headers as gtpud's sockets take them */
	bool from_peer;          /* sent by the tunnel's peer */
	bool zero_csum;          /* IPv4 without a UDP checksum */
};

static uint16_t udp_csum(int family, const uint8_t *ip, const uint8_t *udp, size_t ulen)
{
	uint8_t ph[40] = { 0 };
	size_t n;
	uint16_t s;

	if (family == AF_INET) {
		memcpy(ph, ip + 12, 8);
		ph[9] = 17;
		ph[10] = (uint8_t)(ulen >> 8);
		ph[11] = (uint8_t)ulen;
		n = 12;
	} else {
		memcpy(ph, ip + 8, 32);
		ph[34] = (uint8_t)(ulen >> 8);
		ph[35] = (uint8_t)ulen;
		ph[39] = 17;
		n = 40;
	}
	s = ref_sum(ph, n, 0);
	s = (uint16_t)~ref_sum(udp, ulen, s);
	return s ? s : 0xffff;
}

static void ip4_fix(uint8_t *ip)
{
	ip[10] = ip[11] = 0;
	uint16_t c = (uint16_t)~ref_sum(ip, 20, 0);
	ip[10] = (uint8_t)(c >> 8);
	ip[11] = (uint8_t)c;
}

/* Ethernet, IP and UDP around gtp[0..n) from src to dst, checksums right. */
static void frame_build(struct frame *f, int family, const char *src, const char *dst,
			const uint8_t *gtp, size_t n, bool zero_csum)
{
	uint8_t *e = f->b, *ip = e + 14, *udp;
	size_t iphl = family == AF_INET ? 20 : 40, ulen = 8 + n;

	memset(f, 0, sizeof(*f));
	memcpy(e, if_mac, 6);
	memcpy(e + 6, "\x02\x00\x00\x00\x00\x10", 6);
	e[12] = family == AF_INET ? 0x08 : 0x86;
	e[13] = family == AF_INET ? 0x00 : 0xdd;
	if (family == AF_INET) {
		ip[0] = 0x45;
		ip[2] = (uint8_t)((20 + ulen) >> 8);
		ip[3] = (uint8_t)(20 + ulen);
		ip[4] = 0x12;
		ip[6] = 0x40;
		ip[8] = 61;
		ip[9] = 17;
		a4(src, ip + 12);
		a4(dst, ip + 16);
		ip4_fix(ip);
	} else {
		ip[0] = 0x60;
		ip[4] = (uint8_t)(ulen >> 8);
		ip[5] = (uint8_t)ulen;
		ip[6] = 17;
		ip[7] = 61;
		a6(src, ip + 8);
		a6(dst, ip + 24);
	}
	udp = ip + iphl;
	udp[0] = 0x08; udp[1] = 0x68;   /* 2152 */
	udp[2] = 0x08; udp[3] = 0x68;
	udp[4] = (uint8_t)(ulen >> 8);
	udp[5] = (uint8_t)ulen;
	memcpy(udp + 8, gtp, n);
	if (!zero_csum) {
		uint16_t c = udp_csum(family, ip, udp, ulen);
		udp[6] = (uint8_t)(c >> 8);
		udp[7] = (uint8_t)c;
	}
	f->len = 14 + iphl + ulen;
	f->gtp = 14 + iphl + 8;
	f->gtp_len = n;
	f->family = family;
	f->outer_ok = true;
	f->zero_csum = zero_csum;
	/* Ethernet pads a short frame. */
	if (f->len < 60)
		f->len = 60;
}

/* ---- the oracle: what the sockets' path does with the datagram ---- */

/* The fast path takes a G-PDU when the codec relays it unchanged but for
 * its TEID and every extension header is one it walks (gtpud(8)). */
static bool codec_relays(const struct frame *f, uint8_t *out, uint32_t *to_teid)
{
	uint8_t m[FRAME_MAX];
	struct gtpu_hdr h;
	size_t start, n;
	uint32_t want_teid = f->family == AF_INET ? TEID4 : TEID6;
	bool q;

	memcpy(m, f->b + f->gtp, f->gtp_len);
	if (!f->outer_ok || !f->from_peer || gtpu_parse(m, f->gtp_len, &h) != GTPU_OK ||
	    h.type != GTPU_GPDU || h.unknown_req_all || h.n_ext > XDP_GTPU_MAX_EXT)
		return false;
	/* TEIDQ's: as dp.c's qfi_mismatch check lets through. */
	q = f->family == AF_INET && h.teid == TEIDQ;
	if ((h.teid != want_teid && !q) || (q && (!h.has_pdu_session || h.pdu_session.qfi != QFI_UL)))
		return false;
	for (unsigned i = 0; i < h.n_ext; i++)
		if (gtpu_ext_known(h.ext[i].type) && h.ext[i].type != GTPU_EXT_PDU_SESSION)
			return false;
	*to_teid = q ? TEIDQ_TO : f->family == AF_INET ? TEID4_TO : TEID6_TO;
	n = gtpu_relay_rewrite(m, &h, *to_teid, &start);
	if (start != 0 || n != f->gtp_len)
		return false;   /* a header removed: the sockets' work */
	memcpy(out, m, n);
	return true;
}

/* The frame the fast path must send for f, the GTP-U message being gtp. */
static void expected_frame(const struct frame *f, const uint8_t *gtp, uint8_t *x)
{
	uint8_t *ip = x + 14, *udp;
	size_t iphl = f->family == AF_INET ? 20 : 40;

	memcpy(x, f->b, f->len);
	memcpy(x, upf_mac, 6);
	memcpy(x + 6, if_mac, 6);
	if (f->family == AF_INET) {
		ip[8] = XDP_GTPU_TTL;
		a4(LOCAL4, ip + 12);
		a4(UPF4, ip + 16);
		ip4_fix(ip);
	} else {
		ip[7] = XDP_GTPU_TTL;
		a6(LOCAL6, ip + 8);
		a6(UPF6, ip + 24);
	}
	udp = ip + iphl;
	memcpy(udp + 8, gtp, f->gtp_len);
	if (!f->zero_csum) {
		udp[6] = udp[7] = 0;
		uint16_t c = udp_csum(f->family, ip, udp, 8 + f->gtp_len);
		udp[6] = (uint8_t)(c >> 8);
		udp[7] = (uint8_t)c;
	}
}

struct tally {
	unsigned tx, pass, mismatched;
};

static void hexdiff(const char *what, const uint8_t *a, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i] != b[i]) {
			print_error("%s: first difference at byte %zu: got %02x, want %02x\n", what, i, a[i], b[i]);
			return;
		}
}

/* Run f through the program; check the verdict and bytes against the codec. */
static void run_one(struct frame *f, struct tally *t)
{
	uint8_t out[FRAME_MAX] = { 0 }, want[FRAME_MAX], gtp[FRAME_MAX];
	struct xdp_md ctx = { .data = 0, .data_end = (uint32_t)f->len, .ingress_ifindex = (uint32_t)ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f->b, .data_size_in = (uint32_t)f->len, .data_out = out,
		    .data_size_out = sizeof(out), .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = 1);
	uint32_t to_teid;
	bool relay = codec_relays(f, gtp, &to_teid);
	int r = bpf_prog_test_run_opts(bpf_program__fd(skel->progs.gtpu_xdp), &o);

	assert_int_equal(r, 0);
	assert_int_equal(o.data_size_out, f->len);
	if (relay) {
		expected_frame(f, gtp, want);
		if (o.retval != XDP_TX || memcmp(out, want, f->len)) {
			print_error("relayed by the codec: verdict %u (XDP_TX is %u)\n", o.retval, XDP_TX);
			hexdiff("frame", out, want, f->len);
			t->mismatched++;
		}
		t->tx++;
	} else {
		if (o.retval != XDP_PASS || memcmp(out, f->b, f->len)) {
			print_error("not for the fast path: verdict %u (XDP_PASS is %u)\n", o.retval, XDP_PASS);
			hexdiff("frame", out, f->b, f->len);
			t->mismatched++;
		}
		t->pass++;
	}
}

/* ---- table-driven cases ---- */

static const char *const base4 = ENB4, *const base6 = ENB6;

struct row {
	const char *what;
	int family;
	const char *src, *dst;
	const char *gtp_hex;
	bool zero_csum;
	unsigned verdict;
};

static size_t unhex(const char *s, uint8_t *o)
{
	size_t n = 0;

	while (s[0] && s[1]) {
		sscanf(s, "%2hhx", &o[n++]);
		s += 2;
	}
	return n;
}

static void test_rows(void **state)
{
	static const struct row rows[] = {
		{ "plain G-PDU", AF_INET, ENB4, LOCAL4, "30ff000400000100cafe0001", false, XDP_TX },
		{ "no UDP checksum stays none", AF_INET, ENB4, LOCAL4, "30ff000400000100cafe0001", true, XDP_TX },
		{ "sequence number", AF_INET, ENB4, LOCAL4, "32ff000800000100123400000a0b0c0d", false, XDP_TX },
		{ "PDU Session Container", AF_INET, ENB4, LOCAL4,
		  "34ff000c000001000000008501100900" "45000000", false, XDP_TX },
		{ "unknown class 00 and 10 kept", AF_INET, ENB4, LOCAL4,
		  "34ff00100000010000000003" "01aabb83" "01ccdd00" "41424344", false, XDP_TX },
		{ "IPv6", AF_INET6, ENB6, LOCAL6, "30ff000400000600cafe0006", false, XDP_TX },
		{ "IPv6 with a zero UDP checksum", AF_INET6, ENB6, LOCAL6, "30ff000400000600cafe0006", true, XDP_PASS },
		{ "End Marker", AF_INET, ENB4, LOCAL4, "30fe000000000100", false, XDP_PASS },
		{ "class 01 to remove", AF_INET, ENB4, LOCAL4, "34ff000c0000010000000040" "01123485" "01100900", false, XDP_PASS },
		{ "class 11 unknown", AF_INET, ENB4, LOCAL4, "34ff000800000100000000c3" "01aabb00", false, XDP_PASS },
		{ "unknown TEID", AF_INET, ENB4, LOCAL4, "30ff000400000999cafe0001", false, XDP_PASS },
		{ "a stranger", AF_INET, STRANGER4, LOCAL4, "30ff000400000100cafe0001", false, XDP_PASS },
		{ "the other peer", AF_INET, UPF4, LOCAL4, "30ff000400000100cafe0001", false, XDP_PASS },
		{ "to another host", AF_INET, ENB4, UPF4, "30ff000400000100cafe0001", false, XDP_PASS },
		{ "IPv4 TEID over IPv6", AF_INET6, ENB6, LOCAL6, "30ff000400000100cafe0001", false, XDP_PASS },
		{ "Echo Request", AF_INET, ENB4, LOCAL4, "32010004000000000001 0000", false, XDP_PASS },
		{ "Length too long", AF_INET, ENB4, LOCAL4, "30ff000500000100cafe0001", false, XDP_PASS },
		{ "version 2", AF_INET, ENB4, LOCAL4, "50ff000400000100cafe0001", false, XDP_PASS },
	};
	struct tally t = { 0 };

	if (skip_why) {
		print_message("# SKIP: %s\n", skip_why);
		skip();
	}
	maps_fill();
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		uint8_t g[256], out[FRAME_MAX] = { 0 };
		char hex[256];
		size_t n, k = 0;
		struct frame f;

		for (const char *p = r->gtp_hex; *p; p++)
			if (*p != ' ')
				hex[k++] = *p;
		hex[k] = '\0';
		n = unhex(hex, g);
		frame_build(&f, r->family, r->src, r->dst, g, n, r->zero_csum);
		f.from_peer = !strcmp(r->src, r->family == AF_INET ? base4 : base6);
		f.outer_ok = !strcmp(r->dst, r->family == AF_INET ? LOCAL4 : LOCAL6) && !(r->family == AF_INET6 && r->zero_csum);
		{
			struct xdp_md ctx = { .data_end = (uint32_t)f.len, .ingress_ifindex = (uint32_t)ifindex };
			LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f.b, .data_size_in = (uint32_t)f.len,
				    .data_out = out, .data_size_out = sizeof(out), .ctx_in = &ctx,
				    .ctx_size_in = sizeof(ctx), .repeat = 1);

			assert_int_equal(bpf_prog_test_run_opts(bpf_program__fd(skel->progs.gtpu_xdp), &o), 0);
			if (o.retval != r->verdict)
				fail_msg("%s: verdict %u, want %u", r->what, o.retval, r->verdict);
		}
		run_one(&f, &t);
		if (t.mismatched)
			fail_msg("%s: the program and the codec disagree", r->what);
	}
}

/* ---- the tunnel table ---- */

/* A G-PDU of teid from enb through the program: the TEID it was relayed
 * with, 0 when passed up. */
static uint32_t relayed_gtp(const uint8_t *g, size_t len)
{
	uint8_t out[FRAME_MAX] = { 0 };
	struct frame f;

	frame_build(&f, AF_INET, ENB4, LOCAL4, g, len, false);
	struct xdp_md ctx = { .data_end = (uint32_t)f.len, .ingress_ifindex = (uint32_t)ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f.b, .data_size_in = (uint32_t)f.len, .data_out = out,
		    .data_size_out = sizeof(out), .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = 1);

	assert_int_equal(bpf_prog_test_run_opts(bpf_program__fd(skel->progs.gtpu_xdp), &o), 0);
	if (o.retval != XDP_TX)
		return 0;
	return (uint32_t)out[46] << 24 | (uint32_t)out[47] << 16 | (uint32_t)out[48] << 8 | out[49];
}

static uint32_t relayed_as(uint32_t teid)
{
	uint8_t g[12] = { 0x30, 0xff, 0, 4, (uint8_t)(teid >> 24), (uint8_t)(teid >> 16), (uint8_t)(teid >> 8),
			  (uint8_t)teid, 0xca, 0xfe, 0, 1 };

	return relayed_gtp(g, sizeof(g));
}

/* Entries in collision, past their home bucket, removed, reaped, replaced,
 * and a full table: the program finds what the control thread wrote. */
static void test_table(void **state)
{
	uint32_t home = xdp_teid_home(TEID4, TBUCKETS), same[6], n = 0, more[40], m = 0;

	if (skip_why) {
		print_message("# SKIP: %s\n", skip_why);
		skip();
	}
	maps_fill();
	/* Six more TEIDs at TEID4's home: two buckets on, and further. */
	for (uint32_t teid = 0x1000; n < 6; teid++)
		if (xdp_teid_home(teid, TBUCKETS) == home)
			same[n++] = teid;
	for (uint32_t i = 0; i < 6; i++)
		put_tunnel(same[i], same[i] + 0x10000, ID_ENB4, ID_UPF4);
	assert_int_equal(tt.b[home].e[0].overflow, 1);
	for (uint32_t i = 0; i < 6; i++)
		assert_int_equal(relayed_as(same[i]), same[i] + 0x10000);
	assert_int_equal(relayed_as(TEID4), TEID4_TO);
	/* Removed: passed up at once; the others still found past them. */
	uint32_t dead = tt.dead;

	assert_true(xdp_ttab_del(&tt, same[0]));
	assert_true(xdp_ttab_del(&tt, same[1]));
	assert_false(xdp_ttab_del(&tt, same[1]));
	assert_int_equal(relayed_as(same[0]), 0);
	assert_int_equal(relayed_as(same[1]), 0);
	for (uint32_t i = 2; i < 6; i++)
		assert_int_equal(relayed_as(same[i]), same[i] + 0x10000);
	assert_int_equal(tt.dead, dead + 2);
	xdp_ttab_reap(&tt);
	assert_int_equal(tt.dead, 0);
	for (uint32_t i = 2; i < 6; i++)
		assert_int_equal(relayed_as(same[i]), same[i] + 0x10000);
	/* Replaced: the new next TEID, counts as given. */
	struct xdp_tunnel v = { .to_teid = 0x4242, .from_peer = ID_ENB4, .to_peer = ID_UPF4, .pkts = 7 };

	assert_int_equal(xdp_ttab_put(&tt, same[5], &v), 0);
	assert_int_equal(relayed_as(same[5]), 0x4242);
	assert_int_equal(xdp_ttab_find(&tt, same[5])->pkts, 8);
	/* Full: 32 entries, then no room (and a replacement still has room:
	 * the entry it frees, once reaped). */
	for (uint32_t teid = 0x50000; tt.live < 32; teid++)
		if (xdp_ttab_put(&tt, teid, &v) == 0)
			more[m++ % 40] = teid;
	v.to_teid = 0x4343;
	assert_int_equal(xdp_ttab_put(&tt, 0x7777777, &v), -ENOSPC);
	assert_int_equal(xdp_ttab_put(&tt, more[0], &v), 0);
	assert_int_equal(relayed_as(more[0]), 0x4343);
	assert_int_equal(relayed_as(TEID4), TEID4_TO);
	/* Any source (PFCP): relayed from an address of no peer; from a
	 * peer's address and port while it is not up, passed up (the sockets
	 * bring it up). */
	{
		struct xdp_paddr a = { .family = AF_INET };
		uint32_t slot = ID_ENB4;

		xdp_ttab_del(&tt, more[1]);
		put_tunnel(0x3333, 0x4444, XDP_ANY_PEER, ID_UPF4);
		assert_int_equal(relayed_as(0x3333), 0x4444);
		a4(ENB4, a.addr);
		assert_int_equal(bpf_map_update_elem(bpf_map__fd(skel->maps.paddr), &a, &slot, BPF_ANY), 0);
		assert_int_equal(relayed_as(0x3333), 0x4444);   /* enb is up */
		put_peer(ID_ENB4, AF_INET, ENB4, LOCAL4, XDP_PEER_TO);
		assert_int_equal(relayed_as(0x3333), 0);
		put_peer(ID_ENB4, AF_INET, ENB4, LOCAL4, XDP_PEER_FROM | XDP_PEER_TO);
		assert_int_equal(bpf_map_delete_elem(bpf_map__fd(skel->maps.paddr), &a), 0);
	}
	/* Emptied again but for the two of maps_fill: no mark left. */
	for (uint32_t k = 0; k < TBUCKETS; k++)
		for (unsigned j = 0; j < 2; j++)
			if (tt.b[k].e[j].state == XDP_TENT_LIVE && tt.b[k].e[j].teid != TEID4 && tt.b[k].e[j].teid != TEID6)
				xdp_ttab_del(&tt, tt.b[k].e[j].teid);
	xdp_ttab_reap(&tt);
	assert_int_equal(tt.live, 2);
	for (uint32_t k = 0; k < TBUCKETS; k++)
		if (k != xdp_teid_home(TEID4, TBUCKETS) && k != xdp_teid_home(TEID6, TBUCKETS))
			assert_int_equal(tt.b[k].e[0].overflow, 0);
	assert_int_equal(relayed_as(TEID4), TEID4_TO);
}

/* A removed entry's final counts: what a run of the program that found it
 * live just before its removal added (here after the removal, as a run
 * still under way does) is taken at the reap, not lost; the entry's memory
 * taken again afterwards changes nothing. */
static void test_finals(void **state)
{
	const uint32_t teid = 0x2468;
	struct xdp_tunnel *e;

	if (skip_why) {
		print_message("# SKIP: %s\n", skip_why);
		skip();
	}
	maps_fill();
	put_tunnel(teid, 0x1357, ID_ENB4, ID_UPF4);
	assert_int_equal(relayed_as(teid), 0x1357);
	assert_int_equal(relayed_as(teid), 0x1357);
	assert_non_null(e = xdp_ttab_find(&tt, teid));
	assert_int_equal(e->pkts, 2);
	assert_int_equal(xdp_ttab_del_final(&tt, 0x999999, 1), -ENOENT);
	assert_int_equal(xdp_ttab_del_final(&tt, teid, 77), 0);
	assert_null(xdp_ttab_find(&tt, teid));
	assert_int_equal(relayed_as(teid), 0);   /* passed up: the sockets count it */
	__atomic_fetch_add(&e->pkts, 3, __ATOMIC_RELAXED);
	__atomic_fetch_add(&e->bytes, 300, __ATOMIC_RELAXED);
	assert_ptr_equal(tt.fin[0].e, e);        /* not yet taken: a run may add */
	xdp_ttab_reap(&tt);
	assert_int_equal(e->state, XDP_TENT_FREE);
	put_tunnel(teid, 0x1357, ID_ENB4, ID_UPF4);   /* in the same entry again */
	assert_int_equal(xdp_ttab_find(&tt, teid), e);
	assert_int_equal(relayed_as(teid), 0x1357);
	assert_int_equal(xdp_ttab_finals(&tt), 1);
	assert_null(tt.fin[0].e);
	assert_int_equal(tt.fin[0].cookie, 77);
	assert_int_equal(tt.fin[0].pkts, 5);
	assert_int_equal(tt.fin[0].bytes, 2 * 12 + 300);   /* UDP payloads of 12 octets */
	xdp_ttab_finals_clear(&tt);
	assert_int_equal(xdp_ttab_finals(&tt), 0);
	xdp_ttab_del(&tt, teid);
	xdp_ttab_reap(&tt);
}

/* An uplink QFI checked (a PFCP PDR's): relayed with it in the (last) PDU
 * Session Container, passed up (for the sockets' qfi_mismatch) with
 * another or none. */
static void test_qfi(void **state)
{
	/* E, PDU Session Container UL with QFI q, then a payload. */
	uint8_t g[20] = { 0x34, 0xff, 0, 12, 0, 0, TEIDQ >> 8, TEIDQ & 0xff, 0, 0, 0, 0x85,
			  1, 0x10, 0, 0, 0xca, 0xfe, 0, 1 };
	uint8_t two[24] = { 0x34, 0xff, 0, 16, 0, 0, TEIDQ >> 8, TEIDQ & 0xff, 0, 0, 0, 0x85,
			    1, 0x10, 6, 0x85, 1, 0x10, QFI_UL, 0, 0xca, 0xfe, 0, 1 };
	uint8_t plain[12] = { 0x30, 0xff, 0, 4, 0, 0, TEIDQ >> 8, TEIDQ & 0xff, 0xca, 0xfe, 0, 1 };

	if (skip_why) {
		print_message("# SKIP: %s\n", skip_why);
		skip();
	}
	maps_fill();
	put_tunnel_qfi(TEIDQ, TEIDQ_TO, ID_ENB4, ID_UPF4, QFI_UL + 1);
	g[14] = QFI_UL;
	assert_int_equal(relayed_gtp(g, sizeof(g)), TEIDQ_TO);
	g[14] = QFI_UL + 1;
	assert_int_equal(relayed_gtp(g, sizeof(g)), 0);
	g[14] = 0x40 | QFI_UL;   /* the UL container's new IE flag: one octet more than it has */
	assert_int_equal(relayed_gtp(g, sizeof(g)), 0);
	assert_int_equal(relayed_gtp(plain, sizeof(plain)), 0);
	assert_int_equal(relayed_gtp(two, sizeof(two)), TEIDQ_TO);
	two[18] = 6;
	two[14] = QFI_UL;
	assert_int_equal(relayed_gtp(two, sizeof(two)), 0);
	/* Without the check: any QFI, or none. */
	put_tunnel(TEIDQ, TEIDQ_TO, ID_ENB4, ID_UPF4);
	assert_int_equal(relayed_gtp(plain, sizeof(plain)), TEIDQ_TO);
	g[14] = 9;
	assert_int_equal(relayed_gtp(g, sizeof(g)), TEIDQ_TO);
	xdp_ttab_del(&tt, TEIDQ);
	xdp_ttab_reap(&tt);
}

/* ---- random and mutated datagrams ---- */

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

/* A G-PDU as a peer may send it: optional word or not, a chain of
 * extension headers of every kind (PDU Session Containers valid or not). */
static size_t gen_gtp(uint8_t *g, uint32_t teid)
{
	static const uint8_t types[] = { 0x85, 0x85, 0x85, 0x40, 0xc0, 0x20, 0x81, 0x82, 0x84, 0x03, 0x83, 0x41,
					 0xc3, 0x02 };
	size_t n = 8, payload = rnd() % 120;
	unsigned next_at, n_ext = rnd() % 3 ? 0 : 1 + rnd() % 6;

	g[0] = 0x30;
	g[1] = rnd() % 16 ? 0xff : 0xfe;
	g[4] = (uint8_t)(teid >> 24);
	g[5] = (uint8_t)(teid >> 16);
	g[6] = (uint8_t)(teid >> 8);
	g[7] = (uint8_t)teid;
	if (n_ext || rnd() % 2) {
		g[0] |= n_ext ? 0x04 : (uint8_t)(1 + rnd() % 3);
		g[8] = (uint8_t)rnd();
		g[9] = (uint8_t)rnd();
		g[10] = (uint8_t)rnd();
		g[11] = 0;
		n = 12;
	}
	next_at = 11;
	for (unsigned i = 0; i < n_ext; i++) {
		uint8_t type = types[rnd() % sizeof(types)];
		unsigned len4 = type == 0x85 ? 1 + (rnd() % 4 == 0) : 1 + rnd() % 2;

		g[next_at] = type;
		g[n] = (uint8_t)len4;
		for (unsigned k = 1; k < len4 * 4; k++)
			g[n + k] = (uint8_t)rnd();
		if (type == 0x85) {
			g[n + 1] = (uint8_t)((rnd() % 3) << 4 | (rnd() % 4 ? 0 : rnd() & 0x0f));
			g[n + 2] = (uint8_t)(rnd() % 4 ? rnd() & 0x3f : rnd());
			if (rnd() % 2)   /* the QFI TEIDQ checks for */
				g[n + 2] = (uint8_t)((g[n + 2] & 0xc0) | QFI_UL);
		}
		n += len4 * 4;
		next_at = (unsigned)n - 1;
		g[next_at] = 0;
	}
	for (size_t k = 0; k < payload; k++)
		g[n + k] = (uint8_t)rnd();
	n += payload;
	g[2] = (uint8_t)((n - 8) >> 8);
	g[3] = (uint8_t)(n - 8);
	return n;
}

/* Flip, set or cut what a datagram carries: the GTP-U header and, now and
 * then, the outer headers (which then no longer reach gtpud's sockets as
 * they are, and must be passed up). */
static void mutate(struct frame *f)
{
	uint8_t *g = f->b + f->gtp, *ip = f->b + 14;
	unsigned k = rnd() % 10;

	switch (k) {
	case 0: case 1: case 2: case 3:
		g[rnd() % (f->gtp_len < 24 ? f->gtp_len : 24)] ^= (uint8_t)(1u << (rnd() % 8));
		break;
	case 4:
		g[2 + rnd() % 2] = (uint8_t)rnd();
		break;
	case 5:
		g[rnd() % f->gtp_len] = (uint8_t)rnd();
		break;
	case 6:   /* the IPv4 header's checksum, or the IPv6 next header */
		if (f->family == AF_INET)
			ip[10] ^= 0x01;
		else
			ip[6] = 44;
		f->outer_ok = false;
		break;
	case 7:   /* a fragment */
		if (f->family == AF_INET) {
			ip[6] |= 0x20;
			ip4_fix(ip);
			f->outer_ok = false;
		}
		break;
	case 8:   /* a UDP length that disagrees with IP's */
		f->b[f->gtp - 4] ^= 0x01;
		f->outer_ok = false;
		break;
	default:  /* to another port */
		f->b[f->gtp - 5] ^= 0x01;
		f->outer_ok = false;
		break;
	}
	/* The UDP checksum made right again for the GTP-U bytes: a peer sends
	 * a valid datagram (unless the outer headers were broken). */
	if (f->outer_ok && !f->zero_csum) {
		uint8_t *udp = f->b + f->gtp - 8;

		udp[6] = udp[7] = 0;
		uint16_t c = udp_csum(f->family, ip, udp, 8 + f->gtp_len);
		udp[6] = (uint8_t)(c >> 8);
		udp[7] = (uint8_t)c;
	}
}

static void test_random(void **state)
{
	struct tally t = { 0 };
	uint64_t fwd0 = 0, fwd = 0;
	struct xdp_gstats g[256] = { 0 };
	uint32_t zero = 0;
	unsigned n = 30000, cpus = (unsigned)libbpf_num_possible_cpus();

	if (skip_why) {
		print_message("# SKIP: %s\n", skip_why);
		skip();
	}
	maps_fill();
	put_tunnel_qfi(TEIDQ, TEIDQ_TO, ID_ENB4, ID_UPF4, QFI_UL + 1);
	assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(skel->maps.gstats), &zero, g), 0);
	for (unsigned c = 0; c < cpus; c++)
		fwd0 += g[c].fwd_pkts;
	for (unsigned i = 0; i < n; i++) {
		int family = rnd() % 3 ? AF_INET : AF_INET6;
		bool stranger = rnd() % 16 == 0, v4 = family == AF_INET;
		uint32_t teid = rnd() % 16 == 0 ? rnd() : rnd() % 8 == 0 ? (v4 ? TEID6 : TEID4) :
				v4 && rnd() % 3 == 0 ? TEIDQ : (v4 ? TEID4 : TEID6);
		uint8_t gtp[FRAME_MAX];
		size_t len = gen_gtp(gtp, teid);
		struct frame f;

		frame_build(&f, family, stranger ? (v4 ? STRANGER4 : STRANGER6) : (v4 ? ENB4 : ENB6),
			    v4 ? LOCAL4 : LOCAL6, gtp, len, v4 && rnd() % 8 == 0);
		f.from_peer = !stranger;
		if (rnd() % 2)
			mutate(&f);
		run_one(&f, &t);
	}
	assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(skel->maps.gstats), &zero, g), 0);
	for (unsigned c = 0; c < cpus; c++)
		fwd += g[c].fwd_pkts;
	print_message("# %u datagrams: %u relayed in XDP, %u passed up, %u disagreements\n", n, t.tx, t.pass,
		      t.mismatched);
	assert_int_equal(t.mismatched, 0);
	/* Enough of both kinds that the comparison means something. */
	assert_true(t.tx > n / 10);
	assert_true(t.pass > n / 10);
	/* Every frame relayed counted once, globally and on its tunnel. */
	assert_int_equal(fwd - fwd0, t.tx);
	{
		uint64_t on_tunnels = 0;

		for (uint32_t k = 0; k < 3; k++) {
			const struct xdp_tunnel *e = xdp_ttab_find(&tt, k == 2 ? TEIDQ : k ? TEID6 : TEID4);

			assert_non_null(e);
			on_tunnels += e->pkts;
		}
		assert_int_equal(on_tunnels, t.tx);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_finals),
		cmocka_unit_test(test_qfi),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

#else

static void test_not_built(void **state)
{
	print_message("# SKIP: gtpud is built without XDP\n");
	skip();
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_not_built) };

	return cmocka_run_group_tests(tests);
}

#endif
