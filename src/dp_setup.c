/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The datapath as the control thread sees it: sockets and workers set up and
 * stopped, the state published and waited for (QSBR), counters summed,
 * events taken from the workers' rings, and the control thread's own sends. */
#include "dp_int.h"

const char *drop_reason_name(enum drop_reason r)
{
	switch (r) {
	case DROP_MALFORMED: return "malformed";
	case DROP_VERSION: return "version";
	case DROP_EXT_HEADER: return "ext_header";
	case DROP_EXT_UNSUPPORTED: return "ext_unsupported";
	case DROP_UNSUPPORTED_TYPE: return "unsupported_type";
	case DROP_UNKNOWN_PEER: return "unknown_peer";
	case DROP_WRONG_PEER: return "wrong_peer";
	case DROP_UNKNOWN_TEID: return "unknown_teid";
	case DROP_PEER_DOWN: return "peer_down";
	case DROP_ERROR_IND_IGNORED: return "error_ind_ignored";
	case DROP_TOO_LONG: return "too_long";
	case DROP_SEND_ERROR: return "send_error";
	case DROP_INNER_MALFORMED: return "inner_malformed";
	case DROP_GTP_IN_GTP: return "gtp_in_gtp";
	case DROP_SPOOFED: return "spoofed";
	case DROP_NO_ROUTE: return "no_route";
	case DROP_TOO_BIG: return "too_big";
	case DROP_RATE_LIMIT: return "rate_limit";
	case DROP_NO_TUN: return "no_tun";
	case DROP_TUN_ERROR: return "tun_error";
	case DROP_NOT_UNICAST: return "not_unicast";
	case DROP_ECHO_RATE_LIMIT: return "echo_rate_limit";
	case DROP_ERROR_IND_UNKNOWN_TEID: return "error_ind_unknown_teid";
	case DROP_ERROR_IND_RATE_LIMIT: return "error_ind_rate_limit";
	case DROP_FAR_DROP: return "far_drop";
	case DROP_BUFFER_OVERFLOW: return "buffer_overflow";
	case DROP_BUFFER_EXPIRED: return "buffer_expired";
	case DROP_QFI_MISMATCH: return "qfi_mismatch";
	case DROP__COUNT: break;
	}
	return "unknown";
}

/* ---- set-up, run by the control thread ---- */

/* Options gtpud needs on every GTP-U socket, also one passed by systemd
 * (whose unit sets buffers and IPV6_V6ONLY). */
static void sock_opts(int fd, int family)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	static const uint8_t any[16];
	int one = 1;

	/* The local address is needed only for Error Indications (Peer
	 * Address); a socket bound to one address knows it without asking the
	 * kernel for it with every datagram. */
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0 &&
	    memcmp(family == AF_INET ? (const void *)&((struct sockaddr_in *)&ss)->sin_addr :
				       (const void *)&((struct sockaddr_in6 *)&ss)->sin6_addr,
		   any, family == AF_INET ? 4 : 16))
		one = 0;

	/* Outer fragmentation is allowed: an inner IPv4 packet without DF that
	 * does not fit is sent in fragments rather than dropped. */
	if (family == AF_INET) {
		int pmtu = IP_PMTUDISC_DONT;

		setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
		setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &pmtu, sizeof(pmtu));
	} else if (family == AF_INET6) {
		int pmtu = IPV6_PMTUDISC_DONT;

		setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one));
		setsockopt(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &pmtu, sizeof(pmtu));
	}
}

static int open_sock(const struct conf_addr *a, bool reuseport, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd, one = 1, buf = 8 << 20;
	char as[64];

	conf_addr_to_sockaddr(a, a->port ? a->port : GTPU_PORT, &ss, &sl);
	fd = socket(a->family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		goto fail;
	if (a->family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (reuseport)
		setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	/* Bursts: the kernel caps these at net.core.[rw]mem_max unless FORCE works. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof(buf)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0)
		goto fail;
	sock_opts(fd, a->family);
	return fd;
fail:
	one = errno;
	snprintf(err, errlen, "cannot bind %s%s%s:%u: %s", a->family == AF_INET6 ? "[" : "",
		 conf_addr_str(a, as, sizeof(as)), a->family == AF_INET6 ? "]" : "",
		 a->port ? a->port : GTPU_PORT, strerror(one));
	if (fd >= 0)
		close(fd);
	return -one;
}

/* UDP GSO and GRO, unless GTPUD_GSO=0 in the environment (to measure
 * what they bring). */
static bool offload_wanted(void)
{
	const char *e = getenv("GTPUD_GSO");

	return !e || strcmp(e, "0") != 0;
}

/* UDP GRO on the worker's sockets: the kernel hands over trains of one
 * flow's datagrams (rx_gro splits them) into 64 KB receive slots. Without
 * the memory, or on a kernel without UDP GRO, single datagrams. */
static void gro_on(struct dp_worker *wk)
{
	struct scratch *sc = wk->scratch;
	uint8_t *big;
	int one = 1;

	if (!offload_wanted() || sc->rx_slot == GRO_SLOT || !wk->n_socks ||
	    !(big = line_alloc((size_t)DP_BATCH * GRO_SLOT)))
		return;
	for (unsigned k = 0; k < wk->n_socks; k++)
		if (setsockopt(wk->socks[k], SOL_UDP, UDP_GRO, &one, sizeof(one)) < 0)
			one = 0;
	if (!one) {
		for (unsigned k = 0; k < wk->n_socks; k++)
			setsockopt(wk->socks[k], SOL_UDP, UDP_GRO, &one, sizeof(one));
		free(big);
		return;
	}
	free(sc->bufs);
	sc->bufs = big;
	sc->rx_slot = GRO_SLOT;
}

/* SO_REUSEPORT would let a second gtpud join our group and take part of
 * the traffic: first make sure nobody holds the address. */
static int probe_free(const struct conf_addr *a, char *err, size_t errlen)
{
	struct conf_addr b = *a;
	int fd;

	fd = open_sock(&b, false, err, errlen);
	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

static int sock_family(int fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0)
		return AF_UNSPEC;
	return ss.ss_family;
}

int dp_init(struct dp *dp, const struct conf *c, unsigned n_workers,
	    const int *inherited, unsigned n_inherited, char *err, size_t errlen)
{
	memset(dp, 0, sizeof(*dp));
	dp->n_workers = n_workers;
	dp->notify_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	dp->w = calloc(n_workers, sizeof(*dp->w));
	dp->start_ns = mono_ns();
	dp->quiet_until_ns = dp->start_ns + (uint64_t)c->error_indication.quiet * 1000000000u;
	if (dp->notify_fd < 0 || !dp->w) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (unsigned i = 0; i < n_workers; i++) {
		struct dp_worker *w = &dp->w[i];
		struct scratch *sc;

		w->id = i;
		w->dp = dp;
		w->tun_fd = -1;
		sc = calloc(1, sizeof(*sc));
		if (!sc)
			return -ENOMEM;
		w->scratch = sc;
		/* Packets for buffering FARs: only PFCP sessions have those. */
		if (c->pfcp.enabled && !(w->holdq = line_alloc((size_t)DP_HOLDQ * sizeof(*w->holdq))))
			return -ENOMEM;
		/* Sources that are not peers share one Error Indication budget
		 * (ei_global), set up by the worker at its first use. */
		sc->rx_slot = SLOT;
		sc->bufs = line_alloc((size_t)DP_BATCH * SLOT);
		sc->tunbufs = line_alloc((size_t)DP_BATCH * SLOT);
		if (!sc->bufs || !sc->tunbufs)
			return -ENOMEM;
		if (i == 0 && n_inherited) {
			for (unsigned k = 0; k < n_inherited && k < DP_MAX_SOCKS; k++) {
				w->socks[w->n_socks] = inherited[k];
				w->sock_family[w->n_socks] = sock_family(inherited[k]);
				sock_opts(inherited[k], w->sock_family[w->n_socks++]);
			}
		} else if (!n_inherited) {
			for (unsigned k = 0; k < c->n_listen; k++) {
				int fd;

				if (i == 0 && n_workers > 1 && (fd = probe_free(&c->listen[k], err, errlen)) < 0)
					return fd;
				fd = open_sock(&c->listen[k], n_workers > 1, err, errlen);

				if (fd < 0)
					return fd;
				w->socks[w->n_socks] = fd;
				w->sock_family[w->n_socks++] = c->listen[k].family;
			}
		}
		if (!(sc->txq = calloc(w->n_socks ? w->n_socks : 1, sizeof(*sc->txq))))
			return -ENOMEM;
		if (offload_wanted()) {
			sc->gso_seg = 65535;
			gro_on(w);
		}
	}
	return 0;
}

/* With IFF_VNET_HDR on the device (tun_open asked for it), the worker also
 * sends UDP GSO from the device's super-packets, and needs buffers for
 * 64 KB packets; without memory it goes without. */
void dp_set_tun(struct dp *dp, unsigned w, int fd)
{
	struct dp_worker *wk = &dp->w[w];
	struct scratch *sc = wk->scratch;
	struct ifreq ifr;

	wk->tun_fd = fd;
	memset(&ifr, 0, sizeof(ifr));
	if (ioctl(fd, TUNGETIFF, &ifr) < 0 || !(ifr.ifr_flags & IFF_VNET_HDR))
		return;
	sc->tsobuf = line_alloc(TUN_GSO_MAX);
	sc->gsobuf = line_alloc(GSO_BUF);
	sc->coal.buf = line_alloc(TUN_VNET_LEN + TUN_GSO_MAX);
	if (!sc->tsobuf || !sc->gsobuf || !sc->coal.buf)
		return;           /* vnet stays false: dp_fini frees what was had */
	sc->vnet = true;
	sc->gso = offload_wanted();
	gro_on(wk);
}

/* A worker without sockets or TUN queue gets no thread. */
static bool worker_runs(const struct dp_worker *w)
{
	return w->n_socks || w->tun_fd >= 0;
}

int dp_start(struct dp *dp, struct state *s)
{
	struct sigaction sa = { .sa_handler = dp_wake_handler };   /* no SA_RESTART */
	sigset_t ss;

	/* Blocked here, so in every worker: the polling ones unblock it inside
	 * ppoll only, the one blocking in recvmmsg for good. */
	sigemptyset(&ss);
	sigaddset(&ss, WAKE_SIG);
	pthread_sigmask(SIG_BLOCK, &ss, NULL);
	sigemptyset(&sa.sa_mask);
	sigaction(WAKE_SIG, &sa, NULL);
	dp->cur = s;
	dp->gen = 1;
	for (unsigned i = 0; i < dp->n_workers; i++) {
		struct dp_worker *w = &dp->w[i];
		int r;

		if (!worker_runs(w)) {
			w->seen_gen = UINT64_MAX;
			continue;    /* inherited sockets serve worker 0 only */
		}
		if ((r = pthread_create(&w->thread, NULL, dp_worker_main, w)) != 0) {
			dp_stop(dp);     /* the ones started: dp_fini frees what they use */
			return -r;
		}
		w->started = true;
	}
	return 0;
}

uint64_t dp_advance(struct dp *dp)
{
	return __atomic_add_fetch(&dp->gen, 1, __ATOMIC_SEQ_CST);
}

uint64_t dp_safe_gen(struct dp *dp)
{
	uint64_t min = UINT64_MAX;

	for (unsigned i = 0; dp->w && i < dp->n_workers; i++) {
		uint64_t g = __atomic_load_n(&dp->w[i].seen_gen, __ATOMIC_SEQ_CST);

		if (g < min)
			min = g;
	}
	return min;
}

void dp_wait(struct dp *dp, uint64_t g)
{
	for (unsigned i = 0; dp->w && i < dp->n_workers; i++) {
		while (__atomic_load_n(&dp->w[i].seen_gen, __ATOMIC_SEQ_CST) < g) {
			struct timespec ts = { 0, 50000 };

			nanosleep(&ts, NULL);
		}
	}
}

struct state *dp_swap(struct dp *dp, struct state *s)
{
	struct state *old = __atomic_exchange_n(&dp->cur, s, __ATOMIC_SEQ_CST);

	dp_wait(dp, dp_advance(dp));
	return old;
}

void dp_stop(struct dp *dp)
{
	for (unsigned i = 0; dp->w && i < dp->n_workers; i++)
		__atomic_store_n(&dp->w[i].stop, true, __ATOMIC_SEQ_CST);
	for (unsigned i = 0; dp->w && i < dp->n_workers; i++) {
		struct dp_worker *w = &dp->w[i];

		if (!w->started)
			continue;
		/* A blocking worker may be between its stop check and
		 * recvmmsg when the signal comes: signal again until it ends. */
		for (;;) {
			struct timespec ts = { 0, 1000000 };

			pthread_kill(w->thread, WAKE_SIG);
			if (pthread_tryjoin_np(w->thread, NULL) != EBUSY)
				break;
			nanosleep(&ts, NULL);
		}
		w->started = false;
	}
}

void dp_fini(struct dp *dp)
{
	for (unsigned i = 0; dp->w && i < dp->n_workers; i++) {
		struct dp_worker *w = &dp->w[i];
		struct scratch *sc = w->scratch;

		for (unsigned k = 0; k < w->n_socks; k++)
			close(w->socks[k]);
		free(w->holdq);
		if (sc) {
			free(sc->bufs);
			free(sc->tunbufs);
			free(sc->tsobuf);
			free(sc->gsobuf);
			free(sc->coal.buf);
			free(sc->txq);
			free(sc);
		}
	}
	free(dp->w);
	if (dp->notify_fd >= 0)
		close(dp->notify_fd);
	memset(dp, 0, sizeof(*dp));
}

/* Worker w's counters between two of its batches (the read side of the
 * seqlock of batch_begin): read again while a batch was under way, at
 * first at once, then with a 50 us sleep every 64 readings, which lets a
 * worker preempted mid-batch get the CPU. A yield was not enough: on a
 * loaded machine a worker waited out 5 ms of them. After STATS_WAIT_NS the
 * last reading is taken, off by at most the batch in flight: a reader
 * never waits on the datapath for long. */
#define STATS_WAIT_NS 100000000

static void worker_stats(const struct dp_worker *w, struct wstats *out)
{
	const uint64_t *src = (const uint64_t *)&w->st;
	uint64_t *dst = (uint64_t *)out;
	uint64_t until = 0;

	for (unsigned t = 1;; t++) {
		uint32_t s0 = __atomic_load_n(&w->st_seq, __ATOMIC_ACQUIRE);

		for (size_t k = 0; k < sizeof(*out) / sizeof(uint64_t); k++)
			dst[k] = __atomic_load_n(&src[k], __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (!(s0 & 1) && __atomic_load_n(&w->st_seq, __ATOMIC_RELAXED) == s0)
			return;
		if (t % 64 == 0) {
			uint64_t now = mono_ns();

			if (!until)
				until = now + STATS_WAIT_NS;
			else if (now >= until)
				return;
			nanosleep(&(struct timespec){ .tv_nsec = 50000 }, NULL);
		}
	}
}

void dp_stats(struct dp *dp, struct wstats *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned i = 0; i < dp->n_workers; i++) {
		struct wstats one;
		const uint64_t *src = (const uint64_t *)&one;
		uint64_t *dst = (uint64_t *)out;

		worker_stats(&dp->w[i], &one);
		for (size_t k = 0; k < sizeof(*out) / sizeof(uint64_t); k++)
			dst[k] += src[k];
	}
	/* The control thread's counts (held packets' fates) as one more. */
	for (size_t k = 0; k < sizeof(*out) / sizeof(uint64_t); k++)
		((uint64_t *)out)[k] += ((const uint64_t *)&dp->ctl)[k];
}

/* The next event of any worker into ev; with take, removed from its ring. */
static bool event_next(struct dp *dp, struct dp_event *ev, bool take)
{
	for (unsigned i = 0; i < dp->n_workers; i++) {
		struct dp_worker *w = &dp->w[i];
		uint32_t tail = __atomic_load_n(&w->ev_tail, __ATOMIC_RELAXED);

		if (tail == __atomic_load_n(&w->ev_head, __ATOMIC_ACQUIRE))
			continue;
		*ev = w->evq[tail % DP_EVQ];
		if (take)
			__atomic_store_n(&w->ev_tail, tail + 1, __ATOMIC_RELEASE);
		return true;
	}
	return false;
}

bool dp_hold_pop(struct dp *dp, struct dp_hold *out)
{
	for (unsigned i = 0; i < dp->n_workers; i++) {
		struct dp_worker *w = &dp->w[i];
		uint32_t tail = __atomic_load_n(&w->hold_tail, __ATOMIC_RELAXED);
		const struct dp_hold *h;

		if (!w->holdq || tail == __atomic_load_n(&w->hold_head, __ATOMIC_ACQUIRE))
			continue;
		h = &w->holdq[tail % DP_HOLDQ];
		out->tunnel = h->tunnel;
		out->teid = h->teid;
		out->len = h->len;
		memcpy(out->data, h->data, h->len);
		__atomic_store_n(&w->hold_tail, tail + 1, __ATOMIC_RELEASE);
		return true;
	}
	return false;
}

bool dp_event_pop(struct dp *dp, struct dp_event *ev)
{
	return event_next(dp, ev, true);
}

bool dp_event_peek(struct dp *dp, struct dp_event *ev)
{
	return event_next(dp, ev, false);
}

static bool same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr == ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	return !memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr, &((const struct sockaddr_in6 *)b)->sin6_addr, 16);
}

static bool any_addr(const struct sockaddr_storage *a)
{
	static const uint8_t zero[16];

	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr == 0;
	return !memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr, zero, 16);
}

int dp_pick_sock(struct dp *dp, const struct sockaddr *sa, socklen_t salen)
{
	struct dp_worker *w = &dp->w[0];
	struct sockaddr_storage local, bound;
	socklen_t l = sizeof(local);
	int fd, wildcard = -1, first = -1;

	/* Ask the routing table which local address reaches sa. */
	fd = socket(sa->sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, sa, salen) < 0 || getsockname(fd, (struct sockaddr *)&local, &l) < 0) {
		close(fd);
		return -1;
	}
	close(fd);
	for (unsigned k = 0; k < w->n_socks; k++) {
		socklen_t bl = sizeof(bound);

		if (w->sock_family[k] != sa->sa_family ||
		    getsockname(w->socks[k], (struct sockaddr *)&bound, &bl) < 0)
			continue;
		if (same_addr(&bound, &local))
			return (int)k;
		if (any_addr(&bound) && wildcard < 0)
			wildcard = (int)k;
		if (first < 0)
			first = (int)k;
	}
	return wildcard >= 0 ? wildcard : first;
}

int dp_send(struct dp *dp, int sock, const void *buf, size_t len, const struct sockaddr *sa, socklen_t salen)
{
	if (sock >= 0 && (unsigned)sock < dp->w[0].n_socks)
		return sendto(dp->w[0].socks[sock], buf, len, MSG_DONTWAIT, sa, salen) < 0 ? -errno : 0;
	for (unsigned i = 0; i < dp->n_workers; i++) {
		struct dp_worker *w = &dp->w[i];

		for (unsigned k = 0; k < w->n_socks; k++)
			if (w->sock_family[k] == sa->sa_family)
				return sendto(w->socks[k], buf, len, MSG_DONTWAIT, sa, salen) < 0 ? -errno : 0;
	}
	return -EAFNOSUPPORT;
}

