/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Prometheus text exposition 0.0.4 from the commands' JSON. Each family is a
 * table row (name, type, help, JSON key) so that names and keys stay in one
 * place; labelled families list every peer, tunnel or drop reason, zeros
 * included, so that rate() works from the first scrape. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

enum kind { COUNTER, GAUGE };

struct family {
	const char *name;
	enum kind kind;
	const char *help;
	const char *key;          /* in the command's JSON */
};

static const struct family status_fams[] = {
	{ "gtpud_uptime_seconds", GAUGE, "Seconds since gtpud started.", "uptime" },
	{ "gtpud_workers", GAUGE, "Datapath worker threads.", "workers" },
	{ "gtpud_peers", GAUGE, "Configured peers.", "peers" },
	{ "gtpud_peers_up", GAUGE, "Peers whose path is up.", "peers_up" },
	{ "gtpud_tunnels", GAUGE, "Tunnels, from the configuration file and added at run time.", "tunnels" },
	{ "gtpud_runtime_tunnels", GAUGE, "Tunnels added at run time (gtpuctl tunnel add).", "runtime_tunnels" },
	{ "gtpud_reloads_total", COUNTER, "Configuration reloads, applied or refused.", "reloads" },
};

/* What each counts, exactly: gtpud(8) and gtpuctl(8) say the same. */
static const struct family stats_fams[] = {
	{ "gtpud_received_packets_total", COUNTER,
	  "Packets received: GTP-U datagrams on the listening sockets from any source, and packets read "
	  "from the TUN device. Each is forwarded, answered, taken in or dropped: received = forwarded + "
	  "answered + dropped.", "rx_packets" },
	{ "gtpud_received_bytes_total", COUNTER,
	  "Bytes of the packets received: UDP payload of GTP-U datagrams, IP packets read from the TUN device.",
	  "rx_bytes" },
	{ "gtpud_sent_packets_total", COUNTER,
	  "GTP-U datagrams sent to any destination: relayed and encapsulated G-PDUs, Echo Requests and "
	  "Responses, Error Indications, Supported Extension Headers Notifications.", "tx_packets" },
	{ "gtpud_sent_bytes_total", COUNTER, "Bytes of the GTP-U datagrams sent (UDP payload).", "tx_bytes" },
	{ "gtpud_forwarded_total", COUNTER,
	  "Packets received and passed on: relayed to a peer, written to the TUN device, or read from it and "
	  "sent to a peer.", "forwarded" },
	{ "gtpud_answered_total", COUNTER,
	  "Signalling received and handled: gtpud_signalling_answered_total plus "
	  "gtpud_signalling_received_total (the middle term of received = forwarded + answered + dropped).",
	  "answered" },
	{ "gtpud_signalling_answered_total", COUNTER,
	  "Echo Requests received and answered with an Echo Response that was sent.", "signalling_answered" },
	{ "gtpud_signalling_received_total", COUNTER,
	  "Signalling received from peers and taken in without an answer: Echo Responses, Error Indications "
	  "for a tunnel, Supported Extension Headers Notifications, End Markers of endpoint tunnels.",
	  "signalling_received" },
	{ "gtpud_echo_requests_sent_total", COUNTER,
	  "Echo Requests sent to peers by the path supervision (also in gtpud_sent_packets_total).",
	  "echo_requests_sent" },
	{ "gtpud_echo_requests_received_total", COUNTER,
	  "Echo Requests received from any source, answered or not.", "echo_requests_received" },
	{ "gtpud_echo_responses_sent_total", COUNTER, "Echo Responses sent.", "echo_responses_sent" },
	{ "gtpud_echo_responses_received_total", COUNTER,
	  "Echo Responses received from peers (those of other sources are dropped as unknown_peer).",
	  "echo_responses_received" },
	{ "gtpud_error_indications_sent_total", COUNTER, "Error Indications sent.", "error_indications_sent" },
	{ "gtpud_error_indications_received_total", COUNTER,
	  "Error Indications received and taken in: from the peer they name, for a TEID a tunnel sends with "
	  "to it (the others are drops).", "error_indications_received" },
	{ "gtpud_supported_extension_headers_notifications_sent_total", COUNTER,
	  "Supported Extension Headers Notifications sent.", "supp_ext_notifs_sent" },
	{ "gtpud_end_markers_total", COUNTER,
	  "End Markers received on a tunnel from its peer (relayed, or taken in on an endpoint tunnel).",
	  "end_markers" },
	{ "gtpud_tun_rx_packets_total", COUNTER,
	  "Packets read from the TUN device (a TCP super-packet counts as its segments; also in "
	  "gtpud_received_packets_total).", "tun_rx_packets" },
	{ "gtpud_tun_tx_packets_total", COUNTER,
	  "Packets decapsulated and written to the TUN device (merged TCP segments count each).",
	  "tun_tx_packets" },
	{ "gtpud_icmp_sent_total", COUNTER,
	  "ICMP errors (packet too big) written to the TUN device for packets larger than the tunnel MTU.",
	  "icmp_sent" },
	{ "gtpud_events_lost_total", COUNTER,
	  "Worker events (Error Indications received, TUN device lost) lost because their ring was full.",
	  "events_lost" },
	{ "gtpud_drops_recorded_total", COUNTER,
	  "Drops written to the workers' rings of recent drops (gtpuctl drops): a sample, at most 100 a "
	  "second a worker.", "drops_recorded" },
	{ "gtpud_xdp_forwarded_total", COUNTER,
	  "Packets relayed by the XDP fast path and sent (counted in received, sent and forwarded too).",
	  "xdp_forwarded" },
	{ "gtpud_xdp_passed_total", COUNTER,
	  "GTP-U packets to gtpud that the XDP fast path passed up to the sockets.", "xdp_passed" },
	{ "gtpud_log_lines_total", COUNTER, "Log lines written.", "log_lines" },
	{ "gtpud_log_lines_suppressed_total", COUNTER, "Log lines suppressed by rate limits.",
	  "log_lines_suppressed" },
};

/* One prefix for every per-peer family: gtpud_rx_packets_total{peer} and
 * its three siblings were renamed (gtpuctl(8) lists the old names). */
static const struct family peer_fams[] = {
	{ "gtpud_peer_rx_packets_total", COUNTER,
	  "Datagrams received from the peer's address (any port), whatever became of them.", "rx_packets" },
	{ "gtpud_peer_rx_bytes_total", COUNTER, "Bytes (UDP payload) of the datagrams received from the peer's address.",
	  "rx_bytes" },
	{ "gtpud_peer_tx_packets_total", COUNTER,
	  "GTP-U datagrams sent to the peer: G-PDUs, Echo Requests and Responses, Error Indications, "
	  "Notifications.", "tx_packets" },
	{ "gtpud_peer_tx_bytes_total", COUNTER, "Bytes (UDP payload) of the datagrams sent to the peer.", "tx_bytes" },
	{ "gtpud_peer_echo_requests_sent_total", COUNTER,
	  "Echo Requests sent to the peer (also in gtpud_peer_tx_packets_total).", "echo_requests_sent" },
	{ "gtpud_peer_echo_timeouts_total", COUNTER, "Echo Requests to the peer that got no response in time.",
	  "echo_timeouts" },
	{ "gtpud_peer_down_total", COUNTER, "Times the path to the peer went down.", "down_count" },
	{ "gtpud_peer_error_indications_received_total", COUNTER,
	  "Error Indications from the peer taken in for one of its tunnels.", "error_indications_received" },
};

static const struct family tunnel_fams[] = {
	{ "gtpud_tunnel_rx_packets_total", COUNTER,
	  "G-PDUs and End Markers received on the tunnel from its peer.", "rx_packets" },
	{ "gtpud_tunnel_rx_bytes_total", COUNTER, "Bytes (UDP payload) of the datagrams received on the tunnel.",
	  "rx_bytes" },
	{ "gtpud_tunnel_tx_packets_total", COUNTER,
	  "G-PDUs sent on the tunnel to its peer: relayed, or encapsulated from the TUN device.", "tx_packets" },
	{ "gtpud_tunnel_tx_bytes_total", COUNTER, "Bytes (UDP payload) of the G-PDUs sent on the tunnel.", "tx_bytes" },
	{ "gtpud_tunnel_error_indications_received_total", COUNTER,
	  "Error Indications received for the tunnel.", "error_indications_received" },
	{ "gtpud_tunnel_dropped_total", COUNTER,
	  "Packets of the tunnel dropped, all reasons (gtpud_tunnel_drops_total by reason).", "dropped" },
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void header(FILE *f, const char *name, enum kind kind, const char *help)
{
	/* Our help texts contain neither '\\' nor newlines: no escaping needed. */
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, kind == COUNTER ? "counter" : "gauge");
}

/* A label value: backslash, double quote and line feed are escaped. */
static void label_value(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '\\': fputs("\\\\", f); break;
		case '"': fputs("\\\"", f); break;
		case '\n': fputs("\\n", f); break;
		default: fputc(*s, f); break;
		}
	}
}

static void number(FILE *f, json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_int:
		if (json_object_get_int64(v) < 0)
			fprintf(f, "%" PRId64, json_object_get_int64(v));
		else
			fprintf(f, "%" PRIu64, json_object_get_uint64(v));
		break;
	case json_type_double: {
		double d = json_object_get_double(v);

		if (isnan(d))
			fputs("NaN", f);
		else if (isinf(d))
			fputs(d > 0 ? "+Inf" : "-Inf", f);
		else
			fprintf(f, "%.17g", d);
		break;
	}
	case json_type_boolean:
		fputs(json_object_get_boolean(v) ? "1" : "0", f);
		break;
	default:
		/* Missing or null: a series that exists from 0. */
		fputs("0", f);
		break;
	}
}

static json_object *get(json_object *o, const char *key)
{
	json_object *v = NULL;

	if (o)
		json_object_object_get_ex(o, key, &v);
	return v;
}

static const char *get_str(json_object *o, const char *key)
{
	json_object *v = get(o, key);

	return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
}

static void sample(FILE *f, const char *name, const char *label, const char *lvalue, json_object *v)
{
	fputs(name, f);
	if (label) {
		fprintf(f, "{%s=\"", label);
		label_value(f, lvalue);
		fputs("\"}", f);
	}
	fputc(' ', f);
	number(f, v);
	fputc('\n', f);
}

static void plain(FILE *f, const struct family *fams, size_t n, json_object *o)
{
	size_t i;

	for (i = 0; i < n; i++) {
		header(f, fams[i].name, fams[i].kind, fams[i].help);
		sample(f, fams[i].name, NULL, NULL, get(o, fams[i].key));
	}
}

/* One family per row of fams, one sample per element of arr. */
static void labelled(FILE *f, const struct family *fams, size_t n, json_object *arr, const char *label)
{
	size_t i, j, len = json_object_is_type(arr, json_type_array) ? json_object_array_length(arr) : 0;

	for (i = 0; i < n; i++) {
		header(f, fams[i].name, fams[i].kind, fams[i].help);
		for (j = 0; j < len; j++) {
			json_object *e = json_object_array_get_idx(arr, j);

			sample(f, fams[i].name, label, get_str(e, "name"), get(e, fams[i].key));
		}
	}
}

static void status_extra(FILE *f, json_object *status)
{
	json_object *lr = get(status, "last_reload");

	header(f, "gtpud_build_info", GAUGE, "Version of gtpud; the value is always 1.");
	fputs("gtpud_build_info{version=\"", f);
	label_value(f, get_str(status, "version"));
	fputs("\"} 1\n", f);
	header(f, "gtpud_config_last_reload_successful", GAUGE,
	       "Whether the last reload was applied (1) or refused (0); 1 before any reload.");
	fprintf(f, "gtpud_config_last_reload_successful %d\n",
		json_object_is_type(lr, json_type_string) && !strcmp(json_object_get_string(lr), "failed") ? 0 : 1);
}

static void drops(FILE *f, json_object *stats)
{
	json_object *d = get(stats, "drops");

	header(f, "gtpud_drops_total", COUNTER, "Packets received and dropped, by reason.");
	if (!json_object_is_type(d, json_type_object))
		return;
	json_object_object_foreach(d, reason, v)
		sample(f, "gtpud_drops_total", "reason", reason, v);
}

static void peers_extra(FILE *f, json_object *peers)
{
	size_t j, len = json_object_is_type(peers, json_type_array) ? json_object_array_length(peers) : 0;

	header(f, "gtpud_peer_up", GAUGE, "Path state of the peer: 1 up, 0 down or unknown.");
	for (j = 0; j < len; j++) {
		json_object *p = json_object_array_get_idx(peers, j);

		fputs("gtpud_peer_up{peer=\"", f);
		label_value(f, get_str(p, "name"));
		fprintf(f, "\"} %d\n", !strcmp(get_str(p, "state"), "up"));
	}
	header(f, "gtpud_peer_rtt_seconds", GAUGE,
	       "Round-trip time of the last Echo exchange with the peer; NaN before the first.");
	for (j = 0; j < len; j++) {
		json_object *p = json_object_array_get_idx(peers, j), *rtt = get(p, "rtt_us");

		fputs("gtpud_peer_rtt_seconds{peer=\"", f);
		label_value(f, get_str(p, "name"));
		if (json_object_is_type(rtt, json_type_int))
			fprintf(f, "\"} %.6f\n", (double)json_object_get_uint64(rtt) / 1e6);
		else
			fputs("\"} NaN\n", f);
	}
	header(f, "gtpud_peer_info", GAUGE, "Address and port of the peer; the value is always 1.");
	for (j = 0; j < len; j++) {
		json_object *p = json_object_array_get_idx(peers, j);

		fputs("gtpud_peer_info{peer=\"", f);
		label_value(f, get_str(p, "name"));
		fputs("\",address=\"", f);
		label_value(f, get_str(p, "address"));
		fprintf(f, "\",port=\"%" PRIu64 "\"} 1\n", json_object_get_uint64(get(p, "port")));
	}
}

/* Drops of each tunnel by reason: only the reasons it has (its "drops"
 * object lists none of the others), as a million tunnels times every
 * reason would be series nobody can store. */
static void tunnel_drops(FILE *f, json_object *tunnels)
{
	size_t j, len = json_object_is_type(tunnels, json_type_array) ? json_object_array_length(tunnels) : 0;

	header(f, "gtpud_tunnel_drops_total", COUNTER,
	       "Packets of the tunnel dropped, by reason; a series appears with the first drop.");
	for (j = 0; j < len; j++) {
		json_object *t = json_object_array_get_idx(tunnels, j), *d = get(t, "drops");

		if (!json_object_is_type(d, json_type_object))
			continue;
		json_object_object_foreach(d, reason, v) {
			fputs("gtpud_tunnel_drops_total{tunnel=\"", f);
			label_value(f, get_str(t, "name"));
			fputs("\",reason=\"", f);
			label_value(f, reason);
			fputs("\"} ", f);
			number(f, v);
			fputc('\n', f);
		}
	}
}

char *metrics_render(json_object *status, json_object *stats, json_object *peers, json_object *tunnels)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	status_extra(f, status);
	plain(f, status_fams, N(status_fams), status);
	plain(f, stats_fams, N(stats_fams), stats);
	drops(f, stats);
	labelled(f, peer_fams, N(peer_fams), peers, "peer");
	peers_extra(f, peers);
	labelled(f, tunnel_fams, N(tunnel_fams), tunnels, "tunnel");
	tunnel_drops(f, tunnels);
	if (ferror(f)) {
		fclose(f);
		free(buf);
		return NULL;
	}
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}
