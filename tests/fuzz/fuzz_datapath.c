/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer harness for the whole datapath: src/dp*.c are compiled in, each
 * input is one datagram handed to rx_one (or one packet read from the TUN
 * device, to ep_encap) with a small config loaded; after each the
 * accounting identity rx = forwarded + answered + signalling taken in + drops
 * must hold, and every
 * datagram sent must be valid GTP-U. sendmmsg and the TUN write are stubs. */
// FUZZ_SOURCES: src/gtpu.c src/conf.c src/conf_scan.c src/conf_syntax.c src/conf_addr.c src/tunnel.c src/table.c src/inner.c src/tun.c
// FUZZ_LIBS: -lconfig -lmnl -pthread
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* The datapath's system calls on its sockets and TUN device go to stubs. */
static int fz_sendmmsg(int fd, struct mmsghdr *m, unsigned n, int flags);
static ssize_t fz_write(int fd, const void *buf, size_t len);
static int fz_getsockname(int fd, struct sockaddr *sa, socklen_t *len);
#define sendmmsg(fd, m, n, f) fz_sendmmsg(fd, m, n, f)
#define write(fd, b, n) fz_write(fd, b, n)
#define getsockname(fd, sa, l) fz_getsockname(fd, sa, l)
#include "../../src/dp.c"
#include "../../src/dp_tun.c"
#include "../../src/dp_setup.c"
#include "../../src/dp_drops.c"
#undef sendmmsg
#undef write
#undef getsockname

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "CHECK failed: %s\n", #c); abort(); } } while (0)

#define FD_SOCK4 1000
#define FD_SOCK6 1001
#define FD_TUN 1002

/* Input: flags byte, port byte (its top bit: the datagram comes 3 times), then the datagram. */
#define F_SRC 0x07        /* which source address (srcs[]) */
#define F_TRUNC 0x08      /* MSG_TRUNC set */
#define F_PKTINFO 0x10    /* IP_PKTINFO / IPV6_PKTINFO control message */
#define F_SEND 0x60       /* 0: sends succeed, 1: the first fails, 2: all fail, 3: short batches */
#define F_TUNIN 0x80      /* the payload was read from the TUN device */

static const char conf_text[] =
	"listen = [ \"0.0.0.0:2152\", \"[::]:2152\" ];\n"
	"echo = { interval = 0; on_down = \"drop\"; };\n"
	"error_indication = { enabled = true; rate = 5; quiet = 0; };\n"
	"peers = (\n"
	"  { name = \"enb\"; address = \"192.0.2.10\"; },\n"
	"  { name = \"upf\"; address = \"198.51.100.20\"; },\n"
	"  { name = \"enb6\"; address = \"2001:db8:1::10\"; },\n"
	"  { name = \"upf6\"; address = \"2001:db8:2::20\"; },\n"
	"  { name = \"down\"; address = \"203.0.113.9\"; }\n"
	");\n"
	"tun = { name = \"gtpf\"; mtu = 1400; addresses = [ \"10.45.0.1/16\" ]; };\n"
	"tunnels = (\n"
	"  { name = \"up\"; from = { peer = \"enb\"; teid = 1; }; to = { peer = \"upf\"; teid = 0x200; }; },\n"
	"  { name = \"down\"; from = { peer = \"upf\"; teid = 2; }; to = { peer = \"enb\"; teid = 0x101; }; },\n"
	"  { name = \"x46\"; from = { peer = \"enb\"; teid = 3; }; to = { peer = \"upf6\"; teid = 0x500; }; },\n"
	"  { name = \"x64\"; from = { peer = \"enb6\"; teid = 4; }; to = { peer = \"enb\"; teid = 0x401; }; },\n"
	"  { name = \"todown\"; from = { peer = \"enb\"; teid = 5; }; to = { peer = \"down\"; teid = 6; }; },\n"
	"  { name = \"ue\"; from = { peer = \"enb\"; teid = 0x300; }; to = { peer = \"enb\"; teid = 0x301; };\n"
	"    ue = [ \"10.45.0.2\", \"2001:db8:45::2\" ]; qfi = 9; },\n"
	"  { name = \"ue6\"; from = { peer = \"enb6\"; teid = 0x310; }; to = { peer = \"enb6\"; teid = 0x311; };\n"
	"    ue = [ \"10.45.0.3\" ]; rate = 80000; burst = 3000; }\n"
	");\n";

static const char *const srcs[8] = {
	"192.0.2.10", "198.51.100.20", "2001:db8:1::10", "2001:db8:2::20",
	"203.0.113.9", "192.0.2.66", "2001:db8:1::66", "0.0.0.0",
};

static struct dp fz_dp;
static struct dp_worker fz_w;
static struct state *fz_s;
static unsigned send_mode;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fz_getsockname(int fd, struct sockaddr *sa, socklen_t *len)
{
	struct sockaddr_storage ss;
	socklen_t l;

	memset(&ss, 0, sizeof(ss));
	if (fd == FD_SOCK4) {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		a->sin_family = AF_INET;
		a->sin_port = htons(2152);
		l = sizeof(*a);
	} else if (fd == FD_SOCK6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons(2152);
		l = sizeof(*a);
	} else {
		errno = EBADF;
		return -1;
	}
	memcpy(sa, &ss, *len < l ? *len : l);
	*len = l;
	return 0;
}

/* The UDP GSO segment size of a message, 0 without one. */
static size_t gso_seg_of(const struct msghdr *mh)
{
	struct cmsghdr *c = CMSG_FIRSTHDR((struct msghdr *)mh);
	uint16_t gs;

	if (!c)
		return 0;
	CHECK(c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_SEGMENT);
	CHECK(c->cmsg_len == CMSG_LEN(sizeof(gs)));
	CHECK(!CMSG_NXTHDR((struct msghdr *)mh, c));
	memcpy(&gs, CMSG_DATA(c), sizeof(gs));
	return gs;
}

/* What gtpud sends is GTP-U that parses, to an address of the socket's
 * family: one datagram, or a UDP GSO run of datagrams all of the segment
 * size, within the kernel's limits. */
static void check_out(int fd, const struct msghdr *mh)
{
	const struct sockaddr *sa = mh->msg_name;
	size_t seg = gso_seg_of(mh), total = 0;
	struct gtpu_hdr h;

	CHECK(mh->msg_iovlen >= 1 && mh->msg_iovlen <= GSO_SEGS);
	CHECK(mh->msg_iovlen == 1 ? seg == 0 : seg == mh->msg_iov[0].iov_len);
	for (size_t i = 0; i < mh->msg_iovlen; i++) {
		const struct iovec *v = &mh->msg_iov[i];

		CHECK(v->iov_len >= 8 && v->iov_len <= DP_BUF + GTPU_HEADROOM);
		CHECK(!seg || v->iov_len == seg);
		CHECK(gtpu_parse(v->iov_base, v->iov_len, &h) == GTPU_OK);
		CHECK(h.msg_len == v->iov_len);
		total += v->iov_len;
	}
	CHECK(!seg || total <= GSO_BYTES);
	CHECK(sa && mh->msg_namelen <= sizeof(struct sockaddr_storage));
	CHECK(sa->sa_family == (fd == FD_SOCK4 ? AF_INET : AF_INET6));
	CHECK(mh->msg_namelen == (sa->sa_family == AF_INET ? sizeof(struct sockaddr_in)
							    : sizeof(struct sockaddr_in6)));
}

static int fz_sendmmsg(int fd, struct mmsghdr *m, unsigned n, int flags)
{
	static unsigned calls;

	(void)flags;
	CHECK(fd == FD_SOCK4 || fd == FD_SOCK6);
	CHECK(n >= 1 && n <= TXQ);
	for (unsigned i = 0; i < n; i++)
		check_out(fd, &m[i].msg_hdr);
	calls++;
	/* Now and then the kernel refuses a GSO run (no checksum offload). */
	if (gso_seg_of(&m[0].msg_hdr) && calls % 3 == 0) {
		errno = calls % 2 ? EIO : EINVAL;
		return -1;
	}
	switch (send_mode) {
	case 1:
		if (calls == 1) {
			errno = ECONNREFUSED;
			return -1;
		}
		return (int)n;
	case 2:
		errno = ENETUNREACH;
		return -1;
	case 3:
		return (int)(1 + calls % n);
	default:
		return (int)n;
	}
}

static ssize_t fz_write(int fd, const void *buf, size_t len)
{
	struct inner_pkt ip;

	if (fd != FD_TUN)
		return write(fd, buf, len);
	/* Only valid inner packets (or the ICMP errors gtpud builds) reach the device. */
	CHECK(inner_parse(buf, len, &ip) == INNER_OK && ip.len == len);
	if (send_mode == 2) {
		errno = EIO;
		return -1;
	}
	return (ssize_t)len;
}

static void check_identity(void)
{
	const struct wstats *st = &fz_w.st;
	uint64_t sum = st->forwarded + st->answered + st->sig_rx;

	for (unsigned r = 0; r < DROP__COUNT; r++)
		sum += st->drops[r];
	if (st->rx_pkts != sum) {
		fprintf(stderr, "rx %llu != forwarded %llu + answered %llu + taken in %llu + drops\n",
			(unsigned long long)st->rx_pkts, (unsigned long long)st->forwarded,
			(unsigned long long)st->answered, (unsigned long long)st->sig_rx);
		abort();
	}
}

static void setup(void)
{
	struct conf_errors errs;
	struct conf *c;
	struct scratch *sc;
	char *collide = NULL;

	if (conf_read_string(conf_text, "fuzz.conf", &c, &errs) != 0) {
		for (unsigned i = 0; i < errs.n; i++)
			fprintf(stderr, "%s\n", errs.msg[i]);
		abort();
	}
	conf_errors_fini(&errs);
	CHECK(state_new(c, NULL, 0, 16, NULL, 1, &fz_s, &collide) == 0);
	free(collide);
	fz_dp.n_workers = 1;
	fz_dp.w = &fz_w;
	fz_dp.cur = fz_s;
	fz_dp.gen = 1;
	fz_dp.notify_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	fz_dp.tun_mtu = 1400;
	CHECK(fz_dp.notify_fd >= 0);
	fz_w.dp = &fz_dp;
	fz_w.socks[0] = FD_SOCK4;
	fz_w.sock_family[0] = AF_INET;
	fz_w.socks[1] = FD_SOCK6;
	fz_w.sock_family[1] = AF_INET6;
	fz_w.n_socks = 2;
	fz_w.tun_fd = FD_TUN;
	tbucket_init(&fz_w.ei_global, 5, 5, 0);
	CHECK((sc = calloc(1, sizeof(*sc))));
	CHECK((sc->bufs = malloc((size_t)DP_BATCH * SLOT)));
	CHECK((sc->tunbufs = malloc((size_t)DP_BATCH * SLOT)));
	CHECK((sc->txq = calloc(fz_w.n_socks, sizeof(*sc->txq))));
	fz_w.scratch = sc;
	sc->s = fz_s;              /* the batch's state: a failed send names its tunnel */
	for (uint32_t i = 0; i < fz_s->n_peers; i++)
		if (!strcmp(fz_s->peers[i]->name, "down"))
			fz_s->peers[i]->state = PEER_DOWN;
}

static socklen_t make_src(uint8_t flags, uint8_t port, struct sockaddr_storage *ss)
{
	const char *a = srcs[flags & F_SRC];

	memset(ss, 0, sizeof(*ss));
	if (strchr(a, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port ? 2152 : 40000);
		inet_pton(AF_INET6, a, &s6->sin6_addr);
		return sizeof(*s6);
	}
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

	s4->sin_family = AF_INET;
	s4->sin_port = htons(port ? 2152 : 40000);
	inet_pton(AF_INET, a, &s4->sin_addr);
	return sizeof(*s4);
}

static size_t make_pktinfo(int family, uint8_t *ctl, size_t cap)
{
	struct msghdr mh = { .msg_control = ctl, .msg_controllen = cap };
	struct cmsghdr *c;

	memset(ctl, 0, cap);
	c = CMSG_FIRSTHDR(&mh);
	if (family == AF_INET) {
		struct in_pktinfo pi = { 0 };

		inet_pton(AF_INET, "192.0.2.1", &pi.ipi_addr);
		pi.ipi_spec_dst = pi.ipi_addr;      /* unicast: sent to the address that received it */
		c->cmsg_level = IPPROTO_IP;
		c->cmsg_type = IP_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(c), &pi, sizeof(pi));
		return CMSG_SPACE(sizeof(pi));
	}
	struct in6_pktinfo pi6 = { 0 };

	inet_pton(AF_INET6, "2001:db8:1::1", &pi6.ipi6_addr);
	c->cmsg_level = IPPROTO_IPV6;
	c->cmsg_type = IPV6_PKTINFO;
	c->cmsg_len = CMSG_LEN(sizeof(pi6));
	memcpy(CMSG_DATA(c), &pi6, sizeof(pi6));
	return CMSG_SPACE(sizeof(pi6));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct scratch *sc;
	struct sockaddr_storage src;
	uint8_t ctl[64], *buf, *extra[2];
	unsigned n_extra = 0;
	struct mmsghdr m;
	size_t len;
	uint8_t flags;

	if (!fz_s)
		setup();
	if (size < 2 || size - 2 > DP_BUF)
		return -1;
	sc = fz_w.scratch;
	flags = data[0];
	len = size - 2;
	send_mode = (flags & F_SEND) >> 5;
	/* An exact-size buffer (with the headroom gtpud reserves in front) so
	 * that ASan sees any read past the datagram. */
	buf = malloc(GTPU_HEADROOM + len + 1);
	CHECK(buf);
	memcpy(buf + GTPU_HEADROOM, data + 2, len);
	/* A refused GSO run turns runs off for the worker: on again each input. */
	sc->gso_seg = 65535;

	if (flags & F_TUNIN) {
		ep_encap(&fz_w, fz_s, sc, buf, len, mono_ns());
	} else {
		struct rxctx x = { &fz_w, fz_s, sc, 0, mono_ns() };

		memset(&m, 0, sizeof(m));
		m.msg_hdr.msg_namelen = make_src(flags, data[1], &src);
		m.msg_hdr.msg_name = &src;
		x.sock = src.ss_family == AF_INET ? 0 : 1;
		if (flags & F_PKTINFO) {
			m.msg_hdr.msg_control = ctl;
			m.msg_hdr.msg_controllen = make_pktinfo(src.ss_family, ctl, sizeof(ctl));
		}
		if (flags & F_TRUNC)
			m.msg_hdr.msg_flags = MSG_TRUNC;
		m.msg_len = (unsigned)len;
		/* The same datagram several times in one batch (the top bit of
		 * the port byte): relayed copies form UDP GSO runs. Each is
		 * parsed afresh from a copy, as the relay rewrites in place. */
		for (unsigned r = 0; r < (data[1] & 0x80 ? 3u : 1u); r++) {
			uint8_t *b = r ? malloc(GTPU_HEADROOM + len + 1) : buf;

			CHECK(b);
			if (r) {
				memcpy(b + GTPU_HEADROOM, data + 2, len);
				extra[n_extra++] = b;
			}
			rx_one(&x, b + GTPU_HEADROOM, &m, state_lookup_peer(x.s, m.msg_hdr.msg_name));
		}
	}
	dp_tx_flush(&fz_w, sc);
	while (n_extra)
		free(extra[--n_extra]);
	check_identity();
	/* The control thread would take these events. */
	__atomic_store_n(&fz_w.ev_tail, __atomic_load_n(&fz_w.ev_head, __ATOMIC_RELAXED),
			 __ATOMIC_RELAXED);
	free(buf);
	return 0;
}
