/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The control plane of gtpud on one sd-event loop: start-up in order and
 * shutdown in reverse, SIGHUP reload, Echo path supervision, events from the
 * workers, the control socket, the metrics endpoint and systemd notification. */
#include "daemon.h"

#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <malloc.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl.h"
#include "ctl_cmds.h"
#include "ctl_proto.h"
#include "gtpu.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "pfcp.h"
#include "sd.h"
#include "privs.h"
#include "statefile.h"
#include "tunnel.h"
#include "util.h"

#define TICK_MAX_USEC 1000000   /* the supervision looks at least this often */
#define STATUS_USEC 5000000      /* STATUS= refresh */
#define DROPS_USEC 250000        /* the workers' recent drops to "monitor drops" clients (and the debug log) */
#define DROPS_IDLE_USEC 1000000  /* ... and, while nobody watches, passed over */
#define STATE_SAVE_USEC 100000   /* the state file is written at most this often */

void daemon_stats_xdp(struct daemon *d, struct wstats *st, struct xdp_totals *out)
{
	struct xdp_totals t;

	xdp_totals(d->xdp, &t);
	st->rx_pkts += t.rx_pkts;
	st->rx_bytes += t.rx_bytes;
	/* What the kernel lost after the program relayed it is a send error,
	 * as a failed sendmmsg is on the sockets (its bytes are not reported:
	 * tx_bytes keeps them). */
	st->tx_pkts += t.fwd_pkts;
	st->tx_bytes += t.rx_bytes;
	st->forwarded += t.fwd_pkts;
	st->drops[DROP_SEND_ERROR] += t.tx_lost;
	if (out)
		*out = t;
}

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

/* ---- runtime tunnels: batches of changes, applied in place ---- */

/* What every worker is past is freed; a change is stamped with the
 * generation that follows it. */
static void reclaim(struct daemon *d)
{
	state_reclaim(d->st, dp_safe_gen(&d->dp));
}

static void commit(struct daemon *d)
{
	state_commit(d->st, dp_advance(&d->dp));
}

void daemon_commit(struct daemon *d)
{
	commit(d);
}

uint32_t daemon_tunnel_room(const struct conf *c)
{
	uint64_t n = (uint64_t)c->max_runtime + (c->pfcp.enabled ? 2ull * c->pfcp.max_sessions : 0);

	state_dynamic_peers = c->pfcp.enabled ? c->pfcp.max_peers : 0;
	return n > TABLE_MAX_TUNNELS ? TABLE_MAX_TUNNELS : (uint32_t)n;
}

static void state_save_later(struct daemon *d);

void daemon_batch_init(struct daemon_batch *b, bool numbered)
{
	memset(b, 0, sizeof(*b));
	b->numbered = numbered;
}

void daemon_batch_fini(struct daemon_batch *b)
{
	free(b->rows);
	free(b->lines);
	free(b->name_off);
	free(b->names);
	free(b->ue);
	for (uint32_t i = 0; i < b->n_err; i++)
		free(b->err[i].msg);
	free(b->err);
	memset(b, 0, sizeof(*b));
}

/* Records the error of a line. The errors are sorted by line when the
 * batch ends (batch_errors); beyond BATCH_ERRORS_KEPT they are counted. */
#define BATCH_ERRORS_KEPT 1000

static void batch_error(struct daemon_batch *b, uint32_t line, int code, const char *msg)
{
	char *m;

	if (!b->n_errors++)
		b->code = code;
	if (b->n_err == BATCH_ERRORS_KEPT || !(m = strdup(msg)))
		return;
	if (b->n_err == b->err_cap) {
		uint32_t cap = b->err_cap ? b->err_cap * 2 : 16;
		struct daemon_batch_err *e = realloc(b->err, cap * sizeof(*e));

		if (!e) {
			free(m);
			return;
		}
		b->err = e;
		b->err_cap = cap;
	}
	b->err[b->n_err++] = (struct daemon_batch_err){ line, m };
}

static int cmp_err(const void *a, const void *b)
{
	const struct daemon_batch_err *x = a, *y = b;

	return x->line < y->line ? -1 : x->line > y->line;
}

json_object *daemon_batch_errors(struct daemon_batch *b)
{
	json_object *a = json_object_new_array();
	char m[400];
	uint32_t n = b->n_err < CONF_MAX_ERRORS ? b->n_err : CONF_MAX_ERRORS;

	qsort(b->err, b->n_err, sizeof(*b->err), cmp_err);
	for (uint32_t i = 0; i < n; i++) {
		if (b->numbered && b->err[i].line)
			snprintf(m, sizeof(m), "line %u: %s", b->err[i].line, b->err[i].msg);
		else
			snprintf(m, sizeof(m), "%s", b->err[i].msg);
		json_object_array_add(a, json_object_new_string(m));
	}
	if (b->n_errors > n) {
		snprintf(m, sizeof(m), "%u more errors not shown", b->n_errors - n);
		json_object_array_add(a, json_object_new_string(m));
	}
	return a;
}

static void *grow(void *p, uint32_t *cap, uint32_t need, size_t size)
{
	uint32_t c = *cap ? *cap : 64;
	void *q;

	if (need <= *cap)
		return p;
	while (c < need)
		c *= 2;
	if (!(q = realloc(p, (size_t)c * size)))
		return NULL;
	*cap = c;
	return q;
}

struct spec_check {
	struct daemon_batch *b;
	uint32_t line;
	int code;
};

static int spec_peer(void *ud, const char *name)
{
	return conf_peer_index(((struct spec_check *)ud)->b->conf, name);
}

static void spec_err(void *ud, enum tunnel_key k, int index, const char *msg)
{
	struct spec_check *c = ud;
	char m[320];

	if (index >= 0)
		snprintf(m, sizeof(m), "%s[%d]: %s", tunnel_key_name(k), index, msg);
	else
		snprintf(m, sizeof(m), "%s: %s", tunnel_key_name(k), msg);
	c->code = !strncmp(msg, "unknown peer", 12) ? -ENOENT : -EINVAL;
	batch_error(c->b, c->line, c->code, m);
}

/* The tunnel's rules once more, now with the running configuration's peers
 * and TUN device: the same tunnel_check gtpuctl ran without them. */
static int spec_check(struct daemon *d, struct daemon_batch *b, const struct ctl_tunnel_spec *sp,
		      uint32_t line, struct conf_tunnel *ct, struct conf_addr *ue)
{
	struct spec_check c = { b, line, 0 };
	struct tunnel_ctx ctx = { spec_peer, &c, d->st->conf->tun.present, spec_err };
	char us[CONF_MAX_UE][64];
	const char *up[CONF_MAX_UE];
	struct tunnel_in in = {
		.has = TK_BIT(TK_NAME) | TK_BIT(TK_FROM_PEER) | TK_BIT(TK_FROM_TEID) | TK_BIT(TK_TO_PEER) |
		       TK_BIT(TK_TO_TEID) | (sp->n_ue ? TK_BIT(TK_UE) : 0) | (sp->qfi >= 0 ? TK_BIT(TK_QFI) : 0) |
		       TK_BIT(TK_RATE) | TK_BIT(TK_BURST),
		.name = sp->name, .from_peer = sp->from_peer, .to_peer = sp->to_peer,
		.from_teid = sp->from_teid, .to_teid = sp->to_teid, .qfi = sp->qfi,
		.rate = (int64_t)sp->rate, .burst = (int64_t)sp->burst, .n_ue = sp->n_ue, .ue = up,
	};

	b->conf = d->st->conf;
	for (unsigned i = 0; i < sp->n_ue && i < CONF_MAX_UE; i++)
		up[i] = conf_addr_str(&sp->ue[i], us[i], sizeof(us[i]));
	tunnel_check(&in, &ctx, ct, ue);
	return c.code;
}

int daemon_batch_spec(struct daemon *d, struct daemon_batch *b, const struct ctl_tunnel_spec *sp,
		      uint32_t line)
{
	size_t nlen = strlen(sp->name) + 1;
	struct conf_tunnel *t, ct;
	struct conf_addr ue[CONF_MAX_UE];
	uint32_t cap;
	void *p;
	int r;

	if ((r = spec_check(d, b, sp, line, &ct, ue)) < 0)
		return r;
	cap = b->cap;
	if (!(p = grow(b->rows, &cap, b->n + 1, sizeof(*b->rows))))
		goto oom;
	b->rows = p;
	cap = b->cap;
	if (!(p = grow(b->lines, &cap, b->n + 1, sizeof(*b->lines))))
		goto oom;
	b->lines = p;
	cap = b->cap;
	if (!(p = grow(b->name_off, &cap, b->n + 1, sizeof(*b->name_off))))
		goto oom;
	b->name_off = p;
	b->cap = cap;
	if (b->names_len + nlen > b->names_cap) {
		size_t nc = b->names_cap ? b->names_cap * 2 : 4096;

		while (nc < b->names_len + nlen)
			nc *= 2;
		if (!(p = realloc(b->names, nc)))
			goto oom;
		b->names = p;
		b->names_cap = nc;
	}
	if (sp->n_ue) {
		uint32_t uc = b->ue_cap;

		if (!(p = grow(b->ue, &uc, b->n_ue + sp->n_ue, sizeof(*b->ue))))
			goto oom;
		b->ue = p;
		b->ue_cap = uc;
	}
	t = &b->rows[b->n];
	*t = ct;
	t->ue = (struct conf_addr *)(uintptr_t)b->n_ue;   /* an offset until sealed */
	if (ct.n_ue)
		memcpy(b->ue + b->n_ue, ue, ct.n_ue * sizeof(*ue));
	b->n_ue += sp->n_ue;
	memcpy(b->names + b->names_len, sp->name, nlen);
	b->name_off[b->n] = (uint32_t)b->names_len;
	b->names_len += nlen;
	b->lines[b->n++] = line;
	return 0;
oom:
	batch_error(b, line, -ENOMEM, "out of memory");
	return -ENOMEM;
}

int daemon_batch_line(struct daemon *d, struct daemon_batch *b, const char *text, uint32_t line)
{
	struct ctl_tunnel_spec sp;
	char err[256];
	int r = ctl_tunnel_line_parse(text, &sp, err, sizeof(err));

	if (r < 0) {
		batch_error(b, line, -EINVAL, err);
		return r;
	}
	return r ? daemon_batch_spec(d, b, &sp, line) : 0;
}

/* The rows point into the pools from now on. */
static void batch_seal(struct daemon_batch *b)
{
	for (uint32_t i = 0; i < b->n; i++) {
		b->rows[i].name = b->names + b->name_off[i];
		b->rows[i].ue = b->rows[i].n_ue ? b->ue + (uintptr_t)b->rows[i].ue : NULL;
	}
}

static void batch_check_err(void *ctx, uint32_t row, int code, const char *msg)
{
	struct daemon_batch *b = ctx;

	batch_error(b, b->lines ? b->lines[row] : row + 1, code, msg);
}

/* Slots freed by recent deletions come back once the workers are past
 * them: wait for that only when the table would be full without them. */
static int reserve(struct daemon *d, uint32_t n);
int daemon_reserve(struct daemon *d, uint32_t n)
{
	return reserve(d, n);
}

static int reserve(struct daemon *d, uint32_t n)
{
	int r = state_reserve(d->st, n);

	if (r == -ENOSPC) {
		commit(d);
		dp_wait(&d->dp, dp_advance(&d->dp));
		reclaim(d);
		r = state_reserve(d->st, n);
	}
	return r;
}

/* Who asked for a change: the control socket's client as the kernel told
 * it, else what gtpud was doing (d->dlog.cause). */
static const char *change_by(struct daemon *d, char *buf, size_t len)
{
	uid_t uid;
	pid_t pid;

	if (ctl_caller(d->ctl, &uid, &pid))
		snprintf(buf, len, "uid %u pid %d", (unsigned)uid, (int)pid);
	else
		snprintf(buf, len, "%s", d->dlog.cause ? d->dlog.cause : "gtpud");
	return buf;
}

static void tunnels_event(struct daemon *d, const char *ev, const char *name, uint32_t n)
{
	json_object *f = json_object_new_object();

	if (n == 1)
		json_object_object_add(f, "tunnel", json_object_new_string(name));
	else
		json_object_object_add(f, "count", json_object_new_int64(n));
	daemon_event(d, ev, f);
}

int daemon_tunnels_add(struct daemon *d, struct daemon_batch *b)
{
	struct state *s = d->st;
	uint32_t *added = NULL, max = s->conf->max_runtime;
	char m[160];
	int r;

	batch_seal(b);
	if ((uint64_t)s->n_runtime + b->n > max) {
		snprintf(m, sizeof(m), "too many runtime tunnels: %u and %u more, max_runtime_tunnels is %u",
			 s->n_runtime, b->n, max);
		batch_error(b, 0, -ENOSPC, m);
		return -ENOSPC;
	}
	reclaim(d);
	/* Every error of every line, those of the lines read and these. */
	if (state_batch_check(s, b->rows, b->n, batch_check_err, b) || b->n_errors)
		return b->code;
	if ((r = reserve(d, b->n)) < 0 || !(added = malloc((b->n ? b->n : 1) * sizeof(*added)))) {
		batch_error(b, 0, r < 0 ? r : -ENOMEM, r == -ENOSPC ? "no free tunnel slot" : "out of memory");
		return r < 0 ? r : -ENOMEM;
	}
	for (uint32_t i = 0; i < b->n; i++) {
		const struct conf_tunnel *t = &b->rows[i];

		added[i] = state_tunnel_add(s, t, t->from_peer, t->to_peer, TUNNEL_RUNTIME);
		if (added[i] == TUNNEL_NONE) {
			/* Out of memory in the middle: all or nothing. */
			while (i--)
				state_tunnel_del(s, added[i]);
			commit(d);
			free(added);
			batch_error(b, 0, -ENOMEM, "out of memory");
			return -ENOMEM;
		}
	}
	commit(d);
	free(added);
	/* A big batch leaves its request and rows as freed heap: give it back
	 * once the request is done with. */
	if (b->n >= 10000 && d->trim_src)
		sd_event_source_set_enabled(d->trim_src, SD_EVENT_ONESHOT);
	if (b->n) {
		tunnels_event(d, CTL_EV_TUNNEL_ADDED, b->rows[0].name, b->n);
		/* A control plane may make thousands of changes a second: the
		 * journal gets a few lines a second, then their sum. */
		const struct conf_tunnel *t = &b->rows[0];
		char detail[160], by[64], a[INET6_ADDRSTRLEN];

		snprintf(detail, sizeof(detail), "%s/0x%x -> %s/0x%x%s%s%s", d->st->peers[t->from_peer]->name,
			 t->from_teid, d->st->peers[t->to_peer]->name, t->to_teid, t->n_ue ? ", ue " : "",
			 t->n_ue ? conf_addr_str(&t->ue[0], a, sizeof(a)) : "", t->n_ue > 1 ? ", ..." : "");
		dlog_tunnels(&d->dlog, true, t->name, detail, b->n, change_by(d, by, sizeof(by)));
		state_save_later(d);
	}
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

int daemon_tunnels_del(struct daemon *d, const char *const *names, const uint32_t *lines, uint32_t n,
		       json_object **errors)
{
	struct state *s = d->st;
	struct daemon_batch b;
	uint32_t *idx = malloc((n ? n : 1) * sizeof(*idx) * 2);
	char m[160];
	int r = 0;

	daemon_batch_init(&b, lines != NULL);
	*errors = NULL;
	if (!idx)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t k = state_find_tunnel(s, names[i]);

		idx[i] = k;
		if (k == TUNNEL_NONE) {
			snprintf(m, sizeof(m), "no runtime tunnel named \"%s\"", names[i]);
			batch_error(&b, lines ? lines[i] : 0, -ENOENT, m);
		} else if (!(s->tunnels[k].flags & TUNNEL_RUNTIME)) {
			snprintf(m, sizeof(m), "tunnel \"%s\" comes from the config file: edit it and reload",
				 names[i]);
			batch_error(&b, lines ? lines[i] : 0, -ENOENT, m);
		}
	}
	if (!b.n_errors && n > 1) {
		/* A name twice: its index twice in a sorted copy. */
		memcpy(idx + n, idx, n * sizeof(*idx));
		qsort(idx + n, n, sizeof(*idx), cmp_u32);
		for (uint32_t i = 1; i < n; i++)
			if (idx[n + i] == idx[n + i - 1]) {
				for (uint32_t j = 0, seen = 0; j < n; j++)
					if (idx[j] == idx[n + i] && seen++) {
						snprintf(m, sizeof(m), "tunnel \"%s\" is named twice in the batch",
							 names[j]);
						batch_error(&b, lines ? lines[j] : 0, -EEXIST, m);
						break;
					}
			}
	}
	if (b.n_errors) {
		r = b.code;
		*errors = daemon_batch_errors(&b);
		goto out;
	}
	reclaim(d);
	for (uint32_t i = 0; i < n; i++)
		state_tunnel_del(s, idx[i]);
	commit(d);
	if (n) {
		tunnels_event(d, CTL_EV_TUNNEL_REMOVED, names[0], n);
		char by[64];

		dlog_tunnels(&d->dlog, false, names[0], NULL, n, change_by(d, by, sizeof(by)));
		state_save_later(d);
	}
out:
	free(idx);
	daemon_batch_fini(&b);
	return r;
}

int daemon_tunnel_del(struct daemon *d, const char *name, char *err, size_t errlen)
{
	json_object *errors;
	int r = daemon_tunnels_del(d, &name, NULL, 1, &errors);

	if (r < 0)
		snprintf(err, errlen, "%s", errors && json_object_array_length(errors) ?
			 json_object_get_string(json_object_array_get_idx(errors, 0)) : strerror(-r));
	json_object_put(errors);
	return r;
}

/* ---- the state file ---- */

static void state_save(struct daemon *d)
{
	uint64_t t0 = mono_ns();
	int r;

	d->state_dirty = false;
	if (!d->state_dir)
		return;
	r = statefile_write(d->state_dir, d->st);
	d->state_write_ns = mono_ns() - t0;
	d->state_writes++;
	log_debug("state file %s/%s written: %u runtime tunnels in %.1f ms%s", d->state_dir, STATEFILE_NAME,
		  d->st->n_runtime, (double)d->state_write_ns / 1e6, r < 0 ? " (failed)" : "");
	if (r < 0) {
		d->state_write_errors++;
		log_ratelimited(LOG_LVL_WARNING, "cannot write %s/%s: %s: runtime tunnels would not survive a restart",
				d->state_dir, STATEFILE_NAME, strerror(-r));
	}
}

static int on_state_timer(sd_event_source *src, uint64_t usec, void *ud)
{
	state_save(ud);
	return 0;
}

/* Changes come in bursts: the file is written at most every
 * STATE_SAVE_USEC, or four times as long as the last write took, so that
 * writing never limits the rate of changes. */
static void state_save_later(struct daemon *d)
{
	uint64_t usec = STATE_SAVE_USEC;
	int on = SD_EVENT_OFF;

	if (!d->state_dir)
		return;
	d->state_dirty = true;
	if (!d->state_timer || (sd_event_source_get_enabled(d->state_timer, &on) >= 0 && on != SD_EVENT_OFF))
		return;
	if (d->state_write_ns / 1000 * 4 > usec)
		usec = d->state_write_ns / 1000 * 4;
	sd_event_source_set_time_relative(d->state_timer, usec);
	sd_event_source_set_enabled(d->state_timer, SD_EVENT_ONESHOT);
}

/* The state directory: the config's, else systemd's StateDirectory=
 * (the first of $STATE_DIRECTORY), else none. */
static void state_dir_init(struct daemon *d, const struct conf *c)
{
	const char *env = getenv("STATE_DIRECTORY");

	if (c->state_directory)
		d->state_dir = strdup(c->state_directory);
	else if (env && *env)
		d->state_dir = strndup(env, strcspn(env, ":"));
	if (!d->state_dir) {
		log_info("no state directory (state_directory, or StateDirectory= under systemd): "
			 "runtime tunnels do not survive a restart");
		return;
	}
	if (mkdir(d->state_dir, 0750) < 0 && errno != EEXIST)
		log_warn("state directory %s: %s: runtime tunnels would not survive a restart",
			 d->state_dir, strerror(errno));
}

static void state_file_moved(const char *dir, const char *why)
{
	char moved[PATH_MAX];
	int r = statefile_quarantine(dir, moved, sizeof(moved));

	if (r < 0)
		log_warn("%s/%s %s, and it cannot be moved aside: %s; its tunnels are not loaded",
			 dir, STATEFILE_NAME, why, strerror(-r));
	else
		log_warn("%s/%s %s: moved aside to %s, its tunnels are not loaded",
			 dir, STATEFILE_NAME, why, moved);
}

static void drop_row(void *ctx, uint32_t row, int code, const char *msg)
{
	struct daemon_batch *b = ctx;

	if (b->drop[row])
		return;
	b->drop[row] = 1;
	log_warn("runtime tunnel \"%s\" of the state file (line %u) %s: dropped", b->rows[row].name,
		 b->lines[row], msg);
}

/* The runtime tunnels of the last run, after the config file: a file that
 * cannot be read or parsed is moved aside; a tunnel that collides with
 * the config is dropped with a warning, as at reload. */
static void state_load(struct daemon *d)
{
	struct daemon_batch b;
	char *text, **lines, err[256];
	uint32_t *numbers, n, kept = 0;
	int r;

	if (!d->state_dir)
		return;
	r = statefile_read(d->state_dir, &text, &lines, &numbers, &n, err, sizeof(err));
	if (r == -ENOENT)
		return;
	if (r == -EBADMSG) {
		state_file_moved(d->state_dir, err);
		return;
	}
	if (r < 0) {
		snprintf(err, sizeof(err), "cannot be read (%s)", strerror(-r));
		state_file_moved(d->state_dir, err);
		return;
	}
	daemon_batch_init(&b, true);
	for (uint32_t i = 0; i < n; i++) {
		struct ctl_tunnel_spec sp;
		char why[200];
		int k = ctl_tunnel_line_parse(lines[i], &sp, why, sizeof(why));

		if (k < 0) {
			snprintf(err, sizeof(err), "line %u: %s", numbers[i], why);
			state_file_moved(d->state_dir, err);
			goto out;
		}
		if (k == 0)
			continue;
		/* A peer the config no longer has: that tunnel only is dropped. */
		if (conf_peer_index(d->st->conf, sp.from_peer) < 0 || conf_peer_index(d->st->conf, sp.to_peer) < 0) {
			log_warn("runtime tunnel \"%s\" of the state file (line %u) names a peer that is gone: dropped",
				 sp.name, numbers[i]);
			continue;
		}
		if (daemon_batch_spec(d, &b, &sp, numbers[i]) < 0)
			goto oom;
	}
	batch_seal(&b);
	if (!(b.drop = calloc(b.n ? b.n : 1, 1)))
		goto oom;
	for (uint32_t i = d->st->conf->max_runtime; i < b.n; i++) {
		b.drop[i] = 1;
		log_warn("runtime tunnel \"%s\" of the state file (line %u) is beyond max_runtime_tunnels (%u): dropped",
			 b.rows[i].name, b.lines[i], d->st->conf->max_runtime);
	}
	if (reserve(d, b.n) < 0)
		goto oom;
	state_batch_check(d->st, b.rows, b.n, drop_row, &b);
	for (uint32_t i = 0; i < b.n; i++) {
		const struct conf_tunnel *t = &b.rows[i];

		if (!b.drop[i] && state_tunnel_add(d->st, t, t->from_peer, t->to_peer, TUNNEL_RUNTIME) != TUNNEL_NONE)
			kept++;
	}
	commit(d);
	log_info("%u runtime tunnels loaded from %s/%s", kept, d->state_dir, STATEFILE_NAME);
	if (kept != b.n)
		state_save_later(d);
	goto out;
oom:
	log_err("out of memory loading %s/%s: its tunnels are not loaded", d->state_dir, STATEFILE_NAME);
out:
	free(b.drop);
	b.drop = NULL;
	daemon_batch_fini(&b);
	free(text);
	free(lines);
	free(numbers);
}

/* Runtime tunnels the new state left out (they collide with the file, or
 * name a peer that is gone; the warning named them) are dropped for good. */
static void runtime_dropped(struct daemon *d, const struct rt_tunnel *rows, uint32_t n)
{
	uint32_t dropped = 0;

	for (uint32_t i = 0; i < n; i++) {
		uint32_t k = state_find_tunnel(d->st, rows[i].t.name);

		if (k != TUNNEL_NONE && (d->st->tunnels[k].flags & TUNNEL_RUNTIME))
			continue;
		tunnels_event(d, CTL_EV_TUNNEL_REMOVED, rows[i].t.name, 1);
		dropped++;
	}
	if (dropped)
		state_save_later(d);
}

/* Build a state from c (taken over) and the runtime tunnels of the
 * running one, publish it, and carry the tunnel counters over. */
static int apply(struct daemon *d, struct conf *c, char **collide)
{
	struct state *s, *old = d->st;
	struct rt_tunnel *rows;
	uint32_t n;
	int r;

	if ((r = state_runtime_rows(old, &rows, &n)) < 0) {
		conf_free(c);
		return r;
	}
	r = state_new(c, rows, n, daemon_tunnel_room(c), old, d->n_workers, &s, collide);
	if (r < 0) {
		free(rows);
		return r;
	}
	init_peers(d, s);
	if (d->xdp)
		s->ext = &d->xdp_ext;
	dp_swap(&d->dp, s);
	state_carry_counters(s, old);
	/* The fast path's maps follow before the reload is reported done. */
	xdp_sync(d->xdp, s, old);
	d->st = s;
	runtime_dropped(d, rows, n);   /* rows point into old */
	free(rows);
	state_free(old);
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

/* A setting the file changed that applies only after a restart: a warning
 * in the log, and for the client of the reload (gtpuctl says so and exits
 * 6). */
__attribute__((format(printf, 2, 3)))
static void pend(json_object *pending, const char *fmt, ...)
{
	char m[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m, sizeof(m), fmt, ap);
	va_end(ap);
	log_warn("%s", m);
	if (pending)
		json_object_array_add(pending, json_object_new_string(m));
}

/* Settings that only a restart changes: where the file changed them, warn;
 * then the new configuration takes the running ones, so that it says what
 * runs (a tun the file adds is not there, one it removes still is).
 * Returns 0, or -ENOMEM. */
static int keep_static(const struct conf *old, struct conf *c, json_object *pending)
{
	bool listen = c->n_listen == old->n_listen;
	char *path = strdup(old->control.path);
	char *group = old->control.group ? strdup(old->control.group) : NULL;

	for (unsigned i = 0; listen && i < c->n_listen; i++)
		listen = same_addr(&c->listen[i], &old->listen[i]);
	if (c->workers != old->workers)
		pend(pending, "workers changed from %u to %u: applies after a restart, ignoring", old->workers, c->workers);
	if (!listen)
		pend(pending, "listen changed: applies after a restart, ignoring");
	if (!same_tun(&c->tun, &old->tun))
		pend(pending, "tun changed: applies after a restart, ignoring");
	if (!same_str(c->control.path, old->control.path) || !same_str(c->control.group, old->control.group) ||
	    c->control.mode != old->control.mode || c->control.max_clients != old->control.max_clients ||
	    c->control.idle_timeout != old->control.idle_timeout)
		pend(pending, "control changed: applies after a restart, ignoring");
	if (!same_addr(&c->metrics.listen, &old->metrics.listen) || c->metrics.enabled != old->metrics.enabled)
		pend(pending, "metrics changed: applies after a restart, ignoring");
	if (!same_str(c->state_directory, old->state_directory))
		pend(pending, "state_directory changed: applies after a restart, ignoring");
	if (!same_str(c->user, old->user) || !same_str(c->group, old->group))
		pend(pending, "user or group changed: applies after a restart, ignoring");
	if (memcmp(&c->xdp, &old->xdp, sizeof(c->xdp)))
		pend(pending, "xdp changed: applies after a restart, ignoring");
	if (c->pfcp.enabled != old->pfcp.enabled) {
		pend(pending, "pfcp %s: applies after a restart, ignoring", c->pfcp.enabled ? "added" : "removed");
		c->pfcp = old->pfcp;
	} else if (c->pfcp.enabled) {
		bool same = c->pfcp.n_listen == old->pfcp.n_listen && !strcmp(c->pfcp.node_id, old->pfcp.node_id) &&
			    c->pfcp.max_message == old->pfcp.max_message;

		for (unsigned i = 0; same && i < c->pfcp.n_listen; i++)
			same = same_addr(&c->pfcp.listen[i], &old->pfcp.listen[i]);
		if (!same)
			pend(pending, "pfcp.listen, node_id or max_message changed: applies after a restart, ignoring");
		c->pfcp.n_listen = old->pfcp.n_listen;
		memcpy(c->pfcp.listen, old->pfcp.listen, sizeof(c->pfcp.listen));
		memcpy(c->pfcp.node_id, old->pfcp.node_id, sizeof(c->pfcp.node_id));
		c->pfcp.max_message = old->pfcp.max_message;
	}

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
	c->xdp = old->xdp;
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

int daemon_reload(struct daemon *d, json_object **errors, json_object **warnings, json_object **pending)
{
	struct conf_errors errs = { 0 };
	struct conf *c = NULL;
	char *collide = NULL, changes[900], np[32], nt[32];
	uint64_t t0;
	int r;

	*errors = NULL;
	if (warnings)
		*warnings = NULL;
	sysd_reloading();
	log_info("reloading %s", d->conf_file);
	t0 = mono_ns();
	r = conf_read_file(d->conf_file, &c, &errs);
	log_debug("%s read in %.1f ms", d->conf_file, (double)(mono_ns() - t0) / 1e6);
	if (r < 0) {
		log_conf_errors(&errs);
		log_err("reload failed: the running configuration stays");
		*errors = errors_json(&errs);
		conf_errors_fini(&errs);
		reload_done(d, -EINVAL);
		return -EINVAL;
	}
	conf_errors_fini(&errs);
	if (pending)
		*pending = json_object_new_array();
	if ((r = keep_static(d->st->conf, c, pending ? *pending : NULL)) < 0) {
		conf_free(c);
	} else {
		dlog_reload(d->st, c, changes, sizeof(changes));
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
		if (d->pfcp)
			pfcp_reload(d->pfcp, &d->st->conf->pfcp);
		log_info("configuration reloaded: %s, %s: %s", dlog_count(np, sizeof(np), d->st->n_peers, "peer", "peers"),
			 dlog_count(nt, sizeof(nt), d->st->n_tunnels, "tunnel", "tunnels"), changes);
	}
	reload_done(d, r);
	return r;
}

/* ---- Echo path supervision (TS 29.281 7.2) ---- */

static void peer_set(struct daemon *d, struct peer *p, enum peer_state st, const char *why)
{
	char a[INET6_ADDRSTRLEN], where[INET6_ADDRSTRLEN + 10], was[32] = "";
	int64_t now = (int64_t)time(NULL);
	int prev = __atomic_load_n(&p->state, __ATOMIC_RELAXED);
	json_object *f;

	if (prev == (int)st)
		return;
	__atomic_store_n(&p->state, st, __ATOMIC_RELAXED);
	if (prev == PEER_DOWN)
		snprintf(was, sizeof(was), ", down for %" PRId64 " s", now - p->since);
	p->since = now;
	/* The address too: a name alone sends the reader to the file. */
	snprintf(where, sizeof(where), p->addr.family == AF_INET6 ? "[%s]:%u" : "%s:%u",
		 conf_addr_str(&p->addr, a, sizeof(a)), p->addr.port);
	xdp_peer_changed(d->xdp, d->st, p);
	f = json_object_new_object();
	json_object_object_add(f, "peer", json_object_new_string(p->name));
	json_object_object_add(f, "reason", json_object_new_string(why));
	if (st == PEER_DOWN) {
		p->down_count++;
		log_warn("peer %s (%s) is down: %s", p->name, where, why);
		daemon_event(d, CTL_EV_PEER_DOWN, f);
		pfcp_peer_down(d->pfcp, p);
	} else {
		log_info("peer %s (%s) is up: %s%s", p->name, where, why, was);
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
		p->echo_req_tx_bytes += n;
		d->echo_req_tx++;
		d->echo_req_tx_bytes += n;
		log_debug("echo request %u to peer %s (attempt %u)", p->echo_seq, p->name, p->echo_tries + 1);
	} else {
		log_debug("echo request %u to peer %s not sent", p->echo_seq, p->name);
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

	/* Only the answer to the request awaited (its sequence number, while
	 * it is awaited: T3 times N3 at most) brings the peer up and carries a
	 * Recovery value; a worker passes no other. */
	if (rs && rs == __atomic_load_n(&p->echo_wait, __ATOMIC_RELAXED)) {
		uint64_t at = __atomic_load_n(&p->rsp_ns, __ATOMIC_RELAXED);

		p->rtt_us = at > p->echo_sent_ns ? (int64_t)(at - p->echo_sent_ns) / 1000 : 0;
		echo_await(p, false);
		p->recovery = (int)__atomic_load_n(&p->rsp_recovery, __ATOMIC_RELAXED);
		log_debug("echo response %u from peer %s: rtt %" PRId64 " us, recovery %d", p->echo_seq, p->name,
			  p->rtt_us, p->recovery);
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
			log_debug("no echo response %u from peer %s within %u s: retransmitting", p->echo_seq, p->name,
				  c->echo.t3);
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

		/* A PFCP peer no tunnel sends to is left alone until it goes. */
		if (p->dynamic && !p->users)
			continue;
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

/* count Error Indications alike (same peer and TEID) in a row, merged
 * into one event and one log line. */
static void error_ind_event(struct daemon *d, const struct dp_event *ev, unsigned count)
{
	struct state *s = d->st;
	uint32_t pi = state_peer_named(s, ev->peer);
	uint32_t t = pi == TABLE_NO_PEER ? TUNNEL_NONE : state_lookup_to(s, pi, ev->teid);
	json_object *f;
	char name[CONF_NAME_MAX + 1] = "";

	if (ev->tunnel == TUNNEL_NONE) {
		log_ratelimited(LOG_LVL_NOTICE, "%u error indications from %s for TEID 0x%x, which no tunnel "
				"sends with to it: ignored", count, ev->peer, ev->teid);
		return;
	}
	if (t == TUNNEL_NONE)
		return;   /* the tunnel went away since */
	for (unsigned i = 0; i < count; i++)
		state_count_err_ind(s, t);
	s->peers[pi]->err_ind_rx += count;
	snprintf(name, sizeof(name), "%s", tunnel_name(s, &s->tunnels[t]));
	f = json_object_new_object();
	json_object_object_add(f, "peer", json_object_new_string(ev->peer));
	json_object_object_add(f, "teid", json_object_new_int64(ev->teid));
	json_object_object_add(f, "tunnel", json_object_new_string(name));
	json_object_object_add(f, "count", json_object_new_int64(count));
	daemon_event(d, CTL_EV_ERROR_INDICATION, f);
	log_ratelimited(LOG_LVL_NOTICE, "%u error indication%s from %s for tunnel %s (TEID 0x%x)",
			count, count == 1 ? "" : "s", ev->peer, name, ev->teid);
	if (s->tunnels[t].flags & TUNNEL_PFCP)
		pfcp_error_ind(d->pfcp, name, s->peers[pi], ev->teid);
	if (s->conf->error_indication.remove_tunnel && (s->tunnels[t].flags & TUNNEL_RUNTIME)) {
		char err[128], cause[128];

		snprintf(cause, sizeof(cause), "an Error Indication from %s (remove_tunnel)", ev->peer);
		d->dlog.cause = cause;
		daemon_tunnel_del(d, name, err, sizeof(err));
		d->dlog.cause = NULL;
	}
}

static bool same_error_ind(const struct dp_event *a, const struct dp_event *b)
{
	return a->kind == b->kind && a->teid == b->teid && a->tunnel == b->tunnel && !strcmp(a->peer, b->peer);
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
	/* The device's loss is carried by the workers' state, not only by the
	 * event (a full ring loses events). */
	for (unsigned w = 0; w < d->n_workers && !d->tun_lost; w++)
		if (__atomic_load_n(&d->dp.w[w].tun_lost, __ATOMIC_RELAXED))
			tun_lost_event(d);
	pfcp_hold_drain(d->pfcp);
	for (n = 0; n < 1024 && dp_event_pop(&d->dp, &ev); n++) {
		if (ev.kind == DP_EV_ERROR_IND) {
			struct dp_event next;
			unsigned count = 1;

			/* Alike ones in a row are one event with a count. */
			while (n < 1024 && dp_event_peek(&d->dp, &next) && same_error_ind(&ev, &next)) {
				dp_event_pop(&d->dp, &next);
				count++;
				n++;
			}
			error_ind_event(d, &ev, count);
		} else if (ev.kind == DP_EV_TUN_LOST) {
			tun_lost_event(d);
		}
	}
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
	daemon_stats_xdp(d, &st, NULL);
	if (d->last_rx_ns && now > d->last_rx_ns)
		d->pps = (double)(st.rx_pkts - d->last_rx) * 1e9 / (double)(now - d->last_rx_ns);
	d->last_rx = st.rx_pkts;
	d->last_rx_ns = now;
	send_status(d);
}

static int on_trim(sd_event_source *src, void *ud)
{
	malloc_trim(0);
	return 0;
}

static int on_status(sd_event_source *src, uint64_t usec, void *ud)
{
	reclaim(ud);   /* what deletions freed, once no burst of changes does it */
	update_status(ud);
	sd_event_source_set_time_relative(src, STATUS_USEC);
	return 0;
}

/* The rings hold DP_DROPQ records a worker, more than DP_DROP_RATE gives
 * in DROPS_USEC: none is lost for a monitor between two polls. */
static int on_drops(sd_event_source *src, uint64_t usec, void *ud)
{
	struct daemon *d = ud;

	ctl_cmds_drops_poll(d);
	sd_event_source_set_time_relative(src, ctl_cmds_drops_watched(d) ? DROPS_USEC : DROPS_IDLE_USEC);
	return 0;
}

static int on_sighup(sd_event_source *s, const struct signalfd_siginfo *si, void *ud)
{
	json_object *errors, *warnings;

	daemon_reload(ud, &errors, &warnings, NULL);
	json_object_put(errors);
	json_object_put(warnings);
	return 0;
}

static int on_exit_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *ud)
{
	char name[32];

	log_info("%s: shutting down", dlog_signal((int)si->ssi_signo, name, sizeof(name)));
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
	r = ctl_new(d->ev, ctl_cmds, d, &o, inherited, &d->ctl);
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

/* The address a socket is bound to, as the config writes one. */
static bool bound_addr(int fd, struct conf_addr *a)
{
	struct sockaddr_storage ss;
	socklen_t l = sizeof(ss);

	memset(a, 0, sizeof(*a));
	if (getsockname(fd, (struct sockaddr *)&ss, &l) < 0)
		return false;
	if (ss.ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)&ss;

		a->family = AF_INET;
		memcpy(a->addr, &sin->sin_addr, 4);
		a->port = ntohs(sin->sin_port);
	} else if (ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&ss;

		a->family = AF_INET6;
		memcpy(a->addr, &sin6->sin6_addr, 16);
		a->port = ntohs(sin6->sin6_port);
	} else {
		return false;
	}
	return true;
}

/* Sockets passed by systemd replace listen: where the file names others,
 * say so once at start (it is silently overridden otherwise). */
static void warn_listen_overridden(const struct conf *c, const int *fds, unsigned n)
{
	char got[512] = "", as[64];
	size_t off = 0;
	bool same = n == c->n_listen;

	for (unsigned i = 0; i < n; i++) {
		struct conf_addr a;
		bool found = false;

		if (!bound_addr(fds[i], &a))
			continue;
		for (unsigned j = 0; j < c->n_listen; j++)
			found |= conf_addr_same(&a, &c->listen[j]) &&
				 a.port == (c->listen[j].port ? c->listen[j].port : GTPU_PORT);
		same &= found;
		if (off < sizeof(got))
			off += (size_t)snprintf(got + off, sizeof(got) - off, "%s%s%s%s:%u", i ? ", " : "",
						a.family == AF_INET6 ? "[" : "", conf_addr_str(&a, as, sizeof(as)),
						a.family == AF_INET6 ? "]" : "", a.port);
	}
	if (!same)
		log_warn("listen is overridden by the sockets systemd passed (%s): the file's listen applies "
			 "only without socket activation, ignoring", got);
}

/* ---- the XDP fast path ---- */

static void xdp_tunnel_hook(void *ctx, const struct state *s, uint32_t i, bool added)
{
	xdp_tunnel_changed(((struct daemon *)ctx)->xdp, s, i, added);
}

static void xdp_tunnel_ctr_hook(void *ctx, const struct state *s, uint32_t i, struct ctr *c)
{
	xdp_tunnel_ctr(((struct daemon *)ctx)->xdp, s, i, c);
}

static void xdp_peer_ctr_hook(void *ctx, const struct peer *p, struct ctr *c)
{
	xdp_peer_ctr(((struct daemon *)ctx)->xdp, p, c);
}

/* Attached while gtpud may still do it; it reads and sends for the
 * sockets of worker 0 (every worker's are bound alike). */
static int start_xdp(struct daemon *d, const struct conf *c, char *err, size_t errlen)
{
	struct sockaddr_storage bound[DP_MAX_SOCKS];
	unsigned n = 0;
	/* Room for the file's, the runtime ones and PFCP's, as the table. */
	uint64_t max = (uint64_t)c->n_tunnels + daemon_tunnel_room(c);

	for (unsigned k = 0; k < d->dp.w[0].n_socks; k++) {
		socklen_t l = sizeof(bound[n]);

		if (getsockname(d->dp.w[0].socks[k], (struct sockaddr *)&bound[n], &l) == 0)
			n++;
	}
	d->xdp_ext = (struct state_ext){ xdp_tunnel_hook, xdp_tunnel_ctr_hook, xdp_peer_ctr_hook, d };
	return xdp_start(&d->xdp, c, bound, n, max > TABLE_MAX_TUNNELS ? TABLE_MAX_TUNNELS : (uint32_t)max,
			 err, errlen);
}

/* The start line: what was bound (and whether systemd passed it), the TUN
 * device, the control socket, the counts. */
static void log_started(struct daemon *d, const struct conf *c, bool passed)
{
	char bound[400] = "", as[64], np[32], nt[32], nw[32];
	size_t off = 0;
	const struct dp_worker *w = &d->dp.w[0];

	for (unsigned i = 0; i < w->n_socks && off < sizeof(bound); i++) {
		struct conf_addr a;

		if (!bound_addr(w->socks[i], &a))
			continue;
		off += (size_t)snprintf(bound + off, sizeof(bound) - off, "%s%s%s%s:%u", off ? ", " : "",
					a.family == AF_INET6 ? "[" : "", conf_addr_str(&a, as, sizeof(as)),
					a.family == AF_INET6 ? "]" : "", a.port);
	}
	log_info("gtpud %s started: listening on %s%s; TUN device %s; control %s; %s, %s, %s", PACKAGE_VERSION,
		 bound, passed ? " (passed by systemd)" : "", d->has_tun ? d->tun.name : "none",
		 c->control.path, dlog_count(np, sizeof(np), d->st->n_peers, "peer", "peers"),
		 dlog_count(nt, sizeof(nt), d->st->n_tunnels, "tunnel", "tunnels"),
		 dlog_count(nw, sizeof(nw), d->n_workers, "worker", "workers"));
}

static int fail(int status, int r, const char *msg)
{
	log_err("%s", msg);
	sysd_fatal(r, msg);
	return status;
}

static int run(struct daemon *d, struct conf *c)
{
	int gtpu_fds[DP_MAX_SOCKS], pfcp_fds[DP_MAX_SOCKS], ctl_fd = -1, r;
	unsigned n_gtpu = 0, n_pfcp = 0;
	char err[512];
	sigset_t ss;

	d->n_workers = c->workers;
	r = sysd_listen_fds(gtpu_fds, DP_MAX_SOCKS, &n_gtpu, &ctl_fd, pfcp_fds, &n_pfcp, err, sizeof(err));
	if (r < 0)
		return conf_free(c), fail(EXIT_STARTUP, r, err);
	if (n_gtpu)
		warn_listen_overridden(c, gtpu_fds, n_gtpu);
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
	dlog_init(&d->dlog, d->ev);
	if ((r = start_control(d, c, ctl_fd, err, sizeof(err))) < 0)
		return conf_free(c), fail(EXIT_STARTUP, r, err);
	if (c->metrics.enabled) {
		r = http_new(d->ev, &c->metrics.listen, render_metrics, d, &d->http);
		if (r < 0) {
			snprintf(err, sizeof(err), "metrics endpoint: %s", strerror(-r));
			return conf_free(c), fail(EXIT_STARTUP, r, err);
		}
	}
	if ((r = start_xdp(d, c, err, sizeof(err))) < 0)
		return conf_free(c), fail(EXIT_STARTUP, r, err);
	/* Everything that needs privilege is done (sockets bound, TUN device
	 * set up, control socket created, XDP attached): give it up before
	 * any thread runs. */
	r = privs_drop(c->user, c->group, err, sizeof(err));
	if (r < 0)
		return conf_free(c), fail(EXIT_STARTUP, r, err);
	if (r == 1)
		log_info("user \"%s\" not taken on: gtpud does not run as root, ignoring", c->user);
	else if (r == 2)
		log_warn("%s", err);
	state_dir_init(d, c);
	r = state_new(c, NULL, 0, daemon_tunnel_room(c), NULL, d->n_workers, &d->st, NULL);
	if (r < 0)
		return fail(EXIT_STARTUP, r, "out of memory building the tables");
	init_peers(d, d->st);
	if (d->xdp) {
		d->st->ext = &d->xdp_ext;
		xdp_sync(d->xdp, d->st, NULL);
	}
	sd_event_add_time_relative(d->ev, &d->state_timer, CLOCK_MONOTONIC, STATE_SAVE_USEC, 1000,
				   on_state_timer, d);
	sd_event_source_set_enabled(d->state_timer, SD_EVENT_OFF);
	sd_event_add_defer(d->ev, &d->trim_src, on_trim, d);
	sd_event_source_set_enabled(d->trim_src, SD_EVENT_OFF);
	state_load(d);
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
	sd_event_add_time_relative(d->ev, &d->drops_timer, CLOCK_MONOTONIC, DROPS_IDLE_USEC, 10000, on_drops, d);
	sd_event_source_set_enabled(d->drops_timer, SD_EVENT_ON);
	sysd_watchdog(d->ev);
	if (n_pfcp && !c->pfcp.enabled) {
		log_warn("systemd passed %u PFCP socket%s but the configuration has no pfcp group: "
			 "closing them", n_pfcp, n_pfcp == 1 ? "" : "s");
		for (unsigned i = 0; i < n_pfcp; i++)
			close(pfcp_fds[i]);
		n_pfcp = 0;
	} else if (n_pfcp) {
		log_info("PFCP on %u socket%s passed by systemd (pfcp.listen is not used)", n_pfcp,
			 n_pfcp == 1 ? "" : "s");
	}
	if (c->pfcp.enabled && (r = pfcp_new(d, &c->pfcp, pfcp_fds, n_pfcp, &d->pfcp, err, sizeof(err))) < 0)
		return fail(EXIT_STARTUP, r, err);
	log_started(d, c, n_gtpu > 0);
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
	/* The sockets take over what is still in flight. */
	xdp_stop(d.xdp);
	d.xdp = NULL;
	if (d.st)
		d.st->ext = NULL;
	dp_stop(&d.dp);
	if (d.state_dirty)
		state_save(&d);
	http_free(d.http);
	pfcp_free(d.pfcp);
	ctl_free(d.ctl);
	sd_event_source_unref(d.tick);
	sd_event_source_unref(d.status_timer);
	sd_event_source_unref(d.drops_timer);
	sd_event_source_unref(d.state_timer);
	sd_event_source_unref(d.trim_src);
	sd_event_source_unref(d.notify_src);
	dlog_fini(&d.dlog);
	sd_event_unref(d.ev);
	dp_fini(&d.dp);
	state_free(d.st);
	free(d.state_dir);
	if (d.has_tun)
		tun_close(&d.tun);
	log_info("stopped");
	return status;
}

static char *render_metrics(void *ud)
{
	return ctl_cmds_metrics_text(ud);
}
