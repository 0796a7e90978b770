/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Bench G-PDU generator: sendmmsg batches at a fixed rate or as a flood, TEIDs
 * spread over N tunnels, each payload carrying a sequence number and a send
 * timestamp, from one or several source ports; optionally counts the Error
 * Indications that come back. With several destinations it sends slices of
 * batches to each in turn, so that several DUTs measured in one run see the
 * same machine. Prints one JSON line with what it sent. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"

#define MAX_BATCH 1024
#define MAX_SOCKS 64
#define MAX_DST 8
#define GTP_ERROR_IND 26

struct opts {
	const char *src;
	uint32_t dst_tunnels[MAX_DST];    /* 0: tunnels */
	unsigned ndst;
	unsigned slice;            /* batches per destination's turn */
	uint64_t pps;              /* 0 = flood */
	unsigned len;              /* T-PDU bytes after the GTP-U header */
	uint32_t tunnels, base;
	double secs;
	unsigned batch;
	bool sequential;           /* teid = base + seq % N instead of a hash of seq */
	unsigned socks;            /* source ports, one socket each, batches round robin */
	bool count_ei;             /* read what comes back on the first socket */
	bool gso;                  /* each batch as one UDP GSO send (UDP_SEGMENT) */
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: gen -d ADDR:PORT [-d ADDR:PORT]... [-i SLICE] [-s ADDR:PORT] [-r PPS|0]\n"
		   "           [-l BYTES] [-n TUNNELS] [-b BASE_TEID] [-t SECONDS] [-B BATCH] [-S]\n"
		   "           [-P SOCKETS] [-R] [-G]\n"
		   "  -d DST     destination ADDR:PORT[,TUNNELS] (TUNNELS: its own -n); up to\n"
		   "             %d, each in turn for SLICE batches (-i,\n"
		   "             default 64), the i-th from source port PORT+i of -s\n"
		   "             (not with -P); \"sent_to\" in the JSON counts per destination\n"
		   "  -r PPS     fixed rate, 0 = flood (default 100000)\n"
		   "  -l BYTES   inner payload after the GTP-U header, >= %zu (default 100)\n"
		   "  -n N       TEIDs base..base+N-1, uniformly spread (default 1)\n"
		   "  -S         sequential TEIDs (base + seq %% N) instead of hashed\n"
		   "  -B BATCH   datagrams per sendmmsg (default 32)\n"
		   "  -P N       N sockets from source ports PORT..PORT+N-1 of -s (or ephemeral\n"
		   "             ones), batches round robin: several flows for SO_REUSEPORT\n"
		   "  -R         count the Error Indications received on the first socket\n"
		   "  -G         send each batch as one UDP GSO datagram train (UDP_SEGMENT):\n"
		   "             far less CPU per packet, to overrun a receiver (BATCH <= 64)\n",
		MAX_DST, sizeof(struct bench_payload));
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

static uint32_t teid_of(const struct opts *o, uint64_t seq, uint32_t tunnels)
{
	uint64_t i = o->sequential ? seq : bench_mix(seq);

	return o->base + (uint32_t)(i % tunnels);
}

static void fill(uint8_t *p, const struct opts *o, uint64_t seq, uint64_t now, uint32_t tunnels)
{
	struct bench_payload pl = { BENCH_MAGIC, teid_of(o, seq, tunnels), seq, now };
	uint32_t teid = htonl(pl.from_teid);
	uint16_t l = htons((uint16_t)o->len);

	p[0] = 0x30;               /* version 1, PT 1, no optional word */
	p[1] = 0xff;               /* G-PDU */
	memcpy(p + 2, &l, 2);
	memcpy(p + 4, &teid, 4);
	memcpy(p + BENCH_GTP_HDR, &pl, sizeof(pl));
}

/* Count what came back without waiting: Error Indications and the rest. */
static void drain(int fd, uint64_t *ei, uint64_t *other)
{
	static uint8_t rb[16][2048];
	static struct mmsghdr rm[16];
	static struct iovec riov[16];
	int n;

	for (unsigned i = 0; i < 16; i++) {
		riov[i] = (struct iovec){ rb[i], sizeof(rb[i]) };
		rm[i].msg_hdr = (struct msghdr){ .msg_iov = &riov[i], .msg_iovlen = 1 };
	}
	while ((n = recvmmsg(fd, rm, 16, MSG_DONTWAIT, NULL)) > 0) {
		for (int i = 0; i < n; i++) {
			if (rm[i].msg_len >= 8 && (rb[i][0] & 0xe0) == 0x20 && rb[i][1] == GTP_ERROR_IND)
				(*ei)++;
			else
				(*other)++;
		}
	}
}

/* The n datagrams of size sz at p as one UDP_SEGMENT send: the kernel
 * splits them (here, or at the receiver's socket). */
static int send_gso(int fd, uint8_t *p, unsigned n, size_t sz)
{
	union {
		char buf[CMSG_SPACE(sizeof(uint16_t))];
		struct cmsghdr align;
	} ctl;
	struct iovec v = { p, n * sz };
	struct msghdr mh = { .msg_iov = &v, .msg_iovlen = 1, .msg_control = ctl.buf,
			     .msg_controllen = sizeof(ctl.buf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	uint16_t seg = (uint16_t)sz;

	c->cmsg_level = SOL_UDP;
	c->cmsg_type = UDP_SEGMENT;
	c->cmsg_len = CMSG_LEN(sizeof(seg));
	memcpy(CMSG_DATA(c), &seg, sizeof(seg));
	for (;;) {
		ssize_t r = sendmsg(fd, &mh, 0);

		if (r >= 0 || errno != EINTR)
			return r < 0 ? -1 : 0;
	}
}

int main(int argc, char **argv)
{
	struct opts o = { .pps = 100000, .len = 100, .tunnels = 1, .base = 1, .secs = 3, .batch = 32, .socks = 1,
			  .slice = 64 };
	static struct mmsghdr m[MAX_BATCH];
	static struct iovec iov[MAX_BATCH];
	struct sockaddr_storage dst[MAX_DST], src;
	socklen_t dl[MAX_DST], sl;
	uint64_t sent = 0, errors = 0, late = 0, ei = 0, other = 0, start, end, next, batches = 0;
	uint64_t sent_to[MAX_DST] = { 0 };
	bool bad = false;
	uint8_t *bufs;
	int c, fd[MAX_SOCKS], buf = 4 << 20;
	unsigned turn = 0;

	while ((c = getopt(argc, argv, "d:i:s:r:l:n:b:t:B:SP:RGh")) != -1) {
		switch (c) {
		case 'd': {
			/* ADDR:PORT or ADDR:PORT,TUNNELS */
			char *comma = strchr(optarg, ',');

			if (o.ndst == MAX_DST) {
				bad = true;
				break;
			}
			o.dst_tunnels[o.ndst] = comma ? (uint32_t)strtoul(comma + 1, NULL, 0) : 0;
			if (comma)
				*comma = 0;
			if (parse_ep(optarg, &dst[o.ndst], &dl[o.ndst]) < 0 || (comma && !o.dst_tunnels[o.ndst]))
				bad = true;
			o.ndst++;
			break;
		}
		case 'i': o.slice = (unsigned)strtoul(optarg, NULL, 0); break;
		case 's': o.src = optarg; break;
		case 'r': o.pps = strtoull(optarg, NULL, 0); break;
		case 'l': o.len = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'n': o.tunnels = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'b': o.base = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 't': o.secs = strtod(optarg, NULL); break;
		case 'B': o.batch = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'S': o.sequential = true; break;
		case 'P': o.socks = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'R': o.count_ei = true; break;
		case 'G': o.gso = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (bad || !o.ndst || !o.slice || (o.ndst > 1 && o.socks > 1) || (o.src && parse_ep(o.src, &src, &sl) < 0) ||
	    o.len < sizeof(struct bench_payload) || o.len > 65000 || !o.tunnels || !o.base ||
	    !o.batch || o.batch > MAX_BATCH || o.secs <= 0 || !o.socks || o.socks > MAX_SOCKS ||
	    (o.gso && (o.batch > 64 || (size_t)o.batch * (BENCH_GTP_HDR + o.len) > 65000))) {
		usage(stderr);
		return 2;
	}
	if (o.ndst > 1)
		o.socks = o.ndst;       /* one socket per destination */
	for (unsigned i = 0; i < o.socks; i++) {
		unsigned d = o.ndst > 1 ? i : 0;

		fd[i] = socket(dst[d].ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fd[i] >= 0 && o.src) {
			/* Port + i: the same sockaddr layout for both families. */
			struct sockaddr_in *a = (struct sockaddr_in *)&src;

			if (i)
				a->sin_port = htons((uint16_t)(ntohs(a->sin_port) + 1));
			if (bind(fd[i], (struct sockaddr *)&src, sl) < 0)
				fd[i] = -1;
		}
		if (fd[i] < 0 || connect(fd[i], (struct sockaddr *)&dst[d], dl[d]) < 0) {
			perror("gen: socket");
			return 1;
		}
		if (setsockopt(fd[i], SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof(buf)) < 0)
			setsockopt(fd[i], SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	}
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
		unsigned n = o.batch, done = 0, d = o.ndst > 1 ? (unsigned)(batches++ / o.slice % o.ndst) : 0;
		int f = fd[o.ndst > 1 ? d : turn++ % o.socks];
		uint64_t e0 = errors;

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
			fill(iov[i].iov_base, &o, sent + i, now, o.dst_tunnels[d] ? o.dst_tunnels[d] : o.tunnels);
		if (o.gso && send_gso(f, bufs, n, BENCH_GTP_HDR + o.len) < 0)
			errors += n;
		while (!o.gso && done < n) {
			int r = sendmmsg(f, m + done, n - done, 0);

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
		sent_to[d] += n - (errors - e0);
		if (o.count_ei)
			drain(fd[0], &ei, &other);
	}
	end = bench_now_ns();
	if (o.count_ei) {
		/* The answers to the last batches are still on their way. */
		usleep(500000);
		drain(fd[0], &ei, &other);
	}
	printf("{\"sent\":%llu,\"send_errors\":%llu,\"late_batches\":%llu,\"secs\":%.3f,\"pps\":%.0f,"
	       "\"ei_rx\":%llu,\"other_rx\":%llu,\"sent_to\":[",
	       (unsigned long long)(sent - errors), (unsigned long long)errors,
	       (unsigned long long)late, (double)(end - start) / 1e9,
	       (double)(sent - errors) * 1e9 / (double)(end - start),
	       (unsigned long long)ei, (unsigned long long)other);
	for (unsigned i = 0; i < o.ndst; i++)
		printf("%s%llu", i ? "," : "", (unsigned long long)sent_to[i]);
	printf("]}\n");
	free(bufs);
	for (unsigned i = 0; i < o.socks; i++)
		close(fd[i]);
	return 0;
}
