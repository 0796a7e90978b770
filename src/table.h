/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The forwarding tables: peers, tunnels, the TEID index and the UE address
 * index. Built from a config in one piece; then tunnels are added and
 * removed one at a time while the workers read it without locks (QSBR).
 * Per-tunnel and per-peer counters. */
#ifndef GTPUD_TABLE_H
#define GTPUD_TABLE_H

#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "conf.h"
#include "util.h"

#define TABLE_MAX_WORKERS 64
#define TABLE_MAX_TUNNELS (1u << 25)   /* the file's (CONF_MAX_TUNNELS) and runtime ones */

struct ctr {
	uint64_t rx_pkts, rx_bytes, tx_pkts, tx_bytes;
};

/* Per-tunnel drop counters: one for each drop reason that can name a
 * tunnel (the datapath maps its reasons to these slots). They live apart
 * from struct ctr, in memory that is touched only when a tunnel drops. */
#define TABLE_TDROPS 15

enum peer_state { PEER_UNKNOWN = 0, PEER_UP = 1, PEER_DOWN = 2 };

/* Token bucket: tokens in units of 1/1000 byte or packet, refilled lazily. */
struct tbucket {
	uint64_t tokens;         /* milli-units */
	uint64_t last_ns;
	uint64_t rate;           /* units per second */
	uint64_t burst;          /* milli-units */
	uint64_t dt_max;         /* ns: a longer gap refills the bucket whole */
};
void tbucket_init(struct tbucket *b, uint64_t rate, uint64_t burst, uint64_t now_ns);

/* Take units from b at now_ns: false when there are not enough (then
 * nothing is taken). Inline: a rated tunnel pays it on every packet.
 * milli-units per ns = rate / 1e6. A gap longer than dt_max refills at least
 * UINT64_MAX / 1e6 milli-units, 18 times the deepest bucket (10^9 bytes):
 * full. Below it, tokens (at most the burst) plus the refill stay within 64
 * bits. */
static inline bool tbucket_take(struct tbucket *b, uint64_t units, uint64_t now_ns)
{
	uint64_t dt = now_ns - b->last_ns;
	uint64_t tokens = dt > b->dt_max ? b->burst : b->tokens + dt * b->rate / 1000000;

	if (tokens > b->burst)
		tokens = b->burst;
	b->last_ns = now_ns;
	if (tokens < units * 1000) {
		b->tokens = tokens;
		return false;
	}
	b->tokens = tokens - units * 1000;
	return true;
}

/* A peer persists across reloads while its name, address and port stay. */
struct peer {
	char name[CONF_NAME_MAX + 1];
	uint32_t id;                  /* unique while gtpud runs: kept across reloads as the peer is */
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
	int64_t since;                /* Unix time of the last state change (of gtpud's start at first) */
	int recovery;                 /* -1 unknown */
	uint64_t echo_req_tx, echo_timeouts, down_count, err_ind_rx;
	uint64_t echo_req_tx_bytes;   /* of the Echo Requests sent (control thread) */
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
	struct tbucket *echo_tb;      /* [n_workers] Echo Responses */
	struct tbucket *ei_rx_tb;     /* [n_workers] Error Indications received */
	/* PFCP: a peer that Outer Header Creation brought into being, and the
	 * tunnels sending to it (control thread). It goes at the next rebuild
	 * once no tunnel uses it. */
	bool dynamic;
	uint32_t users;
	/* The XDP fast path's slot for it, plus one; 0: none (xdp.c). */
	uint32_t xdp_slot;
};

#define TUNNEL_ENDPOINT 0x01     /* has ue: decapsulated onto the TUN device */
#define TUNNEL_RUNTIME 0x02      /* added through the control socket */
#define TUNNEL_LIVE 0x04         /* the slot holds a tunnel (control thread's view) */
#define TUNNEL_PFCP 0x08         /* a PFCP session's */
#define TUNNEL_ANY_SRC 0x10      /* matched on the TEID alone (PFCP: no source peer) */
#define TUNNEL_DROP 0x20         /* its G-PDUs are counted and dropped (FAR DROP) */
#define TUNNEL_NO_TO 0x40        /* sends nothing: to_peer and to_teid are unset */
#define TUNNEL_BUFF 0x80         /* downlink held for the control thread (FAR BUFF) */
#define TUNNEL_KEEP (TUNNEL_RUNTIME | TUNNEL_PFCP | TUNNEL_ANY_SRC | TUNNEL_DROP | TUNNEL_NO_TO | \
		     TUNNEL_ENDPOINT | TUNNEL_BUFF)
#define TABLE_NO_PEER UINT32_MAX  /* from_peer of ANY_SRC, to_peer of NO_TO */
#define TUNNEL_NONE UINT32_MAX

/* One slot of the tunnel array. A slot keeps its index for the tunnel's
 * life (counters and buckets are indexed by it); a freed slot is reused only
 * after every worker has passed a quiescent point (state_reclaim). */
struct tunnel {
	uint32_t from_teid;
	uint32_t to_teid;
	uint32_t from_peer;           /* index into state.peers */
	uint32_t to_peer;
	uint32_t name_off;            /* into the name pool (control thread only) */
	uint32_t ue_off;              /* into state.ue */
	uint8_t n_ue;
	int8_t qfi;                   /* -1 none */
	uint8_t flags;
	uint8_t ul_qfi;               /* the QFI a G-PDU received must carry, plus 1; 0: any */
	uint32_t tb;                  /* index into state.tb ([n_workers] each), or TUNNEL_NONE */
};

/* Open-addressing hash: key -> tunnel index, key and value in one 64-bit
 * word (key low, value high), written and read whole, so that a worker
 * never sees half an entry while the control thread changes it. Key 0 is an
 * empty slot (no TEID used by a tunnel is 0); value TUNNEL_NONE is a
 * deleted one (lookups go on past it). One cache line per probe. */
struct hidx {
	uint32_t mask;
	uint32_t used;                /* entries, deleted ones too (control thread) */
	uint32_t live;
	uint64_t slot[];
};

#define HIDX_KEY(e) ((uint32_t)(e))
#define HIDX_VAL(e) ((uint32_t)((e) >> 32))

/* UE address -> tunnel. family 0: empty; tunnel TUNNEL_NONE: deleted. The
 * address of an entry never changes once its family is written, so a worker
 * compares it safely; only tunnel changes (one 32-bit store). */
struct ue_entry {
	uint32_t tunnel;
	uint8_t family;
	uint8_t addr[16];
};

struct uidx {
	uint32_t mask;
	uint32_t used, live;
	struct ue_entry slot[];
};

struct tctl;                      /* the control thread's part (table.c) */
struct state;

/* Who else keeps a copy of the tunnels (the XDP fast path): told of every
 * tunnel added and of every one about to be removed, and asked for its
 * counts when a tunnel's or a peer's are read. Control thread only. */
struct state_ext {
	void (*tunnel_changed)(void *ctx, const struct state *s, uint32_t i, bool added);
	void (*tunnel_ctr)(void *ctx, const struct state *s, uint32_t i, struct ctr *c);
	void (*peer_ctr)(void *ctx, const struct peer *p, struct ctr *c);
	void *ctx;
};
#define TB_CFG_N 3

struct state {
	unsigned n_workers;
	uint32_t n_peers;
	uint32_t peer_cap;            /* peers[] has room for this many (PFCP adds some) */
	struct peer **peers;
	uint32_t peer_mask;           /* address hash of peers: index + 1, 0 empty */
	uint32_t *peer_hash;
	uint32_t n_tunnels;           /* live tunnels */
	uint32_t n_runtime;           /* of which added at run time */
	uint32_t n_pfcp;              /* of which PFCP sessions' */
	uint32_t cap;                 /* tunnel slots reserved: the file's plus max_runtime */
	uint32_t hi;                  /* slots ever used: [0, hi) holds every live one */
	struct tunnel *tunnels;       /* [cap] */
	struct hidx *teid;            /* atomic pointer: replaced when it grows */
	struct hidx *to;              /* to_teid -> tunnels, several per key; atomic pointer */
	struct uidx *ue_idx;          /* atomic pointer, NULL until a tunnel has ue */
	struct conf_addr *ue;         /* the tunnels' ue addresses */
	struct tbucket *tb;           /* token buckets [n][n_workers][2] (up, down) */
	uint64_t *tb_cfg;             /* [n][TB_CFG_N]: the configured rate (bit/s), burst (0: default),
				         downlink rate (0: the rate) */
	struct ctr *ctr;              /* [n_workers][cap] */
	struct ctr *base;             /* [cap] counts carried over from earlier states, or NULL */
	uint64_t *tdrop;              /* [n_workers][cap][TABLE_TDROPS] drops by tunnel */
	uint64_t *tdrop_base;         /* [cap][TABLE_TDROPS] carried over, or NULL */
	uint64_t *tun_err_ind;        /* [cap] Error Indications received (control thread), or NULL */
	struct conf *conf;            /* settings other than the tables, shared */
	unsigned *conf_refs;          /* states sharing conf (control thread) */
	struct tctl *ctl;
	const struct state_ext *ext;  /* or NULL */
};

/* A tunnel as the control socket, the state file and a reload name it:
 * peers by name, since peer indexes change with every config.
 * t.from_peer/t.to_peer are ignored. */
struct rt_tunnel {
	struct conf_tunnel t;
	uint8_t flags;                /* TUNNEL_KEEP bits; 0 reads as TUNNEL_RUNTIME */
	char from[CONF_NAME_MAX + 1];
	char to[CONF_NAME_MAX + 1];
};

/* Build a state from conf (taken over, freed with the state) plus the runtime
 * tunnels rt[0..n_rt), with room for max_runtime runtime tunnels (at least
 * n_rt). Peers are taken from old when name and address match, so their
 * path state and counters carry over. Runtime tunnels that collide with the
 * config (name, from.teid or a ue address), name an unknown peer or have ue
 * without a tun are skipped and described in collide (a malloc'd list, one
 * line a tunnel, or NULL; NULL on failure). Returns 0 or -errno. */
int state_new(struct conf *conf, const struct rt_tunnel *rt, uint32_t n_rt, uint32_t max_runtime,
	      const struct state *old, unsigned n_workers, struct state **out,
	      char **collide);
/* Extra peers a state makes room for (PFCP's), and tunnels (on top of
 * max_runtime): set by the daemon before state_new. */
extern uint32_t state_dynamic_peers;

/* ---- peers that PFCP brings (control thread) ---- */
/* The peer at address a (port: a->port, 0 for 2152), or TABLE_NO_PEER. */
uint32_t state_peer_by_addr(const struct state *s, const struct conf_addr *a);
/* Add a dynamic peer named after its address; TABLE_NO_PEER when the
 * room reserved for them is full or out of memory. */
uint32_t state_peer_add(struct state *s, const struct conf_addr *a);
/* Replace tunnel i by ct (same or other from TEID, name, ue): workers see
 * either the old or the new one, never neither for the same TEID. Returns
 * the new index, TUNNEL_NONE when out of memory (i untouched). */
uint32_t state_tunnel_replace(struct state *s, uint32_t i, const struct conf_tunnel *ct,
			      uint32_t from, uint32_t to, uint8_t flags);
/* Carry tunnel counters of old into s by tunnel name (after old is quiescent). */
void state_carry_counters(struct state *s, const struct state *old);
void state_free(struct state *s);

/* ---- changes one tunnel at a time (control thread) ----
 * Each is O(1) amortized. Workers see a change as soon as it is made; what
 * it frees waits in a list until state_commit stamps it with the datapath
 * generation that follows the change and state_reclaim finds every worker
 * past it. */

/* Why tunnel t (peers as indexes) cannot be added: 0, or -EEXIST (name,
 * from TEID or a ue address taken), -ENOENT (peer index out of range),
 * -EINVAL (ue without tun), with a sentence in err. The rules of a tunnel
 * on its own are tunnel_rules' (conf.h); these are the table's. */
int state_tunnel_check(const struct state *s, const struct conf_tunnel *t, char *err, size_t errlen);
/* The same for rows[0..n) as one batch, each also against the rows before
 * it: fn gets every row refused (its number, -errno, a sentence). Returns
 * the number refused (n when out of memory). */
typedef void (*state_err_fn)(void *ctx, uint32_t row, int code, const char *msg);
uint32_t state_batch_check(const struct state *s, const struct conf_tunnel *rows, uint32_t n,
			   state_err_fn fn, void *ctx);
/* Make room for n more tunnels: -ENOSPC when the slots are all taken
 * (state_reclaim may give some back), -ENOMEM. After 0, n adds that
 * passed state_tunnel_check cannot fail. */
int state_reserve(struct state *s, uint32_t n);
/* Add a checked tunnel; returns its index. */
uint32_t state_tunnel_add(struct state *s, const struct conf_tunnel *t, uint32_t from, uint32_t to,
			  uint8_t flags);
void state_tunnel_del(struct state *s, uint32_t i);
/* Slots freed since the last commit are safe once every worker has seen
 * generation gen. */
void state_commit(struct state *s, uint64_t gen);
/* Give back what every worker is past (all have seen safe_gen). Returns
 * the number of things still waiting. */
size_t state_reclaim(struct state *s, uint64_t safe_gen);
/* Slots free now, and waiting to be. */
uint32_t state_free_slots(const struct state *s);

/* Tunnel i as a runtime row (peer names, ue pointing into s). */
void state_tunnel_row(const struct state *s, uint32_t i, struct rt_tunnel *out);
/* The runtime tunnels of s as rows (name and ue point into s; free the
 * array only). */
int state_runtime_rows(const struct state *s, struct rt_tunnel **rows, uint32_t *n);

uint32_t state_find_tunnel(const struct state *s, const char *name);
/* The index of the peer called name (the file's or PFCP's), or TABLE_NO_PEER. */
uint32_t state_peer_named(const struct state *s, const char *name);
/* Error Indications received for tunnel i (control thread). */
bool state_count_err_ind(struct state *s, uint32_t i);
uint64_t state_err_ind(const struct state *s, uint32_t i);

/* Every live tunnel, in slot order. */
#define STATE_FOR_EACH(s, i) \
	for (uint32_t i = 0; i < (s)->hi; i++) \
		if ((s)->tunnels[i].flags & TUNNEL_LIVE)

const char *state_names(const struct state *s);
static inline const char *tunnel_name(const struct state *s, const struct tunnel *t)
{
	return state_names(s) + t->name_off;
}

static inline uint32_t hidx_hash(uint32_t k)
{
	return hash_u32(k);
}

static inline const struct hidx *state_teid_idx(const struct state *s)
{
	return __atomic_load_n(&s->teid, __ATOMIC_ACQUIRE);
}

static inline uint32_t state_lookup_teid(const struct state *s, uint32_t teid)
{
	const struct hidx *h = state_teid_idx(s);
	uint32_t i = hidx_hash(teid) & h->mask;

	if (teid == 0)
		return TUNNEL_NONE;   /* 0 marks empty slots, and no tunnel has it */
	for (;;) {
		uint64_t e = __atomic_load_n(&h->slot[i], __ATOMIC_ACQUIRE);
		uint32_t k = HIDX_KEY(e);

		if (k == teid && HIDX_VAL(e) != TUNNEL_NONE)
			return HIDX_VAL(e);
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

/* Sum of the counters of tunnel i over the workers, plus its carried base
 * and what s->ext counted. */
void state_tunnel_ctr(const struct state *s, uint32_t i, struct ctr *out);
void state_peer_ctr(const struct state *s, const struct peer *p, struct ctr *out);
/* Drops of tunnel i by slot, summed over the workers; returns the total. */
uint64_t state_tunnel_drops(const struct state *s, uint32_t i, uint64_t out[TABLE_TDROPS]);

/* Worker w's drop counter k of tunnel i. */
static inline uint64_t *state_tdrop(const struct state *s, unsigned w, uint32_t i, unsigned k)
{
	return &s->tdrop[((size_t)w * s->cap + i) * TABLE_TDROPS + k];
}

/* Bytes of memory one tunnel costs at most, with n_workers and n_ue ue
 * addresses, rated or not (gtpud.conf(5) quotes it). */
size_t state_tunnel_bytes(unsigned n_workers, unsigned n_ue, bool rated);

void conf_addr_to_sockaddr(const struct conf_addr *a, uint16_t port,
			   struct sockaddr_storage *ss, socklen_t *len);

#endif
