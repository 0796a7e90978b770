/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Traffic generator for the flood and soak tests: mixed GTP-U (valid G-PDUs,
 * 1% malformed of every must-fail kind, unknown TEIDs, Echo Requests from
 * sources that are not peers) sent with sendmmsg as fast as it goes or at a
 * given rate, counting what comes back; and a sink that counts what arrives.
 * Independent of gtpud's codec: the datagrams are written byte by byte.
 *
 *   flood_gen send --dst A --peer A --nonpeer A [--dst6 A --peer6 A --nonpeer6 A]
 *                  --teid N [--teid6 N] [--seconds S] [--pps N] [--malformed PERMILLE]
 *                  [--kinds LIST]
 *   flood_gen sink --bind A [--bind6 A] [--seconds S]
 *
 * Both print "key value" lines at the end (see report()). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PORT 2152
#define BATCH 64
#define BIG 9400                 /* larger than gtpud's 9216-byte receive buffer */

enum { S_PEER4, S_NONPEER4, S_PEER6, S_NONPEER6, S__N };

/* The must-fail kinds and the drop reason each is counted under. */
struct kind {
	const char *name;
	const char *reason;
	int sock;                /* S_* it is sent from */
};
static const struct kind kinds[] = {
	{ "short", "malformed", S_PEER4 },
	{ "version0", "version", S_PEER4 },
	{ "version2", "version", S_PEER4 },
	{ "pt0", "version", S_PEER4 },
	{ "length_long", "malformed", S_PEER4 },
	{ "length_short", "malformed", S_PEER4 },
	{ "ext_len0", "ext_header", S_PEER4 },
	{ "ext_trunc", "ext_header", S_PEER4 },
	{ "ext_too_many", "ext_header", S_PEER4 },
	{ "ext_required", "ext_unsupported", S_PEER4 },
	{ "unsupported_type", "unsupported_type", S_PEER4 },
	{ "echo_ie_trunc", "malformed", S_NONPEER4 },
	{ "error_ind_no_ies", "malformed", S_PEER4 },
	{ "teid0", "unknown_teid", S_PEER4 },
	{ "too_long", "too_long", S_PEER4 },
};
#define N_KINDS (sizeof(kinds) / sizeof(kinds[0]))

static volatile sig_atomic_t stop;
static void on_signal(int sig) { (void)sig; stop = 1; }

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void die(const char *what)
{
	fprintf(stderr, "flood_gen: %s: %s\n", what, strerror(errno));
	exit(2);
}

static socklen_t mkaddr(const char *s, uint16_t port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (strchr(s, ':')) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons(port);
		if (inet_pton(AF_INET6, s, &a->sin6_addr) != 1)
			goto bad;
		return sizeof(*a);
	}
	struct sockaddr_in *a = (struct sockaddr_in *)ss;

	a->sin_family = AF_INET;
	a->sin_port = htons(port);
	if (inet_pton(AF_INET, s, &a->sin_addr) != 1)
		goto bad;
	return sizeof(*a);
bad:
	fprintf(stderr, "flood_gen: bad address %s\n", s);
	exit(2);
}

static int open_bound(const char *addr)
{
	struct sockaddr_storage ss;
	socklen_t sl = mkaddr(addr, PORT, &ss);
	int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int buf = 8 << 20, one = 1;

	if (fd < 0)
		die("socket");
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof(buf)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0)
		die(addr);
	return fd;
}

/* GTP-U header: flags, type, Length, TEID. */
static size_t hdr(uint8_t *b, uint8_t flags, uint8_t type, uint16_t length, uint32_t teid)
{
	b[0] = flags;
	b[1] = type;
	b[2] = (uint8_t)(length >> 8);
	b[3] = (uint8_t)length;
	b[4] = (uint8_t)(teid >> 24);
	b[5] = (uint8_t)(teid >> 16);
	b[6] = (uint8_t)(teid >> 8);
	b[7] = (uint8_t)teid;
	return 8;
}

/* A G-PDU whose payload is an inner IPv4 packet of len bytes in all. */
static size_t gpdu(uint8_t *b, uint32_t teid, size_t len, uint32_t n)
{
	hdr(b, 0x30, 0xff, (uint16_t)len, teid);
	memset(b + 8, 0, len);
	b[8] = 0x45;
	b[10] = (uint8_t)(len >> 8);
	b[11] = (uint8_t)len;
	b[17] = 17;
	memcpy(b + 20, &n, 4);
	return 8 + len;
}

static size_t echo_req(uint8_t *b, uint16_t seq)
{
	hdr(b, 0x32, 1, 4, 0);
	b[8] = (uint8_t)(seq >> 8);
	b[9] = (uint8_t)seq;
	b[10] = b[11] = 0;
	return 12;
}

static size_t malformed(uint8_t *b, unsigned k, uint32_t teid)
{
	const char *n = kinds[k].name;

	if (!strcmp(n, "short"))
		return hdr(b, 0x30, 0xff, 0, teid) - 3;
	if (!strcmp(n, "version0"))
		return hdr(b, 0x10, 0xff, 4, teid) + 4;
	if (!strcmp(n, "version2"))
		return hdr(b, 0x48, 0x01, 4, teid) + 4;
	if (!strcmp(n, "pt0"))
		return hdr(b, 0x20, 0xff, 4, teid) + 4;
	if (!strcmp(n, "length_long"))
		return hdr(b, 0x30, 0xff, 200, teid) + 20;
	if (!strcmp(n, "length_short")) {
		/* S set: the optional word needs Length >= 4 */
		hdr(b, 0x32, 0xff, 2, teid);
		b[8] = b[9] = 0;
		return 10;
	}
	if (!strcmp(n, "ext_len0")) {
		hdr(b, 0x34, 0xff, 8, teid);
		memcpy(b + 8, "\x00\x00\x00\x85\x00\x00\x00\x00", 8);
		return 16;
	}
	if (!strcmp(n, "ext_trunc")) {
		hdr(b, 0x34, 0xff, 8, teid);
		memcpy(b + 8, "\x00\x00\x00\x85\x05\x00\x00\x00", 8);
		return 16;
	}
	if (!strcmp(n, "ext_too_many")) {
		/* 100 UDP Port headers (class 01): more than any receiver walks. */
		size_t off = 12;

		memcpy(b + 8, "\x00\x00\x00\x40", 4);
		for (int i = 0; i < 100; i++, off += 4)
			memcpy(b + off, i == 99 ? "\x01\x08\x68\x00" : "\x01\x08\x68\x40", 4);
		hdr(b, 0x34, 0xff, (uint16_t)(off - 8), teid);
		return off;
	}
	if (!strcmp(n, "ext_required")) {
		/* type 0xc7: comprehension required by every receiver, unknown */
		hdr(b, 0x34, 0xff, 16, teid);
		memcpy(b + 8, "\x00\x00\x00\xc7\x01\x00\x00\x00\x45\x00\x00\x08\x00\x00\x00\x00", 16);
		return 24;
	}
	if (!strcmp(n, "unsupported_type"))
		return hdr(b, 0x30, 100, 4, 0) + 4;
	if (!strcmp(n, "echo_ie_trunc")) {
		hdr(b, 0x32, 1, 5, 0);
		memcpy(b + 8, "\x00\x01\x00\x00\x0e", 5);
		return 13;
	}
	if (!strcmp(n, "error_ind_no_ies")) {
		hdr(b, 0x32, 26, 4, 0);
		memset(b + 8, 0, 4);
		return 12;
	}
	if (!strcmp(n, "teid0"))
		return gpdu(b, 0, 40, 0);
	/* too_long */
	return gpdu(b, teid, BIG - 8, 0);
}

struct out {
	struct mmsghdr m[BATCH * 4];
	struct iovec iov[BATCH * 4];
	unsigned n;
};

struct gen {
	int fd[S__N];
	struct sockaddr_storage dst[S__N];
	socklen_t dlen[S__N];
	uint32_t teid, teid6;
	unsigned permille;
	bool kind_on[N_KINDS];
	uint8_t *bufs;           /* one buffer per slot of a cycle */
	/* Counts. */
	uint64_t sent[S__N], send_err, cycles;
	uint64_t sent_valid, sent_valid6, sent_unknown, sent_unknown_np, sent_echo, sent_kind[N_KINDS];
	uint64_t rx_echo_rsp[S__N], rx_err_ind[S__N], rx_sehn[S__N], rx_other[S__N];
};

#define SLOT_SZ (BIG + 64)
#define CYCLE 200

static void queue(struct gen *g, struct out *o, int sock, size_t slot, size_t len)
{
	uint8_t *b = g->bufs + slot * SLOT_SZ;

	(void)sock;
	o[sock].iov[o[sock].n] = (struct iovec){ b, len };
	o[sock].m[o[sock].n].msg_hdr = (struct msghdr){ .msg_name = &g->dst[sock],
		.msg_namelen = g->dlen[sock], .msg_iov = &o[sock].iov[o[sock].n], .msg_iovlen = 1 };
	o[sock].n++;
}

/* One cycle of CYCLE datagrams: 1% malformed (by default), 5% unknown TEIDs
 * from a peer, 1% from a stranger, 3% Echo Requests from strangers, the
 * rest valid G-PDUs (a twentieth of them over IPv6 when configured). */
static unsigned build_cycle(struct gen *g, struct out *o)
{
	static unsigned next_kind;
	size_t slot = 0;
	unsigned n_bad = CYCLE * g->permille / 1000;
	uint32_t c = (uint32_t)g->cycles;

	for (int s = 0; s < S__N; s++)
		o[s].n = 0;
	for (unsigned i = 0; i < n_bad; i++) {
		unsigned k;

		for (k = 0; k < N_KINDS && !g->kind_on[next_kind % N_KINDS]; k++)
			next_kind++;
		if (k == N_KINDS)
			break;
		k = next_kind++ % N_KINDS;
		queue(g, o, kinds[k].sock, slot, malformed(g->bufs + slot * SLOT_SZ, k, g->teid));
		slot++;
		g->sent_kind[k]++;
	}
	for (unsigned i = 0; i < 10; i++, slot++, g->sent_unknown++)
		queue(g, o, S_PEER4, slot, gpdu(g->bufs + slot * SLOT_SZ, 0x70000 + (c * 10 + i) % 65536, 60, c));
	for (unsigned i = 0; i < 2; i++, slot++, g->sent_unknown_np++)
		queue(g, o, S_NONPEER4, slot, gpdu(g->bufs + slot * SLOT_SZ, 0x80000 + i, 60, c));
	for (unsigned i = 0; i < 6; i++, slot++, g->sent_echo++) {
		int s = g->fd[S_NONPEER6] >= 0 && i % 3 == 2 ? S_NONPEER6 : S_NONPEER4;

		queue(g, o, s, slot, echo_req(g->bufs + slot * SLOT_SZ, (uint16_t)(c * 6 + i)));
	}
	while (slot < CYCLE) {
		bool v6 = g->fd[S_PEER6] >= 0 && slot % 20 == 0;

		queue(g, o, v6 ? S_PEER6 : S_PEER4, slot,
		      gpdu(g->bufs + slot * SLOT_SZ, v6 ? g->teid6 : g->teid, slot % 2 ? 1000 : 100, c));
		if (v6)
			g->sent_valid6++;
		else
			g->sent_valid++;
		slot++;
	}
	g->cycles++;
	return (unsigned)slot;
}

static void drain(struct gen *g)
{
	static uint8_t rb[BATCH][2048];
	struct mmsghdr m[BATCH];
	struct iovec iov[BATCH];

	for (int s = 0; s < S__N; s++) {
		int n;

		if (g->fd[s] < 0)
			continue;
		for (;;) {
			for (int i = 0; i < BATCH; i++) {
				iov[i] = (struct iovec){ rb[i], sizeof(rb[i]) };
				m[i].msg_hdr = (struct msghdr){ .msg_iov = &iov[i], .msg_iovlen = 1 };
			}
			n = recvmmsg(g->fd[s], m, BATCH, MSG_DONTWAIT, NULL);
			if (n <= 0)
				break;
			for (int i = 0; i < n; i++) {
				uint8_t type = m[i].msg_len >= 2 ? rb[i][1] : 0;

				if (type == 2)
					g->rx_echo_rsp[s]++;
				else if (type == 26)
					g->rx_err_ind[s]++;
				else if (type == 31)
					g->rx_sehn[s]++;
				else
					g->rx_other[s]++;
			}
		}
	}
}

static void send_all(struct gen *g, struct out *o)
{
	for (int s = 0; s < S__N; s++) {
		unsigned done = 0;

		while (done < o[s].n && !stop) {
			unsigned k = o[s].n - done > BATCH ? BATCH : o[s].n - done;
			int r = sendmmsg(g->fd[s], o[s].m + done, k, 0);

			if (r < 0) {
				if (errno == EAGAIN || errno == ENOBUFS) {
					struct pollfd p = { g->fd[s], POLLOUT, 0 };

					poll(&p, 1, 10);
					continue;
				}
				g->send_err++;
				done++;
				continue;
			}
			g->sent[s] += (unsigned)r;
			done += (unsigned)r;
		}
	}
}

static const char *sname[S__N] = { "peer4", "nonpeer4", "peer6", "nonpeer6" };

static int run_send(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dst", 1, 0, 'd' }, { "dst6", 1, 0, 'D' }, { "peer", 1, 0, 'p' }, { "peer6", 1, 0, 'P' },
		{ "nonpeer", 1, 0, 'n' }, { "nonpeer6", 1, 0, 'N' }, { "teid", 1, 0, 't' },
		{ "teid6", 1, 0, 'T' }, { "seconds", 1, 0, 's' }, { "pps", 1, 0, 'r' },
		{ "malformed", 1, 0, 'm' }, { "kinds", 1, 0, 'k' }, { 0, 0, 0, 0 } };
	const char *dst = NULL, *dst6 = NULL, *src[S__N] = { 0 };
	struct gen *g = calloc(1, sizeof(*g));
	static struct out o[S__N];
	double seconds = 10;
	uint64_t pps = 0, t0, t_end, sent = 0;
	int c;

	if (!g)
		die("calloc");
	g->permille = 10;
	for (unsigned k = 0; k < N_KINDS; k++)
		g->kind_on[k] = true;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': dst = optarg; break;
		case 'D': dst6 = optarg; break;
		case 'p': src[S_PEER4] = optarg; break;
		case 'P': src[S_PEER6] = optarg; break;
		case 'n': src[S_NONPEER4] = optarg; break;
		case 'N': src[S_NONPEER6] = optarg; break;
		case 't': g->teid = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'T': g->teid6 = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 's': seconds = atof(optarg); break;
		case 'r': pps = strtoull(optarg, NULL, 0); break;
		case 'm': g->permille = (unsigned)atoi(optarg); break;
		case 'k': {
			char *list = strdup(optarg), *save = NULL;

			for (unsigned k = 0; k < N_KINDS; k++)
				g->kind_on[k] = false;
			for (char *w = strtok_r(list, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
				unsigned k;

				for (k = 0; k < N_KINDS && strcmp(w, kinds[k].name); k++)
					;
				if (k == N_KINDS) {
					fprintf(stderr, "flood_gen: unknown kind %s\n", w);
					return 2;
				}
				g->kind_on[k] = true;
			}
			free(list);
			break;
		}
		default:
			return 2;
		}
	}
	if (!dst || !src[S_PEER4] || !src[S_NONPEER4] || !g->teid) {
		fprintf(stderr, "flood_gen send: --dst, --peer, --nonpeer and --teid are required\n");
		return 2;
	}
	if (g->permille > 100)
		g->permille = 100;
	for (int s = 0; s < S__N; s++) {
		bool six = s == S_PEER6 || s == S_NONPEER6;

		g->fd[s] = -1;
		if (!src[s] || (six && !dst6))
			continue;
		g->fd[s] = open_bound(src[s]);
		g->dlen[s] = mkaddr(six ? dst6 : dst, PORT, &g->dst[s]);
	}
	if (g->fd[S_PEER6] >= 0 && !g->teid6)
		g->teid6 = g->teid;
	if (!(g->bufs = calloc(CYCLE, SLOT_SZ)))
		die("calloc");
	t0 = now_ns();
	t_end = t0 + (uint64_t)(seconds * 1e9);
	while (!stop) {
		uint64_t t = now_ns();

		if (t >= t_end)
			break;
		if (pps && sent * 1000000000.0 / pps > (double)(t - t0)) {
			struct timespec ts = { 0, 200000 };

			drain(g);
			nanosleep(&ts, NULL);
			continue;
		}
		sent += build_cycle(g, o);
		send_all(g, o);
		drain(g);
	}
	/* Late answers. */
	for (int i = 0; i < 20; i++) {
		struct timespec ts = { 0, 50000000 };

		nanosleep(&ts, NULL);
		drain(g);
	}
	double el = (double)(now_ns() - t0) / 1e9;
	uint64_t total = 0;

	for (int s = 0; s < S__N; s++)
		total += g->sent[s];
	printf("seconds %.3f\nsent %llu\npps %.0f\nsend_errors %llu\n", el, (unsigned long long)total,
	       total / el, (unsigned long long)g->send_err);
	printf("sent_valid %llu\nsent_valid6 %llu\nsent_unknown_teid %llu\nsent_unknown_teid_nonpeer %llu\n"
	       "sent_echo_nonpeer %llu\n", (unsigned long long)g->sent_valid,
	       (unsigned long long)g->sent_valid6, (unsigned long long)g->sent_unknown,
	       (unsigned long long)g->sent_unknown_np, (unsigned long long)g->sent_echo);
	for (unsigned k = 0; k < N_KINDS; k++)
		printf("kind_%s %llu %s\n", kinds[k].name, (unsigned long long)g->sent_kind[k], kinds[k].reason);
	for (int s = 0; s < S__N; s++) {
		if (g->fd[s] < 0)
			continue;
		printf("sent_%s %llu\nrx_echo_rsp_%s %llu\nrx_err_ind_%s %llu\nrx_sehn_%s %llu\nrx_other_%s %llu\n",
		       sname[s], (unsigned long long)g->sent[s],
		       sname[s], (unsigned long long)g->rx_echo_rsp[s], sname[s],
		       (unsigned long long)g->rx_err_ind[s], sname[s], (unsigned long long)g->rx_sehn[s],
		       sname[s], (unsigned long long)g->rx_other[s]);
	}
	return 0;
}

static int run_sink(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "bind", 1, 0, 'b' }, { "bind6", 1, 0, 'B' }, { "seconds", 1, 0, 's' }, { 0, 0, 0, 0 } };
	static uint8_t rb[BATCH][2048];
	struct mmsghdr m[BATCH];
	struct iovec iov[BATCH];
	struct pollfd p[2];
	unsigned np = 0;
	double seconds = 3600;
	uint64_t count = 0, bytes = 0, trunc = 0, t_end;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
		case 'B':
			p[np++] = (struct pollfd){ open_bound(optarg), POLLIN, 0 };
			break;
		case 's': seconds = atof(optarg); break;
		default: return 2;
		}
	}
	if (!np) {
		fprintf(stderr, "flood_gen sink: --bind is required\n");
		return 2;
	}
	/* Ready: the sockets are bound. */
	printf("ready\n");
	fflush(stdout);
	t_end = now_ns() + (uint64_t)(seconds * 1e9);
	while (!stop && now_ns() < t_end) {
		if (poll(p, np, 200) <= 0)
			continue;
		for (unsigned k = 0; k < np; k++) {
			int n;

			do {
				for (int i = 0; i < BATCH; i++) {
					iov[i] = (struct iovec){ rb[i], sizeof(rb[i]) };
					m[i].msg_hdr = (struct msghdr){ .msg_iov = &iov[i], .msg_iovlen = 1 };
				}
				n = recvmmsg(p[k].fd, m, BATCH, MSG_DONTWAIT, NULL);
				/* A UDP GSO train that reached us unsplit would
				 * not fit a slot: counted apart. */
				for (int i = 0; i < n; i++) {
					bytes += m[i].msg_len;
					trunc += !!(m[i].msg_hdr.msg_flags & MSG_TRUNC);
				}
				if (n > 0)
					count += (unsigned)n;
			} while (n == BATCH);
		}
	}
	printf("received %llu\nreceived_bytes %llu\ntruncated %llu\n", (unsigned long long)count,
	       (unsigned long long)bytes, (unsigned long long)trunc);
	return 0;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 2 && !strcmp(argv[1], "send"))
		return run_send(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "sink"))
		return run_sink(argc - 1, argv + 1);
	fprintf(stderr, "usage: flood_gen send|sink OPTIONS (see tests/flood_gen.c)\n");
	return 2;
}
