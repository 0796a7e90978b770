/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What a syntax error is: libconfig says only "syntax error" and a line,
 * often past the end of the file. This reads the text again with a small
 * recursive-descent parser of libconfig 1.5's grammar that stops at the
 * first fault and names it (an unclosed group and where it began, a
 * trailing comma, an unquoted string, a missing '=' or ',', a byte order
 * mark, a setting given twice). It also finds the control group alone, so
 * that gtpuctl -c reads its socket path from a file that is otherwise
 * broken. It decides nothing: libconfig still parses the file. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf_int.h"

enum tok { T_EOF, T_NAME, T_STRING, T_NUMBER, T_PUNCT, T_BAD };

struct token {
	enum tok t;
	const char *s;            /* its text */
	size_t n;
	int line;
};

struct lexer {
	const char *text, *p;
	int line;
	struct token tk;          /* the current token */
	const char *unterminated; /* a string or comment runs to the end: which */
	int unterminated_line;
};

static bool name_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '*';
}

static bool name_char(char c)
{
	return name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

static size_t digits(const char *p)
{
	size_t n = 0;

	while (p[n] >= '0' && p[n] <= '9')
		n++;
	return n;
}

/* The longest number libconfig 1.5's scanner reads at p (0: none), as it
 * splits "5x" into 5 and x: integers [-+]?[0-9]+ and hexadecimal
 * 0x[0-9a-f]+, either with L or LL; floats [-+]?[0-9]*\.[0-9]*, or
 * [-+]?[0-9]+ with an exponent, which a float may have too. */
static size_t number_len(const char *p)
{
	size_t best = 0, n, sign = *p == '-' || *p == '+';

	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X') && strchr("0123456789abcdefABCDEF", p[2]) && p[2]) {
		for (n = 2; p[n] && strchr("0123456789abcdefABCDEF", p[n]); n++)
			;
		best = n + (p[n] == 'L' ? (p[n + 1] == 'L' ? 2 : 1) : 0);
	}
	n = digits(p + sign);
	if (n) {
		size_t i = sign + n;

		i += p[i] == 'L' ? (p[i + 1] == 'L' ? 2 : 1) : 0;
		best = i > best ? i : best;
	}
	/* A float: digits, a dot and digits (either may be empty), or digits
	 * alone; then an optional exponent, required without a dot. */
	{
		size_t i = sign + n;
		bool dot = p[i] == '.';

		if (dot)
			i += 1 + digits(p + i + 1);
		if ((dot || n) && (p[i] == 'e' || p[i] == 'E')) {
			size_t j = i + 1 + (p[i + 1] == '-' || p[i + 1] == '+');

			if (digits(p + j))
				i = j + digits(p + j);
			else if (!dot)
				i = 0;
		} else if (!dot) {
			i = 0;
		}
		best = i > best ? i : best;
	}
	return best;
}

/* The next token into lx->tk; white space and comments skipped. */
static void next(struct lexer *lx)
{
	const char *p = lx->p;
	struct token *tk = &lx->tk;

	for (;;) {
		if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\f' || *p == '\n') {
			lx->line += *p++ == '\n';
		} else if (*p == '#' || (p[0] == '/' && p[1] == '/')) {
			while (*p && *p != '\n')
				p++;
		} else if (p[0] == '/' && p[1] == '*') {
			int start = lx->line;

			for (p += 2; *p && !(p[0] == '*' && p[1] == '/'); p++)
				lx->line += *p == '\n';
			if (!*p) {
				lx->unterminated = "a /* comment";
				lx->unterminated_line = start;
				break;
			}
			p += 2;
		} else {
			break;
		}
	}
	tk->s = p;
	tk->line = lx->line;
	if (!*p) {
		tk->t = T_EOF;
	} else if (*p == '"') {
		for (p++; *p && *p != '"'; p++) {
			if (*p == '\\' && p[1])
				p++;
			lx->line += *p == '\n';
		}
		if (!*p) {
			lx->unterminated = "a string";
			lx->unterminated_line = tk->line;
			tk->t = T_EOF;
		} else {
			p++;
			tk->t = T_STRING;
		}
	} else if (name_start(*p)) {
		while (name_char(*p))
			p++;
		tk->t = T_NAME;
	} else if (number_len(p)) {
		p += number_len(p);
		tk->t = T_NUMBER;
	} else if (strchr("=:;,{}[]()@", *p)) {
		p++;
		tk->t = T_PUNCT;
	} else {
		/* One UTF-8 sequence or one odd byte. */
		for (p++; (*p & 0xc0) == 0x80; p++)
			;
		tk->t = T_BAD;
	}
	tk->n = (size_t)(p - tk->s);
	lx->p = p;
}

static bool is(const struct lexer *lx, char c)
{
	return lx->tk.t == T_PUNCT && lx->tk.s[0] == c;
}

/* The first fault found. */
struct fault {
	int line;
	bool dup;                 /* a setting given twice: not a syntax error */
	char msg[256];
};

struct parser {
	struct lexer lx;
	struct fault *f;
	bool failed;
	int depth;
};

__attribute__((format(printf, 3, 4)))
static void fail_at(struct parser *ps, int line, const char *fmt, ...)
{
	va_list ap;

	if (ps->failed)
		return;
	ps->failed = true;
	ps->f->line = line;
	va_start(ap, fmt);
	vsnprintf(ps->f->msg, sizeof ps->f->msg, fmt, ap);
	va_end(ap);
}

/* The current token as the message shows it. */
static const char *shown(const struct token *tk, char *buf, size_t len)
{
	if (tk->t == T_EOF)
		return "the end of the file";
	snprintf(buf, len, "'%.*s'", (int)(tk->n > 40 ? 40 : tk->n), tk->s);
	return buf;
}

/* An address written without quotes where a value starts: fe80::1,
 * ::1, [::]:2152 (192.0.2.10 starts as a number: see value()). Told, and
 * true, when the current token starts one. */
static bool unquoted_address(struct parser *ps)
{
	const struct token *tk = &ps->lx.tk;
	const char *p = tk->s + (tk->s[0] == '[');
	size_t hex = strspn(p, "0123456789abcdefABCDEF"), n;

	if (p[hex] != ':' || (hex == 0 && p[1] != ':') || (tk->t == T_NAME && hex < tk->n))
		return false;
	n = strspn(tk->s, "0123456789abcdefABCDEF.:[]");
	fail_at(ps, tk->line, "unquoted address %.*s: addresses are strings (\"%.*s\")", (int)n, tk->s, (int)n,
		tk->s);
	return true;
}

/* A value where none can be: the usual mistakes first. */
static void bad_value(struct parser *ps, const char *after, int after_line)
{
	const struct token *tk = &ps->lx.tk;
	struct lexer ahead = ps->lx;
	char b[64];

	next(&ahead);
	if (unquoted_address(ps))
		;
	else if (tk->t == T_NAME && (is(&ahead, '=') || is(&ahead, ':')))
		fail_at(ps, tk->line, "setting \"%.*s\" where a value is expected: settings belong in a "
			"group { }", (int)tk->n, tk->s);
	else if (tk->t == T_NAME)
		fail_at(ps, tk->line, "unquoted string %.*s: strings are written in double quotes (\"%.*s\")",
			(int)tk->n, tk->s, (int)tk->n, tk->s);
	else if (tk->t == T_PUNCT && strchr("])", tk->s[0]) && !strcmp(after, "','"))
		fail_at(ps, after_line, "trailing comma before '%c': remove the ',' after the last element",
			tk->s[0]);
	else if (tk->t == T_PUNCT && (tk->s[0] == ';' || tk->s[0] == ','))
		fail_at(ps, tk->line, "no value after %s", after);
	else
		fail_at(ps, tk->line, "a value (number, \"string\", true, false, [ ], ( ) or { }) is "
			"expected after %s, not %s", after, shown(tk, b, sizeof b));
}

static void value(struct parser *ps, const char *after, int after_line);
static void settings(struct parser *ps, int open_line, bool top);

static bool scalar(const struct token *tk)
{
	return tk->t == T_STRING || tk->t == T_NUMBER ||
	       (tk->t == T_NAME && ((tk->n == 4 && !strncasecmp(tk->s, "true", 4)) ||
				    (tk->n == 5 && !strncasecmp(tk->s, "false", 5))));
}

/* [ ... ] or ( ... ): the opening bracket is the current token. */
static void elements(struct parser *ps, char close)
{
	const char *what = close == ']' ? "array" : "list", *open = close == ']' ? "'['" : "'('";
	int open_line = ps->lx.tk.line;
	char b[64];

	next(&ps->lx);
	if (is(&ps->lx, close)) {
		next(&ps->lx);
		return;
	}
	for (;;) {
		int line = ps->lx.tk.line;

		if (close == ']' && !scalar(&ps->lx.tk)) {
			if (unquoted_address(ps))
				;
			else if (ps->lx.tk.t == T_PUNCT && strchr("{([", ps->lx.tk.s[0]))
				fail_at(ps, line, "an array [ ] holds numbers, strings or booleans only; "
					"use a list ( ) for groups and lists");
			else
				bad_value(ps, open, open_line);
			return;
		}
		value(ps, open, open_line);
		if (ps->failed)
			return;
		if (is(&ps->lx, close)) {
			next(&ps->lx);
			return;
		}
		if (is(&ps->lx, ',')) {
			int comma = ps->lx.tk.line;

			next(&ps->lx);
			if (ps->lx.tk.t == T_PUNCT && (ps->lx.tk.s[0] == ']' || ps->lx.tk.s[0] == ')')) {
				bad_value(ps, "','", comma);
				return;
			}
			continue;
		}
		if (ps->lx.tk.t == T_EOF)
			fail_at(ps, open_line, "missing '%c': the %s opened at line %d is not closed", close,
				what, open_line);
		else if (ps->lx.tk.t == T_PUNCT && strchr("}])", ps->lx.tk.s[0]))
			fail_at(ps, ps->lx.tk.line, "missing '%c' before '%c': the %s opened at line %d is "
				"not closed", close, ps->lx.tk.s[0], what, open_line);
		else if (ps->lx.tk.t == T_PUNCT && ps->lx.tk.s[0] == ';')
			fail_at(ps, ps->lx.tk.line, "';' inside the %s opened at line %d: elements are "
				"separated by ',' (or a '%c' is missing)", what, open_line, close);
		else
			fail_at(ps, ps->lx.tk.line, "missing ',' before %s: elements of the %s opened at "
				"line %d are separated by ','", shown(&ps->lx.tk, b, sizeof b), what, open_line);
		return;
	}
}

static void value(struct parser *ps, const char *after, int after_line)
{
	struct token *tk = &ps->lx.tk;

	if (tk->t == T_NUMBER) {
		const char *end = tk->s + tk->n;
		struct token num = *tk;

		/* 192.0.2.10, 2001:db8::1: libconfig reads 192.0, then .2 where
		 * a setting should start; an address is a string. */
		if (*end == '.' || *end == ':') {
			size_t n = strspn(num.s, "0123456789abcdefABCDEF.:");

			fail_at(ps, num.line, "unquoted address %.*s: addresses are strings (\"%.*s\")", (int)n,
				num.s, (int)n, num.s);
			return;
		}
		next(&ps->lx);
		/* 10M, 1e, -0x10: libconfig reads a number, then a setting
		 * named M, e or x10, whose '=' does not come. */
		if (tk->t == T_NAME && tk->s == end) {
			struct lexer ahead = ps->lx;

			next(&ahead);
			if (is(&ahead, '=') || is(&ahead, ':'))
				return;
			if (tk->n == 1 && strchr("kMGT", *tk->s))
				fail_at(ps, num.line, "%.*s%c is not a number: with a unit it is a string "
					"(\"%.*s%c\")", (int)num.n, num.s, *tk->s, (int)num.n, num.s, *tk->s);
			else
				fail_at(ps, num.line, "%.*s%.*s is not a number (decimal, 0x hexadecimal without "
					"a sign, or a float)", (int)num.n, num.s, (int)tk->n, tk->s);
		}
		return;
	}
	if (scalar(tk)) {
		bool str = tk->t == T_STRING;

		next(&ps->lx);
		/* Adjacent strings are one ("a" "b" is "ab"). */
		while (str && tk->t == T_STRING)
			next(&ps->lx);
		return;
	}
	if (++ps->depth > 200) {
		fail_at(ps, tk->line, "nested too deep");
		return;
	}
	if (is(&ps->lx, '{')) {
		int open_line = tk->line;

		next(&ps->lx);
		settings(ps, open_line, false);
	} else if (is(&ps->lx, '[') && unquoted_address(ps)) {
		;   /* [::]:2152 */
	} else if (is(&ps->lx, '[')) {
		elements(ps, ']');
	} else if (is(&ps->lx, '(')) {
		elements(ps, ')');
	} else {
		bad_value(ps, after, after_line);
	}
	ps->depth--;
}

/* Names seen in one group, for "given twice": a million small groups
 * take no allocation. */
struct name_seen {
	const char *s;
	size_t n;
	int line;
};
struct names {
	struct name_seen *v;
	size_t len, cap;
	struct name_seen few[8];
};

static int names_add(struct names *nm, const struct token *tk)
{
	size_t i;

	for (i = 0; i < nm->len; i++)
		if (nm->v[i].n == tk->n && !memcmp(nm->v[i].s, tk->s, tk->n))
			return nm->v[i].line;
	if (!nm->v) {
		nm->v = nm->few;
		nm->cap = sizeof(nm->few) / sizeof(nm->few[0]);
	}
	if (nm->len == nm->cap) {
		size_t cap = nm->cap * 2;
		struct name_seen *v = nm->v == nm->few ? malloc(cap * sizeof(*v)) : realloc(nm->v, cap * sizeof(*v));

		if (!v)
			return 0;   /* only a message is lost */
		if (nm->v == nm->few)
			memcpy(v, nm->few, sizeof(nm->few));
		nm->v = v;
		nm->cap = cap;
	}
	nm->v[nm->len].s = tk->s;
	nm->v[nm->len].n = tk->n;
	nm->v[nm->len].line = tk->line;
	nm->len++;
	return 0;
}

/* Settings up to the group's '}' (or the end of the file at the top). */
static void settings(struct parser *ps, int open_line, bool top)
{
	struct names nm = { .v = NULL };
	char b[64];

	while (!ps->failed) {
		struct token *tk = &ps->lx.tk, name;
		int first;

		if (tk->t == T_EOF) {
			if (!top)
				fail_at(ps, open_line, "missing '}': the group opened at line %d is not closed",
					open_line);
			break;
		}
		if (!top && is(&ps->lx, '}')) {
			next(&ps->lx);
			break;
		}
		if (tk->t == T_PUNCT && tk->s[0] == '@') {
			/* @include: refused by the loader with its own message. */
			next(&ps->lx);
			next(&ps->lx);
			continue;
		}
		if (tk->t != T_NAME) {
			if (top && tk->t == T_PUNCT && strchr("}])", tk->s[0]))
				fail_at(ps, tk->line, "'%c' closes nothing: no group, array or list is open",
					tk->s[0]);
			else if (!top && tk->t == T_PUNCT && (tk->s[0] == ')' || tk->s[0] == ']'))
				fail_at(ps, tk->line, "missing '}' before '%c': the group opened at line %d "
					"is not closed", tk->s[0], open_line);
			else if (tk->t == T_PUNCT && (tk->s[0] == ',' || tk->s[0] == ';'))
				fail_at(ps, tk->line, "'%c' where a setting name is expected", tk->s[0]);
			else if (tk->t == T_STRING)
				fail_at(ps, tk->line, "a setting name is written without quotes, not %s",
					shown(tk, b, sizeof b));
			else
				fail_at(ps, tk->line, "a setting name (a letter, then letters, digits, - or _) "
					"is expected, not %s", shown(tk, b, sizeof b));
			break;
		}
		name = *tk;
		if ((first = names_add(&nm, &name)) > 0) {
			fail_at(ps, name.line, "duplicate setting \"%.*s\" (first at line %d)", (int)name.n,
				name.s, first);
			ps->f->dup = true;
			break;
		}
		next(&ps->lx);
		if (!is(&ps->lx, '=') && !is(&ps->lx, ':')) {
			fail_at(ps, name.line, "missing '=' after \"%.*s\"", (int)name.n, name.s);
			break;
		}
		next(&ps->lx);
		snprintf(b, sizeof b, "\"%.*s =\"", (int)(name.n > 40 ? 40 : name.n), name.s);
		value(ps, b, name.line);
		if (ps->failed)
			break;
		/* libconfig 1.5: a ';' or ',' after a setting is optional. */
		if (is(&ps->lx, ';') || is(&ps->lx, ','))
			next(&ps->lx);
	}
	if (nm.v != nm.few)
		free(nm.v);
}

static void parse(struct parser *ps, const char *text, struct fault *f)
{
	memset(ps, 0, sizeof *ps);
	ps->f = f;
	ps->lx.text = ps->lx.p = text;
	ps->lx.line = 1;
	next(&ps->lx);
	settings(ps, 0, true);
}

/* The text of line n (1-based), trimmed, cut to fit. */
static void line_text(const char *text, int n, char *buf, size_t len)
{
	const char *p = text, *e;
	size_t l;

	for (int i = 1; i < n && p; i++)
		if ((p = strchr(p, '\n')))
			p++;
	if (!p || !*p) {
		snprintf(buf, len, "(the end of the file)");
		return;
	}
	while (*p == ' ' || *p == '\t')
		p++;
	e = strchr(p, '\n');
	l = e ? (size_t)(e - p) : strlen(p);
	while (l && (p[l - 1] == ' ' || p[l - 1] == '\t' || p[l - 1] == '\r'))
		l--;
	if (l + 1 > len)
		snprintf(buf, len, "%.*s...", (int)(len - 4), p);
	else
		snprintf(buf, len, "%.*s", (int)l, p);
}

/* The first fault of text: its line (0 for none), the message, whether it
 * is a setting given twice. */
static int fault_of(const char *text, struct fault *f)
{
	struct parser ps;

	memset(f, 0, sizeof *f);
	parse(&ps, text, f);
	if (ps.lx.unterminated && (!ps.failed || f->line >= ps.lx.unterminated_line)) {
		ps.failed = true;
		f->line = ps.lx.unterminated_line;
		snprintf(f->msg, sizeof f->msg, "%s that starts here is not closed (no %s before the end of the "
			 "file)", ps.lx.unterminated, ps.lx.unterminated[2] == '/' ? "*/" : "closing \"");
	}
	return ps.failed ? f->line : 0;
}

int conf_syntax_fault(const char *text, char *msg, size_t len)
{
	struct fault f;
	int line = fault_of(text, &f);

	if (line && msg)
		snprintf(msg, len, "%s", f.msg);
	return line;
}

void conf_syntax_error(struct vctx *v, const char *text, int line, const char *what)
{
	struct fault f;
	char lt[100];
	int at;

	if ((unsigned char)text[0] == 0xef && (unsigned char)text[1] == 0xbb &&
	    (unsigned char)text[2] == 0xbf) {
		conf_err_at(v, 1, "the file starts with a UTF-8 byte order mark (BOM): save it without one "
			    "(sed -i '1s/^\\xEF\\xBB\\xBF//' FILE)");
		return;
	}
	at = fault_of(text, &f);
	line_text(text, at ? at : line, lt, sizeof lt);
	if (!at)   /* not one of the faults known here: libconfig's words */
		conf_err_at(v, line, "%s; the line reads: %s", what, lt);
	else
		conf_err_at(v, at, "%s%s; the line reads: %s", f.dup ? "" : "syntax error: ", f.msg, lt);
}

int conf_find_control(const char *text, size_t *start, size_t *end, int *line)
{
	struct parser ps = { .lx = { .text = text, .p = text, .line = 1 } };
	struct fault f = { 0 };

	ps.f = &f;
	/* Top-level names only: skip everything else by bracket depth. */
	for (int depth = 0;;) {
		next(&ps.lx);
		if (ps.lx.tk.t == T_EOF)
			return 0;
		if (ps.lx.tk.t == T_PUNCT && strchr("{[(", ps.lx.tk.s[0]))
			depth++;
		else if (ps.lx.tk.t == T_PUNCT && strchr("}])", ps.lx.tk.s[0]))
			depth -= depth > 0;
		else if (depth == 0 && ps.lx.tk.t == T_NAME && ps.lx.tk.n == 7 &&
			 !memcmp(ps.lx.tk.s, "control", 7)) {
			*start = (size_t)(ps.lx.tk.s - text);
			*line = ps.lx.tk.line;
			next(&ps.lx);
			if (!is(&ps.lx, '=') && !is(&ps.lx, ':'))
				continue;
			next(&ps.lx);
			if (!is(&ps.lx, '{'))
				return -1;
			/* To the matching '}', as value() would read it. */
			value(&ps, "", 0);
			if (ps.failed)
				return -1;
			*end = (size_t)(ps.lx.tk.s - text);
			return 1;
		}
	}
}
