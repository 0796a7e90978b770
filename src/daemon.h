/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The daemon's control plane: one sd-event loop for signals, reload, Echo
 * supervision, events from the workers, the control socket and systemd. */
#ifndef GTPUD_DAEMON_H
#define GTPUD_DAEMON_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <json-c/json.h>
#include <systemd/sd-event.h>

#include "daemon_log.h"
#include "dp.h"
#include "table.h"
#include "tun.h"
#include "xdp.h"

/* Exit statuses of gtpud (gtpud(8)). */
enum {
	EXIT_OK = 0,
	EXIT_CONFIG = 1,          /* invalid config */
	EXIT_USAGE = 2,
	EXIT_STARTUP = 3,         /* bind, TUN, permission, unreadable config */
};

struct daemon {
	sd_event *ev;
	const char *conf_file;
	unsigned n_workers;
	struct dp dp;
	struct state *st;         /* the published state; control thread's view */
	char *state_dir;          /* of the state file, or NULL */
	bool state_dirty;         /* runtime tunnels changed since the last write */
	uint64_t state_write_ns;  /* the last write took */
	uint64_t state_writes, state_write_errors;
	struct tun_dev tun;
	bool has_tun;
	bool tun_lost;            /* the device was deleted under us */
	struct ctl *ctl;
	struct http *http;
	struct xdp_path *xdp;     /* the XDP fast path, or NULL */
	struct state_ext xdp_ext; /* its hooks in the tables (s->ext) */
	struct pfcp *pfcp;        /* the PFCP user plane, or NULL */
	time_t start_time;
	uint64_t start_ns;
	unsigned reloads;
	int last_reload;          /* -1 none, 0 applied, 1 failed */
	uint64_t echo_req_tx;     /* Echo Requests sent by the supervision */
	uint64_t echo_req_tx_bytes;
	uint64_t last_rx, last_rx_ns;   /* for the pps in STATUS= */
	double pps;
	sd_event_source *tick, *status_timer, *notify_src, *state_timer, *trim_src;
	sd_event_source *drops_timer;     /* recent drops to monitors */
	struct dlog dlog;         /* tunnel changes, summed up past a few lines a second */
};

int daemon_main(const char *conf_file);

/* Room for n more tunnels (waiting for the workers once if need be):
 * 0, -ENOSPC or -ENOMEM. */
int daemon_reserve(struct daemon *d, uint32_t n);
/* Changes made to d->st reach the workers' reclaim scheme. */
void daemon_commit(struct daemon *d);
/* Tunnel slots a config reserves beyond its file's: runtime and PFCP. */
uint32_t daemon_tunnel_room(const struct conf *c);

/* Reload the config file: applied whole or not at all. Returns 0, or -EINVAL
 * with every error in *errors (a JSON array of strings, caller owns).
 * *warnings may list runtime tunnels that collide with the new config;
 * *pending (when asked for, an array, possibly empty) the settings the file
 * changed that apply only after a restart. */
int daemon_reload(struct daemon *d, json_object **errors, json_object **warnings, json_object **pending);
/* A batch of runtime tunnels to add, checked whole and applied all or
 * nothing: rows with their peers resolved, their line numbers, the errors
 * ("line N: message" when numbered). */
struct daemon_batch {
	struct conf_tunnel *rows;
	uint32_t *lines;
	uint32_t *name_off;
	uint32_t n, cap;
	char *names;
	size_t names_len, names_cap;
	struct conf_addr *ue;
	uint32_t n_ue, ue_cap;
	uint8_t *drop;            /* state file loading: rows left out */
	const struct conf *conf;  /* peers are resolved in */
	bool numbered;
	uint32_t n_errors;        /* every error; the first BATCH_ERRORS_KEPT are kept */
	int code;                 /* -errno of the first error */
	struct daemon_batch_err {
		uint32_t line;    /* 0: of the whole batch */
		char *msg;
	} *err;
	uint32_t n_err, err_cap;
};
struct ctl_tunnel_spec;
void daemon_batch_init(struct daemon_batch *b, bool numbered);
void daemon_batch_fini(struct daemon_batch *b);
/* Add one tunnel (line: its number) or one line of a batch file (blank
 * and comment lines are skipped); an error is kept in b. 0 or -errno. */
int daemon_batch_spec(struct daemon *d, struct daemon_batch *b, const struct ctl_tunnel_spec *sp,
		      uint32_t line);
int daemon_batch_line(struct daemon *d, struct daemon_batch *b, const char *text, uint32_t line);
/* The errors of b, sorted by line, "line N: message" when numbered (at
 * most CONF_MAX_ERRORS, then a count), as a JSON array. */
json_object *daemon_batch_errors(struct daemon_batch *b);
/* Apply b: 0, or -errno with every error kept in b and nothing added. */
int daemon_tunnels_add(struct daemon *d, struct daemon_batch *b);
/* Remove the runtime tunnels names[0..n) (lines: their line numbers, or
 * NULL), all or none: 0, or -errno with the errors in *errors. */
int daemon_tunnels_del(struct daemon *d, const char *const *names, const uint32_t *lines, uint32_t n,
		       json_object **errors);
int daemon_tunnel_del(struct daemon *d, const char *name, char *err, size_t errlen);
/* Send an event to monitor clients; takes ownership of fields. */
void daemon_event(struct daemon *d, const char *event, json_object *fields);
/* Add what the XDP fast path carried to the workers' counters st (summed by
 * dp_stats); its own totals in *out when asked for. */
void daemon_stats_xdp(struct daemon *d, struct wstats *st, struct xdp_totals *out);
/* The peer's state name: "up", "down", "unknown". */
const char *daemon_peer_state(const struct peer *p);

#endif
