/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The daemon's journal lines about changes (daemon_log.h): what a reload
 * changed, and tunnel changes summed up past DLOG_TUNNEL_LINES a second. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon_log.h"
#include "log.h"
#include "util.h"

/* ---- tunnel changes ---- */

static int on_flush(sd_event_source *s, uint64_t usec, void *ud)
{
	struct dlog *l = ud;

	if (l->added || l->removed)
		log_info("tunnel changes not logged one by one in the last second: %" PRIu64 " added, %" PRIu64
			 " removed (the last by %s)", l->added, l->removed, l->by);
	l->added = l->removed = 0;
	return 0;
}

void dlog_init(struct dlog *l, sd_event *ev)
{
	memset(l, 0, sizeof(*l));
	l->ev = ev;
	if (ev && sd_event_add_time(ev, &l->flush, CLOCK_MONOTONIC, 0, 0, on_flush, l) >= 0)
		sd_event_source_set_enabled(l->flush, SD_EVENT_OFF);
}

void dlog_fini(struct dlog *l)
{
	on_flush(NULL, 0, l);
	l->flush = sd_event_source_unref(l->flush);
}

void dlog_tunnels(struct dlog *l, bool added, const char *name, const char *detail, uint32_t n,
		  const char *by)
{
	uint64_t now = mono_ns();
	const char *what = added ? "added" : "removed";

	if (now - l->window_ns >= 1000000000u) {
		l->window_ns = now;
		l->lines = 0;
	}
	if (l->lines < DLOG_TUNNEL_LINES) {
		l->lines++;
		if (n == 1)
			log_info("tunnel %s %s%s%s by %s", name, what, detail ? ": " : "", detail ? detail : "", by);
		else
			log_info("%u tunnels %s in one batch (%s first) by %s", n, what, name, by);
		return;
	}
	/* Past the lines of this second: one summary at its end. */
	*(added ? &l->added : &l->removed) += n;
	snprintf(l->by, sizeof(l->by), "%s", by);
	if (l->flush && sd_event_source_get_enabled(l->flush, NULL) == 0) {
		sd_event_source_set_time(l->flush, (l->window_ns + 1000000000u) / 1000);
		sd_event_source_set_enabled(l->flush, SD_EVENT_ONESHOT);
	}
}

/* ---- what a reload changed ---- */

const char *dlog_count(char *buf, size_t len, uint64_t n, const char *one, const char *many)
{
	snprintf(buf, len, "%" PRIu64 " %s", n, n == 1 ? one : many);
	return buf;
}

const char *dlog_signal(int sig, char *buf, size_t len)
{
	const char *abbrev = sigabbrev_np(sig);

	if (abbrev)
		snprintf(buf, len, "SIG%s", abbrev);
	else
		snprintf(buf, len, "signal %d", sig);
	return buf;
}

/* A kind of change: how many, and the first few names. */
struct change {
	const char *what;         /* "peers added" */
	uint32_t n;
	char names[DLOG_NAMES * (CONF_NAME_MAX + 2) + 8];
};

static void change_add(struct change *ch, const char *name)
{
	size_t off = strlen(ch->names);

	if (ch->n < DLOG_NAMES)
		snprintf(ch->names + off, sizeof(ch->names) - off, "%s%s", ch->n ? ", " : "", name);
	else if (ch->n == DLOG_NAMES)
		snprintf(ch->names + off, sizeof(ch->names) - off, ", ...");
	ch->n++;
}

static bool same_end(const struct state *old, const struct rt_tunnel *row, const struct conf *c,
		     const struct conf_tunnel *t)
{
	if (strcmp(row->from, c->peers[t->from_peer].name) || strcmp(row->to, c->peers[t->to_peer].name) ||
	    row->t.from_teid != t->from_teid || row->t.to_teid != t->to_teid || row->t.qfi != t->qfi ||
	    row->t.rate != t->rate || row->t.burst != t->burst || row->t.n_ue != t->n_ue)
		return false;
	for (unsigned k = 0; k < t->n_ue; k++)
		if (!conf_addr_same(&row->t.ue[k], &t->ue[k]))
			return false;
	(void)old;
	return true;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void tunnel_changes(const struct state *old, const struct conf *c, struct change *ch)
{
	uint32_t old_file = old->n_tunnels - old->n_runtime, kept = 0;
	const char **names;

	for (uint32_t i = 0; i < c->n_tunnels; i++) {
		const struct conf_tunnel *t = &c->tunnels[i];
		uint32_t k = state_find_tunnel(old, t->name);
		struct rt_tunnel row;

		if (k == TUNNEL_NONE) {
			change_add(&ch[0], t->name);
			continue;
		}
		if (old->tunnels[k].flags & TUNNEL_RUNTIME)
			continue;   /* a runtime tunnel in the way: warned about on its own */
		kept++;
		state_tunnel_row(old, k, &row);
		if (!same_end(old, &row, c, t))
			change_add(&ch[2], t->name);
	}
	if (kept >= old_file)
		return;
	/* Some of the file's tunnels are gone: name a few. */
	ch[1].n = 0;
	names = malloc((c->n_tunnels ? c->n_tunnels : 1) * sizeof(*names));
	if (!names) {
		ch[1].n = old_file - kept;
		return;
	}
	for (uint32_t i = 0; i < c->n_tunnels; i++)
		names[i] = c->tunnels[i].name;
	qsort(names, c->n_tunnels, sizeof(*names), cmp_str);
	STATE_FOR_EACH(old, i) {
		const char *name = tunnel_name(old, &old->tunnels[i]);

		if (old->tunnels[i].flags & TUNNEL_RUNTIME)
			continue;
		if (!bsearch(&name, names, c->n_tunnels, sizeof(*names), cmp_str))
			change_add(&ch[1], name);
	}
	free(names);
}

static void peer_changes(const struct state *old, const struct conf *c, struct change *ch)
{
	for (uint32_t j = 0; j < c->n_peers; j++) {
		const struct conf_peer *np = &c->peers[j];
		uint32_t i;

		for (i = 0; i < old->n_peers && strcmp(old->peers[i]->name, np->name); i++)
			;
		if (i == old->n_peers)
			change_add(&ch[0], np->name);
		else if (!conf_addr_same(&old->peers[i]->addr, &np->addr) ||
			 old->peers[i]->addr.port != np->addr.port || old->peers[i]->echo != np->echo)
			change_add(&ch[2], np->name);
	}
	for (uint32_t i = 0; i < old->n_peers; i++)
		if (conf_peer_index(c, old->peers[i]->name) < 0)
			change_add(&ch[1], old->peers[i]->name);
}

/* The settings a reload applies besides peers and tunnels. */
static void setting_changes(const struct conf *o, const struct conf *c, struct change *ch)
{
	if (o->log_level != c->log_level)
		change_add(ch, "log_level");
	if (memcmp(&o->echo, &c->echo, sizeof(o->echo)))
		change_add(ch, "echo");
	if (memcmp(&o->error_indication, &c->error_indication, sizeof(o->error_indication)))
		change_add(ch, "error_indication");
	if (o->max_runtime != c->max_runtime)
		change_add(ch, "max_runtime_tunnels");
}

void dlog_reload(const struct state *old, const struct conf *c, char *line, size_t len)
{
	struct change ch[7] = {
		{ .what = "peers added" }, { .what = "peers removed" }, { .what = "peers changed" },
		{ .what = "tunnels added" }, { .what = "tunnels removed" }, { .what = "tunnels changed" },
		{ .what = "settings changed" },
	};
	size_t off = 0;

	peer_changes(old, c, ch);
	tunnel_changes(old, c, ch + 3);
	setting_changes(old->conf, c, ch + 6);
	snprintf(line, len, "nothing changed");
	for (unsigned k = 0; k < 7; k++) {
		if (!ch[k].n || off >= len)
			continue;
		if (k == 6)
			off += (size_t)snprintf(line + off, len - off, "%s%s: %s", off ? "; " : "", ch[k].what,
						ch[k].names);
		else
			off += (size_t)snprintf(line + off, len - off, "%s%s: %u (%s)", off ? "; " : "", ch[k].what,
						ch[k].n, ch[k].names);
	}
}
