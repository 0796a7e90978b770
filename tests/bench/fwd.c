/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The floor for any userspace GTP-U relay: receive a batch, add OFFSET to the
 * 4-byte TEID, send the batch to one destination. Modes: blocking recvmmsg
 * with MSG_WAITFORONE (default), poll + MSG_DONTWAIT like gtpud (-P), or one
 * recvfrom/sendto per packet (-N, naive); -C also asks for what gtpud asks
 * the kernel per packet (source address, IP_PKTINFO). Prints counters on SIGTERM. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BATCH 64
#define SLOT 2048

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int parse_ep(const char *s, struct sockaddr_in *a)
{
	char host[32];
	const char *colon = strrchr(s, ':');

	if (!colon || (size_t)(colon - s) >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = 0;
	memset(a, 0, sizeof(*a));
	a->sin_family = AF_INET;
	a->sin_port = htons((uint16_t)atoi(colon + 1));
	return inet_pton(AF_INET, host, &a->sin_addr) == 1 && a->sin_port ? 0 : -EINVAL;
}

static inline bool rewrite(uint8_t *p, size_t len, uint32_t offset)
{
	uint32_t teid;

	if (len < 8)
		return false;
	memcpy(&teid, p + 4, 4);
	teid = htonl(ntohl(teid) + offset);
	memcpy(p + 4, &teid, 4);
	return true;
}

static uint64_t rx, tx, drops, syscalls;

static void naive(int fd, const struct sockaddr_in *dst, uint32_t offset)
{
	static uint8_t buf[SLOT];

	while (!stop) {
		ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, NULL, NULL);

		syscalls++;
		if (n < 0)
			continue;
		rx++;
		if (!rewrite(buf, (size_t)n, offset)) {
			drops++;
			continue;
		}
		syscalls++;
		if (sendto(fd, buf, (size_t)n, 0, (const struct sockaddr *)dst, sizeof(*dst)) == n)
			tx++;
		else
			drops++;
	}
}

static uint8_t bufs[BATCH][SLOT];
static struct mmsghdr rxm[BATCH], txm[BATCH];
static struct iovec rxiov[BATCH], txiov[BATCH];
static struct sockaddr_storage rxaddr[BATCH];
static uint8_t rxctl[BATCH][64];
static bool with_cmsg;

/* Rewrite the n datagrams received and send them in one sendmmsg. */
static void relay(int fd, int n, uint32_t offset)
{
	int k = 0, done = 0;

	rx += (uint64_t)n;
	for (int i = 0; i < n; i++) {
		if (!rewrite(bufs[i], rxm[i].msg_len, offset)) {
			drops++;
			continue;
		}
		txiov[k++] = (struct iovec){ bufs[i], rxm[i].msg_len };
	}
	while (done < k) {
		int r = sendmmsg(fd, txm + done, (unsigned)(k - done), 0);

		syscalls++;
		if (r <= 0) {
			drops++;           /* the first one failed: skip it */
			done++;
			continue;
		}
		tx += (uint64_t)r;
		done += r;
	}
}

/* With -C, the name and control lengths are results: reset them. */
static void rx_reset(void)
{
	for (unsigned i = 0; with_cmsg && i < BATCH; i++) {
		rxm[i].msg_hdr.msg_name = &rxaddr[i];
		rxm[i].msg_hdr.msg_namelen = sizeof(rxaddr[i]);
		rxm[i].msg_hdr.msg_control = rxctl[i];
		rxm[i].msg_hdr.msg_controllen = sizeof(rxctl[i]);
	}
}

static void batched(int fd, const struct sockaddr_in *dst, uint32_t offset, bool use_poll)
{
	struct pollfd pfd = { fd, POLLIN, 0 };

	for (unsigned i = 0; i < BATCH; i++) {
		rxiov[i] = (struct iovec){ bufs[i], SLOT };
		rxm[i].msg_hdr = (struct msghdr){ .msg_iov = &rxiov[i], .msg_iovlen = 1 };
		txm[i].msg_hdr = (struct msghdr){ .msg_name = (void *)dst, .msg_namelen = sizeof(*dst),
						  .msg_iov = &txiov[i], .msg_iovlen = 1 };
	}
	while (!stop) {
		int n;

		if (!use_poll) {
			/* MSG_WAITFORONE: block for the first datagram, then take
			 * what is queued; without it the call waits for BATCH. */
			rx_reset();
			n = recvmmsg(fd, rxm, BATCH, MSG_WAITFORONE, NULL);
			syscalls++;
			if (n > 0)
				relay(fd, n, offset);
			continue;
		}
		syscalls++;
		if (poll(&pfd, 1, 200) <= 0)
			continue;
		/* Drain as gtpud does: read until a batch comes back short. */
		do {
			rx_reset();
			n = recvmmsg(fd, rxm, BATCH, MSG_DONTWAIT, NULL);
			syscalls++;
			if (n > 0)
				relay(fd, n, offset);
		} while (n == BATCH);
	}
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct timeval tv = { 0, 200000 };
	struct sockaddr_in me, dst;
	const char *listen = "0.0.0.0:2152", *to = NULL;
	uint32_t offset = 0;
	bool is_naive = false, use_poll = false;
	int c, fd, one = 1, buf = 8 << 20;

	while ((c = getopt(argc, argv, "l:d:o:NPCh")) != -1) {
		switch (c) {
		case 'l': listen = optarg; break;
		case 'd': to = optarg; break;
		case 'o': offset = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'N': is_naive = true; break;
		case 'P': use_poll = true; break;
		case 'C': with_cmsg = true; break;
		default:
			fprintf(c == 'h' ? stdout : stderr,
				"Usage: fwd -d ADDR:PORT [-l ADDR:PORT] [-o TEID_OFFSET] [-N | -P] [-C]\n"
				"  -N  naive: one recvfrom/sendto per packet\n"
				"  -P  poll + recvmmsg(MSG_DONTWAIT) as gtpud does, instead of MSG_WAITFORONE\n"
				"  -C  also receive the source address and IP_PKTINFO, as gtpud does\n");
			return c == 'h' ? 0 : 2;
		}
	}
	if (!to || parse_ep(to, &dst) < 0 || parse_ep(listen, &me) < 0) {
		fprintf(stderr, "fwd: -d ADDR:PORT (IPv4) needed\n");
		return 2;
	}
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		perror("fwd: socket");
		return 1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* The same buffer sizes as gtpud, so both see the same queueing. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof(buf)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	if (with_cmsg)
		setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
	/* A backstop for a signal that lands just before a blocking call. */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (bind(fd, (struct sockaddr *)&me, sizeof(me)) < 0) {
		perror("fwd: bind");
		return 1;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (is_naive)
		naive(fd, &dst, offset);
	else
		batched(fd, &dst, offset, use_poll);
	printf("{\"rx\":%llu,\"tx\":%llu,\"drops\":%llu,\"syscalls\":%llu}\n",
	       (unsigned long long)rx, (unsigned long long)tx, (unsigned long long)drops,
	       (unsigned long long)syscalls);
	return 0;
}
