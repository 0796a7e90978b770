/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The commands of the control socket, implemented by the daemon on its live
 * state, given to the transport (ctl.c) as its table: it looks a command up by name,
 * checks privilege for mutating ones, and sends what the function returns.
 *
 * The JSON each command returns as "data" is the one data model shared by the
 * daemon, gtpuctl's tables and --json, and the Prometheus exposition. Keys are
 * stable and documented in gtpuctl(8):
 *
 * status:  {"version":"0.1.0","pid":N,"uptime":SECONDS,"config":"FILE",
 *           "workers":N,"peers":N,"peers_up":N,"tunnels":N,"runtime_tunnels":N,
 *           "reloads":N,"last_reload":"ok"|"failed"|null,"tun":S|null}
 * reload:  null, or {"warnings":[S,...]} naming runtime tunnels that collide
 * stats:   {"rx_packets":N,"rx_bytes":N,"tx_packets":N,"tx_bytes":N,
 *           "forwarded":N,"answered":N,"signalling_answered":N,
 *           "signalling_received":N,"dropped":N,"buffered":N,
 *           (rx_packets = forwarded + answered + dropped + buffered, answered =
 *           signalling_answered + signalling_received; tx_* include the
 *           Echo Requests sent, as do a peer's)
 *           "drops":{"REASON":N,...},          every reason, also when 0
 *           "echo_requests_sent":N,"echo_requests_received":N,
 *           "echo_responses_sent":N,"echo_responses_received":N,
 *           "error_indications_sent":N,"error_indications_received":N,
 *           "supp_ext_notifs_sent":N,"end_markers":N,
 *           "tun_rx_packets":N,"tun_tx_packets":N,
 *           "icmp_sent":N,"events_lost":N,"drops_recorded":N,
 *           "log_lines":N,"log_lines_suppressed":N,
 *           "xdp_forwarded":N,"xdp_passed":N,
 *           "paths":{"sockets":{"rx_packets":N,"forwarded":N},
 *                    "xdp":{"mode":S,"rx_packets":N,"forwarded":N,"tx_lost":N,"passed":N,
 *                           "not_offloaded":N}}}
 *           (the top-level counts are both paths' sum)
 * peers:   [{"name":S,"address":S,"port":N,"echo":B,
 *            "state":"up"|"down"|"unknown","rtt_us":N|null,"recovery":N|null,
 *            "rx_packets":N,"rx_bytes":N,"tx_packets":N,"tx_bytes":N,
 *            "echo_requests_sent":N,"echo_timeouts":N,"down_count":N,
 *            "error_indications_received":N}, ...]
 * tunnels: [{"name":S,"runtime":B,"origin":"file"|"runtime","from":{"peer":S,"teid":N},"to":{"peer":S,"teid":N},
 *            "ue":[S,...],"qfi":N|null,"rate":N|null,"burst":N|null,
 *            "rx_packets":N,"rx_bytes":N,"tx_packets":N,"tx_bytes":N,
 *            "dropped":N,"drops":{"REASON":N,...},   only reasons it has
 *            "error_indications_received":N}, ...]
 *          ("tunnels NAME" returns the same array with one element)
 * drops:   [{"time":SECONDS.mmm,"reason":S,"source":S|null,"port":N|null,
 *            "destination":S|null,"peer":S|null,"teid":N|null,"tunnel":S|null,
 *            "from_tun":B,"worker":N}, ...]   oldest first
 *          (the same objects, as "drop" events, to "monitor drops")
 * metrics: {"text":"...Prometheus exposition 0.0.4..."}
 * tunnel add / tunnel del / reload: null data on success; with a "batch"
 *          (lines), {"added":N} or {"removed":N}, and on failure an error
 *          a line, "line N: message".
 */
#ifndef GTPUD_CTL_CMDS_H
#define GTPUD_CTL_CMDS_H

#include <stdbool.h>
#include <json-c/json.h>

#include "ctl.h"

struct daemon;

/* The daemon's commands, given to ctl_new with the daemon as their context. */
extern const struct ctl_cmd ctl_cmds[];   /* ended by a NULL name */
/* The recent drops the workers recorded since the last call, as "drop"
 * events to "monitor drops" clients and, with log_level debug, as log lines
 * (the daemon calls it on a timer, often while ctl_cmds_drops_watched). */
void ctl_cmds_drops_poll(struct daemon *d);
bool ctl_cmds_drops_watched(struct daemon *d);
/* The Prometheus text of the live state (malloc'd), for metrics and HTTP. */
char *ctl_cmds_metrics_text(struct daemon *d);

#endif
