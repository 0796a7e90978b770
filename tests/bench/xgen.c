/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Cheap bench traffic around a relay, with xgen.bpf.c:
 *   xgen gen OBJ IFNAME DSTMAC SRC:PORT DST:PORT [-r PPS] [-t SECS] [-l LEN]
 *            [-n TUNNELS] [-b BASE] [-o OFFSET] [-S] [-B BURST]
 *     frames built once and sent by BPF_PROG_TEST_RUN in live frames mode
 *     (each one stamped with its TEID and redirected out of IFNAME), paced
 *     by the program to PPS in bursts of BURST (default 32; 0 = flood); prints {"sent":N,"secs":S,...}.
 *     The runs spin: the generator takes its CPU whole.
 *   xgen sink OBJ IFNAME [-o OFFSET]
 *     attaches the counting XDP_DROP sink in native mode, prints "ready";
 *     on SIGUSR1 prints {"rx":N,"bad":N,"other":N} (totals so far); detaches
 *     and exits on SIGINT/SIGTERM. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bench.h"

#define BATCH 64
#define RUNNERS 3

struct gen_cfg {
	__u32 ifindex, tunnels, base, offset, sequential, stop, burst, pad;
	__u64 gap_ps;
	__u8 head[64];
};

struct gen_state {
	__u64 seq, due, late, left;
};

struct sink_ctr {
	__u64 rx, bad, other;
};

static volatile sig_atomic_t stop, dump;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		dump = 1;
	else
		stop = 1;
}

static struct bpf_object *open_obj(const char *path)
{
	struct bpf_object *o = bpf_object__open_file(path, NULL);

	if (!o || bpf_object__load(o)) {
		fprintf(stderr, "xgen: cannot load %s: %s\n", path, strerror(errno));
		exit(1);
	}
	return o;
}

static int parse_ep(const char *s, uint32_t *addr, uint16_t *port)
{
	char host[32];
	const char *colon = strrchr(s, ':');
	struct in_addr a;

	if (!colon || (size_t)(colon - s) >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = 0;
	if (inet_pton(AF_INET, host, &a) != 1)
		return -EINVAL;
	*addr = a.s_addr;
	*port = htons((uint16_t)atoi(colon + 1));
	return 0;
}

static int parse_mac(const char *s, uint8_t *m)
{
	return sscanf(s, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) == 6 ? 0 : -1;
}

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t s)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

static uint16_t fin(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* Ethernet + IPv4 + UDP + GTP-U G-PDU with the bench payload; the UDP
 * checksum computed whole. Returns the frame's length. */
static size_t build(uint8_t *f, const uint8_t *dmac, const uint8_t *smac, uint32_t sa, uint16_t sp,
		    uint32_t da, uint16_t dp, unsigned len, uint32_t teid, uint32_t wire_teid)
{
	size_t udp_len = 8 + BENCH_GTP_HDR + len, ip_len = 20 + udp_len;
	struct bench_payload pl = { BENCH_MAGIC, teid, 0, 0 };
	uint8_t *ip = f + 14, *u = ip + 20, *g = u + 8;
	uint32_t s;
	uint16_t c;

	memset(f, 0, 14 + ip_len);
	memcpy(f, dmac, 6);
	memcpy(f + 6, smac, 6);
	f[12] = 0x08;
	ip[0] = 0x45;
	ip[2] = (uint8_t)(ip_len >> 8);
	ip[3] = (uint8_t)ip_len;
	ip[8] = 64;
	ip[9] = 17;
	memcpy(ip + 12, &sa, 4);
	memcpy(ip + 16, &da, 4);
	c = htons(fin(sum16(ip, 20, 0)));
	memcpy(ip + 10, &c, 2);
	memcpy(u, &sp, 2);
	memcpy(u + 2, &dp, 2);
	u[4] = (uint8_t)(udp_len >> 8);
	u[5] = (uint8_t)udp_len;
	g[0] = 0x30;
	g[1] = 0xff;
	g[2] = (uint8_t)(len >> 8);
	g[3] = (uint8_t)len;
	wire_teid = htonl(wire_teid);
	memcpy(g + 4, &wire_teid, 4);
	memcpy(g + BENCH_GTP_HDR, &pl, sizeof(pl));
	/* pseudo-header: addresses, protocol, UDP length */
	s = sum16(ip + 12, 8, 17 + (uint32_t)udp_len);
	c = htons(fin(sum16(u, udp_len, s)));
	memcpy(u + 6, c ? &c : &(uint16_t){ 0xffff }, 2);
	return 14 + ip_len;
}

struct runner {
	pthread_t t;
	int prog;
	const uint8_t *frame;
	size_t len;
	volatile int *done;
	int err;
};

/* Test runs back to back. Each run ends in an RCU grace period (the page
 * pool's teardown) during which it sends nothing: the other runners fill it. */
static void *run(void *arg)
{
	struct runner *r = arg;

	while (!*r->done) {
		LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = r->frame, .data_size_in = (__u32)r->len,
			    .repeat = 1 << 20, .flags = BPF_F_TEST_XDP_LIVE_FRAMES, .batch_size = BATCH);

		if (bpf_prog_test_run_opts(r->prog, &t) < 0) {
			r->err = errno;
			break;
		}
	}
	return NULL;
}

static int gen(int argc, char **argv)
{
	struct gen_cfg cfg = { .tunnels = 1, .base = 1, .burst = 32 };
	struct gen_state *st;
	struct runner rn[RUNNERS];
	uint64_t pps = 100000, sent = 0, late = 0, start, end;
	volatile int done = 0;
	double secs = 2;
	unsigned len = 64;
	uint8_t dmac[6], smac[6], frame[2048];
	uint32_t sa, da;
	uint16_t sp, dp;
	char path[128];
	FILE *f;
	int c, prog, k = 0, fcfg, fst, ncpu = libbpf_num_possible_cpus(), err = 0;
	size_t fl;

	while ((c = getopt(argc, argv, "r:t:l:n:b:o:SB:")) != -1) {
		switch (c) {
		case 'B': cfg.burst = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'r': pps = strtoull(optarg, NULL, 0); break;
		case 't': secs = strtod(optarg, NULL); break;
		case 'l': len = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'n': cfg.tunnels = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'b': cfg.base = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'o': cfg.offset = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'S': cfg.sequential = 1; break;
		default: return 2;
		}
	}
	if (argc - optind != 5 || !(cfg.ifindex = if_nametoindex(argv[optind + 1])) ||
	    parse_mac(argv[optind + 2], dmac) || parse_ep(argv[optind + 3], &sa, &sp) ||
	    parse_ep(argv[optind + 4], &da, &dp) || len < sizeof(struct bench_payload) || len > 1400 ||
	    !cfg.tunnels || !cfg.burst || cfg.burst > 256 || secs <= 0 || ncpu <= 0 || !(st = calloc((size_t)ncpu, sizeof(*st)))) {
		fprintf(stderr, "xgen gen: bad arguments\n");
		return 2;
	}
	snprintf(path, sizeof(path), "/sys/class/net/%s/address", argv[optind + 1]);
	if (!(f = fopen(path, "re")) || fscanf(f, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &smac[0], &smac[1], &smac[2],
					       &smac[3], &smac[4], &smac[5]) != 6) {
		fprintf(stderr, "xgen gen: no MAC address for %s\n", argv[optind + 1]);
		return 1;
	}
	fclose(f);
	struct bpf_object *o = open_obj(argv[optind]);

	prog = bpf_program__fd(bpf_object__find_program_by_name(o, "gen"));
	fcfg = bpf_object__find_map_fd_by_name(o, "gcfg");
	fst = bpf_object__find_map_fd_by_name(o, "gstate");
	cfg.gap_ps = pps ? 1000000000000ull * cfg.burst / pps : 0;
	fl = build(frame, dmac, smac, sa, sp, da, dp, len, cfg.base, cfg.base + cfg.offset);
	memcpy(cfg.head, frame, sizeof(cfg.head));
	if (bpf_map_update_elem(fcfg, &k, &cfg, BPF_ANY) < 0) {
		perror("xgen gen: config");
		return 1;
	}
	start = bench_now_ns();
	for (int i = 0; i < RUNNERS; i++) {
		rn[i] = (struct runner){ .prog = prog, .frame = frame, .len = fl, .done = &done };
		if (pthread_create(&rn[i].t, NULL, run, &rn[i])) {
			fprintf(stderr, "xgen gen: no thread\n");
			return 1;
		}
	}
	struct timespec ts = { (time_t)secs, (long)((secs - (double)(time_t)secs) * 1e9) };

	nanosleep(&ts, NULL);
	cfg.stop = 1;
	bpf_map_update_elem(fcfg, &k, &cfg, BPF_ANY);
	end = bench_now_ns();
	done = 1;
	for (int i = 0; i < RUNNERS; i++) {
		pthread_join(rn[i].t, NULL);
		err = err ? err : rn[i].err;
	}
	if (err) {
		fprintf(stderr, "xgen gen: BPF_PROG_TEST_RUN: %s\n", strerror(err));
		return 1;
	}
	bpf_map_lookup_elem(fst, &k, st);
	for (int i = 0; i < ncpu; i++) {
		sent += st[i].seq;
		late += st[i].late;
	}
	printf("{\"sent\":%llu,\"secs\":%.3f,\"pps\":%.0f,\"late\":%llu}\n", (unsigned long long)sent,
	       (double)(end - start) / 1e9, (double)sent * 1e9 / (double)(end - start), (unsigned long long)late);
	bpf_object__close(o);
	free(st);
	return 0;
}

static int sink(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	__u32 offset = 0, k = 0;
	int c, ncpu = libbpf_num_possible_cpus(), ifi, prog, fd;
	struct sink_ctr *v;

	while ((c = getopt(argc, argv, "o:")) != -1) {
		if (c != 'o')
			return 2;
		offset = (__u32)strtoul(optarg, NULL, 0);
	}
	if (argc - optind != 2 || !(ifi = (int)if_nametoindex(argv[optind + 1])) || ncpu <= 0 ||
	    !(v = calloc((size_t)ncpu, sizeof(*v)))) {
		fprintf(stderr, "xgen sink: bad arguments\n");
		return 2;
	}
	struct bpf_object *o = open_obj(argv[optind]);

	prog = bpf_program__fd(bpf_object__find_program_by_name(o, "sink"));
	fd = bpf_object__find_map_fd_by_name(o, "sctr");
	bpf_map_update_elem(bpf_object__find_map_fd_by_name(o, "scfg"), &k, &offset, BPF_ANY);
	if (bpf_xdp_attach(ifi, prog, XDP_FLAGS_DRV_MODE, NULL) < 0) {
		perror("xgen sink: attach");
		return 1;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	printf("ready\n");
	fflush(stdout);
	while (!stop) {
		pause();
		if (dump) {
			struct sink_ctr s = { 0 };

			dump = 0;
			bpf_map_lookup_elem(fd, &k, v);
			for (int i = 0; i < ncpu; i++) {
				s.rx += v[i].rx;
				s.bad += v[i].bad;
				s.other += v[i].other;
			}
			printf("{\"rx\":%llu,\"bad\":%llu,\"other\":%llu}\n", (unsigned long long)s.rx,
			       (unsigned long long)s.bad, (unsigned long long)s.other);
			fflush(stdout);
		}
	}
	bpf_xdp_detach(ifi, XDP_FLAGS_DRV_MODE, NULL);
	bpf_object__close(o);
	free(v);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "gen"))
		return gen(argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "sink"))
		return sink(argc - 1, argv + 1);
	fprintf(stderr, "Usage: xgen gen|sink ... (see xgen.c)\n");
	return 2;
}
