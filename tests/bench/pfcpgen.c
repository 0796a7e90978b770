/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A PFCP control plane for benchmarks: sets up an association, then
 * establishes or deletes sessions as fast as gtpud answers, with a window
 * of requests in flight. Each session is a tunnel map: two PDRs with CHOOSE
 * F-TEIDs (access, core) and two FARs with Outer Header Creation.
 *
 *   pfcpgen SERVER BIND assoc
 *   pfcpgen SERVER BIND est N WINDOW FIRST_CPSEID SEIDS_OUT [TEIDS_OUT]
 *   pfcpgen SERVER BIND del WINDOW SEIDS_IN
 *   pfcpgen SERVER BIND stream TEID PPS SECONDS   G-PDUs to SERVER:2152
 *
 * Prints one line of JSON: {"done": N, "seconds": S, "rate": R, "refused": K}. */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static uint8_t *p;
static size_t n;

static void u8(uint8_t v) { p[n++] = v; }
static void u16(uint16_t v) { u8((uint8_t)(v >> 8)); u8((uint8_t)v); }
static void u32(uint32_t v) { u16((uint16_t)(v >> 16)); u16((uint16_t)v); }
static void u64(uint64_t v) { u32((uint32_t)(v >> 32)); u32((uint32_t)v); }
static size_t ie(uint16_t t) { size_t at = n; u16(t); u16(0); return at; }
static void end(size_t at) { p[at + 2] = (uint8_t)((n - at - 4) >> 8); p[at + 3] = (uint8_t)(n - at - 4); }

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void hdr(uint8_t type, int s, uint64_t seid, uint32_t seq)
{
	n = 0;
	u8((uint8_t)(0x20 | (s ? 1 : 0)));
	u8(type);
	u16(0);
	if (s)
		u64(seid);
	u8((uint8_t)(seq >> 16)); u8((uint8_t)(seq >> 8)); u8((uint8_t)seq); u8(0);
}

static void fin(void)
{
	p[2] = (uint8_t)((n - 4) >> 8);
	p[3] = (uint8_t)(n - 4);
}

static struct in_addr me;

static void node_id(void)
{
	size_t a = ie(60);

	u8(0);
	memcpy(p + n, &me, 4);
	n += 4;
	end(a);
}

static void pdr(uint16_t id, uint8_t src, uint32_t far)
{
	size_t a = ie(1), b;

	b = ie(56); u16(id); end(b);
	b = ie(29); u32(100); end(b);
	{
		size_t pdi = ie(2), c;

		c = ie(20); u8(src); end(c);
		c = ie(21); u8(0x05); end(c);     /* CH, V4 */
		end(pdi);
	}
	b = ie(95); u8(0); end(b);
	b = ie(108); u32(far); end(b);
	end(a);
}

static void far(uint32_t id, uint8_t dst, uint32_t addr, uint32_t teid)
{
	size_t a = ie(3), b, fp;

	b = ie(108); u32(id); end(b);
	b = ie(44); u8(0x02); end(b);
	fp = ie(4);
	b = ie(42); u8(dst); end(b);
	b = ie(84); u16(0x0100); u32(teid); u32(addr); end(b);
	end(fp);
	end(a);
}

static void est(uint64_t cp, uint32_t seq)
{
	size_t a;

	hdr(50, 1, 0, seq);
	node_id();
	a = ie(57); u8(0x02); u64(cp); memcpy(p + n, &me, 4); n += 4; end(a);
	pdr(1, 0, 1);
	pdr(2, 1, 2);
	/* OHC peers: 192.0.2.20 (core) and 192.0.2.10 (access). */
	far(1, 1, 0xc0000214, (uint32_t)cp);
	far(2, 0, 0xc000020a, (uint32_t)cp + 0x40000000u);
	fin();
}

static uint8_t cause_of(const uint8_t *b, size_t len, uint64_t *seid, uint32_t *teid1)
{
	size_t off = (b[0] & 1) ? 16 : 8;
	uint8_t cause = 0;

	*seid = 0;
	while (off + 4 <= len) {
		uint16_t t = (uint16_t)(b[off] << 8 | b[off + 1]), l = (uint16_t)(b[off + 2] << 8 | b[off + 3]);

		if (off + 4 + l > len)
			break;
		if (t == 19 && l)
			cause = b[off + 4];
		if (t == 57 && l >= 9)
			for (int i = 0; i < 8; i++)
				*seid = *seid << 8 | b[off + 5 + i];
		if (t == 8 && teid1) {
			/* Created PDR: PDR ID, then F-TEID; keep PDR 1's TEID. */
			size_t o = off + 4, e = off + 4 + l;
			uint16_t pid = 0;

			while (o + 4 <= e) {
				uint16_t tt = (uint16_t)(b[o] << 8 | b[o + 1]), ll = (uint16_t)(b[o + 2] << 8 | b[o + 3]);

				if (tt == 56 && ll >= 2)
					pid = (uint16_t)(b[o + 4] << 8 | b[o + 5]);
				if (tt == 21 && ll >= 5 && pid == 1)
					*teid1 = (uint32_t)b[o + 5] << 24 | (uint32_t)b[o + 6] << 16 | (uint32_t)b[o + 7] << 8 | b[o + 8];
				o += 4u + ll;
			}
		}
		off += 4u + l;
	}
	return cause;
}

int main(int argc, char **argv)
{
	struct sockaddr_in srv = { .sin_family = AF_INET, .sin_port = htons(8805) }, loc = srv;
	uint8_t buf[65536], rbuf[65536];
	int fd;

	if (argc < 4)
		return 2;
	p = buf;
	inet_pton(AF_INET, argv[1], &srv.sin_addr);
	inet_pton(AF_INET, argv[2], &loc.sin_addr);
	me = loc.sin_addr;
	loc.sin_port = 0;
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	{
		int sz = 8 << 20;

		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	}
	if (bind(fd, (struct sockaddr *)&loc, sizeof(loc)) < 0 || connect(fd, (struct sockaddr *)&srv, sizeof(srv)) < 0) {
		perror("socket");
		return 1;
	}
	if (!strcmp(argv[3], "assoc")) {
		size_t a;
		uint64_t s;

		hdr(5, 0, 0, 1);
		node_id();
		a = ie(96); u32(3900000000u); end(a);
		fin();
		send(fd, buf, n, 0);
		struct pollfd pf = { fd, POLLIN, 0 };
		if (poll(&pf, 1, 3000) <= 0)
			return 1;
		ssize_t r = recv(fd, rbuf, sizeof(rbuf), 0);
		printf("{\"cause\": %u}\n", r > 0 ? cause_of(rbuf, (size_t)r, &s, NULL) : 0);
		return 0;
	}
	if (!strcmp(argv[3], "stream")) {
		uint32_t teid = (uint32_t)strtoul(argv[4], NULL, 0);
		unsigned pps = (unsigned)atoi(argv[5]), per = pps / 1000 ? pps / 1000 : 1;
		double secs = atof(argv[6]), t0 = now(), next = t0;
		uint64_t sent = 0;
		int g = socket(AF_INET, SOCK_DGRAM, 0);
		struct sockaddr_in d = srv;

		d.sin_port = htons(2152);
		if (connect(g, (struct sockaddr *)&d, sizeof(d)) < 0)
			return 1;
		while (now() - t0 < secs) {
			for (unsigned i = 0; i < per; i++) {
				uint8_t m[8 + 64] = { 0x30, 0xff, 0, 64 };

				m[4] = (uint8_t)(teid >> 24); m[5] = (uint8_t)(teid >> 16);
				m[6] = (uint8_t)(teid >> 8); m[7] = (uint8_t)teid;
				memcpy(m + 8, &sent, sizeof(sent));
				if (send(g, m, sizeof(m), 0) == (ssize_t)sizeof(m))
					sent++;
			}
			next += 0.001 * per * 1000 / pps;
			double w = next - now();

			if (w > 0) {
				struct timespec ts = { 0, (long)(w * 1e9) };

				nanosleep(&ts, NULL);
			}
		}
		printf("{\"sent\": %llu, \"seconds\": %.3f}\n", (unsigned long long)sent, now() - t0);
		return 0;
	}
	if (!strcmp(argv[3], "est") || !strcmp(argv[3], "del")) {
		int is_est = !strcmp(argv[3], "est");
		uint64_t total, first = 0, *seids;
		uint32_t *teids = NULL;
		unsigned win = (unsigned)atoi(argv[is_est ? 5 : 4]);
		uint64_t sent = 0, got = 0, refused = 0;
		double t0;
		FILE *f;

		if (is_est) {
			total = strtoull(argv[4], NULL, 0);
			first = strtoull(argv[6], NULL, 0);
			seids = calloc(total, sizeof(*seids));
			teids = calloc(total, sizeof(*teids));
		} else {
			long sz;

			f = fopen(argv[5], "rb");
			fseek(f, 0, SEEK_END);
			sz = ftell(f);
			rewind(f);
			total = (uint64_t)sz / 8;
			seids = malloc((size_t)sz);
			if (fread(seids, 8, total, f) != total)
				return 1;
			fclose(f);
		}
		t0 = now();
		while (got < total) {
			struct pollfd pf = { fd, POLLIN, 0 };

			while (sent < total && sent - got < win) {
				uint32_t seq = (uint32_t)(sent % 0xfffff0) + 1;

				if (is_est) {
					est(first + sent, seq);
				} else {
					hdr(54, 1, seids[sent], seq);
					fin();
				}
				if (send(fd, buf, n, 0) < 0 && errno != ENOBUFS)
					return 1;
				sent++;
			}
			if (poll(&pf, 1, 5000) <= 0) {
				fprintf(stderr, "pfcpgen: no answer (%llu of %llu)\n", (unsigned long long)got,
					(unsigned long long)total);
				return 1;
			}
			for (;;) {
				ssize_t r = recv(fd, rbuf, sizeof(rbuf), MSG_DONTWAIT);
				uint64_t s;
				uint32_t t1 = 0, seq;

				if (r <= 0)
					break;
				seq = (uint32_t)rbuf[12] << 16 | (uint32_t)rbuf[13] << 8 | rbuf[14];
				if (cause_of(rbuf, (size_t)r, &s, &t1) != 1)
					refused++;
				if (is_est && seq >= 1 && seq - 1 < total) {
					seids[seq - 1] = s;
					teids[seq - 1] = t1;
				}
				got++;
			}
		}
		double dt = now() - t0;
		printf("{\"done\": %llu, \"seconds\": %.3f, \"rate\": %.0f, \"refused\": %llu}\n",
		       (unsigned long long)got, dt, got / dt, (unsigned long long)refused);
		if (is_est) {
			f = fopen(argv[7], "wb");
			fwrite(seids, 8, total, f);
			fclose(f);
			if (argc > 8) {
				f = fopen(argv[8], "wb");
				fwrite(teids, 4, total, f);
				fclose(f);
			}
		}
		return refused ? 3 : 0;
	}
	return 2;
}
