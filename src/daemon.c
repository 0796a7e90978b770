/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The control plane of gtpud on one sd-event loop: start-up in order and
 * shutdown in reverse, SIGHUP reload, Echo path supervision, events from the
 * workers, the control socket, the metrics endpoint and systemd notification. */
#include "daemon.h"

#include <errno.h>
#include <grp.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "ctl_cmds.h"
#include "ctl_proto.h"
#include "gtpu.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "sd.h"
#include "util.h"

#define TICK_MAX_USEC 1000000   /* the supervision looks at least this often */
#define STATUS_USEC 5000000      /* STATUS= refresh */

const char *daemon_peer_state(const struct peer *p)
{
	switch ((enum peer_state)__atomic_load_n(&p->state, __ATOMIC_RELAXED)) {
	case PEER_UP: return "up";
	case PEER_DOWN: return "down";
	case PEER_UNKNOWN: break;
	}
	return "unknown";
}

void daemon_event(struct daemon *d, const char *event, json_object *fields)
{
	if (d->ctl)
		ctl_event(d->ctl, event, fields);
	else
		json_object_put(fields);
}

static json_object *errors_json(const struct conf_errors *errs)
{
	json_object *a = json_object_new_array();

	for (unsigned i = 0; i < errs->n; i++)
		json_object_array_add(a, json_object_new_string(errs->msg[i]));
	if (errs->count > errs->n) {
		char m[96];

		snprintf(m, sizeof(m), "%u more errors not shown", errs->count - errs->n);
		json_object_array_add(a, json_object_new_string(m));
	}
	return a;
}

static void send_status(struct daemon *d);

static void log_conf_errors(const struct conf_errors *errs)
{
	for (unsigned i = 0; i < errs->n; i++)
		log_err("%s", errs->msg[i]);
	if (errs->count > errs->n)
		log_err("%u more errors not shown", errs->count - errs->n);
}

/* Each peer is sent to from the socket bound to the address its route
 * uses. (Its Error Indication budgets are the workers' own: see dp.c.) */
static void init_peers(struct daemon *d, struct state *s)
{
	for (uint32_t i = 0; i < s->n_peers; i++) {
		struct peer *p = s->peers[i];

		__atomic_store_n(&p->sock, dp_pick_sock(&d->dp, (struct sockaddr *)&p->sa, p->salen),
				 __ATOMIC_RELAXED);
	}
}

static void rt_free(struct rt_tunnel *t)
{
	free(t->t.name);
	free(t->t.ue);
}

/* Runtime tunnels the state left out (they collide with the file, or name a
 * peer that is gone; the warning named them) are dropped, not kept hidden. */
static void rt_keep_live(struct daemon *d)
{
	const struct state *s = d->st;
	uint32_t n = 0;

	for (uint32_t i = 0; i < d->n_rt; i++) {
		uint32_t k = state_lookup_teid(s, d->rt[i].t.from_teid);

		json_object *f;

		if (k != TUNNEL_NONE && (s->tunnels[k].flags & TUNNEL_RUNTIME) &&
		    !strcmp(tunnel_name(s, &s->tunnels[k]), d->rt[i].t.name)) {
			d->rt[n++] = d->rt[i];
			continue;
		}
		f = json_object_new_object();
		json_object_object_add(f, "tunnel", json_object_new_string(d->rt[i].t.name));
		daemon_event(d, CTL_EV_TUNNEL_REMOVED, f);
		rt_free(&d->rt[i]);
	}
	d->n_rt = n;
}

/* Build a state from c (taken over; NULL: the running config) and the
 * runtime tunnels, publish it, and carry the tunnel counters over. */
static int apply(struct daemon *d, struct conf *c, char **collide)
{
	struct state *s, *old;
	int r;

	if (c)
		r = state_new(c, d->rt, d->n_rt, d->st, d->n_workers, &s, collide);
	else
		r = state_rebuild(d->st, d->rt, d->n_rt, &s, collide);
	if (r < 0)
		return r;
	init_peers(d, s);
	old = dp_swap(&d->dp, s);
	state_carry_counters(s, old);
	d->st = s;
	state_free(old);
	rt_keep_live(d);
	/* Parsing a big file leaves the heap full of freed blocks: give them back. */
	malloc_trim(0);
	return 0;
}

static bool same_addr(const struct conf_addr *a, const struct conf_addr *b)
{
	return conf_addr_same(a, b) && a->port == b->port;
}

static bool same_str(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static bool same_tun(const struct conf_tun *a, const struct conf_tun *b)
{
	if (a->present != b->present || strcmp(a->name, b->name) || a->mtu != b->mtu ||
	    a->n_addrs != b->n_addrs)
		return false;
	for (unsigned i = 0; i < a->n_addrs; i++)
		if (!same_addr(&a->addrs[i].addr, &b->addrs[i].addr) || a->addrs[i].plen != b->addrs[i].plen)
			return false;
	return true;
}

/* Settings that only a restart changes: where the file changed them, warn;
 * then the new configuration takes the running ones, so that it says what
 * runs (a tun the file adds is not there, one it removes still is).
 * Returns 0, or -ENOMEM. */
static int keep_static(const struct conf *old, struct conf *c)
{
	bool listen = c->n_listen == old->n_listen;
	char *path = strdup(old->control.path);
	char *group = old->control.group ? strdup(old->control.group) : NULL;

	for (unsigned i = 0; listen && i < c->n_listen; i++)
		listen = same_addr(&c->listen[i], &old->listen[i]);
	if (c->workers != old->workers)
		log_warn("workers changed from %u to %u: applies after a restart, ignoring", old->workers, c->workers);
	if (!listen)
		log_warn("listen changed: applies after a restart, ignoring");
	if (!same_tun(&c->tun, &old->tun))
		log_warn("tun changed: applies after a restart, ignoring");
	if (!same_str(c->control.path, old->control.path) || !same_str(c->control.group, old->control.group) ||
	    c->control.mode != old->control.mode || c->control.max_clients != old->control.max_clients ||
	    c->control.idle_timeout != old->control.idle_timeout)
		log_warn("control changed: applies after a restart, ignoring");
	if (!same_addr(&c->metrics.listen, &old->metrics.listen) || c->metrics.enabled != old->metrics.enabled)
		log_warn("metrics changed: applies after a restart, ignoring");

	if (!path || (old->control.group && !group)) {
		free(path);
		free(group);
		return -ENOMEM;
	}
	c->workers = old->workers;
	c->n_listen = old->n_listen;
	memcpy(c->listen, old->listen, sizeof(c->listen));
	c->tun = old->tun;
	c->metrics = old->metrics;
	free(c->control.path);
	free(c->control.group);
	c->control = old->control;
	c->control.path = path;
	c->control.group = group;
	return 0;
}

static void reload_event(struct daemon *d, const char *result)
{
	json_object *f = json_object_new_object();

	json_object_object_add(f, "result", json_object_new_string(result));
	daemon_event(d, CTL_EV_RELOAD, f);
}

/* The end of a reload (r < 0: it failed, the running state stays): counted,
 * systemd told, STATUS= with the live figures again at once (not
 * "Reloading" until the next tick), the monitor event. */
static void reload_done(struct daemon *d, int r)
{
	d->reloads++;
	d->last_reload = r < 0;
	sysd_ready();
	send_status(d);
	reload_event(d, r < 0 ? "failed" : "ok");
}

int daemon_reload(struct daemon *d, json_object **errors, json_object **warnings)
{
	struct conf_errors errs = { 0 };
	struct conf *c = NULL;
	char *collide = NULL;
	int r;

	*errors = NULL;
	if (warnings)
		*warnings = NULL;
	sysd_reloading();
	log_info("reloading %s", d->conf_file);
	r = conf_read_file(d->conf_file, &c, &errs);
	if (r < 0) {
		log_conf_errors(&errs);
		log_err("reload failed: the running configuration stays");
		*errors = errors_json(&errs);
		conf_errors_fini(&errs);
		reload_done(d, -EINVAL);
		return -EINVAL;
	}
	conf_errors_fini(&errs);
	if ((r = keep_static(d->st->conf, c)) < 0) {
		conf_free(c);
	} else {
		log_set_level(c->log_level);
		r = apply(d, c, &collide);
	}
	if (collide) {
		/* One warning a tunnel, a line each. */
		if (warnings)
			*warnings = json_object_new_array();
		for (char *w = collide, *next; w; w = next) {
			if ((next = strchr(w, '\n')))
				*next++ = '\0';
			log_warn("%s: dropped", w);
			if (warnings)
				json_object_array_add(*warnings, json_object_new_string(w));
		}
		free(collide);
	}
	if (r < 0) {
		log_err("reload failed: %s", strerror(-r));
		*errors = json_object_new_array();
		json_object_array_add(*errors, json_object_new_string(strerror(-r)));
	} else {
		log_info("configuration reloaded: %u peers, %u tunnels", d->st->n_peers, d->st->n_tunnels);
	}
	reload_done(d, r);
	return r;
}

int daemon_tunnel_add(struct daemon *d, const struct rt_tunnel *t, char *err, size_t errlen)
{
	struct rt_tunnel *rt, *x;
	char *collide = NULL;
	int r;

	if (d->n_rt >= DAEMON_MAX_RUNTIME) {
		snprintf(err, errlen, "too many runtime tunnels (at most %d)", DAEMON_MAX_RUNTIME);
		return -ENOSPC;
	}
	if (state_find_tunnel(d->st, t->t.name) != TUNNEL_NONE) {
		snprintf(err, errlen, "a tunnel named \"%s\" exists", t->t.name);
		return -EEXIST;
	}
	if (state_lookup_teid(d->st, t->t.from_teid) != TUNNEL_NONE) {
		snprintf(err, errlen, "from TEID 0x%x is in use", t->t.from_teid);
		return -EEXIST;
	}
	if (conf_peer_index(d->st->conf, t->from) < 0 || conf_peer_index(d->st->conf, t->to) < 0) {
		snprintf(err, errlen, "unknown peer \"%s\"",
			 conf_peer_index(d->st->conf, t->from) < 0 ? t->from : t->to);
		return -ENOENT;
	}
	if (t->t.n_ue && !d->st->conf->tun.present) {
		snprintf(err, errlen, "ue needs a tun device in the config");
		return -EINVAL;
	}
	for (unsigned i = 0; i < t->t.n_ue; i++) {
		const struct conf_addr *a = &t->t.ue[i];
		uint32_t k = state_lookup_ue(d->st, a->family, a->addr);
		char as[INET6_ADDRSTRLEN];

		if (k != TUNNEL_NONE) {
			snprintf(err, errlen, "ue address %s is in use by tunnel \"%s\"",
				 conf_addr_str(a, as, sizeof(as)), tunnel_name(d->st, &d->st->tunnels[k]));
			return -EEXIST;
		}
	}
	if (!(rt = realloc(d->rt, (d->n_rt + 1) * sizeof(*rt))))
		return -ENOMEM;
	d->rt = rt;
	x = &rt[d->n_rt];
	*x = *t;
	x->t.name = strdup(t->t.name);
	x->t.ue = t->t.n_ue ? malloc(t->t.n_ue * sizeof(*x->t.ue)) : NULL;
	if (!x->t.name || (t->t.n_ue && !x->t.ue)) {
		rt_free(x);
		return -ENOMEM;
	}
	if (t->t.n_ue)
		memcpy(x->t.ue, t->t.ue, t->t.n_ue * sizeof(*x->t.ue));
	d->n_rt++;
	if ((r = apply(d, NULL, &collide)) < 0) {
		rt_free(&d->rt[--d->n_rt]);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	/* Not left out: name, TEID, peers and ue addresses were checked above. */
	free(collide);
	{
		json_object *f = json_object_new_object();

		json_object_object_add(f, "tunnel", json_object_new_string(t->t.name));
		daemon_event(d, CTL_EV_TUNNEL_ADDED, f);
	}
	log_info("tunnel %s added", t->t.name);
	return 0;
}

int daemon_tunnel_del(struct daemon *d, const char *name, char *err, size_t errlen)
{
	struct rt_tunnel removed;
	uint32_t i;
	int r;

	for (i = 0; i < d->n_rt && strcmp(d->rt[i].t.name, name); i++)
		;
	if (i == d->n_rt) {
		snprintf(err, errlen, state_find_tunnel(d->st, name) != TUNNEL_NONE ?
			 "tunnel \"%s\" comes from the config file: edit it and reload" :
			 "no runtime tunnel named \"%s\"", name);
		return -ENOENT;
	}
	removed = d->rt[i];
	d->rt[i] = d->rt[--d->n_rt];
	if ((r = apply(d, NULL, NULL)) < 0) {
		d->rt[d->n_rt++] = removed;   /* the tunnel stays: say so */
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	{
		json_object *f = json_object_new_object();

		json_object_object_add(f, "tunnel", json_object_new_string(name));
		daemon_event(d, CTL_EV_TUNNEL_REMOVED, f);
	}
	log_info("tunnel %s removed", name);
	rt_free(&removed);
	return 0;
}

/* ---- Echo path supervision (TS 29.281 7.2) ---- */

static void peer_set(struct daemon *d, struct peer *p, enum peer_state st, const char *why)
{
	json_object *f;

	if (__atomic_load_n(&p->state, __ATOMIC_RELAXED) == (int)st)
		return;
	__atomic_store_n(&p->state, st, __ATOMIC_RELAXED);
	f = json_object_new_object();
	json_object_object_add(f, "peer", json_object_new_string(p->name));
	json_object_object_add(f, "reason", json_object_new_string(why));
	if (st == PEER_DOWN) {
		p->down_count++;
		log_warn("peer %s is down: %s", p->name, why);
		daemon_event(d, CTL_EV_PEER_DOWN, f);
	} else {
		log_info("peer %s is up: %s", p->name, why);
		daemon_event(d, CTL_EV_PEER_UP, f);
	}
}

static void echo_send(struct daemon *d, struct peer *p, uint64_t now)
{
	uint8_t b[16];
	size_t n = gtpu_build_echo_req(b, sizeof(b), p->echo_seq);

	p->echo_sent_ns = now;
	if (n && dp_send(&d->dp, p->sock, b, n, (struct sockaddr *)&p->sa, p->salen) == 0) {
		p->echo_req_tx++;
		d->echo_req_tx++;
	}
}

/* The Echo Request of p that awaits its response (echo_seq), or none: the
 * workers read it too. The control thread alone writes it. */
static void echo_await(struct peer *p, bool pending)
{
	__atomic_store_n(&p->echo_wait, pending ? p->echo_seq | 0x10000u : 0, __ATOMIC_RELEASE);
}

static bool echo_pending(const struct peer *p)
{
	return __atomic_load_n(&p->echo_wait, __ATOMIC_RELAXED) != 0;
}

static void peer_check(struct daemon *d, struct peer *p, uint64_t now)
{
	const struct conf *c = d->st->conf;
	/* Taken and cleared at once: a worker's next response is not lost. */
	uint32_t rs = __atomic_exchange_n(&p->rsp_seq, 0, __ATOMIC_ACQUIRE);

	if (rs) {
		if (rs == __atomic_load_n(&p->echo_wait, __ATOMIC_RELAXED)) {   /* the pending one */
			uint64_t at = __atomic_load_n(&p->rsp_ns, __ATOMIC_RELAXED);

			p->rtt_us = at > p->echo_sent_ns ? (int64_t)(at - p->echo_sent_ns) / 1000 : 0;
			echo_await(p, false);
		}
		p->recovery = (int)__atomic_load_n(&p->rsp_recovery, __ATOMIC_RELAXED);
		peer_set(d, p, PEER_UP, "echo response");
	}
	if (__atomic_exchange_n(&p->seen, 0, __ATOMIC_RELAXED))
		peer_set(d, p, PEER_UP, "traffic");
	if (!p->echo || !c->echo.interval)
		return;
	if (echo_pending(p) && now >= p->echo_sent_ns + (uint64_t)c->echo.t3 * 1000000000u) {
		/* TS 29.060 7.8: "retransmitted if the total number of request
		 * attempts is less than N3-REQUESTS"; n3 = 0 still makes one. */
		if (++p->echo_tries < (c->echo.n3 ? c->echo.n3 : 1)) {
			echo_send(d, p, now);
		} else {
			echo_await(p, false);
			p->echo_timeouts++;
			peer_set(d, p, PEER_DOWN, "no echo response");
		}
	}
	if (!echo_pending(p) && now >= p->echo_next_ns) {
		p->echo_seq++;
		p->echo_tries = 0;
		echo_await(p, true);
		p->echo_next_ns = now + (uint64_t)c->echo.interval * 1000000000u;
		echo_send(d, p, now);
	}
}

/* Runs the supervision of every peer; returns the next time it is due. */
static uint64_t peers_check(struct daemon *d)
{
	const struct conf *c = d->st->conf;
	uint64_t now = mono_ns(), next = now + TICK_MAX_USEC * 1000ull;

	for (uint32_t i = 0; i < d->st->n_peers; i++) {
		struct peer *p = d->st->peers[i];
		uint64_t due;

		peer_check(d, p, now);
		if (!p->echo || !c->echo.interval)
			continue;
		due = echo_pending(p) ? p->echo_sent_ns + (uint64_t)c->echo.t3 * 1000000000u : p->echo_next_ns;
		if (due < next)
			next = due;
	}
	return next;
}

/* The timer fires when the first peer is due: timeouts are exact. */
static void arm_tick(struct daemon *d, uint64_t next_ns)
{
	uint64_t now = mono_ns();

	sd_event_source_set_time_relative(d->tick, next_ns > now ? (next_ns - now) / 1000 + 1 : 1);
	sd_event_source_set_enabled(d->tick, SD_EVENT_ONESHOT);
}

static void error_ind_event(struct daemon *d, const struct dp_event *ev)
{
	struct state *s = d->st;
	int pi = conf_peer_index(s->conf, ev->peer);
	uint32_t t = pi < 0 ? TUNNEL_NONE : state_lookup_to(s, (uint32_t)pi, ev->teid);
	json_object *f;
	char name[CONF_NAME_MAX + 1] = "";

	if (t == TUNNEL_NONE)
		return;   /* the tunnel went away since */
	state_count_err_ind(s, t);
	s->peers[pi]->err_ind_rx++;
	snprintf(name, sizeof(name), "%s", tunnel_name(s, &s->tunnels[t]));
	f = json_object_new_object();
	json_object_object_add(f, "peer", json_object_new_string(ev->peer));
	json_object_object_add(f, "teid", json_object_new_int64(ev->teid));
	json_object_object_add(f, "tunnel", json_object_new_string(name));
	daemon_event(d, CTL_EV_ERROR_INDICATION, f);
	log_ratelimited(LOG_LVL_NOTICE, "error indication from %s for tunnel %s (TEID 0x%x)",
			ev->peer, name, ev->teid);
	if (s->conf->error_indication.remove_tunnel && (s->tunnels[t].flags & TUNNEL_RUNTIME)) {
		char err[128];

		daemon_tunnel_del(d, name, err, sizeof(err));
	}
}

static void tun_lost_event(struct daemon *d)
{
	json_object *f;

	if (d->tun_lost)
		return;    /* one line for all workers */
	d->tun_lost = true;
	log_err("TUN device %s is gone (deleted?): endpoint tunnels drop as no_tun until gtpud restarts",
		d->tun.name);
	f = json_object_new_object();
	json_object_object_add(f, "device", json_object_new_string(d->tun.name));
	daemon_event(d, CTL_EV_TUN_LOST, f);
}

static int on_notify(sd_event_source *src, int fd, uint32_t revents, void *ud)
{
	struct daemon *d = ud;
	struct dp_event ev;
	uint64_t v;
	unsigned n;

	if (read(fd, &v, sizeof(v)) < 0) {
		/* EAGAIN: a spurious wake-up */
	}
	arm_tick(d, peers_check(d));
	for (n = 0; n < 1024 && dp_event_pop(&d->dp, &ev); n++)
		if (ev.kind == DP_EV_ERROR_IND)
			error_ind_event(d, &ev);
		else if (ev.kind == DP_EV_TUN_LOST)
			tun_lost_event(d);
	/* More may wait: come back once the loop's other sources had a turn. */
	v = 1;
	if (n == 1024 && write(fd, &v, sizeof(v)) < 0) {
		/* EAGAIN: the counter is full, a wake-up is pending anyway */
	}
	return 0;
}

static int on_tick(sd_event_source *src, uint64_t usec, void *ud)
{
	struct daemon *d = ud;

	arm_tick(d, peers_check(d));
	return 0;
}

/* The status line, with the receive rate of the last period. */
static void send_status(struct daemon *d)
{
	unsigned up = 0;

	for (uint32_t i = 0; i < d->st->n_peers; i++)
		up += __atomic_load_n(&d->st->peers[i]->state, __ATOMIC_RELAXED) == PEER_UP;
	sysd_status("%u/%u peers up, %u tunnels, %.1f kpps", up, d->st->n_peers,
		    d->st->n_tunnels, d->pps / 1000);
}

static void update_status(struct daemon *d)
{
	struct wstats st;
	uint64_t now = mono_ns();

	dp_stats(&d->dp, &st);
	if (d->last_rx_ns && now > d->last_rx_ns)
		d->pps = (double)(st.rx_pkts - d->last_rx) * 1e9 / (double)(now - d->last_rx_ns);
	d->last_rx = st.rx_pkts;
	d->last_rx_ns = now;
	send_status(d);
}

static int on_status(sd_event_source *src, uint64_t usec, void *ud)
{
	update_status(ud);
	sd_event_source_set_time_relative(src, STATUS_USEC);
	return 0;
}

static int on_sighup(sd_event_source *s, const struct signalfd_siginfo *si, void *ud)
{
	json_object *errors, *warnings;

	daemon_reload(ud, &errors, &warnings);
	json_object_put(errors);
	json_object_put(warnings);
	return 0;
}

static int on_exit_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *ud)
{
	log_info("signal %d: shutting down", si->ssi_signo);
	sysd_stopping();
	return sd_event_exit(sd_event_source_get_event(s), 0);
}

/* ---- start-up ---- */

static char *render_metrics(void *ud);

static int start_control(struct daemon *d, const struct conf *c, int inherited, char *err, size_t errlen)
{
	struct ctl_opts o = { c->control.path, c->control.group, c->control.mode,
			      c->control.max_clients, c->control.idle_timeout };
	int r;

	if (c->control.group && !getgrnam(c->control.group)) {
		/* The default group is optional; one the file names is expected. */
		if (c->control.group_default)
			log_info("control group \"%s\" does not exist: only root and gtpud's own user "
				 "may change anything", c->control.group);
		else
			log_warn("control group \"%s\" does not exist: only root and gtpud's own user "
				 "may change anything, ignoring", c->control.group);
		o.group = NULL;
	}
	r = ctl_new(d->ev, d, &o, inherited, &d->ctl);
	if (r < 0)
		snprintf(err, errlen, "control socket %s: %s", c->control.path, strerror(-r));
	return r;
}

static int start_tun(struct daemon *d, const struct conf *c, char *err, size_t errlen)
{
	int r;

	if (!c->tun.present)
		return 0;
	r = tun_open(&c->tun, d->n_workers, &d->tun, err, errlen);
	if (r < 0)
		return r;
	d->has_tun = true;
	for (unsigned w = 0; w < d->n_workers; w++) {
		dp_set_tun(&d->dp, w, d->tun.fds[w]);
		d->tun.fds[w] = -1;   /* the datapath owns them now */
	}
	d->dp.tun_mtu = d->tun.mtu;
	return 0;
}

static int fail(int status, int r, const char *msg)
{
	log_err("%s", msg);
	sysd_fatal(r, msg);
	return status;
}

static int run(struct daemon *d, struct conf *c)
{
	int gtpu_fds[DP_MAX_SOCKS], ctl_fd = -1, r;
	unsigned n_gtpu = 0;
	char err[512];
	sigset_t ss;

	d->n_workers = c->workers;
	r = sysd_listen_fds(gtpu_fds, DP_MAX_SOCKS, &n_gtpu, &ctl_fd, err, sizeof(err));
	if (r < 0)
		return conf_free(c), fail(EXIT_STARTUP, r, err);
	if (n_gtpu && d->n_workers > 1) {
		log_warn("sockets passed by systemd serve one worker: workers = %u, ignoring", d->n_workers);
		d->n_workers = 1;
	}
	r = dp_init(&d->dp, c, d->n_workers, gtpu_fds, n_gtpu, err, sizeof(err));
	if (r < 0)
		return conf_free(c), fail(EXIT_STARTUP, r, err);
	if ((r = start_tun(d, c, err, sizeof(err))) < 0)
		return conf_free(c), fail(EXIT_STARTUP, r, err);
	sigemptyset(&ss);
	sigaddset(&ss, SIGTERM);
	sigaddset(&ss, SIGINT);
	sigaddset(&ss, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &ss, NULL);
	signal(SIGPIPE, SIG_IGN);
	if ((r = sd_event_default(&d->ev)) < 0)
		return conf_free(c), fail(EXIT_STARTUP, r, "sd_event_default failed");
	if ((r = start_control(d, c, ctl_fd, err, sizeof(err))) < 0)
		return conf_free(c), fail(EXIT_STARTUP, r, err);
	if (c->metrics.enabled) {
		r = http_new(d->ev, &c->metrics.listen, render_metrics, d, &d->http);
		if (r < 0) {
			snprintf(err, sizeof(err), "metrics endpoint: %s", strerror(-r));
			return conf_free(c), fail(EXIT_STARTUP, r, err);
		}
	}
	r = state_new(c, NULL, 0, NULL, d->n_workers, &d->st, NULL);
	if (r < 0)
		return fail(EXIT_STARTUP, r, "out of memory building the tables");
	init_peers(d, d->st);
	malloc_trim(0);
	if ((r = dp_start(&d->dp, d->st)) < 0)
		return fail(EXIT_STARTUP, r, "cannot start the workers");
	sd_event_add_signal(d->ev, NULL, SIGTERM, on_exit_signal, d);
	sd_event_add_signal(d->ev, NULL, SIGINT, on_exit_signal, d);
	sd_event_add_signal(d->ev, NULL, SIGHUP, on_sighup, d);
	sd_event_add_io(d->ev, &d->notify_src, d->dp.notify_fd, EPOLLIN, on_notify, d);
	sd_event_add_time_relative(d->ev, &d->tick, CLOCK_MONOTONIC, 1, 1000, on_tick, d);
	sd_event_add_time_relative(d->ev, &d->status_timer, CLOCK_MONOTONIC, 0, 0, on_status, d);
	sd_event_source_set_enabled(d->status_timer, SD_EVENT_ON);
	sysd_watchdog(d->ev);
	log_info("gtpud %s started: %u peers, %u tunnels, %u workers", PACKAGE_VERSION,
		 d->st->n_peers, d->st->n_tunnels, d->n_workers);
	sysd_ready();
	r = sd_event_loop(d->ev);
	return r < 0 ? fail(EXIT_STARTUP, r, "event loop failed") : EXIT_OK;
}

int daemon_main(const char *conf_file)
{
	struct daemon d = { 0 };
	struct conf_errors errs = { 0 };
	struct conf *c = NULL;
	int r, status;

	d.conf_file = conf_file;
	d.last_reload = -1;
	d.start_time = time(NULL);
	d.start_ns = mono_ns();
	d.tun.n_fds = 0;
	r = conf_read_file(conf_file, &c, &errs);
	if (r < 0) {
		log_conf_errors(&errs);
		conf_errors_fini(&errs);
		/* An unreadable file is a start-up failure, an invalid one a config error. */
		status = r == -EINVAL ? EXIT_CONFIG : EXIT_STARTUP;
		sysd_fatal(r, r == -EINVAL ? "invalid configuration" : "cannot read configuration");
		return status;
	}
	conf_errors_fini(&errs);
	log_set_level(c->log_level);
	status = run(&d, c);
	sysd_stopping();
	dp_stop(&d.dp);
	http_free(d.http);
	ctl_free(d.ctl);
	sd_event_source_unref(d.tick);
	sd_event_source_unref(d.status_timer);
	sd_event_source_unref(d.notify_src);
	sd_event_unref(d.ev);
	dp_fini(&d.dp);
	state_free(d.st);
	for (uint32_t i = 0; i < d.n_rt; i++)
		rt_free(&d.rt[i]);
	free(d.rt);
	if (d.has_tun)
		tun_close(&d.tun);
	log_info("stopped");
	return status;
}

static char *render_metrics(void *ud)
{
	return ctl_cmds_metrics_text(ud);
}
