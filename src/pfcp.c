/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The PFCP user plane (pfcp.h). One request at a time on the control
 * thread: decoded whole (pfcp_msg.c), checked whole against the table, then
 * applied, so that a session is established, modified or deleted whole or
 * not at all. A session's rules become tunnels named pfcp-SEID-PDRID:
 *
 *  - a PDR on a local F-TEID whose FAR forwards with Outer Header Creation
 *    is a relay tunnel (TEID rewritten, sent to the peer of the OHC);
 *  - a PDR on a local F-TEID whose FAR forwards to the core without OHC is
 *    an endpoint tunnel (decapsulated onto the TUN device), whose ue and
 *    downlink come from the session's UE IP Address PDR and its FAR;
 *  - a FAR that drops gives a tunnel that counts and drops (far_drop).
 *
 * PFCP tunnels match on the TEID alone (TS 29.244 5.2.1: a PDI has no
 * source address). GTP-U peers come into being from OHC addresses. */
#include "pfcp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "ctl_proto.h"
#include "daemon.h"
#include "gtpu.h"
#include "log.h"
#include "pfcp_msg.h"
#include "table.h"
#include "util.h"

#define NTP_OFFSET 2208988800u     /* 1900 to 1970 */
#define MAX_NODES 256              /* associations */
#define CACHE_SIZE 65536           /* responses kept for retransmitted requests */
#define CACHE_BUCKETS 65536
#define CACHE_SECONDS 30
#define MAX_PENDING 1024           /* requests gtpud sent that await a response */
#define REQ_T1_NS 3000000000ull
#define REQ_N1 3
#define SESS_PREFIX "pfcp-"

/* ---- rules as a session keeps them ---- */

struct spdr {
	uint16_t id;
	uint8_t src_if, ohr;
	int8_t qfi;
	uint8_t fteid_flags;      /* of the request: V4, V6, CH, CHID */
	uint8_t ue_flags;
	uint8_t n_qer, n_urr;
	uint8_t has_far, has_ue, has_fteid;
	uint32_t precedence, far_id, teid;
	uint8_t ue4[4], ue6[16];
	uint32_t qer[2], urr[2];
};

struct sfar {
	uint32_t id;
	uint8_t action, dst_if, has_ohc, sndem;
	uint8_t has_bar, bar_id;
	uint16_t ohc_desc;
	uint32_t ohc_teid;
	uint8_t ohc_addr[16];
};

struct sqer {
	uint32_t id;
	uint8_t gate;             /* UL << 2 | DL, 0 open */
	int8_t qfi;               /* -1 */
	uint16_t spare;
	uint32_t mbr_ul, mbr_dl;  /* kbit/s, 0: none */
};

/* A URR: what it measures and when it reports (TS 29.244 5.2.2). Counts
 * are the session's tunnels' counters (cumulative); carry keeps what
 * replaced tunnels had counted. */
struct surr {
	uint32_t id;
	uint8_t method, vth_flags, vq_flags, exhausted;
	uint16_t triggers;
	uint16_t spare;
	uint32_t period, time_th, time_quota, seqn;
	int64_t start;            /* Unix time the measurement (since the last report) began */
	int64_t created;          /* for the time quota */
	int64_t next_period;
	uint64_t vth[3], vq[3];   /* total, UL, DL bytes */
	uint64_t base[4];         /* UL bytes, DL bytes, UL packets, DL packets at the last report */
	uint64_t qbase[2];        /* UL, DL bytes when it was created (the quota's start) */
	uint64_t carry[4];
};

struct pnode;

/* A session and its rules in one block: cap_pdr PDRs, cap_far FARs, then the QERs. Kept
 * small: half a million of them is the design load. */
struct sess {
	uint64_t up_seid, cp_seid;
	struct sess *hnext;       /* in the SEID hash */
	struct pnode *node;
	uint16_t n_pdr, n_far, cap_pdr, cap_far;
	uint16_t n_qer, n_urr, cap_qer;
	uint8_t has_bar, bar_id, bar_delay;    /* its BAR: ID, Downlink Data Notification Delay (50 ms) */
	uint16_t bar_count;                    /* Suggested Buffering Packets Count */
	struct hbuf *buf;                      /* what FAR BUFF holds, or NULL */
};

/* A packet a buffering FAR holds, and a session's buffer. */
struct hpkt {
	struct hpkt *next;
	uint64_t at_ns;           /* monotonic, when it was taken */
	uint16_t pdr;             /* the PDR whose tunnel it came by */
	uint16_t len;
	uint8_t data[];
};

struct hbuf {
	struct hpkt *head, *tail;
	uint32_t n, bytes;
	bool reported;            /* the Downlink Data Report of this period was sent */
	bool report_due;          /* and when it is not, after report_ns (the BAR's delay) */
	uint16_t report_pdr;
	uint64_t report_ns;
	uint64_t until_ns;        /* DL Buffering Duration of the control plane, 0: pfcp.buffer_time */
	uint32_t max_n;           /* its DL Buffering Suggested Packet Count, 0: none */
	uint64_t taken, released, overflow, expired, discarded;
};
#define PDRS(s) ((struct spdr *)((s) + 1))
#define FARS(s) ((struct sfar *)(PDRS(s) + (s)->cap_pdr))
#define QERS(s) ((struct sqer *)(FARS(s) + (s)->cap_far))
/* URRs hold 64-bit counters: their area starts 8-aligned. */
#define URRS(s) ((struct surr *)(((uintptr_t)(QERS(s) + (s)->cap_qer) + 7) & ~(uintptr_t)7))

struct pnode {
	struct pfcp_node_id id;
	char name[128];
	struct sockaddr_storage sa;
	socklen_t salen;
	int sock;
	uint32_t recovery;
	int64_t since;            /* Unix time the association was set up */
	int64_t last_hb;          /* Unix time of the last heartbeat seen, 0 none */
	uint32_t n_sess;
	uint32_t hb_seq;          /* awaited, 0 none */
	unsigned hb_tries;
	uint64_t hb_next_ns;
};

/* A peer's address and port, compactly (the response cache has many). */
struct caddr {
	uint8_t family;
	uint16_t port;
	uint8_t a[16];
};

struct cached {
	struct caddr sa;
	uint32_t seq;
	uint8_t type;
	uint16_t len;
	int32_t next;             /* in its hash chain, -1 at the end */
	int64_t at;               /* Unix time it was sent */
	uint8_t *b;
};

struct pending {
	bool used;
	uint32_t seq;
	uint8_t type;
	struct pnode *node;
	unsigned tries;
	uint64_t next_ns;
	uint16_t len;
	uint8_t *b;
};

struct pfcp {
	struct daemon *d;
	struct conf_pfcp c;
	struct pfcp_node_id self;
	uint32_t recovery;        /* our Recovery Time Stamp (NTP seconds) */
	int fd[CONF_MAX_LISTEN];
	unsigned n_fd;
	sd_event_source *io[CONF_MAX_LISTEN], *timer;
	uint8_t *rx, *tx;
	struct pnode *nodes[MAX_NODES];
	unsigned n_nodes;
	struct sess **hash;
	uint32_t hash_mask;
	uint32_t n_sess;
	uint64_t next_seid;
	uint32_t next_teid;
	uint32_t next_seq;
	struct cached *cache;     /* [CACHE_SIZE], a ring */
	int32_t *cache_head;      /* [CACHE_BUCKETS] */
	unsigned cache_next;
	struct pending pend[MAX_PENDING];
	/* Counters. */
	uint64_t rx_msg[256], tx_msg[256], tx_cause[256];
	uint64_t refused, malformed, retransmitted, timeouts, too_long, unexpected;
	uint64_t sessions_created, sessions_deleted, usage_reports;
	/* Sessions with URRs, looked at by the timer (by SEID: a session's
	 * block changes with each modification). */
	uint64_t *urr_seids;
	uint32_t n_urr_seids, cap_urr_seids;
	struct txn *txn;          /* the request's, reused: no 16 KB block a request */
	/* Sessions whose buffers hold packets (by SEID), looked at by the timer. */
	uint64_t *buf_seids;
	uint32_t n_buf_seids, cap_buf_seids;
	uint64_t held_bytes, held_packets;
	uint64_t dl_data_reports;
	struct dp_hold hold;      /* the one pfcp_hold_drain takes a packet into */
};

/* ---- helpers ---- */

static int64_t now_s(void)
{
	return (int64_t)time(NULL);
}

/* The source as a conf_addr, IPv4-mapped addresses unmapped. */
static void sa_addr(const struct sockaddr_storage *ss, struct conf_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)ss;

		a->family = AF_INET;
		memcpy(a->addr, &s4->sin_addr, 4);
		a->port = ntohs(s4->sin_port);
	} else {
		const struct sockaddr_in6 *s6 = (const void *)ss;

		a->port = ntohs(s6->sin6_port);
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			a->family = AF_INET;
			memcpy(a->addr, s6->sin6_addr.s6_addr + 12, 4);
		} else {
			a->family = AF_INET6;
			memcpy(a->addr, &s6->sin6_addr, 16);
		}
	}
}

static bool prefix_has(const struct conf_prefix *p, const struct conf_addr *a)
{
	unsigned bits = p->plen, i = 0;

	if (p->addr.family != a->family)
		return false;
	for (; bits >= 8; bits -= 8, i++)
		if (p->addr.addr[i] != a->addr[i])
			return false;
	return !bits || !((p->addr.addr[i] ^ a->addr[i]) & (0xff00 >> bits));
}

static bool allowed(const struct pfcp *pf, const struct sockaddr_storage *ss)
{
	struct conf_addr a;

	sa_addr(ss, &a);
	for (unsigned i = 0; i < pf->c.n_allow; i++)
		if (prefix_has(&pf->c.allow[i], &a))
			return true;
	return false;
}

static void sa_str(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	struct conf_addr a;
	char as[INET6_ADDRSTRLEN];

	sa_addr(ss, &a);
	snprintf(buf, len, a.family == AF_INET6 ? "[%s]:%u" : "%s:%u", conf_addr_str(&a, as, sizeof(as)),
		 a.port);
}

static void send_to(struct pfcp *pf, int sock, const struct sockaddr_storage *sa, socklen_t salen,
		    const uint8_t *b, size_t n)
{
	if (sendto(pf->fd[sock], b, n, 0, (const struct sockaddr *)sa, salen) == (ssize_t)n)
		pf->tx_msg[b[1]]++;
}

static void tunnel_name_of(uint64_t seid, uint16_t pdr, char *buf, size_t len)
{
	snprintf(buf, len, SESS_PREFIX "%" PRIx64 "-%u", seid, pdr);
}

/* ---- the response cache: a retransmitted request gets the same answer ---- */

static void caddr_of(const struct sockaddr_storage *ss, struct caddr *c)
{
	struct conf_addr a;

	sa_addr(ss, &a);
	memset(c, 0, sizeof(*c));
	c->family = (uint8_t)a.family;
	c->port = a.port;
	memcpy(c->a, a.addr, 16);
}

static bool caddr_eq(const struct caddr *x, const struct caddr *y)
{
	return x->family == y->family && x->port == y->port && !memcmp(x->a, y->a, 16);
}

static uint32_t cache_hash(const struct caddr *a, uint32_t seq, uint8_t type)
{
	uint32_t h = hash_u32(seq ^ (uint32_t)type << 24);

	for (unsigned i = 0; i < 16; i += 4)
		h = hash_u32(h ^ ((uint32_t)a->a[i] << 24 | (uint32_t)a->a[i + 1] << 16 |
				  (uint32_t)a->a[i + 2] << 8 | a->a[i + 3]));
	return hash_u32(h ^ a->port) & (CACHE_BUCKETS - 1);
}

static struct cached *cache_find(struct pfcp *pf, const struct sockaddr_storage *ss, uint32_t seq,
				 uint8_t type)
{
	int64_t t = now_s();
	struct caddr sa;

	caddr_of(ss, &sa);
	for (int32_t i = pf->cache_head[cache_hash(&sa, seq, type)]; i >= 0; i = pf->cache[i].next) {
		struct cached *c = &pf->cache[i];

		if (c->seq == seq && c->type == type && caddr_eq(&c->sa, &sa))
			return t - c->at > CACHE_SECONDS ? NULL : c;
	}
	return NULL;
}

static void cache_put(struct pfcp *pf, const struct sockaddr_storage *ss, uint32_t seq, uint8_t type,
		      const uint8_t *b, size_t n)
{
	int32_t k = (int32_t)pf->cache_next;
	struct cached *c = &pf->cache[k];
	uint8_t *copy = malloc(n);
	struct caddr sa;
	uint32_t h;

	if (!copy)
		return;
	caddr_of(ss, &sa);
	if (c->b) {      /* the oldest goes: out of its chain */
		int32_t *pi = &pf->cache_head[cache_hash(&c->sa, c->seq, c->type)];

		while (*pi >= 0 && *pi != k)
			pi = &pf->cache[*pi].next;
		if (*pi == k)
			*pi = c->next;
		free(c->b);
	}
	c->sa = sa;
	c->seq = seq;
	c->type = type;
	c->at = now_s();
	c->len = (uint16_t)n;
	c->b = copy;
	memcpy(copy, b, n);
	h = cache_hash(&sa, seq, type);
	c->next = pf->cache_head[h];
	pf->cache_head[h] = k;
	pf->cache_next = (pf->cache_next + 1) % CACHE_SIZE;
}

/* ---- the request being answered ---- */

struct req {
	struct pfcp *pf;
	int sock;
	struct sockaddr_storage sa;
	socklen_t salen;
	struct pfcp_hdr h;
	const uint8_t *ies;
	size_t ies_len;
	struct pfcp_buf w;
};

static void rsp_begin(struct req *r, uint8_t type, bool has_seid, uint64_t seid)
{
	r->w.b = r->pf->tx;
	r->w.cap = PFCP_MAX_MSG;
	pfcp_msg_begin(&r->w, type, has_seid, seid, r->h.seq);
}

static void rsp_cause(struct req *r, const struct pfcp_fail *f)
{
	pfcp_put_u8(&r->w, IE_CAUSE, f->cause);
	if (f->cause != PFCP_CAUSE_ACCEPTED && f->offending)
		pfcp_put_u16(&r->w, IE_OFFENDING_IE, f->offending);
}

static void rsp_send(struct req *r)
{
	struct pfcp *pf = r->pf;

	pfcp_msg_end(&r->w);
	if (r->w.overflow)
		return;
	if (r->w.len > 8)
		for (struct pfcp_iter it = { r->w.b + (r->w.b[0] & 1 ? 16 : 8), r->w.b + r->w.len };;) {
			struct pfcp_ie ie;

			if (pfcp_ie_next(&it, &ie) <= 0)
				break;
			if (ie.type == IE_CAUSE && ie.len)
				pf->tx_cause[ie.v[0]]++;
		}
	cache_put(pf, &r->sa, r->h.seq, r->h.type, r->w.b, r->w.len);
	send_to(pf, r->sock, &r->sa, r->salen, r->w.b, r->w.len);
}

/* Find the IEs of a message (top level), once each; -1 when the IEs do not
 * parse, with f set. */
struct top {
	struct pfcp_ie node_id, recovery, fseid, cause, node_report_type;
	bool has_node_id, has_recovery, has_fseid, has_cause;
};

static int top_scan(const struct req *r, struct top *t, struct pfcp_fail *f)
{
	struct pfcp_iter it;
	struct pfcp_ie ie;
	int k;

	memset(t, 0, sizeof(*t));
	pfcp_iter_init(&it, r->ies, r->ies_len);
	while ((k = pfcp_ie_next(&it, &ie)) > 0) {
		switch (ie.type) {
		case IE_NODE_ID:
			t->node_id = ie, t->has_node_id = true;
			break;
		case IE_RECOVERY_TIME_STAMP:
			t->recovery = ie, t->has_recovery = true;
			break;
		case IE_F_SEID:
			t->fseid = ie, t->has_fseid = true;
			break;
		case IE_CAUSE:
			t->cause = ie, t->has_cause = true;
			break;
		default:
			break;
		}
	}
	if (k < 0) {
		pfcp_fail_set(f, PFCP_CAUSE_INVALID_LENGTH, ie.type, "an IE runs past the end of the message");
		return -1;
	}
	return 0;
}

static bool need(struct pfcp_fail *f, bool has, uint16_t type, const char *what)
{
	if (!has)
		pfcp_fail_set(f, PFCP_CAUSE_MANDATORY_MISSING, type, "%s missing", what);
	return has;
}

/* ---- nodes ---- */

static struct pnode *node_by_id(struct pfcp *pf, const struct pfcp_node_id *id)
{
	for (unsigned i = 0; i < pf->n_nodes; i++)
		if (pfcp_node_id_eq(&pf->nodes[i]->id, id))
			return pf->nodes[i];
	return NULL;
}

static struct pnode *node_by_sa(struct pfcp *pf, const struct sockaddr_storage *sa)
{
	struct conf_addr a, b;

	sa_addr(sa, &a);
	for (unsigned i = 0; i < pf->n_nodes; i++) {
		sa_addr(&pf->nodes[i]->sa, &b);
		if (conf_addr_same(&a, &b))
			return pf->nodes[i];
	}
	return NULL;
}

static void node_event(struct pfcp *pf, const char *ev, const struct pnode *n, const char *why)
{
	json_object *f = json_object_new_object();
	char as[80];

	sa_str(&n->sa, as, sizeof(as));
	json_object_object_add(f, "node", json_object_new_string(n->name));
	json_object_object_add(f, "address", json_object_new_string(as));
	if (why)
		json_object_object_add(f, "reason", json_object_new_string(why));
	json_object_object_add(f, "sessions", json_object_new_int64(n->n_sess));
	daemon_event(pf->d, ev, f);
}

static void sess_free(struct pfcp *pf, struct sess *s, bool tunnels);

/* Every session of node n goes, with its tunnels. */
static unsigned node_flush(struct pfcp *pf, struct pnode *n)
{
	unsigned k = 0;

	/* Through the hash: rare, and it spares every session two pointers. */
	for (uint32_t b = 0; n->n_sess && b <= pf->hash_mask; b++)
		for (struct sess *s = pf->hash[b], *nx; s; s = nx) {
			nx = s->hnext;
			if (s->node == n) {
				sess_free(pf, s, true);
				k++;
			}
		}
	if (k)
		daemon_commit(pf->d);
	return k;
}

static void node_remove(struct pfcp *pf, struct pnode *n, const char *why)
{
	unsigned k = node_flush(pf, n);

	log_info("PFCP association with %s released (%s): %u session%s removed", n->name, why, k,
		 k == 1 ? "" : "s");
	node_event(pf, CTL_EV_PFCP_ASSOC_RELEASED, n, why);
	for (unsigned i = 0; i < MAX_PENDING; i++)
		if (pf->pend[i].used && pf->pend[i].node == n) {
			free(pf->pend[i].b);
			pf->pend[i].used = false;
		}
	for (unsigned i = 0; i < pf->n_nodes; i++)
		if (pf->nodes[i] == n) {
			pf->nodes[i] = pf->nodes[--pf->n_nodes];
			break;
		}
	free(n);
}

/* A new Recovery Time Stamp from a node: it restarted, its sessions are
 * gone (TS 29.244 6.2.2). */
static void node_recovery(struct pfcp *pf, struct pnode *n, uint32_t rts)
{
	unsigned k;

	if (rts == n->recovery)
		return;
	k = node_flush(pf, n);
	log_info("PFCP node %s restarted (recovery time stamp %u, was %u): %u session%s removed",
		 n->name, rts, n->recovery, k, k == 1 ? "" : "s");
	node_event(pf, CTL_EV_PFCP_NODE_RESTARTED, n, NULL);
	n->recovery = rts;
}

/* ---- requests gtpud sends ---- */

static uint32_t next_seq(struct pfcp *pf)
{
	pf->next_seq = (pf->next_seq + 1) & 0xffffff;
	if (!pf->next_seq)
		pf->next_seq = 1;
	return pf->next_seq;
}

static void request_send(struct pfcp *pf, struct pnode *n, struct pfcp_buf *w, uint32_t seq)
{
	struct pending *p = NULL;

	pfcp_msg_end(w);
	if (w->overflow)
		return;
	send_to(pf, n->sock, &n->sa, n->salen, w->b, w->len);
	for (unsigned i = 0; i < MAX_PENDING; i++)
		if (!pf->pend[i].used) {
			p = &pf->pend[i];
			break;
		}
	if (!p || !(p->b = malloc(w->len)))
		return;   /* sent once, not retransmitted */
	memcpy(p->b, w->b, w->len);
	p->len = (uint16_t)w->len;
	p->used = true;
	p->seq = seq;
	p->type = w->b[1];
	p->node = n;
	p->tries = 1;
	p->next_ns = mono_ns() + REQ_T1_NS;
}

static struct pending *pending_take(struct pfcp *pf, const struct sockaddr_storage *sa, uint32_t seq,
				    uint8_t rsp_type)
{
	for (unsigned i = 0; i < MAX_PENDING; i++) {
		struct pending *p = &pf->pend[i];

		if (p->used && p->seq == seq && p->type + 1 == rsp_type && p->node &&
		    node_by_sa(pf, sa) == p->node) {
			p->used = false;
			free(p->b);
			p->b = NULL;
			return p;
		}
	}
	return NULL;
}

static void heartbeat_send(struct pfcp *pf, struct pnode *n)
{
	struct pfcp_buf w = { pf->tx, 0, PFCP_MAX_MSG, false };
	uint32_t seq = next_seq(pf);

	pfcp_msg_begin(&w, PFCP_HEARTBEAT_REQ, false, 0, seq);
	pfcp_put_u32(&w, IE_RECOVERY_TIME_STAMP, pf->recovery);
	pfcp_msg_end(&w);
	if (w.overflow)
		return;
	send_to(pf, n->sock, &n->sa, n->salen, w.b, w.len);
	n->hb_seq = seq;
}

static void urrs_check(struct pfcp *pf);
static void hbufs_check(struct pfcp *pf);

/* Heartbeats (pfcp.heartbeat_*) and retransmissions, every second. */
static int on_timer(sd_event_source *src, uint64_t usec, void *ud)
{
	struct pfcp *pf = ud;
	uint64_t now = mono_ns();

	for (unsigned i = 0; i < pf->n_nodes; i++) {
		struct pnode *n = pf->nodes[i];

		if (!pf->c.heartbeat_interval || now < n->hb_next_ns)
			continue;
		if (n->hb_seq && n->hb_tries > pf->c.heartbeat_retries) {
			pf->timeouts++;
			node_remove(pf, n, "heartbeat timeout");
			i--;
			continue;
		}
		if (n->hb_seq) {
			n->hb_tries++;
		} else {
			n->hb_tries = 1;
		}
		heartbeat_send(pf, n);
		n->hb_next_ns = now + (n->hb_tries > 1 || n->hb_seq ? pf->c.heartbeat_timeout * 1000000000ull :
				       pf->c.heartbeat_interval * 1000000000ull);
	}
	for (unsigned i = 0; i < MAX_PENDING; i++) {
		struct pending *p = &pf->pend[i];

		if (!p->used || now < p->next_ns)
			continue;
		if (p->tries >= REQ_N1) {
			pf->timeouts++;
			log_ratelimited(LOG_LVL_NOTICE, "PFCP %s to %s: no response after %u tries",
					pfcp_msg_name(p->type), p->node->name, p->tries);
			free(p->b);
			p->b = NULL;
			p->used = false;
			continue;
		}
		p->tries++;
		p->next_ns = now + REQ_T1_NS;
		send_to(pf, p->node->sock, &p->node->sa, p->node->salen, p->b, p->len);
	}
	urrs_check(pf);
	pfcp_hold_drain(pf);
	hbufs_check(pf);
	sd_event_source_set_time_relative(src, 200000);
	(void)usec;
	return 0;
}

/* ---- sessions: the SEID hash ---- */

static struct sess *sess_find(const struct pfcp *pf, uint64_t seid)
{
	for (struct sess *s = pf->hash[hash_u32((uint32_t)seid ^ (uint32_t)(seid >> 32)) & pf->hash_mask]; s;
	     s = s->hnext)
		if (s->up_seid == seid)
			return s;
	return NULL;
}

static void hash_link(struct pfcp *pf, struct sess *s)
{
	struct sess **b = &pf->hash[hash_u32((uint32_t)s->up_seid ^ (uint32_t)(s->up_seid >> 32)) & pf->hash_mask];

	s->hnext = *b;
	*b = s;
}

static void hash_unlink(struct pfcp *pf, struct sess *s)
{
	struct sess **b = &pf->hash[hash_u32((uint32_t)s->up_seid ^ (uint32_t)(s->up_seid >> 32)) & pf->hash_mask];

	for (; *b; b = &(*b)->hnext)
		if (*b == s) {
			*b = s->hnext;
			return;
		}
}

/* Grow the hash at one session a bucket: rehash in one pass. */
static void hash_grow(struct pfcp *pf)
{
	uint32_t n = (pf->hash_mask + 1) * 2;
	struct sess **h, **old = pf->hash;
	uint32_t old_n = pf->hash_mask + 1;

	if (pf->n_sess < pf->hash_mask + 1 || !(h = calloc(n, sizeof(*h))))
		return;
	pf->hash = h;
	pf->hash_mask = n - 1;
	for (uint32_t i = 0; i < old_n; i++)
		for (struct sess *s = old[i], *nx; s; s = nx) {
			nx = s->hnext;
			hash_link(pf, s);
		}
	free(old);
}

/* A session with room for np PDRs and nf FARs, in one block. */
static struct sess *sess_alloc(unsigned np, unsigned nf, unsigned nq, unsigned nu)
{
	struct sess *s = calloc(1, sizeof(*s) + np * sizeof(struct spdr) + nf * sizeof(struct sfar) +
			       nq * sizeof(struct sqer) + (nu ? 8 + nu * sizeof(struct surr) : 0));

	if (!s)
		return NULL;
	s->cap_pdr = (uint16_t)np;
	s->cap_far = (uint16_t)nf;
	s->cap_qer = (uint16_t)nq;
	return s;
}

static const struct sfar *far_of(const struct sess *s, uint32_t id)
{
	for (unsigned i = 0; i < s->n_far; i++)
		if (FARS(s)[i].id == id)
			return &FARS(s)[i];
	return NULL;
}

/* ---- URRs: measuring and reporting ---- */

static struct surr *urr_find(struct sess *s, uint32_t id)
{
	for (unsigned i = 0; i < s->n_urr; i++)
		if (URRS(s)[i].id == id)
			return &URRS(s)[i];
	return NULL;
}

static void urr_store(struct surr *d, const struct pfcp_urr *u)
{
	if (u->has & URR_HAS_METHOD)
		d->method = u->method;
	if (u->has & URR_HAS_TRIGGERS)
		d->triggers = u->triggers;
	if (u->has & URR_HAS_PERIOD) {
		d->period = u->period;
		d->next_period = d->start + u->period;
	}
	if (u->has & URR_HAS_VTH) {
		d->vth_flags = u->vth_flags;
		memcpy(d->vth, u->vth, sizeof(d->vth));
	}
	if (u->has & URR_HAS_VQ) {
		d->vq_flags = u->vq_flags;
		memcpy(d->vq, u->vq, sizeof(d->vq));
		d->exhausted = 0;
	}
	if (u->has & URR_HAS_TTH)
		d->time_th = u->time_th;
	if (u->has & URR_HAS_TQ) {
		d->time_quota = u->time_quota;
		d->exhausted = 0;
	}
}

static bool pdr_has_urr(const struct spdr *p, uint32_t id)
{
	for (unsigned i = 0; i < p->n_urr; i++)
		if (p->urr[i] == id)
			return true;
	return false;
}

/* What the rules of URR id counted, cumulative: UL bytes, DL bytes, UL
 * packets, DL packets. A PDR with an F-TEID counts what its tunnel received
 * (uplink from the access, downlink from the core); a UE IP Address PDR
 * what the session's endpoint tunnel sent to the access. */
static void urr_raw(const struct pfcp *pf, const struct sess *s, uint32_t id, uint64_t m[4])
{
	const struct state *st = pf->d->st;
	char name[48];

	memset(m, 0, 4 * sizeof(*m));
	for (unsigned i = 0; i < s->n_pdr; i++) {
		const struct spdr *p = &PDRS(s)[i];
		bool dl = p->src_if != PFCP_IF_ACCESS;
		struct ctr c;
		uint32_t k = TUNNEL_NONE;

		if (!pdr_has_urr(p, id))
			continue;
		if (p->has_fteid) {
			tunnel_name_of(s->up_seid, p->id, name, sizeof(name));
			if ((k = state_find_tunnel(st, name)) == TUNNEL_NONE)
				continue;
			state_tunnel_ctr(st, k, &c);
			m[dl] += c.rx_bytes;
			m[2 + dl] += c.rx_pkts;
			continue;
		}
		for (unsigned j = 0; j < s->n_pdr && k == TUNNEL_NONE; j++) {
			if (!PDRS(s)[j].has_fteid)
				continue;
			tunnel_name_of(s->up_seid, PDRS(s)[j].id, name, sizeof(name));
			k = state_find_tunnel(st, name);
			if (k != TUNNEL_NONE && !(st->tunnels[k].flags & TUNNEL_ENDPOINT))
				k = TUNNEL_NONE;
		}
		if (k == TUNNEL_NONE)
			continue;
		state_tunnel_ctr(st, k, &c);
		m[1] += c.tx_bytes;
		m[3] += c.tx_pkts;
	}
}

static void urr_now(const struct pfcp *pf, const struct sess *s, const struct surr *u, uint64_t m[4])
{
	urr_raw(pf, s, u->id, m);
	for (int i = 0; i < 4; i++)
		m[i] += u->carry[i];
}

static void put_u64(uint8_t *b, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		b[i] = (uint8_t)v;
}

/* One Usage Report (type: SMR, SDR or SRR) of u, from its last report to
 * now; the measurement starts again. */
static void put_usage(struct pfcp *pf, struct pfcp_buf *w, uint16_t type, const struct sess *s, struct surr *u,
		      uint16_t trigger)
{
	uint64_t m[4], d[4];
	uint8_t t2[2] = { (uint8_t)trigger, (uint8_t)(trigger >> 8) }, vm[49];
	int64_t now = now_s();
	size_t at = pfcp_group_begin(w, type);

	urr_now(pf, s, u, m);
	for (int i = 0; i < 4; i++)
		d[i] = m[i] >= u->base[i] ? m[i] - u->base[i] : 0;
	pfcp_put_u32(w, IE_URR_ID, u->id);
	pfcp_put_u32(w, IE_UR_SEQN, u->seqn++);
	pfcp_put(w, IE_USAGE_REPORT_TRIGGER, t2, sizeof(t2));
	pfcp_put_u32(w, IE_START_TIME, (uint32_t)(u->start + NTP_OFFSET));
	pfcp_put_u32(w, IE_END_TIME, (uint32_t)(now + NTP_OFFSET));
	if (u->method & 0x02) {
		/* TOVOL, ULVOL, DLVOL, TONOP, ULNOP, DLNOP: bytes, then packets. */
		vm[0] = 0x3f;
		put_u64(vm + 1, d[0] + d[1]);
		put_u64(vm + 9, d[0]);
		put_u64(vm + 17, d[1]);
		put_u64(vm + 25, d[2] + d[3]);
		put_u64(vm + 33, d[2]);
		put_u64(vm + 41, d[3]);
		pfcp_put(w, IE_VOLUME_MEASUREMENT, vm, sizeof(vm));
	}
	if (u->method & 0x01)
		pfcp_put_u32(w, IE_DURATION_MEASUREMENT, (uint32_t)(now - u->start));
	pfcp_group_end(w, at);
	memcpy(u->base, m, sizeof(m));
	u->start = now;
	if (u->period)
		u->next_period = now + u->period;
	pf->usage_reports++;
}

/* Has a URR of PDR p used up its quota? Its traffic is then dropped. */
static bool pdr_exhausted(const struct sess *s, const struct spdr *p)
{
	for (unsigned i = 0; i < s->n_urr; i++)
		if (URRS(s)[i].exhausted && pdr_has_urr(p, URRS(s)[i].id))
			return true;
	return false;
}

/* Add seid to a list of SEIDs the timer looks at (once); false: no memory. */
static bool seid_track(uint64_t **list, uint32_t *n, uint32_t *cap, uint64_t seid)
{
	for (uint32_t i = 0; i < *n; i++)
		if ((*list)[i] == seid)
			return true;
	if (*n == *cap) {
		uint32_t c = *cap ? *cap * 2 : 64;
		uint64_t *v = realloc(*list, c * sizeof(*v));

		if (!v)
			return false;
		*list = v;
		*cap = c;
	}
	(*list)[(*n)++] = seid;
	return true;
}

static void urr_track(struct pfcp *pf, uint64_t seid)
{
	/* Out of memory: its triggers are not looked at. */
	seid_track(&pf->urr_seids, &pf->n_urr_seids, &pf->cap_urr_seids, seid);
}

/* The counts of s's URRs before its tunnels change ... */
static void urr_pre(const struct pfcp *pf, const struct sess *s, uint64_t (*pre)[4])
{
	for (unsigned i = 0; i < s->n_urr; i++)
		urr_raw(pf, s, URRS(s)[i].id, pre[i]);
}

/* ... and after: what replaced tunnels had counted is carried. */
static void urr_post(const struct pfcp *pf, struct sess *s, uint64_t (*pre)[4])
{
	for (unsigned i = 0; i < s->n_urr; i++) {
		uint64_t post[4];

		urr_raw(pf, s, URRS(s)[i].id, post);
		for (int k = 0; k < 4; k++)
			if (pre[i][k] > post[k])
				URRS(s)[i].carry[k] += pre[i][k] - post[k];
	}
}

/* ---- from rules to tunnels ---- */

struct want {
	struct conf_tunnel ct;
	struct conf_addr ue[2];
	uint8_t flags;
	uint16_t pdr;
	char name[48];
	struct conf_addr to_addr;    /* of the OHC, when not NO_TO */
};

static void ohc_addr(const struct sfar *f, struct conf_addr *a)
{
	memset(a, 0, sizeof(*a));
	a->family = f->ohc_desc & PFCP_OHC_GTPU_V6 ? AF_INET6 : AF_INET;
	memcpy(a->addr, f->ohc_addr, a->family == AF_INET ? 4 : 16);
}

static unsigned ue_addrs(const struct spdr *p, struct conf_addr *ue)
{
	unsigned n = 0;

	if (p->ue_flags & PFCP_UEIP_V4) {
		memset(&ue[n], 0, sizeof(ue[n]));
		ue[n].family = AF_INET;
		memcpy(ue[n++].addr, p->ue4, 4);
	}
	if (p->ue_flags & PFCP_UEIP_V6) {
		memset(&ue[n], 0, sizeof(ue[n]));
		ue[n].family = AF_INET6;
		memcpy(ue[n++].addr, p->ue6, 16);
	}
	return n;
}

static bool rule_fail(struct pfcp_fail *f, uint8_t type, uint32_t id, uint8_t cause, const char *why)
{
	pfcp_fail_set(f, cause, 0, "%s %u: %s", type == PFCP_RULE_PDR ? "PDR" : "FAR", id, why);
	f->rule_type = type;
	f->rule_id = id;
	return false;
}

static bool is_core(uint8_t itf)
{
	return itf == PFCP_IF_CORE || itf == PFCP_IF_SGI;
}

/* What the QERs of PDR p ask of direction ul (uplink) or downlink: the
 * least MBR in bit/s (0: none), whether a gate is closed, a QFI (-1). */
static bool pdr_qos(const struct sess *s, const struct spdr *p, bool ul, uint64_t *bps, bool *closed,
		    int8_t *qfi, struct pfcp_fail *f)
{
	*bps = 0;
	*closed = false;
	*qfi = -1;
	for (unsigned i = 0; i < p->n_qer; i++) {
		const struct sqer *q = NULL;
		uint64_t m;

		for (unsigned k = 0; k < s->n_qer && !q; k++)
			if (QERS(s)[k].id == p->qer[i])
				q = &QERS(s)[k];
		if (!q)
			return rule_fail(f, PFCP_RULE_PDR, p->id, PFCP_CAUSE_RULE_FAILURE, "its QER does not exist");
		*closed |= ul ? PFCP_GATE_UL_CLOSED(q->gate) : PFCP_GATE_DL_CLOSED(q->gate);
		m = (uint64_t)(ul ? q->mbr_ul : q->mbr_dl) * 1000;
		if (m && (!*bps || m < *bps))
			*bps = m;
		if (q->qfi >= 0)
			*qfi = q->qfi;
	}
	return true;
}

/* A buffering FAR's tunnel keeps the peer of its forwarding parameters
 * (for the End Marker when it forwards again), or sends nowhere. */
static void buff_to(struct want *x, const struct sfar *fa)
{
	if (fa->has_ohc) {
		ohc_addr(fa, &x->to_addr);
		x->ct.to_teid = fa->ohc_teid;
	} else {
		x->flags |= TUNNEL_NO_TO;
	}
}

/* The tunnels session s's rules ask for, in w[0..*n) (room for s->n_pdr). */
static bool sess_wants(const struct pfcp *pf, const struct sess *s, struct want *w, unsigned *n,
		       struct pfcp_fail *f)
{
	const struct state *st = pf->d->st;
	bool used_ue[1024] = { false };

	*n = 0;
	for (unsigned i = 0; i < s->n_pdr; i++) {
		const struct spdr *p = &PDRS(s)[i];
		const struct sfar *fa = p->has_far ? far_of(s, p->far_id) : NULL;
		struct want *x = &w[*n];
		uint64_t bps, dl_bps = 0;
		bool closed, dl_closed = false;
		int8_t qfi, dl_qfi = -1;

		if (!p->has_fteid)
			continue;
		if (p->has_far && !fa)
			return rule_fail(f, PFCP_RULE_PDR, p->id, PFCP_CAUSE_RULE_FAILURE, "its FAR does not exist");
		for (unsigned k = 0; k < *n; k++)
			if (w[k].ct.from_teid == p->teid)
				return rule_fail(f, PFCP_RULE_PDR, p->id, PFCP_CAUSE_RULE_FAILURE,
						 "another PDR has the same F-TEID: gtpud matches on the TEID alone");
		memset(x, 0, sizeof(*x));
		x->pdr = p->id;
		tunnel_name_of(s->up_seid, p->id, x->name, sizeof(x->name));
		x->ct.name = x->name;
		x->ct.from_teid = p->teid;
		x->ct.from_peer = TABLE_NO_PEER;
		x->ct.to_peer = TABLE_NO_PEER;
		x->ct.qfi = -1;
		x->ct.ue = x->ue;
		x->flags = TUNNEL_PFCP | TUNNEL_ANY_SRC;
		/* A PDR from the access that names a QFI takes only G-PDUs with it. */
		if (p->src_if == PFCP_IF_ACCESS && p->qfi >= 0)
			x->ct.ul_qfi = (uint8_t)(p->qfi + 1);
		if (!pdr_qos(s, p, p->src_if == PFCP_IF_ACCESS, &bps, &closed, &qfi, f))
			return false;
		if (pdr_exhausted(s, p))
			fa = NULL;            /* its quota is used up: dropped */
		if (!fa || fa->action == PFCP_AA_DROP || (closed && !(fa->action == PFCP_AA_FORW && !fa->has_ohc &&
								      is_core(fa->dst_if)))) {
			/* A FAR that drops, or a relay whose gate is closed. */
			x->flags |= TUNNEL_DROP | TUNNEL_NO_TO;
		} else if (fa->action & PFCP_AA_BUFF) {
			/* A relay's downlink held: its G-PDUs are not forwarded
			 * (DROP) but kept (BUFF); the peer of the forwarding
			 * parameters stays, for an End Marker at the switch. */
			if (is_core(fa->dst_if))
				return rule_fail(f, PFCP_RULE_FAR, fa->id, PFCP_CAUSE_NOT_SUPPORTED,
						 "BUFF is for the downlink (Destination Interface Access)");
			x->flags |= TUNNEL_DROP | TUNNEL_BUFF;
			buff_to(x, fa);
		} else if (p->ohr == PFCP_OHR_NONE) {
			return rule_fail(f, PFCP_RULE_PDR, p->id, PFCP_CAUSE_NOT_SUPPORTED,
					 "a GTP-U PDR that forwards needs Outer Header Removal (GTP-U)");
		} else if (fa->has_ohc) {
			ohc_addr(fa, &x->to_addr);
			x->ct.to_teid = fa->ohc_teid;
			x->ct.rate = bps;
		} else if (is_core(fa->dst_if)) {
			/* An endpoint: the ue and the downlink from a UE IP Address PDR. */
			const struct spdr *dl = NULL;

			if (!st->conf->tun.present)
				return rule_fail(f, PFCP_RULE_FAR, fa->id, PFCP_CAUSE_NOT_SUPPORTED,
						 "forwarding to the core needs the TUN device (tun in gtpud.conf)");
			for (unsigned k = 0; k < s->n_pdr; k++) {
				const struct spdr *q = &PDRS(s)[k];

				if (!q->has_fteid && q->has_ue && is_core(q->src_if) && !used_ue[k] &&
				    (!dl || q->precedence < dl->precedence))
					dl = q;
			}
			if (dl) {
				const struct sfar *dfa = dl->has_far ? far_of(s, dl->far_id) : NULL;

				used_ue[dl - PDRS(s)] = true;
				if (dl->has_far && !dfa)
					return rule_fail(f, PFCP_RULE_PDR, dl->id, PFCP_CAUSE_RULE_FAILURE,
							 "its FAR does not exist");
				if (!pdr_qos(s, dl, false, &dl_bps, &dl_closed, &dl_qfi, f))
					return false;
				x->ct.n_ue = (uint8_t)ue_addrs(dl, x->ue);
				if (dl_closed) {
					x->flags |= TUNNEL_NO_TO;   /* the downlink gate is closed */
				} else if (dfa && dfa->action & PFCP_AA_BUFF) {
					/* Held, the peer kept for the End Marker. */
					x->flags |= TUNNEL_BUFF;
					buff_to(x, dfa);
				} else if (dfa && dfa->action == PFCP_AA_FORW && dfa->has_ohc) {
					ohc_addr(dfa, &x->to_addr);
					x->ct.to_teid = dfa->ohc_teid;
				} else if (dfa && dfa->action == PFCP_AA_FORW) {
					return rule_fail(f, PFCP_RULE_FAR, dfa->id, PFCP_CAUSE_NOT_SUPPORTED,
							 "forwarding to the access needs Outer Header Creation");
				} else {
					x->flags |= TUNNEL_NO_TO;
				}
			} else if (p->has_ue) {
				x->ct.n_ue = (uint8_t)ue_addrs(p, x->ue);
				x->flags |= TUNNEL_NO_TO;
			} else {
				return rule_fail(f, PFCP_RULE_PDR, p->id, PFCP_CAUSE_RULE_FAILURE,
						 "an endpoint PDR needs a UE IP Address (in its PDI or in a downlink PDR)");
			}
			x->flags |= TUNNEL_ENDPOINT;
			if (closed)
				x->flags |= TUNNEL_DROP;      /* the uplink gate is closed */
			/* The downlink's QFI (its QER's, else the uplink PDR's) goes in
			 * a PDU Session Container; each direction has its MBR. */
			x->ct.qfi = dl_qfi >= 0 ? dl_qfi : p->qfi;
			x->ct.rate = bps;
			x->ct.rate_down = dl_bps ? dl_bps : bps ? UINT64_MAX : 0;
		} else {
			return rule_fail(f, PFCP_RULE_FAR, fa->id, PFCP_CAUSE_NOT_SUPPORTED,
					 "forwarding to the access needs Outer Header Creation");
		}
		(*n)++;
	}
	/* Every UE IP Address PDR feeds an endpoint. */
	for (unsigned k = 0; k < s->n_pdr; k++) {
		const struct spdr *q = &PDRS(s)[k];

		if (!q->has_fteid && !used_ue[k])
			return rule_fail(f, PFCP_RULE_PDR, q->id, PFCP_CAUSE_NOT_SUPPORTED,
					 q->has_ue ? "a UE IP Address PDR needs, in its session, a GTP-U PDR "
					 "that forwards to the core (the endpoint's uplink)"
					 : "a PDR without Local F-TEID or UE IP Address is not supported");
	}
	return true;
}

/* Tunnel k belongs to session seid. */
static bool owned(const struct state *st, uint32_t k, uint64_t seid)
{
	char pre[32];

	snprintf(pre, sizeof(pre), SESS_PREFIX "%" PRIx64 "-", seid);
	return !strncmp(tunnel_name(st, &st->tunnels[k]), pre, strlen(pre));
}

/* Can w[0..n) replace session seid's tunnels? Peers are found or added. */
static bool wants_check(struct pfcp *pf, uint64_t seid, struct want *w, unsigned n, struct pfcp_fail *f)
{
	struct state *st = pf->d->st;

	for (unsigned i = 0; i < n; i++) {
		struct want *x = &w[i];
		uint32_t k = state_lookup_teid(st, x->ct.from_teid);

		if (k != TUNNEL_NONE && !owned(st, k, seid))
			return rule_fail(f, PFCP_RULE_PDR, x->pdr, PFCP_CAUSE_RULE_FAILURE,
					 "its F-TEID is in use by another tunnel");
		for (unsigned u = 0; u < x->ct.n_ue; u++) {
			k = state_lookup_ue(st, x->ue[u].family, x->ue[u].addr);
			if (k != TUNNEL_NONE && !owned(st, k, seid))
				return rule_fail(f, PFCP_RULE_PDR, x->pdr, PFCP_CAUSE_RULE_FAILURE,
						 "its UE IP address is in use by another tunnel");
		}
		if (!(x->flags & TUNNEL_NO_TO)) {
			uint32_t p = state_peer_by_addr(st, &x->to_addr);

			if (p == TABLE_NO_PEER && (p = state_peer_add(st, &x->to_addr)) == TABLE_NO_PEER)
				return rule_fail(f, PFCP_RULE_PDR, x->pdr, PFCP_CAUSE_NO_RESOURCES,
						 "no room for another GTP-U peer (pfcp.max_peers)");
			if (st->peers[p]->sock < 0)
				__atomic_store_n(&st->peers[p]->sock,
						 dp_pick_sock(&pf->d->dp, (struct sockaddr *)&st->peers[p]->sa,
							      st->peers[p]->salen), __ATOMIC_RELAXED);
			x->ct.to_peer = p;
		}
	}
	if ((uint64_t)st->n_pfcp + n > (uint64_t)pf->c.max_sessions * 2)
		return rule_fail(f, PFCP_RULE_PDR, w[0].pdr, PFCP_CAUSE_NO_RESOURCES, "no free tunnel slot");
	return true;
}

static bool same_tunnel(const struct state *st, uint32_t k, const struct want *x)
{
	const struct tunnel *t = &st->tunnels[k];

	if (t->from_teid != x->ct.from_teid || (t->flags & TUNNEL_KEEP) != (x->flags | (x->ct.n_ue ? TUNNEL_ENDPOINT : 0)) ||
	    t->to_peer != x->ct.to_peer || t->to_teid != x->ct.to_teid || t->qfi != x->ct.qfi ||
	    t->ul_qfi != x->ct.ul_qfi ||
	    t->n_ue != x->ct.n_ue)
		return false;
	if (t->tb == TUNNEL_NONE ? x->ct.rate || x->ct.rate_down :
	    st->tb_cfg[TB_CFG_N * (size_t)t->tb] != x->ct.rate || st->tb_cfg[TB_CFG_N * (size_t)t->tb + 2] != x->ct.rate_down)
		return false;
	for (unsigned u = 0; u < t->n_ue; u++)
		if (!conf_addr_same(&st->ue[t->ue_off + u], &x->ue[u]))
			return false;
	return true;
}

/* An End Marker to the peer a relay tunnel sent to (SNDEM). */
static void end_marker(struct pfcp *pf, uint32_t k)
{
	struct state *st = pf->d->st;
	const struct tunnel *t = &st->tunnels[k];
	const struct peer *p;
	uint8_t b[8] = { 0x30, GTPU_END_MARKER, 0, 0 };

	if (t->flags & TUNNEL_NO_TO || t->to_peer == TABLE_NO_PEER)
		return;
	p = st->peers[t->to_peer];
	b[4] = (uint8_t)(t->to_teid >> 24);
	b[5] = (uint8_t)(t->to_teid >> 16);
	b[6] = (uint8_t)(t->to_teid >> 8);
	b[7] = (uint8_t)t->to_teid;
	dp_send(&pf->d->dp, p->sock, b, sizeof(b), (const struct sockaddr *)&p->sa, p->salen);
}

/* ---- FAR BUFF: packets held per session ----
 *
 * A worker hands the user packet of a buffering FAR's tunnel to the
 * control thread through its ring (dp_hold); here it joins its session's
 * buffer, bounded per session (pfcp.buffer_packets, buffer_bytes, the BAR's
 * Suggested Buffering Packets Count) and in all (buffer_total), for
 * pfcp.buffer_time at most. When the FAR forwards again the packets leave
 * in order; when it drops, or the session goes, they are dropped. Every
 * packet that leaves a buffer is counted once: forwarded, or dropped under
 * buffer_overflow, buffer_expired or far_drop. */

static void held_out(struct pfcp *pf, int reason, uint64_t bytes)
{
	struct wstats *c = &pf->d->dp.ctl;

	c->held_out++;
	if (reason >= 0)
		c->drops[reason]++;
	pf->held_packets--;
	pf->held_bytes -= bytes;
}

static void hbuf_track(struct pfcp *pf, uint64_t seid)
{
	/* Out of memory: it is not expired (it still goes at the switch). */
	seid_track(&pf->buf_seids, &pf->n_buf_seids, &pf->cap_buf_seids, seid);
}

/* Take the first packet of s's buffer off it (the caller frees it). */
static struct hpkt *hbuf_shift(struct hbuf *b)
{
	struct hpkt *h = b->head;

	if (h) {
		b->head = h->next;
		if (!b->head)
			b->tail = NULL;
		b->n--;
		b->bytes -= h->len;
	}
	return h;
}

/* Drop what s holds (far_drop): its FAR dropped, or it went, or DROBU. */
static void hbuf_discard(struct pfcp *pf, struct sess *s)
{
	struct hpkt *h;

	if (!s->buf)
		return;
	while ((h = hbuf_shift(s->buf))) {
		held_out(pf, DROP_FAR_DROP, h->len);
		s->buf->discarded++;
		free(h);
	}
}

static uint32_t sess_tunnel(const struct pfcp *pf, const struct sess *s, uint16_t pdr)
{
	char name[48];

	tunnel_name_of(s->up_seid, pdr, name, sizeof(name));
	return state_find_tunnel(pf->d->st, name);
}

/* Send user packet data[0..len) by tunnel k, which forwards: as the
 * workers would, with the tunnel's TEID and QFI. */
static void held_send(struct pfcp *pf, struct sess *s, uint32_t k, const uint8_t *data, uint16_t len)
{
	struct state *st = pf->d->st;
	const struct tunnel *t = &st->tunnels[k];
	const struct peer *p = st->peers[t->to_peer];
	struct gtpu_encap ge = tunnel_encap(t);
	uint8_t b[GTPU_HEADROOM + DP_HOLD_DATA];
	size_t n;

	memcpy(b + GTPU_HEADROOM, data, len);
	n = gtpu_encap(b, GTPU_HEADROOM, len, &ge);
	if (!n || dp_send(&pf->d->dp, p->sock, b + GTPU_HEADROOM - n, n + len,
			  (const struct sockaddr *)&p->sa, p->salen) < 0) {
		held_out(pf, DROP_SEND_ERROR, len);
		return;
	}
	held_out(pf, -1, len);
	pf->d->dp.ctl.forwarded++;
	pf->d->dp.ctl.tx_pkts++;
	pf->d->dp.ctl.tx_bytes += n + len;
	if (s->buf)
		s->buf->released++;
	/* An endpoint's downlink counts for the URRs of its UE IP Address
	 * PDRs (the tunnel's own counters are the workers'). */
	if (t->flags & TUNNEL_ENDPOINT)
		for (unsigned i = 0; i < s->n_pdr; i++) {
			const struct spdr *q = &PDRS(s)[i];

			if (q->has_fteid || !q->has_ue)
				continue;
			for (unsigned j = 0; j < q->n_urr; j++) {
				struct surr *u = urr_find(s, q->urr[j]);

				if (u) {
					u->carry[1] += n + len;
					u->carry[3]++;
				}
			}
		}
}

/* Does tunnel k send (not hold, not drop) what it carries downlink? */
static bool tunnel_sends(const struct tunnel *t)
{
	return !(t->flags & (TUNNEL_BUFF | TUNNEL_NO_TO)) &&
	       ((t->flags & TUNNEL_ENDPOINT) || !(t->flags & TUNNEL_DROP)) && t->to_peer != TABLE_NO_PEER;
}

/* The PDR whose FAR holds what tunnel pdr carries downlink: its own
 * (a relay), else a UE IP Address PDR's (an endpoint); -1 none. nocp: that
 * FAR asks for a Downlink Data Report. */
static int buff_pdr(const struct sess *s, uint16_t pdr, bool *nocp)
{
	const struct sfar *fa;

	for (unsigned i = 0; i < s->n_pdr; i++) {
		const struct spdr *q = &PDRS(s)[i];

		if ((q->id == pdr || (!q->has_fteid && q->has_ue)) && q->has_far &&
		    (fa = far_of(s, q->far_id)) && fa->action & PFCP_AA_BUFF) {
			*nocp = (fa->action & PFCP_AA_NOCP) != 0;
			return q->id;
		}
	}
	return -1;
}

static void dldr_send(struct pfcp *pf, struct sess *s)
{
	struct pfcp_buf w = { pf->tx, 0, PFCP_MAX_MSG, false };
	uint32_t seq = next_seq(pf);
	size_t at;

	pfcp_msg_begin(&w, PFCP_SESS_REPORT_REQ, true, s->cp_seid, seq);
	pfcp_put_u8(&w, IE_REPORT_TYPE, PFCP_REPORT_DLDR);
	at = pfcp_group_begin(&w, IE_DOWNLINK_DATA_REPORT);
	pfcp_put_u16(&w, IE_PDR_ID, s->buf->report_pdr);
	pfcp_group_end(&w, at);
	request_send(pf, s->node, &w, seq);
	s->buf->reported = true;
	s->buf->report_due = false;
	pf->dl_data_reports++;
}

/* One packet from a worker's ring. */
static void hold_take(struct pfcp *pf, const struct dp_hold *h)
{
	struct state *st = pf->d->st;
	const struct tunnel *t;
	struct sess *s = NULL;
	struct hbuf *b;
	struct hpkt *x;
	uint64_t seid;
	unsigned pdr, limit;
	bool nocp = false;
	int rp;

	pf->held_packets++;
	pf->held_bytes += h->len;
	if (h->tunnel >= st->cap || !((t = &st->tunnels[h->tunnel])->flags & TUNNEL_LIVE) ||
	    t->from_teid != h->teid || !(t->flags & TUNNEL_PFCP) ||
	    sscanf(tunnel_name(st, t), SESS_PREFIX "%" SCNx64 "-%u", &seid, &pdr) != 2 ||
	    !(s = sess_find(pf, seid))) {
		held_out(pf, DROP_FAR_DROP, h->len);     /* its tunnel went meanwhile */
		return;
	}
	if (!(t->flags & TUNNEL_BUFF)) {
		/* Held on its way while the FAR switched: it goes now. */
		if (tunnel_sends(t))
			held_send(pf, s, h->tunnel, h->data, h->len);
		else
			held_out(pf, DROP_FAR_DROP, h->len);
		return;
	}
	if (!s->buf && !(s->buf = calloc(1, sizeof(*s->buf)))) {
		held_out(pf, DROP_BUFFER_OVERFLOW, h->len);
		return;
	}
	b = s->buf;
	limit = pf->c.buffer_packets;
	if (s->has_bar && s->bar_count && s->bar_count < limit)
		limit = s->bar_count;
	if (b->max_n && b->max_n < limit)
		limit = b->max_n;
	if (b->n >= limit || b->bytes + h->len > pf->c.buffer_bytes ||
	    pf->held_bytes > pf->c.buffer_total || !(x = malloc(sizeof(*x) + h->len))) {
		b->overflow++;
		held_out(pf, DROP_BUFFER_OVERFLOW, h->len);
		return;
	}
	x->next = NULL;
	x->at_ns = mono_ns();
	x->pdr = (uint16_t)pdr;
	x->len = h->len;
	memcpy(x->data, h->data, h->len);
	if (b->tail)
		b->tail->next = x;
	else
		b->head = x;
	b->tail = x;
	b->n++;
	b->bytes += h->len;
	b->taken++;
	hbuf_track(pf, seid);
	/* One Downlink Data Report a buffering period, where NOCP asks. */
	if (!b->reported && !b->report_due && (rp = buff_pdr(s, (uint16_t)pdr, &nocp)) >= 0 && nocp) {
		b->report_pdr = (uint16_t)rp;
		b->report_due = true;
		b->report_ns = x->at_ns + (s->has_bar ? s->bar_delay * 50000000ull : 0);
		if (b->report_ns <= x->at_ns)
			dldr_send(pf, s);
	}
}

void pfcp_hold_drain(struct pfcp *pf)
{
	for (unsigned n = 0; pf && n < 4 * DP_HOLDQ && dp_hold_pop(&pf->d->dp, &pf->hold); n++)
		hold_take(pf, &pf->hold);
}

/* After s's rules changed: what its FARs no longer hold goes (in order) or
 * is dropped; an empty buffer ends the buffering period. */
static void hbuf_release(struct pfcp *pf, struct sess *s)
{
	struct hpkt *keep = NULL, **tail = &keep, *h;
	struct hbuf *b = s->buf;

	if (!b)
		return;
	while ((h = hbuf_shift(b))) {
		uint32_t k = sess_tunnel(pf, s, h->pdr);
		const struct tunnel *t = k == TUNNEL_NONE ? NULL : &pf->d->st->tunnels[k];

		if (t && t->flags & TUNNEL_BUFF) {
			*tail = h;
			tail = &h->next;
			continue;
		}
		if (t && tunnel_sends(t)) {
			held_send(pf, s, k, h->data, h->len);
		} else {
			held_out(pf, DROP_FAR_DROP, h->len);
			b->discarded++;
		}
		free(h);
	}
	*tail = NULL;
	for (h = keep; h; h = h->next) {
		b->n++;
		b->bytes += h->len;
		b->tail = h;
	}
	b->head = keep;
	/* No FAR of s holds any more: the next one begins a new period. */
	if (!b->n) {
		bool holds = false;

		for (unsigned i = 0; i < s->n_pdr && !holds; i++) {
			uint32_t k = sess_tunnel(pf, s, PDRS(s)[i].id);

			holds = k != TUNNEL_NONE && pf->d->st->tunnels[k].flags & TUNNEL_BUFF;
		}
		if (!holds) {
			b->reported = b->report_due = false;
			b->until_ns = 0;
			b->max_n = 0;
		}
	}
}

/* The timer: expiry, and reports the BAR's delay held back. */
static void hbufs_check(struct pfcp *pf)
{
	uint64_t now = mono_ns();

	for (uint32_t i = 0; i < pf->n_buf_seids;) {
		struct sess *s = sess_find(pf, pf->buf_seids[i]);
		struct hbuf *b = s ? s->buf : NULL;
		uint64_t life;

		if (!b || (!b->n && !b->report_due)) {
			pf->buf_seids[i] = pf->buf_seids[--pf->n_buf_seids];
			continue;
		}
		life = b->until_ns ? 0 : pf->c.buffer_time * 1000000000ull;
		while (b->head && (b->until_ns ? now >= b->until_ns : now - b->head->at_ns >= life)) {
			struct hpkt *h = hbuf_shift(b);

			held_out(pf, DROP_BUFFER_EXPIRED, h->len);
			b->expired++;
			free(h);
		}
		if (b->report_due && now >= b->report_ns)
			dldr_send(pf, s);
		i++;
	}
}

/* A Session Report Response: its Cause, an Update BAR, DROBU. */
static void report_rsp(struct pfcp *pf, const struct req *r)
{
	struct sess *s = sess_find(pf, r->h.seid);
	struct pfcp_iter it;
	struct pfcp_ie ie;
	uint8_t cause = 0, flags = 0;

	if (!s)
		return;
	pfcp_iter_init(&it, r->ies, r->ies_len);
	while (pfcp_ie_next(&it, &ie) > 0) {
		struct pfcp_fail f;
		struct pfcp_bar bar;

		if (ie.type == IE_CAUSE)
			pfcp_get_u8(&ie, &cause);
		else if (ie.type == IE_SXSRRSP_FLAGS)
			pfcp_get_u8(&ie, &flags);
		else if (ie.type == IE_UPDATE_BAR_SRR && s->buf && pfcp_parse_bar(&ie, true, &bar, &f)) {
			if (bar.has & BAR_HAS_DURATION)
				s->buf->until_ns = bar.duration == UINT32_MAX ? UINT64_MAX :
						   mono_ns() + bar.duration * 1000000000ull;
			if (bar.has & BAR_HAS_DL_COUNT)
				s->buf->max_n = bar.dl_count ? bar.dl_count : 1;
			if (bar.has & BAR_HAS_COUNT)
				s->bar_count = bar.count;
		}
	}
	if (cause && cause != PFCP_CAUSE_ACCEPTED)
		log_ratelimited(LOG_LVL_NOTICE, "PFCP session 0x%" PRIx64 ": Session Report refused (%s)",
				s->up_seid, pfcp_cause_name(cause));
	/* DROBU: the control plane asks that the buffered packets be dropped. */
	if (flags & PFCP_SRRSP_DROBU)
		hbuf_discard(pf, s);
}

/* Make the table hold w[0..n) as session s's tunnels (old: the rules they
 * replace, for their names), the End Markers SNDEM asks for sent first. */
static bool wants_apply(struct pfcp *pf, const struct sess *old, uint64_t seid, const struct want *w,
			unsigned n, const uint32_t *sndem, unsigned n_sndem, struct pfcp_fail *f)
{
	struct state *st = pf->d->st;
	char name[48];

	if (daemon_reserve(pf->d, n) < 0)
		return rule_fail(f, PFCP_RULE_PDR, n ? w[0].pdr : 0, PFCP_CAUSE_NO_RESOURCES, "no free tunnel slot");
	/* SNDEM: an End Marker by each tunnel whose downlink a FAR that moves
	 * sent (a relay PDR's own; a UE IP Address PDR's: the endpoint's). */
	for (unsigned i = 0; old && i < old->n_pdr; i++) {
		const struct spdr *p = &PDRS(old)[i];
		bool moves = false;

		for (unsigned j = 0; j < n_sndem; j++)
			moves |= p->has_far && p->far_id == sndem[j];
		for (unsigned q = 0; moves && q < old->n_pdr; q++) {
			uint32_t k;

			if (!(p->has_fteid ? q == i : PDRS(old)[q].has_fteid))
				continue;
			tunnel_name_of(seid, PDRS(old)[q].id, name, sizeof(name));
			if ((k = state_find_tunnel(st, name)) != TUNNEL_NONE &&
			    (p->has_fteid || st->tunnels[k].flags & TUNNEL_ENDPOINT))
				end_marker(pf, k);
		}
	}
	for (unsigned i = 0; old && i < old->n_pdr; i++) {
		uint32_t k;
		bool keep = false;

		tunnel_name_of(seid, PDRS(old)[i].id, name, sizeof(name));
		if ((k = state_find_tunnel(st, name)) == TUNNEL_NONE)
			continue;
		for (unsigned m = 0; m < n; m++)
			keep |= w[m].pdr == PDRS(old)[i].id;
		if (!keep)
			state_tunnel_del(st, k);
	}
	for (unsigned m = 0; m < n; m++) {
		const struct want *x = &w[m];
		uint32_t k = state_find_tunnel(st, x->name), r;

		if (k != TUNNEL_NONE && same_tunnel(st, k, x))
			continue;
		if (k != TUNNEL_NONE)
			r = state_tunnel_replace(st, k, &x->ct, x->ct.from_peer, x->ct.to_peer, x->flags);
		else
			r = state_tunnel_add(st, &x->ct, x->ct.from_peer, x->ct.to_peer, x->flags);
		if (r == TUNNEL_NONE) {
			daemon_commit(pf->d);
			return rule_fail(f, PFCP_RULE_PDR, x->pdr, PFCP_CAUSE_SYSTEM_FAILURE, "out of memory");
		}
	}
	daemon_commit(pf->d);
	return true;
}

static void sess_unlink(struct pfcp *pf, struct sess *s)
{
	hash_unlink(pf, s);
	s->node->n_sess--;
	pf->n_sess--;
}

static void sess_link(struct pfcp *pf, struct sess *s, struct pnode *n)
{
	s->node = n;
	n->n_sess++;
	pf->n_sess++;
	hash_link(pf, s);
	hash_grow(pf);
}

static void sess_free(struct pfcp *pf, struct sess *s, bool tunnels)
{
	struct state *st = pf->d->st;
	char name[48];

	if (tunnels)
		for (unsigned i = 0; i < s->n_pdr; i++) {
			uint32_t k;

			tunnel_name_of(s->up_seid, PDRS(s)[i].id, name, sizeof(name));
			if ((k = state_find_tunnel(st, name)) != TUNNEL_NONE)
				state_tunnel_del(st, k);
		}
	sess_unlink(pf, s);
	pf->sessions_deleted++;
	if (s->buf) {
		hbuf_discard(pf, s);
		free(s->buf);
	}
	free(s);
}

/* ---- rules from a request into a session ---- */

static struct spdr *pdr_find(struct sess *s, uint16_t id)
{
	for (unsigned i = 0; i < s->n_pdr; i++)
		if (PDRS(s)[i].id == id)
			return &PDRS(s)[i];
	return NULL;
}

static struct sfar *far_find(struct sess *s, uint32_t id)
{
	for (unsigned i = 0; i < s->n_far; i++)
		if (FARS(s)[i].id == id)
			return &FARS(s)[i];
	return NULL;
}

static struct sqer *qer_find(struct sess *s, uint32_t id)
{
	for (unsigned i = 0; i < s->n_qer; i++)
		if (QERS(s)[i].id == id)
			return &QERS(s)[i];
	return NULL;
}

static uint32_t kbps32(uint64_t v)
{
	return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

static void qer_store(struct sqer *d, const struct pfcp_qer *q)
{
	if (q->has & QER_HAS_GATE)
		d->gate = q->gate;
	if (q->has & QER_HAS_MBR) {
		d->mbr_ul = kbps32(q->mbr_ul);
		d->mbr_dl = kbps32(q->mbr_dl);
	}
	if (q->has & QER_HAS_QFI)
		d->qfi = q->qfi;
}

struct choose {
	uint8_t id;
	uint8_t src_if;
	uint32_t teid;
};

struct created {
	uint16_t pdr;
	uint8_t src_if;
	uint8_t flags;            /* V4, V6 */
	uint32_t teid;
};

struct txn {
	struct choose ch[256];
	unsigned n_ch;
	struct created cr[1024];
	unsigned n_cr;
	uint32_t sndem[64];
	unsigned n_sndem;
	uint32_t query[64], removed[64];   /* URRs asked for (Query URR) and removed */
	unsigned n_query, n_removed;
};

/* The request's transaction, emptied. */
static struct txn *txn_get(struct pfcp *pf)
{
	if (!pf->txn && !(pf->txn = malloc(sizeof(*pf->txn))))
		return NULL;
	pf->txn->n_ch = pf->txn->n_cr = pf->txn->n_sndem = pf->txn->n_query = pf->txn->n_removed = 0;
	return pf->txn;
}

static uint32_t teid_alloc(struct pfcp *pf)
{
	const struct state *st = pf->d->st;

	for (;;) {
		uint32_t t = pf->next_teid++;

		if (t && state_lookup_teid(st, t) == TUNNEL_NONE)
			return t;
	}
}

/* The local addresses for an interface: access_address or core_address. */
static const struct conf_addr *local_addr(const struct pfcp *pf, uint8_t itf, int family)
{
	const struct conf_addr *a = itf == PFCP_IF_ACCESS ? pf->c.access : pf->c.core;
	unsigned n = itf == PFCP_IF_ACCESS ? pf->c.n_access : pf->c.n_core;

	/* An interface without its own addresses takes the other's. */
	if (!n) {
		a = itf == PFCP_IF_ACCESS ? pf->c.core : pf->c.access;
		n = itf == PFCP_IF_ACCESS ? pf->c.n_core : pf->c.n_access;
	}
	for (unsigned i = 0; i < n; i++)
		if (a[i].family == family)
			return &a[i];
	return NULL;
}

static bool pdr_store(struct pfcp *pf, struct spdr *d, const struct pfcp_pdr *p, bool update,
		      struct txn *tx, struct pfcp_fail *f)
{
	if (!update || p->has & PDR_HAS_PRECEDENCE)
		d->precedence = p->precedence;
	if (!update || p->has & PDR_HAS_FAR) {
		d->has_far = (p->has & PDR_HAS_FAR) != 0;
		d->far_id = p->far_id;
	}
	if (!update || p->has & PDR_HAS_OHR)
		d->ohr = p->has & PDR_HAS_OHR ? p->ohr : PFCP_OHR_NONE;
	if (p->n_qer || !update) {
		d->n_qer = p->n_qer > 2 ? 2 : p->n_qer;
		memcpy(d->qer, p->qer, d->n_qer * sizeof(d->qer[0]));
	}
	if (p->n_urr || !update) {
		d->n_urr = p->n_urr > 2 ? 2 : p->n_urr;
		memcpy(d->urr, p->urr, d->n_urr * sizeof(d->urr[0]));
	}
	if (update && !(p->has & PDR_HAS_PDI))
		return true;
	d->src_if = p->src_if;
	d->qfi = p->has & PDR_HAS_QFI ? p->qfi : -1;
	d->has_ue = (p->has & PDR_HAS_UE) != 0;
	d->ue_flags = p->ue.flags;
	memcpy(d->ue4, p->ue.v4, 4);
	memcpy(d->ue6, p->ue.v6, 16);
	d->has_fteid = (p->has & PDR_HAS_FTEID) != 0;
	if (!d->has_fteid)
		return true;
	d->fteid_flags = p->fteid.flags;
	if (p->fteid.flags & PFCP_FTEID_CH) {
		bool v4 = p->fteid.flags & PFCP_FTEID_V4, v6 = p->fteid.flags & PFCP_FTEID_V6;
		struct created *c;

		if (!(v4 && local_addr(pf, d->src_if, AF_INET)) && !(v6 && local_addr(pf, d->src_if, AF_INET6)))
			return rule_fail(f, PFCP_RULE_PDR, p->id, PFCP_CAUSE_NO_RESOURCES,
						 "no local address of the family the F-TEID asks for "
						 "(pfcp.access_address, pfcp.core_address)");
		d->teid = 0;
		if (p->fteid.flags & PFCP_FTEID_CHID)
			for (unsigned i = 0; i < tx->n_ch; i++)
				if (tx->ch[i].id == p->fteid.choose_id && tx->ch[i].src_if == d->src_if)
					d->teid = tx->ch[i].teid;
		if (!d->teid) {
			d->teid = teid_alloc(pf);
			if (p->fteid.flags & PFCP_FTEID_CHID && tx->n_ch < 256)
				tx->ch[tx->n_ch++] = (struct choose){ p->fteid.choose_id, d->src_if, d->teid };
		}
		if (tx->n_cr >= sizeof(tx->cr) / sizeof(tx->cr[0]))
			return rule_fail(f, PFCP_RULE_PDR, p->id, PFCP_CAUSE_NO_RESOURCES, "too many PDRs");
		c = &tx->cr[tx->n_cr++];
		c->pdr = p->id;
		c->src_if = d->src_if;
		c->teid = d->teid;
		c->flags = (uint8_t)((v4 && local_addr(pf, d->src_if, AF_INET) ? PFCP_FTEID_V4 : 0) |
				     (v6 && local_addr(pf, d->src_if, AF_INET6) ? PFCP_FTEID_V6 : 0));
	} else {
		if (!p->fteid.teid)
			return rule_fail(f, PFCP_RULE_PDR, p->id, PFCP_CAUSE_MANDATORY_INCORRECT, "F-TEID with TEID 0");
		d->teid = p->fteid.teid;
	}
	return true;
}

static bool far_store(struct sfar *d, const struct pfcp_far *r, bool update, struct txn *tx,
		      struct pfcp_fail *f)
{
	if (r->has & FAR_HAS_ACTION)
		d->action = r->action;
	if (r->has & FAR_HAS_BAR) {
		d->has_bar = 1;
		d->bar_id = r->bar_id;
	}
	if (r->has & FAR_HAS_TLM && r->tos)
		return rule_fail(f, PFCP_RULE_FAR, r->id, PFCP_CAUSE_NOT_SUPPORTED,
				 "Transport Level Marking (DSCP) is not supported yet");
	if (r->has & FAR_HAS_FWD) {
		if (r->has & FAR_HAS_DST)
			d->dst_if = r->dst_if;
		if (r->has & FAR_HAS_OHC || !update) {
			d->has_ohc = (r->has & FAR_HAS_OHC) != 0;
			d->ohc_desc = r->ohc.desc;
			d->ohc_teid = r->ohc.teid;
			memcpy(d->ohc_addr, r->ohc.desc & PFCP_OHC_GTPU_V6 ? r->ohc.v6 : r->ohc.v4,
			       r->ohc.desc & PFCP_OHC_GTPU_V6 ? 16 : 4);
		}
		if (update && r->sndem && tx->n_sndem < 64)
			tx->sndem[tx->n_sndem++] = r->id;
	}
	return true;
}

/* Apply the rule IEs of a request to s (a copy the caller may throw
 * away): removes, then creates, then updates. */
static bool rules_apply(struct pfcp *pf, struct sess **ps, const struct req *r, bool est, struct txn *tx,
			struct pfcp_fail *f)
{
	unsigned max = pf->c.max_rules;
	struct pfcp_iter it;
	struct pfcp_ie ie;
	int k;

	for (int pass = 0; pass < 3; pass++) {
		pfcp_iter_init(&it, r->ies, r->ies_len);
		while ((k = pfcp_ie_next(&it, &ie)) > 0) {
			struct sess *s = *ps;
			struct pfcp_pdr p;
			struct pfcp_far fr;
			uint32_t id;

			if (pass == 0 && (ie.type == IE_REMOVE_PDR || ie.type == IE_REMOVE_FAR ||
					  ie.type == IE_REMOVE_QER || ie.type == IE_REMOVE_URR)) {
				bool pdr = ie.type == IE_REMOVE_PDR, far = ie.type == IE_REMOVE_FAR;

				if (est) {
					pfcp_fail_set(f, PFCP_CAUSE_MANDATORY_INCORRECT, ie.type, "Remove in an establishment");
					return false;
				}
				if (!pfcp_parse_remove(&ie, pdr ? IE_PDR_ID : far ? IE_FAR_ID :
						       ie.type == IE_REMOVE_QER ? IE_QER_ID : IE_URR_ID, &id, f))
					return false;
				if (pdr) {
					struct spdr *x = pdr_find(s, (uint16_t)id);

					if (!x)
						return rule_fail(f, PFCP_RULE_PDR, id, PFCP_CAUSE_RULE_FAILURE, "no such PDR");
					*x = PDRS(s)[--s->n_pdr];
				} else if (far) {
					struct sfar *x = far_find(s, id);

					if (!x)
						return rule_fail(f, PFCP_RULE_FAR, id, PFCP_CAUSE_RULE_FAILURE, "no such FAR");
					*x = FARS(s)[--s->n_far];
				} else if (ie.type == IE_REMOVE_QER) {
					struct sqer *x = qer_find(s, id);

					if (!x)
						return rule_fail(f, PFCP_RULE_QER, id, PFCP_CAUSE_RULE_FAILURE, "no such QER");
					*x = QERS(s)[--s->n_qer];
				} else if (ie.type == IE_REMOVE_URR) {
					struct surr *x = urr_find(s, id);

					if (!x)
						return rule_fail(f, PFCP_RULE_URR, id, PFCP_CAUSE_RULE_FAILURE, "no such URR");
					if (tx->n_removed < 64)
						tx->removed[tx->n_removed++] = id;
					*x = URRS(s)[--s->n_urr];
				}
			} else if (pass == 0 && ie.type == IE_QUERY_URR) {
				if (!pfcp_parse_remove(&ie, IE_URR_ID, &id, f))
					return false;
				if (!urr_find(s, id))
					return rule_fail(f, PFCP_RULE_URR, id, PFCP_CAUSE_RULE_FAILURE, "no such URR");
				if (tx->n_query < 64)
					tx->query[tx->n_query++] = id;
			} else if (pass == 1 && ie.type == IE_CREATE_PDR) {
				struct spdr *d;

				if (!pfcp_parse_pdr(&ie, false, &p, f))
					return false;
				if (pdr_find(s, p.id))
					return rule_fail(f, PFCP_RULE_PDR, p.id, PFCP_CAUSE_RULE_FAILURE, "duplicate PDR ID");
				if (s->n_pdr >= max) {
					pfcp_fail_set(f, PFCP_CAUSE_NO_RESOURCES, IE_CREATE_PDR,
						      "more than %u PDRs in a session (pfcp.max_rules)", max);
					return false;
				}
				d = &PDRS(s)[s->n_pdr];
				memset(d, 0, sizeof(*d));
				d->id = p.id;
				if (!pdr_store(pf, d, &p, false, tx, f))
					return false;
				s->n_pdr++;
			} else if (pass == 1 && ie.type == IE_CREATE_FAR) {
				struct sfar *d;

				if (!pfcp_parse_far(&ie, false, &fr, f))
					return false;
				if (far_find(s, fr.id))
					return rule_fail(f, PFCP_RULE_FAR, fr.id, PFCP_CAUSE_RULE_FAILURE, "duplicate FAR ID");
				if (s->n_far >= max) {
					pfcp_fail_set(f, PFCP_CAUSE_NO_RESOURCES, IE_CREATE_FAR,
						      "more than %u FARs in a session (pfcp.max_rules)", max);
					return false;
				}
				d = &FARS(s)[s->n_far];
				memset(d, 0, sizeof(*d));
				d->id = fr.id;
				if (!far_store(d, &fr, false, tx, f))
					return false;
				s->n_far++;
			} else if (pass == 1 && ie.type == IE_CREATE_QER) {
				struct pfcp_qer q;
				struct sqer *d;

				if (!pfcp_parse_qer(&ie, false, &q, f))
					return false;
				if (qer_find(s, q.id))
					return rule_fail(f, PFCP_RULE_QER, q.id, PFCP_CAUSE_RULE_FAILURE, "duplicate QER ID");
				if (s->n_qer >= max) {
					pfcp_fail_set(f, PFCP_CAUSE_NO_RESOURCES, IE_CREATE_QER,
						      "more than %u QERs in a session (pfcp.max_rules)", max);
					return false;
				}
				d = &QERS(s)[s->n_qer++];
				memset(d, 0, sizeof(*d));
				d->id = q.id;
				d->qfi = -1;
				qer_store(d, &q);
			} else if (pass == 2 && ie.type == IE_UPDATE_QER) {
				struct pfcp_qer q;
				struct sqer *d;

				if (est) {
					pfcp_fail_set(f, PFCP_CAUSE_MANDATORY_INCORRECT, ie.type, "Update QER in an establishment");
					return false;
				}
				if (!pfcp_parse_qer(&ie, true, &q, f))
					return false;
				if (!(d = qer_find(s, q.id)))
					return rule_fail(f, PFCP_RULE_QER, q.id, PFCP_CAUSE_RULE_FAILURE, "no such QER");
				qer_store(d, &q);
			} else if (pass == 1 && ie.type == IE_CREATE_URR) {
				struct pfcp_urr u;
				struct surr *d;
				uint64_t m[4];

				if (!pfcp_parse_urr(&ie, false, &u, f))
					return false;
				if (urr_find(s, u.id))
					return rule_fail(f, PFCP_RULE_URR, u.id, PFCP_CAUSE_RULE_FAILURE, "duplicate URR ID");
				if (s->n_urr >= max) {
					pfcp_fail_set(f, PFCP_CAUSE_NO_RESOURCES, IE_CREATE_URR,
						      "more than %u URRs in a session (pfcp.max_rules)", max);
					return false;
				}
				d = &URRS(s)[s->n_urr++];
				memset(d, 0, sizeof(*d));
				d->id = u.id;
				d->start = d->created = now_s();
				urr_store(d, &u);
				/* Counting starts now (its PDRs' tunnels may exist already). */
				urr_raw(pf, s, u.id, m);
				memcpy(d->base, m, sizeof(m));
				d->qbase[0] = m[0];
				d->qbase[1] = m[1];
			} else if (pass == 2 && ie.type == IE_UPDATE_URR) {
				struct pfcp_urr u;
				struct surr *d;

				if (est) {
					pfcp_fail_set(f, PFCP_CAUSE_MANDATORY_INCORRECT, ie.type, "Update URR in an establishment");
					return false;
				}
				if (!pfcp_parse_urr(&ie, true, &u, f))
					return false;
				if (!(d = urr_find(s, u.id)))
					return rule_fail(f, PFCP_RULE_URR, u.id, PFCP_CAUSE_RULE_FAILURE, "no such URR");
				urr_store(d, &u);
			} else if ((pass == 1 && ie.type == IE_CREATE_BAR) || (pass == 2 && ie.type == IE_UPDATE_BAR)) {
				struct pfcp_bar b;
				bool create = ie.type == IE_CREATE_BAR;

				if (!pfcp_parse_bar(&ie, false, &b, f))
					return false;
				if (create ? s->has_bar : !s->has_bar || s->bar_id != b.id) {
					pfcp_fail_set(f, PFCP_CAUSE_RULE_FAILURE, ie.type, create ?
						      "a session has one BAR" : "no such BAR");
					f->rule_type = PFCP_RULE_BAR;
					f->rule_id = b.id;
					return false;
				}
				s->has_bar = 1;
				s->bar_id = b.id;
				if (b.has & BAR_HAS_DELAY || create)
					s->bar_delay = b.dl_delay;
				if (b.has & BAR_HAS_COUNT || create)
					s->bar_count = b.count;
			} else if (pass == 0 && ie.type == IE_REMOVE_BAR) {
				if (est) {
					pfcp_fail_set(f, PFCP_CAUSE_MANDATORY_INCORRECT, ie.type, "Remove in an establishment");
					return false;
				}
				if (!pfcp_parse_remove(&ie, IE_BAR_ID, &id, f))
					return false;
				if (!s->has_bar || s->bar_id != id) {
					pfcp_fail_set(f, PFCP_CAUSE_RULE_FAILURE, ie.type, "no such BAR");
					f->rule_type = PFCP_RULE_BAR;
					f->rule_id = id;
					return false;
				}
				s->has_bar = 0;
			} else if (pass == 1 && ie.type == IE_CREATE_TRAFFIC_ENDPOINT) {
				pfcp_fail_set(f, PFCP_CAUSE_NOT_SUPPORTED, ie.type, "Create Traffic Endpoint is not supported");
				return false;
			} else if (pass == 2 && ie.type == IE_UPDATE_PDR) {
				struct spdr *d;

				if (est) {
					pfcp_fail_set(f, PFCP_CAUSE_MANDATORY_INCORRECT, ie.type, "Update PDR in an establishment");
					return false;
				}
				if (!pfcp_parse_pdr(&ie, true, &p, f))
					return false;
				if (!(d = pdr_find(s, p.id)))
					return rule_fail(f, PFCP_RULE_PDR, p.id, PFCP_CAUSE_RULE_FAILURE, "no such PDR");
				if (!pdr_store(pf, d, &p, true, tx, f))
					return false;
			} else if (pass == 2 && ie.type == IE_UPDATE_FAR) {
				struct sfar *d;

				if (est) {
					pfcp_fail_set(f, PFCP_CAUSE_MANDATORY_INCORRECT, ie.type, "Update FAR in an establishment");
					return false;
				}
				if (!pfcp_parse_far(&ie, true, &fr, f))
					return false;
				if (!(d = far_find(s, fr.id)))
					return rule_fail(f, PFCP_RULE_FAR, fr.id, PFCP_CAUSE_RULE_FAILURE, "no such FAR");
				if (!far_store(d, &fr, true, tx, f))
					return false;
			}
		}
		if (k < 0) {
			pfcp_fail_set(f, PFCP_CAUSE_INVALID_LENGTH, ie.type, "an IE runs past the end of the message");
			return false;
		}
	}
	/* Every FAR that forwards says where. */
	for (unsigned i = 0; i < (*ps)->n_far; i++) {
		const struct sfar *d = &FARS(*ps)[i];

		if (d->action == PFCP_AA_FORW && !d->has_ohc && !is_core(d->dst_if))
			return rule_fail(f, PFCP_RULE_FAR, d->id, PFCP_CAUSE_NOT_SUPPORTED,
					 "forwarding to the access needs Outer Header Creation");
		if (d->has_bar && (!(*ps)->has_bar || (*ps)->bar_id != d->bar_id))
			return rule_fail(f, PFCP_RULE_FAR, d->id, PFCP_CAUSE_RULE_FAILURE, "its BAR does not exist");
	}
	return true;
}

/* Count the rule IEs of a request, to size the copy. */
static void rule_counts(const struct req *r, unsigned *np, unsigned *nf, unsigned *nq, unsigned *nu)
{
	struct pfcp_iter it;
	struct pfcp_ie ie;

	*np = *nf = *nq = *nu = 0;
	pfcp_iter_init(&it, r->ies, r->ies_len);
	while (pfcp_ie_next(&it, &ie) > 0) {
		*np += ie.type == IE_CREATE_PDR;
		*nf += ie.type == IE_CREATE_FAR;
		*nq += ie.type == IE_CREATE_QER;
		*nu += ie.type == IE_CREATE_URR;
	}
}

static void put_created(struct req *r, const struct txn *tx)
{
	struct pfcp *pf = r->pf;

	for (unsigned i = 0; i < tx->n_cr; i++) {
		const struct created *c = &tx->cr[i];
		struct pfcp_fteid ft = { .flags = c->flags, .teid = c->teid };
		const struct conf_addr *a4 = local_addr(pf, c->src_if, AF_INET);
		const struct conf_addr *a6 = local_addr(pf, c->src_if, AF_INET6);
		size_t at = pfcp_group_begin(&r->w, IE_CREATED_PDR);

		if (a4 && c->flags & PFCP_FTEID_V4)
			memcpy(ft.v4, a4->addr, 4);
		if (a6 && c->flags & PFCP_FTEID_V6)
			memcpy(ft.v6, a6->addr, 16);
		pfcp_put_u16(&r->w, IE_PDR_ID, c->pdr);
		pfcp_put_fteid(&r->w, &ft);
		pfcp_group_end(&r->w, at);
	}
}

static void put_failed_rule(struct req *r, const struct pfcp_fail *f)
{
	uint8_t b[5];

	if (f->cause == PFCP_CAUSE_ACCEPTED || f->rule_type == 0xff)
		return;
	b[0] = f->rule_type;
	if (f->rule_type == PFCP_RULE_PDR) {
		b[1] = (uint8_t)(f->rule_id >> 8);
		b[2] = (uint8_t)f->rule_id;
		pfcp_put(&r->w, IE_FAILED_RULE_ID, b, 3);
	} else {
		b[1] = (uint8_t)(f->rule_id >> 24);
		b[2] = (uint8_t)(f->rule_id >> 16);
		b[3] = (uint8_t)(f->rule_id >> 8);
		b[4] = (uint8_t)f->rule_id;
		pfcp_put(&r->w, IE_FAILED_RULE_ID, b, 5);
	}
}

static void put_up_fseid(struct req *r, uint64_t seid)
{
	const struct pfcp *pf = r->pf;
	struct pfcp_addr v4 = { 0 }, v6 = { 0 };
	struct conf_addr local;

	/* The address the request came to is where the CP reaches us. */
	sa_addr(&r->sa, &local);
	for (unsigned i = 0; i < pf->c.n_listen; i++) {
		const struct conf_addr *a = &pf->c.listen[i];
		bool zero = true;

		for (unsigned k = 0; k < 16; k++)
			zero &= !a->addr[k];
		if (zero)
			continue;
		if (a->family == AF_INET && !v4.family) {
			v4.family = AF_INET;
			memcpy(v4.a, a->addr, 4);
		} else if (a->family == AF_INET6 && !v6.family) {
			v6.family = AF_INET6;
			memcpy(v6.a, a->addr, 16);
		}
	}
	if (!v4.family && !v6.family) {
		/* Bound to a wildcard: the node ID if it is an address. */
		if (pf->self.type == 0) {
			v4.family = AF_INET;
			memcpy(v4.a, pf->self.v, 4);
		} else if (pf->self.type == 1) {
			v6.family = AF_INET6;
			memcpy(v6.a, pf->self.v, 16);
		}
	}
	pfcp_put_fseid(&r->w, seid, &v4, &v6);
}

static void sess_event(struct pfcp *pf, const char *ev, const struct sess *s)
{
	json_object *f = json_object_new_object();
	char b[24];

	snprintf(b, sizeof(b), "0x%016" PRIx64, s->up_seid);
	json_object_object_add(f, "seid", json_object_new_string(b));
	snprintf(b, sizeof(b), "0x%016" PRIx64, s->cp_seid);
	json_object_object_add(f, "cp_seid", json_object_new_string(b));
	json_object_object_add(f, "node", json_object_new_string(s->node->name));
	daemon_event(pf->d, ev, f);
}

/* The Usage Reports of s that are due, in one Session Report Request
 * (USAR); a used-up quota stops the traffic of its PDRs. */
static void urr_check(struct pfcp *pf, struct sess *s, int64_t now)
{
	uint16_t trig[64] = { 0 };
	bool any = false, requota = false;
	unsigned n = s->n_urr < 64 ? s->n_urr : 64;

	for (unsigned i = 0; i < n; i++) {
		struct surr *u = &URRS(s)[i];
		uint64_t m[4], ul, dl;
		uint16_t t = 0;

		urr_now(pf, s, u, m);
		ul = m[0] - (m[0] >= u->base[0] ? u->base[0] : m[0]);
		dl = m[1] - (m[1] >= u->base[1] ? u->base[1] : m[1]);
		if (u->triggers & PFCP_RT_PERIO && u->period && now >= u->next_period)
			t |= PFCP_URT_PERIO;
		if (u->triggers & PFCP_RT_VOLTH &&
		    ((u->vth_flags & PFCP_VOL_TOTAL && u->vth[0] && ul + dl >= u->vth[0]) ||
		     (u->vth_flags & PFCP_VOL_UL && u->vth[1] && ul >= u->vth[1]) ||
		     (u->vth_flags & PFCP_VOL_DL && u->vth[2] && dl >= u->vth[2])))
			t |= PFCP_URT_VOLTH;
		if (u->triggers & PFCP_RT_TIMTH && u->time_th && now - u->start >= u->time_th)
			t |= PFCP_URT_TIMTH;
		if (!u->exhausted && u->triggers & PFCP_RT_VOLQU) {
			uint64_t qul = m[0] - (m[0] >= u->qbase[0] ? u->qbase[0] : m[0]);
			uint64_t qdl = m[1] - (m[1] >= u->qbase[1] ? u->qbase[1] : m[1]);

			if ((u->vq_flags & PFCP_VOL_TOTAL && qul + qdl >= u->vq[0]) ||
			    (u->vq_flags & PFCP_VOL_UL && qul >= u->vq[1]) ||
			    (u->vq_flags & PFCP_VOL_DL && qdl >= u->vq[2])) {
				t |= PFCP_URT_VOLQU;
				u->exhausted = 1;
			}
		}
		if (!u->exhausted && u->triggers & PFCP_RT_TIMQU && u->time_quota &&
		    now - u->created >= u->time_quota) {
			t |= PFCP_URT_TIMQU;
			u->exhausted = 1;
		}
		requota |= (t & (PFCP_URT_VOLQU | PFCP_URT_TIMQU)) != 0;
		trig[i] = t;
		any |= t != 0;
	}
	if (!any)
		return;
	{
		struct pfcp_buf w = { pf->tx, 0, PFCP_MAX_MSG, false };
		uint32_t seq = next_seq(pf);

		pfcp_msg_begin(&w, PFCP_SESS_REPORT_REQ, true, s->cp_seid, seq);
		pfcp_put_u8(&w, IE_REPORT_TYPE, 0x02);       /* USAR */
		for (unsigned i = 0; i < n; i++)
			if (trig[i])
				put_usage(pf, &w, IE_USAGE_REPORT_SRR, s, &URRS(s)[i], trig[i]);
		request_send(pf, s->node, &w, seq);
	}
	if (requota) {
		struct want *w = calloc(s->n_pdr + 1u, sizeof(*w));
		uint64_t (*pre)[4] = calloc(s->n_urr + 1u, sizeof(*pre));
		struct pfcp_fail f = { .cause = PFCP_CAUSE_ACCEPTED, .rule_type = 0xff };
		unsigned nw;

		if (w && pre && sess_wants(pf, s, w, &nw, &f) && wants_check(pf, s->up_seid, w, nw, &f)) {
			urr_pre(pf, s, pre);
			if (wants_apply(pf, s, s->up_seid, w, nw, NULL, 0, &f))
				urr_post(pf, s, pre);
		}
		free(w);
		free(pre);
	}
}

static void urrs_check(struct pfcp *pf)
{
	int64_t now = now_s();

	for (uint32_t i = 0; i < pf->n_urr_seids;) {
		struct sess *s = sess_find(pf, pf->urr_seids[i]);

		if (!s || !s->n_urr) {
			pf->urr_seids[i] = pf->urr_seids[--pf->n_urr_seids];
			continue;
		}
		urr_check(pf, s, now);
		i++;
	}
}

/* ---- message handlers ---- */

static void h_heartbeat(struct req *r)
{
	struct pfcp *pf = r->pf;
	struct pfcp_fail f = { 0 };
	struct top t;
	uint32_t rts;
	struct pnode *n;

	if (top_scan(r, &t, &f) < 0 || !t.has_recovery || !pfcp_get_u32(&t.recovery, &rts)) {
		pf->malformed++;   /* a Heartbeat Response has no Cause to say so */
		return;
	}
	rsp_begin(r, PFCP_HEARTBEAT_RSP, false, 0);
	pfcp_put_u32(&r->w, IE_RECOVERY_TIME_STAMP, pf->recovery);
	rsp_send(r);
	if ((n = node_by_sa(pf, &r->sa))) {
		n->last_hb = now_s();
		node_recovery(pf, n, rts);
	}
}

static void h_heartbeat_rsp(struct req *r)
{
	struct pfcp *pf = r->pf;
	struct pnode *n = node_by_sa(pf, &r->sa);
	struct pfcp_fail f;
	struct top t;
	uint32_t rts;

	if (!n || n->hb_seq != r->h.seq) {
		pf->unexpected++;
		return;
	}
	n->hb_seq = 0;
	n->hb_tries = 0;
	n->last_hb = now_s();
	n->hb_next_ns = mono_ns() + pf->c.heartbeat_interval * 1000000000ull;
	if (top_scan(r, &t, &f) == 0 && t.has_recovery && pfcp_get_u32(&t.recovery, &rts))
		node_recovery(pf, n, rts);
}

static void assoc_rsp(struct req *r, uint8_t type, const struct pfcp_fail *f, bool features)
{
	rsp_begin(r, type, false, 0);
	pfcp_put_node_id(&r->w, &r->pf->self);
	rsp_cause(r, f);
	if (features) {
		/* DDND, DLBD: it honours the Downlink Data Notification Delay and
		 * the DL Buffering Duration; FTUP: gtpud chooses F-TEIDs; EMPU:
		 * it sends End Markers. */
		static const uint8_t upff[2] = { 0x16, 0x01 };

		pfcp_put_u32(&r->w, IE_RECOVERY_TIME_STAMP, r->pf->recovery);
		pfcp_put(&r->w, IE_UP_FUNCTION_FEATURES, upff, sizeof(upff));
	}
	rsp_send(r);
}

static void h_assoc_setup(struct req *r)
{
	struct pfcp *pf = r->pf;
	struct pfcp_fail f = { .cause = PFCP_CAUSE_ACCEPTED };
	struct pfcp_node_id id;
	struct pnode *n;
	struct top t;
	uint32_t rts;

	if (top_scan(r, &t, &f) < 0 || !need(&f, t.has_node_id, IE_NODE_ID, "Node ID") ||
	    !need(&f, t.has_recovery, IE_RECOVERY_TIME_STAMP, "Recovery Time Stamp"))
		goto out;
	if (!pfcp_get_node_id(&t.node_id, &id)) {
		pfcp_fail_set(&f, PFCP_CAUSE_MANDATORY_INCORRECT, IE_NODE_ID, "Node ID: malformed");
		goto out;
	}
	if (!pfcp_get_u32(&t.recovery, &rts)) {
		pfcp_fail_set(&f, PFCP_CAUSE_INVALID_LENGTH, IE_RECOVERY_TIME_STAMP, "Recovery Time Stamp: invalid length");
		goto out;
	}
	if ((n = node_by_id(pf, &id))) {
		/* A node that sets up again: a restart if its time stamp moved. */
		node_recovery(pf, n, rts);
	} else {
		if (pf->n_nodes >= MAX_NODES || !(n = calloc(1, sizeof(*n)))) {
			pfcp_fail_set(&f, PFCP_CAUSE_NO_RESOURCES, 0, "too many associations");
			goto out;
		}
		n->id = id;
		pfcp_node_id_str(&id, n->name, sizeof(n->name));
		n->recovery = rts;
		pf->nodes[pf->n_nodes++] = n;
	}
	n->sa = r->sa;
	n->salen = r->salen;
	n->sock = r->sock;
	n->since = now_s();
	n->hb_seq = 0;
	n->hb_tries = 0;
	n->hb_next_ns = mono_ns() + pf->c.heartbeat_interval * 1000000000ull;
	{
		char as[80];

		sa_str(&r->sa, as, sizeof(as));
		log_info("PFCP association with %s (%s) set up", n->name, as);
	}
	node_event(pf, CTL_EV_PFCP_ASSOC_SETUP, n, NULL);
out:
	if (f.cause != PFCP_CAUSE_ACCEPTED)
		log_ratelimited(LOG_LVL_NOTICE, "PFCP association setup refused: %s", f.why);
	assoc_rsp(r, PFCP_ASSOC_SETUP_RSP, &f, f.cause == PFCP_CAUSE_ACCEPTED);
}

static struct pnode *assoc_node(struct req *r, struct pfcp_fail *f)
{
	struct pfcp_node_id id;
	struct pnode *n;
	struct top t;

	if (top_scan(r, &t, f) < 0 || !need(f, t.has_node_id, IE_NODE_ID, "Node ID"))
		return NULL;
	if (!pfcp_get_node_id(&t.node_id, &id)) {
		pfcp_fail_set(f, PFCP_CAUSE_MANDATORY_INCORRECT, IE_NODE_ID, "Node ID: malformed");
		return NULL;
	}
	if (!(n = node_by_id(r->pf, &id)))
		pfcp_fail_set(f, PFCP_CAUSE_NO_ASSOCIATION, 0, "no association with that node");
	return n;
}

static void h_assoc_update(struct req *r)
{
	struct pfcp_fail f = { .cause = PFCP_CAUSE_ACCEPTED };

	assoc_node(r, &f);
	assoc_rsp(r, PFCP_ASSOC_UPDATE_RSP, &f, false);
}

static void h_assoc_release(struct req *r)
{
	struct pfcp_fail f = { .cause = PFCP_CAUSE_ACCEPTED };
	struct pnode *n = assoc_node(r, &f);

	assoc_rsp(r, PFCP_ASSOC_RELEASE_RSP, &f, false);
	if (n)
		node_remove(r->pf, n, "released by the control plane");
}

static void h_not_supported(struct req *r, uint8_t rsp_type)
{
	struct pfcp_fail f;

	pfcp_fail_set(&f, PFCP_CAUSE_NOT_SUPPORTED, 0, "not supported");
	rsp_begin(r, rsp_type, r->h.has_seid, 0);
	if (rsp_type == PFCP_SET_DELETION_RSP)
		pfcp_put_node_id(&r->w, &r->pf->self);
	rsp_cause(r, &f);
	rsp_send(r);
}

/* extra: IEs made beforehand (Usage Reports), or NULL. */
static void sess_rsp_with(struct req *r, uint8_t type, uint64_t cp_seid, const struct pfcp_fail *f,
			  const struct txn *tx, uint64_t up_seid, const struct pfcp_buf *extra)
{
	rsp_begin(r, type, true, cp_seid);
	if (type == PFCP_SESS_EST_RSP)
		pfcp_put_node_id(&r->w, &r->pf->self);
	rsp_cause(r, f);
	if (f->cause == PFCP_CAUSE_ACCEPTED) {
		if (type == PFCP_SESS_EST_RSP)
			put_up_fseid(r, up_seid);
		if (tx)
			put_created(r, tx);
		if (extra && extra->len && !extra->overflow) {
			uint8_t *p = r->w.len + extra->len <= r->w.cap ? r->w.b + r->w.len : NULL;

			if (p) {
				memcpy(p, extra->b, extra->len);
				r->w.len += extra->len;
			} else {
				r->w.overflow = true;
			}
		}
	}
	put_failed_rule(r, f);
	rsp_send(r);
}

static void sess_rsp(struct req *r, uint8_t type, uint64_t cp_seid, const struct pfcp_fail *f,
		     const struct txn *tx, uint64_t up_seid)
{
	sess_rsp_with(r, type, cp_seid, f, tx, up_seid, NULL);
}

static void h_sess_est(struct req *r)
{
	struct pfcp *pf = r->pf;
	struct pfcp_fail f = { .cause = PFCP_CAUSE_ACCEPTED, .rule_type = 0xff };
	struct pfcp_fseid cp = { 0 };
	struct pfcp_node_id id;
	struct sess *s = NULL;
	struct txn *tx = NULL;
	struct want *w = NULL;
	struct pnode *n;
	struct top t;
	unsigned np, nf, nq, nu, nw;

	if (top_scan(r, &t, &f) < 0)
		goto out;
	if (t.has_fseid && !pfcp_get_fseid(&t.fseid, &cp)) {
		pfcp_fail_set(&f, PFCP_CAUSE_MANDATORY_INCORRECT, IE_F_SEID, "CP F-SEID: malformed");
		goto out;
	}
	if (!need(&f, t.has_node_id, IE_NODE_ID, "Node ID") || !need(&f, t.has_fseid, IE_F_SEID, "CP F-SEID"))
		goto out;
	if (!pfcp_get_node_id(&t.node_id, &id)) {
		pfcp_fail_set(&f, PFCP_CAUSE_MANDATORY_INCORRECT, IE_NODE_ID, "Node ID: malformed");
		goto out;
	}
	if (!(n = node_by_id(pf, &id))) {
		pfcp_fail_set(&f, PFCP_CAUSE_NO_ASSOCIATION, 0, "no association with that node");
		goto out;
	}
	rule_counts(r, &np, &nf, &nq, &nu);
	if (!np || !nf) {
		pfcp_fail_set(&f, PFCP_CAUSE_MANDATORY_MISSING, !np ? IE_CREATE_PDR : IE_CREATE_FAR, "%s missing",
			      !np ? "Create PDR" : "Create FAR");
		goto out;
	}
	if (pf->n_sess >= pf->c.max_sessions) {
		pfcp_fail_set(&f, PFCP_CAUSE_NO_RESOURCES, 0, "pfcp.max_sessions reached");
		goto out;
	}
	np = np < pf->c.max_rules ? np : pf->c.max_rules;
	nf = nf < pf->c.max_rules ? nf : pf->c.max_rules;
	nq = nq < pf->c.max_rules ? nq : pf->c.max_rules;
	nu = nu < pf->c.max_rules ? nu : pf->c.max_rules;
	if (!(s = sess_alloc(np, nf, nq, nu)) || !(tx = txn_get(pf)) || !(w = calloc(np, sizeof(*w)))) {
		pfcp_fail_set(&f, PFCP_CAUSE_SYSTEM_FAILURE, 0, "out of memory");
		goto out;
	}
	do
		s->up_seid = pf->next_seid++;
	while (!s->up_seid || sess_find(pf, s->up_seid));
	s->cp_seid = cp.seid;
	if (!rules_apply(pf, &s, r, true, tx, &f) || !sess_wants(pf, s, w, &nw, &f) ||
	    !wants_check(pf, s->up_seid, w, nw, &f) || !wants_apply(pf, NULL, s->up_seid, w, nw, NULL, 0, &f))
		goto out;
	sess_link(pf, s, n);
	if (s->n_urr)
		urr_track(pf, s->up_seid);
	pf->sessions_created++;
	sess_event(pf, CTL_EV_PFCP_SESSION_ESTABLISHED, s);
	sess_rsp(r, PFCP_SESS_EST_RSP, cp.seid, &f, tx, s->up_seid);
	free(w);
	return;
out:
	log_ratelimited(LOG_LVL_NOTICE, "PFCP session establishment refused (%s): %s",
			pfcp_cause_name(f.cause), f.why);
	sess_rsp(r, PFCP_SESS_EST_RSP, cp.seid, &f, NULL, 0);
	free(s);
	free(w);
}

/* A copy of s with room for more rules. */
static struct sess *sess_copy(const struct sess *s, unsigned more_p, unsigned more_f, unsigned more_q,
			      unsigned more_u, unsigned max)
{
	unsigned np = s->n_pdr + more_p, nf = s->n_far + more_f, nq = s->n_qer + more_q, nu = s->n_urr + more_u;
	struct sess *c;

	np = np < max ? np : max;
	nf = nf < max ? nf : max;
	nq = nq < max ? nq : max;
	nu = nu < max ? nu : max;
	np = np > s->n_pdr ? np : s->n_pdr;
	nf = nf > s->n_far ? nf : s->n_far;
	nq = nq > s->n_qer ? nq : s->n_qer;
	nu = nu > s->n_urr ? nu : s->n_urr;
	if (!(c = sess_alloc(np, nf, nq, nu)))
		return NULL;
	c->up_seid = s->up_seid;
	c->cp_seid = s->cp_seid;
	c->node = s->node;
	c->n_pdr = s->n_pdr;
	c->n_far = s->n_far;
	c->n_qer = s->n_qer;
	c->n_urr = s->n_urr;
	c->has_bar = s->has_bar;
	c->bar_id = s->bar_id;
	c->bar_delay = s->bar_delay;
	c->bar_count = s->bar_count;
	c->buf = s->buf;          /* c takes it over if it takes s's place */
	memcpy(PDRS(c), PDRS(s), s->n_pdr * sizeof(struct spdr));
	memcpy(FARS(c), FARS(s), s->n_far * sizeof(struct sfar));
	memcpy(QERS(c), QERS(s), s->n_qer * sizeof(struct sqer));
	if (s->n_urr)
		memcpy(URRS(c), URRS(s), s->n_urr * sizeof(struct surr));
	return c;
}

static void h_sess_mod(struct req *r)
{
	struct pfcp *pf = r->pf;
	struct pfcp_fail f = { .cause = PFCP_CAUSE_ACCEPTED, .rule_type = 0xff };
	struct sess *s = sess_find(pf, r->h.seid), *c = NULL;
	struct pfcp_fseid cp;
	struct txn *tx = NULL;
	struct want *w = NULL;
	struct pfcp_buf rep = { 0 };
	uint64_t (*pre)[4] = NULL;
	struct top t;
	unsigned np, nf, nq, nu, nw;

	if (!s) {
		pfcp_fail_set(&f, PFCP_CAUSE_NO_SESSION, 0, "no session 0x%" PRIx64, r->h.seid);
		sess_rsp(r, PFCP_SESS_MOD_RSP, 0, &f, NULL, 0);
		return;
	}
	if (top_scan(r, &t, &f) < 0)
		goto out;
	if (t.has_fseid && !pfcp_get_fseid(&t.fseid, &cp)) {
		pfcp_fail_set(&f, PFCP_CAUSE_MANDATORY_INCORRECT, IE_F_SEID, "CP F-SEID: malformed");
		goto out;
	}
	/* What the workers hold for it so far joins its buffer first. */
	pfcp_hold_drain(pf);
	rule_counts(r, &np, &nf, &nq, &nu);
	if (!(c = sess_copy(s, np, nf, nq, nu, pf->c.max_rules)) || !(tx = txn_get(pf)) ||
	    !(w = calloc(c->n_pdr + np + 1, sizeof(*w)))) {
		pfcp_fail_set(&f, PFCP_CAUSE_SYSTEM_FAILURE, 0, "out of memory");
		goto out;
	}
	if (t.has_fseid)
		c->cp_seid = cp.seid;
	if (!rules_apply(pf, &c, r, false, tx, &f) || !sess_wants(pf, c, w, &nw, &f) ||
	    !wants_check(pf, s->up_seid, w, nw, &f))
		goto out;
	if (!(rep.b = malloc(PFCP_MAX_MSG)) || !(pre = calloc(c->n_urr + 1u, sizeof(*pre)))) {
		pfcp_fail_set(&f, PFCP_CAUSE_SYSTEM_FAILURE, 0, "out of memory");
		goto out;
	}
	rep.cap = PFCP_MAX_MSG;
	/* A removed URR's final report counts what its tunnels hold now. */
	for (unsigned i = 0; i < tx->n_removed; i++) {
		struct surr *u = urr_find(s, tx->removed[i]);

		if (u)
			put_usage(pf, &rep, IE_USAGE_REPORT_SMR, s, u, PFCP_URT_TERMR);
	}
	urr_pre(pf, c, pre);
	if (!wants_apply(pf, s, s->up_seid, w, nw, tx->sndem, tx->n_sndem, &f))
		goto out;
	urr_post(pf, c, pre);
	for (unsigned i = 0; i < tx->n_query; i++) {
		struct surr *u = urr_find(c, tx->query[i]);

		if (u)
			put_usage(pf, &rep, IE_USAGE_REPORT_SMR, c, u, PFCP_URT_IMMER);
	}
	/* c takes s's place in the hash. */
	sess_unlink(pf, s);
	sess_link(pf, c, s->node);
	free(s);
	if (c->n_urr)
		urr_track(pf, c->up_seid);
	/* What its FARs no longer hold leaves, in order, before the response. */
	hbuf_release(pf, c);
	sess_rsp_with(r, PFCP_SESS_MOD_RSP, c->cp_seid, &f, tx, 0, &rep);
	sess_event(pf, CTL_EV_PFCP_SESSION_MODIFIED, c);
	free(rep.b);
	free(pre);
	free(w);
	return;
out:
	log_ratelimited(LOG_LVL_NOTICE, "PFCP session modification refused (%s): %s",
			pfcp_cause_name(f.cause), f.why);
	sess_rsp(r, PFCP_SESS_MOD_RSP, s->cp_seid, &f, NULL, 0);
	free(rep.b);
	free(pre);
	free(c);
	free(w);
}

static void h_sess_del(struct req *r)
{
	struct pfcp *pf = r->pf;
	struct pfcp_fail f = { .cause = PFCP_CAUSE_ACCEPTED, .rule_type = 0xff };
	struct sess *s = sess_find(pf, r->h.seid);
	struct pfcp_buf rep = { 0 };
	uint64_t cp;

	if (!s) {
		pfcp_fail_set(&f, PFCP_CAUSE_NO_SESSION, 0, "no session");
		sess_rsp(r, PFCP_SESS_DEL_RSP, 0, &f, NULL, 0);
		return;
	}
	cp = s->cp_seid;
	sess_event(pf, CTL_EV_PFCP_SESSION_DELETED, s);
	/* The final Usage Reports, before the tunnels (and their counts) go. */
	if (s->n_urr && (rep.b = malloc(PFCP_MAX_MSG))) {
		rep.cap = PFCP_MAX_MSG;
		for (unsigned i = 0; i < s->n_urr; i++)
			put_usage(pf, &rep, IE_USAGE_REPORT_SDR, s, &URRS(s)[i], PFCP_URT_TERMR);
	}
	sess_free(pf, s, true);
	daemon_commit(pf->d);
	sess_rsp_with(r, PFCP_SESS_DEL_RSP, cp, &f, NULL, 0, &rep);
	free(rep.b);
}

static void h_response(struct req *r)
{
	if (r->h.type == PFCP_SESS_REPORT_RSP)
		report_rsp(r->pf, r);
	if (!pending_take(r->pf, &r->sa, r->h.seq, r->h.type))
		r->pf->unexpected++;
}

static bool is_request(uint8_t t)
{
	return t == PFCP_HEARTBEAT_REQ || t == PFCP_PFD_MGMT_REQ || t == PFCP_ASSOC_SETUP_REQ ||
	       t == PFCP_ASSOC_UPDATE_REQ || t == PFCP_ASSOC_RELEASE_REQ || t == PFCP_NODE_REPORT_REQ ||
	       t == PFCP_SET_DELETION_REQ || t == PFCP_SESS_EST_REQ || t == PFCP_SESS_MOD_REQ ||
	       t == PFCP_SESS_DEL_REQ || t == PFCP_SESS_REPORT_REQ;
}

static void handle(struct pfcp *pf, int sock, const struct sockaddr_storage *sa, socklen_t salen,
		   const uint8_t *b, size_t n)
{
	struct req r = { .pf = pf, .sock = sock, .sa = *sa, .salen = salen };
	struct cached *c;
	enum pfcp_hdr_err e = pfcp_hdr_parse(b, n, &r.h);

	if (e == PFCP_HDR_VERSION) {
		/* TS 29.244 7.4.4.7: said so, in our version, with the seq. */
		if (n >= 8 && allowed(pf, sa)) {
			struct pfcp_buf w = { pf->tx, 0, PFCP_MAX_MSG, false };

			pfcp_msg_begin(&w, PFCP_VERSION_NOT_SUPPORTED, false, 0,
				       (uint32_t)b[4] << 16 | (uint32_t)b[5] << 8 | b[6]);
			pfcp_msg_end(&w);
			send_to(pf, sock, sa, salen, w.b, w.len);
		}
		pf->malformed++;
		return;
	}
	if (e != PFCP_HDR_OK) {
		pf->malformed++;
		return;
	}
	pf->rx_msg[r.h.type]++;
	if (!allowed(pf, sa)) {
		pf->refused++;
		if (r.h.type == PFCP_ASSOC_SETUP_REQ) {
			struct pfcp_fail f;
			char as[80];

			r.ies = b + r.h.hdr_len;
			r.ies_len = n - r.h.hdr_len;
			sa_str(sa, as, sizeof(as));
			log_ratelimited(LOG_LVL_NOTICE, "PFCP association setup from %s refused: not in pfcp.allow", as);
			pfcp_fail_set(&f, PFCP_CAUSE_REJECTED, 0, "not allowed");
			assoc_rsp(&r, PFCP_ASSOC_SETUP_RSP, &f, false);
		}
		return;
	}
	/* Node messages have no SEID, session messages have one. */
	if (r.h.has_seid != (r.h.type >= PFCP_SESS_EST_REQ)) {
		pf->malformed++;
		return;
	}
	if (is_request(r.h.type) && (c = cache_find(pf, sa, r.h.seq, r.h.type))) {
		pf->retransmitted++;
		send_to(pf, sock, sa, salen, c->b, c->len);
		return;
	}
	r.ies = b + r.h.hdr_len;
	r.ies_len = n - r.h.hdr_len;
	switch (r.h.type) {
	case PFCP_HEARTBEAT_REQ: h_heartbeat(&r); break;
	case PFCP_HEARTBEAT_RSP: h_heartbeat_rsp(&r); break;
	case PFCP_ASSOC_SETUP_REQ: h_assoc_setup(&r); break;
	case PFCP_ASSOC_UPDATE_REQ: h_assoc_update(&r); break;
	case PFCP_ASSOC_RELEASE_REQ: h_assoc_release(&r); break;
	case PFCP_PFD_MGMT_REQ: h_not_supported(&r, PFCP_PFD_MGMT_RSP); break;
	case PFCP_SET_DELETION_REQ: h_not_supported(&r, PFCP_SET_DELETION_RSP); break;
	case PFCP_SESS_EST_REQ: h_sess_est(&r); break;
	case PFCP_SESS_MOD_REQ: h_sess_mod(&r); break;
	case PFCP_SESS_DEL_REQ: h_sess_del(&r); break;
	case PFCP_NODE_REPORT_RSP:
	case PFCP_SESS_REPORT_RSP: h_response(&r); break;
	default:
		pf->unexpected++;
		break;
	}
}

static int on_io(sd_event_source *src, int fd, uint32_t revents, void *ud)
{
	struct pfcp *pf = ud;
	int sock = 0;

	for (unsigned i = 0; i < pf->n_fd; i++)
		if (pf->fd[i] == fd)
			sock = (int)i;
	/* A bounded batch, then back to the loop (the control socket waits). */
	for (int k = 0; k < 64; k++) {
		struct sockaddr_storage sa;
		socklen_t salen = sizeof(sa);
		ssize_t n = recvfrom(fd, pf->rx, pf->c.max_message + 1u, MSG_DONTWAIT,
				     (struct sockaddr *)&sa, &salen);

		if (n < 0)
			break;
		if ((size_t)n > pf->c.max_message) {
			pf->too_long++;
			continue;
		}
		handle(pf, sock, &sa, salen, pf->rx, (size_t)n);
	}
	(void)src;
	(void)revents;
	return 0;
}

/* ---- reports gtpud sends ---- */

void pfcp_peer_down(struct pfcp *pf, const struct peer *p)
{
	struct conf_addr a;

	if (!pf)
		return;
	a = p->addr;
	bool uses[MAX_NODES] = { false };

	for (uint32_t b = 0; b <= pf->hash_mask; b++)
		for (const struct sess *s = pf->hash[b]; s; s = s->hnext)
			for (unsigned k = 0; k < s->n_far; k++) {
				struct conf_addr o;

				if (!FARS(s)[k].has_ohc)
					continue;
				ohc_addr(&FARS(s)[k], &o);
				for (unsigned i = 0; i < pf->n_nodes; i++)
					if (pf->nodes[i] == s->node && conf_addr_same(&o, &a))
						uses[i] = true;
			}
	for (unsigned i = 0; i < pf->n_nodes; i++) {
		struct pnode *n = pf->nodes[i];

		if (uses[i]) {
			struct pfcp_buf w = { pf->tx, 0, PFCP_MAX_MSG, false };
			uint32_t seq = next_seq(pf);
			uint8_t rp[17];
			size_t at, l = 0;

			pfcp_msg_begin(&w, PFCP_NODE_REPORT_REQ, false, 0, seq);
			pfcp_put_node_id(&w, &pf->self);
			pfcp_put_u8(&w, IE_NODE_REPORT_TYPE, 0x01);   /* UPFR */
			at = pfcp_group_begin(&w, IE_UP_PATH_FAILURE_REPORT);
			rp[l++] = a.family == AF_INET ? 0x02 : 0x01;
			memcpy(rp + l, a.addr, a.family == AF_INET ? 4 : 16);
			l += a.family == AF_INET ? 4 : 16;
			pfcp_put(&w, IE_REMOTE_GTPU_PEER, rp, l);
			pfcp_group_end(&w, at);
			request_send(pf, n, &w, seq);
			log_info("PFCP node report to %s: path to GTP-U peer %s failed", n->name, p->name);
		}
	}
}

void pfcp_error_ind(struct pfcp *pf, const char *tunnel, const struct peer *p, uint32_t teid)
{
	uint64_t seid;
	struct sess *s;
	struct pfcp_buf w;
	uint32_t seq;
	struct pfcp_fteid ft = { .teid = teid };
	size_t at;

	if (!pf || sscanf(tunnel, SESS_PREFIX "%" SCNx64 "-", &seid) != 1 || !(s = sess_find(pf, seid)))
		return;
	w = (struct pfcp_buf){ pf->tx, 0, PFCP_MAX_MSG, false };
	seq = next_seq(pf);
	pfcp_msg_begin(&w, PFCP_SESS_REPORT_REQ, true, s->cp_seid, seq);
	pfcp_put_u8(&w, IE_REPORT_TYPE, 0x04);        /* ERIR */
	at = pfcp_group_begin(&w, IE_ERROR_INDICATION_REPORT);
	if (p->addr.family == AF_INET) {
		ft.flags = PFCP_FTEID_V4;
		memcpy(ft.v4, p->addr.addr, 4);
	} else {
		ft.flags = PFCP_FTEID_V6;
		memcpy(ft.v6, p->addr.addr, 16);
	}
	pfcp_put_fteid(&w, &ft);
	pfcp_group_end(&w, at);
	request_send(pf, s->node, &w, seq);
}

/* ---- set-up ---- */

static int bind_one(const struct conf_addr *a, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1;
	char as[INET6_ADDRSTRLEN];

	conf_addr_to_sockaddr(a, a->port ? a->port : PFCP_DEFAULT_PORT, &ss, &len);
	fd = socket(a->family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (a->family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) == 0)
		return fd;
fail:
	snprintf(err, errlen, "PFCP: cannot bind %s port %u: %s", conf_addr_str(a, as, sizeof(as)),
		 a->port ? a->port : PFCP_DEFAULT_PORT, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -errno;
}

int pfcp_new(struct daemon *d, const struct conf_pfcp *c, const int *fds, unsigned n, struct pfcp **out,
	     char *err, size_t errlen)
{
	struct pfcp *pf = calloc(1, sizeof(*pf));
	int r = -ENOMEM;

	*out = NULL;
	if (!pf || !(pf->rx = malloc(PFCP_MAX_MSG + 1)) || !(pf->tx = malloc(PFCP_MAX_MSG)) ||
	    !(pf->hash = calloc(1024, sizeof(*pf->hash))) || !(pf->cache = calloc(CACHE_SIZE, sizeof(*pf->cache))) ||
	    !(pf->cache_head = malloc(CACHE_BUCKETS * sizeof(*pf->cache_head)))) {
		snprintf(err, errlen, "PFCP: out of memory");
		goto fail;
	}
	pf->hash_mask = 1023;
	memset(pf->cache_head, 0xff, CACHE_BUCKETS * sizeof(*pf->cache_head));
	pf->d = d;
	pf->c = *c;
	pfcp_node_id_parse(c->node_id, &pf->self);
	pf->recovery = (uint32_t)(time(NULL) + NTP_OFFSET);
	if (getrandom(&pf->next_seid, sizeof(pf->next_seid), 0) < 0)
		pf->next_seid = (uint64_t)mono_ns();
	if (getrandom(&pf->next_teid, sizeof(pf->next_teid), 0) < 0)
		pf->next_teid = (uint32_t)mono_ns();
	/* 32 bits to start from: short tunnel names (pfcp-SEID-PDR), and
	 * 2^64 - 2^32 sessions before a wrap. */
	pf->next_seid &= 0xffffffffull;
	if (n) {
		for (unsigned i = 0; i < n && i < CONF_MAX_LISTEN; i++)
			pf->fd[pf->n_fd++] = fds[i];
	} else {
		for (unsigned i = 0; i < c->n_listen; i++) {
			int fd = bind_one(&c->listen[i], err, errlen);

			if (fd < 0) {
				r = fd;
				goto fail;
			}
			pf->fd[pf->n_fd++] = fd;
		}
	}
	for (unsigned i = 0; i < pf->n_fd; i++)
		if ((r = sd_event_add_io(d->ev, &pf->io[i], pf->fd[i], EPOLLIN, on_io, pf)) < 0) {
			snprintf(err, errlen, "PFCP: %s", strerror(-r));
			goto fail;
		}
	if ((r = sd_event_add_time_relative(d->ev, &pf->timer, CLOCK_MONOTONIC, 1000000, 100000, on_timer, pf)) < 0 ||
	    (r = sd_event_source_set_enabled(pf->timer, SD_EVENT_ON)) < 0) {
		snprintf(err, errlen, "PFCP: %s", strerror(-r));
		goto fail;
	}
	*out = pf;
	return 0;
fail:
	pfcp_free(pf);
	return r;
}

void pfcp_free(struct pfcp *pf)
{
	if (!pf)
		return;
	/* The table goes with the daemon: the sessions alone are freed. */
	for (uint32_t b = 0; pf->hash && b <= pf->hash_mask; b++)
		for (struct sess *s = pf->hash[b], *nx; s; s = nx) {
			nx = s->hnext;
			if (s->buf) {
				for (struct hpkt *h = s->buf->head, *hn; h; h = hn) {
					hn = h->next;
					free(h);
				}
				free(s->buf);
			}
			free(s);
		}
	while (pf->n_nodes)
		free(pf->nodes[--pf->n_nodes]);
	for (unsigned i = 0; i < pf->n_fd; i++) {
		sd_event_source_unref(pf->io[i]);
		close(pf->fd[i]);
	}
	sd_event_source_unref(pf->timer);
	for (unsigned i = 0; pf->cache && i < CACHE_SIZE; i++)
		free(pf->cache[i].b);
	free(pf->cache);
	free(pf->cache_head);
	for (unsigned i = 0; i < MAX_PENDING; i++)
		free(pf->pend[i].b);
	free(pf->urr_seids);
	free(pf->buf_seids);
	free(pf->txn);
	free(pf->hash);
	free(pf->rx);
	free(pf->tx);
	free(pf);
}

void pfcp_reload(struct pfcp *pf, const struct conf_pfcp *c)
{
	struct conf_pfcp keep = pf->c;

	pf->c = *c;
	/* Only after a restart. */
	pf->c.n_listen = keep.n_listen;
	memcpy(pf->c.listen, keep.listen, sizeof(keep.listen));
	memcpy(pf->c.node_id, keep.node_id, sizeof(keep.node_id));
	pf->c.max_message = keep.max_message;
}

/* ---- reading it ---- */

json_object *pfcp_nodes_json(const struct pfcp *pf)
{
	json_object *a = json_object_new_array();

	for (unsigned i = 0; pf && i < pf->n_nodes; i++) {
		const struct pnode *n = pf->nodes[i];
		json_object *o = json_object_new_object();
		char as[80];

		sa_str(&n->sa, as, sizeof(as));
		json_object_object_add(o, "node", json_object_new_string(n->name));
		json_object_object_add(o, "address", json_object_new_string(as));
		json_object_object_add(o, "state", json_object_new_string("associated"));
		json_object_object_add(o, "recovery_time_stamp", json_object_new_int64(n->recovery));
		json_object_object_add(o, "since", json_object_new_int64(n->since));
		json_object_object_add(o, "sessions", json_object_new_int64(n->n_sess));
		json_object_object_add(o, "last_heartbeat", n->last_hb ? json_object_new_int64(n->last_hb) : NULL);
		json_object_array_add(a, o);
	}
	return a;
}

static json_object *sess_json(const struct pfcp *pf, const struct sess *s)
{
	json_object *o = json_object_new_object(), *t = json_object_new_array();
	char b[48];

	snprintf(b, sizeof(b), "0x%016" PRIx64, s->up_seid);
	json_object_object_add(o, "seid", json_object_new_string(b));
	snprintf(b, sizeof(b), "0x%016" PRIx64, s->cp_seid);
	json_object_object_add(o, "cp_seid", json_object_new_string(b));
	json_object_object_add(o, "node", json_object_new_string(s->node->name));
	json_object_object_add(o, "pdrs", json_object_new_int64(s->n_pdr));
	json_object_object_add(o, "fars", json_object_new_int64(s->n_far));
	json_object_object_add(o, "qers", json_object_new_int64(s->n_qer));
	json_object_object_add(o, "urrs", json_object_new_int64(s->n_urr));
	for (unsigned i = 0; i < s->n_pdr; i++) {
		tunnel_name_of(s->up_seid, PDRS(s)[i].id, b, sizeof(b));
		if (state_find_tunnel(pf->d->st, b) != TUNNEL_NONE)
			json_object_array_add(t, json_object_new_string(b));
	}
	json_object_object_add(o, "tunnels", t);
	t = json_object_new_array();
	for (unsigned i = 0; i < s->n_qer; i++) {
		const struct sqer *q = &QERS(s)[i];
		json_object *x = json_object_new_object();

		json_object_object_add(x, "id", json_object_new_int64(q->id));
		json_object_object_add(x, "gate_ul", json_object_new_string(PFCP_GATE_UL_CLOSED(q->gate) ? "closed" : "open"));
		json_object_object_add(x, "gate_dl", json_object_new_string(PFCP_GATE_DL_CLOSED(q->gate) ? "closed" : "open"));
		json_object_object_add(x, "mbr_ul", json_object_new_int64((int64_t)q->mbr_ul * 1000));
		json_object_object_add(x, "mbr_dl", json_object_new_int64((int64_t)q->mbr_dl * 1000));
		json_object_object_add(x, "qfi", q->qfi < 0 ? NULL : json_object_new_int64(q->qfi));
		json_object_array_add(t, x);
	}
	json_object_object_add(o, "qer", t);
	t = json_object_new_array();
	for (unsigned i = 0; i < s->n_urr; i++) {
		const struct surr *u = &URRS(s)[i];
		json_object *x = json_object_new_object();
		uint64_t m[4];

		/* Since its last report, as the next one will say. */
		urr_now(pf, s, u, m);
		json_object_object_add(x, "id", json_object_new_int64(u->id));
		json_object_object_add(x, "triggers", json_object_new_int64(u->triggers));
		json_object_object_add(x, "ul_bytes", json_object_new_int64((int64_t)(m[0] - u->base[0])));
		json_object_object_add(x, "dl_bytes", json_object_new_int64((int64_t)(m[1] - u->base[1])));
		json_object_object_add(x, "ul_packets", json_object_new_int64((int64_t)(m[2] - u->base[2])));
		json_object_object_add(x, "dl_packets", json_object_new_int64((int64_t)(m[3] - u->base[3])));
		json_object_object_add(x, "reports", json_object_new_int64(u->seqn));
		json_object_object_add(x, "exhausted", json_object_new_boolean(u->exhausted));
		json_object_array_add(t, x);
	}
	json_object_object_add(o, "urr", t);
	if (s->has_bar) {
		json_object *x = json_object_new_object();

		json_object_object_add(x, "id", json_object_new_int64(s->bar_id));
		json_object_object_add(x, "suggested_packets", json_object_new_int64(s->bar_count));
		json_object_object_add(x, "notification_delay_ms", json_object_new_int64(s->bar_delay * 50));
		json_object_object_add(o, "bar", x);
	} else {
		json_object_object_add(o, "bar", NULL);
	}
	if (s->buf) {
		json_object *x = json_object_new_object();

		json_object_object_add(x, "packets", json_object_new_int64(s->buf->n));
		json_object_object_add(x, "bytes", json_object_new_int64(s->buf->bytes));
		json_object_object_add(x, "reported", json_object_new_boolean(s->buf->reported));
		json_object_object_add(x, "taken", json_object_new_int64((int64_t)s->buf->taken));
		json_object_object_add(x, "released", json_object_new_int64((int64_t)s->buf->released));
		json_object_object_add(x, "overflow", json_object_new_int64((int64_t)s->buf->overflow));
		json_object_object_add(x, "expired", json_object_new_int64((int64_t)s->buf->expired));
		json_object_object_add(x, "discarded", json_object_new_int64((int64_t)s->buf->discarded));
		json_object_object_add(o, "buffer", x);
	} else {
		json_object_object_add(o, "buffer", NULL);
	}
	return o;
}

json_object *pfcp_sessions_json(const struct pfcp *pf, uint64_t *cursor, unsigned max)
{
	json_object *a = json_object_new_array();
	uint64_t b = *cursor >> 32, k = *cursor & 0xffffffff;
	unsigned got = 0;

	*cursor = 0;
	if (!pf)
		return a;
	/* Bucket by bucket; cursor = bucket << 32 | position in it. */
	for (; b <= pf->hash_mask; b++, k = 0) {
		uint64_t pos = 0;

		for (const struct sess *s = pf->hash[b]; s; s = s->hnext, pos++) {
			if (pos < k)
				continue;
			if (got == max) {
				*cursor = b << 32 | pos;
				return a;
			}
			json_object_array_add(a, sess_json(pf, s));
			got++;
		}
	}
	return a;
}

json_object *pfcp_stats_json(const struct pfcp *pf)
{
	json_object *o = json_object_new_object(), *rx = json_object_new_object(),
		    *tx = json_object_new_object(), *cause = json_object_new_object();

	if (!pf)
		return o;
	for (int t = 0; t < 256; t++) {
		if (pf->rx_msg[t])
			json_object_object_add(rx, pfcp_msg_name((uint8_t)t), json_object_new_int64((int64_t)pf->rx_msg[t]));
		if (pf->tx_msg[t])
			json_object_object_add(tx, pfcp_msg_name((uint8_t)t), json_object_new_int64((int64_t)pf->tx_msg[t]));
		if (pf->tx_cause[t])
			json_object_object_add(cause, pfcp_cause_name((uint8_t)t),
					       json_object_new_int64((int64_t)pf->tx_cause[t]));
	}
	json_object_object_add(o, "associations", json_object_new_int64(pf->n_nodes));
	json_object_object_add(o, "sessions", json_object_new_int64(pf->n_sess));
	json_object_object_add(o, "sessions_established", json_object_new_int64((int64_t)pf->sessions_created));
	json_object_object_add(o, "sessions_deleted", json_object_new_int64((int64_t)pf->sessions_deleted));
	json_object_object_add(o, "received", rx);
	json_object_object_add(o, "sent", tx);
	json_object_object_add(o, "causes_sent", cause);
	json_object_object_add(o, "refused", json_object_new_int64((int64_t)pf->refused));
	json_object_object_add(o, "malformed", json_object_new_int64((int64_t)pf->malformed));
	json_object_object_add(o, "too_long", json_object_new_int64((int64_t)pf->too_long));
	json_object_object_add(o, "retransmitted", json_object_new_int64((int64_t)pf->retransmitted));
	json_object_object_add(o, "usage_reports", json_object_new_int64((int64_t)pf->usage_reports));
	json_object_object_add(o, "dl_data_reports", json_object_new_int64((int64_t)pf->dl_data_reports));
	json_object_object_add(o, "buffered_packets", json_object_new_int64((int64_t)pf->held_packets));
	json_object_object_add(o, "buffered_bytes", json_object_new_int64((int64_t)pf->held_bytes));
	json_object_object_add(o, "unexpected", json_object_new_int64((int64_t)pf->unexpected));
	json_object_object_add(o, "timeouts", json_object_new_int64((int64_t)pf->timeouts));
	return o;
}

static void app(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void app(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(*buf ? *buf + *len : NULL, *buf ? *cap - *len : 0, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if (*buf && *len + (size_t)n < *cap) {
			*len += (size_t)n;
			return;
		}
		size_t nc = (*cap ? *cap * 2 : 4096) + (size_t)n;
		char *b = realloc(*buf, nc);

		if (!b)
			return;
		*buf = b;
		*cap = nc;
	}
}

void pfcp_metrics(const struct pfcp *pf, char **buf, size_t *len, size_t *cap)
{
	app(buf, len, cap, "# HELP gtpud_pfcp_associations PFCP associations set up with control-plane nodes.\n"
	    "# TYPE gtpud_pfcp_associations gauge\ngtpud_pfcp_associations %u\n", pf ? pf->n_nodes : 0);
	app(buf, len, cap, "# HELP gtpud_pfcp_sessions PFCP sessions established.\n"
	    "# TYPE gtpud_pfcp_sessions gauge\ngtpud_pfcp_sessions %u\n", pf ? pf->n_sess : 0);
	app(buf, len, cap, "# HELP gtpud_pfcp_messages_received_total PFCP messages received, by type.\n"
	    "# TYPE gtpud_pfcp_messages_received_total counter\n");
	for (int t = 0; pf && t < 256; t++)
		if (pf->rx_msg[t])
			app(buf, len, cap, "gtpud_pfcp_messages_received_total{type=\"%s\"} %" PRIu64 "\n",
			    pfcp_msg_name((uint8_t)t), pf->rx_msg[t]);
	app(buf, len, cap, "# HELP gtpud_pfcp_messages_sent_total PFCP messages sent, by type.\n"
	    "# TYPE gtpud_pfcp_messages_sent_total counter\n");
	for (int t = 0; pf && t < 256; t++)
		if (pf->tx_msg[t])
			app(buf, len, cap, "gtpud_pfcp_messages_sent_total{type=\"%s\"} %" PRIu64 "\n",
			    pfcp_msg_name((uint8_t)t), pf->tx_msg[t]);
	app(buf, len, cap, "# HELP gtpud_pfcp_responses_sent_total PFCP responses sent, by Cause.\n"
	    "# TYPE gtpud_pfcp_responses_sent_total counter\n");
	for (int t = 0; pf && t < 256; t++)
		if (pf->tx_cause[t])
			app(buf, len, cap, "gtpud_pfcp_responses_sent_total{cause=\"%s\"} %" PRIu64 "\n",
			    pfcp_cause_name((uint8_t)t), pf->tx_cause[t]);
	app(buf, len, cap, "# HELP gtpud_pfcp_dropped_total PFCP datagrams dropped, by reason.\n"
	    "# TYPE gtpud_pfcp_dropped_total counter\n"
	    "gtpud_pfcp_dropped_total{reason=\"refused\"} %" PRIu64 "\n"
	    "gtpud_pfcp_dropped_total{reason=\"malformed\"} %" PRIu64 "\n"
	    "gtpud_pfcp_dropped_total{reason=\"too_long\"} %" PRIu64 "\n"
	    "gtpud_pfcp_dropped_total{reason=\"unexpected\"} %" PRIu64 "\n",
	    pf ? pf->refused : 0, pf ? pf->malformed : 0, pf ? pf->too_long : 0, pf ? pf->unexpected : 0);
	app(buf, len, cap, "# HELP gtpud_pfcp_reports_total Session Reports sent to the control plane, by report type.\n"
	    "# TYPE gtpud_pfcp_reports_total counter\n"
	    "gtpud_pfcp_reports_total{type=\"usage\"} %" PRIu64 "\n"
	    "gtpud_pfcp_reports_total{type=\"downlink_data\"} %" PRIu64 "\n",
	    pf ? pf->usage_reports : 0, pf ? pf->dl_data_reports : 0);
	app(buf, len, cap, "# HELP gtpud_pfcp_buffered_packets Packets held by buffering FARs (FAR BUFF) now.\n"
	    "# TYPE gtpud_pfcp_buffered_packets gauge\ngtpud_pfcp_buffered_packets %" PRIu64 "\n"
	    "# HELP gtpud_pfcp_buffered_bytes Bytes held by buffering FARs (FAR BUFF) now.\n"
	    "# TYPE gtpud_pfcp_buffered_bytes gauge\ngtpud_pfcp_buffered_bytes %" PRIu64 "\n",
	    pf ? pf->held_packets : 0, pf ? pf->held_bytes : 0);
}
