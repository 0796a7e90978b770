/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The loader's scanners: the prescan that cuts a large tunnels list into
 * chunks, the fast scanner that tokenizes the common shape of an entry
 * (tunnel_check decides), and the threads that load the chunks. */
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <libconfig.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conf_int.h"
#include "tunnel.h"

#define CHUNK 256                /* tunnels per libconfig parse: stays in cache */
#define MAX_THREADS 8

/* ---- the prescan: integer literals and the tunnels list ---- */

static int sc_put(struct scan *sc, const char *p, size_t n)
{
	if (sc->len + n + 1 > sc->cap) {
		size_t cap = sc->cap * 2 + n + 64;
		char *t = realloc(sc->text, cap);
		if (!t)
			return -ENOMEM;
		sc->text = t;
		sc->cap = cap;
	}
	memcpy(sc->text + sc->len, p, n);
	sc->len += n;
	sc->text[sc->len] = '\0';
	return 0;
}

/* Where input p lands in the output. */
static size_t sc_pos(const struct scan *sc, const char *p)
{
	return sc->len + (size_t)(p - sc->copied);
}

/* Input [copied, from) goes out as it is, then [from, to) is replaced by rep. */
static int sc_replace(struct scan *sc, const char *from, const char *to, const char *rep)
{
	if (sc_put(sc, sc->copied, (size_t)(from - sc->copied)) < 0 ||
	    sc_put(sc, rep, strlen(rep)) < 0)
		return -ENOMEM;
	sc->copied = to;
	return 0;
}

static int sc_chunk_elem(struct scan *sc, size_t start, int line)
{
	struct chunk *k = sc->n_chunks ? &sc->chunks[sc->n_chunks - 1] : NULL;

	if (!k || k->n == CHUNK) {
		if (sc->n_chunks == sc->cap_chunks) {
			uint32_t cap = sc->cap_chunks ? sc->cap_chunks * 2 : 64;
			struct chunk *t = realloc(sc->chunks, cap * sizeof *t);
			if (!t)
				return -ENOMEM;
			sc->chunks = t;
			sc->cap_chunks = cap;
		}
		k = &sc->chunks[sc->n_chunks++];
		k->start = start;
		k->line = line;
		k->first = sc->n_elems;
		k->n = 0;
	}
	k->n++;
	sc->n_elems++;
	return 0;
}

/* Character classes of the libconfig scanner: 1 may start a setting name,
 * 2 may continue one, 4 is white space. */
static const uint8_t cclass[256] = {
	['a' ... 'z'] = 3, ['A' ... 'Z'] = 3, ['*'] = 3,
	['0' ... '9'] = 2, ['-'] = 2, ['_'] = 2,
	[' '] = 4, ['\t'] = 4, ['\n'] = 4, ['\r'] = 4, ['\f'] = 4,
};

static bool is_name_start(char ch)
{
	return cclass[(uint8_t)ch] & 1;
}

static bool is_name_char(char ch)
{
	return cclass[(uint8_t)ch] & 2;
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* libconfig 1.5 keeps an integer literal without the L suffix in an int,
 * silently truncated: 4294967296 reads as 0 and 0x100000001 as 1. Such
 * literals get the L so that they read as 64-bit and the range checks see
 * the value written; ones beyond 64 bits become the 64-bit limit, still out
 * of every range. *used: the length of the literal at p. 0 or -ENOMEM. */
static void sc_big(struct scan *sc, const char *p, const char *q, int line)
{
	if (sc->n_big < sizeof(sc->big) / sizeof(sc->big[0])) {
		snprintf(sc->big[sc->n_big].text, sizeof(sc->big[0].text), "%.*s%s",
			 (int)(q - p > 40 ? 40 : q - p), p, q - p > 40 ? "..." : "");
		sc->big[sc->n_big++].line = line;
	}
}

void conf_as_written(const struct vctx *v, int line, char *msg, size_t len)
{
	static const char *const lim[] = { "-9223372036854775808", "9223372036854775807" };
	const struct scan *sc = v->sc;
	const char *text = NULL;
	char out[512];
	unsigned i, k;

	/* Two different ones on a line: which is which is not known. */
	for (i = 0; sc && i < sc->n_big; i++)
		if (sc->big[i].line == line)
			text = !text || !strcmp(text, sc->big[i].text) ? sc->big[i].text :
			       "a number beyond 64 bits";
	if (!text)
		return;
	for (k = 0; k < 2; k++) {
		char *at = strstr(msg, lim[k]);

		if (!at || (at > msg && at[-1] >= '0' && at[-1] <= '9'))
			continue;
		snprintf(out, sizeof(out), "%.*s%s%s", (int)(at - msg), msg, text,
			 at + strlen(lim[k]));
		snprintf(msg, len, "%s", out);
		return;
	}
}

static int sc_number(struct scan *sc, const char *p, size_t *used, int line)
{
	const char *q = p;
	bool neg = false, over = false;
	uint64_t x = 0;
	int d;

	if (*q == '-' || *q == '+')
		neg = *q++ == '-';
	if (q[0] == '0' && (q[1] == 'x' || q[1] == 'X') && hexval(q[2]) >= 0) {
		for (q += 2; (d = hexval(*q)) >= 0; q++) {
			if (x >> 60)
				over = true;
			x = x << 4 | (uint64_t)d;
		}
		if (over || x > (uint64_t)INT64_MAX) {
			q += *q == 'L';
			*used = (size_t)(q - p);
			sc_big(sc, p, q, line);
			return sc_replace(sc, p, q, "0x7FFFFFFFFFFFFFFFL");
		}
		*used = (size_t)(q - p);
		if (*q == 'L')
			return 0;
		return x > 0x7fffffff ? sc_replace(sc, q, q, "L") : 0;
	}
	for (; *q >= '0' && *q <= '9'; q++) {
		if (x > (UINT64_MAX - 9) / 10)
			over = true;
		x = x * 10 + (uint64_t)(*q - '0');
	}
	if (*q == '.' || *q == 'e' || *q == 'E') {
		/* A float: left as it is. */
		while ((*q >= '0' && *q <= '9') || *q == '.')
			q++;
		if (*q == 'e' || *q == 'E') {
			q++;
			if (*q == '+' || *q == '-')
				q++;
			while (*q >= '0' && *q <= '9')
				q++;
		}
		*used = (size_t)(q - p);
		return 0;
	}
	if (over || x > (neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX)) {
		q += *q == 'L';
		*used = (size_t)(q - p);
		sc_big(sc, p, q, line);
		return sc_replace(sc, p, q, neg ? "-9223372036854775808L" : "9223372036854775807L");
	}
	*used = (size_t)(q - p);
	if (*q == 'L')
		return 0;
	return x > (neg ? (uint64_t)INT32_MAX + 1 : (uint64_t)INT32_MAX) ? sc_replace(sc, q, q, "L") : 0;
}

/* Tokens on the way to and inside the tunnels list. */
enum tstate { TS_NONE, TS_NAME, TS_ASSIGN, TS_LIST, TS_DONE };

/* One pass over the text that does not parse it (libconfig does), only
 * rewrites wide integers and finds where each element of a top-level
 * "tunnels = ( ... )" list starts. Anything odd turns the fast path off and
 * the whole text goes to libconfig, which then reports the error. */
int conf_prescan(const char *in, struct scan *sc)
{
	enum tstate ts = TS_NONE;
	bool expect_elem = false, elem_open = false;
	int depth = 0, line = 1, list_line0 = 0;
	const char *p = in;
	size_t n;

	memset(sc, 0, sizeof *sc);
	sc->cap = strlen(in) + strlen(in) / 32 + 64;
	sc->text = malloc(sc->cap);
	if (!sc->text)
		return -ENOMEM;
	sc->text[0] = '\0';
	sc->in = in;
	sc->copied = in;
	sc->fast = true;
	while (*p) {
		const char *s = p;
		char ch = *p;

		if (cclass[(uint8_t)ch] & 4) {
			while (cclass[(uint8_t)*p] & 4)
				line += *p++ == '\n';
			continue;
		}
		if (ch == '#' || (ch == '/' && p[1] == '/')) {
			while (*p && *p != '\n')
				p++;
			continue;
		}
		if (ch == '/' && p[1] == '*') {
			const char *e = strstr(p + 2, "*/");
			if (!e) {
				sc->fast = false;
				e = p + strlen(p) - 2;
			}
			for (; p < e + 2; p++)
				line += *p == '\n';
			continue;
		}
		/* Everything else is a token: an element starts with it. */
		if (ts == TS_LIST && depth == 1 && expect_elem && ch != ',' && ch != ')') {
			if (sc_chunk_elem(sc, sc_pos(sc, p), line) < 0)
				return -ENOMEM;
			expect_elem = false;
			elem_open = true;
		}
		if (ch == '"') {
			for (p++; (p += strcspn(p, "\"\\\n")), *p && *p != '"'; p++) {
				if (*p == '\\' && p[1])
					p++;
				line += *p == '\n';
			}
			if (!*p)
				sc->fast = false;
			else
				p++;
			continue;
		}
		if (is_name_start(ch)) {
			while (is_name_char(*p))
				p++;
			if (depth == 0) {
				bool tun = (size_t)(p - s) == 7 && !memcmp(s, "tunnels", 7);
				if (ts != TS_NONE && ts != TS_DONE)
					sc->fast = false;
				if (tun) {
					if (sc->seen_tunnels)
						sc->fast = false;
					sc->seen_tunnels = true;
					ts = TS_NAME;
				}
			}
			continue;
		}
		if ((ch >= '0' && ch <= '9') || ((ch == '-' || ch == '+' || ch == '.') &&
						   ((p[1] >= '0' && p[1] <= '9') || p[1] == '.'))) {
			if (ch == '.') {
				/* ".5": a float */
				p++;
				while ((*p >= '0' && *p <= '9') || *p == 'e' || *p == 'E' ||
				       ((*p == '-' || *p == '+') && (p[-1] == 'e' || p[-1] == 'E')))
					p++;
				continue;
			}
			if (sc_number(sc, p, &n, line) < 0)
				return -ENOMEM;
			p += n;
			continue;
		}
		if (ch == '@' && !strncmp(p, "@include", 8)) {
			if (!sc->include_line)
				sc->include_line = line;
		}
		/* Punctuation. */
		switch (ch) {
		case '=':
		case ':':
			if (depth == 0) {
				if (ts == TS_NAME)
					ts = TS_ASSIGN;
				else if (ts == TS_ASSIGN)
					sc->fast = false;
			}
			break;
		case '{':
		case '[':
		case '(':
			if (depth == 0 && ts == TS_ASSIGN) {
				if (ch != '(') {
					sc->fast = false;
					ts = TS_DONE;
				} else {
					ts = TS_LIST;
					sc->list_open = sc_pos(sc, p);
					list_line0 = sc->list_line = line;
					expect_elem = true;
				}
			} else if (depth == 0 && ts == TS_NAME) {
				sc->fast = false;
			}
			depth++;
			break;
		case '}':
		case ']':
		case ')':
			depth--;
			if (depth < 0)
				sc->fast = false;
			if (ts == TS_LIST && depth == 0) {
				if (ch != ')' || (expect_elem && sc->n_elems))
					sc->fast = false;   /* "( a, )" and mismatches */
				if (elem_open)
					sc->chunks[sc->n_chunks - 1].end = sc_pos(sc, p);
				elem_open = false;
				sc->list_close = sc_pos(sc, p);
				sc->list_newlines = line - list_line0;
				ts = TS_DONE;
			}
			break;
		case ',':
			if (ts == TS_LIST && depth == 1) {
				if (expect_elem)
					sc->fast = false;   /* "( , a)" or "a, , b" */
				if (elem_open)
					sc->chunks[sc->n_chunks - 1].end = sc_pos(sc, p);
				elem_open = false;
				expect_elem = true;
			}
			break;
		case ';':
			if (depth == 0 && ts != TS_NONE && ts != TS_DONE)
				sc->fast = false;
			break;
		default:
			break;
		}
		p++;
	}
	if (sc_replace(sc, p, p, "") < 0)
		return -ENOMEM;
	if (depth != 0 || (ts != TS_NONE && ts != TS_DONE))
		sc->fast = false;
	if (!sc->seen_tunnels || sc->n_elems == 0)
		sc->fast = false;
	return 0;
}

void conf_scan_fini(struct scan *sc)
{
	free(sc->text);
	free(sc->chunks);
}

/* ---- the fast scanner: one tunnel entry without libconfig ---- */

/* libconfig spends most of the load building settings that are read once.
 * The common shape of an entry is read here straight into struct
 * conf_tunnel. Whatever it is not sure of (a syntax it does not handle, a
 * key or type it does not expect, a value that would make an error) makes
 * it give up on the whole chunk, which then goes through libconfig and
 * load_tunnel as before: every message comes from there. */

/* Tests: set to turn the fast scanner off; counts the chunks it loaded. */
extern bool conf_fast_scan_off;
extern atomic_uint conf_fast_scan_chunks;
bool conf_fast_scan_off;
atomic_uint conf_fast_scan_chunks;

struct fscan {
	const char *p, *end;
	int line;
};

/* White space and comments; false on an unterminated comment. */
static bool fs_skip(struct fscan *f)
{
	const char *p = f->p, *e = f->end;

	while (p < e) {
		if (cclass[(uint8_t)*p] & 4) {
			f->line += *p++ == '\n';
		} else if (*p == '#' || (*p == '/' && p + 1 < e && p[1] == '/')) {
			while (p < e && *p != '\n')
				p++;
		} else if (*p == '/' && p + 1 < e && p[1] == '*') {
			for (p += 2; p + 1 < e && !(p[0] == '*' && p[1] == '/'); p++)
				f->line += *p == '\n';
			if (p + 1 >= e)
				return false;
			p += 2;
		} else {
			break;
		}
	}
	f->p = p;
	return true;
}

/* After white space: the next character is c (consumed). */
static bool fs_punct(struct fscan *f, char c)
{
	if (!fs_skip(f) || f->p >= f->end || *f->p != c)
		return false;
	f->p++;
	return true;
}

/* An optional ';' or ',' after a setting. */
static bool fs_term(struct fscan *f)
{
	if (!fs_skip(f))
		return false;
	if (f->p < f->end && (*f->p == ';' || *f->p == ','))
		f->p++;
	return true;
}

/* A setting name and its '=' or ':'. Returns its length, 0 when there is
 * none. */
static size_t fs_key(struct fscan *f, const char **key, int *line)
{
	const char *s = f->p;
	size_t n;

	*key = s;
	*line = f->line;
	if (s >= f->end || !is_name_start(*s))
		return 0;
	while (f->p < f->end && is_name_char(*f->p))
		f->p++;
	n = (size_t)(f->p - s);
	if (!fs_skip(f) || f->p >= f->end || (*f->p != '=' && *f->p != ':'))
		return 0;
	f->p++;
	return n;
}

/* The next setting of a group: 1 with its name (its '=' or ':' passed),
 * 0 at the group's '}' (passed), -1 for anything else. */
static int fs_next(struct fscan *f, const char **key, size_t *n, int *line)
{
	if (!fs_skip(f) || f->p >= f->end)
		return -1;
	if (*f->p == '}') {
		f->p++;
		return 0;
	}
	*n = fs_key(f, key, line);
	return *n ? 1 : -1;
}

static bool key_is(const char *k, size_t n, const char *want)
{
	return strlen(want) == n && !memcmp(k, want, n);
}

/* One string literal on one line, with the escapes of libconfig 1.5; not
 * followed by another literal (libconfig joins them). */
static bool fs_string(struct fscan *f, char *buf, size_t cap)
{
	const char *p, *e = f->end;
	size_t n = 0;

	if (!fs_skip(f) || f->p >= e || *f->p != '"')
		return false;
	for (p = f->p + 1; p < e && *p != '"'; p++) {
		char ch = *p;
		if (ch == '\n')
			return false;
		if (ch == '\\') {
			if (++p >= e)
				return false;
			switch (*p) {
			case '\\': ch = '\\'; break;
			case '"': ch = '"'; break;
			case 'f': ch = '\f'; break;
			case 'n': ch = '\n'; break;
			case 'r': ch = '\r'; break;
			case 't': ch = '\t'; break;
			case 'x': {
				int hi, lo;
				if (p + 2 >= e || (hi = hexval(p[1])) < 0 || (lo = hexval(p[2])) < 0 ||
				    (hi | lo) == 0)
					return false;
				ch = (char)(hi << 4 | lo);
				p += 2;
				break;
			}
			default:
				return false;
			}
		}
		if (n + 1 >= cap)
			return false;
		buf[n++] = ch;
	}
	if (p >= e)
		return false;
	buf[n] = '\0';
	f->p = p + 1;
	return fs_skip(f) && (f->p >= e || *f->p != '"');
}

/* A non-negative integer literal, decimal or hex, with an optional L, in
 * min..max: libconfig reads it as the same value and the checks pass. */
static bool fs_int(struct fscan *f, int64_t min, int64_t max, int64_t *out)
{
	const char *p, *e = f->end;
	uint64_t x = 0;
	int d;

	if (!fs_skip(f))
		return false;
	p = f->p;
	if (p >= e || *p < '0' || *p > '9')
		return false;
	if (p + 2 < e && p[0] == '0' && (p[1] == 'x' || p[1] == 'X') && hexval(p[2]) >= 0) {
		for (p += 2; p < e && (d = hexval(*p)) >= 0; p++) {
			if (x >> 59)
				return false;
			x = x << 4 | (uint64_t)d;
		}
	} else {
		for (; p < e && *p >= '0' && *p <= '9'; p++) {
			if (x > (UINT64_MAX - 9) / 10)
				return false;
			x = x * 10 + (uint64_t)(*p - '0');
		}
	}
	/* The prescan gave every literal beyond 31 bits its L. */
	if (p < e && *p == 'L')
		p++;
	else if (x > INT32_MAX)
		return false;
	if (p < e && (is_name_char(*p) || *p == '.'))
		return false;
	if (x > (uint64_t)INT64_MAX || (int64_t)x < min || (int64_t)x > max)
		return false;
	*out = (int64_t)x;
	f->p = p;
	return true;
}

/* The fast scanner only tokenizes: what it reads goes to tunnel_check,
 * and anything it cannot read, or that breaks a rule, is libconfig's turn
 * (which tells the error with its line). */
struct fs_tokens {
	struct tunnel_in in;
	char name[CONF_NAME_MAX + 2], from[CONF_NAME_MAX + 2], to[CONF_NAME_MAX + 2];
	char ue[CONF_MAX_UE][INET6_ADDRSTRLEN + 8];
	const char *uep[CONF_MAX_UE];
	int name_line, teid_line, ue_line;
};

/* from = { peer = "..."; teid = ...; } */
static bool fs_end(struct fscan *f, char *peer, int64_t *teid, int *teid_line)
{
	bool has_peer = false, has_teid = false;
	const char *k;
	size_t n;
	int line, r;

	if (!fs_punct(f, '{'))
		return false;
	while ((r = fs_next(f, &k, &n, &line)) > 0) {
		if (key_is(k, n, "peer") && !has_peer) {
			if (!fs_string(f, peer, CONF_NAME_MAX + 2))
				return false;
			has_peer = true;
		} else if (key_is(k, n, "teid") && !has_teid) {
			if (!fs_int(f, INT64_MIN, INT64_MAX, teid))
				return false;
			if (teid_line)
				*teid_line = line;
			has_teid = true;
		} else {
			return false;
		}
		if (!fs_term(f))
			return false;
	}
	return r == 0 && has_peer && has_teid;
}

/* ue = [ "ADDR", ... ] or ( ... ) */
static bool fs_ue(struct fscan *f, struct fs_tokens *tk)
{
	char close;

	if (!fs_skip(f) || f->p >= f->end || (*f->p != '[' && *f->p != '('))
		return false;
	close = *f->p++ == '[' ? ']' : ')';
	if (!fs_skip(f) || f->p >= f->end)
		return false;
	if (*f->p != close) {
		for (;;) {
			if (tk->in.n_ue >= CONF_MAX_UE ||
			    !fs_string(f, tk->ue[tk->in.n_ue], sizeof(tk->ue[0])))
				return false;
			tk->uep[tk->in.n_ue] = tk->ue[tk->in.n_ue];
			tk->in.n_ue++;
			if (!fs_skip(f) || f->p >= f->end)
				return false;
			if (*f->p == close)
				break;
			if (*f->p != ',')
				return false;
			f->p++;
		}
	}
	f->p++;
	tk->in.ue = tk->uep;
	return true;
}

static int fs_peer(void *ud, const char *name)
{
	return conf_peer_lookup(ud, name);
}

/* One element { ... } of the tunnels list into t (zeroed by the caller). */
static bool fs_tunnel(struct fscan *f, const struct loader *ld, struct conf_tunnel *t,
		      struct tlines *tl, uint32_t i, bool *v6)
{
	static const struct { const char *key; enum tunnel_key k; } keys[] = {
		{ "name", TK_NAME }, { "from", TK_FROM_PEER }, { "to", TK_TO_PEER }, { "ue", TK_UE },
		{ "qfi", TK_QFI }, { "rate", TK_RATE }, { "burst", TK_BURST },
	};
	struct tunnel_ctx ctx = { fs_peer, (void *)ld, ld->c->tun.present, NULL };
	struct fs_tokens tk;
	struct conf_addr ue[CONF_MAX_UE];
	const char *k;
	size_t n;
	int line, r, start;
	unsigned j;

	memset(&tk.in, 0, sizeof(tk.in));
	if (!fs_skip(f) || f->p >= f->end || *f->p != '{')
		return false;
	start = f->line;
	f->p++;
	while ((r = fs_next(f, &k, &n, &line)) > 0) {
		for (j = 0; j < sizeof(keys) / sizeof(keys[0]) && !key_is(k, n, keys[j].key); j++)
			;
		/* An unknown key, or a key twice (a libconfig error). */
		if (j == sizeof(keys) / sizeof(keys[0]) || (tk.in.has & TK_BIT(keys[j].k)))
			return false;
		tk.in.has |= TK_BIT(keys[j].k);
		switch (keys[j].k) {
		case TK_NAME:
			if (!fs_string(f, tk.name, sizeof tk.name))
				return false;
			tk.in.name = tk.name;
			tk.name_line = line;
			break;
		case TK_FROM_PEER:
			tk.in.has |= TK_BIT(TK_FROM_TEID);
			tk.in.from_peer = tk.from;
			if (!fs_end(f, tk.from, &tk.in.from_teid, &tk.teid_line))
				return false;
			break;
		case TK_TO_PEER:
			tk.in.has |= TK_BIT(TK_TO_TEID);
			tk.in.to_peer = tk.to;
			if (!fs_end(f, tk.to, &tk.in.to_teid, NULL))
				return false;
			break;
		case TK_UE:
			if (!fs_ue(f, &tk))
				return false;
			tk.ue_line = line;
			break;
		case TK_QFI:
		case TK_RATE:
		case TK_BURST:
			if (!fs_int(f, INT64_MIN, INT64_MAX, keys[j].k == TK_QFI ? &tk.in.qfi :
				    keys[j].k == TK_RATE ? &tk.in.rate : &tk.in.burst))
				return false;
			break;
		default:
			return false;
		}
		if (!fs_term(f))
			return false;
	}
	if (r < 0 || tunnel_check(&tk.in, &ctx, t, ue)) {
		memset(t, 0, sizeof *t);   /* it pointed into tk */
		return false;
	}
	t->line = start;
	t->ue = NULL;
	if (!(t->name = strdup(tk.name)))
		return false;
	tl->name[i] = (uint32_t)tk.name_line;
	tl->teid[i] = (uint32_t)tk.teid_line;
	if (t->n_ue) {
		if (!(t->ue = malloc(t->n_ue * sizeof *t->ue)))
			return false;
		memcpy(t->ue, ue, t->n_ue * sizeof *t->ue);
		for (j = 0; j < t->n_ue; j++)
			*v6 |= ue[j].family == AF_INET6;
		tl->ue[i] = (uint32_t)tk.ue_line;
	}
	return true;
}

static void fs_clear(struct conf_tunnel *t, struct tlines *tl, uint32_t i)
{
	free(t->name);
	free(t->ue);
	memset(t, 0, sizeof *t);
	tl->name[i] = tl->teid[i] = tl->ue[i] = 0;
}

/* Chunk k straight into its rows. False (rows cleared): libconfig's turn. */
static bool fast_chunk(const struct loader *ld, const struct scan *sc, const struct chunk *k,
		       struct conf_tunnel *tunnels, struct tlines *tl, bool *v6)
{
	struct fscan f = { sc->text + k->start, sc->text + k->end, k->line };
	bool any_v6 = false;
	uint32_t i, done = 0;

	if (conf_fast_scan_off)
		return false;
	for (i = 0; i < k->n; i++) {
		struct conf_tunnel *t = &tunnels[k->first + i];
		done = i + 1;
		if (i && !fs_punct(&f, ','))
			goto fail;
		if (!fs_tunnel(&f, ld, t, tl, k->first + i, &any_v6))
			goto fail;
	}
	if (!fs_skip(&f) || f.p != f.end)
		goto fail;
	*v6 |= any_v6;
	atomic_fetch_add_explicit(&conf_fast_scan_chunks, 1, memory_order_relaxed);
	return true;
fail:
	for (i = 0; i < done; i++)
		fs_clear(&tunnels[k->first + i], tl, k->first + i);
	return false;
}

/* ---- parsing the tunnels, in chunks on threads ---- */

struct tjob {
	const struct loader *ld;
	const struct scan *sc;
	struct conf_tunnel *tunnels;
	struct tlines *tl;
	struct elist **chunk_el;  /* [n_chunks], allocated when a chunk has errors */
	atomic_uint next;
	atomic_int syntax_chunk;  /* first chunk with a syntax error, or INT_MAX */
	atomic_bool any_v6_ue, oom, mismatch;
};

static void tctx_init(struct tctx *x, const struct loader *ld, struct tlines *tl,
		      struct elist *el, int line_off)
{
	memset(x, 0, sizeof *x);
	x->v.file = ld->v.file;
	x->v.line_off = line_off;
	x->v.el = el;
	x->v.sc = ld->v.sc;
	x->ld = ld;
	x->tl = tl;
}

static void *tjob_run(void *arg)
{
	struct tjob *j = arg;
	const struct scan *sc = j->sc;
	char *buf = NULL;
	size_t cap = 0;
	struct elist *el = calloc(1, sizeof *el);
	bool v6 = false;

	if (!el) {
		j->oom = true;
		return NULL;
	}
	for (;;) {
		unsigned ci = atomic_fetch_add(&j->next, 1);
		const struct chunk *k;
		config_setting_t *l;
		struct tctx x;
		config_t cf;
		size_t len;
		uint32_t i;

		if (ci >= sc->n_chunks)
			break;
		k = &sc->chunks[ci];
		if (fast_chunk(j->ld, sc, k, j->tunnels, j->tl, &v6)) {
			if (v6)
				j->any_v6_ue = true;
			continue;
		}
		len = k->end - k->start;
		if (len + 16 > cap) {
			char *b = realloc(buf, len + 16);
			if (!b) {
				j->oom = true;
				break;
			}
			buf = b;
			cap = len + 16;
		}
		/* "tunnels=(" adds no line: libconfig's line L is k->line + L - 1. */
		memcpy(buf, "tunnels=(", 9);
		memcpy(buf + 9, sc->text + k->start, len);
		memcpy(buf + 9 + len, ");", 3);
		config_init(&cf);
		if (!config_read_string(&cf, buf)) {
			int cur = atomic_load(&j->syntax_chunk);
			while ((int)ci < cur && !atomic_compare_exchange_weak(&j->syntax_chunk, &cur, (int)ci))
				;
			if (j->chunk_el[ci] || (j->chunk_el[ci] = calloc(1, sizeof *el))) {
				tctx_init(&x, j->ld, j->tl, j->chunk_el[ci], k->line - 1);
				conf_err_at(&x.v, config_error_line(&cf) + k->line - 1, "%s",
				       config_error_text(&cf));
			} else {
				j->oom = true;
			}
			config_destroy(&cf);
			continue;
		}
		l = config_lookup(&cf, "tunnels");
		if (!l || (uint32_t)config_setting_length(l) != k->n) {
			j->mismatch = true;
			config_destroy(&cf);
			continue;
		}
		tctx_init(&x, j->ld, j->tl, el, k->line - 1);
		for (i = 0; i < k->n; i++)
			conf_load_tunnel(&x, config_setting_get_elem(l, i), k->first + i,
				    &j->tunnels[k->first + i]);
		config_destroy(&cf);
		if (x.any_v6_ue)
			j->any_v6_ue = true;
		if (el->oom)
			j->oom = true;
		if (el->count) {
			j->chunk_el[ci] = el;
			el = calloc(1, sizeof *el);
			if (!el) {
				j->oom = true;
				break;
			}
		}
	}
	free(el);
	free(buf);
	return NULL;
}

/* Tunnels of the fast path. Returns 0, 1 when the chunks did not match the
 * prescan (the caller falls back to one libconfig parse), or -ENOMEM. */
int conf_load_chunks(struct loader *ld, const struct scan *sc, struct tlines *tl,
			      bool *syntax)
{
	struct tjob j = { .ld = ld, .sc = sc, .tunnels = ld->c->tunnels, .tl = tl };
	pthread_t th[MAX_THREADS];
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned nth = ncpu < 1 ? 1 : ncpu > MAX_THREADS ? MAX_THREADS : (unsigned)ncpu;
	unsigned started = 0, i;
	int ret = 0;

	atomic_init(&j.next, 0);
	atomic_init(&j.syntax_chunk, INT_MAX);
	atomic_init(&j.any_v6_ue, false);
	atomic_init(&j.oom, false);
	atomic_init(&j.mismatch, false);
	j.chunk_el = calloc(sc->n_chunks, sizeof *j.chunk_el);
	if (!j.chunk_el)
		return -ENOMEM;
	if (nth > sc->n_chunks)
		nth = sc->n_chunks;
	for (i = 1; i < nth; i++)
		if (pthread_create(&th[started], NULL, tjob_run, &j) == 0)
			started++;
	tjob_run(&j);
	for (i = 0; i < started; i++)
		pthread_join(th[i], NULL);

	if (j.oom) {
		ret = -ENOMEM;
	} else if (j.mismatch) {
		ret = 1;
	} else if (atomic_load(&j.syntax_chunk) != INT_MAX) {
		/* As libconfig on the whole file: the first syntax error only,
		 * told as conf_syntax_error tells it (once: it reads the file). */
		struct elist *el = j.chunk_el[atomic_load(&j.syntax_chunk)];
		char *pre = NULL;
		int n = el->n ? asprintf(&pre, "%s:%d: ", ld->v.file, el->e[0].line) : -1;

		*syntax = true;
		conf_elist_fini(ld->v.el);
		/* The message is "FILE:LINE: " and libconfig's words. */
		if (n > 0 && !strncmp(el->e[0].msg, pre, (size_t)n))
			conf_syntax_error(&ld->v, sc->in, el->e[0].line, el->e[0].msg + n);
		else
			conf_elist_move(ld->v.el, el);
		free(pre);
	} else {
		for (i = 0; i < sc->n_chunks; i++)
			if (j.chunk_el[i])
				conf_elist_move(ld->v.el, j.chunk_el[i]);
		ld->any_v6_ue |= j.any_v6_ue;
	}
	for (i = 0; i < sc->n_chunks; i++) {
		if (j.chunk_el[i]) {
			conf_elist_fini(j.chunk_el[i]);
			free(j.chunk_el[i]);
		}
	}
	free(j.chunk_el);
	return ret;
}

void conf_load_list(struct loader *ld, const config_setting_t *l, struct tlines *tl)
{
	struct tctx x;
	uint32_t i;

	tctx_init(&x, ld, tl, ld->v.el, 0);
	for (i = 0; i < ld->c->n_tunnels; i++)
		conf_load_tunnel(&x, config_setting_get_elem(l, i), i, &ld->c->tunnels[i]);
	ld->any_v6_ue |= x.any_v6_ue;
}

