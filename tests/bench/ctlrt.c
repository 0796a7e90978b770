/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Control-socket round trips for the tunnel-table bench: N single changes
 * (tunnel add, then tunnel del, alternating; -a: N adds) sent over one connection, each
 * waiting for its reply before the next (-w 1) or with up to W in flight.
 * A small C client, so that the figure is gtpud's and the round trip's,
 * not an interpreter's. Prints {"changes":N,"seconds":S,"per_s":R}. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	const char *path = NULL, *peer_a = "p0", *peer_b = "p1";
	unsigned n = 20000, win = 1, sent = 0, done = 0, base = 0x7e000000;
	int adds = 0;             /* -a: adds only, n tunnels (else add and del alternating) */
	static char in[1 << 20];
	size_t have = 0;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	double t0;
	int c, fd;

	while ((c = getopt(argc, argv, "s:n:w:b:a")) != -1) {
		switch (c) {
		case 'a': adds = 1; break;
		case 's': path = optarg; break;
		case 'n': n = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'w': win = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'b': base = (unsigned)strtoul(optarg, NULL, 0); break;
		default: return 2;
		}
	}
	if (!path || !win || strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "usage: ctlrt -s SOCKET [-n CHANGES] [-w IN_FLIGHT] [-b BASE_TEID] [-a]\n");
		return 2;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("connect");
		return 1;
	}
	t0 = now();
	while (done < n) {
		while (sent < n && sent - done < win) {
			char req[256];
			unsigned i = adds ? sent : sent / 2;
			int len = adds || sent % 2 == 0 ?
				snprintf(req, sizeof(req), "{\"version\":1,\"command\":\"tunnel add\",\"args\":[\"c%u\","
					 "\"from\",\"%s\",\"%u\",\"to\",\"%s\",\"%u\"]}\n", i, peer_a, base + i, peer_b, base + i) :
				snprintf(req, sizeof(req), "{\"version\":1,\"command\":\"tunnel del\",\"args\":[\"c%u\"]}\n", i);

			if (write(fd, req, (size_t)len) != len) {
				perror("write");
				return 1;
			}
			sent++;
		}
		for (;;) {
			char *nl = memchr(in, '\n', have);

			if (nl) {
				size_t l = (size_t)(nl - in) + 1;

				if (strncmp(in, "{\"version\":1,\"result\":0", 23)) {
					fprintf(stderr, "refused: %.*s", (int)l, in);
					return 1;
				}
				memmove(in, in + l, have - l);
				have -= l;
				done++;
				break;
			}
			ssize_t r = read(fd, in + have, sizeof(in) - have);

			if (r <= 0) {
				perror("read");
				return 1;
			}
			have += (size_t)r;
		}
	}
	t0 = now() - t0;
	printf("{\"changes\":%u,\"seconds\":%.3f,\"per_s\":%.0f}\n", n, t0, n / t0);
	return 0;
}
