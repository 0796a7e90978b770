/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The control protocol shared by gtpud and gtpuctl: building and parsing
 * request, reply and event lines with json-c, and the words of "tunnel add". */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_proto.h"
#include "tunnel.h"

/* Requests nest two levels (object, args array); anything deeper is junk. */
#define REQ_MAX_DEPTH 4
/* Replies carry command data (tunnels: object, array, object, object/array). */
#define REP_MAX_DEPTH 32
#define CMD_MAX_LEN 63

const char *ctl_result_name(enum ctl_result r)
{
	switch (r) {
	case CTL_OK: return "ok";
	case CTL_E_PROTO: return "protocol";
	case CTL_E_UNKNOWN_CMD: return "unknown-command";
	case CTL_E_USAGE: return "usage";
	case CTL_E_PERM: return "permission";
	case CTL_E_NOT_FOUND: return "not-found";
	case CTL_E_EXISTS: return "exists";
	case CTL_E_INVALID: return "invalid";
	case CTL_E_LIMIT: return "limit";
	case CTL_E_INTERNAL: return "internal";
	}
	return "unknown";
}

const char *ctl_result_str(enum ctl_result r)
{
	switch (r) {
	case CTL_OK: return "success";
	case CTL_E_PROTO: return "malformed request";
	case CTL_E_UNKNOWN_CMD: return "unknown command";
	case CTL_E_USAGE: return "wrong arguments";
	case CTL_E_PERM: return "permission denied (needs root or the control group)";
	case CTL_E_NOT_FOUND: return "not found";
	case CTL_E_EXISTS: return "already exists";
	case CTL_E_INVALID: return "invalid configuration";
	case CTL_E_LIMIT: return "limit reached";
	case CTL_E_INTERNAL: return "internal error";
	}
	return "unknown error";
}

const char *ctl_result_str_any(int r)
{
	if (r < 0 || r > CTL_RESULT_MAX)
		return "unknown error";
	return ctl_result_str((enum ctl_result)r);
}

/* Parse exactly [line, line+len) as one JSON value: strict syntax, valid
 * UTF-8, bounded depth, nothing but whitespace after it. */
static json_object *parse_exact(const char *line, size_t len, int depth, const char **why)
{
	json_tokener *tok;
	json_object *o = NULL;
	size_t end;

	if (len > INT32_MAX) {
		*why = "request too long";
		return NULL;
	}
	tok = json_tokener_new_ex(depth);
	if (!tok) {
		*why = "out of memory";
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, line, (int)len);
	if (!o) {
		switch (json_tokener_get_error(tok)) {
		case json_tokener_continue: *why = "incomplete JSON"; break;
		case json_tokener_error_depth: *why = "JSON nested too deeply"; break;
		case json_tokener_error_parse_utf8_string: *why = "invalid UTF-8"; break;
		default: *why = "not valid JSON"; break;
		}
		goto out;
	}
	for (end = json_tokener_get_parse_end(tok); end < len; end++) {
		if (!strchr(" \t\r", line[end])) {
			*why = "junk after the JSON object";
			json_object_put(o);
			o = NULL;
			goto out;
		}
	}
out:
	json_tokener_free(tok);
	return o;
}

/* A JSON string that is really a C string (no embedded "\u0000"). */
static bool is_c_string(json_object *s)
{
	return json_object_is_type(s, json_type_string) &&
	       strlen(json_object_get_string(s)) == (size_t)json_object_get_string_len(s);
}

static bool version_ok(json_object *root, const char **why)
{
	json_object *v;

	if (!json_object_object_get_ex(root, "version", &v)) {
		*why = "missing \"version\"";
		return false;
	}
	if (!json_object_is_type(v, json_type_int)) {
		*why = "\"version\" is not an integer";
		return false;
	}
	if (json_object_get_int64(v) != CTL_PROTO_VERSION) {
		*why = "unsupported protocol version";
		return false;
	}
	return true;
}

int ctl_request_parse(const char *line, size_t len, struct ctl_request *req, const char **why)
{
	json_object *root = NULL, *cmd, *args;
	size_t i, n;

	memset(req, 0, sizeof(*req));
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len > CTL_MAX_BATCH_REQUEST) {
		*why = "request too long";
		goto fail;
	}
	if (len == 0) {
		*why = "empty request";
		goto fail;
	}
	if (memchr(line, '\0', len)) {
		*why = "request contains a NUL byte";
		goto fail;
	}
	root = parse_exact(line, len, REQ_MAX_DEPTH, why);
	if (!root)
		goto fail;
	if (!json_object_is_type(root, json_type_object)) {
		*why = "request is not a JSON object";
		goto fail;
	}
	if (!version_ok(root, why))
		goto fail;
	if (!json_object_object_get_ex(root, "command", &cmd)) {
		*why = "missing \"command\"";
		goto fail;
	}
	if (!is_c_string(cmd) || json_object_get_string_len(cmd) == 0 ||
	    json_object_get_string_len(cmd) > CMD_MAX_LEN) {
		*why = "\"command\" is not a string of 1 to 63 characters";
		goto fail;
	}
	if (!json_object_object_get_ex(root, "args", &args)) {
		/* Optional, so that a person can type {"version":1,"command":"stats"}. */
		args = json_object_new_array();
		if (!args || json_object_object_add(root, "args", args)) {
			json_object_put(args);
			*why = "out of memory";
			goto fail;
		}
	}
	if (!json_object_is_type(args, json_type_array)) {
		*why = "\"args\" is not an array";
		goto fail;
	}
	n = json_object_array_length(args);
	if (n > CTL_MAX_ARGS) {
		*why = "more than 64 arguments";
		goto fail;
	}
	for (i = 0; i < n; i++) {
		if (!is_c_string(json_object_array_get_idx(args, i))) {
			*why = "\"args\" is not an array of strings";
			goto fail;
		}
	}
	if (json_object_object_get_ex(root, "batch", &req->batch)) {
		if (!json_object_is_type(req->batch, json_type_array)) {
			*why = "\"batch\" is not an array";
			goto fail;
		}
		n = json_object_array_length(req->batch);
		if (n > CTL_MAX_BATCH) {
			*why = "more than 1048576 lines in \"batch\"";
			goto fail;
		}
		for (i = 0; i < n; i++) {
			if (!is_c_string(json_object_array_get_idx(req->batch, i))) {
				*why = "\"batch\" is not an array of strings";
				goto fail;
			}
		}
	} else {
		req->batch = NULL;
	}
	req->root = root;
	req->command = json_object_get_string(cmd);
	req->args = args;
	return 0;
fail:
	json_object_put(root);
	return -EBADMSG;
}

void ctl_request_fini(struct ctl_request *req)
{
	json_object_put(req->root);
	memset(req, 0, sizeof(*req));
}

/* Serialize o plainly and append a newline. Consumes o. */
static char *to_line(json_object *o)
{
	const char *s;
	size_t len;
	char *line = NULL;

	if (!o)
		return NULL;
	s = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
					      &len);
	if (s) {
		line = malloc(len + 2);
		if (line) {
			memcpy(line, s, len);
			line[len] = '\n';
			line[len + 1] = '\0';
		}
	}
	json_object_put(o);
	return line;
}

/* Add key=val to o; on failure release val and return -1. */
static int add(json_object *o, const char *key, json_object *val)
{
	if (!val && strcmp(key, "data") != 0)
		return -1;
	if (json_object_object_add(o, key, val)) {
		json_object_put(val);
		return -1;
	}
	return 0;
}

/* An array of strings into o under key. */
static int add_strings(json_object *o, const char *key, const char *const *v, size_t n)
{
	json_object *a = json_object_new_array_ext((int)n);

	if (add(o, key, a))
		return -1;
	for (size_t i = 0; i < n; i++) {
		json_object *s = json_object_new_string(v[i]);

		if (!s || json_object_array_add(a, s)) {
			json_object_put(s);
			return -1;
		}
	}
	return 0;
}

static char *request_build(const char *command, const char *const *args, size_t nargs,
			   const char *const *lines, size_t nlines)
{
	json_object *o = json_object_new_object();

	if (!o || add(o, "version", json_object_new_int(CTL_PROTO_VERSION)) ||
	    add(o, "command", json_object_new_string(command)) ||
	    add_strings(o, "args", args, nargs) ||
	    (lines && add_strings(o, "batch", lines, nlines))) {
		json_object_put(o);
		return NULL;
	}
	return to_line(o);
}

char *ctl_request_build(const char *command, const char *const *args, size_t nargs)
{
	return nargs > CTL_MAX_ARGS ? NULL : request_build(command, args, nargs, NULL, 0);
}

char *ctl_request_build_batch(const char *command, const char *const *lines, size_t n)
{
	return n > CTL_MAX_BATCH ? NULL : request_build(command, NULL, 0, lines, n);
}

char *ctl_reply_build(int result, json_object *data, const char *error, json_object *errors)
{
	json_object *o = json_object_new_object();

	if (!o || add(o, "version", json_object_new_int(CTL_PROTO_VERSION)) ||
	    add(o, "result", json_object_new_int(result)))
		goto fail;
	if (result == CTL_OK) {
		json_object_put(errors);
		errors = NULL;
		if (add(o, "data", data)) {
			data = NULL;
			goto fail;
		}
		return to_line(o);
	}
	json_object_put(data);
	data = NULL;
	if (!errors)
		errors = json_object_new_array();
	if (add(o, "error", json_object_new_string(error ? error : ctl_result_str_any(result))))
		goto fail;
	if (add(o, "errors", errors)) {
		errors = NULL;
		goto fail;
	}
	return to_line(o);
fail:
	json_object_put(data);
	json_object_put(errors);
	json_object_put(o);
	return NULL;
}

int ctl_reply_parse(const char *line, size_t len, struct ctl_reply *rep, const char **why)
{
	json_object *root, *v;
	int64_t r;

	memset(rep, 0, sizeof(*rep));
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (memchr(line, '\0', len)) {
		*why = "reply contains a NUL byte";
		return -EBADMSG;
	}
	root = parse_exact(line, len, REP_MAX_DEPTH, why);
	if (!root)
		return -EBADMSG;
	if (!json_object_is_type(root, json_type_object)) {
		*why = "reply is not a JSON object";
		goto fail;
	}
	if (!version_ok(root, why))
		goto fail;
	if (!json_object_object_get_ex(root, "result", &v) || !json_object_is_type(v, json_type_int)) {
		*why = "reply has no integer \"result\"";
		goto fail;
	}
	r = json_object_get_int64(v);
	if (r < 0 || r > INT32_MAX) {
		*why = "reply \"result\" out of range";
		goto fail;
	}
	rep->result = (int)r;
	if (rep->result == CTL_OK) {
		json_object_object_get_ex(root, "data", &rep->data);
	} else {
		if (json_object_object_get_ex(root, "error", &v) && is_c_string(v))
			rep->error = json_object_get_string(v);
		else
			rep->error = ctl_result_str_any(rep->result);
		if (json_object_object_get_ex(root, "errors", &v) && json_object_is_type(v, json_type_array))
			rep->errors = v;
	}
	rep->root = root;
	return 0;
fail:
	json_object_put(root);
	return -EBADMSG;
}

void ctl_reply_fini(struct ctl_reply *rep)
{
	json_object_put(rep->root);
	memset(rep, 0, sizeof(*rep));
}

char *ctl_event_build(const char *event, time_t t, json_object *fields)
{
	json_object *o = json_object_new_object();

	if (!o || add(o, "event", json_object_new_string(event)) ||
	    add(o, "time", json_object_new_int64((int64_t)t)))
		goto fail;
	if (fields && json_object_is_type(fields, json_type_object)) {
		json_object_object_foreach(fields, k, v) {
			/* A null says nothing: left out (a drop from no peer). */
			if (!strcmp(k, "event") || !strcmp(k, "time") || !v)
				continue;
			if (add(o, k, json_object_get(v)))
				goto fail;
		}
	}
	json_object_put(fields);
	return to_line(o);
fail:
	json_object_put(fields);
	json_object_put(o);
	return NULL;
}

/* ---- tunnel add ---- */

static int fail_msg(char *err, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail_msg(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (err && len) {
		va_start(ap, fmt);
		vsnprintf(err, len, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* Decimal, or hexadecimal with 0x: no sign, no spaces, no octal surprise. */
static bool parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	unsigned base = 10, d;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s >= '0' && *s <= '9')
			d = (unsigned)(*s - '0');
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = (unsigned)(*s - 'a' + 10);
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = (unsigned)(*s - 'A' + 10);
		else
			return false;
		if (v > (max - d) / base)
			return false;
		v = v * base + d;
	}
	*out = v;
	return true;
}

static bool is_option(const char *w)
{
	return !strcmp(w, "ue") || !strcmp(w, "qfi") || !strcmp(w, "rate") || !strcmp(w, "burst");
}

#define TADD_USAGE "usage: tunnel add NAME from PEER TEID to PEER TEID [ue ADDR...] [qfi N] [rate BPS] [burst BYTES]"

/* A number as written: decimal or 0x hexadecimal, no sign. */
static bool number(const char *key, const char *w, int64_t *out, char *err, size_t errlen)
{
	uint64_t v;

	if (!parse_u64(w, INT64_MAX, &v)) {
		fail_msg(err, errlen, "%s: '%s' is not a number", key, w);
		return false;
	}
	*out = (int64_t)v;
	return true;
}

static int parse_end(const char *const *w, const char *which, const char **peer, int64_t *teid,
		     char *err, size_t errlen)
{
	char key[16];

	if (strcmp(w[0], which))
		return fail_msg(err, errlen, "expected '%s', got '%s'; " TADD_USAGE, which, w[0]);
	*peer = w[1];
	snprintf(key, sizeof(key), "%s.teid", which);
	return number(key, w[2], teid, err, errlen) ? 0 : -EINVAL;
}

struct first_err {
	char *err;
	size_t len;
	bool told;
};

/* The first broken rule, as "KEY: message" ("ue[1]: ..." for an address). */
static void spec_err(void *ud, enum tunnel_key k, int index, const char *msg)
{
	struct first_err *e = ud;

	if (e->told)
		return;
	e->told = true;
	if (index >= 0)
		fail_msg(e->err, e->len, "%s[%d]: %s", tunnel_key_name(k), index, msg);
	else
		fail_msg(e->err, e->len, "%s: %s", tunnel_key_name(k), msg);
}

/* Tokens only: the rules are tunnel_check's. Peers are resolved, and a
 * TUN device is asked for, by the daemon, which checks the tunnel again
 * with them (daemon_batch_spec). */
int ctl_tunnel_spec_parse(const char *const *w, size_t n, struct ctl_tunnel_spec *t,
			  char *err, size_t errlen)
{
	struct tunnel_in in = { .has = TK_BIT(TK_NAME) | TK_BIT(TK_FROM_PEER) | TK_BIT(TK_FROM_TEID) |
					 TK_BIT(TK_TO_PEER) | TK_BIT(TK_TO_TEID) };
	const char *ue[CONF_MAX_UE + 1];
	struct first_err fe = { err, errlen, false };
	struct tunnel_ctx ctx = { NULL, &fe, -1, spec_err };
	struct conf_tunnel ct;
	size_t i;

	memset(t, 0, sizeof(*t));
	t->qfi = -1;
	if (n < 7)
		return fail_msg(err, errlen, TADD_USAGE);
	in.name = w[0];
	if (parse_end(w + 1, "from", &in.from_peer, &in.from_teid, err, errlen) < 0 ||
	    parse_end(w + 4, "to", &in.to_peer, &in.to_teid, err, errlen) < 0)
		return -EINVAL;
	for (i = 7; i < n; i++) {
		const char *k = w[i];
		enum tunnel_key key = !strcmp(k, "ue") ? TK_UE : !strcmp(k, "qfi") ? TK_QFI :
				      !strcmp(k, "rate") ? TK_RATE : !strcmp(k, "burst") ? TK_BURST : TK__COUNT;

		if (key == TK__COUNT)
			return fail_msg(err, errlen, "unknown word '%s' (expected ue, qfi, rate or burst)", k);
		if (in.has & TK_BIT(key))
			return fail_msg(err, errlen, "'%s' given twice", k);
		in.has |= TK_BIT(key);
		if (key == TK_UE) {
			for (i++; i < n && !is_option(w[i]); i++) {
				if (in.n_ue <= CONF_MAX_UE)
					ue[in.n_ue] = w[i];
				in.n_ue++;
			}
			if (in.n_ue == 0)
				return fail_msg(err, errlen, "'ue' needs at least one address");
			in.ue = ue;
			i--;
			continue;
		}
		if (i + 1 == n)
			return fail_msg(err, errlen, "'%s' needs a value", k);
		if (key == TK_QFI) {
			if (!number(k, w[++i], &in.qfi, err, errlen))
				return -EINVAL;
		} else {
			/* Rates and bursts as people write them: 10M, 1.5G. */
			uint64_t v;

			if (conf_parse_si(w[++i], &v) < 0 || v > INT64_MAX)
				return fail_msg(err, errlen, "%s: '%s' is not a number (with an optional k, M, G or T)",
						k, w[i]);
			*(key == TK_RATE ? &in.rate : &in.burst) = (int64_t)v;
		}
	}
	if (tunnel_check(&in, &ctx, &ct, t->ue))
		return -EINVAL;
	snprintf(t->name, sizeof(t->name), "%s", in.name);
	snprintf(t->from_peer, sizeof(t->from_peer), "%s", in.from_peer);
	snprintf(t->to_peer, sizeof(t->to_peer), "%s", in.to_peer);
	t->from_teid = ct.from_teid;
	t->to_teid = ct.to_teid;
	t->n_ue = ct.n_ue;
	t->qfi = ct.qfi;
	t->rate = ct.rate;
	t->burst = ct.burst;
	return 0;
}

int ctl_tunnel_spec_parse_json(json_object *args, struct ctl_tunnel_spec *t, char *err, size_t errlen)
{
	const char *w[CTL_MAX_ARGS];
	size_t i, n;

	if (!json_object_is_type(args, json_type_array))
		return fail_msg(err, errlen, TADD_USAGE);
	n = json_object_array_length(args);
	if (n > CTL_MAX_ARGS)
		return fail_msg(err, errlen, "more than %d arguments", CTL_MAX_ARGS);
	for (i = 0; i < n; i++) {
		json_object *s = json_object_array_get_idx(args, i);

		if (!is_c_string(s))
			return fail_msg(err, errlen, "argument %zu is not a string", i + 1);
		w[i] = json_object_get_string(s);
	}
	return ctl_tunnel_spec_parse(w, n, t, err, errlen);
}

int ctl_tunnel_line_parse(const char *line, struct ctl_tunnel_spec *t, char *err, size_t errlen)
{
	char buf[CTL_MAX_LINE + 1];
	const char *w[CTL_MAX_ARGS];
	size_t n = 0, len = strlen(line);
	char *p = buf;

	if (len > CTL_MAX_LINE)
		return fail_msg(err, errlen, "line longer than %d characters", CTL_MAX_LINE);
	memcpy(buf, line, len + 1);
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			*p++ = '\0';
		if (!*p || *p == '#')
			break;
		if (n == CTL_MAX_ARGS)
			return fail_msg(err, errlen, "more than %d words", CTL_MAX_ARGS);
		w[n++] = p;
		while (*p && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
			p++;
	}
	*p = '\0';
	if (!n)
		return 0;
	return ctl_tunnel_spec_parse(w, n, t, err, errlen) < 0 ? -EINVAL : 1;
}

/* Appends printf output at *off, keeping track of truncation. */
static void cat(char *buf, size_t len, size_t *off, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void cat(char *buf, size_t len, size_t *off, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*off >= len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *off, len - *off, fmt, ap);
	va_end(ap);
	*off += n < 0 ? len : (size_t)n;
}

size_t ctl_tunnel_line_format(char *buf, size_t len, const struct ctl_tunnel_line *t)
{
	size_t off = 0;
	char a[64];

	cat(buf, len, &off, "%s from %s 0x%x to %s 0x%x", t->name, t->from, t->from_teid, t->to, t->to_teid);
	for (unsigned i = 0; i < t->n_ue; i++)
		cat(buf, len, &off, "%s%s", i ? " " : " ue ", conf_addr_str(&t->ue[i], a, sizeof(a)));
	if (t->qfi >= 0)
		cat(buf, len, &off, " qfi %d", t->qfi);
	if (t->rate)
		cat(buf, len, &off, " rate %" PRIu64, t->rate);
	if (t->burst)
		cat(buf, len, &off, " burst %" PRIu64, t->burst);
	return off;
}
