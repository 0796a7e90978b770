/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Bench G-PDU generator: sendmmsg batches at a fixed rate or as a flood, TEIDs
 * spread over N tunnels, each payload carrying a sequence number and a send
 * timestamp. Prints one JSON line with what it sent. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"

#define MAX_BATCH 1024

struct opts {
	const char *dst, *src;
	uint64_t pps;              /* 0 = flood */
	unsigned len;              /* T-PDU bytes after the GTP-U header */
	uint32_t tunnels, base;
	double secs;
	unsigned batch;
	bool sequential;           /* teid = base + seq % N instead of a hash of seq */
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: gen -d ADDR:PORT [-s ADDR:PORT] [-r PPS|0] [-l BYTES] [-n TUNNELS]\n"
		   "           [-b BASE_TEID] [-t SECONDS] [-B BATCH] [-S]\n"
		   "  -r PPS     fixed rate, 0 = flood (default 100000)\n"
		   "  -l BYTES   inner payload after the GTP-U header, >= %zu (default 100)\n"
		   "  -n N       TEIDs base..base+N-1, uniformly spread (default 1)\n"
		   "  -S         sequential TEIDs (base + seq %% N) instead of hashed\n"
		   "  -B BATCH   datagrams per sendmmsg (default 32)\n",
		sizeof(struct bench_payload));
}

/* "192.0.2.1:2152" or "[2001:db8::1]:2152". */
static int parse_ep(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	size_t hl;
	int port;

	if (!colon || (hl = (size_t)(colon - s)) >= sizeof(host))
		return -EINVAL;
	port = atoi(colon + 1);
	if (port <= 0 || port > 65535)
		return -EINVAL;
	memcpy(host, s, hl);
	host[hl] = 0;
	memset(ss, 0, sizeof(*ss));
	if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

		host[hl - 1] = 0;
		if (inet_pton(AF_INET6, host + 1, &a->sin6_addr) != 1)
			return -EINVAL;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		*len = sizeof(*a);
		return 0;
	}
	struct sockaddr_in *a = (struct sockaddr_in *)ss;

	if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
		return -EINVAL;
	a->sin_family = AF_INET;
	a->sin_port = htons((uint16_t)port);
	*len = sizeof(*a);
	return 0;
}

static uint32_t teid_of(const struct opts *o, uint64_t seq)
{
	uint64_t i = o->sequential ? seq : bench_mix(seq);

	return o->base + (uint32_t)(i % o->tunnels);
}

static void fill(uint8_t *p, const struct opts *o, uint64_t seq, uint64_t now)
{
	struct bench_payload pl = { BENCH_MAGIC, teid_of(o, seq), seq, now };
	uint32_t teid = htonl(pl.from_teid);
	uint16_t l = htons((uint16_t)o->len);

	p[0] = 0x30;               /* version 1, PT 1, no optional word */
	p[1] = 0xff;               /* G-PDU */
	memcpy(p + 2, &l, 2);
	memcpy(p + 4, &teid, 4);
	memcpy(p + BENCH_GTP_HDR, &pl, sizeof(pl));
}

int main(int argc, char **argv)
{
	struct opts o = { .pps = 100000, .len = 100, .tunnels = 1, .base = 1, .secs = 3, .batch = 32 };
	static struct mmsghdr m[MAX_BATCH];
	static struct iovec iov[MAX_BATCH];
	struct sockaddr_storage dst, src;
	socklen_t dl, sl;
	uint64_t sent = 0, errors = 0, late = 0, start, end, next;
	uint8_t *bufs;
	int c, fd, buf = 4 << 20;

	while ((c = getopt(argc, argv, "d:s:r:l:n:b:t:B:Sh")) != -1) {
		switch (c) {
		case 'd': o.dst = optarg; break;
		case 's': o.src = optarg; break;
		case 'r': o.pps = strtoull(optarg, NULL, 0); break;
		case 'l': o.len = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'n': o.tunnels = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'b': o.base = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 't': o.secs = strtod(optarg, NULL); break;
		case 'B': o.batch = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'S': o.sequential = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!o.dst || parse_ep(o.dst, &dst, &dl) < 0 || (o.src && parse_ep(o.src, &src, &sl) < 0) ||
	    o.len < sizeof(struct bench_payload) || o.len > 65000 || !o.tunnels || !o.base ||
	    !o.batch || o.batch > MAX_BATCH || o.secs <= 0) {
		usage(stderr);
		return 2;
	}
	fd = socket(dst.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || (o.src && bind(fd, (struct sockaddr *)&src, sl) < 0) ||
	    connect(fd, (struct sockaddr *)&dst, dl) < 0) {
		perror("gen: socket");
		return 1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof(buf)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	bufs = calloc(o.batch, BENCH_GTP_HDR + o.len);
	if (!bufs)
		return 1;
	for (unsigned i = 0; i < o.batch; i++) {
		iov[i] = (struct iovec){ bufs + (size_t)i * (BENCH_GTP_HDR + o.len), BENCH_GTP_HDR + o.len };
		m[i].msg_hdr = (struct msghdr){ .msg_iov = &iov[i], .msg_iovlen = 1 };
	}
	start = next = bench_now_ns();
	end = start + (uint64_t)(o.secs * 1e9);
	for (;;) {
		uint64_t now = bench_now_ns();
		unsigned n = o.batch, done = 0;

		if (now >= end)
			break;
		if (o.pps) {
			/* Pace by batch deadlines; a late batch goes out at once and
			 * the schedule is kept, so the mean rate holds. */
			if (now < next) {
				struct timespec ts = { (time_t)(next / 1000000000u), (long)(next % 1000000000u) };

				clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
				now = bench_now_ns();
			} else if (now - next > 1000000) {
				late++;
			}
			next += (uint64_t)o.batch * 1000000000u / o.pps;
		}
		for (unsigned i = 0; i < n; i++)
			fill(iov[i].iov_base, &o, sent + i, now);
		while (done < n) {
			int r = sendmmsg(fd, m + done, n - done, 0);

			if (r < 0) {
				if (errno == EINTR)
					continue;
				errors++;       /* this datagram is lost: skip it */
				done++;
				continue;
			}
			done += (unsigned)r;
		}
		sent += n;
	}
	end = bench_now_ns();
	printf("{\"sent\":%llu,\"send_errors\":%llu,\"late_batches\":%llu,\"secs\":%.3f,\"pps\":%.0f}\n",
	       (unsigned long long)(sent - errors), (unsigned long long)errors,
	       (unsigned long long)late, (double)(end - start) / 1e9,
	       (double)(sent - errors) * 1e9 / (double)(end - start));
	free(bufs);
	close(fd);
	return 0;
}
