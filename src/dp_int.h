/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The datapath's insides, shared by its four files: the per-packet relay
 * and signalling path (dp.c), the endpoint path through the TUN device
 * (dp_tun.c), drops and the ring of recent drops (dp_drops.c), and the
 * control thread's set-up, stats and events (dp_setup.c). What a packet touches in more than one of them is here as
 * static inline, so that the per-packet calls stay inlined. */
#ifndef GTPUD_DP_INT_H
#define GTPUD_DP_INT_H

#include "dp.h"

#include "dp.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "gtpu.h"
#include "inner.h"
#include "tun.h"


#include "gtpu.h"
#include "inner.h"
#include "tun.h"

#define SLOT (GTPU_HEADROOM + DP_BUF)
#define SIG_MAX 96                /* largest signalling message we build */
#define TXQ (DP_BATCH * 2)        /* a datagram can cause a relay and a reply */
#define GRO_SLOT (GTPU_HEADROOM + 65536)   /* a UDP GRO train of datagrams */
_Static_assert(SLOT % 64 == 0 && GRO_SLOT % 64 == 0 && GTPU_HEADROOM % 64 == 0,
	       "receive slots and the data in them start on cache lines");
#define GSO_SEGS 64               /* UDP_MAX_SEGMENTS of Linux 6.1 */
#define GSO_BYTES 65000           /* a UDP GSO send: below 64 KB of IP payload */
#define GSO_BUF (65536 + 256)

enum tx_kind { TX_FWD, TX_ANSWER, TX_EXTRA };

/* What a sent datagram counts for: the sending worker's counters of its
 * tunnel and of the peer it goes to (NULL: none), and ok_ctr (echo_rsp_tx...). */
struct txmeta {
	uint8_t kind;
	struct ctr *tunnel;
	struct ctr *peer;
	uint64_t *ok_ctr;
};

/* Room for the UDP_SEGMENT control message of a UDP GSO send. */
union udp_seg_ctl { char b[CMSG_SPACE(sizeof(uint16_t))]; struct cmsghdr align; };

struct txq {
	unsigned n;
	struct mmsghdr m[TXQ];
	struct iovec iov[TXQ];
	struct txmeta meta[TXQ];
	struct sockaddr_storage addr[TXQ];
	/* The send vector with UDP GSO runs (tx_pack): one datagram, or a run
	 * of cnt[i] datagrams to one peer with its UDP_SEGMENT control message. */
	struct mmsghdr g[TXQ];
	uint8_t cnt[TXQ];
	union udp_seg_ctl ctl[TXQ];
};

struct scratch {
	struct mmsghdr rx[DP_BATCH];
	struct iovec rxiov[DP_BATCH];
	struct sockaddr_storage rxaddr[DP_BATCH];
	uint8_t rxctl[DP_BATCH][96];  /* IPv6 packet info and the UDP GRO segment size */
	uint8_t sig[TXQ][SIG_MAX];
	uint8_t icmp[INNER_ICMP6_MAX];
	unsigned n_sig;
	struct txq *txq;              /* [n_socks] */
	uint8_t *bufs;                /* [DP_BATCH][SLOT] */
	uint8_t *tunbufs;             /* [DP_BATCH][SLOT] */
	size_t rx_slot;               /* SLOT, or GRO_SLOT with UDP GRO */
	size_t rx_ready;              /* the rx_slot the receive vector was built for */
	unsigned rx_used;             /* slots the last recvmmsg filled */
	/* Endpoint offloads, set by dp_set_tun. */
	bool vnet;                    /* the TUN fd reads and writes a struct tun_vnet first */
	bool gso;                     /* UDP GSO sends (cleared when the kernel refuses one) */
	size_t gso_seg;               /* largest datagram of a relayed GSO run; 0: none */
	uint8_t *tsobuf;              /* [TUN_GSO_MAX] a TCP super-packet read from the device */
	uint8_t *gsobuf;              /* [GSO_BUF] G-PDUs of one UDP GSO send */
	struct tun_coal coal;         /* TCP segments to the device being merged */
	struct state *s;              /* of the batch under way (a failed send names its tunnel) */
};

/* Counters are written by one worker only: plain adds, atomic-sized stores. */
#define INC(x, v) __atomic_store_n(&(x), (x) + (v), __ATOMIC_RELAXED)


struct rxctx {
	struct dp_worker *w;
	struct state *s;
	struct scratch *sc;
	unsigned sock;
	uint64_t now;                 /* 0 until rx_now reads the clock */
};

/* Stopping a worker: dp_stop sets w->stop and interrupts the worker's
 * wait with WAKE_SIG (a handler without SA_RESTART: the call returns EINTR).
 * Workers keep it blocked except while they wait. */
#define WAKE_SIG (SIGRTMIN + 3)

/* A worker's counters change in batches: st_seq is odd from the first
 * change of a batch to the end of its last (the write side of a seqlock,
 * two plain stores on x86), so that dp_stats reads them as of a moment
 * between two batches: a received packet is never seen there before it is
 * forwarded, answered, taken in or dropped. */
static inline void batch_begin(struct dp_worker *w)
{
	__atomic_store_n(&w->st_seq, w->st_seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

static inline void batch_end(struct dp_worker *w)
{
	__atomic_store_n(&w->st_seq, w->st_seq + 1, __ATOMIC_RELEASE);
}

/* Packet buffers start on a cache line (and slots are whole lines): the
 * kernel's copies into them, recvmmsg's and the TUN device's, store whole
 * lines (malloc gave 16 bytes past one). */
static inline void *line_alloc(size_t n)
{
	void *p;

	return posix_memalign(&p, 64, n) ? NULL : p;
}

/* Worker w's counters of tunnel ti, and of peer p (NULL for none). */
static inline struct ctr *tunnel_ctr(const struct dp_worker *w, const struct state *s, uint32_t ti)
{
	return &s->ctr[(size_t)w->id * s->cap + ti];
}

static inline struct ctr *peer_ctr(const struct dp_worker *w, const struct peer *p)
{
	return p ? &p->ctr[w->id] : NULL;
}

/* The socket of worker w to send to peer p from: the one bound to the local
 * address of the route to p (chosen by the control thread, dp_pick_sock),
 * else `pref` when of the right family, else the first of the family. */
static inline unsigned out_sock(const struct dp_worker *w, unsigned pref, const struct peer *p)
{
	int family = p->sa.ss_family, k = __atomic_load_n(&p->sock, __ATOMIC_RELAXED);

	if (k >= 0 && (unsigned)k < w->n_socks)
		return (unsigned)k;
	if (w->sock_family[pref] == family)
		return pref;
	for (unsigned i = 0; i < w->n_socks; i++)
		if (w->sock_family[i] == family)
			return i;
	return pref;
}

static inline void tx_put(struct txq *q, void *buf, size_t len, void *name, socklen_t namelen, struct txmeta meta)
{
	unsigned i = q->n++;

	q->iov[i].iov_base = buf;
	q->iov[i].iov_len = len;
	q->m[i].msg_hdr = (struct msghdr){ .msg_name = name, .msg_namelen = namelen,
					   .msg_iov = &q->iov[i], .msg_iovlen = 1 };
	q->meta[i] = meta;
}

/* Queue a datagram to the peer to, whose address is not copied: it stays
 * where it is until the queue is sent (the state outlives the batch). */
static inline void tx_add_peer(struct scratch *sc, unsigned sock, void *buf, size_t len,
			const struct peer *to, struct txmeta meta)
{
	tx_put(&sc->txq[sock], buf, len, (void *)&to->sa, to->salen, meta);
}

/* Queue a datagram to sa, copied: an answer to a source address. */
static inline void tx_add(struct scratch *sc, unsigned sock, void *buf, size_t len,
		   const struct sockaddr *sa, socklen_t salen, struct txmeta meta)
{
	struct txq *q = &sc->txq[sock];

	memcpy(&q->addr[q->n], sa, salen);
	tx_put(q, buf, len, &q->addr[q->n], salen, meta);
}

/* The time of the batch, read once and only when something needs it (a
 * rate limit, an Echo Response): the plain relay path reads no clock. */
static inline uint64_t rx_now(struct rxctx *x)
{
	if (!x->now)
		x->now = mono_ns();
	return x->now;
}

static inline struct tbucket *tunnel_bucket(const struct state *s, const struct tunnel *t,
				     unsigned w, unsigned dir)
{
	return &s->tb[((size_t)t->tb * s->n_workers + w) * 2 + dir];
}

/* The control message of a UDP GSO send of seg-byte datagrams, into ctl
 * (one cmsg of its own) and mh. */
static inline void udp_segment(struct msghdr *mh, union udp_seg_ctl *ctl, size_t seg)
{
	struct cmsghdr *cm = &ctl->align;
	uint16_t gs = (uint16_t)seg;

	memset(ctl, 0, sizeof(*ctl));
	cm->cmsg_level = SOL_UDP;
	cm->cmsg_type = UDP_SEGMENT;
	cm->cmsg_len = CMSG_LEN(sizeof(gs));
	memcpy(CMSG_DATA(cm), &gs, sizeof(gs));
	mh->msg_control = ctl->b;
	mh->msg_controllen = sizeof(ctl->b);
}

/* ---- dp_drops.c ---- */

/* Drops: counted under their reason, for their tunnel too when the reason
 * can name one (ti, TUNNEL_NONE for none), and a sample written to the
 * worker's ring of recent drops. Off the forwarding path: out of line. */
/* A datagram received from src (whose peer is p, or NULL), with TEID teid
 * (-1 before its header was parsed). */
void dp_drop_rx(struct rxctx *x, enum drop_reason r, const struct sockaddr *src, const struct peer *p,
		int64_t teid, uint32_t ti) __attribute__((cold, noinline));
/* n packets read from the TUN device (ip: the inner packet, NULL when it
 * was not valid) on their way to tunnel ti. */
void dp_drop_tun(struct dp_worker *w, const struct state *s, enum drop_reason r, uint64_t n,
		 const struct inner_pkt *ip, uint32_t ti, uint64_t now) __attribute__((cold, noinline));
/* The two halves of the above: count n drops (true when a record of them
 * is within the budget; now monotonic, 0: read the clock), write record d. */
bool dp_drop_count(struct dp_worker *w, const struct state *s, enum drop_reason r, uint64_t n,
		   uint32_t ti, uint64_t now);
void dp_drop_write(struct dp_worker *w, struct dp_drop *d, enum drop_reason r, uint32_t ti);
/* n datagrams of buf (a G-PDU or a reply) to sa, counted for tunnel
 * counters tc (NULL: none), that could not be sent. */
void dp_drop_tx(struct dp_worker *w, enum drop_reason r, uint64_t n, const struct ctr *tc,
		const uint8_t *buf, size_t len, const struct sockaddr *sa) __attribute__((cold, noinline));

/* ---- dp.c ---- */

/* Counts what a send delivered: pkts datagrams of bytes in all. */
void dp_count_sent(struct dp_worker *w, const struct txmeta *m, uint64_t pkts, uint64_t bytes);
/* Send every queued datagram of every socket. */
void dp_tx_flush(struct dp_worker *w, struct scratch *sc);
/* Hand ev to the control thread (lost, and counted, when its ring is full). */
void dp_push_event(struct dp_worker *w, const struct dp_event *ev);
bool dp_hold(struct dp_worker *w, uint32_t ti, uint32_t teid, const uint8_t *p, size_t len);
void *dp_worker_main(void *arg);
void dp_wake_handler(int sig);

/* ---- dp_tun.c: the endpoint ---- */

/* Decapsulate the inner packet of tunnel ti, received from src, onto the TUN device. */
void dp_ep_decap(struct rxctx *x, uint32_t ti, const uint8_t *pkt, size_t len, const struct sockaddr *src);
/* Write the TCP segments being merged for the device. */
void dp_ep_flush(struct dp_worker *w, struct scratch *sc);
/* Read a batch from the TUN device and encapsulate it; the number read. */
int dp_ep_rx(struct dp_worker *w, struct state *s, struct scratch *sc);
/* The device went away: stop reading it, tell the control thread. */
void dp_ep_lost(struct dp_worker *w);

#endif
