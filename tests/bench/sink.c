/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Bench sink: receives the relayed G-PDUs with recvmmsg, checks the rewritten
 * TEID (to = from + OFFSET), counts duplicates and reordering by sequence
 * number, records latency. Runs until SIGINT/SIGTERM, then prints JSON: one
 * line, or with -S one line per source address (several DUTs measured in one
 * run, each sending from its own address). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"

#define BATCH 64
#define SLOT 2048
#define MAX_SRC 8

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

struct stats {
	uint64_t rx, bad, teid_bad, dup, reorder, unique, max_seq, syscalls;
	uint64_t first_ns, last_ns;
	uint8_t *seen;             /* bitmap by seq */
	uint64_t seen_bits;
	uint32_t *lat;             /* ns, one per unique packet */
	uint64_t n_lat, cap_lat;
};

/* Mark seq seen; returns true when it was already. */
static bool mark(struct stats *s, uint64_t seq)
{
	if (seq >= s->seen_bits) {
		uint64_t bits = s->seen_bits ? s->seen_bits : 1 << 20;
		uint8_t *p;

		while (bits <= seq)
			bits *= 2;
		if (bits > (1ull << 34) || !(p = realloc(s->seen, bits / 8))) {
			fprintf(stderr, "sink: sequence %llu out of range\n", (unsigned long long)seq);
			exit(1);
		}
		memset(p + s->seen_bits / 8, 0, (bits - s->seen_bits) / 8);
		s->seen = p;
		s->seen_bits = bits;
	}
	if (s->seen[seq / 8] & (1u << (seq % 8)))
		return true;
	s->seen[seq / 8] |= (uint8_t)(1u << (seq % 8));
	return false;
}

static void one(struct stats *s, const uint8_t *p, size_t len, uint32_t offset, uint64_t now)
{
	struct bench_payload pl;
	uint32_t teid;

	s->rx++;
	if (len < BENCH_GTP_HDR + sizeof(pl) || p[0] != 0x30 || p[1] != 0xff) {
		s->bad++;
		return;
	}
	memcpy(&pl, p + BENCH_GTP_HDR, sizeof(pl));
	if (pl.magic != BENCH_MAGIC) {
		s->bad++;
		return;
	}
	memcpy(&teid, p + 4, 4);
	if (ntohl(teid) != pl.from_teid + offset)
		s->teid_bad++;
	if (mark(s, pl.seq)) {
		s->dup++;
		return;
	}
	if (s->unique && pl.seq < s->max_seq)
		s->reorder++;
	if (!s->unique || pl.seq > s->max_seq)
		s->max_seq = pl.seq;
	s->unique++;
	if (s->n_lat == s->cap_lat) {
		s->cap_lat = s->cap_lat ? s->cap_lat * 2 : 1 << 20;
		if (!(s->lat = realloc(s->lat, s->cap_lat * sizeof(*s->lat)))) {
			fprintf(stderr, "sink: out of memory\n");
			exit(1);
		}
	}
	s->lat[s->n_lat++] = now > pl.ts_ns ? (uint32_t)(now - pl.ts_ns > UINT32_MAX ? UINT32_MAX : now - pl.ts_ns) : 0;
}

struct source {
	struct sockaddr_storage a;    /* port 0 */
	struct stats s;
};

/* The stats of the source address a (its port is cleared): a new one for
 * an address not seen yet, NULL when there are already MAX_SRC. */
static struct stats *by_src(struct source *src, unsigned *n, struct sockaddr_storage *a)
{
	size_t l = a->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);

	if (a->ss_family == AF_INET)
		((struct sockaddr_in *)a)->sin_port = 0;
	else
		((struct sockaddr_in6 *)a)->sin6_port = 0;
	for (unsigned i = 0; i < *n; i++)
		if (!memcmp(&src[i].a, a, l))
			return &src[i].s;
	if (*n == MAX_SRC)
		return NULL;
	memcpy(&src[*n].a, a, l);
	return &src[(*n)++].s;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static double pct(const struct stats *s, double q)
{
	if (!s->n_lat)
		return 0;
	return s->lat[(uint64_t)(q * (double)(s->n_lat - 1))] / 1000.0;
}

/* One JSON line; src (an address) is printed first when not NULL. */
static void report(struct stats *s, const char *src)
{
	qsort(s->lat, s->n_lat, sizeof(*s->lat), cmp_u32);
	printf("{");
	if (src)
		printf("\"src\":\"%s\",", src);
	printf("\"rx\":%llu,\"unique\":%llu,\"dup\":%llu,\"reorder\":%llu,\"bad\":%llu,"
	       "\"teid_bad\":%llu,\"gaps\":%llu,\"syscalls\":%llu,\"secs\":%.3f,"
	       "\"lat_p50_us\":%.1f,\"lat_p99_us\":%.1f,\"lat_p999_us\":%.1f,\"lat_max_us\":%.1f}\n",
	       (unsigned long long)s->rx, (unsigned long long)s->unique, (unsigned long long)s->dup,
	       (unsigned long long)s->reorder, (unsigned long long)s->bad, (unsigned long long)s->teid_bad,
	       (unsigned long long)(s->unique ? s->max_seq + 1 - s->unique : 0),
	       (unsigned long long)s->syscalls, (double)(s->last_ns - s->first_ns) / 1e9,
	       pct(s, 0.5), pct(s, 0.99), pct(s, 0.999), pct(s, 1.0));
	free(s->seen);
	free(s->lat);
}

int main(int argc, char **argv)
{
	static uint8_t bufs[BATCH][SLOT];
	static struct mmsghdr m[BATCH];
	static struct iovec iov[BATCH];
	static struct sockaddr_storage from[BATCH];
	static struct source src[MAX_SRC];
	unsigned nsrc = 0;
	uint64_t other_src = 0;
	bool per_src = false;
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6 };
	struct sockaddr_in a4 = { .sin_family = AF_INET };
	struct sigaction sa = { .sa_handler = on_signal };
	struct timeval tv = { 0, 100000 };
	struct stats s = { 0 };
	const char *addr = "0.0.0.0";
	uint32_t offset = 0;
	int c, fd, port = 2152, buf = 16 << 20;
	bool v6;

	while ((c = getopt(argc, argv, "a:p:o:Sh")) != -1) {
		switch (c) {
		case 'S': per_src = true; break;
		case 'a': addr = optarg; break;
		case 'p': port = atoi(optarg); break;
		case 'o': offset = (uint32_t)strtoul(optarg, NULL, 0); break;
		default:
			fprintf(c == 'h' ? stdout : stderr,
				"Usage: sink [-a ADDR] [-p PORT] [-o TEID_OFFSET] [-S]\n"
				"Receives until SIGINT/SIGTERM, then prints JSON (-S: a line per\n"
				"source address, at most %d; the datagrams of others are counted).\n",
				MAX_SRC);
			return c == 'h' ? 0 : 2;
		}
	}
	v6 = strchr(addr, ':') != NULL;
	if ((v6 ? inet_pton(AF_INET6, addr, &a6.sin6_addr) : inet_pton(AF_INET, addr, &a4.sin_addr)) != 1) {
		fprintf(stderr, "sink: bad address %s\n", addr);
		return 2;
	}
	a4.sin_port = a6.sin6_port = htons((uint16_t)port);
	fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		perror("sink: socket");
		return 1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	/* The timeout lets the loop see the stop flag even when no packet comes. */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (bind(fd, v6 ? (struct sockaddr *)&a6 : (struct sockaddr *)&a4,
			   v6 ? sizeof(a6) : sizeof(a4)) < 0) {
		perror("sink: bind");
		return 1;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	for (unsigned i = 0; i < BATCH; i++) {
		iov[i] = (struct iovec){ bufs[i], SLOT };
		m[i].msg_hdr = (struct msghdr){ .msg_iov = &iov[i], .msg_iovlen = 1 };
		if (per_src) {
			m[i].msg_hdr.msg_name = &from[i];
			m[i].msg_hdr.msg_namelen = sizeof(from[i]);
		}
	}
	printf("ready\n");
	fflush(stdout);
	while (!stop) {
		/* MSG_WAITFORONE: block for the first datagram only; without it a
		 * blocking recvmmsg waits until all BATCH slots are filled. */
		int n = recvmmsg(fd, m, BATCH, MSG_WAITFORONE, NULL);
		uint64_t now = bench_now_ns();

		s.syscalls++;
		if (n <= 0)
			continue;
		for (int i = 0; i < n; i++) {
			struct stats *t = per_src ? by_src(src, &nsrc, &from[i]) : &s;

			if (!t) {
				other_src++;
				continue;
			}
			if (!t->first_ns)
				t->first_ns = now;
			t->last_ns = now;
			one(t, bufs[i], m[i].msg_len, offset, now);
		}
		if (per_src)
			for (int i = 0; i < n; i++)
				m[i].msg_hdr.msg_namelen = sizeof(from[i]);
	}
	for (unsigned i = 0; i < nsrc; i++) {
		char a[INET6_ADDRSTRLEN];
		const struct sockaddr_storage *f = &src[i].a;

		inet_ntop(f->ss_family,
			  f->ss_family == AF_INET6 ? (const void *)&((const struct sockaddr_in6 *)f)->sin6_addr
						   : (const void *)&((const struct sockaddr_in *)f)->sin_addr,
			  a, sizeof(a));
		src[i].s.syscalls = s.syscalls;
		report(&src[i].s, a);
	}
	if (other_src)
		printf("{\"src\":\"other\",\"rx\":%llu}\n", (unsigned long long)other_src);
	if (!per_src)
		report(&s, NULL);
	close(fd);
	return 0;
}
