/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The datapath: worker threads, each with its own sockets (SO_REUSEPORT when
 * there are several), a TUN queue, batched recvmmsg/sendmmsg, and its own
 * counters. Workers read the current state without locks; the control
 * thread swaps it and waits for every worker to pass a quiescent point. */
#ifndef GTPUD_DP_H
#define GTPUD_DP_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "gtpu.h"
#include "table.h"

/* Every packet received is counted exactly once: as forwarded, as answered
 * (an Echo Request answered), as signalling taken in (sig_rx), or under one
 * of these drop reasons. Keep
 * drop_reason_name in step; it is the label of gtpud_drops_total. */
enum drop_reason {
	DROP_MALFORMED,          /* header, Length or IEs not valid */
	DROP_VERSION,            /* GTP version other than 1, or PT 0 */
	DROP_EXT_HEADER,         /* extension header chain not valid */
	DROP_EXT_UNSUPPORTED,    /* comprehension-required extension header we do not know */
	DROP_UNSUPPORTED_TYPE,   /* a message type gtpud does not handle on 2152 */
	DROP_UNKNOWN_PEER,       /* not from a configured peer */
	DROP_WRONG_PEER,         /* known TEID, but not from the tunnel's peer */
	DROP_UNKNOWN_TEID,
	DROP_PEER_DOWN,          /* to a peer that is down, with echo.on_down = "drop" */
	DROP_ERROR_IND_IGNORED,  /* Error Indication not from the peer it names */
	DROP_TOO_LONG,           /* datagram larger than the receive buffer */
	DROP_SEND_ERROR,
	DROP_INNER_MALFORMED,    /* inner IP packet not valid (decapsulation) */
	DROP_GTP_IN_GTP,         /* inner packet is UDP to port 2152 */
	DROP_SPOOFED,            /* inner source is not one of the tunnel's ue */
	DROP_NO_ROUTE,           /* packet from the TUN device to no known UE */
	DROP_TOO_BIG,            /* larger than the tunnel MTU: ICMP sent back */
	DROP_RATE_LIMIT,         /* the tunnel's rate was exceeded */
	DROP_NO_TUN,             /* endpoint tunnel but no TUN device */
	DROP_TUN_ERROR,          /* writing to the TUN device failed */
	DROP_NOT_UNICAST,        /* sent to a broadcast or multicast address */
	DROP_ECHO_RATE_LIMIT,    /* Echo Request over echo.answer_rate: not answered */
	DROP_ERROR_IND_UNKNOWN_TEID, /* Error Indication from a peer for a TEID no tunnel sends to it */
	DROP_ERROR_IND_RATE_LIMIT,   /* Error Indication over error_indication.accept_rate */
	DROP_FAR_DROP,           /* a PFCP session's rules drop it (FAR DROP, no FAR) */
	DROP_BUFFER_OVERFLOW,    /* FAR BUFF: no room in the buffers (or larger than a slot) */
	DROP_BUFFER_EXPIRED,     /* FAR BUFF: held longer than the buffering time */
	DROP_QFI_MISMATCH,       /* its PDR names a QFI: the G-PDU has another, or none */
	DROP__COUNT
};

const char *drop_reason_name(enum drop_reason r);
/* The per-tunnel counter slot (table.h, TABLE_TDROPS) of a reason that can
 * name a tunnel, -1 for the others (unknown_teid, malformed...). */
int drop_tunnel_slot(enum drop_reason r);

/* Global counters of one worker; summed on read. */
struct wstats {
	uint64_t rx_pkts, rx_bytes, tx_pkts, tx_bytes;
	uint64_t forwarded;
	uint64_t answered;           /* Echo Requests answered: an Echo Response sent */
	uint64_t sig_rx;             /* signalling taken in, no answer: Echo Responses, Error
				      * Indications, Notifications, End Markers to an endpoint */
	uint64_t drops[DROP__COUNT];
	uint64_t echo_req_rx, echo_rsp_tx, echo_rsp_rx;
	uint64_t err_ind_tx, err_ind_rx, sehn_tx, end_markers;
	uint64_t tun_rx, tun_tx, icmp_tx;
	uint64_t events_lost;
	uint64_t drops_recorded;     /* drops written to the ring of recent drops */
	uint64_t held_in;            /* handed to a session's buffer (FAR BUFF) */
	uint64_t held_out;           /* left it: sent (forwarded) or dropped (control thread) */
} __attribute__((aligned(64)));

#define DP_BATCH 64
#define DP_BUF 9216              /* largest datagram handled */
#define DP_MAX_SOCKS CONF_MAX_LISTEN
#define DP_EVQ 256               /* events to the control thread, per worker */
#define DP_HOLDQ 256             /* packets on their way to a session's buffer, per worker */
#define DP_HOLD_DATA 2040        /* largest packet a buffer takes */

/* A packet for a buffering FAR (FAR BUFF), on its way from a worker to the
 * control thread, which keeps it in its session's buffer: the T-PDU (the
 * user packet) and the tunnel whose downlink it is. */
struct dp_hold {
	uint32_t tunnel;         /* slot in the state of the time */
	uint32_t teid;           /* the tunnel's from_teid, to tell a reused slot */
	uint16_t len;
	uint8_t data[DP_HOLD_DATA];
};

/* Something a worker tells the control thread (Error Indication received). */
struct dp_event {
	uint32_t kind;           /* DP_EV_* */
	uint32_t tunnel;         /* index in the state of gen; TUNNEL_NONE: no tunnel has the TEID */
	uint64_t gen;
	char peer[CONF_NAME_MAX + 1];
	uint32_t teid;
	uint8_t addr_len;
	uint8_t addr[16];
};
enum { DP_EV_ERROR_IND = 1, DP_EV_TUN_LOST = 2 };

/* Recent drops, for gtpuctl drops and monitor drops: each worker writes a
 * record of a drop into its own ring, at most DP_DROP_RATE a second (a
 * burst of DP_DROP_BURST): under a flood the records are a sample spread
 * over time. Only a drop writes; the forwarding path never does. */
#define DP_DROPQ 128
#define DP_DROP_RATE 100
#define DP_DROP_BURST 32
enum {
	DP_DROP_TEID = 1,        /* teid is known */
	DP_DROP_SRC = 2,         /* src and port are known */
	DP_DROP_DST = 4,         /* dst is known */
	DP_DROP_TUN = 8,         /* read from the TUN device: src and dst are the inner packet's */
};
struct dp_drop {
	uint64_t time_ns;        /* CLOCK_REALTIME */
	uint32_t reason;         /* enum drop_reason */
	uint32_t teid;           /* the G-PDU's (received, or to be sent) */
	uint32_t tunnel;         /* slot in the state of the time, or TUNNEL_NONE */
	uint16_t port;           /* of src, host order */
	uint8_t family;          /* of src and dst */
	uint8_t flags;           /* DP_DROP_* */
	uint8_t src[16];
	uint8_t dst[16];         /* a send's destination, or the inner one (DP_DROP_TUN) */
	char peer[CONF_NAME_MAX + 1];   /* the peer of src (of dst for a send), or "" */
};
/* A slot of the ring: seq is 2n + 1 while record n is written, 2n + 2 once
 * it is whole (a seqlock of its own), so that the control thread reads a
 * record whole or not at all, and knows which one it read. */
struct dp_drop_slot {
	uint64_t seq;            /* atomic */
	union {
		struct dp_drop d;
		uint64_t word[sizeof(struct dp_drop) / 8];   /* copied a word at a time, atomically */
	} u;
};
_Static_assert(sizeof(struct dp_drop) % 8 == 0, "a drop record is whole words");

struct dp_worker {
	unsigned id;
	pthread_t thread;
	bool started;            /* thread runs (control thread only) */
	struct dp *dp;
	int socks[DP_MAX_SOCKS];
	int sock_family[DP_MAX_SOCKS];
	unsigned n_socks;
	int tun_fd;              /* -1 none */
	bool tun_lost;           /* the device went away: not read any more (atomic: the control thread reads it) */
	bool stop;               /* atomic: set by dp_stop, which then wakes the worker */
	uint64_t seen_gen;       /* QSBR: generation last seen, UINT64_MAX while idle */
	struct wstats st;
	uint32_t st_seq;         /* atomic, odd while a batch updates st (dp_stats) */
	struct tbucket ei_global;    /* Error Indications to sources that are not peers */
	struct tbucket echo_global;  /* Echo Responses to sources that are not peers */
	struct tbucket echo_total;   /* Echo Responses to all sources */
	/* Single-producer single-consumer event ring. */
	struct dp_event evq[DP_EVQ];
	uint32_t ev_head, ev_tail;   /* atomic */
	/* Recent drops: written by the worker only. */
	struct dp_drop_slot dropq[DP_DROPQ];
	uint64_t drop_head;          /* atomic: records ever written */
	struct tbucket drop_tb;      /* DP_DROP_RATE */
	uint64_t drop_mon;           /* control thread: the next record the monitors get */
	/* Single-producer single-consumer ring of held packets (PFCP only). */
	struct dp_hold *holdq;       /* [DP_HOLDQ], NULL without PFCP */
	uint32_t hold_head, hold_tail;   /* atomic */
	void *scratch;
};

struct dp {
	unsigned n_workers;
	struct dp_worker *w;
	struct state *cur;       /* atomic */
	uint64_t gen;            /* atomic, bumped at each swap */
	int notify_fd;           /* eventfd the workers poke: echo responses, events */
	uint64_t start_ns;
	uint64_t quiet_until_ns; /* no Error Indication before this */
	unsigned tun_mtu;
	struct wstats ctl;       /* counted by the control thread (held packets' fates) */
};

/* Open the sockets of every worker for the listen addresses (or take the
 * inherited fds, used by worker 0, when n_inherited > 0). err gets a
 * sentence naming the address on failure. Returns 0 or -errno. */
int dp_init(struct dp *dp, const struct conf *c, unsigned n_workers,
	    const int *inherited, unsigned n_inherited, char *err, size_t errlen);
/* Give worker w the TUN queue fd (taken over). */
void dp_set_tun(struct dp *dp, unsigned w, int fd);
int dp_start(struct dp *dp, struct state *s);
/* Publish s and wait until no worker uses the previous state; returns it. */
struct state *dp_swap(struct dp *dp, struct state *s);
/* Changes made in place (a tunnel added or removed): a new generation, to
 * stamp what the change unlinked; it is safe to free once dp_safe_gen()
 * reaches it (every worker past a quiescent point since). */
uint64_t dp_advance(struct dp *dp);
uint64_t dp_safe_gen(struct dp *dp);
/* Wait until every worker has seen generation g or is idle. */
void dp_wait(struct dp *dp, uint64_t g);
void dp_stop(struct dp *dp);
void dp_fini(struct dp *dp);

static inline struct state *dp_state(struct dp *dp)
{
	return __atomic_load_n(&dp->cur, __ATOMIC_ACQUIRE);
}

/* The G-PDU header of tunnel t's sends: its TEID, and its QFI in a
 * downlink PDU Session Container. The workers', and the control thread's
 * for the packets a buffering FAR held. */
static inline struct gtpu_encap tunnel_encap(const struct tunnel *t)
{
	return (struct gtpu_encap){ .teid = t->to_teid, .with_pdu_session = t->qfi >= 0,
		.pdu_type = GTPU_PDU_DL, .qfi = t->qfi >= 0 ? (uint8_t)t->qfi : 0 };
}

/* Sum of the workers' global counters. */
void dp_stats(struct dp *dp, struct wstats *out);
/* Write a drop record into w's ring (the worker's own thread only). */
void dp_drop_put(struct dp_worker *w, const struct dp_drop *d);
/* Records w ever wrote: the last DP_DROPQ of them may still be read. */
uint64_t dp_drop_head(const struct dp_worker *w);
/* Record n of w, when it is still there and whole: false when it was
 * overwritten (or is being written) meanwhile. Any thread. */
bool dp_drop_get(const struct dp_worker *w, uint64_t n, struct dp_drop *out);

/* Take the next held packet of any worker into out; false when none.
 * Control thread only. */
bool dp_hold_pop(struct dp *dp, struct dp_hold *out);

/* Pop one event of any worker; false when none. Control thread only. */
bool dp_event_pop(struct dp *dp, struct dp_event *ev);
/* The event dp_event_pop would return next, left where it is. */
bool dp_event_peek(struct dp *dp, struct dp_event *ev);
/* Index of the socket to send to sa from: the one bound to the local
 * address the route to sa uses, else a wildcard one, else the first of the
 * family; -1 when none (no route, no socket of the family). */
int dp_pick_sock(struct dp *dp, const struct sockaddr *sa, socklen_t salen);
/* Send a datagram from socket sock of worker 0 (-1: the first of the family). */
int dp_send(struct dp *dp, int sock, const void *buf, size_t len, const struct sockaddr *sa, socklen_t salen);

#endif
