/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The forwarding tables: peers, tunnels, the TEID index and the UE address
 * index, built from a config in one piece and then read-only for the
 * datapath (only counters and a few atomics change). Counters, drop reasons. */
#ifndef GTPUD_TABLE_H
#define GTPUD_TABLE_H

#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "conf.h"
#include "util.h"

#define TABLE_MAX_WORKERS 64

/* Every packet received is counted exactly once: as forwarded, as answered
 * (signalling handled), or under one of these drop reasons. Keep
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
	DROP_ERROR_IND_IGNORED,  /* Error Indication that names no tunnel of its sender */
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
	DROP__COUNT
};

const char *drop_reason_name(enum drop_reason r);

struct ctr {
	uint64_t rx_pkts, rx_bytes, tx_pkts, tx_bytes;
};

/* Global counters of one worker; summed on read. */
struct wstats {
	uint64_t rx_pkts, rx_bytes, tx_pkts, tx_bytes;
	uint64_t forwarded, answered;
	uint64_t drops[DROP__COUNT];
	uint64_t echo_req_rx, echo_rsp_tx, echo_rsp_rx;
	uint64_t err_ind_tx, err_ind_rx, sehn_tx, end_markers;
	uint64_t tun_rx, tun_tx, icmp_tx;
	uint64_t events_lost;
} __attribute__((aligned(64)));

enum peer_state { PEER_UNKNOWN = 0, PEER_UP = 1, PEER_DOWN = 2 };

/* Token bucket: tokens in units of 1/1000 byte or packet, refilled lazily. */
struct tbucket {
	uint64_t tokens;         /* milli-units */
	uint64_t last_ns;
	uint64_t rate;           /* units per second */
	uint64_t burst;          /* units */
};
bool tbucket_take(struct tbucket *b, uint64_t units, uint64_t now_ns);
void tbucket_init(struct tbucket *b, uint64_t rate, uint64_t burst, uint64_t now_ns);

/* A peer persists across reloads while its name, address and port stay. */
struct peer {
	char name[CONF_NAME_MAX + 1];
	struct conf_addr addr;
	struct sockaddr_storage sa;   /* address and port to send to */
	socklen_t salen;
	bool echo;
	int sock;                     /* socket index to send from, -1: by family (atomic) */
	unsigned refs;                /* states referring to it (control thread) */
	/* Path state: written by the control thread, read by workers. */
	int state;                    /* enum peer_state, atomic */
	int seen;                     /* set by a worker on traffic while not up */
	/* Echo: the control thread owns these. */
	uint16_t echo_seq;
	unsigned echo_tries;
	uint64_t echo_sent_ns;        /* of the first transmission of echo_seq */
	uint64_t echo_next_ns;
	int64_t rtt_us;               /* -1 unknown */
	int recovery;                 /* -1 unknown */
	uint64_t echo_req_tx, echo_timeouts, down_count, err_ind_rx;
	/* The request awaiting its response: echo_seq | 1 << 16, 0 when none
	 * (the control thread writes it, workers read it). */
	uint32_t echo_wait;           /* atomic */
	/* Last Echo Response seen by a worker: seq | 1 << 16, recovery; ns. */
	uint32_t rsp_seq;             /* atomic */
	uint32_t rsp_recovery;        /* atomic */
	uint64_t rsp_ns;              /* atomic */
	/* Per worker. */
	struct ctr *ctr;              /* [n_workers] */
	struct tbucket *ei_tb;        /* [n_workers] Error Indications */
};

#define TUNNEL_ENDPOINT 0x01     /* has ue: decapsulated onto the TUN device */
#define TUNNEL_RUNTIME 0x02      /* added through the control socket */
#define TUNNEL_NONE UINT32_MAX

struct tunnel {
	uint32_t from_teid;
	uint32_t to_teid;
	uint32_t from_peer;           /* index into state.peers */
	uint32_t to_peer;
	uint32_t name_off;            /* into state.names */
	uint32_t ue_off;              /* into state.ue */
	uint8_t n_ue;
	int8_t qfi;                   /* -1 none */
	uint8_t flags;
	uint32_t tb;                  /* index into state.tb ([n_workers] each), or TUNNEL_NONE */
};

/* Open-addressing hash: key -> tunnel index. Key and value share a slot:
 * one cache line per probe, one miss per lookup in a large table. */
struct hslot {
	uint32_t key;                 /* TEID (0 = empty in the TEID index) */
	uint32_t val;
};

struct hidx {
	uint32_t mask;
	struct hslot *slot;
};

struct ue_entry {
	uint8_t family;               /* 0 = empty */
	uint8_t addr[16];
	uint32_t tunnel;
};

struct state {
	unsigned n_workers;
	uint32_t n_peers;
	struct peer **peers;
	uint32_t peer_mask;           /* address hash of peers: index + 1, 0 empty */
	uint32_t *peer_hash;
	uint32_t n_tunnels;
	uint32_t n_runtime;
	struct tunnel *tunnels;
	char *names;
	struct conf_addr *ue;
	struct hidx teid;
	struct hidx to;               /* to_teid -> tunnel, several per key; empty: val TUNNEL_NONE */
	uint32_t ue_mask;
	struct ue_entry *ue_hash;
	struct tbucket *tb;           /* token buckets [n_rated][n_workers][2] (up, down) */
	uint64_t *tb_cfg;             /* [n_rated][2]: the configured rate (bit/s) and burst (0: default) */
	struct ctr *ctr;              /* [n_workers][n_tunnels] */
	struct ctr *base;             /* [n_tunnels] counts carried over from earlier states, or NULL */
	uint64_t *tun_err_ind;        /* [n_tunnels] Error Indications received (control thread), or NULL */
	struct conf *conf;            /* settings other than the tables, shared */
	unsigned *conf_refs;          /* states sharing conf (control thread) */
};

/* A tunnel added through the control socket: peers by name, since peer
 * indexes change with every config. t.from_peer/t.to_peer are ignored. */
struct rt_tunnel {
	struct conf_tunnel t;
	char from[CONF_NAME_MAX + 1];
	char to[CONF_NAME_MAX + 1];
};

/* Build a state from conf (taken over, freed with the state) plus the runtime
 * tunnels rt[0..n_rt). Peers are taken from old when name and address match,
 * so their path state and counters carry over. Runtime tunnels that collide
 * with the config (name, from.teid or a ue address), name an unknown peer or
 * have ue without a tun are skipped and described in collide (a malloc'd
 * list, one line a tunnel, or NULL; NULL on failure). Returns 0 or -errno. */
int state_new(struct conf *conf, const struct rt_tunnel *rt, uint32_t n_rt,
	      const struct state *old, unsigned n_workers, struct state **out,
	      char **collide);
/* The same with the config of old (shared, not copied): for runtime
 * tunnel changes. */
int state_rebuild(const struct state *old, const struct rt_tunnel *rt, uint32_t n_rt,
		  struct state **out, char **collide);
/* Carry tunnel counters of old into s by tunnel name (after old is quiescent). */
void state_carry_counters(struct state *s, const struct state *old);
void state_free(struct state *s);

static inline const char *tunnel_name(const struct state *s, const struct tunnel *t)
{
	return s->names + t->name_off;
}

uint32_t state_find_tunnel(const struct state *s, const char *name);
/* Error Indications received for tunnel i (control thread). */
bool state_count_err_ind(struct state *s, uint32_t i);
uint64_t state_err_ind(const struct state *s, uint32_t i);

static inline uint32_t hidx_hash(uint32_t k)
{
	return hash_u32(k);
}

static inline uint32_t state_lookup_teid(const struct state *s, uint32_t teid)
{
	const struct hidx *h = &s->teid;
	uint32_t i = hidx_hash(teid) & h->mask;

	if (teid == 0)
		return TUNNEL_NONE;   /* 0 marks empty slots, and no tunnel has it */
	for (;;) {
		uint32_t k = h->slot[i].key;
		if (k == teid)
			return h->slot[i].val;
		if (k == 0)
			return TUNNEL_NONE;
		i = (i + 1) & h->mask;
	}
}

/* The tunnel that sends to peer p with TEID teid, or TUNNEL_NONE. */
uint32_t state_lookup_to(const struct state *s, uint32_t peer, uint32_t teid);

/* Peer by source address (port ignored), or NULL. */
struct peer *state_lookup_peer(const struct state *s, const struct sockaddr *sa);
/* Tunnel by inner address (family AF_INET/AF_INET6), or TUNNEL_NONE. */
uint32_t state_lookup_ue(const struct state *s, int family, const uint8_t *addr);

/* Sum of the counters of tunnel i over the workers, plus its carried base. */
void state_tunnel_ctr(const struct state *s, uint32_t i, struct ctr *out);
void state_peer_ctr(const struct state *s, const struct peer *p, struct ctr *out);

void conf_addr_to_sockaddr(const struct conf_addr *a, uint16_t port,
			   struct sockaddr_storage *ss, socklen_t *len);

#endif
