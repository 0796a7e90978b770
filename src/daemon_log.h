/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the daemon tells the journal about itself and its changes: the
 * start line, what a reload changed, and tunnel changes, which a
 * controller may make by the thousand a second, summed up past a few
 * lines a second so that the journal is not flooded. */
#ifndef GTPUD_DAEMON_LOG_H
#define GTPUD_DAEMON_LOG_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "conf.h"
#include "table.h"

#define DLOG_TUNNEL_LINES 10      /* tunnel change lines a second; the rest summed up */
#define DLOG_NAMES 3              /* names a line lists before "..." */

struct dlog {
	sd_event *ev;
	sd_event_source *flush;   /* the summary of the second, armed when one is due */
	uint64_t window_ns;       /* start of the current second (monotonic) */
	unsigned lines;           /* tunnel change lines in it */
	uint64_t added, removed;  /* changes not logged one by one since */
	char by[64];              /* who asked for the last of them */
	const char *cause;        /* who asks now when no control client does */
};

void dlog_init(struct dlog *l, sd_event *ev);
void dlog_fini(struct dlog *l);

/* n tunnels added (or removed), the first called name, by whom ("uid 1000
 * pid 4242", "an Error Indication from upf"); detail ("enb/0x100 ->
 * upf/0x200") for a single one, or NULL. */
void dlog_tunnels(struct dlog *l, bool added, const char *name, const char *detail, uint32_t n,
		  const char *by);

/* What the configuration c changes against the running state old, into
 * line: peers and tunnels of the file added, removed and changed (counts,
 * and names up to DLOG_NAMES), and the other settings that changed, or
 * "nothing changed". Call before c is applied. */
void dlog_reload(const struct state *old, const struct conf *c, char *line, size_t len);

/* "1 peer", "2 peers". */
const char *dlog_count(char *buf, size_t len, uint64_t n, const char *one, const char *many);
/* "SIGTERM", or "signal 42". */
const char *dlog_signal(int sig, char *buf, size_t len);

#endif
