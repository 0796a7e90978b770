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

#include "dp.h"
#include "table.h"
#include "tun.h"

/* Exit statuses of gtpud (gtpud(8)). */
enum {
	EXIT_OK = 0,
	EXIT_CONFIG = 1,          /* invalid config */
	EXIT_USAGE = 2,
	EXIT_STARTUP = 3,         /* bind, TUN, permission, unreadable config */
};

#define DAEMON_MAX_RUNTIME 65536  /* tunnels added through the control socket */

struct daemon {
	sd_event *ev;
	const char *conf_file;
	unsigned n_workers;
	struct dp dp;
	struct state *st;         /* the published state; control thread's view */
	struct rt_tunnel *rt;
	uint32_t n_rt;
	struct tun_dev tun;
	bool has_tun;
	bool tun_lost;            /* the device was deleted under us */
	struct ctl *ctl;
	struct http *http;
	time_t start_time;
	uint64_t start_ns;
	unsigned reloads;
	int last_reload;          /* -1 none, 0 applied, 1 failed */
	uint64_t echo_req_tx;     /* Echo Requests sent by the supervision */
	uint64_t last_rx, last_rx_ns;   /* for the pps in STATUS= */
	double pps;
	sd_event_source *tick, *status_timer, *notify_src;
};

int daemon_main(const char *conf_file);

/* Reload the config file: applied whole or not at all. Returns 0, or -EINVAL
 * with every error in *errors (a JSON array of strings, caller owns).
 * *warnings may list runtime tunnels that collide with the new config. */
int daemon_reload(struct daemon *d, json_object **errors, json_object **warnings);
/* Add or remove a runtime tunnel; err gets a sentence. */
int daemon_tunnel_add(struct daemon *d, const struct rt_tunnel *t, char *err, size_t errlen);
int daemon_tunnel_del(struct daemon *d, const char *name, char *err, size_t errlen);
/* Send an event to monitor clients; takes ownership of fields. */
void daemon_event(struct daemon *d, const char *event, json_object *fields);
/* The peer's state name: "up", "down", "unknown". */
const char *daemon_peer_state(const struct peer *p);

#endif
