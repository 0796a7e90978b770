/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gtpuctl: the control client of gtpud. Sends one request over the control
 * socket (ctl_proto.h) and prints the reply as tables for people or as the
 * reply's JSON data for scripts (--json). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "ctl_proto.h"

enum exit_code {
	EXIT_OK = 0,
	EXIT_FAILED = 1,          /* the daemon refused or failed the command */
	EXIT_USAGE = 2,
	EXIT_CONNECT = 3,
	EXIT_PERM = 4,
	EXIT_PROTO = 5,
	EXIT_PENDING = 6,         /* reload applied; some settings wait for a restart */
	EXIT_TIMEOUT = 7,         /* no answer within the timeout */
};

/* How long gtpuctl waits for gtpud to send something, by default: a
 * running daemon answers at once; a socket that systemd holds for a
 * service that cannot start never does. Reading a large file or batch
 * takes longer. */
#define TIMEOUT_DEFAULT 5.0
#define TIMEOUT_DEFAULT_LONG 60.0

#define MAX_COLS 10
#define MAX_REPLY (1u << 30)

static bool json_out;
static bool exact;               /* counts and bytes unabbreviated */
static double timeout = -1;      /* seconds; 0: wait forever; < 0: the default */

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: gtpuctl [-s SOCKET] [-c CONFIG] [-j] [-x] [-t SECONDS] COMMAND [ARGS]\n"
		"       gtpuctl -V | -h\n"
		"\n"
		"Commands:\n"
		"  status                 version, uptime, config file, workers, counts\n"
		"  stats                  global counters and drops by reason\n"
		"  peers                  each peer: address, state, last echo RTT, counters\n"
		"  tunnels [NAME]         each tunnel: from, to, ue, counters, drops\n"
		"  drops                  the most recent drops: reason, source, peer, TEID, time\n"
		"  pfcp                   PFCP associations: node, address, state, sessions\n"
		"  sessions               PFCP sessions: SEIDs, node, rules, what is held, tunnels\n"
		"  tunnel add NAME from PEER TEID to PEER TEID [ue ADDR...] [qfi N] [rate BPS] [burst BYTES]\n"
		"  tunnel add -f FILE|-   add the tunnels of FILE, one a line, all or none\n"
		"  tunnel del NAME\n"
		"  tunnel del -f FILE|-   remove the tunnels named in FILE, one a line, all or none\n"
		"  reload                 reload the configuration file\n"
		"  metrics                Prometheus text exposition\n"
		"  monitor [drops]        print events (or drops as they happen) until interrupted\n"
		"\n"
		"Options:\n"
		"  -s, --socket SOCKET    control socket (default $" CTL_SOCKET_ENV " or " CTL_DEFAULT_SOCKET ")\n"
		"  -c, --config FILE      take the socket path from gtpud's configuration file\n"
		"  -j, --json             print the reply's data as JSON\n"
		"  -x, --exact            print counts and bytes in full, not as 40.0M\n"
		"  -t, --timeout SECONDS  give up when gtpud sends nothing for SECONDS (default 5,\n"
		"                         60 for reload and -f batches; 0 waits forever)\n"
		"  -V, --version          print the version and exit\n"
		"  -h, --help             print this help and exit\n"
		"Options may also follow the command; \"--\" ends them.\n");
}

/* ---- human units ---- */

/* v with an SI prefix: "950", "1.2k", "3.4M"; with unit "B": "950 B",
 * "1.2 kB". */
static const char *fmt_si(uint64_t v, const char *unit, char *buf, size_t len)
{
	static const char *const prefix[] = { "k", "M", "G", "T", "P", "E" };
	const char *sep = *unit ? " " : "";
	double d = (double)v;
	int i = -1;

	if (v < 1000 || exact) {
		snprintf(buf, len, "%" PRIu64 "%s%s", v, sep, unit);
		return buf;
	}
	while (d >= 999.95 && i < 5) {
		d /= 1000;
		i++;
	}
	snprintf(buf, len, "%.1f%s%s%s", d, sep, prefix[i], unit);
	return buf;
}

static const char *fmt_count(uint64_t v, char *buf, size_t len)
{
	return fmt_si(v, "", buf, len);
}

static const char *fmt_bytes(uint64_t v, char *buf, size_t len)
{
	return fmt_si(v, "B", buf, len);
}

static const char *fmt_duration(uint64_t s, char *buf, size_t len)
{
	if (s >= 86400)
		snprintf(buf, len, "%" PRIu64 "d %" PRIu64 "h %" PRIu64 "m", s / 86400, s / 3600 % 24, s / 60 % 60);
	else if (s >= 3600)
		snprintf(buf, len, "%" PRIu64 "h %" PRIu64 "m %" PRIu64 "s", s / 3600, s / 60 % 60, s % 60);
	else if (s >= 60)
		snprintf(buf, len, "%" PRIu64 "m %" PRIu64 "s", s / 60, s % 60);
	else
		snprintf(buf, len, "%" PRIu64 "s", s);
	return buf;
}

static const char *fmt_rtt(json_object *v, char *buf, size_t len)
{
	uint64_t us;

	if (!v || json_object_is_type(v, json_type_null))
		return "-";
	us = json_object_get_uint64(v);
	if (us < 1000)
		snprintf(buf, len, "%" PRIu64 "us", us);
	else if (us < 1000000)
		snprintf(buf, len, "%.1fms", (double)us / 1e3);
	else
		snprintf(buf, len, "%.2fs", (double)us / 1e6);
	return buf;
}

static json_object *get(json_object *o, const char *key)
{
	json_object *v = NULL;

	json_object_object_get_ex(o, key, &v);
	return v;
}

static uint64_t get_u64(json_object *o, const char *key)
{
	return json_object_get_uint64(get(o, key));
}

static const char *get_str(json_object *o, const char *key, const char *dflt)
{
	json_object *v = get(o, key);

	return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : dflt;
}

/* ---- tables ---- */

struct table {
	unsigned ncols;
	const char *hdr[MAX_COLS];
	bool right[MAX_COLS];     /* numbers align right */
	size_t nrows;
	char **cells;             /* nrows * ncols, owned */
};

static void table_add(struct table *t, const char *const *row)
{
	char **c = realloc(t->cells, (t->nrows + 1) * t->ncols * sizeof(*c));
	unsigned i;

	if (!c) {
		fprintf(stderr, "gtpuctl: out of memory\n");
		exit(EXIT_FAILED);
	}
	t->cells = c;
	for (i = 0; i < t->ncols; i++) {
		c[t->nrows * t->ncols + i] = strdup(row[i] ? row[i] : "-");
		if (!c[t->nrows * t->ncols + i]) {
			fprintf(stderr, "gtpuctl: out of memory\n");
			exit(EXIT_FAILED);
		}
	}
	t->nrows++;
}

static void print_row(const struct table *t, const size_t *w, const char *const *cells)
{
	unsigned i;

	for (i = 0; i < t->ncols; i++) {
		bool last = i + 1 == t->ncols;

		if (t->right[i])
			printf("%*s", (int)w[i], cells[i]);
		else if (last)
			printf("%s", cells[i]);
		else
			printf("%-*s", (int)w[i], cells[i]);
		fputs(last ? "\n" : "  ", stdout);
	}
}

static void table_print(struct table *t)
{
	size_t w[MAX_COLS], r;
	unsigned i;

	for (i = 0; i < t->ncols; i++)
		w[i] = strlen(t->hdr[i]);
	for (r = 0; r < t->nrows; r++)
		for (i = 0; i < t->ncols; i++) {
			size_t l = strlen(t->cells[r * t->ncols + i]);

			if (l > w[i])
				w[i] = l;
		}
	print_row(t, w, t->hdr);
	for (r = 0; r < t->nrows; r++)
		print_row(t, w, (const char *const *)&t->cells[r * t->ncols]);
	for (r = 0; r < t->nrows * t->ncols; r++)
		free(t->cells[r]);
	free(t->cells);
	t->cells = NULL;
	t->nrows = 0;
}

/* ---- printers, one per command ---- */

static void print_kv(const char *k, const char *v)
{
	printf("%-32s %s\n", k, v);
}

static void print_status(json_object *d)
{
	char b1[64], b2[96];
	json_object *lr = get(d, "last_reload");

	print_kv("version", get_str(d, "version", "-"));
	snprintf(b2, sizeof(b2), "%" PRIu64, get_u64(d, "pid"));
	print_kv("pid", b2);
	print_kv("uptime", fmt_duration(get_u64(d, "uptime"), b1, sizeof(b1)));
	print_kv("config", get_str(d, "config", "-"));
	snprintf(b2, sizeof(b2), "%" PRIu64, get_u64(d, "workers"));
	print_kv("workers", b2);
	snprintf(b2, sizeof(b2), "%" PRIu64 " (%" PRIu64 " up)", get_u64(d, "peers"), get_u64(d, "peers_up"));
	print_kv("peers", b2);
	snprintf(b2, sizeof(b2), "%" PRIu64 " (%" PRIu64 " runtime)", get_u64(d, "tunnels"),
		 get_u64(d, "runtime_tunnels"));
	print_kv("tunnels", b2);
	snprintf(b2, sizeof(b2), "%" PRIu64 " (last %s)", get_u64(d, "reloads"),
		 json_object_is_type(lr, json_type_string) ? json_object_get_string(lr) : "none");
	print_kv("reloads", b2);
}

static void print_stats(json_object *d)
{
	static const struct { const char *key, *label; bool bytes; } rows[] = {
		{ "rx_packets", "received packets", false },
		{ "rx_bytes", "received bytes", true },
		{ "tx_packets", "sent packets", false },
		{ "tx_bytes", "sent bytes", true },
		{ "forwarded", "forwarded", false },
		{ "signalling_answered", "signalling answered", false },
		{ "signalling_received", "signalling received", false },
		{ "dropped", "dropped", false },
		{ "buffered", "buffered", false },
		{ "echo_requests_sent", "echo requests sent", false },
		{ "echo_requests_received", "echo requests received", false },
		{ "echo_responses_sent", "echo responses sent", false },
		{ "echo_responses_received", "echo responses received", false },
		{ "error_indications_sent", "error indications sent", false },
		{ "error_indications_received", "error indications received", false },
		{ "supp_ext_notifs_sent", "ext. headers notifications sent", false },
		{ "end_markers", "end markers", false },
		{ "tun_rx_packets", "tun received packets", false },
		{ "tun_tx_packets", "tun sent packets", false },
		{ "icmp_sent", "icmp errors sent", false },
		{ "events_lost", "events lost", false },
		{ "drops_recorded", "drops recorded", false },
		{ "log_lines", "log lines", false },
		{ "log_lines_suppressed", "log lines suppressed", false },
	};
	json_object *drops = get(d, "drops"), *paths = get(d, "paths");
	char buf[64], label[96];
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		uint64_t v = get_u64(d, rows[i].key);

		print_kv(rows[i].label, rows[i].bytes ? fmt_bytes(v, buf, sizeof(buf)) :
			 fmt_count(v, buf, sizeof(buf)));
	}
	/* How much each path carried: the sockets, the XDP fast path. */
	if (json_object_is_type(paths, json_type_object)) {
		json_object *sk = get(paths, "sockets"), *xp = get(paths, "xdp");

		printf("forwarded by path:\n");
		print_kv("  sockets", fmt_count(get_u64(sk, "forwarded"), buf, sizeof(buf)));
		snprintf(label, sizeof(label), "  xdp (%s)", get_str(xp, "mode", "off"));
		print_kv(label, fmt_count(get_u64(xp, "forwarded"), buf, sizeof(buf)));
		print_kv("  xdp passed to the sockets", fmt_count(get_u64(xp, "passed"), buf, sizeof(buf)));
		print_kv("  xdp relayed, not sent (send_error)", fmt_count(get_u64(xp, "tx_lost"), buf, sizeof(buf)));
	}
	if (!json_object_is_type(drops, json_type_object))
		return;
	printf("drops by reason:\n");
	json_object_object_foreach(drops, k, v) {
		snprintf(label, sizeof(label), "  %s", k);
		print_kv(label, fmt_count(json_object_get_uint64(v), buf, sizeof(buf)));
	}
}

static void print_peers(json_object *d)
{
	struct table t = { 9, { "NAME", "ADDRESS", "STATE", "SINCE", "RTT", "RX-PKTS", "RX-BYTES", "TX-PKTS",
				"TX-BYTES" },
			   { false, false, false, true, true, true, true, true, true }, 0, NULL };
	size_t i, n = json_object_array_length(d);
	time_t now = time(NULL);

	for (i = 0; i < n; i++) {
		json_object *p = json_object_array_get_idx(d, i);
		const char *a = get_str(p, "address", "-");
		char addr[80], rtt[32], c[4][32], since[32];
		const char *row[9];
		int64_t ago = (int64_t)now - (int64_t)get_u64(p, "since");

		snprintf(addr, sizeof(addr), strchr(a, ':') ? "[%s]:%" PRIu64 : "%s:%" PRIu64, a,
			 get_u64(p, "port"));
		row[0] = get_str(p, "name", "-");
		row[1] = addr;
		row[2] = get_str(p, "state", "-");
		/* How long the peer has been in its state: 42s, 7m, 3h, 2d. */
		if (ago < 0)
			ago = 0;
		snprintf(since, sizeof(since), "%" PRId64 "%s", ago < 120 ? ago : ago < 7200 ? ago / 60 :
			 ago < 172800 ? ago / 3600 : ago / 86400,
			 ago < 120 ? "s" : ago < 7200 ? "m" : ago < 172800 ? "h" : "d");
		row[3] = since;
		row[4] = fmt_rtt(get(p, "rtt_us"), rtt, sizeof(rtt));
		row[5] = fmt_count(get_u64(p, "rx_packets"), c[0], sizeof(c[0]));
		row[6] = fmt_bytes(get_u64(p, "rx_bytes"), c[1], sizeof(c[1]));
		row[7] = fmt_count(get_u64(p, "tx_packets"), c[2], sizeof(c[2]));
		row[8] = fmt_bytes(get_u64(p, "tx_bytes"), c[3], sizeof(c[3]));
		table_add(&t, row);
	}
	table_print(&t);
}

static const char *fmt_end(json_object *e, char *buf, size_t len)
{
	/* A PFCP tunnel takes any source ("any/0x..."), and may send nothing ("-"). */
	if (!json_object_is_type(get(e, "teid"), json_type_int))
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%s/0x%" PRIx64, get_str(e, "peer", "any"), get_u64(e, "teid"));
	return buf;
}

static const char *fmt_ago(int64_t t, char *buf, size_t len)
{
	int64_t ago = (int64_t)time(NULL) - t;

	if (ago < 0)
		ago = 0;
	snprintf(buf, len, "%" PRId64 "%s", ago < 120 ? ago : ago < 7200 ? ago / 60 :
		 ago < 172800 ? ago / 3600 : ago / 86400,
		 ago < 120 ? "s" : ago < 7200 ? "m" : ago < 172800 ? "h" : "d");
	return buf;
}

static void print_pfcp(json_object *d)
{
	struct table t = { 7, { "NODE", "ADDRESS", "STATE", "SINCE", "RECOVERY", "SESSIONS", "HEARTBEAT" },
			   { false, false, false, true, true, true, true }, 0, NULL };
	size_t n = json_object_array_length(d);

	for (size_t i = 0; i < n; i++) {
		json_object *a = json_object_array_get_idx(d, i);
		char since[32], rts[32], ns[32], hb[32];
		const char *row[7];

		row[0] = get_str(a, "node", "-");
		row[1] = get_str(a, "address", "-");
		row[2] = get_str(a, "state", "-");
		row[3] = fmt_ago((int64_t)get_u64(a, "since"), since, sizeof(since));
		snprintf(rts, sizeof(rts), "%" PRIu64, get_u64(a, "recovery_time_stamp"));
		row[4] = rts;
		snprintf(ns, sizeof(ns), "%" PRIu64, get_u64(a, "sessions"));
		row[5] = ns;
		row[6] = json_object_is_type(get(a, "last_heartbeat"), json_type_int) ?
			 fmt_ago((int64_t)get_u64(a, "last_heartbeat"), hb, sizeof(hb)) : "-";
		table_add(&t, row);
	}
	table_print(&t);
}

static void print_sessions(json_object *d)
{
	struct table t = { 6, { "SEID", "CP-SEID", "NODE", "RULES", "BUFFERED", "TUNNELS" },
			   { false, false, false, false, true, false }, 0, NULL };
	size_t n = json_object_array_length(d);

	for (size_t i = 0; i < n; i++) {
		json_object *a = json_object_array_get_idx(d, i), *tu = get(a, "tunnels"), *bu = get(a, "buffer");
		char rules[96], tun[256] = "", held[32];
		const char *row[6];
		size_t nt = json_object_is_type(tu, json_type_array) ? json_object_array_length(tu) : 0;

		for (size_t j = 0; j < nt; j++) {
			if (j)
				strncat(tun, ",", sizeof(tun) - strlen(tun) - 1);
			strncat(tun, json_object_get_string(json_object_array_get_idx(tu, j)),
				sizeof(tun) - strlen(tun) - 1);
		}
		snprintf(rules, sizeof(rules), "%" PRIu64 " PDR, %" PRIu64 " FAR, %" PRIu64 " QER, %" PRIu64 " URR",
			 get_u64(a, "pdrs"), get_u64(a, "fars"), get_u64(a, "qers"), get_u64(a, "urrs"));
		if (json_object_is_type(bu, json_type_object))
			snprintf(held, sizeof(held), "%" PRIu64, get_u64(bu, "packets"));
		else
			snprintf(held, sizeof(held), "-");
		row[0] = get_str(a, "seid", "-");
		row[1] = get_str(a, "cp_seid", "-");
		row[2] = get_str(a, "node", "-");
		row[3] = rules;
		row[4] = held;
		row[5] = nt ? tun : "-";
		table_add(&t, row);
	}
	table_print(&t);
}

static void print_tunnels(json_object *d)
{
	struct table t = { 10, { "NAME", "ORIGIN", "FROM", "TO", "UE", "QFI", "RATE", "RX", "TX", "DROPS" },
			   { false, false, false, false, false, true, true, true, true, true }, 0, NULL };
	size_t i, j, n = json_object_array_length(d);

	for (i = 0; i < n; i++) {
		json_object *tu = json_object_array_get_idx(d, i), *ue = get(tu, "ue"), *qfi = get(tu, "qfi");
		char from[96], to[96], q[16], rx[32], tx[32], dr[32], rate[32], ues[CONF_MAX_UE * 48] = "";
		const char *row[10];
		size_t nue = json_object_is_type(ue, json_type_array) ? json_object_array_length(ue) : 0;

		for (j = 0; j < nue; j++) {
			if (j)
				strncat(ues, ",", sizeof(ues) - strlen(ues) - 1);
			strncat(ues, json_object_get_string(json_object_array_get_idx(ue, j)),
				sizeof(ues) - strlen(ues) - 1);
		}
		row[0] = get_str(tu, "name", "-");
		row[1] = get_str(tu, "origin", "-");
		row[2] = fmt_end(get(tu, "from"), from, sizeof(from));
		row[3] = fmt_end(get(tu, "to"), to, sizeof(to));
		row[4] = nue ? ues : "-";
		if (json_object_is_type(qfi, json_type_int)) {
			snprintf(q, sizeof(q), "%d", json_object_get_int(qfi));
			row[5] = q;
		} else {
			row[5] = "-";
		}
		/* bit/s with an SI prefix: 10M, 1.5G; in full with --exact. */
		if (json_object_is_type(get(tu, "rate"), json_type_int)) {
			double r = (double)get_u64(tu, "rate");
			const char *u = "";

			if (r >= 1e9) {
				r /= 1e9;
				u = "G";
			} else if (r >= 1e6) {
				r /= 1e6;
				u = "M";
			} else if (r >= 1e3) {
				r /= 1e3;
				u = "k";
			}
			if (exact)
				snprintf(rate, sizeof(rate), "%" PRIu64, get_u64(tu, "rate"));
			else
				snprintf(rate, sizeof(rate), "%g%s", r, u);
			row[6] = rate;
		} else {
			row[6] = "-";
		}
		row[7] = fmt_count(get_u64(tu, "rx_packets"), rx, sizeof(rx));
		row[8] = fmt_count(get_u64(tu, "tx_packets"), tx, sizeof(tx));
		row[9] = fmt_count(get_u64(tu, "dropped"), dr, sizeof(dr));
		table_add(&t, row);
	}
	table_print(&t);
	/* One tunnel asked for by name: why it drops, too. */
	if (n == 1 && json_object_is_type(get(json_object_array_get_idx(d, 0), "drops"), json_type_object)) {
		json_object *dr = get(json_object_array_get_idx(d, 0), "drops");
		char buf[32], label[96];

		if (json_object_object_length(dr))
			printf("drops by reason:\n");
		json_object_object_foreach(dr, k, v) {
			snprintf(label, sizeof(label), "  %s", k);
			print_kv(label, fmt_count(json_object_get_uint64(v), buf, sizeof(buf)));
		}
	}
}

/* An address with its port ("192.0.2.1:2152", "[2001:db8::1]:2152"), or
 * without when it has none. */
static const char *fmt_addr_port(json_object *a, json_object *port, char *buf, size_t len)
{
	const char *s = json_object_get_string(a);

	if (!json_object_is_type(a, json_type_string))
		return "-";
	if (!json_object_is_type(port, json_type_int))
		snprintf(buf, len, "%s", s);
	else
		snprintf(buf, len, strchr(s, ':') ? "[%s]:%" PRId64 : "%s:%" PRId64, s, json_object_get_int64(port));
	return buf;
}

static void print_drops(json_object *d)
{
	struct table t = { 7, { "TIME", "REASON", "SOURCE", "DESTINATION", "PEER", "TEID", "TUNNEL" },
			   { false, false, false, false, false, false, false }, 0, NULL };
	size_t i, n = json_object_array_length(d);

	for (i = 0; i < n; i++) {
		json_object *r = json_object_array_get_idx(d, i), *teid = get(r, "teid");
		double tm = json_object_get_double(get(r, "time"));
		time_t sec = (time_t)tm;
		char when[48] = "-", src[80], dst[80], te[16] = "-";
		const char *row[7];
		struct tm lt;

		/* Local time to the millisecond, as journalctl -o short-precise. */
		if (localtime_r(&sec, &lt)) {
			size_t l = strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &lt);

			snprintf(when + l, sizeof(when) - l, ".%03d", (int)((tm - (double)sec) * 1000) % 1000);
		}
		if (json_object_is_type(teid, json_type_int))
			snprintf(te, sizeof(te), "0x%" PRIx64, (uint64_t)json_object_get_int64(teid));
		row[0] = when;
		row[1] = get_str(r, "reason", "-");
		row[2] = fmt_addr_port(get(r, "source"), get(r, "port"), src, sizeof(src));
		row[3] = fmt_addr_port(get(r, "destination"), NULL, dst, sizeof(dst));
		row[4] = get_str(r, "peer", "-");
		row[5] = te;
		row[6] = get_str(r, "tunnel", "-");
		table_add(&t, row);
	}
	table_print(&t);
}

static void print_event(json_object *ev)
{
	char when[32] = "-";
	time_t t;
	struct tm tm;

	t = (time_t)json_object_get_int64(get(ev, "time"));
	if (localtime_r(&t, &tm))
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	printf("%s %s", when, get_str(ev, "event", "?"));
	json_object_object_foreach(ev, k, v) {
		const char *sv;

		if (!strcmp(k, "event") || !strcmp(k, "time") || !v)
			continue;     /* nothing to say (a drop from no peer) */
		/* TEIDs in hex, as the tables show them; a value with a blank,
		 * a quote or nothing at all in JSON quotes, so a line splits
		 * on blanks into key=value words. */
		if (!strcmp(k, "teid") && json_object_is_type(v, json_type_int)) {
			printf(" %s=0x%" PRIx64, k, (uint64_t)json_object_get_int64(v));
		} else if (json_object_is_type(v, json_type_string)) {
			sv = json_object_get_string(v);
			if (!*sv || strpbrk(sv, " \t\"=\\"))
				printf(" %s=%s", k, json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
			else
				printf(" %s=%s", k, sv);
		} else {
			printf(" %s=%s", k, json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
		}
	}
	printf("\n");
}

/* ---- the connection ---- */

/* The timeout in seconds for cmd: -t, or the default. */
static double timeout_for(const char *cmd)
{
	if (timeout >= 0)
		return timeout;
	if (!strcmp(cmd, "reload") || !strcmp(cmd, "tunnel add") || !strcmp(cmd, "tunnel del"))
		return TIMEOUT_DEFAULT_LONG;
	return TIMEOUT_DEFAULT;
}

/* A blocking wait longer than the timeout fails with EAGAIN: recv and send
 * (SO_RCVTIMEO, SO_SNDTIMEO), and connect to a socket whose backlog is full
 * (the kernel waits for it under SO_SNDTIMEO). 0 waits forever. */
static void set_timeout(int fd, double secs)
{
	struct timeval tv = { (time_t)secs, (suseconds_t)((secs - (double)(time_t)secs) * 1e6) };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static const char *sock_path;    /* for messages */
static const char *cur_cmd = "";
static double cur_timeout;

static void timed_out(void)
{
	fprintf(stderr, "gtpuctl: %s: no answer from gtpud on %s within %g s "
		"(is it starting, or failing to? see systemctl status gtpud; -t 0 waits forever)\n",
		cur_cmd, sock_path, cur_timeout);
	exit(EXIT_TIMEOUT);
}

static int connect_to(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "gtpuctl: cannot connect to %s: %s\n", path, strerror(ENAMETOOLONG));
		exit(EXIT_CONNECT);
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, "gtpuctl: socket: %s\n", strerror(errno));
		exit(EXIT_CONNECT);
	}
	set_timeout(fd, cur_timeout);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;

		if (e == EAGAIN || e == EWOULDBLOCK)
			timed_out();
		if (e == EACCES || e == EPERM) {
			fprintf(stderr, "gtpuctl: cannot connect to %s: %s\n", path, strerror(e));
			exit(EXIT_PERM);
		}
		fprintf(stderr, "gtpuctl: cannot connect to %s: %s%s\n", path, strerror(e),
			e == ENOENT || e == ECONNREFUSED ? " (is gtpud running?)" : "");
		exit(EXIT_CONNECT);
	}
	return fd;
}

static void send_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			timed_out();
		if (n < 0) {
			fprintf(stderr, "gtpuctl: cannot send the request: %s\n", strerror(errno));
			exit(EXIT_PROTO);
		}
		buf += n;
		len -= (size_t)n;
	}
}

/* A buffered line reader on the socket. */
struct reader {
	int fd;
	char *buf;
	size_t len, cap, start;
};

/* Returns the next line (without '\n', NUL-terminated) and its length, or
 * NULL at end of stream. */
static char *read_line(struct reader *r, size_t *len)
{
	for (;;) {
		char *nl = r->len > r->start ? memchr(r->buf + r->start, '\n', r->len - r->start) : NULL;
		ssize_t n;

		if (nl) {
			char *line = r->buf + r->start;

			*nl = '\0';
			*len = (size_t)(nl - line);
			r->start = (size_t)(nl - r->buf) + 1;
			return line;
		}
		if (r->start) {
			memmove(r->buf, r->buf + r->start, r->len - r->start);
			r->len -= r->start;
			r->start = 0;
		}
		if (r->len + 65536 > r->cap) {
			size_t cap = r->cap ? r->cap * 2 : 65536 * 2;
			char *p;

			if (cap > MAX_REPLY) {
				fprintf(stderr, "gtpuctl: reply larger than %u bytes\n", MAX_REPLY);
				exit(EXIT_PROTO);
			}
			p = realloc(r->buf, cap);
			if (!p) {
				fprintf(stderr, "gtpuctl: out of memory\n");
				exit(EXIT_FAILED);
			}
			r->buf = p;
			r->cap = cap;
		}
		n = recv(r->fd, r->buf + r->len, r->cap - r->len - 1, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			timed_out();
		if (n < 0) {
			fprintf(stderr, "gtpuctl: cannot read the reply: %s\n", strerror(errno));
			exit(EXIT_PROTO);
		}
		if (n == 0)
			return NULL;
		r->len += (size_t)n;
	}
}

static const char *socket_path(const char *opt, const char *config)
{
	const char *env;

	if (opt)
		return opt;
	if (config) {
		struct conf_errors errs = { 0 };
		char *path;
		unsigned i;

		/* Only the control group is read: the rest may be broken. */
		if (conf_read_control_path(config, &path, &errs) < 0) {
			for (i = 0; i < errs.n; i++)
				fprintf(stderr, "gtpuctl: %s\n", errs.msg[i]);
			if (errs.count > errs.n)
				fprintf(stderr, "gtpuctl: %u more errors\n", errs.count - errs.n);
			fprintf(stderr, "gtpuctl: cannot read the socket path (control.path) from %s\n", config);
			exit(EXIT_USAGE);
		}
		conf_errors_fini(&errs);
		return path;
	}
	env = getenv(CTL_SOCKET_ENV);
	if (env && *env)
		return env;
	return CTL_DEFAULT_SOCKET;
}

/* tunnel add/del -f FILE: the file ("-": standard input), a line each. */
static const char *batch_file;

static char *batch_request(const char *cmd, const char *file)
{
	FILE *f = strcmp(file, "-") ? fopen(file, "re") : stdin;
	char *text = NULL, *req = NULL, **lines = NULL, *p;
	size_t len = 0, n = 0, cap = 0;

	if (!f) {
		fprintf(stderr, "gtpuctl: %s: cannot open %s: %s\n", cmd, file, strerror(errno));
		exit(EXIT_USAGE);
	}
	{
		FILE *m = open_memstream(&text, &len);
		char buf[65536];
		size_t k;

		while (m && (k = fread(buf, 1, sizeof(buf), f)) > 0)
			fwrite(buf, 1, k, m);
		if (!m || ferror(f) || fclose(m)) {
			fprintf(stderr, "gtpuctl: %s: cannot read %s: %s\n", cmd, file, strerror(errno));
			exit(EXIT_USAGE);
		}
	}
	if (f != stdin)
		fclose(f);
	if (memchr(text, '\0', len)) {
		fprintf(stderr, "gtpuctl: %s: %s holds a NUL byte\n", cmd, file);
		exit(EXIT_USAGE);
	}
	for (p = text; p < text + len;) {
		char *nl = memchr(p, '\n', (size_t)(text + len - p));

		if (n == cap) {
			cap = cap ? cap * 2 : 1024;
			if (!(lines = realloc(lines, cap * sizeof(*lines))))
				goto oom;
		}
		lines[n++] = p;
		if (!nl)
			break;
		*nl = '\0';
		p = nl + 1;
	}
	if (n > CTL_MAX_BATCH) {
		fprintf(stderr, "gtpuctl: %s: %s has %zu lines, at most %u are taken at once\n", cmd, file, n,
			CTL_MAX_BATCH);
		exit(EXIT_USAGE);
	}
	req = ctl_request_build_batch(cmd, (const char *const *)lines, n);
	if (!req)
		goto oom;
	free(lines);
	free(text);
	return req;
oom:
	fprintf(stderr, "gtpuctl: %s: out of memory\n", cmd);
	exit(EXIT_FAILED);
}

/* Map the words of the command line to a protocol command and check the
 * arguments here, so that usage errors need no daemon. */
static const char *command_of(int argc, char **argv, int *first_arg)
{
	static const struct { const char *name; int min, max; } cmds[] = {
		{ "status", 0, 0 }, { "stats", 0, 0 }, { "peers", 0, 0 }, { "tunnels", 0, 1 },
		{ "reload", 0, 0 }, { "metrics", 0, 0 }, { "monitor", 0, 1 }, { "drops", 0, 0 },
		{ "pfcp", 0, 0 }, { "sessions", 0, 0 },
	};
	int nargs;
	size_t i;

	if (argc < 1) {
		fprintf(stderr, "gtpuctl: no command given (see gtpuctl -h)\n");
		exit(EXIT_USAGE);
	}
	if (!strcmp(argv[0], "tunnel")) {
		if (argc == 4 && (!strcmp(argv[1], "add") || !strcmp(argv[1], "del")) &&
		    !strcmp(argv[2], "-f")) {
			batch_file = argv[3];
			*first_arg = 4;
			return !strcmp(argv[1], "add") ? "tunnel add" : "tunnel del";
		}
		if (argc >= 2 && !strcmp(argv[1], "add")) {
			struct ctl_tunnel_spec spec;
			char err[256];

			if (ctl_tunnel_spec_parse((const char *const *)argv + 2, (size_t)argc - 2, &spec,
						  err, sizeof(err)) < 0) {
				fprintf(stderr, "gtpuctl: tunnel add: %s\n", err);
				exit(EXIT_USAGE);
			}
			*first_arg = 2;
			return "tunnel add";
		}
		if (argc == 3 && !strcmp(argv[1], "del")) {
			*first_arg = 2;
			return "tunnel del";
		}
		fprintf(stderr, "gtpuctl: usage: tunnel add NAME from PEER TEID to PEER TEID [ue ADDR...] "
			"[qfi N] [rate BPS] [burst BYTES] | tunnel add -f FILE | tunnel del NAME | "
			"tunnel del -f FILE\n");
		exit(EXIT_USAGE);
	}
	nargs = argc - 1;
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(argv[0], cmds[i].name))
			continue;
		if (nargs < cmds[i].min || nargs > cmds[i].max) {
			fprintf(stderr, "gtpuctl: %s: wrong number of arguments\n", argv[0]);
			exit(EXIT_USAGE);
		}
		*first_arg = 1;
		return cmds[i].name;
	}
	fprintf(stderr, "gtpuctl: unknown command '%s' (see gtpuctl -h)\n", argv[0]);
	exit(EXIT_USAGE);
}

static int exit_of(int result)
{
	switch (result) {
	case CTL_E_USAGE:
	case CTL_E_UNKNOWN_CMD:
		return EXIT_USAGE;
	case CTL_E_PERM:
		return EXIT_PERM;
	case CTL_E_PROTO:
		return EXIT_PROTO;
	default:
		return EXIT_FAILED;
	}
}

/* A reload that applied may still warn (runtime tunnels that now collide),
 * and name settings that wait for a restart: then the exit status is 6. */
static int print_warnings(const char *cmd, json_object *data)
{
	json_object *w = NULL, *p = NULL;
	size_t i;

	if (json_object_object_get_ex(data, "warnings", &w) && json_object_is_type(w, json_type_array))
		for (i = 0; i < json_object_array_length(w); i++)
			fprintf(stderr, "gtpuctl: %s: warning: %s\n", cmd,
				json_object_get_string(json_object_array_get_idx(w, i)));
	if (!json_object_object_get_ex(data, "pending", &p) || !json_object_is_type(p, json_type_array) ||
	    !json_object_array_length(p))
		return EXIT_OK;
	for (i = 0; i < json_object_array_length(p); i++)
		fprintf(stderr, "gtpuctl: %s: not applied: %s\n", cmd,
			json_object_get_string(json_object_array_get_idx(p, i)));
	return EXIT_PENDING;
}

/* Every line an error: "gtpuctl: COMMAND: ERROR: DETAIL" for one detail,
 * else the error, then each detail on a line of its own, all prefixed. */
static void print_errors(const char *cmd, const struct ctl_reply *rep)
{
	size_t i, n = rep->errors ? json_object_array_length(rep->errors) : 0;

	if (n == 1) {
		const char *d = json_object_get_string(json_object_array_get_idx(rep->errors, 0));

		/* "not found: not found" says nothing twice. */
		if (strcmp(d, rep->error))
			fprintf(stderr, "gtpuctl: %s: %s: %s\n", cmd, rep->error, d);
		else
			fprintf(stderr, "gtpuctl: %s: %s\n", cmd, rep->error);
		return;
	}
	fprintf(stderr, "gtpuctl: %s: %s\n", cmd, rep->error);
	for (i = 0; i < n; i++)
		fprintf(stderr, "gtpuctl: %s: %s\n", cmd,
			json_object_get_string(json_object_array_get_idx(rep->errors, i)));
}

static void print_data(const char *cmd, json_object *data)
{
	if (json_out) {
		printf("%s\n", json_object_to_json_string_ext(data, JSON_C_TO_STRING_PLAIN |
							     JSON_C_TO_STRING_NOSLASHESCAPE));
		return;
	}
	if (!strcmp(cmd, "status"))
		print_status(data);
	else if (!strcmp(cmd, "stats"))
		print_stats(data);
	else if (!strcmp(cmd, "peers"))
		print_peers(data);
	else if (!strcmp(cmd, "tunnels"))
		print_tunnels(data);
	else if (!strcmp(cmd, "drops"))
		print_drops(data);
	else if (!strcmp(cmd, "pfcp"))
		print_pfcp(data);
	else if (!strcmp(cmd, "sessions"))
		print_sessions(data);
	else if (!strcmp(cmd, "metrics"))
		fputs(get_str(data, "text", ""), stdout);

	/* tunnel add/del, reload: success is otherwise silent, as with other Unix tools. */
}

static int monitor(struct reader *r)
{
	char *line;
	size_t len;

	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((line = read_line(r, &len))) {
		json_object *ev;

		if (json_out) {
			printf("%s\n", line);
			continue;
		}
		ev = json_tokener_parse(line);
		if (!json_object_is_type(ev, json_type_object)) {
			json_object_put(ev);
			fprintf(stderr, "gtpuctl: bad event from gtpud\n");
			return EXIT_PROTO;
		}
		print_event(ev);
		json_object_put(ev);
	}
	fprintf(stderr, "gtpuctl: gtpud closed the connection\n");
	return EXIT_FAILED;
}

static const struct option longopts[] = {
	{ "socket", required_argument, NULL, 's' },
	{ "config", required_argument, NULL, 'c' },
	{ "json", no_argument, NULL, 'j' },
	{ "exact", no_argument, NULL, 'x' },
	{ "timeout", required_argument, NULL, 't' },
	{ "version", no_argument, NULL, 'V' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};
static const char *sock_opt, *config;

static void take_option(int c, const char *arg)
{
	char *end;

	switch (c) {
	case 's': sock_opt = arg; break;
	case 'c': config = arg; break;
	case 'j': json_out = true; break;
	case 'x': exact = true; break;
	case 't':
		timeout = strtod(arg, &end);
		if (end == arg || *end || !(timeout >= 0 && timeout <= 86400)) {
			fprintf(stderr, "gtpuctl: --timeout: '%s' is not a number of seconds (0 to 86400; "
				"0 waits forever)\n", arg);
			exit(EXIT_USAGE);
		}
		break;
	case 'V': printf("gtpuctl %s\n", PACKAGE_VERSION); exit(EXIT_OK);
	case 'h': usage(stdout); exit(EXIT_OK);
	}
}

/* Options after the command ("gtpuctl status --json"): taken out of the
 * words, which keep their order. "--" ends them; a word that is not one of
 * gtpuctl's options (tunnel add's -f) stays the command's. */
static int options_after(int argc, char **argv)
{
	int i, n = 0;
	bool done = false;

	for (i = 0; i < argc; i++) {
		const char *w = argv[i], *eq = strchr(w, '=');
		const struct option *o = NULL;

		if (!done && !strcmp(w, "--")) {
			done = true;
			continue;
		}
		if (!done && w[0] == '-' && w[1] == '-')
			for (o = longopts; o->name; o++)
				if (!strncmp(w + 2, o->name, eq ? (size_t)(eq - w - 2) : strlen(w + 2)) &&
				    strlen(o->name) == (eq ? (size_t)(eq - w - 2) : strlen(w + 2)))
					break;
		if (!done && w[0] == '-' && w[1] && w[1] != '-' && !w[2] && strchr("scjxtVh", w[1]))
			for (o = longopts; o->name && o->val != w[1]; o++)
				;
		if (!o || !o->name) {
			argv[n++] = argv[i];
			continue;
		}
		if (o->has_arg && w[1] == '-' && eq) {
			take_option(o->val, eq + 1);
		} else if (o->has_arg) {
			if (i + 1 >= argc) {
				fprintf(stderr, "gtpuctl: option '%s' needs a value (see gtpuctl -h)\n", w);
				exit(EXIT_USAGE);
			}
			take_option(o->val, argv[++i]);
		} else if (eq) {
			fprintf(stderr, "gtpuctl: option '--%s' takes no value (see gtpuctl -h)\n", o->name);
			exit(EXIT_USAGE);
		} else {
			take_option(o->val, NULL);
		}
	}
	return n;
}

int main(int argc, char **argv)
{
	const char *path, *cmd, *why = NULL;
	struct reader rd = { -1, NULL, 0, 0, 0 };
	struct ctl_reply rep;
	char *req, *line;
	size_t len;
	int c, first, ret;

	/* '+': the first word that is no option is the command. */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+s:c:jxt:Vh", longopts, NULL)) != -1) {
		if (c == '?') {
			if (optopt && strchr("sct", optopt))
				fprintf(stderr, "gtpuctl: option '%s' needs a value (see gtpuctl -h)\n",
					argv[optind - 1]);
			else
				fprintf(stderr, "gtpuctl: unknown option '%s' (see gtpuctl -h)\n", argv[optind - 1]);
			return EXIT_USAGE;
		}
		take_option(c, optarg);
	}
	argc = optind + options_after(argc - optind, argv + optind);
	cmd = command_of(argc - optind, argv + optind, &first);
	path = socket_path(sock_opt, config);
	sock_path = path;
	cur_cmd = cmd;
	cur_timeout = timeout_for(cmd);
	signal(SIGPIPE, SIG_IGN);
	if (batch_file)
		req = batch_request(cmd, batch_file);
	else
		req = ctl_request_build(cmd, (const char *const *)argv + optind + first,
					(size_t)(argc - optind - first));
	if (!req) {
		fprintf(stderr, "gtpuctl: too many arguments\n");
		return EXIT_USAGE;
	}
	rd.fd = connect_to(path);
	send_all(rd.fd, req, strlen(req));
	free(req);
	line = read_line(&rd, &len);
	if (!line) {
		fprintf(stderr, "gtpuctl: gtpud closed the connection without replying\n");
		ret = EXIT_PROTO;
	} else if (ctl_reply_parse(line, len, &rep, &why) < 0) {
		fprintf(stderr, "gtpuctl: bad reply from gtpud: %s\n", why);
		ret = EXIT_PROTO;
	} else if (rep.result != CTL_OK) {
		/* A script that asked for JSON gets it whatever happens. */
		if (json_out && !strcmp(cmd, "reload"))
			printf("%.*s\n", (int)len, line);
		print_errors(cmd, &rep);
		ret = exit_of(rep.result);
		ctl_reply_fini(&rep);
	} else if (!strcmp(cmd, "monitor")) {
		ctl_reply_fini(&rep);
		set_timeout(rd.fd, 0);   /* events come when they come */
		ret = monitor(&rd);
	} else {
		print_data(cmd, rep.data);
		ret = !strcmp(cmd, "reload") ? print_warnings(cmd, rep.data) : EXIT_OK;
		ctl_reply_fini(&rep);
	}
	close(rd.fd);
	free(rd.buf);
	if (fflush(stdout) == EOF || ferror(stdout)) {
		/* A reader that stopped early (| head, | grep -q) is not an error. */
		if (errno == EPIPE)
			return ret;
		fprintf(stderr, "gtpuctl: cannot write the output: %s\n", strerror(errno));
		return EXIT_FAILED;
	}
	return ret;
}
