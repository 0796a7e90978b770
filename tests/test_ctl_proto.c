/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of the control protocol: request/reply/event lines and the
 * words of "tunnel add". */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "ctl_proto.h"

#define LEN(s) (sizeof(s) - 1)

static const struct {
	const char *line;
	const char *command;
	size_t nargs;
	const char *arg0;
} req_ok[] = {
	{ "{\"version\":1,\"command\":\"status\",\"args\":[]}", "status", 0, NULL },
	{ "{\"version\":1,\"command\":\"stats\"}", "stats", 0, NULL },
	{ "{\"command\":\"tunnels\",\"version\":1,\"args\":[\"ue1\"]}", "tunnels", 1, "ue1" },
	{ "  {\"version\":1,\"command\":\"peers\",\"args\":[]}  \r", "peers", 0, NULL },
	{ "{\"version\":1,\"command\":\"tunnel add\",\"args\":[\"ue3\",\"from\",\"enb\",\"0x400\",\"to\","
	  "\"upf\",\"0x500\"]}", "tunnel add", 7, "ue3" },
	/* Unknown keys are ignored: newer clients may send more. */
	{ "{\"version\":1,\"command\":\"status\",\"args\":[],\"client\":\"x\"}", "status", 0, NULL },
	{ "{\"version\":1,\"command\":\"tunnels\",\"args\":[\"\\u00e9t\\u00e9\"]}", "tunnels", 1, "\xc3\xa9t\xc3\xa9" },
};

static void test_request_ok(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(req_ok) / sizeof(req_ok[0]); i++) {
		struct ctl_request req;
		const char *why = NULL;
		int r = ctl_request_parse(req_ok[i].line, strlen(req_ok[i].line), &req, &why);

		if (r != 0)
			fail_msg("row %zu: %s", i, why);
		assert_string_equal(req.command, req_ok[i].command);
		assert_int_equal(json_object_array_length(req.args), req_ok[i].nargs);
		if (req_ok[i].arg0)
			assert_string_equal(json_object_get_string(json_object_array_get_idx(req.args, 0)),
					    req_ok[i].arg0);
		ctl_request_fini(&req);
		assert_null(req.root);
	}
}

struct bad_row {
	const char *line;
	size_t len;
	const char *why;
};
#define BAD(s, w) { s, LEN(s), w }

static const struct bad_row req_bad[] = {
	BAD("", "empty request"),
	BAD("\r", "empty request"),
	BAD("   ", "incomplete JSON"),
	BAD("hello", "not valid JSON"),
	BAD("{\"version\":1,\"command\":\"st\0ats\"}", "request contains a NUL byte"),
	BAD("\0\0\0\0", "request contains a NUL byte"),
	BAD("{\"version\":1,\"command\":\"stats\"", "incomplete JSON"),
	BAD("{\"version\":1,\"command\":\"stats\"} x", "not valid JSON"),
	BAD("{\"version\":1,\"command\":\"stats\"}{}", "not valid JSON"),
	BAD("[1,2,3]", "request is not a JSON object"),
	BAD("\"stats\"", "request is not a JSON object"),
	BAD("{\"command\":\"stats\"}", "missing \"version\""),
	BAD("{\"version\":\"1\",\"command\":\"stats\"}", "\"version\" is not an integer"),
	BAD("{\"version\":2,\"command\":\"stats\"}", "unsupported protocol version"),
	BAD("{\"version\":0,\"command\":\"stats\"}", "unsupported protocol version"),
	BAD("{\"version\":1}", "missing \"command\""),
	BAD("{\"version\":1,\"command\":5}", "\"command\" is not a string of 1 to 63 characters"),
	BAD("{\"version\":1,\"command\":\"\"}", "\"command\" is not a string of 1 to 63 characters"),
	BAD("{\"version\":1,\"command\":\"a\\u0000b\"}", "\"command\" is not a string of 1 to 63 characters"),
	BAD("{\"version\":1,\"command\":\"stats\",\"args\":\"x\"}", "\"args\" is not an array"),
	BAD("{\"version\":1,\"command\":\"stats\",\"args\":{}}", "\"args\" is not an array"),
	BAD("{\"version\":1,\"command\":\"stats\",\"args\":[1]}", "\"args\" is not an array of strings"),
	BAD("{\"version\":1,\"command\":\"stats\",\"args\":[null]}", "\"args\" is not an array of strings"),
	BAD("{\"version\":1,\"command\":\"stats\",\"args\":[\"a\\u0000\"]}", "\"args\" is not an array of strings"),
	BAD("{\"version\":1,\"command\":\"stats\",\"args\":[[\"a\"]]}", "\"args\" is not an array of strings"),
	BAD("{\"version\":1,\"command\":\"stats\",\"args\":[[[[[[]]]]]]}", "JSON nested too deeply"),
	BAD("{\"version\":1,\"command\":\"st\xff\xfe\"}", "invalid UTF-8"),
	BAD("{'version':1,'command':'stats'}", "not valid JSON"),
	BAD("{\"version\":1,\"command\":\"stats\",}", "not valid JSON"),
};

static void test_request_bad(void **state)
{
	size_t i, bad = 0;

	for (i = 0; i < sizeof(req_bad) / sizeof(req_bad[0]); i++) {
		struct ctl_request req;
		const char *why = NULL;
		int r = ctl_request_parse(req_bad[i].line, req_bad[i].len, &req, &why);

		if (r != -EBADMSG)
			fail_msg("row %zu: accepted", i);
		assert_non_null(why);
		if (strcmp(why, req_bad[i].why))
			print_message("row %zu: '%s' != '%s'\n", i, why, req_bad[i].why), bad++;
		assert_null(req.root);
	}
	assert_int_equal(bad, 0);
}

/* Builds {"version":1,"command":"x","args":["a", x n]} */
static char *args_line(size_t n, size_t pad)
{
	size_t cap = 64 + n * 4 + pad, i;
	char *s = malloc(cap), *p = s;

	p += sprintf(p, "{\"version\":1,\"command\":\"x\",\"args\":[");
	for (i = 0; i < n; i++)
		p += sprintf(p, "%s\"a\"", i ? "," : "");
	p += sprintf(p, "]}");
	memset(p, ' ', pad);
	p[pad] = '\0';
	return s;
}

static void test_request_limits(void **state)
{
	struct ctl_request req;
	const char *why = NULL;
	char *s;

	s = args_line(CTL_MAX_ARGS, 0);
	assert_int_equal(ctl_request_parse(s, strlen(s), &req, &why), 0);
	assert_int_equal(json_object_array_length(req.args), CTL_MAX_ARGS);
	ctl_request_fini(&req);
	free(s);

	s = args_line(CTL_MAX_ARGS + 1, 0);
	assert_int_equal(ctl_request_parse(s, strlen(s), &req, &why), -EBADMSG);
	assert_string_equal(why, "more than 64 arguments");
	free(s);

	/* Exactly the limit is fine (padding is whitespace); one more is not. */
	s = args_line(1, 0);
	free(s);
	s = args_line(1, CTL_MAX_REQUEST);
	assert_int_equal(ctl_request_parse(s, CTL_MAX_REQUEST, &req, &why), 0);
	ctl_request_fini(&req);
	free(s);
	/* The parser takes what a batch may be; the transport holds a client
	 * that may not change anything to CTL_MAX_REQUEST (test_ctl). */
	s = malloc(CTL_MAX_BATCH_REQUEST + 1);          /* untouched pages but the last */
	s[CTL_MAX_BATCH_REQUEST] = ' ';
	assert_int_equal(ctl_request_parse(s, CTL_MAX_BATCH_REQUEST + 1, &req, &why), -EBADMSG);
	assert_string_equal(why, "request too long");
	free(s);

	s = malloc(1 << 20);
	memset(s, '[', 1 << 20);
	assert_int_equal(ctl_request_parse(s, 1 << 20, &req, &why), -EBADMSG);
	assert_int_equal(ctl_request_parse(s, 1000, &req, &why), -EBADMSG);
	assert_string_equal(why, "JSON nested too deeply");
	free(s);
}

static void test_request_roundtrip(void **state)
{
	const char *args[] = { "ue3", "from", "enb", "0x400", "to", "upf", "0x500", "quote\"back\\slash" };
	struct ctl_request req;
	const char *why = NULL;
	char *line = ctl_request_build("tunnel add", args, 8);
	size_t i, len;

	assert_non_null(line);
	len = strlen(line);
	assert_int_equal(line[len - 1], '\n');
	assert_null(memchr(line, '\n', len - 1));
	assert_int_equal(ctl_request_parse(line, len - 1, &req, &why), 0);
	assert_string_equal(req.command, "tunnel add");
	assert_int_equal(json_object_array_length(req.args), 8);
	for (i = 0; i < 8; i++)
		assert_string_equal(json_object_get_string(json_object_array_get_idx(req.args, i)), args[i]);
	ctl_request_fini(&req);
	free(line);
	assert_null(ctl_request_build("x", args, CTL_MAX_ARGS + 1));
}

static void test_reply(void **state)
{
	struct ctl_reply rep;
	const char *why = NULL;
	json_object *data = json_object_new_object(), *errs = json_object_new_array();
	char *line;

	json_object_object_add(data, "uptime", json_object_new_int(42));
	line = ctl_reply_build(CTL_OK, data, NULL, NULL);
	assert_string_equal(line, "{\"version\":1,\"result\":0,\"data\":{\"uptime\":42}}\n");
	assert_int_equal(ctl_reply_parse(line, strlen(line) - 1, &rep, &why), 0);
	assert_int_equal(rep.result, CTL_OK);
	assert_int_equal(json_object_get_int(json_object_object_get(rep.data, "uptime")), 42);
	assert_null(rep.error);
	ctl_reply_fini(&rep);
	free(line);

	line = ctl_reply_build(CTL_OK, NULL, NULL, NULL);
	assert_string_equal(line, "{\"version\":1,\"result\":0,\"data\":null}\n");
	free(line);

	json_object_array_add(errs, json_object_new_string("/etc/gtpud/gtpud.conf:3: unknown key 'x'"));
	line = ctl_reply_build(CTL_E_INVALID, NULL, NULL, errs);
	assert_string_equal(line, "{\"version\":1,\"result\":7,\"error\":\"invalid configuration\","
			    "\"errors\":[\"/etc/gtpud/gtpud.conf:3: unknown key 'x'\"]}\n");
	assert_int_equal(ctl_reply_parse(line, strlen(line) - 1, &rep, &why), 0);
	assert_int_equal(rep.result, CTL_E_INVALID);
	assert_string_equal(rep.error, "invalid configuration");
	assert_int_equal(json_object_array_length(rep.errors), 1);
	ctl_reply_fini(&rep);
	free(line);

	line = ctl_reply_build(CTL_E_UNKNOWN_CMD, NULL, "unknown command 'x'", NULL);
	assert_string_equal(line, "{\"version\":1,\"result\":2,\"error\":\"unknown command 'x'\",\"errors\":[]}\n");
	free(line);

	assert_int_equal(ctl_reply_parse("{\"version\":1}", 13, &rep, &why), -EBADMSG);
	assert_string_equal(why, "reply has no integer \"result\"");
	assert_int_equal(ctl_reply_parse("{\"version\":3,\"result\":0}", 24, &rep, &why), -EBADMSG);
	assert_string_equal(why, "unsupported protocol version");
	assert_int_equal(ctl_reply_parse("{\"version\":1,\"result\":-1}", 25, &rep, &why), -EBADMSG);
	assert_string_equal(why, "reply \"result\" out of range");
	/* A reply without "error" still yields a sentence. */
	assert_int_equal(ctl_reply_parse("{\"version\":1,\"result\":5}", 24, &rep, &why), 0);
	assert_string_equal(rep.error, "not found");
	ctl_reply_fini(&rep);
}

static void test_event(void **state)
{
	json_object *f = json_object_new_object();
	char *line;

	json_object_object_add(f, "peer", json_object_new_string("upf"));
	json_object_object_add(f, "time", json_object_new_int(1));   /* overridden */
	line = ctl_event_build(CTL_EV_PEER_DOWN, 1700000000, f);
	assert_string_equal(line, "{\"event\":\"peer_down\",\"time\":1700000000,\"peer\":\"upf\"}\n");
	free(line);
	line = ctl_event_build(CTL_EV_RELOAD, 5, NULL);
	assert_string_equal(line, "{\"event\":\"reload\",\"time\":5}\n");
	free(line);
}

static void test_result_names(void **state)
{
	static const struct { int r; const char *name, *str; } rows[] = {
		{ CTL_OK, "ok", "success" },
		{ CTL_E_PROTO, "protocol", "malformed request" },
		{ CTL_E_UNKNOWN_CMD, "unknown-command", "unknown command" },
		{ CTL_E_USAGE, "usage", "wrong arguments" },
		{ CTL_E_PERM, "permission", "permission denied (needs root or the control group)" },
		{ CTL_E_NOT_FOUND, "not-found", "not found" },
		{ CTL_E_EXISTS, "exists", "already exists" },
		{ CTL_E_INVALID, "invalid", "invalid configuration" },
		{ CTL_E_LIMIT, "limit", "limit reached" },
		{ CTL_E_INTERNAL, "internal", "internal error" },
	};
	size_t i;

	assert_int_equal(sizeof(rows) / sizeof(rows[0]), CTL_RESULT_MAX + 1);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		assert_string_equal(ctl_result_name((enum ctl_result)rows[i].r), rows[i].name);
		assert_string_equal(ctl_result_str((enum ctl_result)rows[i].r), rows[i].str);
	}
	assert_string_equal(ctl_result_str_any(-1), "unknown error");
	assert_string_equal(ctl_result_str_any(CTL_RESULT_MAX + 1), "unknown error");
}

/* ---- tunnel add ---- */

#define W(...) { __VA_ARGS__, NULL }
#define MAXW 40

static const struct {
	const char *w[MAXW];
	const char *name, *from, *to;
	uint32_t from_teid, to_teid;
	unsigned n_ue;
	int qfi;
	uint64_t rate, burst;
} tadd_ok[] = {
	{ W("ue3", "from", "enb", "0x400", "to", "upf", "0x500"), "ue3", "enb", "upf", 0x400, 0x500, 0, -1, 0, 0 },
	{ W("t", "from", "a", "1", "to", "b", "1"), "t", "a", "b", 1, 1, 0, -1, 0, 0 },
	{ W("t", "from", "a", "4294967295", "to", "b", "0xFFFFFFFF"), "t", "a", "b", 0xffffffff, 0xffffffff, 0, -1, 0, 0 },
	{ W("ue2", "from", "enb", "0x300", "to", "enb", "0x301", "ue", "10.45.0.2", "2001:db8:45::2", "qfi", "9",
	    "rate", "10000000"), "ue2", "enb", "enb", 0x300, 0x301, 2, 9, 10000000, 0 },
	{ W("x", "from", "a", "7", "to", "b", "8", "rate", "1000", "burst", "3000", "qfi", "0"),
	  "x", "a", "b", 7, 8, 0, 0, 1000, 3000 },
	{ W("x", "from", "a", "7", "to", "b", "8", "qfi", "63", "ue", "192.0.2.1"), "x", "a", "b", 7, 8, 1, 63, 0, 0 },
	{ W("x", "from", "a", "7", "to", "b", "8", "rate", "1000000000000", "burst", "1000000000"),
	  "x", "a", "b", 7, 8, 0, -1, 1000000000000ULL, 1000000000 },
	{ W("A.b-c_9", "from", "a-1", "7", "to", "b_2.x", "8"), "A.b-c_9", "a-1", "b_2.x", 7, 8, 0, -1, 0, 0 },
};

static size_t count(const char *const *w)
{
	size_t n = 0;

	while (w[n])
		n++;
	return n;
}

static void test_tunnel_ok(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(tadd_ok) / sizeof(tadd_ok[0]); i++) {
		struct ctl_tunnel_spec t;
		char err[256] = "";

		if (ctl_tunnel_spec_parse(tadd_ok[i].w, count(tadd_ok[i].w), &t, err, sizeof(err)))
			fail_msg("row %zu: %s", i, err);
		assert_string_equal(t.name, tadd_ok[i].name);
		assert_string_equal(t.from_peer, tadd_ok[i].from);
		assert_string_equal(t.to_peer, tadd_ok[i].to);
		assert_int_equal(t.from_teid, tadd_ok[i].from_teid);
		assert_int_equal(t.to_teid, tadd_ok[i].to_teid);
		assert_int_equal(t.n_ue, tadd_ok[i].n_ue);
		assert_int_equal(t.qfi, tadd_ok[i].qfi);
		assert_true(t.rate == tadd_ok[i].rate);
		assert_true(t.burst == tadd_ok[i].burst);
	}
}

static void test_tunnel_ue(void **state)
{
	const char *w[] = { "u", "from", "a", "1", "to", "b", "2", "ue", "10.45.0.2", "2001:db8:45::2" };
	struct ctl_tunnel_spec t;
	char err[256];
	uint8_t v6[16];

	assert_int_equal(ctl_tunnel_spec_parse(w, 10, &t, err, sizeof(err)), 0);
	assert_int_equal(t.ue[0].family, AF_INET);
	assert_memory_equal(t.ue[0].addr, "\x0a\x2d\x00\x02", 4);
	assert_int_equal(t.ue[1].family, AF_INET6);
	inet_pton(AF_INET6, "2001:db8:45::2", v6);
	assert_memory_equal(t.ue[1].addr, v6, 16);
}

#define TADD_USAGE "usage: tunnel add NAME from PEER TEID to PEER TEID [ue ADDR...] [qfi N] [rate BPS] [burst BYTES]"

static const struct {
	const char *w[MAXW];
	const char *err;
} tadd_bad[] = {
	{ W("ue3"), TADD_USAGE },
	{ W("ue3", "from", "enb", "0x400", "to", "upf"), TADD_USAGE },
	{ W("ue3", "frm", "enb", "0x400", "to", "upf", "1"), "expected 'from', got 'frm'; " TADD_USAGE },
	{ W("ue3", "from", "enb", "0x400", "at", "upf", "1"), "expected 'to', got 'at'; " TADD_USAGE },
	{ W("", "from", "enb", "1", "to", "upf", "1"), "name: \"\" is not a valid name (1 to 63 of A-Z a-z 0-9 - _ .)" },
	{ W("a b", "from", "enb", "1", "to", "upf", "1"), "name: \"a b\" is not a valid name (1 to 63 of A-Z a-z 0-9 - _ .)" },
	{ W("a;b", "from", "enb", "1", "to", "upf", "1"), "name: \"a;b\" is not a valid name (1 to 63 of A-Z a-z 0-9 - _ .)" },
	{ W("t", "from", "en/b", "1", "to", "upf", "1"), "from.peer: \"en/b\" is not a valid name (1 to 63 of A-Z a-z 0-9 - _ .)" },
	{ W("0123456789012345678901234567890123456789012345678901234567890123", "from", "enb", "1", "to", "upf", "1"),
	  "name: \"0123456789012345678901234567890123456789012345678901234567890123\" is not a valid name (1 to 63 of A-Z a-z 0-9 - _ .)" },
	{ W("t", "from", "", "1", "to", "upf", "1"), "from.peer: \"\" is not a valid name (1 to 63 of A-Z a-z 0-9 - _ .)" },
	{ W("t", "from", "enb", "0", "to", "upf", "1"), "from.teid: 0 is out of range (1..4294967295)" },
	{ W("t", "from", "enb", "0x0", "to", "upf", "1"), "from.teid: 0 is out of range (1..4294967295)" },
	{ W("t", "from", "enb", "0x100000000", "to", "upf", "1"),
	  "from.teid: 4294967296 is out of range (1..4294967295)" },
	{ W("t", "from", "enb", "4294967296", "to", "upf", "1"),
	  "from.teid: 4294967296 is out of range (1..4294967295)" },
	{ W("t", "from", "enb", "-1", "to", "upf", "1"), "from.teid: '-1' is not a number" },
	{ W("t", "from", "enb", "+1", "to", "upf", "1"), "from.teid: '+1' is not a number" },
	{ W("t", "from", "enb", " 1", "to", "upf", "1"), "from.teid: ' 1' is not a number" },
	{ W("t", "from", "enb", "0x", "to", "upf", "1"), "from.teid: '0x' is not a number" },
	{ W("t", "from", "enb", "12ab", "to", "upf", "1"), "from.teid: '12ab' is not a number" },
	{ W("t", "from", "enb", "1", "to", "upf", "0xg"), "to.teid: '0xg' is not a number" },
	{ W("t", "from", "enb", "1", "to", "upf", "0"), "to.teid: 0 is out of range (1..4294967295)" },
	{ W("t", "from", "enb", "1", "to", "upf", "2", "ue"), "'ue' needs at least one address" },
	{ W("t", "from", "enb", "1", "to", "upf", "2", "ue", "qfi", "1"), "'ue' needs at least one address" },
	{ W("t", "from", "enb", "1", "to", "upf", "2", "ue", "10.0.0.300"),
	  "ue[0]: \"10.0.0.300\" is not an IPv4 or IPv6 address" },
	{ W("t", "from", "enb", "1", "to", "upf", "2", "ue", "10.0.0.1/32"),
	  "ue[0]: \"10.0.0.1/32\" is not an IPv4 or IPv6 address" },
	{ W("t", "from", "enb", "1", "to", "upf", "2", "ue", "10.0.0.1", "ue", "10.0.0.2"), "'ue' given twice" },
	{ W("t", "from", "enb", "1", "to", "upf", "2", "ue", "10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4",
	    "10.0.0.5", "10.0.0.6", "10.0.0.7", "10.0.0.8", "10.0.0.9", "10.0.0.10", "10.0.0.11", "10.0.0.12",
	    "10.0.0.13", "10.0.0.14", "10.0.0.15", "10.0.0.16", "10.0.0.17"), "ue: has 17 entries, at most 16 are allowed" },
	{ W("t", "from", "enb", "1", "to", "upf", "2", "qfi", "64"), "qfi: 64 is out of range (0..63)" },
	{ W("t", "from", "enb", "1", "to", "upf", "2", "qfi"), "'qfi' needs a value" },
	{ W("t", "from", "enb", "1", "to", "upf", "2", "qfi", "1", "qfi", "2"), "'qfi' given twice" },
	{ W("t", "from", "enb", "1", "to", "upf", "2", "rate", "1000000000001"),
	  "rate: 1000000000001 is out of range (0..1000000000000)" },
	{ W("t", "from", "enb", "1", "to", "upf", "2", "rate", "18446744073709551616"),
	  "rate: '18446744073709551616' is not a number (with an optional k, M, G or T)" },
	{ W("t", "from", "enb", "1", "to", "upf", "2", "rate", "1", "rate", "1"), "'rate' given twice" },
	{ W("t", "from", "enb", "1", "to", "upf", "2", "burst", "1000"), "burst: has no effect without a rate" },
	{ W("t", "from", "enb", "1", "to", "upf", "2", "rate", "1", "burst", "1x"),
	  "burst: '1x' is not a number (with an optional k, M, G or T)" },
	{ W("t", "from", "enb", "1", "to", "upf", "2", "rate", "1", "burst", "1000000001"),
	  "burst: 1000000001 is out of range (0..1000000000)" },
	{ W("t", "from", "enb", "1", "to", "upf", "2", "ue", "10.0.0.1", "2001:db8::1", "10.0.0.1"),
	  "ue[2]: 10.0.0.1 is listed twice" },
	{ W("t", "from", "enb", "1", "to", "upf", "2", "burst", "1", "burst", "2"), "'burst' given twice" },
	{ W("t", "from", "enb", "1", "to", "upf", "2", "mtu", "1500"),
	  "unknown word 'mtu' (expected ue, qfi, rate or burst)" },
};

static void test_tunnel_bad(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(tadd_bad) / sizeof(tadd_bad[0]); i++) {
		struct ctl_tunnel_spec t;
		char err[256] = "";

		if (ctl_tunnel_spec_parse(tadd_bad[i].w, count(tadd_bad[i].w), &t, err, sizeof(err)) != -EINVAL)
			fail_msg("row %zu: accepted", i);
		if (strcmp(err, tadd_bad[i].err))
			fail_msg("row %zu: '%s' != '%s'", i, err, tadd_bad[i].err);
	}
}

static void test_tunnel_json(void **state)
{
	struct ctl_tunnel_spec t;
	char err[256] = "";
	json_object *a = json_tokener_parse("[\"ue3\",\"from\",\"enb\",\"0x400\",\"to\",\"upf\",\"0x500\",\"qfi\",\"5\"]");

	assert_int_equal(ctl_tunnel_spec_parse_json(a, &t, err, sizeof(err)), 0);
	assert_int_equal(t.qfi, 5);
	assert_int_equal(t.to_teid, 0x500);
	json_object_put(a);
	a = json_tokener_parse("[\"ue3\",\"from\",\"enb\",4,\"to\",\"upf\",\"0x500\"]");
	assert_int_equal(ctl_tunnel_spec_parse_json(a, &t, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "argument 4 is not a string");
	json_object_put(a);
	assert_int_equal(ctl_tunnel_spec_parse_json(NULL, &t, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, TADD_USAGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_ok),
		cmocka_unit_test(test_request_bad),
		cmocka_unit_test(test_request_limits),
		cmocka_unit_test(test_request_roundtrip),
		cmocka_unit_test(test_reply),
		cmocka_unit_test(test_event),
		cmocka_unit_test(test_result_names),
		cmocka_unit_test(test_tunnel_ok),
		cmocka_unit_test(test_tunnel_ue),
		cmocka_unit_test(test_tunnel_bad),
		cmocka_unit_test(test_tunnel_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
