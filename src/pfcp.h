/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The PFCP user plane (TS 29.244, Sx/N4) on the daemon's control thread:
 * associations with the control-plane nodes that pfcp.allow names,
 * heartbeats, and sessions whose rules become tunnels in the table. */
#ifndef GTPUD_PFCP_H
#define GTPUD_PFCP_H

#include <stdint.h>
#include <json-c/json.h>
#include <sys/socket.h>

#include "conf.h"

struct daemon;
struct peer;
struct pfcp;

/* Bind pfcp.listen (or take the sockets systemd passed, fds[0..n)) and
 * start; 0 or -errno with a sentence in err. */
int pfcp_new(struct daemon *d, const struct conf_pfcp *c, const int *fds, unsigned n,
	     struct pfcp **out, char *err, size_t errlen);
void pfcp_free(struct pfcp *pf);
/* Take the packets the workers hold for buffering FARs (FAR BUFF) into
 * their sessions' buffers. pf may be NULL. */
void pfcp_hold_drain(struct pfcp *pf);
/* A reload: the allow list, heartbeat and limits apply now; listen and
 * node_id only after a restart (the caller reports them). */
void pfcp_reload(struct pfcp *pf, const struct conf_pfcp *c);
/* The path to GTP-U peer p failed (Echo): Node Report to the nodes whose
 * sessions use it. */
void pfcp_peer_down(struct pfcp *pf, const struct peer *p);
/* count Error Indications arrived for PFCP tunnel tunnel (its name) from
 * peer p with TEID teid: a Session Report to the owning node. */
void pfcp_error_ind(struct pfcp *pf, const char *tunnel, const struct peer *p, uint32_t teid);

json_object *pfcp_nodes_json(const struct pfcp *pf);
/* Sessions from the cursor on, at most max; *cursor moves past them (0
 * when done). */
json_object *pfcp_sessions_json(const struct pfcp *pf, uint64_t *cursor, unsigned max);
/* Counters for status, stats and metrics. */
json_object *pfcp_stats_json(const struct pfcp *pf);
/* Prometheus lines for the metrics page (appended to buf, *len). */
void pfcp_metrics(const struct pfcp *pf, char **buf, size_t *len, size_t *cap);

#endif
