/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The control commands on the daemon's live state: one JSON data model for
 * gtpuctl's tables, --json and the Prometheus exposition (ctl_cmds.h). */
#include "ctl_cmds.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl_proto.h"
#include "daemon.h"
#include "log.h"
#include "metrics.h"
#include "pfcp.h"
#include "statefile.h"
#include "util.h"

#define ADD(o, k, v) json_object_object_add((o), (k), (v))
#define U64(v) json_object_new_int64((int64_t)(v))

static json_object *errors1(const char *msg)
{
	json_object *a = json_object_new_array();

	json_object_array_add(a, json_object_new_string(msg));
	return a;
}

/* A peer PFCP brought that no tunnel sends to any more: gone for the
 * operator, freed at the next rebuild. */
static bool peer_gone(const struct peer *p)
{
	return p->dynamic && !p->users;
}

static int cmd_status(void *ctx, json_object *args, json_object **data, json_object **errors)
{
	struct daemon *d = ctx;
	json_object *o = json_object_new_object();
	unsigned up = 0, n = 0;

	for (uint32_t i = 0; i < d->st->n_peers; i++) {
		if (peer_gone(d->st->peers[i]))
			continue;
		n++;
		up += __atomic_load_n(&d->st->peers[i]->state, __ATOMIC_RELAXED) == PEER_UP;
	}
	ADD(o, "version", json_object_new_string(PACKAGE_VERSION));
	ADD(o, "pid", U64(getpid()));
	ADD(o, "uptime", U64((mono_ns() - d->start_ns) / 1000000000u));
	ADD(o, "config", json_object_new_string(d->conf_file));
	ADD(o, "workers", U64(d->n_workers));
	ADD(o, "peers", U64(n));
	ADD(o, "peers_up", U64(up));
	ADD(o, "tunnels", U64(d->st->n_tunnels));
	ADD(o, "runtime_tunnels", U64(d->st->n_runtime));
	ADD(o, "reloads", U64(d->reloads));
	ADD(o, "last_reload", d->last_reload < 0 ? NULL :
	    json_object_new_string(d->last_reload ? "failed" : "ok"));
	ADD(o, "tun", d->has_tun ? json_object_new_string(d->tun.name) : NULL);
	ADD(o, "max_runtime_tunnels", U64(d->st->conf->max_runtime));
	ADD(o, "pfcp_tunnels", U64(d->st->n_pfcp));
	ADD(o, "pfcp", d->pfcp ? pfcp_stats_json(d->pfcp) : NULL);
	if (d->state_dir) {
		json_object *sf = json_object_new_object();
		char path[PATH_MAX];

		snprintf(path, sizeof(path), "%s/%s", d->state_dir, STATEFILE_NAME);
		ADD(sf, "path", json_object_new_string(path));
		ADD(sf, "writes", U64(d->state_writes));
		ADD(sf, "write_errors", U64(d->state_write_errors));
		ADD(sf, "last_write_us", U64(d->state_write_ns / 1000));
		ADD(o, "state_file", sf);
	} else {
		ADD(o, "state_file", NULL);
	}
	*data = o;
	return CTL_OK;
}

static int cmd_stats(void *ctx, json_object *args, json_object **data, json_object **errors)
{
	struct daemon *d = ctx;
	json_object *o = json_object_new_object(), *drops = json_object_new_object();
	json_object *paths = json_object_new_object(), *sk = json_object_new_object(),
		    *xp = json_object_new_object();
	struct xdp_totals xt;
	struct wstats st;
	uint64_t dropped = 0;

	dp_stats(&d->dp, &st);
	/* How much each path carried: the sockets' own counts, then the sum. */
	ADD(sk, "rx_packets", U64(st.rx_pkts));
	ADD(sk, "forwarded", U64(st.forwarded));
	daemon_stats_xdp(d, &st, &xt);
	ADD(xp, "mode", json_object_new_string(xdp_mode_name(d->xdp)));
	ADD(xp, "rx_packets", U64(xt.rx_pkts));
	ADD(xp, "forwarded", U64(xt.fwd_pkts));
	ADD(xp, "tx_lost", U64(xt.tx_lost));
	ADD(xp, "passed", U64(xt.passed));
	ADD(xp, "not_offloaded", U64(xt.not_offloaded));
	ADD(paths, "sockets", sk);
	ADD(paths, "xdp", xp);
	for (int r = 0; r < DROP__COUNT; r++) {
		ADD(drops, drop_reason_name(r), U64(st.drops[r]));
		dropped += st.drops[r];
	}
	ADD(o, "rx_packets", U64(st.rx_pkts));
	ADD(o, "rx_bytes", U64(st.rx_bytes));
	/* The workers' sends and the supervision's Echo Requests. */
	ADD(o, "tx_packets", U64(st.tx_pkts + d->echo_req_tx));
	ADD(o, "tx_bytes", U64(st.tx_bytes + d->echo_req_tx_bytes));
	ADD(o, "forwarded", U64(st.forwarded));
	/* The identity's middle term: received = forwarded + answered + dropped. */
	ADD(o, "answered", U64(st.answered + st.sig_rx));
	ADD(o, "signalling_answered", U64(st.answered));
	ADD(o, "signalling_received", U64(st.sig_rx));
	ADD(o, "dropped", U64(dropped));
	/* Held by buffering FARs (PFCP): the identity's last term. */
	ADD(o, "buffered", U64(st.held_in - st.held_out));
	ADD(o, "drops", drops);
	ADD(o, "echo_requests_sent", U64(d->echo_req_tx));
	ADD(o, "echo_requests_received", U64(st.echo_req_rx));
	ADD(o, "echo_responses_sent", U64(st.echo_rsp_tx));
	ADD(o, "echo_responses_received", U64(st.echo_rsp_rx));
	ADD(o, "error_indications_sent", U64(st.err_ind_tx));
	ADD(o, "error_indications_received", U64(st.err_ind_rx));
	ADD(o, "supp_ext_notifs_sent", U64(st.sehn_tx));
	ADD(o, "end_markers", U64(st.end_markers));
	ADD(o, "tun_rx_packets", U64(st.tun_rx));
	ADD(o, "tun_tx_packets", U64(st.tun_tx));
	ADD(o, "icmp_sent", U64(st.icmp_tx));
	ADD(o, "events_lost", U64(st.events_lost));
	ADD(o, "drops_recorded", U64(st.drops_recorded));
	ADD(o, "log_lines", U64(log_lines_written()));
	ADD(o, "log_lines_suppressed", U64(log_lines_suppressed()));
	ADD(o, "xdp_forwarded", U64(xt.fwd_pkts));
	ADD(o, "xdp_passed", U64(xt.passed));
	ADD(o, "paths", paths);
	*data = o;
	return CTL_OK;
}

static json_object *peer_json(const struct state *s, const struct peer *p)
{
	json_object *o = json_object_new_object();
	struct ctr c;
	char a[64];

	state_peer_ctr(s, p, &c);
	ADD(o, "name", json_object_new_string(p->name));
	ADD(o, "address", json_object_new_string(conf_addr_str(&p->addr, a, sizeof(a))));
	ADD(o, "port", U64(p->addr.port ? p->addr.port : 2152));
	ADD(o, "echo", json_object_new_boolean(p->echo));
	ADD(o, "state", json_object_new_string(daemon_peer_state(p)));
	/* A peer that is down has no round trip time: not its last one. */
	ADD(o, "rtt_us", p->rtt_us < 0 || __atomic_load_n(&p->state, __ATOMIC_RELAXED) == PEER_DOWN ?
	    NULL : U64(p->rtt_us));
	ADD(o, "since", U64(p->since));
	ADD(o, "recovery", p->recovery < 0 ? NULL : U64(p->recovery));
	ADD(o, "rx_packets", U64(c.rx_pkts));
	ADD(o, "rx_bytes", U64(c.rx_bytes));
	ADD(o, "tx_packets", U64(c.tx_pkts + p->echo_req_tx));
	ADD(o, "tx_bytes", U64(c.tx_bytes + p->echo_req_tx_bytes));
	ADD(o, "echo_requests_sent", U64(p->echo_req_tx));
	ADD(o, "echo_timeouts", U64(p->echo_timeouts));
	ADD(o, "down_count", U64(p->down_count));
	ADD(o, "error_indications_received", U64(p->err_ind_rx));
	return o;
}

static int cmd_peers(void *ctx, json_object *args, json_object **data, json_object **errors)
{
	struct daemon *d = ctx;
	json_object *a = json_object_new_array();

	for (uint32_t i = 0; i < d->st->n_peers; i++)
		if (!peer_gone(d->st->peers[i]))
			json_object_array_add(a, peer_json(d->st, d->st->peers[i]));
	*data = a;
	return CTL_OK;
}

static json_object *end_json(const struct state *s, uint32_t peer, uint32_t teid)
{
	json_object *o = json_object_new_object();

	/* A PFCP tunnel takes G-PDUs from any source, and may send nothing. */
	ADD(o, "peer", peer == TABLE_NO_PEER ? NULL : json_object_new_string(s->peers[peer]->name));
	ADD(o, "teid", peer == TABLE_NO_PEER && !teid ? NULL : U64(teid));
	return o;
}

/* A tunnel's drops by reason, those not 0 (most tunnels have none). */
static json_object *tunnel_drops_json(const uint64_t d[TABLE_TDROPS])
{
	json_object *o = json_object_new_object();

	for (int r = 0; r < DROP__COUNT; r++) {
		int k = drop_tunnel_slot(r);

		if (k >= 0 && d[k])
			ADD(o, drop_reason_name(r), U64(d[k]));
	}
	return o;
}

static json_object *tunnel_json(const struct state *s, uint32_t i)
{
	const struct tunnel *t = &s->tunnels[i];
	json_object *o = json_object_new_object(), *ue = json_object_new_array();
	const uint64_t *rb = t->tb == TUNNEL_NONE ? NULL : &s->tb_cfg[TB_CFG_N * (size_t)t->tb];
	uint64_t d[TABLE_TDROPS], dropped;
	struct ctr c;
	char a[64];

	state_tunnel_ctr(s, i, &c);
	dropped = state_tunnel_drops(s, i, d);
	for (unsigned u = 0; u < t->n_ue; u++)
		json_object_array_add(ue, json_object_new_string(conf_addr_str(&s->ue[t->ue_off + u], a, sizeof(a))));
	ADD(o, "name", json_object_new_string(tunnel_name(s, t)));
	ADD(o, "runtime", json_object_new_boolean(t->flags & TUNNEL_RUNTIME));
	ADD(o, "origin", json_object_new_string(t->flags & TUNNEL_RUNTIME ? "runtime" :
						 t->flags & TUNNEL_PFCP ? "pfcp" : "file"));
	if (t->flags & TUNNEL_DROP)
		ADD(o, "action", json_object_new_string("drop"));
	ADD(o, "from", end_json(s, t->from_peer, t->from_teid));
	ADD(o, "to", end_json(s, t->to_peer, t->to_teid));
	ADD(o, "ue", ue);
	ADD(o, "qfi", t->qfi < 0 ? NULL : U64(t->qfi));
	ADD(o, "rate", rb ? U64(rb[0]) : NULL);
	ADD(o, "burst", rb && rb[1] ? U64(rb[1]) : NULL);
	/* An endpoint whose downlink has a rate of its own (PFCP QERs); 0: none. */
	if (rb && rb[2])
		ADD(o, "rate_down", U64(rb[2] == UINT64_MAX ? 0 : rb[2]));
	ADD(o, "rx_packets", U64(c.rx_pkts));
	ADD(o, "rx_bytes", U64(c.rx_bytes));
	ADD(o, "tx_packets", U64(c.tx_pkts));
	ADD(o, "tx_bytes", U64(c.tx_bytes));
	ADD(o, "dropped", U64(dropped));
	ADD(o, "drops", tunnel_drops_json(d));
	ADD(o, "error_indications_received", U64(state_err_ind(s, i)));
	return o;
}

/* ---- recent drops (dp.h: each worker's ring) ---- */

static json_object *addr_json(int family, const uint8_t *a)
{
	char b[INET6_ADDRSTRLEN];

	if (!inet_ntop(family, a, b, sizeof(b)))
		return NULL;
	return json_object_new_string(b);
}

/* The tunnel a record names, if the slot still holds it: one with the
 * record's TEID at either end (the slot may have been reused, or a reload
 * have renumbered the tunnels, since). */
static const char *drop_tunnel(const struct state *s, const struct dp_drop *d)
{
	const struct tunnel *t;

	if (d->tunnel == TUNNEL_NONE || d->tunnel >= s->hi)
		return NULL;
	t = &s->tunnels[d->tunnel];
	if (!(t->flags & TUNNEL_LIVE) || !(d->flags & DP_DROP_TEID) ||
	    (t->from_teid != d->teid && t->to_teid != d->teid))
		return NULL;
	return tunnel_name(s, t);
}

static json_object *drop_json(const struct state *s, const struct dp_drop *d, unsigned worker)
{
	json_object *o = json_object_new_object();
	const char *tn = drop_tunnel(s, d);
	char ts[32];

	snprintf(ts, sizeof(ts), "%" PRIu64 ".%03" PRIu64, d->time_ns / 1000000000u,
		 d->time_ns % 1000000000u / 1000000u);
	ADD(o, "time", json_object_new_double_s((double)d->time_ns / 1e9, ts));
	ADD(o, "reason", json_object_new_string(drop_reason_name(d->reason)));
	ADD(o, "source", d->flags & DP_DROP_SRC ? addr_json(d->family, d->src) : NULL);
	ADD(o, "port", d->flags & DP_DROP_SRC && !(d->flags & DP_DROP_TUN) ? U64(d->port) : NULL);
	ADD(o, "destination", d->flags & DP_DROP_DST ? addr_json(d->family, d->dst) : NULL);
	ADD(o, "peer", d->peer[0] ? json_object_new_string(d->peer) : NULL);
	ADD(o, "teid", d->flags & DP_DROP_TEID ? U64(d->teid) : NULL);
	ADD(o, "tunnel", tn ? json_object_new_string(tn) : NULL);
	ADD(o, "from_tun", json_object_new_boolean(d->flags & DP_DROP_TUN));
	ADD(o, "worker", U64(worker));
	return o;
}

struct drop_at {
	struct dp_drop d;
	unsigned worker;
};

static int drop_cmp(const void *a, const void *b)
{
	const struct drop_at *x = a, *y = b;

	return x->d.time_ns < y->d.time_ns ? -1 : x->d.time_ns > y->d.time_ns;
}

static int cmd_drops(void *ctx, json_object *args, json_object **data, json_object **errors)
{
	struct daemon *d = ctx;
	struct drop_at *v = calloc((size_t)d->n_workers * DP_DROPQ, sizeof(*v));
	size_t n = 0;
	json_object *a;

	if (json_object_array_length(args)) {
		free(v);
		*errors = errors1("usage: drops");
		return CTL_E_USAGE;
	}
	if (!v) {
		*errors = errors1("out of memory");
		return CTL_E_INTERNAL;
	}
	for (unsigned w = 0; w < d->n_workers; w++) {
		uint64_t head = dp_drop_head(&d->dp.w[w]);

		for (uint64_t k = head > DP_DROPQ ? head - DP_DROPQ : 0; k < head; k++)
			if (dp_drop_get(&d->dp.w[w], k, &v[n].d))
				v[n++].worker = w;
	}
	/* Oldest first, as a log reads. */
	qsort(v, n, sizeof(*v), drop_cmp);
	a = json_object_new_array();
	for (size_t i = 0; i < n; i++)
		json_object_array_add(a, drop_json(d->st, &v[i].d, v[i].worker));
	free(v);
	*data = a;
	return CTL_OK;
}

/* A record as a log line: "drop: rate_limit from 192.0.2.10:2152 peer enb
 * TEID 0x120 tunnel slow", what is not known left out. */
static void drop_log(json_object *o)
{
	json_object *v;
	char line[512];
	size_t n;

	json_object_object_get_ex(o, "reason", &v);
	n = (size_t)snprintf(line, sizeof(line), "drop: %s", v ? json_object_get_string(v) : "?");
	if (json_object_object_get_ex(o, "source", &v) && v && n < sizeof(line)) {
		const char *a = json_object_get_string(v);
		json_object *port = NULL;

		if (json_object_object_get_ex(o, "port", &port) && port)
			n += (size_t)snprintf(line + n, sizeof(line) - n, strchr(a, ':') ? " from [%s]:%d" : " from %s:%d",
					      a, json_object_get_int(port));
		else
			n += (size_t)snprintf(line + n, sizeof(line) - n, " from %s", a);
	}
	if (json_object_object_get_ex(o, "destination", &v) && v && n < sizeof(line))
		n += (size_t)snprintf(line + n, sizeof(line) - n, " to %s", json_object_get_string(v));
	if (json_object_object_get_ex(o, "peer", &v) && v && n < sizeof(line))
		n += (size_t)snprintf(line + n, sizeof(line) - n, " peer %s", json_object_get_string(v));
	if (json_object_object_get_ex(o, "teid", &v) && v && n < sizeof(line))
		n += (size_t)snprintf(line + n, sizeof(line) - n, " TEID 0x%" PRIx64,
				      (uint64_t)json_object_get_int64(v));
	if (json_object_object_get_ex(o, "tunnel", &v) && v && n < sizeof(line))
		snprintf(line + n, sizeof(line) - n, " tunnel %s", json_object_get_string(v));
	/* A sample of a sample: at most 10 lines in 5 s, the rest counted. */
	log_ratelimited(LOG_LVL_DEBUG, "%s", line);
}

bool ctl_cmds_drops_watched(struct daemon *d)
{
	return (d->ctl && ctl_monitors(d->ctl, CTL_MON_DROPS)) || log_get_level() >= LOG_LVL_DEBUG;
}

void ctl_cmds_drops_poll(struct daemon *d)
{
	bool any = d->ctl && ctl_monitors(d->ctl, CTL_MON_DROPS);
	bool debug = log_get_level() >= LOG_LVL_DEBUG;

	for (unsigned w = 0; w < d->n_workers; w++) {
		struct dp_worker *wk = &d->dp.w[w];
		uint64_t head = dp_drop_head(wk), k = wk->drop_mon;

		/* Records overwritten before their turn are gone: the ring holds
		 * more than a poll's worth of the rate. */
		if (head - k > DP_DROPQ)
			k = head - DP_DROPQ;
		for (; (any || debug) && k < head; k++) {
			struct dp_drop rec;
			json_object *o;

			if (!dp_drop_get(wk, k, &rec))
				continue;
			o = drop_json(d->st, &rec, w);
			if (debug)
				drop_log(o);
			if (any)
				ctl_event_topic(d->ctl, CTL_MON_DROPS, CTL_EV_DROP, (time_t)(rec.time_ns / 1000000000u),
						json_object_get(o));
			json_object_put(o);
		}
		wk->drop_mon = head;
	}
}

/* Listing a million tunnels would build a reply too big for a client:
 * beyond this, name one. */
#define TUNNELS_LIST_MAX 100000   /* "tunnels" without a name (gtpuctl(8)) */
#define TUNNEL_SERIES_MAX 10000   /* per-tunnel metric series (gtpuctl(8)) */

static int cmd_tunnels(void *ctx, json_object *args, json_object **data, json_object **errors)
{
	struct daemon *d = ctx;
	const struct state *s = d->st;
	json_object *a;

	if (json_object_array_length(args) > 1) {
		*errors = errors1("usage: tunnels [NAME]");
		return CTL_E_USAGE;
	}
	if (json_object_array_length(args) == 1) {
		const char *name = json_object_get_string(json_object_array_get_idx(args, 0));
		uint32_t i = state_find_tunnel(s, name);

		if (i == TUNNEL_NONE) {
			char m[128];

			snprintf(m, sizeof(m), "no tunnel named \"%s\"", name);
			*errors = errors1(m);
			return CTL_E_NOT_FOUND;
		}
		a = json_object_new_array();
		json_object_array_add(a, tunnel_json(s, i));
		*data = a;
		return CTL_OK;
	}
	if (s->n_tunnels > TUNNELS_LIST_MAX) {
		*errors = errors1("too many tunnels to list: name one (tunnels NAME) or use metrics");
		return CTL_E_LIMIT;
	}
	a = json_object_new_array();
	STATE_FOR_EACH(s, i)
		json_object_array_add(a, tunnel_json(s, i));
	*data = a;
	return CTL_OK;
}

/* "tunnels" streamed to a client (ctl.h): CTL_STREAM_CHUNK tunnels a call,
 * in slot order from the cursor, as the client reads. */
static int cmd_tunnels_stream(void *ctx, json_object *args, uint64_t *cursor, json_object *chunk,
			      json_object **errors)
{
	struct daemon *d = ctx;
	const struct state *s = d->st;
	unsigned n = 0;
	uint64_t i;

	if (json_object_array_length(args) || *cursor == 0) {
		/* A name, a usage error or the limit: as the whole reply does. */
		json_object *data = NULL;
		int r;

		if (json_object_array_length(args)) {
			r = cmd_tunnels(ctx, args, &data, errors);
			if (r == CTL_OK)
				json_object_array_add(chunk, json_object_get(json_object_array_get_idx(data, 0)));
			json_object_put(data);
			*cursor = CTL_STREAM_END;
			return r;
		}
		if (s->n_tunnels > TUNNELS_LIST_MAX) {
			*errors = errors1("too many tunnels to list: name one (tunnels NAME) or use metrics");
			return CTL_E_LIMIT;
		}
	}
	for (i = *cursor; i < s->hi && n < CTL_STREAM_CHUNK; i++) {
		if (!(s->tunnels[i].flags & TUNNEL_LIVE))
			continue;
		json_object_array_add(chunk, tunnel_json(s, (uint32_t)i));
		n++;
	}
	*cursor = i < s->hi ? i : CTL_STREAM_END;
	return CTL_OK;
}

static int result_of(int r)
{
	return r == -EEXIST ? CTL_E_EXISTS : r == -ENOENT ? CTL_E_NOT_FOUND :
	       r == -ENOSPC ? CTL_E_LIMIT : r == -EINVAL ? CTL_E_INVALID : CTL_E_INTERNAL;
}

/* Applies b (errors taken into *errors). */
static int tunnels_add(struct daemon *d, struct daemon_batch *b, json_object **errors)
{
	int r = daemon_tunnels_add(d, b);

	if (r < 0) {
		*errors = daemon_batch_errors(b);
		return result_of(r);
	}
	return CTL_OK;
}

static int cmd_tunnel_add(void *ctx, json_object *args, json_object **data, json_object **errors)
{
	struct daemon *d = ctx;
	struct ctl_tunnel_spec sp;
	struct daemon_batch b;
	char err[256];
	int r;

	if (ctl_tunnel_spec_parse_json(args, &sp, err, sizeof(err)) < 0) {
		*errors = errors1(err);
		return CTL_E_USAGE;
	}
	daemon_batch_init(&b, false);
	daemon_batch_spec(d, &b, &sp, 1);
	r = tunnels_add(d, &b, errors);
	daemon_batch_fini(&b);
	return r;
}

static int cmd_tunnel_add_batch(void *ctx, json_object *lines, json_object **data,
				json_object **errors)
{
	struct daemon *d = ctx;
	struct daemon_batch b;
	uint32_t n = (uint32_t)json_object_array_length(lines);
	int r;

	daemon_batch_init(&b, true);
	for (uint32_t i = 0; i < n; i++)
		daemon_batch_line(d, &b, json_object_get_string(json_object_array_get_idx(lines, i)), i + 1);
	r = tunnels_add(d, &b, errors);
	if (r == CTL_OK) {
		*data = json_object_new_object();
		ADD(*data, "added", U64(b.n));
	}
	daemon_batch_fini(&b);
	return r;
}

static int tunnels_del(struct daemon *d, const char *const *names, const uint32_t *lines, uint32_t n,
		       json_object **errors)
{
	int r = daemon_tunnels_del(d, names, lines, n, errors);

	return r < 0 ? result_of(r) : CTL_OK;
}

static int cmd_tunnel_del(void *ctx, json_object *args, json_object **data, json_object **errors)
{
	struct daemon *d = ctx;
	const char *name;

	if (json_object_array_length(args) != 1) {
		*errors = errors1("usage: tunnel del NAME");
		return CTL_E_USAGE;
	}
	name = json_object_get_string(json_object_array_get_idx(args, 0));
	return tunnels_del(d, &name, NULL, 1, errors);
}

/* One name a line; blank lines and "#" comments are skipped. */
static int cmd_tunnel_del_batch(void *ctx, json_object *lines, json_object **data,
				json_object **errors)
{
	struct daemon *d = ctx;
	uint32_t n = (uint32_t)json_object_array_length(lines), k = 0;
	const char **names = calloc(n ? n : 1, sizeof(*names));
	uint32_t *num = calloc(n ? n : 1, sizeof(*num));
	char *buf = NULL;
	size_t len = 0;
	int r;

	for (uint32_t i = 0; i < n; i++)
		len += (size_t)json_object_get_string_len(json_object_array_get_idx(lines, i)) + 1;
	if (!names || !num || !(buf = malloc(len ? len : 1))) {
		r = CTL_E_INTERNAL;
		*errors = errors1("out of memory");
		goto out;
	}
	for (uint32_t i = 0, off = 0; i < n; i++) {
		const char *l = json_object_get_string(json_object_array_get_idx(lines, i));
		size_t b = strspn(l, " \t\r"), e;

		if (!l[b] || l[b] == '#')
			continue;
		e = b + strcspn(l + b, " \t\r#");
		if (l[e + strspn(l + e, " \t\r")] && l[e + strspn(l + e, " \t\r")] != '#') {
			char m[160];

			snprintf(m, sizeof(m), "line %u: one tunnel name a line", i + 1);
			*errors = errors1(m);
			r = CTL_E_USAGE;
			goto out;
		}
		memcpy(buf + off, l + b, e - b);
		buf[off + e - b] = '\0';
		names[k] = buf + off;
		num[k++] = i + 1;
		off += (uint32_t)(e - b + 1);
	}
	r = tunnels_del(d, names, num, k, errors);
	if (r == CTL_OK) {
		*data = json_object_new_object();
		ADD(*data, "removed", U64(k));
	}
out:
	free(names);
	free(num);
	free(buf);
	return r;
}

static int cmd_reload(void *ctx, json_object *args, json_object **data, json_object **errors)
{
	struct daemon *d = ctx;
	json_object *warnings = NULL, *pending = NULL;

	if (daemon_reload(d, errors, &warnings, &pending) < 0) {
		json_object_put(warnings);
		json_object_put(pending);
		return CTL_E_INVALID;
	}
	if (warnings || (pending && json_object_array_length(pending))) {
		json_object *o = json_object_new_object();

		if (warnings)
			ADD(o, "warnings", warnings);
		if (pending && json_object_array_length(pending))
			ADD(o, "pending", json_object_get(pending));
		*data = o;
	}
	json_object_put(pending);
	return CTL_OK;
}

char *ctl_cmds_metrics_text(struct daemon *d)
{
	json_object *st = NULL, *sa = NULL, *pe = NULL, *tu = NULL, *e = NULL;
	json_object *none = json_object_new_array();
	char *text;

	cmd_status(d, none, &st, &e);
	cmd_stats(d, none, &sa, &e);
	cmd_peers(d, none, &pe, &e);
	/* Per-tunnel series only while their number stays reasonable; beyond,
	 * those of the tunnels that dropped packets, the first
	 * TUNNEL_SERIES_MAX of them. */
	if (d->st->n_tunnels <= TUNNEL_SERIES_MAX) {
		cmd_tunnels(d, none, &tu, &e);
	} else {
		uint64_t dr[TABLE_TDROPS];
		unsigned n = 0;

		tu = json_object_new_array();
		STATE_FOR_EACH(d->st, i) {
			if (n == TUNNEL_SERIES_MAX)
				break;
			if (state_tunnel_drops(d->st, i, dr)) {
				json_object_array_add(tu, tunnel_json(d->st, i));
				n++;
			}
		}
	}
	text = metrics_render(st, sa, pe, tu);
	if (text && d->pfcp) {
		size_t len = strlen(text), cap = len + 1;

		pfcp_metrics(d->pfcp, &text, &len, &cap);
	}
	json_object_put(st);
	json_object_put(sa);
	json_object_put(pe);
	json_object_put(tu);
	json_object_put(none);
	return text;
}

static int cmd_metrics(void *ctx, json_object *args, json_object **data, json_object **errors)
{
	struct daemon *d = ctx;
	char *text = ctl_cmds_metrics_text(d);
	json_object *o;

	if (!text) {
		*errors = errors1("out of memory");
		return CTL_E_INTERNAL;
	}
	o = json_object_new_object();
	ADD(o, "text", json_object_new_string(text));
	free(text);
	*data = o;
	return CTL_OK;
}

/* "pfcp": the associations. */
static int cmd_pfcp(void *ctx, json_object *args, json_object **data, json_object **errors)
{
	struct daemon *d = ctx;

	if (!d->pfcp) {
		*errors = errors1("PFCP is not enabled (no pfcp group in the config)");
		return CTL_E_NOT_FOUND;
	}
	*data = pfcp_nodes_json(d->pfcp);
	return CTL_OK;
}

/* "sessions": streamed, as tunnels are. */
static int cmd_sessions_stream(void *ctx, json_object *args, uint64_t *cursor, json_object *chunk,
			       json_object **errors)
{
	struct daemon *d = ctx;
	json_object *a;

	if (!d->pfcp) {
		*errors = errors1("PFCP is not enabled (no pfcp group in the config)");
		return CTL_E_NOT_FOUND;
	}
	a = pfcp_sessions_json(d->pfcp, cursor, CTL_STREAM_CHUNK);
	for (size_t i = 0; i < json_object_array_length(a); i++)
		json_object_array_add(chunk, json_object_get(json_object_array_get_idx(a, i)));
	json_object_put(a);
	if (!*cursor)
		*cursor = CTL_STREAM_END;
	(void)args;
	return CTL_OK;
}

const struct ctl_cmd ctl_cmds[] = {
	{ "status", false, cmd_status, NULL, NULL },
	{ "stats", false, cmd_stats, NULL, NULL },
	{ "peers", false, cmd_peers, NULL, NULL },
	{ "tunnels", false, cmd_tunnels, NULL, cmd_tunnels_stream },
	{ "drops", false, cmd_drops, NULL, NULL },
	{ "metrics", false, cmd_metrics, NULL, NULL },
	{ "tunnel add", true, cmd_tunnel_add, cmd_tunnel_add_batch, NULL },
	{ "tunnel del", true, cmd_tunnel_del, cmd_tunnel_del_batch, NULL },
	{ "reload", true, cmd_reload, NULL, NULL },
	{ "pfcp", false, cmd_pfcp, NULL, NULL },
	{ "sessions", false, NULL, NULL, cmd_sessions_stream },
	{ NULL, false, NULL, NULL, NULL },
};

